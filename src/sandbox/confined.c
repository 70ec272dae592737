#include "vrun/sandbox/confined.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strv.h"
#include "vrun/exit.h"
#include "vrun/sandbox/plan.h"
#include "vrun/sandbox/profile.h"
#include "vrun/sandbox/sandbox.h"
#include "vrun/venv/trust.h"

extern char **environ;

#define CONFINED_TIMEOUT_SEC 300
#define CONFINED_FSIZE_MAX   (1024ULL * 1024 * 1024)

/* The default profile, tightened: no network, the strict seccomp set with
 * unix sockets only, the "env" (the program's own directory, or the one
 * writable directory) read-only unless asked, a timeout. */
static int confined_profile(const ConfinedRun *r, Profile **ret) {
        _cleanup_(profile_freep) Profile *pr = NULL;
        int k = profile_load("default", &pr);
        if (k < 0)
                return k;
        pr->network = PROFILE_NET_NONE;
        pr->env = r->writable ? PROFILE_ENV_RW : PROFILE_ENV_RO;
        pr->cwd = PROFILE_CWD_HIDDEN;
        pr->seccomp_strict = true;
        strv_free(pr->socket_families);
        pr->socket_families = NULL;
        if ((k = strv_extend(&pr->socket_families, "unix")) < 0)
                return k;
        pr->timeout_sec = CONFINED_TIMEOUT_SEC;
        pr->rlimits[PROFILE_RLIMIT_FSIZE] = (ProfileRlimit){ true, CONFINED_FSIZE_MAX };
        pr->rlimits[PROFILE_RLIMIT_CORE] = (ProfileRlimit){ true, 0 };
        *ret = TAKE_PTR(pr);
        return 0;
}

/* What the planner needs to know of "the base interpreter" before anything
 * was learnt from it: where it lives. Nothing is hidden from it (it must see
 * every global package dir to name them), and no env is overlaid on it. */
static int stub_interp(const char *exe, InterpInfo **ret) {
        _cleanup_interp_info_ InterpInfo *i = calloc(1, sizeof *i);
        _cleanup_free_ char *bindir = path_dirname(exe);
        if (!i || !bindir || !(i->executable = strdup(exe)) || !(i->prefix = path_dirname(bindir)) ||
            !(i->exec_prefix = strdup(i->prefix)) || !(i->version = strdup("0.0.0")) ||
            !(i->implementation = strdup("")) || !(i->stdlib_dirs = calloc(1, sizeof(char *))) ||
            !(i->site_packages = calloc(1, sizeof(char *))) || !(i->hide_dirs = calloc(1, sizeof(char *))) ||
            !(i->seed_wheels = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(i);
        return 0;
}

static int confined_plan(const ConfinedRun *r, Plan **ret) {
        const char *exe = r->argv[0];
        if (!exe || exe[0] != '/')
                return -EINVAL;
        _cleanup_(profile_freep) Profile *pr = NULL;
        int k = confined_profile(r, &pr);
        if (k < 0)
                return k;
        _cleanup_interp_info_ InterpInfo *i = NULL;
        _cleanup_free_ char *bindir = path_dirname(exe), *cache = NULL, *state = NULL;
        if (!bindir || stub_interp(exe, &i) < 0)
                return -ENOMEM;
        (void) vrun_cache_dir(&cache);
        (void) vrun_state_dir(&state);
        /* The host's /tmp, read-only, over the fresh one every plan has:
         * the program must see the host as it is (a user site, an env or a
         * .pth target may live under /tmp). */
        BindSpec host_tmp = { BIND_RO, (char *) "/tmp", (char *) "/tmp" };
        RunOptions o = { .share_net = 0, .binds = &host_tmp, .n_binds = 1 };
        PlanInput in = {
                .env = r->writable ? r->writable : bindir,
                .interp = i,
                .cwd = "/",
                .cache_dir = cache,
                .state_dir = state,
                .opts = &o,
                .profile = pr,
                .home = getenv("HOME"),
                .argv = r->argv,
                .environ = environ,
                .uid = geteuid(),
                .gid = getegid(),
        };
        return plan_build(&in, ret);
}

int confined_capture(const ConfinedRun *r, char **ret_stdout) {
        _cleanup_(plan_freep) Plan *plan = NULL;
        int k = confined_plan(r, &plan);
        if (k < 0)
                return k;

        /* The executor takes over signal handling and the standard streams
         * of the process it runs in: give it a child of its own, whose
         * stdin is /dev/null (or the caller's file), stdout our pipe and
         * stderr /dev/null. It
         * reports sandbox_run's result on a pipe of its own, since a
         * program can exit with any status. */
        int out[2], res[2];
        if (pipe2(out, O_CLOEXEC) < 0)
                return negative_errno();
        if (pipe2(res, O_CLOEXEC) < 0) {
                k = negative_errno();
                close(out[0]);
                close(out[1]);
                return k;
        }
        _cleanup_close_ int out_rd = out[0], res_rd = res[0];
        fflush(NULL);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                k = negative_errno();
                close(out[1]);
                close(res[1]);
                return k;
        }
        if (pid == 0) {
                /* Dies with vrun (and its sandbox with it); holds nothing of
                 * vrun's: a lock, the create watchdog's pipe or the read end
                 * of our own pipe kept here would outlive a killed vrun and
                 * leave the program blocked on a full pipe forever. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(EXIT_SETUP);
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null < 0 || dup2(r->stdin_fd > STDERR_FILENO ? r->stdin_fd : null, STDIN_FILENO) < 0 ||
                    dup2(out[1], STDOUT_FILENO) < 0 || (!r->show_stderr && dup2(null, STDERR_FILENO) < 0) ||
                    dup3(res[1], 3, O_CLOEXEC) < 0)
                        _exit(EXIT_SETUP);
                close_range(4, ~0U, 0);
                res[1] = 3;
                int st = sandbox_run(plan);
                (void) !write(res[1], &st, sizeof st);
                _exit(st < 0 ? EXIT_SETUP : st & 0xff);
        }
        close(out[1]);
        close(res[1]);
        _cleanup_free_ char *text = NULL;
        k = read_fd_full(out_rd, r->max, &text);
        if (k < 0)
                kill(pid, SIGKILL);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return negative_errno();
        int st = EXIT_SETUP;
        ssize_t n = read(res_rd, &st, sizeof st);
        if (k < 0)
                return k;
        if (n != (ssize_t) sizeof st)
                return -ECHILD;
        if (st < 0)
                return st; /* the sandbox could not be set up */
        if (st != 0)
                return -ENOEXEC;
        *ret_stdout = TAKE_PTR(text);
        return 0;
}
