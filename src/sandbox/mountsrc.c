#include "vrun/sandbox/mountsrc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/path.h"

/* Set once openat2 turned out to be missing (ENOSYS): the walk is used from then on. */
static bool no_openat2;

static int check_type(int fd, mode_t type, dev_t dev, ino_t ino) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISLNK(st.st_mode))
                return -ELOOP;
        if (type == S_IFDIR && !S_ISDIR(st.st_mode))
                return -ENOTDIR;
        if (type && type != S_IFDIR && (st.st_mode & S_IFMT) != type)
                return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        if ((dev || ino) && (st.st_dev != dev || st.st_ino != ino))
                return -ESTALE;
        return 0;
}

/* ".." is refused outright, even where it would stay inside: both ways of
 * resolving then agree, and no path vrun builds needs it. */
static bool has_dotdot(const char *rel) {
        for (const char *p = rel; *p;) {
                const char *e = strchrnul(p, '/');
                if (e - p == 2 && p[0] == '.' && p[1] == '.')
                        return true;
                p = *e ? e + 1 : e;
        }
        return false;
}

int mountsrc_open_beneath_walk(int dirfd, const char *rel, mode_t type, int *ret_fd) {
        if (rel[0] == '/' || has_dotdot(rel))
                return -EXDEV;
        _cleanup_close_ int cur = openat(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return negative_errno();
        char name[NAME_MAX + 1];
        for (const char *p = rel; *p;) {
                const char *e = strchrnul(p, '/');
                size_t l = (size_t) (e - p);
                if (l > NAME_MAX)
                        return -ENAMETOOLONG;
                if (l > 0 && !(l == 1 && p[0] == '.')) {
                        memcpy(name, p, l);
                        name[l] = 0;
                        int next = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                        if (next < 0)
                                return negative_errno();
                        close(cur);
                        cur = next;
                        struct stat st;
                        if (fstat(cur, &st) < 0)
                                return negative_errno();
                        if (S_ISLNK(st.st_mode))
                                return -ELOOP;
                        if (*e && !S_ISDIR(st.st_mode))
                                return -ENOTDIR;
                }
                p = *e ? e + 1 : e;
        }
        int r = check_type(cur, type, 0, 0);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(cur);
        return 0;
}

static int open_no_symlinks(int dirfd, const char *rel, bool beneath, mode_t type, dev_t dev, ino_t ino, int *ret_fd) {
        if (has_dotdot(rel) || (beneath && rel[0] == '/'))
                return -EXDEV;
        _cleanup_close_ int fd = -1;
        if (!no_openat2) {
                struct open_how how = {
                        .flags = O_PATH | O_CLOEXEC,
                        .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | (beneath ? RESOLVE_BENEATH : 0),
                };
                fd = (int) syscall(SYS_openat2, dirfd, *rel ? rel : ".", &how, sizeof how);
                if (fd < 0 && errno == ENOSYS)
                        no_openat2 = true;
                else if (fd < 0)
                        return negative_errno();
        }
        if (fd < 0) {
                int r;
                if (rel[0] == '/') {
                        _cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (root < 0)
                                return negative_errno();
                        r = mountsrc_open_beneath_walk(root, rel + 1, 0, &fd);
                } else
                        r = mountsrc_open_beneath_walk(dirfd, rel, 0, &fd);
                if (r < 0)
                        return r;
        }
        int r = check_type(fd, type, dev, ino);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int mountsrc_open_beneath(int dirfd, const char *rel, mode_t type, int *ret_fd) {
        return open_no_symlinks(dirfd, rel, true, type, 0, 0, ret_fd);
}

int mountsrc_open_resolved(const char *path, mode_t type, dev_t dev, ino_t ino, int *ret_fd) {
        if (path[0] != '/')
                return -EINVAL;
        return open_no_symlinks(AT_FDCWD, path, false, type, dev, ino, ret_fd);
}

const MountRoot *mountsrc_root_of(const MountRoot *roots, size_t n, const char *path, const char **ret_rel) {
        const MountRoot *best = NULL;
        for (size_t i = 0; i < n; i++)
                if (roots[i].fd >= 0 && roots[i].path && path_startswith(path, roots[i].path) &&
                    (!best || strlen(roots[i].path) > strlen(best->path)))
                        best = &roots[i];
        if (best && ret_rel) {
                const char *rel = path + strlen(best->path);
                while (*rel == '/')
                        rel++;
                *ret_rel = rel;
        }
        return best;
}

int mountsrc_open(const MountRoot *roots, size_t n, const char *path, mode_t type, int *ret_fd, bool *ret_beneath) {
        const char *rel = NULL;
        const MountRoot *root = mountsrc_root_of(roots, n, path, &rel);
        if (ret_beneath)
                *ret_beneath = root != NULL;
        if (root)
                return mountsrc_open_beneath(root->fd, rel, type, ret_fd);
        _cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        int r = check_type(fd, type, 0, 0);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int mountsrc_attach(int tree, int dstfd) {
        if (move_mount(tree, "", dstfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return negative_errno();
        return 0;
}

const char *mountsrc_strerror(int r) {
        switch (r) {
        case -ELOOP: return "is or passes through a symlink, which a sandboxed program could have planted";
        case -EXDEV: return "leads outside the place it must stay in";
        case -ENOTDIR: return "is not a directory";
        case -EISDIR: return "is a directory";
        case -EINVAL: return "is not the expected type of file";
        case -ESTALE: return "was replaced since vrun resolved it";
        case -ENOENT: return "does not exist";
        default: return strerror(-r);
        }
}
