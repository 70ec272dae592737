/* The executor: the only code that calls clone, mount and seccomp. It runs a
 * Plan in new namespaces, with a small pid 1 that reaps orphans and forwards
 * signals. Returns -errno when vrun failed (before the clone or in a step of
 * the setup; logged, with the step), else the payload's status (see
 * vrun/exit.h): its own, 128+N for signal N, EXIT_TIMEOUT,
 * EXIT_CANNOT_EXEC or EXIT_NOT_FOUND (logged). */
#pragma once

#include "vrun/sandbox/plan.h"

int sandbox_run(const Plan *p);

/* The same, with the payload's stdout connected to stdout_fd instead of
 * vrun's: how `vrun prove` reads its probe's report. The plan is unchanged;
 * vrun does not read stdout_fd while the payload runs, so a pipe must be
 * large enough for what the payload writes. */
int sandbox_run_with_stdout(const Plan *p, int stdout_fd);
