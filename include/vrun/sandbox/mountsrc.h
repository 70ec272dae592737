/* Mount sources and targets opened by handle, never followed.
 *
 * A sandboxed program can write the env and (under most profiles) the working
 * directory; what it leaves there is read by the next run's executor, which
 * runs with the privilege to mount. A symlink planted there and followed by a
 * bind mount would mount any host directory (the host's dist-packages, /etc)
 * into the next sandbox, writable. So every path vrun mounts from, or onto,
 * inside such a place ("root") is resolved from a directory handle on that
 * root, opened once, following no symlink and never leaving it
 * (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or a component walk with
 * O_NOFOLLOW where openat2 is missing), checked to be of the expected type,
 * and then cloned and attached by handle (open_tree, move_mount with empty
 * paths). Paths outside every root (the host's /usr, /etc files, binds the
 * user named elsewhere) are the host's and resolved as the host resolves them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A place a sandboxed program could have written, by path and handle. */
typedef struct MountRoot {
        const char *path; /* absolute, normalised */
        int fd;           /* O_PATH directory handle on it, or -1: not open (yet) */
} MountRoot;

/* Opens REL beneath the directory DIRFD as an O_PATH|O_CLOEXEC fd. No symlink
 * is followed (-ELOOP), nothing outside DIRFD is reached (an absolute REL or a
 * ".." above it: -EXDEV). TYPE is S_IFDIR, S_IFREG or 0 (any); a mismatch is
 * -ENOTDIR (a directory was wanted) or -EISDIR. An empty REL opens DIRFD
 * itself. */
int mountsrc_open_beneath(int dirfd, const char *rel, mode_t type, int *ret_fd);

/* The same without openat2: one component at a time with O_NOFOLLOW. Used
 * where the kernel has no openat2 (before 5.6); exported for the unit test. */
int mountsrc_open_beneath_walk(int dirfd, const char *rel, mode_t type, int *ret_fd);

/* Opens the absolute PATH, which the caller resolved once earlier (so it holds
 * no symlink): a symlink found on it now was planted since (-ELOOP). When
 * dev/ino are non-zero the result must be that inode (-ESTALE otherwise). */
int mountsrc_open_resolved(const char *path, mode_t type, dev_t dev, ino_t ino, int *ret_fd);

/* The deepest of ROOTS (those with an open fd) that holds PATH, or NULL; with
 * *ret_rel the part of PATH below it ("" for the root itself). */
const MountRoot *mountsrc_root_of(const MountRoot *roots, size_t n, const char *path, const char **ret_rel);

/* Opens PATH for mounting: beneath its root when one of ROOTS holds it (see
 * mountsrc_open_beneath), else as the host resolves it (O_PATH, following
 * symlinks). *ret_beneath says which, for messages. */
int mountsrc_open(const MountRoot *roots, size_t n, const char *path, mode_t type, int *ret_fd, bool *ret_beneath);

/* Attaches the detached tree TREE onto the mount point DSTFD (both handles). */
int mountsrc_attach(int tree, int dstfd);

/* Why a mountsrc_open* call failed, for the user: "is a symlink", ... */
const char *mountsrc_strerror(int r);
