/* The executor: the only code that calls clone, mount and seccomp. It runs a
 * Plan in new namespaces, with a small pid 1 that reaps orphans and forwards
 * signals, and returns the exit status vrun should exit with: the payload's,
 * 128+N for signal N, 125 when setup failed (the failing step and errno are
 * logged), 126 when the command cannot be executed, 127 when not found. */
#pragma once

#include "vrun/sandbox/plan.h"

int sandbox_run(const Plan *p);

/* The same, with the payload's stdout connected to stdout_fd instead of
 * vrun's: how `vrun prove` reads its probe's report. The plan is unchanged;
 * vrun does not read stdout_fd while the payload runs, so a pipe must be
 * large enough for what the payload writes. */
int sandbox_run_with_stdout(const Plan *p, int stdout_fd);
