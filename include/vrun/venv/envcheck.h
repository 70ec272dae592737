/* Checking an env after untrusted code ran in it, without running anything
 * from it (`vrun verify`): every installed file against the hash its
 * RECORD lists, files no RECORD owns in site-packages (.pth files,
 * sitecustomize, ...) and bin/, the activate scripts against what vrun
 * writes, pyvenv.cfg and bin/python* against vrun's record. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define ENVCHECK_FINDINGS_MAX 1000

typedef struct EnvFinding {
        char *path; /* relative to the env ("." for the env itself) */
        char *what;
} EnvFinding;

typedef struct EnvCheck {
        EnvFinding *findings;
        size_t n_findings;
        size_t n_more;    /* findings beyond ENVCHECK_FINDINGS_MAX, not kept */
        char **unchecked; /* files vrun cannot check without running Python: bytecode
                            * no RECORD lists, activate scripts of an env vrun did not make */
        size_t n_files;   /* files checked against their RECORD hash */
        size_t n_dists;   /* distributions (*.dist-info) seen */
        char *base;       /* the recorded base interpreter, NULL without a record */
} EnvCheck;

void envcheck_done(EnvCheck *c);

/* Checks the env at env_abs, opened as env_fd. 0 with the findings (none:
 * the env is as installed), -errno when the check itself failed. */
int envcheck_run(const char *env_abs, int env_fd, EnvCheck *ret);
