/* The mounts of a run, drafted from the profile, the command line, the env
 * and the interpreter's facts: what is bound, hidden, fresh; what protects
 * the base interpreter; and their order. plan.c lowers them into steps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sandbox/plan-internal.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/path.h"
#include "util/strv.h"

/* src is NULL for the mounts that have none (tmpfs, proc, ...); dst never is. */
static int add_op(MountDrafts *p, DraftKind kind, const char *src, const char *dst, bool ro, bool optional,
                  const char *why) __attribute__((nonnull(1, 4)));
static int add_op(MountDrafts *p, DraftKind kind, const char *src, const char *dst, bool ro, bool optional,
                  const char *why) {
        if (p->n >= PLAN_MAX_MOUNTS)
                return -E2BIG;
        MountDraft *m = realloc(p->v, (p->n + 1) * sizeof *m);
        if (!m)
                return -ENOMEM;
        p->v = m;
        MountDraft *op = &m[p->n];
        *op = (MountDraft){ .kind = kind, .readonly = ro, .optional = optional, .why = why };
        if (src && !(op->src = strdup(src)))
                return -ENOMEM;
        if (!(op->dst = strdup(dst))) {
                free(op->src);
                return -ENOMEM;
        }
        p->n++;
        return 0;
}

static MountDraft *last_op(MountDrafts *p) {
        return &p->v[p->n - 1];
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
static void sort_ops(MountDrafts *p) {
        for (size_t i = 1; i < p->n; i++) {
                MountDraft t = p->v[i];
                size_t d = path_depth(t.dst), j = i;
                while (j > 0 && path_depth(p->v[j - 1].dst) > d) {
                        p->v[j] = p->v[j - 1];
                        j--;
                }
                p->v[j] = t;
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
static int protect_base(MountDrafts *p, const InterpInfo *i, bool minimal_root) {
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
        size_t n = p->n;
        STRV_FOREACH (part, parts) {
                bool covered_by_other_part = false;
                STRV_FOREACH (q, parts)
                        if (q != part && strcmp(*q, *part) != 0 && path_startswith(*part, *q))
                                covered_by_other_part = true;
                if (covered_by_other_part)
                        continue;
                bool need = false, covered_ro = false;
                for (size_t k = 0; k < n; k++) {
                        const MountDraft *m = &p->v[k];
                        bool writable_or_fresh = (m->kind == DRAFT_BIND && !m->readonly && !m->group) ||
                                                 m->kind == DRAFT_TMPFS || m->kind == DRAFT_DEV ||
                                                 m->kind == DRAFT_PROC || m->kind == DRAFT_OVERLAY;
                        if (!path_startswith(*part, m->dst))
                                continue;
                        if (writable_or_fresh)
                                need = true;
                        else if (m->kind == DRAFT_BIND && m->readonly)
                                covered_ro = true;
                }
                if (minimal_root && !covered_ro)
                        need = true;
                if (need && (r = add_op(p, DRAFT_BIND, *part, *part, true, !minimal_root, "base interpreter")) < 0)
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

static int add_minimal_root(MountDrafts *p) {
        int r;
        for (size_t k = 0; k < ELEMENTSOF(minimal_system); k++) {
                if ((r = add_op(p, DRAFT_BIND, minimal_system[k], minimal_system[k], true, true, "system files")) < 0)
                        return r;
                last_op(p)->keep_symlink = true;
        }
        for (size_t k = 0; k < ELEMENTSOF(minimal_etc); k++)
                if ((r = add_op(p, DRAFT_BIND, minimal_etc[k], minimal_etc[k], true, true, "system files")) < 0)
                        return r;
        return 0;
}

int plan_abs_path(const char *cwd, const char *p, char **ret) {
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

static int add_user_binds(const PlanInput *in, MountDrafts *p, const BindSpec *binds, size_t n_binds) {
        int r;
        for (size_t k = 0; k < n_binds; k++) {
                const BindSpec *b = &binds[k];
                const char *opt = b->kind == BIND_TMPFS ? "--tmpfs" : b->kind == BIND_RO ? "--ro-bind" : "--bind";
                if (b->dst[0] != '/' && (b->kind == BIND_TMPFS || strcmp(b->src, b->dst) != 0)) {
                        log_error("%s: destination '%s' must be an absolute path", opt, b->dst);
                        return -EINVAL;
                }
                _cleanup_free_ char *src = NULL, *dst = NULL;
                if (b->src && (r = plan_abs_path(in->cwd, b->src, &src)) < 0)
                        return r;
                if ((r = plan_abs_path(in->cwd, b->dst, &dst)) < 0)
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
                r = add_op(p, b->kind == BIND_TMPFS ? DRAFT_TMPFS : DRAFT_BIND, src, dst, b->kind == BIND_RO, false,
                           opt);
                if (r < 0)
                        return r;
                /* What the user binds in, read-only too, is the program's. */
                last_op(p)->owned = b->kind != BIND_TMPFS;
        }
        return 0;
}

int plan_workdir(const PlanInput *in, char **ret) {
        if (in->opts->chdir)
                return plan_abs_path(in->cwd, in->opts->chdir, ret);
        return (*ret = strdup(in->cwd)) ? 0 : -ENOMEM;
}

bool plan_cwd_hidden(const PlanInput *in, const char *wd) {
        return in->profile->cwd == PROFILE_CWD_HIDDEN && !path_startswith(wd, in->env);
}

void mount_drafts_done(MountDrafts *d) {
        for (size_t k = 0; k < d->n; k++) {
                free(d->v[k].src);
                free(d->v[k].dst);
        }
        free(d->v);
        *d = (MountDrafts){};
}

/* Where a resolver's configuration lives when /etc/resolv.conf links into
 * /run (systemd-resolved, resolvconf, NetworkManager): brought back over
 * the empty /run so that name resolution keeps working. */
static const char *const run_resolv_conf[] = {
        "/run/systemd/resolve/stub-resolv.conf",
        "/run/systemd/resolve/resolv.conf",
        "/run/resolvconf/resolv.conf",
        "/run/NetworkManager/resolv.conf",
};

/* The host's path sockets live under /run (/var/run links there) and in
 * $XDG_RUNTIME_DIR: both covered, so connect() finds nothing of the host.
 * Abstract sockets are Landlock's (plan.c). */
static int hide_host_sockets(const PlanInput *in, MountDrafts *p, bool minimal_root) {
        int r;
        /* A minimal root binds nothing of /run in. */
        if (!minimal_root) {
                if ((r = add_op(p, DRAFT_TMPFS, NULL, "/run", false, false, "hide host sockets")) < 0)
                        return r;
                last_op(p)->size = in->profile->tmp_size;
                for (size_t k = 0; k < ELEMENTSOF(run_resolv_conf); k++)
                        if ((r = add_op(p, DRAFT_BIND, run_resolv_conf[k], run_resolv_conf[k], true, true,
                                        "name resolution")) < 0)
                                return r;
        }
        const char *xdg = plan_env_get(in->environ, "XDG_RUNTIME_DIR");
        _cleanup_free_ char *dir = NULL;
        if (xdg && xdg[0] == '/' && path_normalize(xdg, &dir) >= 0 && strcmp(dir, "/") != 0 &&
            (minimal_root || !path_startswith(dir, "/run")) &&
            (r = add_op(p, DRAFT_HIDE, NULL, dir, true, true, "hide host sockets")) < 0)
                return r;
        return 0;
}

/* A profile file the run can write is bound read-only onto itself, at every
 * path a writable bind shows it: the program must not rewrite (or replace,
 * or remove: a mount point cannot be unlinked) what configures the next run.
 * An ephemeral env's writes vanish at exit: nothing to protect there. */
static int protect_profile_files(MountDrafts *p, const Profile *pr) {
        size_t n = p->n;
        int r;
        STRV_FOREACH (f, pr->files)
                for (size_t k = 0; k < n; k++) {
                        const MountDraft *m = &p->v[k];
                        if (m->kind != DRAFT_BIND || m->readonly || m->group || !path_startswith(*f, m->src))
                                continue;
                        _cleanup_free_ char *dst = path_join(m->dst, *f + strlen(m->src));
                        if (!dst)
                                return -ENOMEM;
                        if ((r = add_op(p, DRAFT_BIND, *f, dst, true, false, "profile file, read-only")) < 0)
                                return r;
                }
        return 0;
}

/* What a writable working directory must not hand over, for the user's
 * next login, git command or use of another env to run: the user's home
 * when the working directory holds it (home; NULL otherwise), a
 * repository's .git or .hg (hooks, config) and another env there stay
 * read-only. A working directory that is the home says so, since writing
 * into it fails. Returns 1 when the working directory itself stays
 * writable, 0 when it does not (it is the home), or -errno. Repositories
 * and envs deeper in the working directory are not looked for
 * (docs/security.md). */
static int protect_in_workdir(MountDrafts *p, const char *wd, const char *home, const char *env) {
        int r;
        if (home) {
                if (strcmp(home, wd) == 0) {
                        log_notice("the working directory is your home, which stays read-only (what a program "
                                   "wrote there would run at your next login; --home rw allows it)");
                        return 0;
                }
                /* Nothing the working directory is for fails here: only the
                 * home, read-only under this profile anyway, stays so. */
                if ((r = add_op(p, DRAFT_BIND, home, home, true, true, "home, read-only in the working directory")) < 0)
                        return r;
        }
        static const char *const vcs[] = { ".git", ".hg" };
        for (size_t k = 0; k < ELEMENTSOF(vcs); k++) {
                _cleanup_free_ char *d = path_join(wd, vcs[k]);
                if (!d)
                        return -ENOMEM;
                if ((r = add_op(p, DRAFT_BIND, d, d, true, true, "repository metadata, read-only (hooks, config)")) < 0)
                        return r;
        }
        /* Another env here (the one an editor or the user activates): what
         * a program wrote into it would run at its next use outside vrun.
         * The usual names, each a directory (not a link) with a pyvenv.cfg
         * now; the run's own env is the run's to write. */
        static const char *const envs[] = { ".venv", "venv", "env", ".env" };
        for (size_t k = 0; k < ELEMENTSOF(envs); k++) {
                _cleanup_free_ char *d = path_join(wd, envs[k]), *cfg = d ? path_join(d, "pyvenv.cfg") : NULL;
                struct stat st;
                if (!cfg)
                        return -ENOMEM;
                if (path_startswith(env, d) || lstat(d, &st) < 0 || !S_ISDIR(st.st_mode) || lstat(cfg, &st) < 0 ||
                    !S_ISREG(st.st_mode))
                        continue;
                if ((r = add_op(p, DRAFT_BIND, d, d, true, true, "another env, read-only")) < 0)
                        return r;
        }
        return 1;
}

int plan_draft_mounts(const PlanInput *in, bool minimal_root, MountDrafts *ret) {
        _cleanup_(mount_drafts_done) MountDrafts drafts = {};
        MountDrafts *p = &drafts;
        const RunOptions *o = in->opts;
        const InterpInfo *i = in->interp;
        const Profile *pr = in->profile;
        ProfileEnvMode env_mode = o->ephemeral ? PROFILE_ENV_EPHEMERAL : pr->env;
        int r;

        if (minimal_root && (r = add_minimal_root(p)) < 0)
                return r;
        if ((r = add_op(p, DRAFT_PROC, NULL, "/proc", false, false, "fresh procfs")) < 0 ||
            (r = add_op(p, DRAFT_DEV, NULL, "/dev", false, false, "minimal /dev")) < 0)
                return r;
        /* Every memory-backed mount a payload can write gets the /tmp limit,
         * or /dev/shm and an empty home would be ways around it. */
        last_op(p)->size = pr->tmp_size;
        if ((r = add_op(p, DRAFT_TMPFS, NULL, "/tmp", false, false, "fresh /tmp")) < 0)
                return r;
        last_op(p)->size = pr->tmp_size;
        bool home_ok = in->home && in->home[0] == '/' && strcmp(in->home, "/") != 0;
        ProfileHome home = o->home > 0 ? (ProfileHome) (o->home - 1) : pr->home;
        if (home == PROFILE_HOME_RW && home_ok) {
                if ((r = add_op(p, DRAFT_BIND, in->home, in->home, false, true, "home, writable (--home rw)")) < 0)
                        return r;
                last_op(p)->owned = true;
        } else if (home == PROFILE_HOME_TMPFS && home_ok) {
                if ((r = add_op(p, DRAFT_TMPFS, NULL, in->home, false, false, "empty home")) < 0)
                        return r;
                last_op(p)->mode = 0700;
                last_op(p)->user_owned = true;
                last_op(p)->size = pr->tmp_size;
        } else if (home_ok && (minimal_root || path_startswith(in->home, "/tmp")) &&
                   !(in->uid == 0 && in->root_host_id && path_startswith(in->home, "/root"))) {
                /* The host's home, read-only, even where a fresh /tmp or
                 * a minimal root would otherwise leave it out. */
                if ((r = add_op(p, DRAFT_BIND, in->home, in->home, true, true, "home")) < 0)
                        return r;
        }
        /* Root's run is an unprivileged uid that cannot enter root's home:
         * an empty one takes its place, where what lives below it (a pyenv
         * interpreter, the env, the working directory) is bound in. A
         * minimal root has no /root to begin with. */
        if (in->uid == 0 && in->root_host_id && !minimal_root &&
            !(home != PROFILE_HOME_HOST && home_ok && strcmp(in->home, "/root") == 0)) {
                if ((r = add_op(p, DRAFT_TMPFS, NULL, "/root", false, false, "root's home, out of reach")) < 0)
                        return r;
                last_op(p)->mode = 0700;
                last_op(p)->user_owned = true;
                last_op(p)->size = pr->tmp_size;
        }

        /* An env made with --system-site-packages asked for the base's
         * packages: they stay visible (info and prove say so). */
        STRV_FOREACH (h, in->system_site_packages ? NULL : i->hide_dirs)
                if ((r = add_op(p, DRAFT_HIDE, NULL, *h, true, true, "hide global packages")) < 0)
                        return r;
        /* vrun trusts its cache (interpreter facts, unpacked wheels): the
         * payload must not be able to read or rewrite it for the next run. */
        if (in->cache_dir && (r = add_op(p, DRAFT_HIDE, NULL, in->cache_dir, true, true, "hide vrun's cache")) < 0)
                return r;
        if (in->state_dir && (r = add_op(p, DRAFT_HIDE, NULL, in->state_dir, true, true, "hide vrun's state")) < 0)
                return r;

        /* The base interpreter itself imports the env's packages: the env's
         * site-packages goes over the first global dir that exists. */
        _cleanup_free_ char *site = NULL;
        if (asprintf(&site, "%s/lib/python%d.%d/site-packages", in->env, i->version_major, i->version_minor) < 0)
                return -ENOMEM;
        int rank = 0;
        STRV_FOREACH (sp, in->system_site_packages ? NULL : i->site_packages) {
                if ((r = add_op(p, DRAFT_BIND, site, *sp, env_mode == PROFILE_ENV_RO, true,
                                "env overlaid on the base")) < 0)
                        return r;
                last_op(p)->owned = true;
                last_op(p)->group = 1;
                last_op(p)->rank = rank++;
        }

        /* The working directory: --chdir DIR's, else the caller's (which
         * --chdir then leaves out). */
        _cleanup_free_ char *wd = NULL;
        if ((r = plan_workdir(in, &wd)) < 0)
                return r;
        bool cwd_in_env = path_startswith(wd, in->env);
        bool cwd_hidden = pr->cwd == PROFILE_CWD_HIDDEN;
        /* Started in $HOME, an empty home stays empty: binding the working
         * directory would bring the real one back. */
        bool cwd_is_empty_home = home == PROFILE_HOME_TMPFS && home_ok && strcmp(wd, in->home) == 0;
        if (!cwd_in_env && !cwd_hidden && !cwd_is_empty_home && !cwd_inside_hidden(wd, i) && strcmp(wd, "/") != 0) {
                /* Bound even when read-only: /tmp or an empty home would cover it. */
                bool protected = cwd_is_protected(wd, i);
                /* The home holds what the user's next login, shell, git or
                 * pip runs (startup files, ~/.ssh, ~/.local/bin, pip.conf,
                 * caches): a writable working directory at or above it
                 * would hand all of that to the program for later. The
                 * home stays read-only there, as everywhere, unless --home
                 * rw asked otherwise. */
                bool holds_home = home == PROFILE_HOME_HOST && home_ok && path_startswith(in->home, wd);
                bool writable = pr->cwd == PROFILE_CWD_RW && !protected;
                if (writable && (r = protect_in_workdir(p, wd, holds_home ? in->home : NULL, in->env)) < 0)
                        return r;
                if (writable)
                        writable = r > 0;
                if (pr->cwd == PROFILE_CWD_EPHEMERAL && !protected) {
                        if ((r = add_op(p, DRAFT_OVERLAY, wd, wd, false, false,
                                        o->chdir ? "--chdir directory, ephemeral" : "working directory, ephemeral")) <
                            0)
                                return r;
                        last_op(p)->size = pr->tmp_size;
                } else if ((r = add_op(p, DRAFT_BIND, wd, wd, !writable, false,
                                       o->chdir ? "--chdir directory" : "working directory")) < 0)
                        return r;
                last_op(p)->owned = true;
        } else if (cwd_hidden && !cwd_in_env && !minimal_root && strcmp(wd, "/") != 0) {
                if ((r = add_op(p, DRAFT_HIDE, NULL, wd, true, false, "hidden working directory")) < 0)
                        return r;
        }
        if (env_mode == PROFILE_ENV_EPHEMERAL) {
                r = add_op(p, DRAFT_OVERLAY, in->env, in->env, false, false, "env, ephemeral");
                if (r >= 0)
                        last_op(p)->size = pr->tmp_size;
        } else
                r = add_op(p, DRAFT_BIND, in->env, in->env, env_mode == PROFILE_ENV_RO, false, "env");
        if (r < 0)
                return r;
        last_op(p)->owned = true;
        if (pr->host_sockets == PROFILE_SOCKETS_HIDDEN && (r = hide_host_sockets(in, p, minimal_root)) < 0)
                return r;
        if ((r = add_user_binds(in, p, pr->binds, pr->n_binds)) < 0 ||
            (r = add_user_binds(in, p, o->binds, o->n_binds)) < 0)
                return r;
        /* The hostname resolves, as it does on a host. */
        if (in->hosts_file &&
            (r = add_op(p, DRAFT_BIND, in->hosts_file, "/etc/hosts", true, true, "/etc/hosts with the hostname")) < 0)
                return r;
        /* The terminal where ttyname() finds it, as bubblewrap does: the new
         * devpts does not hold the caller's pty. */
        if (in->tty && (r = add_op(p, DRAFT_BIND, in->tty, "/dev/console", false, true, "the terminal")) < 0)
                return r;
        if ((r = protect_base(p, i, minimal_root)) < 0)
                return r;
        if ((r = protect_profile_files(p, pr)) < 0)
                return r;
        sort_ops(p);

        *ret = TAKE_STRUCT(drafts);
        return 0;
}
