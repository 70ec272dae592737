/* Building PEP 405 virtual environments natively: the same tree that
 * `python3 -m venv` makes for the same interpreter, built beside the target
 * and renamed into place so no half-built env is ever visible. */
#pragma once

#include "vrun/verbs/cli.h"
#include "vrun/venv/interp.h"
#include "vrun/venv/pyvenv.h"

/* Creates (or with --clear replaces, with --upgrade refreshes) the venv at
 * env. Logs its own errors (each names the env and what to do) and returns
 * -errno. command is recorded as pyvenv.cfg's `command`. */
int venv_create(const char *env, const CreateOptions *o, const char *command);

/* Finds and queries the interpreter spec names (NULL: python3); logs what
 * is wrong with it. */
int venv_load_interp(const char *spec, InterpInfo **ret);

/* True when dir holds a pyvenv.cfg. */
int venv_exists(const char *env_abs);

/* The real path of the base interpreter of the env at env_abs (made by
 * vrun, venv or virtualenv). -ENOENT when it is gone, -EPERM when it lies
 * inside the env. */
int venv_base_interpreter(const char *env_abs, const PyvenvCfg *cfg, char **ret);
