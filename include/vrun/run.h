/* The run verb: find or create the env, learn its base interpreter, build
 * the plan, hand it to the sandbox. */
#pragma once

#include "vrun/cli.h"
#include "vrun/interp.h"

/* Resolves ENV to an absolute path and the facts of its base interpreter,
 * creating ENV first when it does not exist and create is true. Logs and
 * returns -errno. */
int run_load_env(const char *env, const CreateOptions *create_opts, bool create, char **ret_env_abs,
                 InterpInfo **ret_interp);

/* Returns the exit status for main. */
int run_main(const Cli *c);
