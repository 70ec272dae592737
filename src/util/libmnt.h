/* libmount, loaded on first use. Linking it would make every `vrun run`
 * load libmount, libblkid, libselinux and libpcre2 (0.45 ms of CPU measured)
 * for code paths that rarely run: the pids cgroup for root, `vrun doctor`. */
#pragma once

#include <libmount.h>

typedef struct LibMnt {
        struct libmnt_table *(*new_table_from_file)(const char *);
        void (*unref_table)(struct libmnt_table *);
        struct libmnt_iter *(*new_iter)(int);
        void (*free_iter)(struct libmnt_iter *);
        int (*table_next_fs)(struct libmnt_table *, struct libmnt_iter *, struct libmnt_fs **);
        const char *(*fs_get_fstype)(struct libmnt_fs *);
        const char *(*fs_get_target)(struct libmnt_fs *);
        int (*fs_match_options)(struct libmnt_fs *, const char *);
} LibMnt;

/* The functions, or NULL when libmount cannot be loaded. */
const LibMnt *libmnt_get(void);
