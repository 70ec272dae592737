#include "vrun/plan.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/path.h"
#include "util/strv.h"
#include "vrun/log.h"

#define VRUN_HOSTNAME "vrun"

/* Variables that describe the user's terminal and locale, never how Python
 * finds code: PYTHONPATH, PYTHONHOME, PYTHONUSERBASE, PYTHONSTARTUP and the
 * like are left behind. */
static const char * const env_allow[] = {
        "HOME", "USER", "LOGNAME", "SHELL", "TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR",
        "LANG", "LANGUAGE", "TZ", "COLUMNS", "LINES",
        "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING", "PYTHONHASHSEED",
        "PYTHONWARNINGS", "PYTHONFAULTHANDLER", "PYTHONUTF8", "PYTHONDEVMODE", "PYTHONTRACEMALLOC",
};
static const char * const env_allow_prefix[] = { "LC_", "PIP_" };

static bool env_allowed(const char *kv) {
        const char *eq = strchr(kv, '=');
        if (!eq)
                return false;
        size_t l = (size_t)(eq - kv);
        for (size_t i = 0; i < ELEMENTSOF(env_allow); i++)
                if (strlen(env_allow[i]) == l && strncmp(kv, env_allow[i], l) == 0)
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(env_allow_prefix); i++)
                if (strncmp(kv, env_allow_prefix[i], strlen(env_allow_prefix[i])) == 0)
                        return true;
        return false;
}

static const char *env_get(char * const *envp, const char *key) {
        size_t l = strlen(key);
        STRV_FOREACH(e, envp)
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
        STRV_FOREACH(e, in->environ)
                if (env_allowed(*e) && (r = strv_extend(&envp, *e)) < 0)
                        return r;

        const char *host_path = env_get(in->environ, "PATH");
        if (!host_path || !*host_path)
                host_path = "/usr/local/bin:/usr/bin:/bin";
        _cleanup_free_ char *bin = path_join(in->env, "bin"), *path = NULL;
        if (!bin || asprintf(&path, "%s:%s", bin, host_path) < 0)
                return -ENOMEM;
        if ((r = env_set(&envp, "PATH", path)) < 0 || (r = env_set(&envp, "VIRTUAL_ENV", in->env)) < 0)
                return r;

        STRV_FOREACH(u, in->opts->unsetenv)
                env_unset(envp, *u);
        STRV_FOREACH(kv, in->opts->setenv) {
                _cleanup_free_ char *k = strndup(*kv, (size_t)(strchr(*kv, '=') - *kv));
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

/* Whether binding the working directory writable would unlock the base
 * interpreter (cwd is "/" or inside its prefix or stdlib) or expose a hidden
 * dir (cwd inside one). A cwd above them is fine: the base is re-bound
 * read-only and the hides mounted on top, both deeper than the cwd. */
static bool cwd_is_protected(const char *cwd, const InterpInfo *i) {
        if (strcmp(cwd, "/") == 0)
                return true;
        if (path_startswith(cwd, i->prefix) || path_startswith(cwd, i->exec_prefix))
                return true;
        STRV_FOREACH(h, i->stdlib_dirs)
                if (path_startswith(cwd, *h))
                        return true;
        STRV_FOREACH(h, i->hide_dirs)
                if (path_startswith(cwd, *h))
                        return true;
        return false;
}

/* The base interpreter must stay visible and read-only wherever it lives:
 * re-bind a part of it read-only when a writable or fresh mount (cwd, env,
 * /tmp, --bind, --tmpfs) would cover it. */
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
        STRV_FOREACH(d, i->stdlib_dirs)
                if (!strv_contains(parts, *d) && (r = strv_extend(&parts, *d)) < 0)
                        return r;
        size_t n = p->n_mounts;
        STRV_FOREACH(part, parts) {
                bool covered_by_other_part = false;
                STRV_FOREACH(q, parts)
                        if (q != part && strcmp(*q, *part) != 0 && path_startswith(*part, *q))
                                covered_by_other_part = true;
                if (covered_by_other_part)
                        continue;
                for (size_t k = 0; k < n; k++) {
                        const MountOp *m = &p->mounts[k];
                        bool writable_or_fresh = (m->kind == MOUNT_OP_BIND && !m->readonly && !m->group) ||
                                                 m->kind == MOUNT_OP_TMPFS || m->kind == MOUNT_OP_DEV ||
                                                 m->kind == MOUNT_OP_PROC;
                        if (writable_or_fresh && path_startswith(*part, m->dst)) {
                                r = add_op(p, MOUNT_OP_BIND, *part, *part, true, true, "base interpreter");
                                if (r < 0)
                                        return r;
                                break;
                        }
                }
        }
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

static int add_user_binds(const PlanInput *in, Plan *p) {
        const RunOptions *o = in->opts;
        int r;
        for (size_t k = 0; k < o->n_binds; k++) {
                const BindSpec *b = &o->binds[k];
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
                r = add_op(p, b->kind == BIND_TMPFS ? MOUNT_OP_TMPFS : MOUNT_OP_BIND, src, dst, b->kind == BIND_RO,
                           false, opt);
                if (r < 0)
                        return r;
        }
        return 0;
}

int plan_build(const PlanInput *in, Plan **ret) {
        _cleanup_(plan_freep) Plan *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        const RunOptions *o = in->opts;
        const InterpInfo *i = in->interp;
        int r;

        p->unshare_net = o->share_net == 0;
        p->clone_flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                         (p->unshare_net ? CLONE_NEWNET : 0);
        p->hostname = strdup(VRUN_HOSTNAME);
        p->uid = in->uid;
        p->gid = in->gid;
        if (!p->hostname)
                return -ENOMEM;

        if ((r = add_op(p, MOUNT_OP_PROC, NULL, "/proc", false, false, "fresh procfs")) < 0 ||
            (r = add_op(p, MOUNT_OP_DEV, NULL, "/dev", false, false, "minimal /dev")) < 0 ||
            (r = add_op(p, MOUNT_OP_TMPFS, NULL, "/tmp", false, false, "fresh /tmp")) < 0)
                return r;

        STRV_FOREACH(h, i->hide_dirs)
                if ((r = add_op(p, MOUNT_OP_HIDE, NULL, *h, true, true, "hide global packages")) < 0)
                        return r;

        /* vrun trusts its cache (interpreter facts, unpacked wheels): the
         * payload must not be able to read or rewrite it for the next run. */
        if (in->cache_dir && (r = add_op(p, MOUNT_OP_HIDE, NULL, in->cache_dir, true, true, "hide vrun's cache")) < 0)
                return r;

        /* The base interpreter itself imports the env's packages: the env's
         * site-packages goes over the first global dir that exists. */
        _cleanup_free_ char *site = NULL;
        if (asprintf(&site, "%s/lib/python%d.%d/site-packages", in->env, i->version_major, i->version_minor) < 0)
                return -ENOMEM;
        int rank = 0;
        STRV_FOREACH(s, i->site_packages) {
                if ((r = add_op(p, MOUNT_OP_BIND, site, *s, false, true, "env overlaid on the base")) < 0)
                        return r;
                p->mounts[p->n_mounts - 1].group = 1;
                p->mounts[p->n_mounts - 1].rank = rank++;
        }

        bool cwd_rw = !cwd_is_protected(in->cwd, i) && !path_startswith(in->cwd, in->env);
        if (cwd_rw && (r = add_op(p, MOUNT_OP_BIND, in->cwd, in->cwd, false, false, "working directory")) < 0)
                return r;
        if ((r = add_op(p, MOUNT_OP_BIND, in->env, in->env, false, false, "env")) < 0)
                return r;
        if ((r = add_user_binds(in, p)) < 0)
                return r;
        if ((r = protect_base(p, i)) < 0)
                return r;
        sort_ops(p);

        if (o->chdir) {
                if ((r = abs_from(in->cwd, o->chdir, &p->chdir)) < 0)
                        return r;
        } else if (!(p->chdir = strdup(in->cwd)))
                return -ENOMEM;

        if (in->argv && in->argv[0]) {
                p->argv = strv_copy(in->argv);
        } else {
                const char *sh = NULL;
                STRV_FOREACH(e, in->environ)
                        if (strncmp(*e, "SHELL=", 6) == 0 && (*e)[6] == '/')
                                sh = *e + 6;
                char *def[] = { (char *)(sh ? sh : "/bin/sh"), NULL };
                p->argv = strv_copy(def);
        }
        if (!p->argv)
                return -ENOMEM;
        if ((r = build_env(in, p)) < 0)
                return r;
        p->seccomp = (SeccompPolicy){ .strict = false };
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
        free(p);
}

void plan_print(const Plan *p, FILE *f) {
        fprintf(f, "namespaces: user mount pid ipc uts%s\n", p->unshare_net ? " net (loopback only)" : "");
        fprintf(f, "uid map: %u -> %u; gid map: %u -> %u\n", p->uid, p->uid, p->gid, p->gid);
        fprintf(f, "hostname: %s\n", p->hostname);
        fprintf(f, "mount: propagation private (recursive)\n");
        for (size_t k = 0; k < p->n_mounts; k++) {
                const MountOp *m = &p->mounts[k];
                if (m->kind == MOUNT_OP_BIND)
                        fprintf(f, "mount: clone %s%s\n", m->src, m->optional ? " (if present)" : "");
        }
        fprintf(f, "mount: / read-only, nosuid (recursive, atomic)\n");
        for (size_t k = 0; k < p->n_mounts; k++) {
                const MountOp *m = &p->mounts[k];
                const char *opt = m->optional ? " (if present)" : "";
                switch (m->kind) {
                case MOUNT_OP_BIND:
                        fprintf(f, "mount: bind %s on %s %s%s%s  # %s\n", m->src, m->dst, m->readonly ? "ro" : "rw",
                                m->group ? " (first present of its group)" : "", m->group ? "" : opt, m->why);
                        break;
                case MOUNT_OP_HIDE:
                        fprintf(f, "mount: empty ro tmpfs on %s%s  # %s\n", m->dst, opt, m->why);
                        break;
                case MOUNT_OP_TMPFS:
                        fprintf(f, "mount: tmpfs on %s  # %s\n", m->dst, m->why);
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
        fprintf(f, "seccomp: %s filter\n", p->seccomp.strict ? "strict" : "default");
        fprintf(f, "fds: close >= 3\n");
        STRV_FOREACH(e, p->envp)
                fprintf(f, "env: %s\n", *e);
        fprintf(f, "exec:");
        STRV_FOREACH(a, p->argv)
                fprintf(f, " %s", *a);
        fputc('\n', f);
}
