#include "util/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/path.h"

int read_full_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        return read_full_file_fd(fd, max, ret, ret_len);
}

int read_full_file_fd(int fd, size_t max, char **ret, size_t *ret_len) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (st.st_size > 0 && (size_t) st.st_size > max)
                return -EFBIG;
        return read_fd_full_len(fd, max, st.st_size > 0 ? (size_t) st.st_size : 0, ret, ret_len);
}

int loop_write(int fd, const void *data, size_t len) {
        const char *p = data;
        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

int write_file_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode, int replace) {
        int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW;
        flags |= replace ? O_TRUNC : O_EXCL;
        _cleanup_close_ int fd = openat(dirfd, path, flags, mode);
        if (fd < 0)
                return negative_errno();
        int r = loop_write(fd, data, len);
        if (r < 0)
                return r;
        if (close(TAKE_FD(fd)) < 0)
                return negative_errno();
        return 0;
}

int write_file_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode) {
        size_t l = strlen(path);
        _cleanup_free_ char *tmp = malloc(l + 32);
        if (!tmp)
                return -ENOMEM;
        snprintf(tmp, l + 32, "%s.vrun-tmp-%ld", path, (long) getpid());
        int r = write_file_at(dirfd, tmp, data, len, mode, 1);
        if (r < 0) {
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        if (renameat(dirfd, tmp, dirfd, path) < 0) {
                r = negative_errno();
                unlinkat(dirfd, tmp, 0);
                return r;
        }
        return 0;
}

static int rm_rf_children(int fd, dev_t dev) {
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return negative_errno();
        }
        int ret = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && ret == 0)
                                ret = negative_errno();
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        if (st.st_dev != dev)
                                continue; /* never cross into another mount */
                        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                if (ret == 0)
                                        ret = negative_errno();
                                continue;
                        }
                        int r = rm_rf_children(sub, dev);
                        if (r < 0 && ret == 0)
                                ret = r;
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && ret == 0)
                                ret = negative_errno();
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && ret == 0)
                        ret = negative_errno();
        }
        closedir(d);
        return ret;
}

int rm_rf_at(int dirfd, const char *path) {
        struct stat st;
        if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dirfd, path, 0) < 0 && errno != ENOENT ? negative_errno() : 0;
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        int r = rm_rf_children(fd, st.st_dev);
        if (unlinkat(dirfd, path, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = negative_errno();
        return r;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return negative_errno();
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

int read_fd_chunks(int fd, int (*chunk)(const void *data, size_t len, void *userdata), void *userdata) {
        for (;;) {
                char buf[64 * 1024];
                ssize_t k = read(fd, buf, sizeof buf);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        return 0;
                int r = chunk(buf, (size_t) k, userdata);
                if (r < 0)
                        return r;
        }
}

static int write_chunk(const void *data, size_t len, void *userdata) {
        return loop_write(*(const int *) userdata, data, len);
}

int copy_fd_data(int in_fd, int out_fd, CopyMethods *methods) {
        CopyMethods local = {};
        CopyMethods *m = methods ? methods : &local;
        if (!m->no_clone) {
                if (ioctl(out_fd, FICLONE, in_fd) >= 0)
                        return 0;
                /* EOPNOTSUPP/ENOTTY/EINVAL: no reflinks here; EXDEV: another
                 * filesystem. Neither changes for the rest of a batch. */
                if (errno != EOPNOTSUPP && errno != ENOTTY && errno != EINVAL && errno != EXDEV && errno != EPERM &&
                    errno != ENOSYS)
                        return negative_errno();
                m->no_clone = true;
        }
        while (!m->no_copy_range) {
                ssize_t n = copy_file_range(in_fd, NULL, out_fd, NULL, 1 << 30, 0);
                if (n == 0)
                        return 0;
                if (n > 0)
                        continue;
                if (errno == EINTR)
                        continue;
                if (errno != EXDEV && errno != ENOSYS && errno != EOPNOTSUPP && errno != EINVAL && errno != EPERM &&
                    errno != EBADF)
                        return negative_errno();
                /* read/write from wherever copy_file_range stopped */
                m->no_copy_range = true;
        }
        return read_fd_chunks(in_fd, write_chunk, &out_fd);
}

int copy_file_at(const char *src, int dirfd, const char *name, mode_t mode) {
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (in < 0)
                return negative_errno();
        _cleanup_close_ int out = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (out < 0)
                return negative_errno();
        int r = copy_fd_data(in, out, NULL);
        if (r >= 0 && close(TAKE_FD(out)) < 0)
                r = negative_errno();
        if (r < 0)
                unlinkat(dirfd, name, 0);
        return r;
}

int dir_is_empty_at(int dirfd, const char *path) {
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        DIR *d = fdopendir(fd);
        if (!d) {
                int e = negative_errno();
                close(fd);
                return e;
        }
        struct dirent *de;
        int empty = 1;
        errno = 0;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        empty = 0;
                        break;
                }
        closedir(d);
        return empty;
}

int read_fd_full_len(int fd, size_t max, size_t hint, char **ret, size_t *ret_len) {
        /* Room for max bytes, the NUL, and one byte more to tell EOF at
         * exactly max from a file that is too big. */
        size_t cap = hint ? hint + 2 : 16384;
        if (cap > max + 2)
                cap = max + 2;
        _cleanup_free_ char *buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        size_t n = 0;
        for (;;) {
                if (n + 1 >= cap) {
                        if (cap >= max + 2)
                                return -EFBIG;
                        size_t ncap = cap * 2 > max + 2 ? max + 2 : cap * 2;
                        char *b = realloc(buf, ncap);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        cap = ncap;
                }
                ssize_t k = read(fd, buf + n, cap - 1 - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        if (n > max)
                return -EFBIG;
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = n;
        return 0;
}

int read_fd_full(int fd, size_t max, char **ret) {
        return read_fd_full_len(fd, max, 0, ret, NULL);
}

void sweep_stale_dirs_at(int dir_fd, const char *prefix, unsigned max_age,
                         bool (*abandoned)(int dir_fd, const char *name)) {
        int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return;
        }
        time_t now = time(NULL);
        size_t pl = strlen(prefix);
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;
                if (strncmp(de->d_name, prefix, pl) != 0 ||
                    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
                    st.st_uid != geteuid() || st.st_mtime > now - (time_t) max_age ||
                    (abandoned && !abandoned(dirfd(d), de->d_name)))
                        continue;
                (void) rm_rf_at(dirfd(d), de->d_name);
        }
        closedir(d);
}

int fd_get_path(int fd, char **ret) {
        char proc[32], buf[VRUN_PATH_MAX];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(proc, buf, sizeof buf - 1);
        if (n < 0)
                return negative_errno();
        if ((size_t) n >= sizeof buf - 1)
                return -ENAMETOOLONG;
        buf[n] = 0;
        /* " (deleted)", or a path outside our root: no path to give. */
        if (buf[0] != '/')
                return -ENOENT;
        char *c = strdup(buf);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}
