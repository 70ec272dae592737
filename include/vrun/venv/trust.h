/* vrun's own record of what each env was made with: the base interpreter
 * (path and identity), what pyvenv.cfg and bin/python* said. It lives in
 * vrun's state dir, which every sandbox has masked, so nothing a sandboxed
 * program writes can change which interpreter vrun uses for an env: the env
 * itself is data, the record is the authority. */
#pragma once

#include <stdbool.h>

#include "vrun/venv/interp.h"

/* ${XDG_STATE_HOME:-$HOME/.local/state}/vrun */
int vrun_state_dir(char **ret);

/* Records the env at env_abs, opened as env_fd, as made on the base i
 * (created: by vrun, which wrote its scripts; else first seen): filed under
 * the path env_fd resolves to and, when it differs, under env_abs too.
 * Creates the state dir. Replaces an older record. */
int trust_record(const char *env_abs, int env_fd, const InterpInfo *i, bool created);

typedef struct TrustReport {
        char *base;         /* the recorded base interpreter */
        char *made_as;      /* the env's path when it was recorded (its scripts name it) */
        bool created;       /* vrun made the env (and wrote its activate scripts) */
        char **changes;     /* what no longer agrees with the record, one phrase each
                              * ("pyvenv.cfg names executable X, vrun recorded Y") */
        char *base_changed; /* the base itself differs from its recorded identity
                              * (upgraded in place): a note, not a refusal */
} TrustReport;

void trust_report_done(TrustReport *r);

/* Compares the env at env_abs (opened as env_fd) with its record. 0 and a
 * report (changes empty when it agrees), -ENOENT when vrun has no record of
 * it, other -errno when the record cannot be read. */
int trust_check(const char *env_abs, int env_fd, TrustReport *ret);

/* The names venv, virtualenv and vrun give the interpreter in bin/
 * (python, python3, python3.N): what the record covers there. */
bool trust_is_interpreter_name(const char *name);
