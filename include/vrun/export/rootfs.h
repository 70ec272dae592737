/* A root filesystem as data: the directories, files and symlinks of one
 * image layer, gathered from the host (with every parent directory, and the
 * symlinks met on the way recreated as symlinks) or given inline. Written
 * out as a directory (a runtime bundle's rootfs) or as a tar layer. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROOTFS_MAX_ENTRIES 1000000

typedef enum RootfsKind { ROOTFS_DIR, ROOTFS_FILE, ROOTFS_SYMLINK } RootfsKind;

typedef struct RootfsEntry {
        char *path; /* inside the root, relative ("usr/bin/python3.11") */
        RootfsKind kind;
        unsigned mode;    /* permission bits (no setuid/setgid) */
        char *src;        /* FILE: host path to copy, or NULL with data */
        char *data;       /* FILE: inline content */
        uint64_t size;    /* FILE */
        int64_t mtime_ns; /* host mtime, for cache keys only */
        char *target;     /* SYMLINK */
        bool walked;      /* DIR: its host directory was listed */
} RootfsEntry;

typedef struct Rootfs Rootfs;

/* below: a lower layer whose entries this one leaves out (may be NULL). */
int rootfs_new(const Rootfs *below, Rootfs **ret);
void rootfs_free(Rootfs *fs);
static inline void rootfs_freep(Rootfs **fs) {
        rootfs_free(*fs);
}

/* Host paths (and everything below them) never taken in. */
int rootfs_exclude(Rootfs *fs, const char *host_path);

/* Adds the host path at the same place, with its parents (mode 0755; "tmp"
 * 01777) and the symlinks on the way. A directory is listed recursively when
 * recursive. follow: symlinks met inside directories bring their targets in
 * too (the base interpreter's trees); without it they are kept as links
 * only (the env: what it names is data, never something to copy). -ENOENT
 * when path does not exist. */
int rootfs_add_host(Rootfs *fs, const char *host_path, bool recursive, bool follow);
int rootfs_add_data(Rootfs *fs, const char *path, const char *data, size_t len, unsigned mode);
int rootfs_add_dir(Rootfs *fs, const char *path, unsigned mode);

/* The entry at the absolute or relative path, in fs or below it; NULL if none. */
const RootfsEntry *rootfs_find(const Rootfs *fs, const char *path);

/* The entries sorted by path (parents first), owned by fs until it changes. */
int rootfs_sorted(Rootfs *fs, const RootfsEntry *const **ret, size_t *ret_n);

/* Creates the entries below dirfd (which must be empty). */
int rootfs_write_dir(Rootfs *fs, int dirfd);
