/* The executor: the only code that calls clone, mount and seccomp. It runs a
 * Plan in new namespaces, with a small pid 1 that reaps orphans and forwards
 * signals, and returns the exit status vrun should exit with: the payload's,
 * 128+N for signal N, 125 when setup failed (the failing step and errno are
 * logged), 126 when the command cannot be executed, 127 when not found. */
#pragma once

#include "vrun/plan.h"

int sandbox_run(const Plan *p);
