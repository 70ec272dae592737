/* What the three sides of the executor share: the parent (sandbox.c), pid 1
 * (exec-pid1.c) and the payload (exec-payload.c). */
#pragma once

#include <sched.h>
#include <signal.h>
#include <stddef.h>

#include "vrun/sandbox/exec.h"
#include "vrun/sandbox/plan.h"

/* What pid 1 or the payload tells the parent when a step fails: which
 * step, which errno, and the exit status vrun should return. Smaller than
 * PIPE_BUF, so one write is atomic. */
typedef struct Report {
        int err;
        int exit_status;
        char step[500];
} Report;

void exec_report(int fd, int err, int exit_status, const char *step);

extern const int exec_forwarded_signals[6];

/* One run, as the parent prepared it before the clone. pid 1 and the
 * payload (which shares pid 1's memory until it execs) only read it. */
typedef struct ExecRun {
        const Plan *plan;
        size_t pid1_first;  /* index of pid 1's first step (after STEP_NAMESPACES) */
        int report_fd;      /* write end: Report on failure, EOF once the payload has exec'd */
        int alive_fd;       /* read end: EOF when vrun is gone */
        int status_fd;      /* write end: the payload's exit status, from pid 1 */
        int foreground_tty; /* the terminal (0-2) whose foreground group was vrun's, or -1 */
        int payload_stdout; /* the payload's stdout when not vrun's own, or -1 */
        cpu_set_t affinity; /* the CPUs vrun was started with, for the payload */
        ExecCtx *ctx;       /* the slots: vrun's captures (root's run) are inherited with it */
} ExecRun;

/* pid 1: runs its steps, spawns the payload, reaps, exits with its status. */
_Noreturn void exec_pid1(const ExecRun *run);

/* The payload: runs the steps after STEP_SPAWN, ending in execve. Runs on
 * its own stack in a CLONE_VM|CLONE_VFORK child of pid 1. */
int exec_payload(void *run);
