/* The plan of every built-in profile across layouts, built from synthetic
 * inputs (planning makes no syscall, so none of these paths need exist) and
 * printed, against golden files; and what must hold of any plan: the parent,
 * pid 1 and payload steps in order, every mount of a capture after it, no
 * variable that decides where Python finds code.
 *
 * Usage: test-plan GOLDEN_DIR. With VRUN_UPDATE_GOLDEN=1 the golden files are
 * rewritten: VRUN_UPDATE_GOLDEN=1 meson test -C build test-plan */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strv.h"
#include "vrun/sandbox/idmap.h"
#include "vrun/sandbox/plan.h"
#include "vrun/sandbox/profile.h"

/* A Debian python3.11 under /usr, and a pyenv build under a home dir. */
static char *usr_stdlib[] = { "/usr/lib/python3.11", "/usr/lib/python3.11/lib-dynload", NULL };
static char *usr_site[] = { "/usr/local/lib/python3.11/dist-packages", "/usr/lib/python3/dist-packages",
                            "/usr/lib/python3.11/dist-packages", NULL };
static char *usr_hide[] = { "/usr/local/lib/python3.11/dist-packages", "/usr/lib/python3/dist-packages",
                            "/usr/lib/python3.11/dist-packages", "/home/u/.local/lib/python3.11/site-packages", NULL };
static const InterpInfo usr_interp = {
        .executable = (char *) "/usr/bin/python3.11",
        .version = (char *) "3.11.2",
        .version_major = 3,
        .version_minor = 11,
        .implementation = (char *) "cpython",
        .prefix = (char *) "/usr",
        .exec_prefix = (char *) "/usr",
        .is_64bit = true,
        .stdlib_dirs = usr_stdlib,
        .site_packages = usr_site,
        .hide_dirs = usr_hide,
};

#define PYENV "/home/u/.pyenv/versions/3.12.1"
static char *pyenv_stdlib[] = { PYENV "/lib/python3.12", PYENV "/lib/python3.12/lib-dynload", NULL };
static char *pyenv_site[] = { PYENV "/lib/python3.12/site-packages", NULL };
static char *pyenv_hide[] = { PYENV "/lib/python3.12/site-packages", "/home/u/.local/lib/python3.12/site-packages",
                              NULL };
static const InterpInfo pyenv_interp = {
        .executable = (char *) PYENV "/bin/python3.12",
        .version = (char *) "3.12.1",
        .version_major = 3,
        .version_minor = 12,
        .implementation = (char *) "cpython",
        .prefix = (char *) PYENV,
        .exec_prefix = (char *) PYENV,
        .is_64bit = true,
        .stdlib_dirs = pyenv_stdlib,
        .site_packages = pyenv_site,
        .hide_dirs = pyenv_hide,
};

static char *environ_user[] = { "HOME=/home/u",     "PATH=/usr/local/bin:/usr/bin:/bin",
                                "LANG=C.UTF-8",     "PYTHONPATH=/home/u/evil",
                                "PYTHONHOME=/nope", "SHELL=/bin/bash",
                                "TERM=xterm",       "SSH_AUTH_SOCK=/run/user/1000/ssh",
                                "PIP_INDEX_URL=x",  NULL };
static char *environ_root[] = { "HOME=/root", "PATH=/usr/sbin:/usr/bin", "SHELL=/bin/sh", NULL };

static char *argv_python[] = { "python", "app.py", NULL };
static char *setenv_binds[] = { "FOO=bar", NULL };
static char *unsetenv_binds[] = { "LANG", NULL };
static BindSpec binds[] = {
        { BIND_RW, (char *) "/data", (char *) "/mnt/data" },
        { BIND_RO, (char *) "/srv/ro", (char *) "/srv/ro" },
        { BIND_TMPFS, NULL, (char *) "/scratch" },
};

typedef struct Layout {
        const char *name;
        const InterpInfo *interp;
        const char *env, *cwd, *home;
        char **environ;
        uid_t uid;
        RunOptions opts;
} Layout;

static const Layout layouts[] = {
        { "usr", &usr_interp, "/home/u/proj/env", "/home/u/proj", "/home/u", environ_user, 1000, { .share_net = -1 } },
        { "home-base",
          &pyenv_interp,
          "/home/u/proj/env",
          "/home/u/proj",
          "/home/u",
          environ_user,
          1000,
          { .share_net = -1 } },
        { "cwd-in-env",
          &usr_interp,
          "/home/u/proj/env",
          "/home/u/proj/env/src",
          "/home/u",
          environ_user,
          1000,
          { .share_net = -1 } },
        { "binds",
          &usr_interp,
          "/home/u/proj/env",
          "/home/u/proj",
          "/home/u",
          environ_user,
          1000,
          { .binds = binds,
            .n_binds = ELEMENTSOF(binds),
            .setenv = setenv_binds,
            .unsetenv = unsetenv_binds,
            .chdir = "sub",
            .share_net = 1 } },
        { "ephemeral",
          &usr_interp,
          "/home/u/proj/env",
          "/home/u/proj",
          "/home/u",
          environ_user,
          1000,
          { .ephemeral = true, .share_net = 0, .foreground_job = true } },
        { "root", &usr_interp, "/root/env", "/root", "/root", environ_root, 0, { .share_net = -1 } },
        /* Started in the home and above it: the home stays read-only. */
        { "cwd-home", &usr_interp, "/home/u/proj/env", "/home/u", "/home/u", environ_user, 1000, { .share_net = -1 } },
        { "cwd-above-home",
          &usr_interp,
          "/home/u/proj/env",
          "/home",
          "/home/u",
          environ_user,
          1000,
          { .share_net = -1 } },
};

static int print_to_string(const Plan *p, char **ret) {
        size_t size = 0;
        FILE *f = open_memstream(ret, &size);
        if (!f)
                return -errno;
        plan_print(p, f);
        return fclose(f) == 0 ? 0 : -EIO;
}

static void check_golden(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s.txt", dir, name) < 0)
                path = NULL;
        CHECK(path);
        if (path)
                check_golden_text(path, text, "test-plan");
}

/* What holds of every plan, whatever the profile. */
static void check_invariants(const char *name, const Plan *p) {
        size_t ns = p->n_steps, spawn = p->n_steps;
        bool seen_capture[4096] = {};
        int last_kind = -1;
        for (size_t k = 0; k < p->n_steps; k++) {
                const Step *s = &p->steps[k];
                if (s->kind == STEP_NAMESPACES)
                        ns = k;
                if (s->kind == STEP_SPAWN)
                        spawn = k;
                /* Steps come in the order of their kinds, but mounts and
                 * captures, which repeat. */
                if ((int) s->kind < last_kind) {
                        fprintf(stderr, "# %s: step %zu (kind %d) after kind %d\n", name, k, (int) s->kind, last_kind);
                        CHECK((int) s->kind >= last_kind);
                }
                last_kind = (int) s->kind;
                if (s->kind == STEP_CAPTURE) {
                        CHECK(s->capture.slot >= 0 && (size_t) s->capture.slot < p->n_slots);
                        if (s->capture.src.slot >= 0)
                                CHECK(seen_capture[s->capture.src.slot]);
                        seen_capture[s->capture.slot] = true;
                }
                if (s->kind == STEP_MOUNT) {
                        CHECK(s->mount.dsts && s->mount.dsts[0]);
                        if (s->mount.kind == MOUNT_CAPTURED)
                                CHECK(seen_capture[s->mount.slot]);
                }
                if (s->kind == STEP_ENV)
                        STRV_FOREACH (e, s->env.envp)
                                CHECK(strncmp(*e, "PYTHONPATH=", 11) != 0 && strncmp(*e, "PYTHONHOME=", 11) != 0);
        }
        CHECK(ns < spawn && spawn < p->n_steps);
        CHECK(p->steps[p->n_steps - 1].kind == STEP_EXEC);
        CHECK(plan_find(p, STEP_SECCOMP) && plan_find(p, STEP_CAPS) && plan_find(p, STEP_ID_MAP));
}

static void check_plan(const char *dir, const char *profile, const Layout *l) {
        _cleanup_(profile_freep) Profile *pr = NULL;
        CHECK_INTEQ(profile_load(profile, &pr), 0);
        if (!pr)
                return;
        PlanInput in = {
                .env = l->env,
                .interp = l->interp,
                .cwd = l->cwd,
                .cache_dir = l->uid == 0 ? "/root/.cache/vrun" : "/home/u/.cache/vrun",
                .state_dir = l->uid == 0 ? "/root/.local/state/vrun" : "/home/u/.local/state/vrun",
                .opts = &l->opts,
                .profile = pr,
                .home = l->home,
                .argv = argv_python,
                .environ = l->environ,
                .uid = l->uid,
                .gid = l->uid,
                .root_host_id = l->uid == 0 ? IDMAP_FALLBACK_BASE : 0, /* the host's root */
        };
        _cleanup_(plan_freep) Plan *p = NULL;
        CHECK_INTEQ(plan_build(&in, &p), 0);
        if (!p)
                return;
        _cleanup_free_ char *name = NULL, *text = NULL;
        if (asprintf(&name, "%s-%s", profile, l->name) < 0)
                return;
        check_invariants(name, p);
        CHECK_INTEQ(print_to_string(p, &text), 0);
        if (text)
                check_golden(dir, name, text);
}

/* The input checks of plan_build: usage errors, not plans. */
static void check_usage_errors(void) {
        _cleanup_(profile_freep) Profile *pr = NULL;
        CHECK_INTEQ(profile_load("default", &pr), 0);
        if (!pr)
                return;
        BindSpec bad[] = {
                { BIND_RW, (char *) "/data", (char *) "relative/dst" },
                { BIND_TMPFS, NULL, (char *) "/" },
        };
        for (size_t k = 0; k < ELEMENTSOF(bad); k++) {
                RunOptions o = { .binds = &bad[k], .n_binds = 1, .share_net = -1 };
                PlanInput in = { .env = "/e",
                                 .interp = &usr_interp,
                                 .cwd = "/w",
                                 .opts = &o,
                                 .profile = pr,
                                 .environ = environ_user,
                                 .uid = 1000,
                                 .gid = 1000 };
                _cleanup_(plan_freep) Plan *p = NULL;
                CHECK_INTEQ(plan_build(&in, &p), -EINVAL);
                CHECK(!p);
        }
}

int main(int argc, char **argv) {
        const char *dir = argc > 1 ? argv[1] : getenv("VRUN_GOLDEN_DIR");
        if (!dir) {
                fprintf(stderr, "usage: %s GOLDEN_DIR\n", argv[0]);
                return 2;
        }
        for (const char *const *n = profile_builtin_names(); *n; n++)
                for (size_t k = 0; k < ELEMENTSOF(layouts); k++)
                        check_plan(dir, *n, &layouts[k]);
        check_usage_errors();
        return tap_finish();
}
