#include "vrun/sandbox/profile.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/hint.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/log.h"

extern const char vrun_profile_default[];
extern const size_t vrun_profile_default_len;
extern const char vrun_profile_untrusted[];
extern const size_t vrun_profile_untrusted_len;
extern const char vrun_profile_install[];
extern const size_t vrun_profile_install_len;

#define _cleanup_json_    __attribute__((cleanup(json_decrefp)))
#define _cleanup_profile_ __attribute__((cleanup(profile_freep)))

#define PROFILE_MAX_STRING 4096
/* read_full_file_at() refuses a file of exactly its max bytes (it wants room to see EOF),
 * so it is asked for one more and the limit is checked here. */
#define READ_MAX (PROFILE_MAX_SIZE + 1)
/* env_allow entries; more is a generated or hostile profile, and merging is quadratic. */
#define PROFILE_MAX_LIST 1024
/* Same bound as seccomp.c applies to a policy's extra names. */
#define PROFILE_MAX_SYSCALLS 512
/* The kernel clamps larger errnos in a filter's return data (MAX_ERRNO). */
#define PROFILE_ERRNO_MAX 4095
/* Longest word a did-you-mean hint considers; longer ones are not typos. */
#define SIZE_K           UINT64_C(1024)
#define SIZE_M           (SIZE_K * 1024)
#define SIZE_G           (SIZE_M * 1024)
#define SIZE_T           (SIZE_G * 1024)
#define SIZE_MAX_PROFILE (1024 * SIZE_T)
#define DURATION_MAX     UINT64_C(31536000) /* a year */

static const struct {
        const char *name;
        const char *text;
        const size_t *len;
} builtins[] = {
        { "default", vrun_profile_default, &vrun_profile_default_len },
        { "untrusted", vrun_profile_untrusted, &vrun_profile_untrusted_len },
        { "install", vrun_profile_install, &vrun_profile_install_len },
};

static const char *const builtin_names[] = { "default", "untrusted", "install", NULL };

const char *const *profile_builtin_names(void) {
        return builtin_names;
}

static int builtin_index(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(builtins); i++)
                if (strcmp(builtins[i].name, name) == 0)
                        return (int) i;
        return -1;
}

const char *profile_builtin_text(const char *name) {
        int i = name ? builtin_index(name) : -1;
        return i < 0 ? NULL : builtins[i].text;
}

/* A NAME is a file when it looks like one; everything else names a built-in. */
static bool spec_is_file(const char *spec) {
        size_t l = strlen(spec);
        return strchr(spec, '/') || (l >= 5 && strcmp(spec + l - 5, ".json") == 0);
}

/* ---- schema vocabulary ---- */

enum {
        KEY_DESCRIPTION,
        KEY_EXTENDS,
        KEY_FILESYSTEM,
        KEY_ENV,
        KEY_CWD,
        KEY_HOME,
        KEY_NETWORK,
        KEY_BINDS,
        KEY_ENV_ALLOW,
        KEY_RLIMITS,
        KEY_TIMEOUT,
        KEY_HOSTNAME,
        KEY_TMP_SIZE,
        KEY_SECCOMP,
};
static const char *const top_keys[] = {
        "description", "extends", "filesystem", "env",      "cwd",      "home",    "network", "binds",
        "env_allow",   "rlimits", "timeout",    "hostname", "tmp_size", "seccomp", NULL,
};
static const char *const bind_keys[] = { "src", "dst", "mode", "tmpfs", NULL };
static const char *const seccomp_keys[] = { "sets", "allow", "deny", "socket_families", NULL };
static const char *const deny_keys[] = { "syscall", "errno", NULL };

static const char *const fs_names[] = { "host-ro", "minimal", NULL };
static const char *const env_names[] = { "rw", "ro", "ephemeral", NULL };
static const char *const cwd_names[] = { "rw", "ro", "hidden", NULL };
static const char *const home_names[] = { "host", "tmpfs", NULL };
static const char *const net_names[] = { "host", "none", NULL };
static const char *const mode_names[] = { "ro", "rw", NULL };
static const char *const set_names[] = { "default", "strict", NULL };
static const char *const family_names[] = { "unix", "inet", "inet6", NULL };

typedef enum Quantity { Q_COUNT, Q_SIZE, Q_DURATION } Quantity;

typedef struct QuantitySpec {
        Quantity kind;
        bool unlimited_ok;
        uint64_t min, max;
        const char *range; /* min..max as the user writes it */
} QuantitySpec;

static const char *const rlimit_keys[] = { "nproc", "as", "fsize", "nofile", "cpu", "core", NULL };
/* Indexed like rlimit_keys and the PROFILE_RLIMIT_* enum. nproc stops at the kernel's
 * PID_MAX_LIMIT, nofile at its default fs.nr_open; `as` starts at 1M because a
 * smaller value is a forgotten suffix, not a limit any Python could run under. */
static const QuantitySpec rlimit_specs[] = {
        { Q_COUNT, true, 1, 4194304, "1..4194304" },
        { Q_SIZE, true, SIZE_M, SIZE_MAX_PROFILE, "1M..1024T" },
        { Q_SIZE, true, 0, SIZE_MAX_PROFILE, "0..1024T" },
        { Q_COUNT, true, 1, 1048576, "1..1048576" },
        { Q_DURATION, true, 1, DURATION_MAX, "1..31536000 seconds" },
        { Q_SIZE, true, 0, SIZE_MAX_PROFILE, "0..1024T" },
};
/* tmpfs reads size=0 as "no limit", so 0 cannot mean a tiny /tmp. */
static const QuantitySpec tmp_size_spec = { Q_SIZE, false, SIZE_M, SIZE_MAX_PROFILE, "1M..1024T" };
static const QuantitySpec timeout_spec = { Q_DURATION, false, 1, DURATION_MAX, "1..31536000 seconds" };
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

static const char *errno_to_name(int value) {
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

/* ---- positions: jansson keeps none, so errors find theirs in the raw text ---- */

typedef struct JPath {
        size_t n;
        struct {
                const char *key; /* NULL: an array element */
                size_t index;
        } c[PROFILE_MAX_DEPTH + 1];
} JPath;

static JPath jpath_key(const JPath *p, const char *key) {
        JPath r = *p;
        if (r.n < ELEMENTSOF(r.c))
                r.c[r.n++] = (__typeof__(r.c[0])){ key, 0 };
        return r;
}

static JPath jpath_index(const JPath *p, size_t index) {
        JPath r = *p;
        if (r.n < ELEMENTSOF(r.c))
                r.c[r.n++] = (__typeof__(r.c[0])){ NULL, index };
        return r;
}

/* "seccomp.deny[2].errno"; paths in messages name schema keys only. */
static const char *jpath_format(const JPath *p, char *buf, size_t size) {
        size_t n = 0;
        buf[0] = 0;
        for (size_t i = 0; i < p->n && n < size; i++) {
                int k;
                if (p->c[i].key)
                        k = snprintf(buf + n, size - n, "%s%s", i > 0 ? "." : "", p->c[i].key);
                else
                        k = snprintf(buf + n, size - n, "[%zu]", p->c[i].index);
                if (k < 0)
                        break;
                n += (size_t) k;
        }
        return buf;
}

static size_t skip_ws(const char *t, size_t len, size_t i) {
        while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n'))
                i++;
        return i;
}

/* i at the opening quote; returns the index after the closing one. */
static size_t skip_string(const char *t, size_t len, size_t i) {
        for (i++; i < len; i++) {
                if (t[i] == '\\')
                        i++;
                else if (t[i] == '"')
                        return i + 1;
        }
        return len;
}

static size_t skip_value(const char *t, size_t len, size_t i) {
        if (i >= len)
                return len;
        if (t[i] == '"')
                return skip_string(t, len, i);
        if (t[i] == '{' || t[i] == '[') {
                size_t depth = 0;
                while (i < len) {
                        if (t[i] == '"') {
                                i = skip_string(t, len, i);
                                continue;
                        }
                        if (t[i] == '{' || t[i] == '[')
                                depth++;
                        else if ((t[i] == '}' || t[i] == ']') && --depth == 0)
                                return i + 1;
                        i++;
                }
                return len;
        }
        while (i < len && !strchr(",}] \t\r\n", t[i]))
                i++;
        return i;
}

/* The raw token t[0..n) (quotes included) spells key. Escapes are rare in keys; jansson
 * decodes those rather than a second JSON string decoder here. */
static bool token_is_key(const char *t, size_t n, const char *key) {
        if (n < 2)
                return false;
        if (!memchr(t, '\\', n))
                return n - 2 == strlen(key) && memcmp(t + 1, key, n - 2) == 0;
        _cleanup_json_ json_t *s = json_loadb(t, n, JSON_DECODE_ANY, NULL);
        return json_is_string(s) && strcmp(json_string_value(s), key) == 0;
}

/* Offset of the key (or array element) that path names; the deepest part found when the
 * text does not have it all. The text has passed jansson, so it is valid JSON. */
static size_t jpath_locate(const char *t, size_t len, const JPath *path) {
        size_t i = skip_ws(t, len, 0), found = i;

        for (size_t k = 0; k < path->n; k++) {
                bool want_key = path->c[k].key != NULL, hit = false;

                if (i >= len || t[i] != (want_key ? '{' : '['))
                        break;
                i++;
                for (size_t idx = 0;; idx++) {
                        i = skip_ws(t, len, i);
                        if (i >= len || t[i] == '}' || t[i] == ']')
                                break;
                        if (want_key) {
                                size_t start = i, end;
                                if (t[i] != '"')
                                        break;
                                end = skip_string(t, len, i);
                                i = skip_ws(t, len, end);
                                if (i >= len || t[i] != ':')
                                        break;
                                i = skip_ws(t, len, i + 1);
                                if (token_is_key(t + start, end - start, path->c[k].key)) {
                                        found = start;
                                        hit = true;
                                        break;
                                }
                        } else if (idx == path->c[k].index) {
                                found = i;
                                hit = true;
                                break;
                        }
                        i = skip_ws(t, len, skip_value(t, len, i));
                        if (i >= len || t[i] != ',')
                                break;
                        i++;
                }
                if (!hit)
                        break;
        }
        return found;
}

/* Columns count characters, not bytes, as jansson's do. */
static void offset_to_position(const char *t, size_t len, size_t off, int *ret_line, int *ret_col) {
        int line = 1, col = 1;
        for (size_t i = 0; i < off && i < len; i++) {
                if (t[i] == '\n') {
                        line++;
                        col = 1;
                } else if (((unsigned char) t[i] & 0xC0) != 0x80)
                        col++;
        }
        *ret_line = line;
        *ret_col = col;
}

/* ---- error reporting ---- */

typedef struct Source {
        const char *file; /* as messages name it */
        const char *text;
        size_t len;
        bool final; /* applied onto the resolved parent: checks of the merged result */
} Source;

static void log_at_offset(const Source *s, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void log_at_offset(const Source *s, size_t off, const char *fmt, ...) {
        char msg[1024];
        int line, col;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        offset_to_position(s->text, s->len, off, &line, &col);
        log_error("%s:%d:%d: %s", s->file, line, col, msg);
}

/* -EINVAL is spelled out here, not returned by the variadic function, which the static
 * analyser does not follow: it would go on to explore each failure as a success. */
#define fail_at_offset(s, off, ...) (log_at_offset((s), (off), __VA_ARGS__), -EINVAL)
#define fail(s, path, ...)          fail_at_offset((s), jpath_locate((s)->text, (s)->len, (path)), __VA_ARGS__)

/* A user's string in a message: JSON-quoted, so control characters and quotes cannot
 * garble the line, and cut short so a 4 KiB value does not become the message. */
static const char *quote(const char *str, char *buf, size_t size) {
        char cut[72];
        size_t n = strlen(str);
        bool cut_short = n > 60;

        if (cut_short) {
                n = 60;
                while (n > 0 && ((unsigned char) str[n] & 0xC0) == 0x80)
                        n--;
        }
        memcpy(cut, str, n);
        cut[n] = 0;
        _cleanup_json_ json_t *j = json_string(cut);
        _cleanup_free_ char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
        if (!q)
                snprintf(buf, size, "\"...\"");
        else if (cut_short && strlen(q) >= 1)
                snprintf(buf, size, "%.*s...\"", (int) strlen(q) - 1, q);
        else
                snprintf(buf, size, "%s", q);
        return buf;
}

#define QUOTE_SIZE 512
#define Q(str)     quote((str), (char[QUOTE_SIZE]){}, QUOTE_SIZE)
#define PATHSTR(p) jpath_format((p), (char[256]){}, 256)

static const char *type_name(const json_t *v) {
        switch (json_typeof(v)) {
        case JSON_OBJECT: return "object";
        case JSON_ARRAY: return "array";
        case JSON_STRING: return "string";
        case JSON_INTEGER: return "integer";
        case JSON_REAL: return "real number";
        case JSON_TRUE:
        case JSON_FALSE: return "boolean";
        case JSON_NULL: return "null";
        }
        return "unknown";
}

static int fail_type(const Source *s, const JPath *at, const char *want, const json_t *v) {
        return fail(s, at, "\"%s\" must be %s, got %s", PATHSTR(at), want, type_name(v));
}

static int fail_unknown_key(const Source *s, const JPath *at, const char *key, const char *const *known,
                            const JPath *parent) {
        _cleanup_free_ char *hint = hint_among(key, known);
        char where[300] = "", list[256] = "";

        if (parent->n > 0)
                snprintf(where, sizeof where, " in \"%s\"", PATHSTR(parent));
        if (hint)
                return fail(s, at, "unknown key %s%s (did you mean \"%s\"?)", Q(key), where, hint);
        size_t n = 0;
        for (size_t i = 0; known[i] && n < sizeof list; i++)
                n += (size_t) snprintf(list + n, sizeof list - n, "%s%s", i > 0 ? ", " : "", known[i]);
        return fail(s, at, "unknown key %s%s (known keys: %s)", Q(key), where, list);
}

static int key_lookup(const char *const *keys, const char *key) {
        for (size_t i = 0; keys[i]; i++)
                if (strcmp(keys[i], key) == 0)
                        return (int) i;
        return -1;
}

/* ---- values ---- */

static int get_string(const Source *s, const JPath *at, const json_t *v, const char **ret) {
        if (!json_is_string(v))
                return fail_type(s, at, "a string", v);
        *ret = json_string_value(v);
        return 0;
}

static int get_enum(const Source *s, const JPath *at, const json_t *v, const char *const *names, int *ret) {
        const char *str = NULL;
        char list[256];
        size_t n = 0;
        int r = get_string(s, at, v, &str);

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

/* Digits and at most one unit letter; -EINVAL for anything else, -ERANGE on overflow. */
static int parse_scaled(const char *str, Quantity kind, uint64_t *ret) {
        uint64_t v = 0, factor = 1;
        const char *p = str;

        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        if (*p) {
                if (p[1])
                        return -EINVAL;
                if (kind == Q_SIZE)
                        switch (*p) {
                        case 'K':
                        case 'k': factor = SIZE_K; break;
                        case 'M':
                        case 'm': factor = SIZE_M; break;
                        case 'G':
                        case 'g': factor = SIZE_G; break;
                        case 'T':
                        case 't': factor = SIZE_T; break;
                        default: return -EINVAL;
                        }
                else if (kind == Q_DURATION)
                        switch (*p) {
                        case 's': factor = 1; break;
                        case 'm': factor = 60; break;
                        case 'h': factor = 3600; break;
                        case 'd': factor = 86400; break;
                        default: return -EINVAL;
                        }
                else
                        return -EINVAL;
        }
        if (v > UINT64_MAX / factor)
                return -ERANGE;
        *ret = v * factor;
        return 0;
}

/* "unlimited" is returned as RLIM_INFINITY. */
static int get_quantity(const Source *s, const JPath *at, const json_t *v, const QuantitySpec *q, uint64_t *ret) {
        uint64_t value;
        char shown[QUOTE_SIZE];

        if (json_is_integer(v)) {
                json_int_t i = json_integer_value(v);
                snprintf(shown, sizeof shown, "%lld", (long long) i);
                if (i < 0)
                        return fail(s, at, "%s: %s is out of range (%s)", PATHSTR(at), shown, q->range);
                value = (uint64_t) i;
        } else if (json_is_string(v)) {
                const char *str = json_string_value(v);
                int r;

                if (q->unlimited_ok && strcmp(str, "unlimited") == 0) {
                        *ret = RLIM_INFINITY;
                        return 0;
                }
                quote(str, shown, sizeof shown);
                r = parse_scaled(str, q->kind, &value);
                if (r == -EINVAL)
                        switch (q->kind) {
                        case Q_SIZE:
                                return fail(s, at,
                                            "%s: bad size %s (use a number of bytes, or digits followed by K, M, G or "
                                            "T, e.g. \"512M\")",
                                            PATHSTR(at), shown);
                        case Q_DURATION:
                                return fail(s, at,
                                            "%s: bad duration %s (use a number of seconds, or digits followed by s, m, "
                                            "h or d, e.g. \"10m\")",
                                            PATHSTR(at), shown);
                        case Q_COUNT:
                                return fail(s, at, "\"%s\" must be an integer%s, got %s", PATHSTR(at),
                                            q->unlimited_ok ? " or \"unlimited\"" : "", shown);
                        }
                if (r < 0)
                        value = UINT64_MAX;
        } else
                return fail_type(s, at, "an integer or a string", v);

        if (value < q->min || value > q->max)
                return fail(s, at, "%s: %s is out of range (%s)", PATHSTR(at), shown, q->range);
        *ret = value;
        return 0;
}

static int get_errno(const Source *s, const JPath *at, const json_t *v, int *ret) {
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
                return fail_type(s, at, "an errno name or an integer", v);
        uint64_t value;
        int r = get_quantity(s, at, v, &errno_spec, &value);
        if (r < 0)
                return r;
        *ret = (int) value;
        return 0;
}

static int get_syscall(const Source *s, const JPath *at, const json_t *v, const char **ret_name, int *ret_nr) {
        const char *name = NULL;
        int r = get_string(s, at, v, &name);

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
static int get_path(const Source *s, const JPath *at, const json_t *v, char **ret) {
        const char *str = NULL, *rest = NULL, *home = NULL;
        int r = get_string(s, at, v, &str);

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

/* ---- applying one file onto a profile ---- */

static void binds_clear(Profile *p) {
        for (size_t i = 0; i < p->n_binds; i++) {
                free(p->binds[i].src);
                free(p->binds[i].dst);
        }
        free(p->binds);
        p->binds = NULL;
        p->n_binds = 0;
}

static void deny_clear(Profile *p) {
        for (size_t i = 0; i < p->n_seccomp_deny; i++)
                free(p->seccomp_deny[i].syscall);
        free(p->seccomp_deny);
        p->seccomp_deny = NULL;
        p->n_seccomp_deny = 0;
}

static int apply_bind(Profile *p, const Source *s, const JPath *at, json_t *v) {
        _cleanup_free_ char *src = NULL, *dst = NULL, *tmpfs = NULL;
        const char *key;
        json_t *val;
        bool has_mode = false;
        int r, mode = 0;

        if (!json_is_object(v))
                return fail_type(s, at, "an object", v);
        json_object_foreach (v, key, val) {
                JPath kp = jpath_key(at, key);
                switch (key_lookup(bind_keys, key)) {
                case 0: r = get_path(s, &kp, val, &src); break;
                case 1: r = get_path(s, &kp, val, &dst); break;
                case 2:
                        r = get_enum(s, &kp, val, mode_names, &mode);
                        has_mode = true;
                        break;
                case 3: r = get_path(s, &kp, val, &tmpfs); break;
                default: return fail_unknown_key(s, &kp, key, bind_keys, at);
                }
                if (r < 0)
                        return r;
        }
        if (tmpfs && (src || dst || has_mode)) {
                JPath kp = jpath_key(at, "tmpfs");
                return fail(s, &kp, "%s: \"tmpfs\" cannot be combined with \"%s\" (a tmpfs entry is {\"tmpfs\": PATH})",
                            PATHSTR(at),
                            src   ? "src"
                            : dst ? "dst"
                                  : "mode");
        }
        if (!tmpfs && !src)
                return fail(s, at, "%s: needs \"src\" (a bind) or \"tmpfs\"", PATHSTR(at));
        if (!tmpfs && !dst && !(dst = strdup(src)))
                return -ENOMEM;
        if (strcmp(tmpfs ? tmpfs : dst, "/") == 0) {
                JPath kp = jpath_key(at, tmpfs ? "tmpfs" : json_object_get(v, "dst") ? "dst" : "src");
                return fail(s, &kp, "%s: cannot mount over \"/\" inside", PATHSTR(at));
        }
        if (p->n_binds >= VRUN_MAX_BINDS)
                return fail(s, at, "binds: more than %d entries%s", VRUN_MAX_BINDS,
                            s->final ? " (with those inherited through \"extends\")" : "");

        BindSpec *b = reallocarray(p->binds, p->n_binds + 1, sizeof *b);
        if (!b)
                return -ENOMEM;
        p->binds = b;
        if (tmpfs)
                b[p->n_binds++] = (BindSpec){ BIND_TMPFS, NULL, TAKE_PTR(tmpfs) };
        else
                b[p->n_binds++] = (BindSpec){ mode == 1 ? BIND_RW : BIND_RO, TAKE_PTR(src), TAKE_PTR(dst) };
        return 0;
}

static int apply_binds(Profile *p, const Source *s, const JPath *at, json_t *v) {
        size_t i;
        json_t *e;
        int r;

        if (!json_is_array(v))
                return fail_type(s, at, "an array", v);
        json_array_foreach (v, i, e) {
                JPath ep = jpath_index(at, i);
                r = apply_bind(p, s, &ep, e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool env_pattern_valid(const char *str) {
        size_t n = strlen(str);
        if (n > 0 && str[n - 1] == '*')
                n--;
        if (n == 0)
                return str[0] == '*';
        if (!(str[0] == '_' || (ascii_lower(str[0]) >= 'a' && ascii_lower(str[0]) <= 'z')))
                return false;
        for (size_t i = 1; i < n; i++)
                if (!(str[i] == '_' || (str[i] >= '0' && str[i] <= '9') ||
                      (ascii_lower(str[i]) >= 'a' && ascii_lower(str[i]) <= 'z')))
                        return false;
        return true;
}

/* A list of strings from one file: each checked by |check| (may be NULL), none twice. */
static int get_string_list(const Source *s, const JPath *at, json_t *v, size_t max, const char *const *names,
                           bool (*check)(const char *), const char *what, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        size_t i;
        json_t *e;
        int r;

        if (!json_is_array(v))
                return fail_type(s, at, "an array", v);
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
                        r = get_enum(s, &ep, e, names, &k);
                        if (r < 0)
                                return r;
                        str = names[k];
                } else {
                        r = get_string(s, &ep, e, &str);
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

static int apply_env_allow(Profile *p, const Source *s, const JPath *at, json_t *v) {
        _cleanup_strv_free_ char **l = NULL;
        int r = get_string_list(s, at, v, PROFILE_MAX_LIST, NULL, env_pattern_valid,
                                "a variable name or a prefix ending in \"*\"", &l);
        if (r < 0)
                return r;
        if (!p->env_allow) {
                p->env_allow = TAKE_PTR(l);
                return 0;
        }
        STRV_FOREACH (e, l)
                if (!strv_contains(p->env_allow, *e)) {
                        if (strv_length(p->env_allow) >= PROFILE_MAX_LIST)
                                return fail(
                                        s, at,
                                        "env_allow: more than %d entries (with those inherited through \"extends\")",
                                        PROFILE_MAX_LIST);
                        r = strv_extend(&p->env_allow, *e);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int apply_rlimits(Profile *p, const Source *s, const JPath *at, json_t *v) {
        const char *key;
        json_t *val;
        int r;

        if (json_is_null(v)) {
                for (size_t i = 0; i < _PROFILE_RLIMIT_MAX; i++)
                        p->rlimits[i] = (ProfileRlimit){};
                return 0;
        }
        if (!json_is_object(v))
                return fail_type(s, at, "an object", v);
        json_object_foreach (v, key, val) {
                JPath kp = jpath_key(at, key);
                int k = key_lookup(rlimit_keys, key);
                uint64_t value;

                if (k < 0)
                        return fail_unknown_key(s, &kp, key, rlimit_keys, at);
                if (json_is_null(val)) {
                        p->rlimits[k] = (ProfileRlimit){};
                        continue;
                }
                r = get_quantity(s, &kp, val, &rlimit_specs[k], &value);
                if (r < 0)
                        return r;
                p->rlimits[k] = (ProfileRlimit){ true, value };
        }
        return 0;
}

static bool syscall_same(const char *a, int nr_b) {
        return seccomp_syscall_resolve_name(a) == nr_b;
}

static void allow_remove(Profile *p, int nr) {
        size_t j = 0;
        if (!p->seccomp_allow)
                return;
        for (size_t i = 0; p->seccomp_allow[i]; i++) {
                if (syscall_same(p->seccomp_allow[i], nr))
                        free(p->seccomp_allow[i]);
                else
                        p->seccomp_allow[j++] = p->seccomp_allow[i];
        }
        p->seccomp_allow[j] = NULL;
}

static void deny_remove(Profile *p, int nr) {
        size_t j = 0;
        for (size_t i = 0; i < p->n_seccomp_deny; i++) {
                if (syscall_same(p->seccomp_deny[i].syscall, nr))
                        free(p->seccomp_deny[i].syscall);
                else
                        p->seccomp_deny[j++] = p->seccomp_deny[i];
        }
        p->n_seccomp_deny = j;
}

/* The deny list of one file: syscall names are checked and none may come twice. */
static int get_deny_list(const Source *s, const JPath *at, json_t *v, ProfileDeny **ret, int **ret_nrs, size_t *ret_n) {
        size_t n = json_array_size(v), i;
        json_t *e;
        int r;

        if (!json_is_array(v))
                return fail_type(s, at, "an array", v);
        if (n > PROFILE_MAX_SYSCALLS)
                return fail(s, at, "%s: more than %d entries", PATHSTR(at), PROFILE_MAX_SYSCALLS);
        _cleanup_free_ ProfileDeny *d = calloc(n + 1, sizeof *d);
        _cleanup_free_ int *nrs = calloc(n + 1, sizeof *nrs);
        if (!d || !nrs)
                return -ENOMEM;
        json_array_foreach (v, i, e) {
                JPath ep = jpath_index(at, i);
                const char *key, *name = NULL;
                json_t *val, *sc = NULL;
                int err = EPERM;

                if (!json_is_object(e))
                        return fail_type(s, &ep, "an object", e);
                json_object_foreach (e, key, val) {
                        JPath kp = jpath_key(&ep, key);
                        int k = key_lookup(deny_keys, key);
                        if (k < 0)
                                return fail_unknown_key(s, &kp, key, deny_keys, &ep);
                        r = k == 0 ? get_syscall(s, &kp, val, &name, &nrs[i]) : get_errno(s, &kp, val, &err);
                        if (r < 0)
                                return r;
                        if (k == 0)
                                sc = val;
                }
                if (!sc)
                        return fail(s, &ep, "%s: needs \"syscall\"", PATHSTR(&ep));
                for (size_t j = 0; j < i; j++)
                        if (nrs[j] == nrs[i]) {
                                JPath kp = jpath_key(&ep, "syscall");
                                return fail(s, &kp, "%s: %s is listed twice", PATHSTR(&kp), Q(name));
                        }
                d[i] = (ProfileDeny){ (char *) name, err }; /* borrowed from v until merged */
        }
        *ret = TAKE_PTR(d);
        *ret_nrs = TAKE_PTR(nrs);
        *ret_n = n;
        return 0;
}

static int apply_seccomp(Profile *p, const Source *s, const JPath *at, json_t *v, bool *ret_families_set) {
        json_t *allow = NULL, *deny = NULL, *sets = NULL, *families = NULL, *val;
        _cleanup_strv_free_ char **allow_l = NULL, **sets_l = NULL, **families_l = NULL;
        _cleanup_free_ ProfileDeny *deny_l = NULL;
        _cleanup_free_ int *deny_nrs = NULL;
        size_t n_deny = 0;
        const char *key;
        int r;

        if (json_is_null(v)) {
                p->seccomp_strict = false;
                strv_free(p->socket_families);
                p->socket_families = NULL;
                strv_free(p->seccomp_allow);
                p->seccomp_allow = NULL;
                deny_clear(p);
                return 0;
        }
        if (!json_is_object(v))
                return fail_type(s, at, "an object", v);

        /* Check the whole object before changing anything: allow and deny of one file are
         * compared with each other, whichever comes first. */
        json_object_foreach (v, key, val) {
                JPath kp = jpath_key(at, key);
                int k = key_lookup(seccomp_keys, key);
                if (k < 0)
                        return fail_unknown_key(s, &kp, key, seccomp_keys, at);
                if (json_is_null(val)) {
                        json_t **slot[] = { &sets, &allow, &deny, &families };
                        *slot[k] = val;
                        continue;
                }
                switch (k) {
                case 0:
                        sets = val;
                        r = get_string_list(s, &kp, val, 2, set_names, NULL, NULL, &sets_l);
                        break;
                case 1:
                        allow = val;
                        r = get_string_list(s, &kp, val, PROFILE_MAX_SYSCALLS, NULL, NULL, NULL, &allow_l);
                        for (size_t i = 0; r >= 0 && allow_l[i]; i++) {
                                JPath ep = jpath_index(&kp, i);
                                const char *name;
                                int nr;
                                r = get_syscall(s, &ep, json_array_get(val, i), &name, &nr);
                                for (size_t j = 0; r >= 0 && j < i; j++)
                                        if (syscall_same(allow_l[j], nr))
                                                r = fail(s, &ep, "%s: %s is listed twice", PATHSTR(&ep), Q(name));
                        }
                        break;
                case 2:
                        deny = val;
                        r = get_deny_list(s, &kp, val, &deny_l, &deny_nrs, &n_deny);
                        break;
                default:
                        families = val;
                        r = get_string_list(s, &kp, val, 3, family_names, NULL, NULL, &families_l);
                        break;
                }
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; allow_l && i < n_deny; i++)
                STRV_FOREACH (a, allow_l)
                        if (syscall_same(*a, deny_nrs[i])) {
                                JPath kp = jpath_key(at, "deny"), ep = jpath_index(&kp, i),
                                      sp = jpath_key(&ep, "syscall");
                                return fail(
                                        s, &sp,
                                        "%s: %s is also in \"seccomp.allow\" (a syscall is either allowed or denied)",
                                        PATHSTR(&sp), Q(deny_l[i].syscall));
                        }

        if (sets)
                p->seccomp_strict = sets_l && strv_contains(sets_l, "strict");
        if (families) {
                strv_free(p->socket_families);
                p->socket_families = TAKE_PTR(families_l);
                *ret_families_set = !json_is_null(families);
        }
        if (allow) {
                if (!allow_l) {
                        strv_free(p->seccomp_allow);
                        p->seccomp_allow = NULL;
                } else
                        STRV_FOREACH (a, allow_l) {
                                int nr = seccomp_syscall_resolve_name(*a);
                                deny_remove(p, nr);
                                allow_remove(p, nr);
                                if (strv_length(p->seccomp_allow) >= PROFILE_MAX_SYSCALLS)
                                        return fail(s, at,
                                                    "seccomp.allow: more than %d entries (with those inherited through "
                                                    "\"extends\")",
                                                    PROFILE_MAX_SYSCALLS);
                                r = strv_extend(&p->seccomp_allow, *a);
                                if (r < 0)
                                        return r;
                        }
        }
        if (deny) {
                if (!deny_l)
                        deny_clear(p);
                for (size_t i = 0; deny_l && i < n_deny; i++) {
                        allow_remove(p, deny_nrs[i]);
                        deny_remove(p, deny_nrs[i]);
                        if (p->n_seccomp_deny >= PROFILE_MAX_SYSCALLS)
                                return fail(
                                        s, at,
                                        "seccomp.deny: more than %d entries (with those inherited through \"extends\")",
                                        PROFILE_MAX_SYSCALLS);
                        ProfileDeny *d = reallocarray(p->seccomp_deny, p->n_seccomp_deny + 1, sizeof *d);
                        if (!d)
                                return -ENOMEM;
                        p->seccomp_deny = d;
                        d[p->n_seccomp_deny].syscall = strdup(deny_l[i].syscall);
                        if (!d[p->n_seccomp_deny].syscall)
                                return -ENOMEM;
                        d[p->n_seccomp_deny++].errno_value = deny_l[i].errno_value;
                }
        }
        return 0;
}

static bool hostname_valid(const char *h) {
        size_t n = strlen(h);
        if (n < 1 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = h[i];
                bool alnum = (c >= '0' && c <= '9') || (ascii_lower(c) >= 'a' && ascii_lower(c) <= 'z');
                if (!alnum && c != '.' && c != '-')
                        return false;
                if (!alnum && (i == 0 || i == n - 1))
                        return false;
        }
        return true;
}

static int set_string(char **slot, const char *value) {
        char *c = NULL;
        if (value && !(c = strdup(value)))
                return -ENOMEM;
        free(*slot);
        *slot = c;
        return 0;
}

/* Applies one file's keys onto p, which holds what the file extends (or the defaults).
 * Scalars replace; lists add to what is inherited; null resets a key to the default. */
static int apply_profile(Profile *p, const Source *s, json_t *root) {
        const JPath top = {};
        bool families_set = false;
        const char *key;
        json_t *v;
        int r = 0, e;

        json_object_foreach (root, key, v) {
                JPath at = jpath_key(&top, key);
                int k = key_lookup(top_keys, key);

                if (k < 0)
                        return fail_unknown_key(s, &at, key, top_keys, &top);
                bool null = json_is_null(v);
                switch (k) {
                case KEY_DESCRIPTION: {
                        const char *str = NULL;
                        if (!null && (r = get_string(s, &at, v, &str)) < 0)
                                return r;
                        for (const char *c = str; c && *c; c++)
                                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                                        return fail(s, &at,
                                                    "description: control characters are not allowed (write one line "
                                                    "of text)");
                        r = set_string(&p->description, str);
                        break;
                }
                case KEY_EXTENDS: break; /* the loader's business */
                case KEY_FILESYSTEM:
                        if (null || (r = get_enum(s, &at, v, fs_names, &e)) >= 0)
                                p->filesystem = null ? PROFILE_FS_HOST_RO : (ProfileFs) e;
                        break;
                case KEY_ENV:
                        if (null || (r = get_enum(s, &at, v, env_names, &e)) >= 0)
                                p->env = null ? PROFILE_ENV_RW : (ProfileEnvMode) e;
                        break;
                case KEY_CWD:
                        if (null || (r = get_enum(s, &at, v, cwd_names, &e)) >= 0)
                                p->cwd = null ? PROFILE_CWD_RW : (ProfileCwdMode) e;
                        break;
                case KEY_HOME:
                        if (null || (r = get_enum(s, &at, v, home_names, &e)) >= 0)
                                p->home = null ? PROFILE_HOME_HOST : (ProfileHome) e;
                        break;
                case KEY_NETWORK:
                        if (null || (r = get_enum(s, &at, v, net_names, &e)) >= 0)
                                p->network = null ? PROFILE_NET_HOST : (ProfileNet) e;
                        break;
                case KEY_BINDS:
                        if (null)
                                binds_clear(p);
                        else
                                r = apply_binds(p, s, &at, v);
                        break;
                case KEY_ENV_ALLOW:
                        if (null) {
                                strv_free(p->env_allow);
                                p->env_allow = NULL;
                        } else
                                r = apply_env_allow(p, s, &at, v);
                        break;
                case KEY_RLIMITS: r = apply_rlimits(p, s, &at, v); break;
                case KEY_TIMEOUT:
                        if (null)
                                p->timeout_sec = 0;
                        else
                                r = get_quantity(s, &at, v, &timeout_spec, &p->timeout_sec);
                        break;
                case KEY_HOSTNAME: {
                        const char *str = NULL;
                        if (!null && (r = get_string(s, &at, v, &str)) < 0)
                                return r;
                        if (str && !hostname_valid(str))
                                return fail(s, &at,
                                            "hostname: %s is not a host name (1 to 64 letters, digits, \".\" and "
                                            "\"-\", starting and ending with a letter or digit)",
                                            Q(str));
                        r = set_string(&p->hostname, str);
                        break;
                }
                case KEY_TMP_SIZE:
                        if (null)
                                p->tmp_size = 0;
                        else
                                r = get_quantity(s, &at, v, &tmp_size_spec, &p->tmp_size);
                        break;
                case KEY_SECCOMP: r = apply_seccomp(p, s, &at, v, &families_set); break;
                }
                if (r < 0)
                        return r;
        }

        /* Without the strict set nothing filters sockets; a list that silently does nothing
         * would be a promise the sandbox does not keep. One inherited from a strict parent
         * whose strictness this file turns off goes with it. */
        if (s->final && families_set && !p->seccomp_strict) {
                JPath sp = jpath_key(&top, "seccomp"), fp = jpath_key(&sp, "socket_families");
                return fail(
                        s, &fp,
                        "seccomp.socket_families: takes effect only with the strict set (add \"sets\": [\"strict\"])");
        }
        if (!p->seccomp_strict) {
                strv_free(p->socket_families);
                p->socket_families = NULL;
        }
        return 0;
}

/* ---- limits every file passes before its meaning is looked at ---- */

static int check_limits(const Source *s, const JPath *at, json_t *v, unsigned depth) {
        const char *key;
        json_t *e;
        size_t i;
        int r;

        if (json_is_string(v)) {
                if (json_string_length(v) > PROFILE_MAX_STRING)
                        return fail(s, at, "%s: string is longer than %d bytes", PATHSTR(at), PROFILE_MAX_STRING);
                return 0;
        }
        if (!json_is_object(v) && !json_is_array(v))
                return 0;
        if (depth > PROFILE_MAX_DEPTH)
                return fail(s, at, "nesting is deeper than %d levels", PROFILE_MAX_DEPTH);
        if (json_is_object(v))
                json_object_foreach (v, key, e) {
                        JPath kp = jpath_key(at, key);
                        if (strlen(key) > PROFILE_MAX_STRING)
                                return fail(s, &kp, "key is longer than %d bytes", PROFILE_MAX_STRING);
                        r = check_limits(s, &kp, e, depth + 1);
                        if (r < 0)
                                return r;
                }
        else
                json_array_foreach (v, i, e) {
                        JPath ep = jpath_index(at, i);
                        r = check_limits(s, &ep, e, depth + 1);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* jansson names the place of a syntax error; a duplicate key it names by the offset
 * after the key, which is turned back into the key's start for the message. */
static int parse_text(const Source *s, json_t **ret) {
        json_error_t err;
        json_t *root = json_loadb(s->text, s->len, JSON_REJECT_DUPLICATES, &err);

        if (root) {
                *ret = root;
                return 0;
        }
        if (json_error_code(&err) == json_error_duplicate_key && err.position > 0) {
                size_t pos = (size_t) err.position;
                for (size_t i = 0; i < pos && i < s->len;) {
                        if (s->text[i] != '"') {
                                i++;
                                continue;
                        }
                        size_t end = skip_string(s->text, s->len, i);
                        if (end == pos) {
                                _cleanup_json_ json_t *k = json_loadb(s->text + i, end - i, JSON_DECODE_ANY, NULL);
                                if (json_is_string(k))
                                        return fail_at_offset(s, i, "duplicate key %s", Q(json_string_value(k)));
                                break;
                        }
                        i = end;
                }
        }
        /* jansson quotes the text near the error raw; a newline in it would split the line. */
        char text[4 * JSON_ERROR_TEXT_LENGTH];
        size_t n = 0;
        for (const char *c = err.text; *c && n + 5 < sizeof text; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        n += (size_t) snprintf(text + n, sizeof text - n, "\\x%02x", (unsigned char) *c);
                else
                        text[n++] = *c;
        text[n] = 0;
        log_error("%s:%d:%d: %s", s->file, err.line > 0 ? err.line : 1, err.column > 0 ? err.column : 1, text);
        return -EINVAL;
}

/* ---- the extends chain ---- */

typedef struct Chain {
        size_t n;
        struct {
                char id[64];
                const char *file;
        } link[PROFILE_MAX_EXTENDS + 1];
} Chain;

static Profile *profile_new(void) {
        return calloc(1, sizeof(Profile));
}

static int read_builtin(const char *name, char **ret_text, size_t *ret_len) {
        _cleanup_free_ char *path = NULL;
        int i = builtin_index(name);
        int r;

        /* An installed vrun reads the installed copies (a packager may patch
         * them); a build tree uses the copies embedded at build time, so it
         * never picks up an older installation's profiles. */
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        bool installed = n > 0 && (self[n] = 0, strcmp(self, VRUN_BINDIR "/vrun") == 0);
        if (installed) {
                if (asprintf(&path, "%s/profiles/%s.json", VRUN_DATADIR, name) < 0)
                        return -ENOMEM;
                r = read_full_file_at(AT_FDCWD, path, READ_MAX, ret_text, ret_len);
                if (r != -ENOENT)
                        return r;
        }
        *ret_text = strndup(builtins[i].text, *builtins[i].len);
        if (!*ret_text)
                return -ENOMEM;
        *ret_len = *builtins[i].len;
        return 0;
}

static const char *builtin_list(void) {
        return "built-in profiles: default, untrusted, install; a file name contains \"/\" or ends in \".json\"";
}

/* ref: the profile whose "extends" names this one, for errors about the target; NULL at the top. */
static int load_chain(const char *name, const char *file, const Source *ref, Chain *chain, Profile **ret);

static int resolve_extends(const Source *s, json_t *root, bool builtin, Chain *chain, Profile **ret) {
        const JPath top = {};
        JPath at = jpath_key(&top, "extends");
        json_t *v = json_object_get(root, "extends");
        const char *spec = NULL;
        _cleanup_free_ char *file = NULL;
        int r;

        if (!v || json_is_null(v)) {
                *ret = profile_new();
                return *ret ? 0 : -ENOMEM;
        }
        r = get_string(s, &at, v, &spec);
        if (r < 0)
                return r;
        if (!spec_is_file(spec)) {
                if (builtin_index(spec) < 0) {
                        _cleanup_free_ char *hint = hint_among(spec, builtin_names);
                        if (hint)
                                return fail(s, &at, "extends: unknown profile %s (did you mean \"%s\"?)", Q(spec),
                                            hint);
                        return fail(s, &at, "extends: unknown profile %s (%s)", Q(spec), builtin_list());
                }
                if (asprintf(&file, "profiles/%s.json", spec) < 0)
                        return -ENOMEM;
                return load_chain(spec, file, s, chain, ret);
        }
        if (builtin)
                return fail(s, &at, "extends: a built-in profile can extend only built-in profiles, not %s", Q(spec));
        /* Relative to the extending file's directory; "./" adds nothing but noise to messages. */
        const char *rel = spec;
        while (rel[0] == '.' && rel[1] == '/')
                for (rel += 2; *rel == '/'; rel++)
                        ;
        _cleanup_free_ char *dir = path_dirname(s->file);
        if (!dir)
                return -ENOMEM;
        if (spec[0] == '/' || strcmp(dir, ".") == 0)
                file = strdup(spec[0] == '/' ? spec : rel);
        else
                file = path_join(dir, rel);
        if (!file)
                return -ENOMEM;
        return load_chain(NULL, file, s, chain, ret);
}

/* Loads one profile: a built-in when name is set, else the file. Each file is validated
 * on its own first, so its errors are reported before those of what it extends. */
static int load_chain(const char *name, const char *file, const Source *ref, Chain *chain, Profile **ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_t *root = NULL;
        _cleanup_profile_ Profile *scratch = NULL, *p = NULL;
        size_t len = 0;
        char id[64];
        int r;

        if (chain->n > PROFILE_MAX_EXTENDS) {
                JPath top = {}, at = jpath_key(&top, "extends");
                return fail(ref, &at, "too many levels of \"extends\" (at most %d)", PROFILE_MAX_EXTENDS);
        }

        r = name ? read_builtin(name, &text, &len) : read_full_file_at(AT_FDCWD, file, READ_MAX, &text, &len);
        if (r == -EFBIG || (r >= 0 && len > PROFILE_MAX_SIZE)) {
                log_error("%s: profile is too large (more than %d bytes)", file, PROFILE_MAX_SIZE);
                return -EINVAL;
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (!ref)
                        return log_error_errno(r, "cannot read profile %s: %m", Q(file));
                JPath top = {}, at = jpath_key(&top, "extends");
                errno = -r;
                return fail(ref, &at, "extends: cannot read %s: %m", Q(file));
        }

        struct stat st;
        if (name)
                snprintf(id, sizeof id, "builtin:%s", name);
        else if (stat(file, &st) >= 0)
                snprintf(id, sizeof id, "file:%llu:%llu", (unsigned long long) st.st_dev,
                         (unsigned long long) st.st_ino);
        else
                return log_error_errno(errno, "cannot read profile %s: %m", Q(file));
        for (size_t i = 0; i < chain->n; i++)
                if (strcmp(chain->link[i].id, id) == 0) {
                        char cycle[1024];
                        size_t n = 0;
                        for (size_t j = i; j < chain->n && n < sizeof cycle; j++)
                                n += (size_t) snprintf(cycle + n, sizeof cycle - n, "%s -> ", chain->link[j].file);
                        if (n < sizeof cycle)
                                snprintf(cycle + n, sizeof cycle - n, "%s", file);
                        JPath top = {}, at = jpath_key(&top, "extends");
                        return fail(ref, &at, "extends cycle: %s", cycle);
                }

        /* Editors on some systems start UTF-8 files with a byte order mark; it is no column. */
        size_t bom = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
        Source src = { file, text + bom, len - bom, false };
        r = parse_text(&src, &root);
        if (r < 0)
                return r;
        const JPath top = {};
        if (!json_is_object(root))
                return fail(&src, &top, "a profile must be a JSON object, got %s", type_name(root));
        r = check_limits(&src, &top, root, 1);
        if (r < 0)
                return r;

        scratch = profile_new();
        if (!scratch)
                return -ENOMEM;
        r = apply_profile(scratch, &src, root);
        if (r < 0)
                return r;

        snprintf(chain->link[chain->n].id, sizeof chain->link[chain->n].id, "%s", id);
        chain->link[chain->n++].file = file;
        r = resolve_extends(&src, root, name != NULL, chain, &p);
        chain->n--;
        if (r < 0)
                return r;

        src.final = true;
        r = apply_profile(p, &src, root);
        if (r < 0)
                return r;
        r = set_string(&p->name, name ? name : file);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int profile_load(const char *name_or_path, Profile **ret) {
        Chain chain = {};
        _cleanup_free_ char *file = NULL;
        Profile *p;
        int r;

        if (!spec_is_file(name_or_path)) {
                if (builtin_index(name_or_path) < 0) {
                        _cleanup_free_ char *hint = hint_among(name_or_path, builtin_names);
                        if (hint)
                                log_error("unknown profile %s (did you mean \"%s\"?)", Q(name_or_path), hint);
                        else
                                log_error("unknown profile %s (%s)", Q(name_or_path), builtin_list());
                        return -ENOENT;
                }
                if (asprintf(&file, "profiles/%s.json", name_or_path) < 0)
                        return log_error_errno(ENOMEM, "cannot load profile: %m");
                r = load_chain(name_or_path, file, NULL, &chain, &p);
        } else
                r = load_chain(NULL, name_or_path, NULL, &chain, &p);
        if (r == -ENOMEM)
                return log_error_errno(r, "cannot load profile %s: %m", Q(name_or_path));
        if (r < 0)
                return r;
        *ret = p;
        return 0;
}

void profile_free(Profile *p) {
        if (!p)
                return;
        free(p->name);
        free(p->description);
        binds_clear(p);
        strv_free(p->env_allow);
        free(p->hostname);
        strv_free(p->socket_families);
        strv_free(p->seccomp_allow);
        deny_clear(p);
        free(p);
}

/* ---- out ---- */

static json_t *strv_to_json(char *const *l) {
        if (!l)
                return json_null();
        json_t *a = json_array();
        STRV_FOREACH (e, l)
                if (json_array_append_new(a, json_string(*e)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static json_t *quantity_to_json(bool set, uint64_t v) {
        if (!set)
                return json_null();
        if (v == RLIM_INFINITY)
                return json_string("unlimited");
        return json_integer((json_int_t) v);
}

/* Loading what this returns gives the same profile again: every key is present, null
 * where the profile leaves the choice to vrun's defaults. */
json_t *profile_to_json(const Profile *p) {
        _cleanup_json_ json_t *o = json_object(), *binds = json_array(), *rl = json_object(), *sc = json_object(),
                              *deny = json_array(), *sets = json_array();
        int bad = 0;

        if (!o || !binds || !rl || !sc || !deny || !sets)
                return NULL;
        for (size_t i = 0; i < p->n_binds; i++) {
                const BindSpec *b = &p->binds[i];
                json_t *e = b->kind == BIND_TMPFS ? json_pack("{s:s}", "tmpfs", b->dst)
                                                  : json_pack("{s:s,s:s,s:s}", "src", b->src, "dst", b->dst, "mode",
                                                              b->kind == BIND_RW ? "rw" : "ro");
                bad |= json_array_append_new(binds, e);
        }
        for (size_t i = 0; i < _PROFILE_RLIMIT_MAX; i++)
                bad |= json_object_set_new(rl, rlimit_keys[i],
                                           quantity_to_json(p->rlimits[i].set, p->rlimits[i].value));
        for (size_t i = 0; i < p->n_seccomp_deny; i++) {
                const char *en = errno_to_name(p->seccomp_deny[i].errno_value);
                json_t *e = en ? json_pack("{s:s,s:s}", "syscall", p->seccomp_deny[i].syscall, "errno", en)
                               : json_pack("{s:s,s:i}", "syscall", p->seccomp_deny[i].syscall, "errno",
                                           p->seccomp_deny[i].errno_value);
                bad |= json_array_append_new(deny, e);
        }
        bad |= json_array_append_new(sets, json_string("default"));
        if (p->seccomp_strict)
                bad |= json_array_append_new(sets, json_string("strict"));
        bad |= json_object_set(sc, "sets", sets);
        bad |= json_object_set_new(sc, "allow", p->seccomp_allow ? strv_to_json(p->seccomp_allow) : json_array());
        bad |= json_object_set(sc, "deny", deny);
        bad |= json_object_set_new(sc, "socket_families", strv_to_json(p->socket_families));

        bad |= json_object_set_new(o, "description", p->description ? json_string(p->description) : json_null());
        bad |= json_object_set_new(o, "filesystem", json_string(fs_names[p->filesystem]));
        bad |= json_object_set_new(o, "env", json_string(env_names[p->env]));
        bad |= json_object_set_new(o, "cwd", json_string(cwd_names[p->cwd]));
        bad |= json_object_set_new(o, "home", json_string(home_names[p->home]));
        bad |= json_object_set_new(o, "network", json_string(net_names[p->network]));
        bad |= json_object_set(o, "binds", binds);
        bad |= json_object_set_new(o, "env_allow", strv_to_json(p->env_allow));
        bad |= json_object_set(o, "rlimits", rl);
        bad |= json_object_set_new(o, "timeout", quantity_to_json(p->timeout_sec > 0, p->timeout_sec));
        bad |= json_object_set_new(o, "hostname", json_string(p->hostname ? p->hostname : "vrun"));
        bad |= json_object_set_new(o, "tmp_size", quantity_to_json(p->tmp_size > 0, p->tmp_size));
        bad |= json_object_set(o, "seccomp", sc);
        if (bad)
                return NULL;
        return TAKE_PTR(o);
}
