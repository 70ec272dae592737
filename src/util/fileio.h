/* Reading and writing whole files, and removing trees. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads at most max bytes of dirfd/path (AT_FDCWD ok). -EFBIG when larger.
 * The buffer is NUL-terminated; ret_len may be NULL. */
int read_full_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
/* The same from an open fd (read from its offset). */
int read_full_file_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* Reads fd to EOF, at most max bytes (-EFBIG beyond); NUL-terminated. */
int read_fd_full(int fd, size_t max, char **ret);
/* The same with a size hint (0: none) and the length read. */
int read_fd_full_len(int fd, size_t max, size_t hint, char **ret, size_t *ret_len);
/* Reads fd from its offset to EOF in chunks of at most 64 KiB, handing each
 * to chunk(data, len, userdata); stops at the first negative return of
 * chunk, which it returns. -errno when reading fails. */
int read_fd_chunks(int fd, int (*chunk)(const void *data, size_t len, void *userdata), void *userdata);
/* Creates (O_EXCL unless replace) and writes data fully. */
int write_file_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode, int replace);
/* Writes via a temporary name in the same directory and renames over path. */
int write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode);
int loop_write(int fd, const void *data, size_t len);
/* Removes path and everything below it without following symlinks or
 * crossing mount points. Missing path is success. */
int rm_rf_at(int dirfd, const char *path);
/* mkdir -p for an absolute path. */
int mkdir_p(const char *path, mode_t mode);
/* Which ways of copying copy_fd_data() found not to work, so a batch of
 * copies tries each once. */
typedef struct CopyMethods {
        bool no_clone;      /* FICLONE */
        bool no_copy_range; /* copy_file_range() */
} CopyMethods;

/* Copies all of in_fd (at offset 0) to the empty out_fd: FICLONE
 * first, so filesystems with reflinks share the blocks copy-on-write (a
 * write to either side never reaches the other), then copy_file_range(),
 * then read()/write(). methods may be NULL. Never a hard link. */
int copy_fd_data(int in_fd, int out_fd, CopyMethods *methods);
/* Copies the regular file src to dirfd/name (created O_EXCL with mode). */
int copy_file_at(const char *src, int dirfd, const char *name, mode_t mode);
/* 1 when the directory is empty, 0 when not, -errno on failure. */
int dir_is_empty_at(int dirfd, const char *path);
/* Removes the directories below dir_fd whose name starts with prefix, that
 * belong to us, were last changed more than max_age seconds ago and (when
 * abandoned is not NULL) that abandoned(dir_fd, name) says nobody uses any more:
 * the temporary trees of killed processes. Best effort, silent. */
void sweep_stale_dirs_at(int dir_fd, const char *prefix, unsigned max_age,
                         bool (*abandoned)(int dir_fd, const char *name));
/* The path the kernel knows fd by (every symlink resolved), from /proc/self/fd. */
int fd_get_path(int fd, char **ret);
