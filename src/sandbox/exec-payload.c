/* The payload's side of the executor: from the fork by pid 1 to execve.
 * It runs on its own stack in a CLONE_VM|CLONE_VFORK child: it may touch
 * nothing of pid 1's memory but read the plan, and it ends in execve or
 * _exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/exec-internal.h"
#include "util/cleanup.h"
#include "util/path.h"
#include "vrun/exit.h"

static _Noreturn void fail(const ExecRun *run, int err, int status, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static _Noreturn void fail(const ExecRun *run, int err, int status, const char *fmt, ...) {
        char step[sizeof(((Report *) NULL)->step)];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(step, sizeof step, fmt, ap);
        va_end(ap);
        exec_report(run->report_fd, err, status, step);
        _exit(status);
}

/* Only the report pipe survives (it is O_CLOEXEC and closes on exec). */
static void step_fds(const ExecRun *run) {
        int errfd = run->report_fd;
        if (run->payload_stdout >= 0) {
                int r = run->payload_stdout == STDOUT_FILENO ? fcntl(STDOUT_FILENO, F_SETFD, 0)
                                                             : dup2(run->payload_stdout, STDOUT_FILENO);
                if (r < 0)
                        fail(run, errno, EXIT_SETUP, "connect the payload's stdout");
        }
        if (errfd > 3)
                close_range(3, (unsigned) errfd - 1, 0);
        close_range((unsigned) errfd + 1, ~0U, 0);
}

/* A job-control shell records the group it found in the foreground and
 * hands the terminal back to it when it exits; vrun's own group lies outside
 * this pid namespace, where that fails (dash then exits 2). SIGTTOU is
 * blocked: vrun's group is the foreground until this call. */
static void step_foreground(const ExecRun *run) {
        if (run->foreground_tty < 0)
                return;
        sigset_t ttou;
        sigemptyset(&ttou);
        sigaddset(&ttou, SIGTTOU);
        sigprocmask(SIG_BLOCK, &ttou, NULL);
        if (setpgid(0, 0) == 0)
                (void) tcsetpgrp(run->foreground_tty, getpid());
}

/* Set here, in the payload: pid 1 must stay free to map and spawn. A limit
 * cannot be raised without privilege: "unlimited" or more than the hard
 * limit means the hard limit. */
static void step_rlimit(const ExecRun *run, const RlimitStep *s) {
        struct rlimit rl = { .rlim_cur = s->value, .rlim_max = s->value }, cur;
        if (getrlimit(s->resource, &cur) == 0 && cur.rlim_max != RLIM_INFINITY &&
            (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > cur.rlim_max))
                rl.rlim_cur = rl.rlim_max = cur.rlim_max;
        if (setrlimit(s->resource, &rl) < 0)
                fail(run, errno, EXIT_SETUP, "setrlimit %d", s->resource);
}

static _Noreturn void step_exec(const ExecRun *run, const EnvStep *env, char *const *argv) {
        const char *cmd = argv[0];
        char buf[VRUN_PATH_MAX];
        const char *found = NULL;
        if (strchr(cmd, '/'))
                found = cmd;
        else {
                /* Like a shell: the first regular file on PATH is the command,
                 * and its failure is final (a script with a dangling #! must
                 * not silently fall through to another python further on). */
                const char *s = env ? env->path : NULL;
                while (s && *s && !found) {
                        const char *e = strchrnul(s, ':');
                        size_t l = (size_t) (e - s), cl = strlen(cmd);
                        if (l > 0 && l + 1 + cl < sizeof buf) {
                                struct stat st;
                                memcpy(buf, s, l);
                                buf[l] = '/';
                                memcpy(buf + l + 1, cmd, cl + 1);
                                if (stat(buf, &st) == 0 && S_ISREG(st.st_mode))
                                        found = buf;
                        }
                        s = *e ? e + 1 : e;
                }
                if (!found)
                        fail(run, ENOENT, EXIT_NOT_FOUND, "%s: command not found", cmd);
        }
        char *empty[] = { NULL };
        execve(found, argv, env ? env->envp : empty);
        int e = errno;
        struct stat st;
        /* The file is there: what is missing is its interpreter. */
        if (e == ENOENT && stat(found, &st) == 0)
                fail(run, e, EXIT_CANNOT_EXEC, "%s: bad interpreter", cmd);
        fail(run, e, e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC, "%s", cmd);
}

int exec_payload(void *arg) {
        const ExecRun *run = arg;
        const Plan *p = run->plan;
        const EnvStep *env = NULL;

        sigset_t none;
        sigemptyset(&none);
        for (size_t i = 0; i < ELEMENTSOF(exec_forwarded_signals); i++)
                signal(exec_forwarded_signals[i], SIG_DFL);

        size_t k = 0;
        bool unblocked = false;
        while (k < p->n_steps && p->steps[k].kind != STEP_SPAWN)
                k++;
        for (k++; k < p->n_steps; k++) {
                const Step *s = &p->steps[k];
                /* Signals pid 1 blocked for the spawn: delivered from the
                 * first step that is the payload's own on. */
                if (!unblocked && s->kind >= STEP_RLIMIT) {
                        sigprocmask(SIG_SETMASK, &none, NULL);
                        unblocked = true;
                }
                switch (s->kind) {
                case STEP_FDS: step_fds(run); break;
                case STEP_FOREGROUND: step_foreground(run); break;
                case STEP_RLIMIT: step_rlimit(run, &s->rlimit); break;
                case STEP_ENV: env = &s->env; break;
                case STEP_EXEC: step_exec(run, env, s->argv);
                default: fail(run, EINVAL, EXIT_SETUP, "step %d out of place in the payload", (int) s->kind);
                }
        }
        fail(run, EINVAL, EXIT_SETUP, "the plan has no exec step");
}
