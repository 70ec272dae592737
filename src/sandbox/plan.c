#include "vrun/sandbox/plan.h"

#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/log.h"

#define VRUN_HOSTNAME "vrun"

/* Variables that describe the user's terminal and locale, never how Python
 * finds code: PYTHONPATH, PYTHONHOME, PYTHONUSERBASE, PYTHONSTARTUP and the
 * like are left behind. */
static const char *const env_allow[] = {
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "TERM",
        "COLORTERM",
        "NO_COLOR",
        "FORCE_COLOR",
        "LANG",
        "LANGUAGE",
        "TZ",
        "COLUMNS",
        "LINES",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONIOENCODING",
        "PYTHONHASHSEED",
        "PYTHONWARNINGS",
        "PYTHONFAULTHANDLER",
        "PYTHONUTF8",
        "PYTHONDEVMODE",
        "PYTHONTRACEMALLOC",
};
static const char *const env_allow_prefix[] = { "LC_", "PIP_" };

static bool env_allowed_by(char *const *allow, const char *kv, size_t l) {
        STRV_FOREACH (a, allow) {
                size_t al = strlen(*a);
                if (al > 0 && (*a)[al - 1] == '*') {
                        if (l >= al - 1 && strncmp(kv, *a, al - 1) == 0)
                                return true;
                } else if (al == l && strncmp(kv, *a, l) == 0)
                        return true;
        }
        return false;
}

static bool env_allowed(char *const *profile_allow, const char *kv) {
        const char *eq = strchr(kv, '=');
        if (!eq)
                return false;
        size_t l = (size_t) (eq - kv);
        if (profile_allow)
                return env_allowed_by(profile_allow, kv, l);
        for (size_t i = 0; i < ELEMENTSOF(env_allow); i++)
                if (strlen(env_allow[i]) == l && strncmp(kv, env_allow[i], l) == 0)
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(env_allow_prefix); i++)
                if (strncmp(kv, env_allow_prefix[i], strlen(env_allow_prefix[i])) == 0)
                        return true;
        return false;
}

static const char *env_get(char *const *envp, const char *key) {
        size_t l = strlen(key);
        STRV_FOREACH (e, envp)
                if (strncmp(*e, key, l) == 0 && (*e)[l] == '=')
                        return *e + l + 1;
        return NULL;
}

static void env_unset(char **envp, const char *key) {
        size_t l = strlen(key), j = 0;
        for (size_t i = 0; envp[i]; i++) {
                if (strncmp(envp[i], key, l) == 0 && envp[i][l] == '=') {
                        free(envp[i]);
                        continue;
                }
                envp[j++] = envp[i];
        }
        envp[j] = NULL;
}

static int env_set(char ***envp, const char *key, const char *value) {
        env_unset(*envp, key);
        char *kv;
        if (asprintf(&kv, "%s=%s", key, value) < 0)
                return -ENOMEM;
        int r = strv_push(envp, kv);
        if (r < 0)
                free(kv);
        return r;
}

static int build_env(const PlanInput *in, Plan *p) {
        _cleanup_strv_free_ char **envp = calloc(1, sizeof(char *));
        if (!envp)
                return -ENOMEM;
        int r;
        STRV_FOREACH (e, in->environ)
                if (env_allowed(in->profile ? in->profile->env_allow : NULL, *e) && (r = strv_extend(&envp, *e)) < 0)
                        return r;

        /* Whatever a profile allows, these decide where Python finds code. */
        static const char *const never[] = { "PYTHONPATH",       "PYTHONHOME",       "PYTHONUSERBASE", "PYTHONSTARTUP",
                                             "PYTHONEXECUTABLE", "PYTHONPLATLIBDIR", "PYTHONSAFEPATH" };
        for (size_t k = 0; k < ELEMENTSOF(never); k++)
                env_unset(envp, never[k]);

        const char *host_path = env_get(in->environ, "PATH");
        if (!host_path || !*host_path)
                host_path = "/usr/local/bin:/usr/bin:/bin";
        _cleanup_free_ char *bin = path_join(in->env, "bin"), *path = NULL;
        if (!bin || asprintf(&path, "%s:%s", bin, host_path) < 0)
                return -ENOMEM;
        if ((r = env_set(&envp, "PATH", path)) < 0 || (r = env_set(&envp, "VIRTUAL_ENV", in->env)) < 0)
                return r;

        STRV_FOREACH (u, in->opts->unsetenv)
                env_unset(envp, *u);
        STRV_FOREACH (kv, in->opts->setenv) {
                _cleanup_free_ char *k = strndup(*kv, (size_t) (strchr(*kv, '=') - *kv));
                if (!k || (r = env_set(&envp, k, strchr(*kv, '=') + 1)) < 0)
                        return r < 0 ? r : -ENOMEM;
        }
        /* The command is looked up with the PATH the payload will have. */
        const char *final_path = env_get(envp, "PATH");
        p->path = strdup(final_path ? final_path : "");
        if (!p->path)
                return -ENOMEM;
        p->envp = TAKE_PTR(envp);
        return 0;
}

/* src is NULL for the mounts that have none (tmpfs, proc, ...); dst never is. */
static int add_op(Plan *p, MountOpKind kind, const char *src, const char *dst, bool ro, bool optional, const char *why)
        __attribute__((nonnull(1, 4)));
static int add_op(Plan *p, MountOpKind kind, const char *src, const char *dst, bool ro, bool optional,
                  const char *why) {
        if (p->n_mounts >= PLAN_MAX_MOUNTS)
                return -E2BIG;
        MountOp *m = realloc(p->mounts, (p->n_mounts + 1) * sizeof *m);
        if (!m)
                return -ENOMEM;
        p->mounts = m;
        MountOp *op = &m[p->n_mounts];
        *op = (MountOp){ .kind = kind, .readonly = ro, .optional = optional, .why = why };
        if (src && !(op->src = strdup(src)))
                return -ENOMEM;
        if (!(op->dst = strdup(dst))) {
                free(op->src);
                return -ENOMEM;
        }
        p->n_mounts++;
        return 0;
}

static MountOp *last_op(Plan *p) {
        return &p->mounts[p->n_mounts - 1];
}

static size_t path_depth(const char *p) {
        size_t d = 0;
        for (; *p; p++)
                if (*p == '/' && p[1] && p[1] != '/')
                        d++;
        return d;
}

/* Stable insertion sort by depth: a mount must come after every mount on
 * one of its parent directories, and among equals the later-added wins
 * (user binds go on top of hides). */
static void sort_ops(Plan *p) {
        for (size_t i = 1; i < p->n_mounts; i++) {
                MountOp t = p->mounts[i];
                size_t d = path_depth(t.dst), j = i;
                while (j > 0 && path_depth(p->mounts[j - 1].dst) > d) {
                        p->mounts[j] = p->mounts[j - 1];
                        j--;
                }
                p->mounts[j] = t;
        }
}

/* A cwd inside a hidden dir is never bound: that would bring back what the
 * hide covers. */
static bool cwd_inside_hidden(const char *cwd, const InterpInfo *i) {
        STRV_FOREACH (h, i->hide_dirs)
                if (path_startswith(cwd, *h))
                        return true;
        return false;
}

/* Whether binding the working directory writable would unlock the base
 * interpreter (cwd is "/" or inside its prefix or stdlib) or expose a hidden
 * dir (cwd inside one). A cwd above them is fine: the base is re-bound
 * read-only and the hides mounted on top, both deeper than the cwd. */
static bool cwd_is_protected(const char *cwd, const InterpInfo *i) {
        if (strcmp(cwd, "/") == 0)
                return true;
        if (path_startswith(cwd, i->prefix) || path_startswith(cwd, i->exec_prefix))
                return true;
        STRV_FOREACH (h, i->stdlib_dirs)
                if (path_startswith(cwd, *h))
                        return true;
        return cwd_inside_hidden(cwd, i);
}

/* The base interpreter must stay visible and read-only wherever it lives:
 * re-bind a part of it read-only when a writable or fresh mount (cwd, env,
 * /tmp, --bind, --tmpfs) would cover it, and always in a minimal root
 * unless a read-only bind already brings it in. */
static int protect_base(Plan *p, const InterpInfo *i) {
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_free_ char *bindir = path_dirname(i->executable);
        int r;
        if (!bindir)
                return -ENOMEM;
        const char *fixed[] = { i->prefix, i->exec_prefix, bindir };
        for (size_t k = 0; k < ELEMENTSOF(fixed); k++)
                if (!strv_contains(parts, fixed[k]) && (r = strv_extend(&parts, fixed[k])) < 0)
                        return r;
        STRV_FOREACH (d, i->stdlib_dirs)
                if (!strv_contains(parts, *d) && (r = strv_extend(&parts, *d)) < 0)
                        return r;
        size_t n = p->n_mounts;
        STRV_FOREACH (part, parts) {
                bool covered_by_other_part = false;
                STRV_FOREACH (q, parts)
                        if (q != part && strcmp(*q, *part) != 0 && path_startswith(*part, *q))
                                covered_by_other_part = true;
                if (covered_by_other_part)
                        continue;
                bool need = false, covered_ro = false;
                for (size_t k = 0; k < n; k++) {
                        const MountOp *m = &p->mounts[k];
                        bool writable_or_fresh = (m->kind == MOUNT_OP_BIND && !m->readonly && !m->group) ||
                                                 m->kind == MOUNT_OP_TMPFS || m->kind == MOUNT_OP_DEV ||
                                                 m->kind == MOUNT_OP_PROC || m->kind == MOUNT_OP_OVERLAY;
                        if (!path_startswith(*part, m->dst))
                                continue;
                        if (writable_or_fresh)
                                need = true;
                        else if (m->kind == MOUNT_OP_BIND && m->readonly)
                                covered_ro = true;
                }
                if (p->minimal_root && !covered_ro)
                        need = true;
                if (need &&
                    (r = add_op(p, MOUNT_OP_BIND, *part, *part, true, !p->minimal_root, "base interpreter")) < 0)
                        return r;
        }
        return 0;
}

/* What a minimal root holds besides the base, the env and the working
 * directory: system programs and libraries, and the /etc files that name
 * resolution, users and the dynamic linker read. */
static const char *const minimal_system[] = { "/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32" };
static const char *const minimal_etc[] = {
        "/etc/passwd",       "/etc/group",     "/etc/hosts",       "/etc/nsswitch.conf",
        "/etc/resolv.conf",  "/etc/host.conf", "/etc/ld.so.cache", "/etc/ld.so.conf",
        "/etc/ld.so.conf.d", "/etc/localtime", "/etc/ssl/certs",
};

static int add_minimal_root(Plan *p) {
        int r;
        for (size_t k = 0; k < ELEMENTSOF(minimal_system); k++) {
                if ((r = add_op(p, MOUNT_OP_BIND, minimal_system[k], minimal_system[k], true, true, "system files")) <
                    0)
                        return r;
                last_op(p)->mirror = true;
        }
        for (size_t k = 0; k < ELEMENTSOF(minimal_etc); k++)
                if ((r = add_op(p, MOUNT_OP_BIND, minimal_etc[k], minimal_etc[k], true, true, "system files")) < 0)
                        return r;
        return 0;
}

static int abs_from(const char *cwd, const char *p, char **ret) {
        if (p[0] == '/')
                return path_normalize(p, ret);
        _cleanup_free_ char *j = path_join(cwd, p);
        if (!j)
                return -ENOMEM;
        return path_normalize(j, ret);
}

/* The base interpreter part a writable or fresh mount at dst would cover
 * (protect_base puts it back read-only on top, undoing the user's mount
 * there), or NULL. */
static const char *covered_base_part(const char *dst, const InterpInfo *i) {
        if (path_startswith(i->prefix, dst))
                return i->prefix;
        if (path_startswith(i->exec_prefix, dst))
                return i->exec_prefix;
        STRV_FOREACH (d, i->stdlib_dirs)
                if (path_startswith(*d, dst))
                        return *d;
        return NULL;
}

static int add_user_binds(const PlanInput *in, Plan *p, const BindSpec *binds, size_t n_binds) {
        int r;
        for (size_t k = 0; k < n_binds; k++) {
                const BindSpec *b = &binds[k];
                const char *opt = b->kind == BIND_TMPFS ? "--tmpfs" : b->kind == BIND_RO ? "--ro-bind" : "--bind";
                if (b->dst[0] != '/' && (b->kind == BIND_TMPFS || strcmp(b->src, b->dst) != 0)) {
                        log_error("%s: destination '%s' must be an absolute path", opt, b->dst);
                        return -EINVAL;
                }
                _cleanup_free_ char *src = NULL, *dst = NULL;
                if (b->src && (r = abs_from(in->cwd, b->src, &src)) < 0)
                        return r;
                if ((r = abs_from(in->cwd, b->dst, &dst)) < 0)
                        return r;
                if (strcmp(dst, "/") == 0) {
                        log_error("%s: cannot mount over '/'", opt);
                        return -EINVAL;
                }
                const char *base = b->kind != BIND_RO ? covered_base_part(dst, in->interp) : NULL;
                if (base) {
                        log_error("%s %s: it would cover the base interpreter's %s, which always stays read-only "
                                  "inside (use --ro-bind, or a destination outside it)",
                                  opt, dst, base);
                        return -EINVAL;
                }
                r = add_op(p, b->kind == BIND_TMPFS ? MOUNT_OP_TMPFS : MOUNT_OP_BIND, src, dst, b->kind == BIND_RO,
                           false, opt);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int plan_seccomp(Plan *p, const Profile *pr, bool network) {
        int r;
        p->seccomp.strict = pr->seccomp_strict;
        if (pr->socket_families)
                p->seccomp.allow_inet =
                        strv_contains(pr->socket_families, "inet") || strv_contains(pr->socket_families, "inet6");
        else
                p->seccomp.allow_inet = network;
        if (pr->n_seccomp_deny > 0) {
                p->seccomp_deny_errno = calloc(pr->n_seccomp_deny, sizeof(int));
                if (!p->seccomp_deny_errno)
                        return -ENOMEM;
                for (size_t k = 0; k < pr->n_seccomp_deny; k++) {
                        if ((r = strv_extend(&p->seccomp_deny, pr->seccomp_deny[k].syscall)) < 0)
                                return r;
                        p->seccomp_deny_errno[k] = pr->seccomp_deny[k].errno_value;
                }
                p->seccomp.deny_extra = (const char *const *) p->seccomp_deny;
                p->seccomp.deny_extra_errno = p->seccomp_deny_errno;
        }
        if (pr->seccomp_allow) {
                if (!(p->seccomp_allow = strv_copy(pr->seccomp_allow)))
                        return -ENOMEM;
                p->seccomp.allow_extra = (const char *const *) p->seccomp_allow;
        }
        return 0;
}

static const int rlimit_resource[_PROFILE_RLIMIT_MAX] = {
        [PROFILE_RLIMIT_NPROC] = RLIMIT_NPROC, [PROFILE_RLIMIT_AS] = RLIMIT_AS,
        [PROFILE_RLIMIT_FSIZE] = RLIMIT_FSIZE, [PROFILE_RLIMIT_NOFILE] = RLIMIT_NOFILE,
        [PROFILE_RLIMIT_CPU] = RLIMIT_CPU,     [PROFILE_RLIMIT_CORE] = RLIMIT_CORE,
};

int plan_build(const PlanInput *in, Plan **ret) {
        _cleanup_(plan_freep) Plan *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        const RunOptions *o = in->opts;
        const InterpInfo *i = in->interp;
        const Profile *pr = in->profile;
        int r;
        if (!pr) {
                log_error("no profile");
                return -EINVAL;
        }

        p->profile_name = pr->name;
        p->minimal_root = pr->filesystem == PROFILE_FS_MINIMAL;
        bool network = o->share_net >= 0 ? o->share_net == 1 : pr->network == PROFILE_NET_HOST;
        p->unshare_net = !network;
        p->clone_flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                         (p->unshare_net ? CLONE_NEWNET : 0);
        p->hostname = strdup(pr->hostname ? pr->hostname : VRUN_HOSTNAME);
        p->uid = in->uid;
        p->gid = in->gid;
        if (!p->hostname)
                return -ENOMEM;
        ProfileEnvMode env_mode = o->ephemeral ? PROFILE_ENV_EPHEMERAL : pr->env;

        if (p->minimal_root && (r = add_minimal_root(p)) < 0)
                return r;
        if ((r = add_op(p, MOUNT_OP_PROC, NULL, "/proc", false, false, "fresh procfs")) < 0 ||
            (r = add_op(p, MOUNT_OP_DEV, NULL, "/dev", false, false, "minimal /dev")) < 0)
                return r;
        /* Every memory-backed mount a payload can write gets the /tmp limit,
         * or /dev/shm and an empty home would be ways around it. */
        last_op(p)->size = pr->tmp_size;
        if ((r = add_op(p, MOUNT_OP_TMPFS, NULL, "/tmp", false, false, "fresh /tmp")) < 0)
                return r;
        last_op(p)->size = pr->tmp_size;
        bool home_ok = in->home && in->home[0] == '/' && strcmp(in->home, "/") != 0;
        if (pr->home == PROFILE_HOME_TMPFS && home_ok) {
                if ((r = add_op(p, MOUNT_OP_TMPFS, NULL, in->home, false, false, "empty home")) < 0)
                        return r;
                last_op(p)->mode = 0700;
                last_op(p)->size = pr->tmp_size;
        } else if (home_ok && (p->minimal_root || path_startswith(in->home, "/tmp"))) {
                /* The host's home, read-only, even where a fresh /tmp or
                 * a minimal root would otherwise leave it out. */
                if ((r = add_op(p, MOUNT_OP_BIND, in->home, in->home, true, true, "home")) < 0)
                        return r;
        }

        STRV_FOREACH (h, i->hide_dirs)
                if ((r = add_op(p, MOUNT_OP_HIDE, NULL, *h, true, true, "hide global packages")) < 0)
                        return r;
        /* vrun trusts its cache (interpreter facts, unpacked wheels): the
         * payload must not be able to read or rewrite it for the next run. */
        if (in->cache_dir && (r = add_op(p, MOUNT_OP_HIDE, NULL, in->cache_dir, true, true, "hide vrun's cache")) < 0)
                return r;
        if (in->state_dir && (r = add_op(p, MOUNT_OP_HIDE, NULL, in->state_dir, true, true, "hide vrun's state")) < 0)
                return r;

        /* The base interpreter itself imports the env's packages: the env's
         * site-packages goes over the first global dir that exists. */
        _cleanup_free_ char *site = NULL;
        if (asprintf(&site, "%s/lib/python%d.%d/site-packages", in->env, i->version_major, i->version_minor) < 0)
                return -ENOMEM;
        int rank = 0;
        STRV_FOREACH (sp, i->site_packages) {
                if ((r = add_op(p, MOUNT_OP_BIND, site, *sp, env_mode == PROFILE_ENV_RO, true,
                                "env overlaid on the base")) < 0)
                        return r;
                last_op(p)->group = 1;
                last_op(p)->rank = rank++;
        }

        bool cwd_in_env = path_startswith(in->cwd, in->env);
        bool cwd_hidden = pr->cwd == PROFILE_CWD_HIDDEN;
        if (!cwd_in_env && !cwd_hidden && !cwd_inside_hidden(in->cwd, i) && strcmp(in->cwd, "/") != 0) {
                /* Bound even when read-only: /tmp or an empty home would cover it. */
                bool ro = pr->cwd == PROFILE_CWD_RO || cwd_is_protected(in->cwd, i);
                if ((r = add_op(p, MOUNT_OP_BIND, in->cwd, in->cwd, ro, false, "working directory")) < 0)
                        return r;
        } else if (cwd_hidden && !cwd_in_env && !p->minimal_root && strcmp(in->cwd, "/") != 0) {
                if ((r = add_op(p, MOUNT_OP_HIDE, NULL, in->cwd, true, false, "hidden working directory")) < 0)
                        return r;
        }
        if (env_mode == PROFILE_ENV_EPHEMERAL) {
                r = add_op(p, MOUNT_OP_OVERLAY, in->env, in->env, false, false, "env, ephemeral");
                if (r >= 0)
                        last_op(p)->size = pr->tmp_size;
        } else
                r = add_op(p, MOUNT_OP_BIND, in->env, in->env, env_mode == PROFILE_ENV_RO, false, "env");
        if (r < 0)
                return r;
        if ((r = add_user_binds(in, p, pr->binds, pr->n_binds)) < 0 ||
            (r = add_user_binds(in, p, o->binds, o->n_binds)) < 0)
                return r;
        if ((r = protect_base(p, i)) < 0)
                return r;
        sort_ops(p);

        if (o->chdir) {
                if ((r = abs_from(in->cwd, o->chdir, &p->chdir)) < 0)
                        return r;
        } else if (!(p->chdir = strdup(cwd_hidden && !cwd_in_env ? "/" : in->cwd)))
                return -ENOMEM;

        if (in->argv && in->argv[0]) {
                p->argv = strv_copy(in->argv);
        } else {
                const char *sh = NULL;
                STRV_FOREACH (e, in->environ)
                        if (strncmp(*e, "SHELL=", 6) == 0 && (*e)[6] == '/')
                                sh = *e + 6;
                char *def[] = { (char *) (sh ? sh : "/bin/sh"), NULL };
                p->argv = strv_copy(def);
        }
        if (!p->argv)
                return -ENOMEM;
        p->foreground_job = o->foreground_job;
        if ((r = build_env(in, p)) < 0)
                return r;
        if ((r = plan_seccomp(p, pr, network)) < 0)
                return r;
        for (size_t k = 0; k < _PROFILE_RLIMIT_MAX; k++)
                if (pr->rlimits[k].set)
                        p->rlimits[p->n_rlimits++] = (PlanRlimit){ rlimit_resource[k], pr->rlimits[k].value };
        p->timeout_sec = pr->timeout_sec;
        *ret = TAKE_PTR(p);
        return 0;
}

void plan_free(Plan *p) {
        if (!p)
                return;
        for (size_t k = 0; k < p->n_mounts; k++) {
                free(p->mounts[k].src);
                free(p->mounts[k].dst);
        }
        free(p->mounts);
        free(p->hostname);
        free(p->chdir);
        free(p->path);
        strv_free(p->argv);
        strv_free(p->envp);
        strv_free(p->seccomp_deny);
        free(p->seccomp_deny_errno);
        strv_free(p->seccomp_allow);
        free(p);
}

static const char *rlimit_name(int resource) {
        switch (resource) {
        case RLIMIT_NPROC: return "nproc";
        case RLIMIT_AS: return "as";
        case RLIMIT_FSIZE: return "fsize";
        case RLIMIT_NOFILE: return "nofile";
        case RLIMIT_CPU: return "cpu";
        case RLIMIT_CORE: return "core";
        default: return "?";
        }
}

void plan_print(const Plan *p, FILE *f) {
        fprintf(f, "profile: %s\n", p->profile_name ? p->profile_name : "default");
        fprintf(f, "namespaces: user mount pid ipc uts%s\n", p->unshare_net ? " net (loopback only)" : "");
        fprintf(f, "uid map: %u -> %u; gid map: %u -> %u\n", p->uid, p->uid, p->gid, p->gid);
        fprintf(f, "hostname: %s\n", p->hostname);
        fprintf(f, "mount: propagation private (recursive)\n");
        for (size_t k = 0; k < p->n_mounts; k++) {
                const MountOp *m = &p->mounts[k];
                if (m->kind == MOUNT_OP_BIND)
                        fprintf(f, "mount: clone %s%s\n", m->src, m->optional ? " (if present)" : "");
                else if (m->kind == MOUNT_OP_OVERLAY)
                        fprintf(f, "mount: overlay of %s with a tmpfs upper layer\n", m->src);
        }
        if (p->minimal_root)
                fprintf(f, "mount: new root: empty tmpfs (read-only once populated); pivot_root\n");
        else
                fprintf(f, "mount: / read-only, nosuid (recursive, atomic)\n");
        for (size_t k = 0; k < p->n_mounts; k++) {
                const MountOp *m = &p->mounts[k];
                const char *opt = m->optional ? " (if present)" : "";
                switch (m->kind) {
                case MOUNT_OP_BIND:
                        fprintf(f, "mount: bind %s on %s %s%s%s%s  # %s\n", m->src, m->dst, m->readonly ? "ro" : "rw",
                                m->mirror ? " (a symlink stays a symlink)" : "",
                                m->group ? " (first present of its group)" : "", m->group ? "" : opt, m->why);
                        break;
                case MOUNT_OP_OVERLAY:
                        fprintf(f, "mount: overlay on %s (writes vanish at exit)  # %s\n", m->dst, m->why);
                        break;
                case MOUNT_OP_HIDE: fprintf(f, "mount: empty ro tmpfs on %s%s  # %s\n", m->dst, opt, m->why); break;
                case MOUNT_OP_TMPFS:
                        fprintf(f, "mount: tmpfs on %s mode %04o", m->dst, m->mode ? m->mode : 01777);
                        if (m->size)
                                fprintf(f, " size %llu", (unsigned long long) m->size);
                        fprintf(f, "  # %s\n", m->why);
                        break;
                case MOUNT_OP_DEV:
                        fprintf(f, "mount: tmpfs on /dev with null zero full random urandom tty, devpts, shm\n");
                        break;
                case MOUNT_OP_PROC:
                        fprintf(f, "mount: proc on /proc; /proc/sys /proc/sysrq-trigger /proc/irq /proc/bus "
                                   "/proc/fs read-only; /proc/kcore /proc/keys /proc/timer_list "
                                   "/proc/sched_debug masked\n");
                        break;
                }
        }
        fprintf(f, "chdir: %s\n", p->chdir);
        fprintf(f, "capabilities: all sets empty; no_new_privs\n");
        fprintf(f, "seccomp: %s filter%s", p->seccomp.strict ? "strict" : "default",
                p->seccomp.strict ? (p->seccomp.allow_inet ? ", sockets: unix inet inet6" : ", sockets: unix") : "");
        STRV_FOREACH (a, p->seccomp_allow)
                fprintf(f, ", allow %s", *a);
        for (size_t k = 0; p->seccomp_deny && p->seccomp_deny[k]; k++)
                fprintf(f, ", deny %s (errno %d)", p->seccomp_deny[k], p->seccomp_deny_errno[k]);
        fputc('\n', f);
        for (size_t k = 0; k < p->n_rlimits; k++)
                fprintf(f, "rlimit: %s %llu\n", rlimit_name(p->rlimits[k].resource),
                        (unsigned long long) p->rlimits[k].value);
        if (p->timeout_sec)
                fprintf(f, "timeout: %llu s\n", (unsigned long long) p->timeout_sec);
        fprintf(f, "fds: close >= 3\n");
        if (p->foreground_job)
                fprintf(f, "terminal: the payload leads its own process group, in the foreground\n");
        STRV_FOREACH (e, p->envp)
                fprintf(f, "env: %s\n", *e);
        fprintf(f, "exec:");
        STRV_FOREACH (a, p->argv)
                fprintf(f, " %s", *a);
        fputc('\n', f);
}
