#include "vrun/verbs/streams.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"

static const char *const stream_names[] = { "standard input", "standard output", "standard error" };

/* /dev/null, zero, full, random, urandom: reading or writing them reaches
 * nothing, and they have no ioctl worth having. */
static bool harmless_chardev(dev_t rdev) {
        if (major(rdev) != 1)
                return false;
        unsigned m = minor(rdev);
        return m == 3 || m == 5 || m == 7 || m == 8 || m == 9;
}

/* Whether the payload could reopen fd through /proc/self/fd with more
 * access (W_OK, R_OK) than it was given: the inode's permissions and its
 * mount decide, not the fd's mode. When that cannot be told (no /proc),
 * assume it could. */
static bool reopenable_for(int fd, int mode) {
        char p[32];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        return faccessat(AT_FDCWD, p, mode, AT_EACCESS) == 0 || errno == ENOENT;
}

/* 0: pass fd as it is; 1: replace it with a pump; -EPERM: refused (logged). */
static int check_stream(int fd) {
        const char *name = stream_names[fd];
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0)
                return 0; /* closed: nothing is handed over */
        if (fl & O_PATH) {
                log_error("%s is an O_PATH handle, through which a sandboxed program could open the file it names "
                          "outside the sandbox; refusing to run (give a file, a pipe or /dev/null)",
                          name);
                return -EPERM;
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "cannot inspect %s: %m", name);
        const char *what = NULL;
        switch (st.st_mode & S_IFMT) {
        case S_IFIFO:
        case S_IFSOCK: return 0;
        case S_IFREG:
                /* An output file opened write-only could be reopened for
                 * reading: what it held before (a log), which may lie
                 * outside every mount of the sandbox, would be the
                 * program's to read. */
                if ((fl & O_ACCMODE) == O_WRONLY) {
                        if (!reopenable_for(fd, R_OK))
                                return 0;
                        if (fd != STDIN_FILENO)
                                return 1;
                        what = "a file opened write-only that the program could reopen for reading";
                        break;
                }
                if ((fl & O_ACCMODE) != O_RDONLY || !reopenable_for(fd, W_OK))
                        return 0;
                if (fd == STDIN_FILENO)
                        return 1;
                what = "a file opened read-only that the program could reopen for writing";
                break;
        case S_IFCHR:
                if (isatty(fd) || harmless_chardev(st.st_rdev))
                        return 0;
                what = "a character device (only terminals, /dev/null, zero, full, random and urandom are passed)";
                break;
        case S_IFDIR:
                what = "a directory, through which a sandboxed program could create files outside its view";
                break;
        case S_IFBLK: what = "a block device"; break;
        default: what = "neither a file, a pipe, a socket nor a terminal"; break;
        }
        log_error("%s is %s; refusing to run (redirect it from a file, a pipe or /dev/null)", name, what);
        return -EPERM;
}

/* Moves data from in to out until EOF on in. At the file's own offset
 * (shared with whoever else holds it, as the program's reads and writes
 * would be). The stdin pump ends when nobody reads the pipe any more
 * (EPIPE: the pump process ignores SIGPIPE); an output pump that cannot
 * write its file any more drains the pipe all the same, so that neither the
 * program nor vrun's own messages die of SIGPIPE. */
static void pump_main(int in, int out, bool drain) {
        bool use_splice = true, failed = false;
        char buf[65536];
        for (;;) {
                ssize_t n;
                if (use_splice && !failed) {
                        /* EINVAL: not spliceable (an O_APPEND file, ...); nothing was moved. */
                        n = splice(in, NULL, out, NULL, sizeof buf, 0);
                        if (n < 0 && errno == EINVAL) {
                                use_splice = false;
                                continue;
                        }
                        if (n < 0 && errno != EINTR && drain) {
                                failed = true;
                                continue;
                        }
                } else {
                        n = read(in, buf, sizeof buf);
                        if (n > 0 && !failed && loop_write(out, buf, (size_t) n) < 0) {
                                if (!drain)
                                        break;
                                failed = true;
                        }
                }
                if (n == 0 || (n < 0 && errno != EINTR))
                        break;
        }
        close(out); /* for the stdin pump: the program's EOF */
}

/* Forks a process that moves from in to out and holds nothing else: a pipe
 * end it kept would keep its own pipe, or another pump's, from ending. */
static int fork_pump(int in, int out, bool drain, uint64_t fsize, pid_t *ret_pid) {
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* Dies with vrun. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(0);
                /* A Ctrl-C or a kill of the process group is for the
                 * program and vrun: what they write after it (a traceback)
                 * must still reach the file. */
                signal(SIGPIPE, SIG_IGN);
                signal(SIGINT, SIG_IGN);
                signal(SIGQUIT, SIG_IGN);
                signal(SIGHUP, SIG_IGN);
                signal(SIGTERM, SIG_IGN);
                /* The file grows no larger than the program could have made
                 * it; past that, its writes are drained (EFBIG, not SIGXFSZ). */
                if (fsize != RLIM_INFINITY) {
                        signal(SIGXFSZ, SIG_IGN);
                        if (setrlimit(RLIMIT_FSIZE, &(struct rlimit){ fsize, fsize }) < 0)
                                _exit(0);
                }
                unsigned lo = (unsigned) (in < out ? in : out), hi = (unsigned) (in < out ? out : in);
                if (lo > 0)
                        close_range(0, lo - 1, 0);
                if (hi > lo + 1)
                        close_range(lo + 1, hi - 1, 0);
                close_range(hi + 1, ~0U, 0);
                pump_main(in, out, drain);
                _exit(0);
        }
        *ret_pid = pid;
        return 0;
}

/* Keeps the caller's fd aside (restored by streams_guard_end) and puts one
 * end of a new pipe in its place; the other end is returned. */
static int replace_with_pipe(StreamsGuard *g, int fd, int *ret_other) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        _cleanup_close_ int rd = p[0], wr = p[1];
        int saved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (saved < 0)
                return -errno;
        g->saved[fd] = saved;
        if (dup2(fd == STDIN_FILENO ? rd : wr, fd) < 0)
                return -errno;
        *ret_other = fd == STDIN_FILENO ? TAKE_FD(wr) : TAKE_FD(rd);
        return 0;
}

static bool same_file(int a, int b) {
        struct stat sa, sb;
        return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The file size limit the payload runs under (the smallest, as setrlimit would leave it). */
static uint64_t plan_fsize(const Plan *plan) {
        uint64_t v = RLIM_INFINITY;
        for (size_t k = 0; plan && k < plan->n_steps; k++)
                if (plan->steps[k].kind == STEP_RLIMIT && plan->steps[k].rlimit.resource == RLIMIT_FSIZE &&
                    plan->steps[k].rlimit.value < v)
                        v = plan->steps[k].rlimit.value;
        return v;
}

int streams_guard_begin(unsigned which, const Plan *plan, StreamsGuard *g) {
        bool pump[3] = {};
        for (int fd = 0; fd <= 2; fd++) {
                if (!(which & (1u << fd)))
                        continue;
                int r = check_stream(fd);
                if (r < 0)
                        return r;
                pump[fd] = r > 0;
        }
        /* stdin first: the output pumps forked after it must not hold its
         * pipe (they close all they do not use anyway). */
        for (int fd = 0; fd <= 2; fd++) {
                if (!pump[fd])
                        continue;
                /* `>> log 2>&1`: one pipe, so that the order of the lines holds. */
                bool shared = fd == STDOUT_FILENO && pump[STDERR_FILENO] && same_file(STDOUT_FILENO, STDERR_FILENO);
                _cleanup_close_ int other = -1;
                int r = replace_with_pipe(g, fd, &other);
                if (r >= 0 && shared) {
                        if ((g->saved[STDERR_FILENO] = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) < 0 ||
                            dup2(STDOUT_FILENO, STDERR_FILENO) < 0)
                                r = -errno;
                        pump[STDERR_FILENO] = false;
                }
                if (r >= 0)
                        r = fd == STDIN_FILENO ? fork_pump(g->saved[fd], other, false, RLIM_INFINITY, &g->pump[fd])
                                               : fork_pump(other, g->saved[fd], true, plan_fsize(plan), &g->pump[fd]);
                if (r < 0) {
                        streams_guard_end(g);
                        return log_error_errno(r, "cannot pass %s through a pipe: %m", stream_names[fd]);
                }
        }
        return 0;
}

void streams_guard_end(StreamsGuard *g) {
        /* The caller's streams back first: the output pipes lose their last
         * writer (the sandbox is gone) and their pumps end once drained; the
         * stdin pipe its last reader, and a pump blocked on it fails with
         * EPIPE. */
        for (int fd = 0; fd <= 2; fd++)
                if (g->saved[fd] >= 0)
                        (void) dup2(g->saved[fd], fd);
        for (int fd = 0; fd <= 2; fd++) {
                if (g->pump[fd] > 0)
                        while (waitpid(g->pump[fd], NULL, 0) < 0 && errno == EINTR)
                                ;
                g->pump[fd] = 0;
                if (g->saved[fd] >= 0)
                        close(g->saved[fd]);
                g->saved[fd] = -1;
        }
}
