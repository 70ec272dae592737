/* Typed values of a profile: strings, enums, errno names, syscall names,
 * paths and lists, each checked and limited, with a did-you-mean hint for
 * a mistyped name. */
#include <seccomp.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/profile-internal.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/hint.h"
#include "util/path.h"
#include "util/strv.h"

static const QuantitySpec errno_spec = { Q_COUNT, false, 1, PROFILE_ERRNO_MAX, "1..4095" };

static const struct {
        const char *name;
        int value;
} errno_table[] = {
#define E(x) \
        { #x, x }
        E(EPERM),        E(ENOENT),        E(ESRCH),           E(EINTR),           E(EIO),          E(ENXIO),
        E(E2BIG),        E(ENOEXEC),       E(EBADF),           E(ECHILD),          E(EAGAIN),       E(ENOMEM),
        E(EACCES),       E(EFAULT),        E(EBUSY),           E(EEXIST),          E(EXDEV),        E(ENODEV),
        E(ENOTDIR),      E(EISDIR),        E(EINVAL),          E(ENFILE),          E(EMFILE),       E(ENOTTY),
        E(ETXTBSY),      E(EFBIG),         E(ENOSPC),          E(ESPIPE),          E(EROFS),        E(EMLINK),
        E(EPIPE),        E(EDOM),          E(ERANGE),          E(EDEADLK),         E(ENAMETOOLONG), E(ENOLCK),
        E(ENOSYS),       E(ENOTEMPTY),     E(ELOOP),           E(ENOMSG),          E(ENODATA),      E(ENOTSUP),
        E(EOPNOTSUPP),   E(EOVERFLOW),     E(EILSEQ),          E(ENOTSOCK),        E(EDESTADDRREQ), E(EMSGSIZE),
        E(EPROTOTYPE),   E(ENOPROTOOPT),   E(EPROTONOSUPPORT), E(ESOCKTNOSUPPORT), E(EPFNOSUPPORT), E(EAFNOSUPPORT),
        E(EADDRINUSE),   E(EADDRNOTAVAIL), E(ENETDOWN),        E(ENETUNREACH),     E(ECONNABORTED), E(ECONNRESET),
        E(ENOBUFS),      E(EISCONN),       E(ENOTCONN),        E(ETIMEDOUT),       E(ECONNREFUSED), E(EHOSTDOWN),
        E(EHOSTUNREACH), E(EALREADY),      E(EINPROGRESS),     E(EDQUOT),          E(ECANCELED),    E(EKEYREJECTED),
#undef E
};

const char *profile_errno_name(int value) {
        for (size_t i = 0; i < ELEMENTSOF(errno_table); i++)
                if (errno_table[i].value == value)
                        return errno_table[i].name;
        return NULL;
}

/* ---- did you mean ---- */

/* libseccomp keeps no list of names, but numbering the native syscalls yields one. */
static char *hint_syscall(const char *word) {
        Hint h = { word, SIZE_MAX, NULL };
        for (int nr = 0; nr < 1024; nr++) {
                _cleanup_free_ char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
                if (name)
                        hint_consider(&h, name);
        }
        return h.best;
}

static char *hint_errno(const char *word) {
        Hint h = { word, SIZE_MAX, NULL };
        for (size_t i = 0; i < ELEMENTSOF(errno_table); i++)
                hint_consider(&h, errno_table[i].name);
        return h.best;
}

/* ---- values ---- */

int profile_get_string(const Source *s, const JPath *at, const json_t *v, const char **ret) {
        if (!json_is_string(v))
                return profile_fail_type(s, at, "a string", v);
        *ret = json_string_value(v);
        return 0;
}

int profile_get_enum(const Source *s, const JPath *at, const json_t *v, const char *const *names, int *ret) {
        const char *str = NULL;
        char list[256];
        size_t n = 0;
        int r = profile_get_string(s, at, v, &str);

        if (r < 0)
                return r;
        for (size_t i = 0; names[i]; i++)
                if (strcmp(names[i], str) == 0) {
                        *ret = (int) i;
                        return 0;
                }
        for (size_t i = 0; names[i] && n < sizeof list; i++)
                n += (size_t) snprintf(list + n, sizeof list - n, "%s\"%s\"", i > 0 ? ", " : "", names[i]);
        return fail(s, at, "\"%s\" must be one of %s, got %s", PATHSTR(at), list, Q(str));
}

int profile_get_errno(const Source *s, const JPath *at, const json_t *v, int *ret) {
        if (json_is_string(v)) {
                const char *str = json_string_value(v);
                for (size_t i = 0; i < ELEMENTSOF(errno_table); i++)
                        if (strcmp(errno_table[i].name, str) == 0) {
                                *ret = errno_table[i].value;
                                return 0;
                        }
                _cleanup_free_ char *hint = hint_errno(str);
                if (hint)
                        return fail(s, at, "unknown errno %s (did you mean \"%s\"?)", Q(str), hint);
                return fail(s, at, "unknown errno %s (use a name such as \"EPERM\" or a number 1..4095)", Q(str));
        }
        if (!json_is_integer(v))
                return profile_fail_type(s, at, "an errno name or an integer", v);
        uint64_t value;
        int r = profile_get_quantity(s, at, v, &errno_spec, &value);
        if (r < 0)
                return r;
        *ret = (int) value;
        return 0;
}

int profile_get_syscall(const Source *s, const JPath *at, const json_t *v, const char **ret_name, int *ret_nr) {
        const char *name = NULL;
        int r = profile_get_string(s, at, v, &name);

        if (r < 0)
                return r;
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR) {
                _cleanup_free_ char *hint = hint_syscall(name);
                if (hint)
                        return fail(s, at, "unknown syscall %s (did you mean \"%s\"?)", Q(name), hint);
                return fail(s, at, "unknown syscall %s", Q(name));
        }
        *ret_name = name;
        *ret_nr = nr;
        return 0;
}

/* "~" and "~/..." are $HOME; the result is absolute, with no "." or ".." components
 * (lexical folding would lie about symlinks) and no doubled or trailing slashes. */
int profile_get_path(const Source *s, const JPath *at, const json_t *v, char **ret) {
        const char *str = NULL, *rest = NULL, *home = NULL;
        int r = profile_get_string(s, at, v, &str);

        if (r < 0)
                return r;
        if (str[0] == '~' && (str[1] == 0 || str[1] == '/')) {
                home = getenv("HOME");
                if (!home || home[0] != '/')
                        return fail(s, at, "%s: %s starts with \"~\" but $HOME is not an absolute path", PATHSTR(at),
                                    Q(str));
                rest = str + 1;
        } else if (str[0] != '/')
                return fail(s, at, "%s: %s is not an absolute path (start it with \"/\" or \"~/\")", PATHSTR(at),
                            Q(str));
        else
                rest = str;

        size_t cap = (home ? strlen(home) : 0) + strlen(rest) + 2;
        _cleanup_free_ char *out = malloc(cap);
        if (!out)
                return -ENOMEM;
        size_t n = 0;
        for (int part = home ? 0 : 1; part < 2; part++) {
                const char *p = part == 0 ? home : rest;
                while (*p) {
                        while (*p == '/')
                                p++;
                        if (!*p)
                                break;
                        const char *e = strchrnul(p, '/');
                        size_t l = (size_t) (e - p);
                        if ((l == 1 && p[0] == '.') || (l == 2 && p[0] == '.' && p[1] == '.'))
                                return fail(s, at, "%s: %s has a \"%.*s\" component (write the path without it)",
                                            PATHSTR(at), Q(str), (int) l, p);
                        out[n++] = '/';
                        memcpy(out + n, p, l);
                        n += l;
                        p = e;
                }
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = 0;
        if (n >= VRUN_PATH_MAX)
                return fail(s, at, "%s: path is longer than %d bytes", PATHSTR(at), VRUN_PATH_MAX - 1);
        *ret = TAKE_PTR(out);
        return 0;
}

/* A list of strings from one file: each checked by |check| (may be NULL), none twice. */
int profile_get_string_list(const Source *s, const JPath *at, json_t *v, size_t max, const char *const *names,
                            bool (*check)(const char *), const char *what, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t i;
        json_t *e;
        int r;

        if (!json_is_array(v))
                return profile_fail_type(s, at, "an array", v);
        if (json_array_size(v) > max)
                return fail(s, at, "%s: more than %zu entries", PATHSTR(at), max);
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        json_array_foreach (v, i, e) {
                JPath ep = jpath_index(at, i);
                const char *str = NULL;
                if (names) {
                        int k;
                        r = profile_get_enum(s, &ep, e, names, &k);
                        if (r < 0)
                                return r;
                        str = names[k];
                } else {
                        r = profile_get_string(s, &ep, e, &str);
                        if (r < 0)
                                return r;
                        if (check && !check(str))
                                return fail(s, &ep, "%s: %s is not %s", PATHSTR(&ep), Q(str), what);
                }
                if (strv_contains(l, str))
                        return fail(s, &ep, "%s: %s is listed twice", PATHSTR(&ep), Q(str));
                r = strv_extend(&l, str);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}
