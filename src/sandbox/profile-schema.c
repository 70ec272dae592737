/* The profile schema, both ways: the keys and values a profile file may
 * have, applied onto a Profile (merging over what `extends` gave), and a
 * resolved Profile back as JSON. */
#include <seccomp.h>
#include <sys/resource.h>
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
        KEY_HOST_SOCKETS,
        KEY_MEMORY,
        KEY_CPUS,
};
static const char *const top_keys[] = {
        "description", "extends", "filesystem", "env",      "cwd",     "home",         "network", "binds", "env_allow",
        "rlimits",     "timeout", "hostname",   "tmp_size", "seccomp", "host_sockets", "memory",  "cpus",  NULL,
};
static const char *const bind_keys[] = { "src", "dst", "mode", "tmpfs", NULL };
static const char *const seccomp_keys[] = { "sets", "allow", "deny", "socket_families", NULL };
static const char *const deny_keys[] = { "syscall", "errno", NULL };

static const char *const fs_names[] = { "host-ro", "minimal", NULL };
static const char *const env_names[] = { "rw", "ro", "ephemeral", NULL };
static const char *const cwd_names[] = { "rw", "ro", "hidden", "ephemeral", NULL };
static const char *const home_names[] = { "host", "tmpfs", "rw", NULL };
static const char *const net_names[] = { "host", "none", NULL };
static const char *const sockets_names[] = { "host", "hidden", NULL };
static const char *const mode_names[] = { "ro", "rw", NULL };
static const char *const set_names[] = { "default", "strict", NULL };
static const char *const family_names[] = { "unix", "inet", "inet6", NULL };

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
/* The sandbox's total: below 16M no Python starts. */
static const QuantitySpec memory_spec = { Q_SIZE, false, 16 * SIZE_M, SIZE_MAX_PROFILE, "16M..1024T" };
static const QuantitySpec cpus_spec = { Q_COUNT, false, 1, 4096, "1..4096" };
static const QuantitySpec timeout_spec = { Q_DURATION, false, 1, DURATION_MAX, "1..31536000 seconds" };

/* ---- applying one file onto a profile ---- */

void profile_binds_clear(Profile *p) {
        for (size_t i = 0; i < p->n_binds; i++) {
                free(p->binds[i].src);
                free(p->binds[i].dst);
        }
        free(p->binds);
        p->binds = NULL;
        p->n_binds = 0;
}

void profile_deny_clear(Profile *p) {
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
                return profile_fail_type(s, at, "an object", v);
        json_object_foreach (v, key, val) {
                JPath kp = jpath_key(at, key);
                switch (profile_key_lookup(bind_keys, key)) {
                case 0: r = profile_get_path(s, &kp, val, &src); break;
                case 1: r = profile_get_path(s, &kp, val, &dst); break;
                case 2:
                        r = profile_get_enum(s, &kp, val, mode_names, &mode);
                        has_mode = true;
                        break;
                case 3: r = profile_get_path(s, &kp, val, &tmpfs); break;
                default: return profile_fail_unknown_key(s, &kp, key, bind_keys, at);
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
                return profile_fail_type(s, at, "an array", v);
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

static int apply_env_allow(Profile *p, const Source *s, const JPath *at, json_t *v) {
        _cleanup_strv_free_ char **l = NULL;
        int r = profile_get_string_list(s, at, v, PROFILE_MAX_LIST, NULL, env_pattern_valid,
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
                return profile_fail_type(s, at, "an object", v);
        json_object_foreach (v, key, val) {
                JPath kp = jpath_key(at, key);
                int k = profile_key_lookup(rlimit_keys, key);
                uint64_t value;

                if (k < 0)
                        return profile_fail_unknown_key(s, &kp, key, rlimit_keys, at);
                if (json_is_null(val)) {
                        p->rlimits[k] = (ProfileRlimit){};
                        continue;
                }
                r = profile_get_quantity(s, &kp, val, &rlimit_specs[k], &value);
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
                return profile_fail_type(s, at, "an array", v);
        if (n > PROFILE_MAX_SYSCALLS)
                return fail(s, at, "%s: more than %d entries", PATHSTR(at), PROFILE_MAX_SYSCALLS);
        _cleanup_free_ ProfileDeny *d = calloc(n + 1, sizeof *d);
        _cleanup_free_ int *nrs = calloc(n + 1, sizeof *nrs);
        size_t filled = 0; /* entries set: every one, when no check failed */
        if (!d || !nrs)
                return -ENOMEM;
        json_array_foreach (v, i, e) {
                JPath ep = jpath_index(at, i);
                const char *key, *name = NULL;
                json_t *val, *sc = NULL;
                int err = EPERM;

                if (!json_is_object(e))
                        return profile_fail_type(s, &ep, "an object", e);
                json_object_foreach (e, key, val) {
                        JPath kp = jpath_key(&ep, key);
                        int k = profile_key_lookup(deny_keys, key);
                        if (k < 0)
                                return profile_fail_unknown_key(s, &kp, key, deny_keys, &ep);
                        r = k == 0 ? profile_get_syscall(s, &kp, val, &name, &nrs[i])
                                   : profile_get_errno(s, &kp, val, &err);
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
                filled++;
        }
        *ret = TAKE_PTR(d);
        *ret_nrs = TAKE_PTR(nrs);
        *ret_n = filled;
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
                profile_deny_clear(p);
                return 0;
        }
        if (!json_is_object(v))
                return profile_fail_type(s, at, "an object", v);

        /* Check the whole object before changing anything: allow and deny of one file are
         * compared with each other, whichever comes first. */
        json_object_foreach (v, key, val) {
                JPath kp = jpath_key(at, key);
                int k = profile_key_lookup(seccomp_keys, key);
                if (k < 0)
                        return profile_fail_unknown_key(s, &kp, key, seccomp_keys, at);
                if (json_is_null(val)) {
                        json_t **slot[] = { &sets, &allow, &deny, &families };
                        *slot[k] = val;
                        continue;
                }
                switch (k) {
                case 0:
                        sets = val;
                        r = profile_get_string_list(s, &kp, val, 2, set_names, NULL, NULL, &sets_l);
                        break;
                case 1:
                        allow = val;
                        r = profile_get_string_list(s, &kp, val, PROFILE_MAX_SYSCALLS, NULL, NULL, NULL, &allow_l);
                        for (size_t i = 0; r >= 0 && allow_l[i]; i++) {
                                JPath ep = jpath_index(&kp, i);
                                const char *name;
                                int nr;
                                r = profile_get_syscall(s, &ep, json_array_get(val, i), &name, &nr);
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
                        r = profile_get_string_list(s, &kp, val, 3, family_names, NULL, NULL, &families_l);
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
                        profile_deny_clear(p);
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

int profile_set_string(char **slot, const char *value) {
        char *c = NULL;
        if (value && !(c = strdup(value)))
                return -ENOMEM;
        free(*slot);
        *slot = c;
        return 0;
}

/* Applies one file's keys onto p, which holds what the file extends (or the defaults).
 * Scalars replace; lists add to what is inherited; null resets a key to the default. */
int profile_apply(Profile *p, const Source *s, json_t *root) {
        const JPath top = {};
        bool families_set = false;
        const char *key;
        json_t *v;
        int r = 0, e;

        json_object_foreach (root, key, v) {
                JPath at = jpath_key(&top, key);
                int k = profile_key_lookup(top_keys, key);

                if (k < 0)
                        return profile_fail_unknown_key(s, &at, key, top_keys, &top);
                bool null = json_is_null(v);
                switch (k) {
                case KEY_DESCRIPTION: {
                        const char *str = NULL;
                        if (!null && (r = profile_get_string(s, &at, v, &str)) < 0)
                                return r;
                        for (const char *c = str; c && *c; c++)
                                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                                        return fail(s, &at,
                                                    "description: control characters are not allowed (write one line "
                                                    "of text)");
                        r = profile_set_string(&p->description, str);
                        break;
                }
                case KEY_EXTENDS: break; /* the loader's business */
                case KEY_FILESYSTEM:
                        if (null || (r = profile_get_enum(s, &at, v, fs_names, &e)) >= 0)
                                p->filesystem = null ? PROFILE_FS_HOST_RO : (ProfileFs) e;
                        break;
                case KEY_ENV:
                        if (null || (r = profile_get_enum(s, &at, v, env_names, &e)) >= 0)
                                p->env = null ? PROFILE_ENV_RW : (ProfileEnvMode) e;
                        break;
                case KEY_CWD:
                        if (null || (r = profile_get_enum(s, &at, v, cwd_names, &e)) >= 0)
                                p->cwd = null ? PROFILE_CWD_RW : (ProfileCwdMode) e;
                        break;
                case KEY_HOME:
                        if (null || (r = profile_get_enum(s, &at, v, home_names, &e)) >= 0)
                                p->home = null ? PROFILE_HOME_HOST : (ProfileHome) e;
                        break;
                case KEY_NETWORK:
                        if (null || (r = profile_get_enum(s, &at, v, net_names, &e)) >= 0)
                                p->network = null ? PROFILE_NET_HOST : (ProfileNet) e;
                        break;
                case KEY_BINDS:
                        if (null)
                                profile_binds_clear(p);
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
                                r = profile_get_quantity(s, &at, v, &timeout_spec, &p->timeout_sec);
                        break;
                case KEY_HOSTNAME: {
                        const char *str = NULL;
                        if (!null && (r = profile_get_string(s, &at, v, &str)) < 0)
                                return r;
                        if (str && !hostname_valid(str))
                                return fail(s, &at,
                                            "hostname: %s is not a host name (1 to 64 letters, digits, \".\" and "
                                            "\"-\", starting and ending with a letter or digit)",
                                            Q(str));
                        r = profile_set_string(&p->hostname, str);
                        break;
                }
                case KEY_TMP_SIZE:
                        if (null)
                                p->tmp_size = 0;
                        else
                                r = profile_get_quantity(s, &at, v, &tmp_size_spec, &p->tmp_size);
                        break;
                case KEY_SECCOMP: r = apply_seccomp(p, s, &at, v, &families_set); break;
                case KEY_HOST_SOCKETS:
                        if (null || (r = profile_get_enum(s, &at, v, sockets_names, &e)) >= 0)
                                p->host_sockets = null ? PROFILE_SOCKETS_HOST : (ProfileSockets) e;
                        break;
                case KEY_MEMORY:
                        if (null)
                                p->memory = 0;
                        else
                                r = profile_get_quantity(s, &at, v, &memory_spec, &p->memory);
                        break;
                case KEY_CPUS:
                        if (null)
                                p->cpus = 0;
                        else
                                r = profile_get_quantity(s, &at, v, &cpus_spec, &p->cpus);
                        break;
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
                const char *en = profile_errno_name(p->seccomp_deny[i].errno_value);
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
        bad |= json_object_set_new(o, "host_sockets", json_string(sockets_names[p->host_sockets]));
        bad |= json_object_set_new(o, "memory", quantity_to_json(p->memory > 0, p->memory));
        bad |= json_object_set_new(o, "cpus", quantity_to_json(p->cpus > 0, p->cpus));
        bad |= json_object_set(o, "seccomp", sc);
        if (bad)
                return NULL;
        return TAKE_PTR(o);
}
