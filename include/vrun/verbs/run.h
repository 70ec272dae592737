/* The run verb: find or create the env, learn its base interpreter, build
 * the plan, hand it to the sandbox. */
#pragma once

#include "vrun/verbs/cli.h"
#include "vrun/venv/interp.h"
#include "vrun/sandbox/plan.h"
#include "vrun/sandbox/profile.h"

/* What to do when ENV does not exist: fail, create it, or (--dry-run) say on
 * stdout that it would be created and go on with the interpreter a create
 * would use. */
typedef enum EnvMissing { ENV_MUST_EXIST, ENV_CREATE, ENV_DRY_RUN } EnvMissing;

/* Resolves ENV to an absolute path, the facts of its base interpreter and
 * whether it asks for the base's packages (ret_system_site may be NULL).
 * Logs and returns -errno. */
int run_load_env(const char *env, const CreateOptions *create_opts, EnvMissing missing, char **ret_env_abs,
                 InterpInfo **ret_interp, bool *ret_system_site);

/* What a plan was built from, kept for verbs that build on run's plan
 * (prove checks the very configuration a run would get). */
typedef struct RunContext {
        char *env; /* absolute path of the venv */
        char *cwd;
        char *cache_dir;           /* vrun's cache, hidden inside; may be NULL */
        char *state_dir;           /* vrun's records of envs, hidden inside; may be NULL */
        char *hosts_file;          /* /etc/hosts with the sandbox's hostname, in the cache; may be NULL */
        char *tty;                 /* the caller's terminal; may be NULL */
        bool system_site_packages; /* the env asks for the base's packages (pyvenv.cfg) */
        InterpInfo *interp;
        Profile *profile;
} RunContext;

void run_context_done(RunContext *ctx);

/* Everything `vrun run` does before it executes: loads the profile of
 * c->run, finds ENV (see EnvMissing) and its base
 * interpreter's facts, and builds the plan for argv (NULL or empty: the
 * default command). Logs. Returns 0, -EINVAL for a usage error (a bad
 * profile or option), or another -errno when vrun failed. */
int run_build_plan(const Cli *c, char *const *argv, EnvMissing missing, RunContext *ret_ctx, Plan **ret_plan);

/* vrun run: the payload's exit status, or one of vrun/exit.h. */
int run_main(const Cli *c);
