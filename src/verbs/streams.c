#include "vrun/verbs/streams.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
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

/* Whether the payload could reopen fd through /proc/self/fd with write
 * access: the inode's permissions and its mount decide, not the fd's mode.
 * When that cannot be told (no /proc), assume it could. */
static bool reopenable_for_write(int fd) {
        char p[32];
        snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
        return faccessat(AT_FDCWD, p, W_OK, AT_EACCESS) == 0 || errno == ENOENT;
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
                if ((fl & O_ACCMODE) != O_RDONLY || !reopenable_for_write(fd))
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

/* Moves what is left of the file into the pipe, at the file's own offset
 * (shared with whoever else holds it, as the program's reads would). Ends at
 * EOF, or when nobody reads the pipe any more (EPIPE: the pump process
 * ignores SIGPIPE). */
static void pump_main(int in, int out) {
        bool use_splice = true;
        char buf[65536];
        for (;;) {
                ssize_t n;
                if (use_splice) {
                        n = splice(in, NULL, out, NULL, sizeof buf, 0);
                        if (n < 0 && errno == EINVAL) {
                                use_splice = false;
                                continue;
                        }
                } else {
                        n = read(in, buf, sizeof buf);
                        if (n > 0 && loop_write(out, buf, (size_t) n) < 0)
                                break;
                }
                if (n == 0 || (n < 0 && errno != EINTR))
                        break;
        }
        close(out); /* the program's EOF */
}

int streams_guard_begin(unsigned which, StreamsGuard *g) {
        bool pump = false;
        for (int fd = 0; fd <= 2; fd++) {
                if (!(which & (1u << fd)))
                        continue;
                int r = check_stream(fd);
                if (r < 0)
                        return r;
                if (r > 0)
                        pump = true;
        }
        if (!pump)
                return 0;

        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return log_error_errno(errno, "cannot make a pipe for standard input: %m");
        _cleanup_close_ int rd = p[0], wr = p[1], saved = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        if (saved < 0)
                return log_error_errno(errno, "cannot keep standard input: %m");
        g->saved_stdin = saved;
        g->pump_out = wr;
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                g->saved_stdin = g->pump_out = -1;
                return log_error_errno(errno, "cannot start the standard input pump: %m");
        }
        if (pid == 0) {
                /* Dies with vrun; EPIPE ends it when nobody reads any more. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(0);
                signal(SIGPIPE, SIG_IGN);
                close(rd);
                pump_main(saved, wr);
                _exit(0);
        }
        g->pump = pid;
        g->pumping = true;
        g->pump_out = -1; /* the pump's alone: the program's EOF is the pump's close */
        TAKE_FD(saved);
        if (dup2(rd, STDIN_FILENO) < 0) {
                int e = errno;
                streams_guard_end(g);
                return log_error_errno(e, "cannot replace standard input: %m");
        }
        return 0;
}

void streams_guard_end(StreamsGuard *g) {
        if (g->saved_stdin >= 0) {
                /* The caller's stdin back: the pipe's last reader goes, and a
                 * pump blocked on a full pipe fails with EPIPE. */
                (void) dup2(g->saved_stdin, STDIN_FILENO);
        }
        if (g->pumping) {
                while (waitpid(g->pump, NULL, 0) < 0 && errno == EINTR)
                        ;
                g->pumping = false;
        }
        if (g->saved_stdin >= 0)
                close(g->saved_stdin);
        g->pump_out = g->saved_stdin = -1;
}
