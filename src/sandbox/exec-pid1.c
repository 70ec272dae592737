/* pid 1 of the sandbox: runs the plan's steps from the clone to the spawn,
 * starts the payload, forwards signals to it, reaps orphans, enforces the
 * timeout, and reports: a failed step over the report pipe, the payload's
 * status over the status pipe. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/exec-internal.h"
#include "util/cleanup.h"
#include "vrun/exit.h"

const int exec_forwarded_signals[6] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

void exec_report(int fd, int err, int exit_status, const char *step) {
        Report r = { .err = err < 0 ? -err : err, .exit_status = exit_status };
        snprintf(r.step, sizeof r.step, "%s", step);
        (void) !write(fd, &r, sizeof r);
}

static volatile pid_t payload_pid;
static volatile sig_atomic_t timed_out;

static void on_timeout(int sig) {
        timed_out = 1;
        if (payload_pid > 0)
                kill(payload_pid, SIGKILL);
}

static void forward_signal(int sig, siginfo_t *si, void *ctx) {
        /* Terminal-generated signals (SI_KERNEL) already reached the whole
         * foreground process group, payload included: forward only what
         * was sent with kill() and friends. */
        if (si->si_code > 0 || payload_pid <= 0)
                return;
        kill(payload_pid, sig);
}

static int install_forwarding(void) {
        struct sigaction sa = { .sa_sigaction = forward_signal, .sa_flags = SA_SIGINFO | SA_RESTART };
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(exec_forwarded_signals); i++)
                if (sigaction(exec_forwarded_signals[i], &sa, NULL) < 0)
                        return negative_errno();
        return 0;
}

/* Closes every fd from 3 up but those in keep (ascending; -1 entries ignored). */
static void close_fds_except(const int *keep, size_t n) {
        unsigned from = 3;
        for (size_t i = 0; i < n; i++) {
                if (keep[i] < (int) from)
                        continue;
                if ((unsigned) keep[i] > from)
                        close_range(from, (unsigned) keep[i] - 1, 0);
                from = (unsigned) keep[i] + 1;
        }
        close_range(from, ~0U, 0);
}

static _Noreturn void fail(const ExecRun *run, int r, const char *what) {
        exec_report(run->report_fd, r, EXIT_SETUP, what);
        _exit(EXIT_SETUP);
}

/* Starts the payload and waits: pid 1's life after the setup. */
static _Noreturn void spawn(const ExecRun *run, const SpawnStep *s) {
        int r = install_forwarding();
        if (r < 0)
                fail(run, r, "sigaction");
        /* The payload gets the CPUs vrun was started with (see sandbox_run). */
        sched_setaffinity(0, sizeof run->affinity, &run->affinity);

        /* vfork semantics: no page tables to copy, and pid 1 has nothing to
         * do until the payload has exec'd. */
        size_t stack_size = 64 * 1024;
        void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
                fail(run, -errno, "mmap payload stack");
#if defined(__SANITIZE_ADDRESS__)
        /* ASan cannot follow a child that runs on a foreign stack in our
         * address space; sanitizer builds pay for a real fork. */
        pid_t pid = fork();
        if (pid == 0)
                _exit(exec_payload((void *) run));
#else
        pid_t pid = clone(exec_payload, (char *) stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, (void *) run);
#endif
        if (pid < 0)
                fail(run, -errno, "start payload");
        munmap(stack, stack_size);
        payload_pid = pid;
        if (s->timeout_sec) {
                /* Kept open only to say "timed out": the parent reads reports until EOF. */
                struct sigaction sa = { .sa_handler = on_timeout };
                sigemptyset(&sa.sa_mask);
                sigaction(SIGALRM, &sa, NULL);
                alarm(s->timeout_sec > UINT_MAX ? UINT_MAX : (unsigned) s->timeout_sec);
        } else
                close(run->report_fd);

        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (;;) {
                int status;
                pid_t w = waitpid(-1, &status, 0);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(EXIT_SETUP);
                }
                if (w == pid) {
                        if (timed_out) {
                                char what[64];
                                snprintf(what, sizeof what, "timeout: killed after %llu s",
                                         (unsigned long long) s->timeout_sec);
                                exec_report(run->report_fd, ETIME, EXIT_TIMEOUT, what);
                                _exit(EXIT_TIMEOUT);
                        }
                        /* Tell vrun first: it need not wait for the kernel to
                         * tear the namespaces down behind pid 1's exit. */
                        int st = exit_status_from_wait(status);
                        (void) !write(run->status_fd, &st, sizeof st);
                        _exit(st);
                }
                /* an orphan reparented to us: reaped, nothing more */
        }
}

_Noreturn void exec_pid1(const ExecRun *run) {
        const Plan *p = run->plan;
        /* Die with vrun; if vrun is already gone, the pipe says so. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                _exit(EXIT_SETUP);
        /* Root's run: vrun writes the id maps and says so on this pipe. */
        const Step *idm = plan_find(p, STEP_ID_MAP);
        if (idm && idm->id_map.by_parent) {
                char ch;
                ssize_t n;
                do
                        n = read(run->alive_fd, &ch, 1);
                while (n < 0 && errno == EINTR);
                if (n != 1)
                        _exit(EXIT_SETUP); /* vrun is gone */
        }
        struct pollfd pfd = { .fd = run->alive_fd, .events = POLLIN };
        if (poll(&pfd, 1, 0) > 0)
                _exit(EXIT_SETUP);
        close(run->alive_fd);
        /* pid 1 shares the payload's pid namespace: it keeps nothing of vrun's
         * but its pipes (a stdin pump's write end held here would also keep
         * the payload from ever reading EOF). */
        ExecCtx *ctx = run->ctx;
        int fixed[] = { run->report_fd, run->status_fd, run->payload_stdout };
        size_t n_keep = ELEMENTSOF(fixed) + ctx->n_slots;
        int *keep = calloc(n_keep, sizeof(int));
        if (!keep) {
                exec_report(run->report_fd, ENOMEM, EXIT_SETUP, "plan");
                _exit(EXIT_SETUP);
        }
        memcpy(keep, fixed, sizeof fixed);
        for (size_t k = 0; k < ctx->n_slots; k++)
                keep[ELEMENTSOF(fixed) + k] = ctx->slots[k].fd;
        for (size_t i = 1; i < n_keep; i++)
                for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
                        int t = keep[j];
                        keep[j] = keep[j - 1];
                        keep[j - 1] = t;
                }
        close_fds_except(keep, n_keep);
        free(keep);
        int r;
        for (size_t k = run->pid1_first; k < p->n_steps; k++) {
                const Step *s = &p->steps[k];
                if (s->kind == STEP_SPAWN) {
                        exec_ctx_done(ctx);
                        spawn(run, &s->spawn);
                }
                if ((r = exec_step(ctx, s)) < 0)
                        fail(run, r, ctx->failed);
        }
        fail(run, -EINVAL, "the plan has no spawn step");
}
