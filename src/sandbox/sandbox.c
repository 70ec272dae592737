/* The parent's side of the executor: runs the plan's steps up to the clone,
 * forwards signals to pid 1 while it waits, and turns what pid 1 reports
 * into the result of sandbox_run. pid 1 is in exec-pid1.c, the payload in
 * exec-payload.c, the steps themselves in exec-ns.c and exec-mount.c. */
#include "vrun/sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/exec-internal.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "vrun/exit.h"
#include "vrun/sandbox/cgroup.h"
#include "vrun/sandbox/idmap.h"

static volatile pid_t child_pid;

static int find_foreground_tty(void) {
        pid_t pgrp = getpgrp();
        for (int fd = 0; fd <= 2; fd++)
                if (isatty(fd) && tcgetpgrp(fd) == pgrp)
                        return fd;
        return -1;
}

/* An interactive shell inside puts its jobs in the terminal's foreground
 * and cannot give it back to vrun's group, which it does not see: take it
 * back, or a script that ran vrun could no longer read the terminal. */
static void reclaim_foreground(int tty) {
        if (tty < 0 || tcgetpgrp(tty) == getpgrp())
                return;
        sigset_t ttou, old;
        sigemptyset(&ttou);
        sigaddset(&ttou, SIGTTOU);
        sigprocmask(SIG_BLOCK, &ttou, &old);
        (void) tcsetpgrp(tty, getpgrp());
        sigprocmask(SIG_SETMASK, &old, NULL);
}

static void parent_forward(int sig, siginfo_t *si, void *ctx) {
        if (si->si_code > 0 || child_pid <= 0)
                return;
        kill(child_pid, sig);
}

/* The parent's three pipes to pid 1: reports of a failed step (EOF once the
 * payload has exec'd), "vrun is alive" (pid 1 sees EOF when vrun dies), and
 * the payload's status. Each end is -1 once closed. */
typedef struct Pipes {
        int report[2], alive[2], status[2];
} Pipes;

static void pipes_close(Pipes *p) {
        int *fds[] = { p->report, p->alive, p->status };
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                for (size_t k = 0; k < 2; k++)
                        if (fds[i][k] >= 0) {
                                close(fds[i][k]);
                                fds[i][k] = -1;
                        }
}

static int pipes_open(Pipes *p) {
        *p = (Pipes){ { -1, -1 }, { -1, -1 }, { -1, -1 } };
        if (pipe2(p->report, O_CLOEXEC) < 0 || pipe2(p->alive, O_CLOEXEC) < 0 || pipe2(p->status, O_CLOEXEC) < 0) {
                int r = negative_errno();
                pipes_close(p);
                return r;
        }
        return 0;
}

static void close_fd(int *fd) {
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

/* The signal state the parent had before forwarding, put back once the
 * sandbox is gone: a verb that goes on after the run (shell cleans up,
 * prove reads the report) must not forward to a dead pid. */
typedef struct Forwarding {
        struct sigaction old[ELEMENTSOF(exec_forwarded_signals)];
        bool installed;
} Forwarding;

static void forwarding_start(Forwarding *f, pid_t pid) {
        child_pid = pid;
        struct sigaction sa = { .sa_sigaction = parent_forward, .sa_flags = SA_SIGINFO | SA_RESTART };
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(exec_forwarded_signals); i++)
                sigaction(exec_forwarded_signals[i], &sa, &f->old[i]);
        f->installed = true;
}

static void forwarding_stop(Forwarding *f) {
        if (f->installed)
                for (size_t i = 0; i < ELEMENTSOF(exec_forwarded_signals); i++)
                        sigaction(exec_forwarded_signals[i], &f->old[i], NULL);
        f->installed = false;
        child_pid = 0;
}

static int read_full_struct(int fd, void *buf, size_t size) {
        ssize_t n;
        do
                n = read(fd, buf, size);
        while (n < 0 && errno == EINTR);
        return n == (ssize_t) size;
}

/* vrun's own CPUs back (see run_steps); once. */
static void unpin(ExecRun *run) {
        if (CPU_COUNT(&run->affinity) > 0)
                (void) sched_setaffinity(0, sizeof run->affinity, &run->affinity);
        CPU_ZERO(&run->affinity);
}

static int run_parent(ExecRun *run, int clone_flags, Pipes *pp, Cgroup *cg, sigset_t *old) {
        run->foreground_tty = find_foreground_tty();
        run->report_fd = pp->report[1];
        run->alive_fd = pp->alive[0];
        run->status_fd = pp->status[1];
        fflush(NULL);
        pid_t pid = (pid_t) syscall(SYS_clone, (unsigned long) clone_flags | SIGCHLD, NULL, NULL, NULL, 0);
        if (pid < 0) {
                int e = errno;
                sigprocmask(SIG_SETMASK, old, NULL);
                if (e == EPERM || e == ENOSPC || e == EINVAL)
                        return log_error_errno(e, "cannot create namespaces: clone: %m (are unprivileged user "
                                                  "namespaces allowed? see sysctl user.max_user_namespaces)");
                return log_error_errno(e, "clone: %m");
        }
        if (pid == 0) {
                close(pp->report[0]);
                close(pp->alive[1]);
                close(pp->status[0]);
                exec_pid1(run);
        }
        /* pid 1 was made on this CPU and runs there as soon as vrun
         * sleeps; vrun itself need not stay: pinned, it would wake at the end
         * on the CPU where pid 1 then tears its namespaces down. */
        unpin(run);
        /* pid 1 has the captures now (root's run). */
        exec_ctx_done(run->ctx);
        const Step *idm = plan_find(run->plan, STEP_ID_MAP);
        if (idm && idm->id_map.by_parent) {
                /* Only vrun, outside, may map 0 to another host id; pid 1
                 * waits for the word on the alive pipe. */
                int r = idmap_write_maps(pid, idm->id_map.uid_outside);
                if (r < 0 || write(pp->alive[1], "m", 1) != 1) {
                        kill(pid, SIGKILL);
                        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                                ;
                        sigprocmask(SIG_SETMASK, old, NULL);
                        return log_error_errno(r < 0 ? r : errno, "cannot map the sandbox's root to host id %u: %m",
                                               (unsigned) idm->id_map.uid_outside);
                }
        }
        close_fd(&pp->status[1]);
        /* Only the sandbox stays in the run's cgroup. */
        if (cg->n_dirs)
                (void) cgroup_leave(cg);
        close_fd(&pp->report[1]);
        close_fd(&pp->alive[0]);

        Forwarding fw = {};
        forwarding_start(&fw, pid);
        sigprocmask(SIG_SETMASK, old, NULL);

        Report rep;
        bool have_report = read_full_struct(pp->report[0], &rep, sizeof rep);

        /* The payload's status, as pid 1 saw it. Tearing down the
         * namespaces after pid 1's exit takes the kernel another 0.5 ms
         * (measured) that nobody needs to wait for: pid 1 exits right after
         * writing this, and the kernel then kills what is left in its pid
         * namespace. A run in a cgroup waits, to remove the cgroup. */
        int st = 0, status = 0, r = 0;
        bool have_status = read_full_struct(pp->status[0], &st, sizeof st);
        if (!have_status || cg->n_dirs || have_report)
                while (waitpid(pid, &status, 0) < 0)
                        if (errno != EINTR) {
                                r = log_error_errno(errno, "waitpid: %m");
                                break;
                        }
        forwarding_stop(&fw);
        reclaim_foreground(run->foreground_tty);
        if (r < 0)
                return r;

        if (have_report) {
                rep.step[sizeof rep.step - 1] = 0;
                if ((rep.exit_status == EXIT_NOT_FOUND && strstr(rep.step, ": command not found")) ||
                    rep.exit_status == EXIT_TIMEOUT)
                        log_error("%s", rep.step);
                else
                        log_error_errno(rep.err, "%s: %m", rep.step);
                /* A step of the setup failed: vrun's failure. The others
                 * are the payload's statuses. */
                if (rep.exit_status == EXIT_SETUP)
                        return rep.err > 0 ? -rep.err : -EIO;
                return rep.exit_status;
        }
        return have_status ? st : exit_status_from_wait(status);
}

/* The sandbox's budget: vrun moves itself into a cgroup of the run's own
 * (and out right after the clone). What cannot be had is said once with
 * -v: the rlimits still hold per process. */
static int enter_budget(const CgroupBudget *b, Cgroup *cg) {
        unsigned want = cgroup_budget_controllers(b), got = 0;
        int r = cgroup_enter(b, cg, &got);
        if (r < 0)
                return log_error_errno(r, "cannot set up the sandbox's cgroup: %m");
        if (got != want)
                log_info("no cgroup for %s here: %s bounded per process only (rlimits), tmpfs mounts by size and "
                         "inodes; see vrun doctor",
                         cgroup_controllers_name(want & ~got), cgroup_controllers_name(want & ~got));
        return 0;
}

/* Root's run: pid 1, an unprivileged uid, could not get through root's
 * 0700 directories to take what it binds, and only a process with
 * CAP_SYS_ADMIN over a filesystem's user namespace can idmap it: vrun takes
 * those captures, in the slots pid 1 inherits. */
static int root_captures(ExecCtx *ctx, const Plan *p, uid_t host_id) {
        int r = idmap_userns_open(host_id, &ctx->userns_fd);
        if (r < 0)
                return log_error_errno(r, "cannot make the user namespace that maps root's run to host id %u: %m",
                                       (unsigned) host_id);
        ctx->in_parent = true;
        for (size_t k = 0; k < p->n_steps && r >= 0; k++)
                if (p->steps[k].kind == STEP_CAPTURE && p->steps[k].capture.by_parent)
                        r = exec_capture(ctx, &p->steps[k].capture);
        ctx->in_parent = false;
        close(TAKE_FD(ctx->userns_fd));
        return r < 0 ? log_error_errno(r, "%s: %m", ctx->failed) : 0;
}

/* The steps the parent runs, up to the clone: where the sandbox's pid 1
 * will live (a cgroup), and the namespaces it is cloned into. */
static int run_steps(ExecRun *run, Pipes *pp, Cgroup *cg) {
        const Plan *p = run->plan;
        int r;
        for (size_t k = 0; k < p->n_steps; k++) {
                const Step *s = &p->steps[k];
                switch (s->kind) {
                case STEP_CGROUP:
                        if ((r = enter_budget(&s->cgroup.budget, cg)) < 0)
                                return r;
                        break;
                case STEP_ROOT_CAPTURES:
                        if ((r = root_captures(run->ctx, p, s->root_captures.host_id)) < 0)
                                return r;
                        break;
                case STEP_NAMESPACES: {
                        run->pid1_first = k + 1;
                        sigset_t block, old;
                        sigemptyset(&block);
                        for (size_t i = 0; i < ELEMENTSOF(exec_forwarded_signals); i++)
                                sigaddset(&block, exec_forwarded_signals[i]);
                        sigprocmask(SIG_BLOCK, &block, &old);

                        /* Run parent and child on this CPU: the parent only
                         * sleeps, and on a VM waking a process on an idle CPU
                         * costs more than all of the child's setup. pid 1 gives
                         * the payload the original mask back. */
                        if (sched_getaffinity(0, sizeof run->affinity, &run->affinity) == 0) {
                                cpu_set_t one;
                                int cpu = sched_getcpu();
                                CPU_ZERO(&one);
                                if (cpu >= 0) {
                                        CPU_SET(cpu, &one);
                                        (void) sched_setaffinity(0, sizeof one, &one);
                                }
                        }
                        r = run_parent(run, s->clone_flags, pp, cg, &old);
                        unpin(run);
                        return r;
                }
                default:
                        return log_error_errno(EINVAL, "the plan's step %zu (kind %d) is out of place", k,
                                               (int) s->kind);
                }
        }
        return log_error_errno(EINVAL, "the plan has no namespaces step");
}

static int sandbox_run_to(const Plan *p, int stdout_fd) {
        Pipes pp;
        int r = pipes_open(&pp);
        if (r < 0)
                return log_error_errno(r, "pipe: %m");
        ExecCtx ctx;
        if ((r = exec_ctx_init(&ctx, p->n_slots)) < 0) {
                pipes_close(&pp);
                return log_error_errno(r, "out of memory");
        }
        ExecRun run = { .plan = p, .payload_stdout = stdout_fd, .foreground_tty = -1, .ctx = &ctx };
        CPU_ZERO(&run.affinity);
        Cgroup cg = {};
        r = run_steps(&run, &pp, &cg);
        exec_ctx_done(&ctx);
        pipes_close(&pp);
        cgroup_done(&cg);
        return r;
}

int sandbox_run(const Plan *p) {
        return sandbox_run_to(p, -1);
}

int sandbox_run_with_stdout(const Plan *p, int stdout_fd) {
        return sandbox_run_to(p, stdout_fd);
}
