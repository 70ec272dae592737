/* Building PEP 405 virtual environments natively: the same tree that
 * `python3 -m venv` makes for the same interpreter, built beside the target
 * and renamed into place so no half-built env is ever visible. */
#pragma once

#include "vrun/verbs/cli.h"
#include "vrun/venv/interp.h"
#include "vrun/venv/pyvenv.h"
#include "vrun/venv/trust.h"

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

/* The steps of venv_find_base: on failure the one that failed, on success
 * where the base came from (VENV_BASE_RECORDED or VENV_BASE_NAMED). */
typedef enum VenvBaseStep {
        VENV_BASE_RECORD,   /* vrun's record of the env cannot be read (trust_check) */
        VENV_BASE_CHANGED,  /* the env no longer agrees with its record (-EPERM) */
        VENV_BASE_RECORDED, /* the recorded base, found on the host (interp_find) */
        VENV_BASE_NAMED,    /* no record: the base pyvenv.cfg names (venv_base_interpreter) */
        VENV_BASE_QUERY,    /* the base found, queried (interp_load) */
} VenvBaseStep;

enum {
        VENV_BASE_ALLOW_CHANGED = 1 << 0,     /* an env that disagrees with its record takes the recorded base */
        VENV_BASE_UNREADABLE_IS_NEW = 1 << 1, /* a record that cannot be read counts as none */
};

typedef struct VenvBase {
        VenvBaseStep step;
        TrustReport record; /* vrun's record of the env (empty when it has none) */
        char *exe;          /* the base interpreter's path */
        InterpInfo *info;   /* exe queried */
} VenvBase;

void venv_base_done(VenvBase *b);

/* The base interpreter of the env at env_abs (opened as env_fd): the one
 * vrun recorded for it, else, for an env vrun has no record of, the one its
 * pyvenv.cfg (cfg) names; found on the host and queried. Fills *ret as far
 * as it got, also on failure (ret->step says where it stopped); the caller
 * logs, and frees it with venv_base_done. */
int venv_find_base(const char *env_abs, int env_fd, const PyvenvCfg *cfg, unsigned flags, VenvBase *ret);
/* Why the interpreter at path (which venv_find_base could not use) cannot
 * run: -errno of access(X_OK), or -ENOENT when it is gone (or path NULL). */
int venv_base_problem(const char *path);
