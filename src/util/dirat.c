#include "util/dirat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"

void dir_stack_init(DirStack *s, int root_fd, bool create) {
        s->root_fd = root_fd;
        s->create = create;
        s->depth = 0;
}

static void dir_stack_pop(DirStack *s, size_t depth) {
        while (s->depth > depth)
                close(s->fds[--s->depth]);
}

void dir_stack_done(DirStack *s) {
        dir_stack_pop(s, 0);
}

int dir_stack_enter(DirStack *s, const char *dir, size_t len, int *ret_fd) {
        if (len >= sizeof s->path)
                return -ENAMETOOLONG;
        size_t keep = 0;
        while (keep < s->depth) {
                size_t end = s->ends[keep];
                if (end > len || memcmp(s->path, dir, end) != 0 || (end < len && dir[end] != '/'))
                        break;
                keep++;
        }
        dir_stack_pop(s, keep);
        size_t pos = keep > 0 ? s->ends[keep - 1] + 1 : 0;
        while (pos < len) {
                const char *c = dir + pos;
                const char *slash = memchr(c, '/', len - pos);
                size_t cl = (size_t) ((slash ? slash : dir + len) - c);
                if (s->depth == DIR_DEPTH_MAX)
                        return -ENAMETOOLONG;
                char comp[256];
                if (cl == 0 || cl >= sizeof comp)
                        return -EINVAL;
                memcpy(comp, c, cl);
                comp[cl] = 0;
                int parent = s->depth > 0 ? s->fds[s->depth - 1] : s->root_fd;
                if (s->create && mkdirat(parent, comp, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                int fd = openat(parent, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                if (pos > 0)
                        s->path[pos - 1] = '/';
                memcpy(s->path + pos, c, cl);
                s->fds[s->depth] = fd;
                s->ends[s->depth++] = pos + cl;
                pos += cl + 1;
        }
        *ret_fd = s->depth > 0 ? s->fds[s->depth - 1] : s->root_fd;
        return 0;
}

int mkdir_p_open_at(int dirfd, const char *dir, int *ret_fd) {
        DirStack s;
        dir_stack_init(&s, dirfd, true);
        int fd, r = dir_stack_enter(&s, dir, strlen(dir), &fd);
        if (r >= 0) {
                fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        r = negative_errno();
                else
                        *ret_fd = fd;
        }
        dir_stack_done(&s);
        return r;
}

int mkdtemp_at(int dirfd, const char *prefix, char ret_name[TEMP_NAME_MAX]) {
        static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for (unsigned attempt = 0; attempt < 64; attempt++) {
                uint8_t rnd[8];
                if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t) sizeof rnd) {
                        /* Uniqueness, not secrecy, is needed here: mkdirat() is
                         * exclusive, so a predictable name only costs a retry. */
                        struct timespec ts;
                        clock_gettime(CLOCK_MONOTONIC, &ts);
                        uint64_t v = (uint64_t) ts.tv_nsec ^ (uint64_t) getpid() << 32 ^ attempt;
                        memcpy(rnd, &v, sizeof rnd);
                }
                char name[TEMP_NAME_MAX];
                size_t pl = strlen(prefix);
                if (pl + sizeof rnd + 1 > sizeof name)
                        return -EINVAL;
                memcpy(name, prefix, pl);
                for (size_t i = 0; i < sizeof rnd; i++)
                        name[pl + i] = chars[rnd[i] % (sizeof chars - 1)];
                name[pl + sizeof rnd] = 0;
                if (mkdirat(dirfd, name, 0700) >= 0) {
                        memcpy(ret_name, name, sizeof name);
                        return 0;
                }
                if (errno != EEXIST)
                        return negative_errno();
        }
        return -EEXIST;
}
