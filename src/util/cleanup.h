/* Scope-bound cleanup for the resources vrun handles: heap memory, fds,
 * FILE streams, directories and string vectors. Destructors accept NULL/-1. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) {
        free(*(void **) p);
}
static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

#define _cleanup_free_     _cleanup_(freep)
#define _cleanup_close_    _cleanup_(closep)
#define _cleanup_fclose_   _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Hand ownership out of a cleanup-guarded variable. */
#define TAKE_PTR(p)                      \
        ({                               \
                __typeof__(p) _p_ = (p); \
                (p) = NULL;              \
                _p_;                     \
        })
#define TAKE_FD(fd)              \
        ({                       \
                int _fd_ = (fd); \
                (fd) = -1;       \
                _fd_;            \
        })
#define TAKE_STRUCT(s)                     \
        ({                                 \
                __typeof__(s) *_s_ = &(s); \
                __typeof__(s) _t_ = *_s_;  \
                *_s_ = (__typeof__(s)){};  \
                _t_;                       \
        })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define STRLEN(s)     (sizeof(s) - 1)

/* -errno after a failed call; never 0, even if the call left errno unset. A macro, with the
 * sign spelled out, so that static analysers see it in the caller: clang 14's cannot negate
 * a symbol, and would otherwise go on to explore each failure as a success. */
#define negative_errno()                             \
        ({                                           \
                int _r_ = errno > 0 ? -errno : -EIO; \
                if (_r_ >= 0)                        \
                        __builtin_unreachable();     \
                _r_;                                 \
        })
