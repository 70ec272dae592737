#include "vrun/sandbox/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <limits.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strv.h"
#include "vrun/sandbox/caps.h"
#include "vrun/sandbox/cgroup.h"
#include "util/log.h"
#include "vrun/sandbox/seccomp.h"
#include "vrun/exit.h"

/* What a child tells the parent when it fails: which step, which errno,
 * and the exit status vrun should return. Smaller than PIPE_BUF, so one
 * write is atomic. */
typedef struct Report {
        int err;
        int exit_status;
        char step[500];
} Report;

static const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static void report(int fd, int err, int exit_status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void report(int fd, int err, int exit_status, const char *fmt, ...) {
        Report r = { .err = err < 0 ? -err : err, .exit_status = exit_status };
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r.step, sizeof r.step, fmt, ap);
        va_end(ap);
        (void) !write(fd, &r, sizeof r);
}

/* ---- setup steps (run in the child, inside the new namespaces) --------------------------- */

static int write_proc_self(const char *file, const char *text) {
        _cleanup_close_ int fd = open(file, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        return loop_write(fd, text, strlen(text));
}

static int map_ids(const Plan *p, int errfd) {
        char buf[64];
        int r = write_proc_self("/proc/self/setgroups", "deny");
        if (r < 0 && r != -ENOENT) {
                report(errfd, r, EXIT_SETUP, "write /proc/self/setgroups");
                return r;
        }
        snprintf(buf, sizeof buf, "%u %u 1\n", p->uid, p->uid);
        if ((r = write_proc_self("/proc/self/uid_map", buf)) < 0) {
                report(errfd, r, EXIT_SETUP, "write /proc/self/uid_map");
                return r;
        }
        snprintf(buf, sizeof buf, "%u %u 1\n", p->gid, p->gid);
        if ((r = write_proc_self("/proc/self/gid_map", buf)) < 0) {
                report(errfd, r, EXIT_SETUP, "write /proc/self/gid_map");
                return r;
        }
        return 0;
}

static int clone_tree(const char *src, bool readonly, int *ret) {
        int fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (fd < 0)
                return negative_errno();
        if (readonly) {
                struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID };
                if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0) {
                        int e = negative_errno();
                        close(fd);
                        return e;
                }
        }
        *ret = fd;
        return 0;
}

static int attach(int tree_fd, const char *dst) {
        return move_mount(tree_fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0 ? negative_errno() : 0;
}

/* A missing mountpoint can be made only on filesystems vrun mounted itself
 * (the fresh /tmp, a --tmpfs); on the read-only host it is an error. */
static int ensure_mountpoint(const char *dst, bool dir) {
        struct stat st;
        if (stat(dst, &st) == 0)
                return 0;
        if (errno != ENOENT)
                return negative_errno();
        _cleanup_free_ char *parent = path_dirname(dst);
        if (!parent)
                return -ENOMEM;
        int r = mkdir_p(parent, 0755);
        if (r < 0)
                return r;
        if (dir)
                return mkdir(dst, 0755) < 0 && errno != EEXIST ? negative_errno() : 0;
        int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return negative_errno();
        close(fd);
        return 0;
}

static int new_tmpfs(unsigned mode, uint64_t size, unsigned attrs, int *ret) {
        _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0)
                return negative_errno();
        char m[16], sz[32];
        snprintf(m, sizeof m, "%o", mode);
        if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", m, 0) < 0)
                return negative_errno();
        if (size) {
                snprintf(sz, sizeof sz, "%llu", (unsigned long long) size);
                if (fsconfig(fs, FSCONFIG_SET_STRING, "size", sz, 0) < 0)
                        return negative_errno();
        }
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return negative_errno();
        int mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
        if (mnt < 0)
                return negative_errno();
        *ret = mnt;
        return 0;
}

static const char *const proc_readonly[] = { "sys", "sysrq-trigger", "irq", "bus", "fs" };
static const char *const proc_masked[] = { "kcore", "keys", "timer_list", "sched_debug" };
static const char *const dev_nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };

/* Clones of host objects that must be taken while the host's tree is
 * still reachable (before a minimal root replaces it). */
typedef struct HostClones {
        int dev[ELEMENTSOF(dev_nodes)];
        int null;    /* masks files in /proc */
        int overlay; /* the ephemeral env, or -1 */
        const char *overlay_src;
        int proc; /* minimal root: the new procfs, set up on the host tree */
} HostClones;

static void host_clones_close(HostClones *h) {
        for (size_t i = 0; i < ELEMENTSOF(h->dev); i++)
                if (h->dev[i] >= 0)
                        close(h->dev[i]);
        if (h->null >= 0)
                close(h->null);
        if (h->overlay >= 0)
                close(h->overlay);
        if (h->proc >= 0)
                close(h->proc);
}

static int setup_proc(const char *dst, const HostClones *h, int errfd) {
        if (mount("proc", dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
                report(errfd, errno, EXIT_SETUP, "mount proc on %s", dst);
                return -1;
        }
        _cleanup_close_ int proc = open(dst, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc < 0) {
                report(errfd, errno, EXIT_SETUP, "open %s", dst);
                return -1;
        }
        for (size_t i = 0; i < ELEMENTSOF(proc_readonly); i++) {
                _cleanup_close_ int t =
                        open_tree(proc, proc_readonly[i], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
                if (t < 0) {
                        if (errno == ENOENT)
                                continue;
                        report(errfd, errno, EXIT_SETUP, "clone %s/%s", dst, proc_readonly[i]);
                        return -1;
                }
                struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                                    MOUNT_ATTR_NOEXEC };
                if (mount_setattr(t, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0 ||
                    move_mount(t, "", proc, proc_readonly[i], MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                        report(errfd, errno, EXIT_SETUP, "make %s/%s read-only", dst, proc_readonly[i]);
                        return -1;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(proc_masked); i++) {
                if (faccessat(proc, proc_masked[i], F_OK, 0) < 0)
                        continue;
                _cleanup_close_ int t = open_tree(h->null, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
                if (t < 0 || move_mount(t, "", proc, proc_masked[i], MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                        report(errfd, errno, EXIT_SETUP, "mask %s/%s", dst, proc_masked[i]);
                        return -1;
                }
        }
        return 0;
}

static int setup_dev(const char *dst, uint64_t size, const HostClones *h, int errfd) {
        _cleanup_close_ int dev = -1, devfd = -1;
        _cleanup_free_ char *pts = NULL;
        int r = new_tmpfs(0755, size, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, &dev);
        if (r < 0) {
                report(errfd, r, EXIT_SETUP, "mount tmpfs for %s", dst);
                return -1;
        }
        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
                if (h->dev[i] < 0)
                        continue;
                int f = openat(dev, dev_nodes[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
                if (f < 0) {
                        report(errfd, errno, EXIT_SETUP, "create %s/%s", dst, dev_nodes[i]);
                        return -1;
                }
                close(f);
        }
        static const struct {
                const char *target, *name;
        } links[] = {
                { "pts/ptmx", "ptmx" },          { "/proc/self/fd", "fd" },       { "/proc/self/fd/0", "stdin" },
                { "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
        };
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i].target, dev, links[i].name) < 0) {
                        report(errfd, errno, EXIT_SETUP, "symlink %s/%s", dst, links[i].name);
                        return -1;
                }
        if (mkdirat(dev, "pts", 0755) < 0 || mkdirat(dev, "shm", 0755) < 0 || fchmodat(dev, "shm", 01777, 0) < 0) {
                report(errfd, errno, EXIT_SETUP, "populate %s", dst);
                return -1;
        }
        if ((r = ensure_mountpoint(dst, true)) < 0 || (r = attach(dev, dst)) < 0) {
                report(errfd, r, EXIT_SETUP, "mount tmpfs on %s", dst);
                return -1;
        }
        devfd = open(dst, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (devfd < 0) {
                report(errfd, errno, EXIT_SETUP, "open %s", dst);
                return -1;
        }
        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
                if (h->dev[i] < 0)
                        continue;
                if (move_mount(h->dev[i], "", devfd, dev_nodes[i], MOVE_MOUNT_F_EMPTY_PATH) < 0) {
                        report(errfd, errno, EXIT_SETUP, "bind /dev/%s", dev_nodes[i]);
                        return -1;
                }
        }
        pts = path_join(dst, "pts");
        if (!pts || mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620") < 0) {
                report(errfd, pts ? errno : ENOMEM, EXIT_SETUP, "mount devpts on %s/pts", dst);
                return -1;
        }
        return 0;
}

/* The ephemeral env: the env read through an overlay whose upper layer is
 * a private tmpfs, so installs and writes inside vanish at exit. */
static int make_overlay(const char *lower, uint64_t size, int *ret) {
        _cleanup_close_ int upper = -1, fs = -1;
        int r = new_tmpfs(0755, size, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &upper);
        if (r < 0)
                return r;
        if (mkdirat(upper, "upper", 0755) < 0 || mkdirat(upper, "work", 0755) < 0)
                return negative_errno();
        char up[64], work[64];
        snprintf(up, sizeof up, "/proc/self/fd/%d/upper", upper);
        snprintf(work, sizeof work, "/proc/self/fd/%d/work", upper);
        fs = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0)
                return negative_errno();
        if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", up, 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return negative_errno();
        int m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
        if (m < 0)
                return negative_errno();
        *ret = m;
        return 0;
}

static int loopback_up(void) {
        _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return negative_errno();
        struct ifreq ifr = {};
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
                return negative_errno();
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
                return negative_errno();
        return 0;
}

static bool is_dir(const char *p) {
        struct stat st;
        return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Index of the op of `group` that applies: the lowest rank whose dst exists. */
static ssize_t group_winner(const Plan *p, int group) {
        ssize_t best = -1;
        for (size_t k = 0; k < p->n_mounts; k++) {
                const MountOp *m = &p->mounts[k];
                if (m->group != group || !is_dir(m->dst))
                        continue;
                if (best < 0 || m->rank < p->mounts[best].rank)
                        best = (ssize_t) k;
        }
        return best;
}

/* Replaces / with an empty tmpfs; what the payload sees is then only what
 * the plan binds in. The old root is detached, not just covered. */
static int enter_minimal_root(int errfd) {
        _cleanup_close_ int root = -1;
        int r = new_tmpfs(0755, 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &root);
        if (r >= 0)
                r = attach(root, "/tmp");
        if (r < 0) {
                report(errfd, r, EXIT_SETUP, "mount the new root");
                return -1;
        }
        if (chdir("/tmp") < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
            chdir("/") < 0) {
                report(errfd, errno, EXIT_SETUP, "pivot_root into the new root");
                return -1;
        }
        return 0;
}

static int setup_mounts(const Plan *p, int errfd) {
        int r, ret = -1;
        HostClones h = { .null = -1, .overlay = -1, .proc = -1 };
        for (size_t i = 0; i < ELEMENTSOF(h.dev); i++)
                h.dev[i] = -1;
        _cleanup_free_ int *fds = calloc(p->n_mounts ? p->n_mounts : 1, sizeof(int));
        _cleanup_free_ char **links = calloc(p->n_mounts ? p->n_mounts : 1, sizeof(char *));
        if (!fds || !links) {
                report(errfd, ENOMEM, EXIT_SETUP, "plan");
                return -1;
        }
        for (size_t k = 0; k < p->n_mounts; k++)
                fds[k] = -1;
        _cleanup_close_ int empty = -1;

        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                report(errfd, errno, EXIT_SETUP, "make / private");
                goto out;
        }

        /* Everything taken from the host first: a clone keeps the flags its
         * source had, so binds stay writable after the root turns
         * read-only, and it survives the host tree being replaced. */
        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
                char src[32];
                snprintf(src, sizeof src, "/dev/%s", dev_nodes[i]);
                h.dev[i] = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                if (h.dev[i] < 0 && errno != ENOENT) {
                        report(errfd, errno, EXIT_SETUP, "clone %s", src);
                        goto out;
                }
        }
        if ((r = clone_tree("/dev/null", true, &h.null)) < 0) {
                report(errfd, r, EXIT_SETUP, "clone /dev/null");
                goto out;
        }
        for (size_t k = 0; k < p->n_mounts; k++) {
                const MountOp *m = &p->mounts[k];
                if (m->kind != MOUNT_OP_OVERLAY)
                        continue;
                if ((r = make_overlay(m->src, m->size, &h.overlay)) < 0) {
                        report(errfd, r, EXIT_SETUP, "mount overlay on %s", m->src);
                        goto out;
                }
                h.overlay_src = m->src;
        }
        if (p->minimal_root) {
                /* The kernel lets a user namespace mount procfs only where a
                 * fully visible one exists, which the empty root lacks: mount
                 * it on the host's /proc and carry a clone across. */
                if (setup_proc("/proc", &h, errfd) < 0)
                        goto out;
                h.proc = open_tree(AT_FDCWD, "/proc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
                if (h.proc < 0) {
                        report(errfd, errno, EXIT_SETUP, "clone /proc");
                        goto out;
                }
        }
        ssize_t winner = group_winner(p, 1);
        for (size_t k = 0; k < p->n_mounts; k++) {
                const MountOp *m = &p->mounts[k];
                if (m->kind != MOUNT_OP_BIND || (m->group && (ssize_t) k != winner))
                        continue;
                if (m->mirror) {
                        char target[VRUN_PATH_MAX];
                        ssize_t n = readlink(m->src, target, sizeof target - 1);
                        if (n >= 0) {
                                target[n] = 0;
                                if (!(links[k] = strdup(target))) {
                                        report(errfd, ENOMEM, EXIT_SETUP, "readlink %s", m->src);
                                        goto out;
                                }
                                continue;
                        }
                }
                if (h.overlay >= 0 && path_startswith(m->src, h.overlay_src)) {
                        /* e.g. the env's site-packages over the base's: it
                         * must show the ephemeral layer, not the host's. */
                        const char *rel = m->src + strlen(h.overlay_src);
                        while (*rel == '/')
                                rel++;
                        fds[k] = open_tree(h.overlay, *rel ? rel : "",
                                           OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
                                                   (*rel ? 0 : AT_EMPTY_PATH));
                        r = fds[k] < 0 ? negative_errno() : 0;
                } else
                        r = clone_tree(m->src, m->readonly, &fds[k]);
                if (r < 0 && !(m->optional && r == -ENOENT)) {
                        report(errfd, r, EXIT_SETUP, "%s %s", m->why, m->src);
                        goto out;
                }
        }

        if (p->minimal_root) {
                if (enter_minimal_root(errfd) < 0)
                        goto out;
        } else {
                struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID };
                if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof ro) < 0) {
                        report(errfd, errno, EXIT_SETUP, "make / read-only");
                        goto out;
                }
        }

        for (size_t k = 0; k < p->n_mounts; k++) {
                const MountOp *m = &p->mounts[k];
                switch (m->kind) {
                case MOUNT_OP_PROC:
                        if ((r = ensure_mountpoint(m->dst, true)) < 0) {
                                report(errfd, r, EXIT_SETUP, "mount proc on %s", m->dst);
                                goto out;
                        }
                        if (h.proc >= 0) {
                                if ((r = attach(h.proc, m->dst)) < 0) {
                                        report(errfd, r, EXIT_SETUP, "mount proc on %s", m->dst);
                                        goto out;
                                }
                        } else if (setup_proc(m->dst, &h, errfd) < 0)
                                goto out;
                        break;
                case MOUNT_OP_DEV:
                        if (setup_dev(m->dst, m->size, &h, errfd) < 0)
                                goto out;
                        break;
                case MOUNT_OP_TMPFS: {
                        _cleanup_close_ int t = -1;
                        r = new_tmpfs(m->mode ? m->mode : 01777, m->size, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &t);
                        if (r >= 0)
                                r = ensure_mountpoint(m->dst, true);
                        if (r >= 0)
                                r = attach(t, m->dst);
                        if (r < 0) {
                                report(errfd, r, EXIT_SETUP, "mount tmpfs on %s", m->dst);
                                goto out;
                        }
                        /* An empty home belongs to the user, not to vrun's root. */
                        if (m->mode && chown(m->dst, p->uid, p->gid) < 0) {
                                report(errfd, errno, EXIT_SETUP, "chown %s", m->dst);
                                goto out;
                        }
                        break;
                }
                case MOUNT_OP_HIDE: {
                        if (!is_dir(m->dst))
                                break; /* nothing there to hide */
                        if (empty < 0 &&
                            (r = new_tmpfs(0555, 0,
                                           MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                                           &empty)) < 0) {
                                report(errfd, r, EXIT_SETUP, "mount tmpfs on %s", m->dst);
                                goto out;
                        }
                        _cleanup_close_ int t =
                                open_tree(empty, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
                        r = t < 0 ? negative_errno() : attach(t, m->dst);
                        if (r < 0) {
                                report(errfd, r, EXIT_SETUP, "mount tmpfs on %s", m->dst);
                                goto out;
                        }
                        break;
                }
                case MOUNT_OP_OVERLAY:
                        r = ensure_mountpoint(m->dst, true);
                        if (r >= 0)
                                r = attach(h.overlay, m->dst);
                        if (r < 0) {
                                report(errfd, r, EXIT_SETUP, "mount overlay on %s", m->dst);
                                goto out;
                        }
                        break;
                case MOUNT_OP_BIND: {
                        if (links[k]) {
                                _cleanup_free_ char *parent = path_dirname(m->dst);
                                r = parent ? mkdir_p(parent, 0755) : -ENOMEM;
                                if (r >= 0 && symlink(links[k], m->dst) < 0 && errno != EEXIST)
                                        r = negative_errno();
                                if (r < 0) {
                                        report(errfd, r, EXIT_SETUP, "symlink %s", m->dst);
                                        goto out;
                                }
                                break;
                        }
                        if (fds[k] < 0)
                                break;
                        struct stat st;
                        r = fstat(fds[k], &st) < 0 ? negative_errno() : 0;
                        if (r >= 0)
                                r = ensure_mountpoint(m->dst, S_ISDIR(st.st_mode));
                        if (r == -EROFS || r == -EACCES) {
                                report(errfd, r, EXIT_SETUP,
                                       "%s %s: destination %s does not exist and cannot be created "
                                       "(the host is read-only inside; bind onto an existing path or "
                                       "under /tmp)",
                                       m->why, m->src, m->dst);
                                goto out;
                        }
                        if (r >= 0)
                                r = attach(fds[k], m->dst);
                        if (r < 0) {
                                report(errfd, r, EXIT_SETUP, "%s %s on %s", m->why, m->src, m->dst);
                                goto out;
                        }
                        close(fds[k]);
                        fds[k] = -1;
                        break;
                }
                }
        }
        if (p->minimal_root) {
                struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
                if (mount_setattr(AT_FDCWD, "/", 0, &ro, sizeof ro) < 0) {
                        report(errfd, errno, EXIT_SETUP, "make the new root read-only");
                        goto out;
                }
        }
        ret = 0;
out:
        for (size_t k = 0; k < p->n_mounts; k++) {
                if (fds[k] >= 0)
                        close(fds[k]);
                free(links[k]);
        }
        host_clones_close(&h);
        return ret;
}

/* ---- the payload ------------------------------------------------------------------------------ */

/* The terminal (one of fds 0-2) whose foreground process group was vrun's
 * own when it started, or -1. Set before the clone, read by pid 1 and the
 * payload. */
static int foreground_tty = -1;

/* Where the payload's stdout goes when it is not vrun's own (-1): set by
 * sandbox_run_with_stdout before the clone. */
static int payload_stdout = -1;

typedef struct PayloadArgs {
        const Plan *plan;
        int errfd;
} PayloadArgs;

/* Runs on its own stack in a CLONE_VM|CLONE_VFORK child: it may touch
 * nothing of pid 1's memory but read the plan, and it ends in execve or
 * _exit. */
static int payload_exec(void *arg) {
        const Plan *p = ((PayloadArgs *) arg)->plan;
        int errfd = ((PayloadArgs *) arg)->errfd;

        if (payload_stdout >= 0) {
                int r = payload_stdout == STDOUT_FILENO ? fcntl(STDOUT_FILENO, F_SETFD, 0)
                                                        : dup2(payload_stdout, STDOUT_FILENO);
                if (r < 0) {
                        report(errfd, errno, EXIT_SETUP, "connect the payload's stdout");
                        _exit(EXIT_SETUP);
                }
        }
        /* Only the report pipe survives (it is O_CLOEXEC and closes on exec). */
        if (errfd > 3)
                close_range(3, (unsigned) errfd - 1, 0);
        close_range((unsigned) errfd + 1, ~0U, 0);

        sigset_t none;
        sigemptyset(&none);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                signal(forwarded_signals[i], SIG_DFL);
        if (p->foreground_job && foreground_tty >= 0) {
                /* A job-control shell records the group it found in the
                 * foreground and hands the terminal back to it when it
                 * exits; vrun's own group lies outside this pid namespace,
                 * where that fails (dash then exits 2). SIGTTOU is blocked:
                 * vrun's group is the foreground until this call. */
                sigset_t ttou;
                sigemptyset(&ttou);
                sigaddset(&ttou, SIGTTOU);
                sigprocmask(SIG_BLOCK, &ttou, NULL);
                if (setpgid(0, 0) == 0)
                        (void) tcsetpgrp(foreground_tty, getpid());
        }
        sigprocmask(SIG_SETMASK, &none, NULL);

        for (size_t k = 0; k < p->n_rlimits; k++) {
                struct rlimit rl = { .rlim_cur = p->rlimits[k].value, .rlim_max = p->rlimits[k].value }, cur;
                /* Set here, in the payload: pid 1 must stay free to map and
                 * spawn. A limit cannot be raised without privilege:
                 * "unlimited" or more than the hard limit means the hard limit. */
                if (getrlimit(p->rlimits[k].resource, &cur) == 0 && cur.rlim_max != RLIM_INFINITY &&
                    (rl.rlim_max == RLIM_INFINITY || rl.rlim_max > cur.rlim_max))
                        rl.rlim_cur = rl.rlim_max = cur.rlim_max;
                if (setrlimit(p->rlimits[k].resource, &rl) < 0) {
                        report(errfd, errno, EXIT_SETUP, "setrlimit %d", p->rlimits[k].resource);
                        _exit(EXIT_SETUP);
                }
        }

        const char *cmd = p->argv[0];
        char buf[VRUN_PATH_MAX];
        const char *found = NULL;
        if (strchr(cmd, '/'))
                found = cmd;
        else {
                /* Like a shell: the first regular file on PATH is the command,
                 * and its failure is final (a script with a dangling #! must
                 * not silently fall through to another python further on). */
                const char *s = p->path;
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
                if (!found) {
                        report(errfd, ENOENT, EXIT_NOT_FOUND, "%s: command not found", cmd);
                        _exit(EXIT_NOT_FOUND);
                }
        }
        execve(found, p->argv, p->envp);
        int e = errno;
        struct stat st;
        if (e == ENOENT && stat(found, &st) == 0) {
                /* The file is there: what is missing is its interpreter. */
                report(errfd, e, EXIT_CANNOT_EXEC, "%s: bad interpreter", cmd);
                _exit(EXIT_CANNOT_EXEC);
        }
        report(errfd, e, e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC, "%s", cmd);
        _exit(e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_EXEC);
}

/* ---- pid 1 --------------------------------------------------------------------------------------- */

static volatile pid_t payload_pid;
static int status_fd = -1; /* pid 1 writes the payload's exit status here */
static volatile sig_atomic_t timed_out;

static void on_timeout(int sig) {
        timed_out = 1;
        if (payload_pid > 0)
                kill(payload_pid, SIGKILL);
}
static cpu_set_t saved_affinity;

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
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                if (sigaction(forwarded_signals[i], &sa, NULL) < 0)
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

static _Noreturn void pid1_main(const Plan *p, int errfd, int alive_fd) {
        /* Die with vrun; if vrun is already gone, the pipe says so. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                _exit(EXIT_SETUP);
        struct pollfd pfd = { .fd = alive_fd, .events = POLLIN };
        if (poll(&pfd, 1, 0) > 0)
                _exit(EXIT_SETUP);
        close(alive_fd);
        /* pid 1 shares the payload's pid namespace: it keeps nothing of vrun's
         * but its pipes (a stdin pump's write end held here would also keep
         * the payload from ever reading EOF). */
        int keep[] = { errfd, status_fd, payload_stdout };
        for (size_t i = 1; i < ELEMENTSOF(keep); i++)
                for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
                        int t = keep[j];
                        keep[j] = keep[j - 1];
                        keep[j - 1] = t;
                }
        close_fds_except(keep, ELEMENTSOF(keep));

        if (map_ids(p, errfd) < 0)
                _exit(EXIT_SETUP);
        /* From here on nothing in the payload's pid namespace may ptrace us
         * or read our memory or environment. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0) {
                report(errfd, errno, EXIT_SETUP, "prctl(PR_SET_DUMPABLE)");
                _exit(EXIT_SETUP);
        }
        if (setup_mounts(p, errfd) < 0)
                _exit(EXIT_SETUP);
        if (sethostname(p->hostname, strlen(p->hostname)) < 0) {
                report(errfd, errno, EXIT_SETUP, "sethostname %s", p->hostname);
                _exit(EXIT_SETUP);
        }
        if (p->unshare_net) {
                int r = loopback_up();
                if (r < 0) {
                        report(errfd, r, EXIT_SETUP, "bring up loopback");
                        _exit(EXIT_SETUP);
                }
        }
        if (chdir(p->chdir) < 0) {
                report(errfd, errno, EXIT_SETUP, "chdir %s", p->chdir);
                _exit(EXIT_SETUP);
        }
        int r = install_forwarding();
        if (r < 0) {
                report(errfd, r, EXIT_SETUP, "sigaction");
                _exit(EXIT_SETUP);
        }
        /* Locked down before the fork, so the payload inherits empty
         * capability sets, no_new_privs and the filter, and pid 1 keeps
         * nothing it could be robbed of. */
        r = caps_drop_all();
        if (r < 0) {
                report(errfd, r, EXIT_SETUP, "drop capabilities");
                _exit(EXIT_SETUP);
        }
        r = seccomp_apply(&p->seccomp);
        if (r < 0) {
                report(errfd, r, EXIT_SETUP, "load seccomp filter");
                _exit(EXIT_SETUP);
        }

        /* The payload gets the CPUs vrun was started with (see sandbox_run). */
        sched_setaffinity(0, sizeof saved_affinity, &saved_affinity);

        /* vfork semantics: no page tables to copy, and pid 1 has nothing to
         * do until the payload has exec'd. */
        size_t stack_size = 64 * 1024;
        void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED) {
                report(errfd, errno, EXIT_SETUP, "mmap payload stack");
                _exit(EXIT_SETUP);
        }
        PayloadArgs args = { .plan = p, .errfd = errfd };
#if defined(__SANITIZE_ADDRESS__)
        /* ASan cannot follow a child that runs on a foreign stack in our
         * address space; sanitizer builds pay for a real fork. */
        pid_t pid = fork();
        if (pid == 0)
                _exit(payload_exec(&args));
#else
        pid_t pid = clone(payload_exec, (char *) stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
#endif
        if (pid < 0) {
                report(errfd, errno, EXIT_SETUP, "start payload");
                _exit(EXIT_SETUP);
        }
        munmap(stack, stack_size);
        payload_pid = pid;
        if (p->timeout_sec) {
                /* Kept open only to say "timed out": the parent reads reports until EOF. */
                struct sigaction sa = { .sa_handler = on_timeout };
                sigemptyset(&sa.sa_mask);
                sigaction(SIGALRM, &sa, NULL);
                alarm(p->timeout_sec > UINT_MAX ? UINT_MAX : (unsigned) p->timeout_sec);
        } else
                close(errfd);

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
                                report(errfd, ETIME, EXIT_TIMEOUT, "timeout: killed after %llu s",
                                       (unsigned long long) p->timeout_sec);
                                _exit(EXIT_TIMEOUT);
                        }
                        /* Tell vrun first: it need not wait for the kernel to
                         * tear the namespaces down behind pid 1's exit. */
                        int st = exit_status_from_wait(status);
                        (void) !write(status_fd, &st, sizeof st);
                        _exit(st);
                }
                /* an orphan reparented to us: reaped, nothing more */
        }
}

/* ---- the parent ------------------------------------------------------------------------------------ */

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
static void reclaim_foreground(void) {
        if (foreground_tty < 0 || tcgetpgrp(foreground_tty) == getpgrp())
                return;
        sigset_t ttou, old;
        sigemptyset(&ttou);
        sigaddset(&ttou, SIGTTOU);
        sigprocmask(SIG_BLOCK, &ttou, &old);
        (void) tcsetpgrp(foreground_tty, getpgrp());
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
        struct sigaction old[ELEMENTSOF(forwarded_signals)];
        bool installed;
} Forwarding;

static void forwarding_start(Forwarding *f, pid_t pid) {
        child_pid = pid;
        struct sigaction sa = { .sa_sigaction = parent_forward, .sa_flags = SA_SIGINFO | SA_RESTART };
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                sigaction(forwarded_signals[i], &sa, &f->old[i]);
        f->installed = true;
}

static void forwarding_stop(Forwarding *f) {
        if (f->installed)
                for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                        sigaction(forwarded_signals[i], &f->old[i], NULL);
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

static int run_parent(const Plan *p, Pipes *pp, CgroupPids *cg, sigset_t *old) {
        foreground_tty = find_foreground_tty();
        fflush(NULL);
        pid_t pid = (pid_t) syscall(SYS_clone, (unsigned long) p->clone_flags | SIGCHLD, NULL, NULL, NULL, 0);
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
                pid1_main(p, pp->report[1], pp->alive[0]);
        }
        close_fd(&pp->status[1]);
        /* Only the sandbox stays in the run's cgroup. */
        if (cg->dir)
                (void) cgroup_pids_leave(cg);
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
        if (!have_status || cg->dir || have_report)
                while (waitpid(pid, &status, 0) < 0)
                        if (errno != EINTR) {
                                r = log_error_errno(errno, "waitpid: %m");
                                break;
                        }
        forwarding_stop(&fw);
        reclaim_foreground();
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

int sandbox_run(const Plan *p) {
        Pipes pp;
        int r = pipes_open(&pp);
        if (r < 0)
                return log_error_errno(r, "pipe: %m");
        status_fd = pp.status[1];

        /* RLIMIT_NPROC does not bind the host's root (the kernel exempts
         * uid 0 whatever the namespace): a pids cgroup does. */
        CgroupPids cg = {};
        if (geteuid() == 0)
                for (size_t k = 0; k < p->n_rlimits; k++) {
                        if (p->rlimits[k].resource != RLIMIT_NPROC)
                                continue;
                        r = cgroup_pids_enter(p->rlimits[k].value + 1 /* pid 1 */, &cg);
                        if (r < 0) {
                                pipes_close(&pp);
                                return log_error_errno(r,
                                                       "the profile limits processes (nproc %llu), which for root "
                                                       "needs a pids cgroup: %m",
                                                       (unsigned long long) p->rlimits[k].value);
                        }
                }

        sigset_t block, old;
        sigemptyset(&block);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                sigaddset(&block, forwarded_signals[i]);
        sigprocmask(SIG_BLOCK, &block, &old);

        /* Run parent and child on this CPU: the parent only sleeps, and on a
         * VM waking a process on an idle CPU costs more than all of the
         * child's setup. pid 1 gives the payload the original mask back. */
        if (sched_getaffinity(0, sizeof saved_affinity, &saved_affinity) == 0) {
                cpu_set_t one;
                int cpu = sched_getcpu();
                CPU_ZERO(&one);
                if (cpu >= 0) {
                        CPU_SET(cpu, &one);
                        (void) sched_setaffinity(0, sizeof one, &one);
                }
        }

        r = run_parent(p, &pp, &cg, &old);
        (void) sched_setaffinity(0, sizeof saved_affinity, &saved_affinity);
        pipes_close(&pp);
        status_fd = -1;
        cgroup_pids_done(&cg);
        return r;
}

int sandbox_run_with_stdout(const Plan *p, int stdout_fd) {
        payload_stdout = stdout_fd;
        int r = sandbox_run(p);
        payload_stdout = -1;
        return r;
}
