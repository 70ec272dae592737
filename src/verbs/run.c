#include "vrun/verbs/run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/log.h"
#include "vrun/sandbox/idmap.h"
#include "vrun/sandbox/plan.h"
#include "vrun/sandbox/profile.h"
#include "vrun/venv/pyvenv.h"
#include "vrun/sandbox/sandbox.h"
#include "vrun/venv/trust.h"
#include "vrun/venv/venv.h"
#include "vrun/exit.h"
#include "vrun/verbs/streams.h"

extern char **environ;

/* Why venv_find_base found no base interpreter for ENV, logged; r. */
static int log_base_problem(const char *env, const PyvenvCfg *cfg, const VenvBase *base, int r) {
        const char *recorded = base->record.base;
        switch (base->step) {
        case VENV_BASE_RECORD:
                return log_error_errno(r,
                                       "cannot read vrun's record of venv '%s': %m (re-record it with "
                                       "'vrun create --upgrade %s')",
                                       env, env);
        case VENV_BASE_CHANGED:
                return log_error_errno(r,
                                       "refusing venv '%s': it no longer agrees with vrun's record of its base "
                                       "interpreter: %s (a program run in it may have done this; "
                                       "'vrun create --upgrade %s' restores it for the recorded base and "
                                       "trusts it again)",
                                       env, base->record.changes[0], env);
        case VENV_BASE_RECORDED:
                if ((r = venv_base_problem(recorded)) != -ENOENT)
                        return log_error_errno(r, "cannot use the base interpreter %s of venv '%s': %m", recorded, env);
                return log_error_errno(r,
                                       "the base interpreter of venv '%s' (%s) is gone; rebuild the venv "
                                       "with 'vrun create --upgrade --python PY %s'",
                                       env, recorded, env);
        case VENV_BASE_NAMED: {
                /* First use of an env vrun did not make (python -m venv,
                 * virtualenv, an older vrun), trusted as it is now. */
                if (r == -EPERM)
                        return log_error_errno(r,
                                               "venv '%s' names an interpreter inside itself as its base; "
                                               "refusing to run it outside the sandbox (rebuild the venv with "
                                               "'vrun create --clear')",
                                               env);
                _cleanup_free_ char *home_py = cfg->home ? path_join(cfg->home, "python3") : NULL;
                const char *named = cfg->executable ? cfg->executable : home_py;
                if ((r = venv_base_problem(named)) != -ENOENT)
                        return log_error_errno(r, "cannot use the base interpreter %s of venv '%s': %m", named, env);
                return log_error_errno(r,
                                       "the base interpreter of venv '%s' is gone (pyvenv.cfg names %s); "
                                       "rebuild it with 'vrun create --upgrade --python PY %s'",
                                       env,
                                       cfg->executable ? cfg->executable
                                       : cfg->home     ? cfg->home
                                                       : "nothing",
                                       env);
        }
        case VENV_BASE_QUERY: break;
        }
        return log_error_errno(r, "cannot query the base interpreter %s of venv '%s': %m", base->exe, env);
}

int run_load_env(const char *env, const CreateOptions *create_opts, EnvMissing missing, char **ret_env_abs,
                 InterpInfo **ret_interp, bool *ret_system_site) {
        _cleanup_free_ char *abs = NULL;
        int r = path_make_absolute(env, &abs);
        if (r < 0)
                return log_error_errno(r, "bad ENV '%s': %m", env);

        struct stat st;
        if (stat(abs, &st) < 0) {
                if (errno != ENOENT)
                        return log_error_errno(errno, "cannot use venv '%s': %m", env);
                if (missing == ENV_MUST_EXIST)
                        return log_error_errno(ENOENT, "venv '%s' does not exist (create it with 'vrun create %s')",
                                               env, env);
                if (missing == ENV_DRY_RUN) {
                        /* What the run would create, with the interpreter it would use. */
                        InterpInfo *i = NULL;
                        r = venv_load_interp(create_opts->python, &i);
                        if (r < 0)
                                return r;
                        printf("would create: venv %s with %s (Python %s), as it does not exist\n", abs, i->executable,
                               i->version);
                        *ret_env_abs = TAKE_PTR(abs);
                        *ret_interp = i;
                        if (ret_system_site)
                                *ret_system_site = create_opts->system_site_packages;
                        return 0;
                }
                _cleanup_free_ char *cmd = NULL;
                if (asprintf(&cmd, "vrun create %s", abs) < 0)
                        return log_error_errno(ENOMEM, "out of memory");
                /* Never silent: a mistyped name becomes an env. */
                log_notice("venv '%s' does not exist: creating it%s%s", env,
                           create_opts->python ? " with --python " : "",
                           create_opts->python ? create_opts->python : "");
                r = venv_create(abs, create_opts, cmd);
                if (r < 0)
                        return r;
        } else if (!S_ISDIR(st.st_mode))
                return log_error_errno(ENOTDIR, "cannot use '%s' as a venv: it is not a directory", env);

        _cleanup_close_ int fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "cannot open venv '%s': %m", env);
        /* Resolved once, here, before anything runs: a symlink the user
         * typed leads to the env, and from now on the env is its real path
         * (which the executor opens again following no symlink). */
        _cleanup_free_ char *real = NULL;
        if ((r = fd_get_path(fd, &real)) < 0)
                return log_error_errno(r, "cannot resolve venv '%s': %m", env);
        free(abs);
        abs = TAKE_PTR(real);
        _cleanup_pyvenv_cfg_ PyvenvCfg *cfg = NULL;
        r = pyvenv_cfg_read_at(fd, "pyvenv.cfg", &cfg);
        if (r == -ENOENT)
                return log_error_errno(r,
                                       "'%s' is not a venv (it has no pyvenv.cfg; create one with "
                                       "'vrun create' or choose another directory)",
                                       env);
        if (r < 0)
                return log_error_errno(r, "cannot read %s/pyvenv.cfg: %m", abs);

        /* vrun's record decides the base interpreter; the env (which any
         * program run in it could rewrite) only has to agree with it. */
        _cleanup_(venv_base_done) VenvBase base = {};
        r = venv_find_base(abs, fd, cfg, 0, &base);
        if (r < 0)
                return log_base_problem(env, cfg, &base, r);
        bool first_use = base.step == VENV_BASE_NAMED;
        InterpInfo *i = TAKE_PTR(base.info);
        if (first_use && (r = trust_record(abs, fd, i, false)) < 0)
                log_warning_errno(r,
                                  "cannot record venv '%s' in vrun's state: %m (it is trusted as it is again "
                                  "next time)",
                                  env);
        *ret_env_abs = TAKE_PTR(abs);
        *ret_interp = i;
        if (ret_system_site)
                *ret_system_site = cfg->include_system_site_packages;
        return 0;
}

void run_context_done(RunContext *ctx) {
        free(ctx->env);
        free(ctx->cwd);
        free(ctx->cache_dir);
        free(ctx->state_dir);
        free(ctx->hosts_file);
        free(ctx->tty);
        interp_info_free(ctx->interp);
        profile_free(ctx->profile);
        *ctx = (RunContext){};
}

/* A copy of /etc/hosts in vrun's cache with a line for the sandbox's
 * hostname, so that it resolves inside; rewritten only when it changes.
 * Best effort: without it the hostname just does not resolve. */
static int hosts_with_hostname(const char *cache_dir, const char *hostname, char **ret) {
        _cleanup_free_ char *hosts = NULL, *text = NULL, *old = NULL, *name = NULL, *path = NULL;
        size_t n = 0;
        int r = read_full_file_at(AT_FDCWD, "/etc/hosts", 1024 * 1024, &hosts, &n);
        if (r < 0 && r != -ENOENT)
                return r;
        if (asprintf(&text, "%s%s127.0.1.1\t%s\n", hosts ? hosts : "", hosts && n && hosts[n - 1] != '\n' ? "\n" : "",
                     hostname) < 0 ||
            asprintf(&name, "hosts-%s", hostname) < 0 || !(path = path_join(cache_dir, name)))
                return -ENOMEM;
        if (read_full_file_at(AT_FDCWD, path, 2 * 1024 * 1024, &old, NULL) < 0 || strcmp(old, text) != 0) {
                if ((r = mkdir_p(cache_dir, 0700)) < 0 ||
                    (r = write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0644)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(path);
        return 0;
}

int run_build_plan(const Cli *c, char *const *argv, EnvMissing missing, RunContext *ret_ctx, Plan **ret_plan) {
        _cleanup_(run_context_done) RunContext ctx = {};
        if (!(ctx.cwd = getcwd(NULL, 0)))
                return log_error_errno(errno == EINVAL ? EIO : errno, "cannot determine the working directory: %m");
        int r = profile_load(c->run.profile ? c->run.profile : "default", &ctx.profile);
        /* profile_load has said what is wrong: a bad or unknown profile is a
         * usage error. */
        if (r == -EINVAL || r == -ENOENT || r == -EISDIR || r == -EBADMSG || r == -E2BIG || r == -ELOOP)
                return -EINVAL;
        if (r < 0)
                return r;
        /* The host network with only unix sockets allowed would be a network
         * nothing can use: --share-net asks for the network, so the inet
         * families come with it, and vrun says so. */
        Profile *pr = ctx.profile;
        if (c->run.share_net == 1 && pr->seccomp_strict && pr->socket_families &&
            !strv_contains(pr->socket_families, "inet") && !strv_contains(pr->socket_families, "inet6")) {
                log_notice("--share-net: profile '%s' allows only unix sockets; inet and inet6 sockets are "
                           "allowed too for this run, or the host network would be unusable",
                           pr->name);
                if ((r = strv_extend(&pr->socket_families, "inet")) < 0 ||
                    (r = strv_extend(&pr->socket_families, "inet6")) < 0)
                        return log_error_errno(r, "out of memory");
        }

        r = run_load_env(c->env, &c->create, missing, &ctx.env, &ctx.interp, &ctx.system_site_packages);
        /* Logged; only the checks of the user's input say -EINVAL. */
        if (r < 0)
                return r == -EINVAL ? -EIO : r;

        (void) vrun_cache_dir(&ctx.cache_dir);
        (void) vrun_state_dir(&ctx.state_dir);
        if (ctx.cache_dir)
                (void) hosts_with_hostname(ctx.cache_dir, pr->hostname ? pr->hostname : "vrun", &ctx.hosts_file);
        for (int fd = STDIN_FILENO; fd <= STDERR_FILENO && !ctx.tty; fd++)
                if (isatty(fd) && ttyname(fd))
                        ctx.tty = strdup(ttyname(fd));
        PlanInput in = {
                .env = ctx.env,
                .interp = ctx.interp,
                .cwd = ctx.cwd,
                .cache_dir = ctx.cache_dir,
                .state_dir = ctx.state_dir,
                .profile = ctx.profile,
                .home = getenv("HOME"),
                .opts = &c->run,
                .argv = argv,
                .environ = environ,
                .uid = geteuid(),
                .gid = getegid(),
                .system_site_packages = ctx.system_site_packages,
                .hosts_file = ctx.hosts_file,
                .tty = ctx.tty,
        };
        if (idmap_is_host_root())
                (void) idmap_pick_host_id(&in.root_host_id);
        r = plan_build(&in, ret_plan);
        if (r < 0 && r != -EINVAL)
                return log_error_errno(r, "cannot plan the sandbox: %m");
        if (r < 0)
                return r;
        *ret_ctx = TAKE_STRUCT(ctx);
        return 0;
}

int run_main(const Cli *c) {
        if (c->run.verbose)
                log_set_max_level(LOG_LEVEL_INFO);

        _cleanup_(run_context_done) RunContext ctx = {};
        _cleanup_(plan_freep) Plan *plan = NULL;
        int r = run_build_plan(c, c->argv, c->run.dry_run ? ENV_DRY_RUN : ENV_CREATE, &ctx, &plan);
        if (r < 0)
                return exit_status_from_error(r, EXIT_SETUP);
        if (c->run.dry_run) {
                plan_print(plan, stdout);
                return EXIT_SUCCESS;
        }
        if (c->run.verbose)
                plan_print(plan, stderr);
        _cleanup_(streams_guard_end) StreamsGuard streams = STREAMS_GUARD_INIT;
        if (streams_guard_begin(1u << 0 | 1u << 1 | 1u << 2, plan, &streams) < 0)
                return EXIT_SETUP;
        r = sandbox_run(plan);
        return r < 0 ? EXIT_SETUP : r;
}
