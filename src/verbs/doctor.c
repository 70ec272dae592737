/* vrun doctor: does this kernel (and the container around vrun, if any) give
 * vrun what it needs? Each capability is tried for real, with the executor's
 * own steps (vrun/sandbox/exec.h), in a forked child that _exits, so nothing
 * the probes create (user, mount, pid, net namespaces, mounts, seccomp
 * filters) outlives them. */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include "util/libmnt.h"

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "vrun/sandbox/exec.h"
#include "vrun/sandbox/plan.h"
#include "vrun/sandbox/cgroup.h"
#include "vrun/sandbox/idmap.h"
#include "vrun/sandbox/landlock.h"
#include "vrun/sandbox/seccomp.h"
#include "vrun/verbs/verbs.h"
#include "vrun/exit.h"

#define PROBE_TIMEOUT_SEC 10

/* ---- what a probe child tells the parent ------------------------------------------------ */

/* Smaller than PIPE_BUF: one write is atomic. */
typedef struct ProbeReport {
        int err;        /* 0: the probe got through */
        char step[240]; /* the step that failed, or a note on success */
} ProbeReport;

static void probe_say(int fd, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void probe_say(int fd, int err, const char *fmt, ...) {
        ProbeReport r = { .err = err < 0 ? -err : err };
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r.step, sizeof r.step, fmt, ap);
        va_end(ap);
        (void) !write(fd, &r, sizeof r);
}

/* Runs fn in a child; the child's first report wins. A child that reports
 * nothing and exits 0 passed. */
static void probe_run(void (*fn)(int fd), ProbeReport *ret) {
        int p[2];
        *ret = (ProbeReport){};
        if (pipe2(p, O_CLOEXEC) < 0) {
                *ret = (ProbeReport){ .err = errno };
                snprintf(ret->step, sizeof ret->step, "pipe2");
                return;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                *ret = (ProbeReport){ .err = errno };
                snprintf(ret->step, sizeof ret->step, "fork");
                close(p[0]);
                close(p[1]);
                return;
        }
        if (pid == 0) {
                close(p[0]);
                /* A probe that hangs must not hang doctor. */
                alarm(PROBE_TIMEOUT_SEC);
                fn(p[1]);
                _exit(0);
        }
        close(p[1]);
        ProbeReport r = {};
        ssize_t n;
        do
                n = read(p[0], &r, sizeof r);
        while (n < 0 && errno == EINTR);
        close(p[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (n == (ssize_t) sizeof r) {
                r.step[sizeof r.step - 1] = 0;
                *ret = r;
                return;
        }
        if (WIFSIGNALED(status)) {
                ret->err = EIO;
                snprintf(ret->step, sizeof ret->step, "the probe died of signal %d%s", WTERMSIG(status),
                         WTERMSIG(status) == SIGALRM ? " (timed out)" : "");
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                ret->err = EIO;
                snprintf(ret->step, sizeof ret->step, "the probe exited with status %d", WEXITSTATUS(status));
        }
}

/* ---- the probes: the executor's own steps (run in the child) ---------------------------- */

/* The slots the probes capture into: the plan's fixed ones (the devices of
 * /dev and /dev/null for the masks of /proc), then one of their own. */
#define PROBE_SLOTS  16
#define PROBE_SLOT_1 15

static bool probe_ctx(int fd, ExecCtx *c) {
        int r = exec_ctx_init(c, PROBE_SLOTS);
        if (r < 0)
                probe_say(fd, r, "allocate the probe's slots");
        return r >= 0;
}

/* Reports a failed step as the sandbox would; returns whether it worked. */
static bool ok(int fd, ExecCtx *c, int r) {
        if (r < 0)
                probe_say(fd, r, "%s", c->failed);
        return r >= 0;
}

static MountStep probe_tmpfs_step(const char *dst, char **dsts) {
        dsts[0] = (char *) dst;
        dsts[1] = NULL;
        return (MountStep){ .kind = MOUNT_TMPFS,
                            .dsts = dsts,
                            .mode = 0755,
                            .attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                            .owner_uid = UID_NONE,
                            .why = "probe" };
}

/* What the sandbox does first: a user and a mount namespace, our own uid
 * and gid mapped to themselves, mounts private. */
static bool enter_userns(int fd, ExecCtx *c) {
        IdMapStep map = { .uid_inside = geteuid(),
                          .uid_outside = geteuid(),
                          .gid_inside = getegid(),
                          .gid_outside = getegid(),
                          .deny_setgroups = true };
        if (!probe_ctx(fd, c))
                return false;
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) {
                probe_say(fd, errno, "unshare(CLONE_NEWUSER|CLONE_NEWNS)");
                return false;
        }
        return ok(fd, c, exec_id_map(c, &map)) && ok(fd, c, exec_propagation(c));
}

/* A scratch tmpfs on /tmp of the probe's own mount namespace. */
static bool scratch_tmpfs(int fd, ExecCtx *c) {
        char *dsts[2];
        MountStep m = probe_tmpfs_step("/tmp", dsts);
        return ok(fd, c, exec_mount(c, &m));
}

static void probe_userns(int fd) {
        uid_t uid = geteuid();
        _cleanup_(exec_ctx_done) ExecCtx c = {};
        if (!enter_userns(fd, &c))
                return;
        if (geteuid() != uid)
                probe_say(fd, EPERM, "uid %u is %u after writing uid_map", (unsigned) uid, (unsigned) geteuid());
}

static void probe_namespaces(int fd) {
        _cleanup_(exec_ctx_done) ExecCtx c = {};
        if (!enter_userns(fd, &c))
                return;
        if (unshare(CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS) < 0) {
                probe_say(fd, errno, "unshare(CLONE_NEWPID|CLONE_NEWIPC|CLONE_NEWUTS)");
                return;
        }
        if (!ok(fd, &c, exec_hostname(&c, "vrun")))
                return;
        pid_t pid = fork();
        if (pid < 0) {
                probe_say(fd, errno, "fork into the new pid namespace");
                return;
        }
        if (pid == 0)
                _exit(getpid() == 1 ? 0 : 1);
        int status;
        if (waitpid(pid, &status, 0) < 0)
                probe_say(fd, errno, "wait for pid 1");
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                probe_say(fd, EINVAL, "the first process of the new pid namespace is not pid 1");
}

static void probe_netns(int fd) {
        _cleanup_(exec_ctx_done) ExecCtx c = {};
        if (!enter_userns(fd, &c))
                return;
        if (unshare(CLONE_NEWNET) < 0) {
                probe_say(fd, errno, "unshare(CLONE_NEWNET)");
                return;
        }
        (void) ok(fd, &c, exec_loopback(&c));
}

static void probe_tmpfs(int fd) {
        _cleanup_(exec_ctx_done) ExecCtx c = {};
        if (!enter_userns(fd, &c) || !scratch_tmpfs(fd, &c))
                return;
        if (mkdir("/tmp/probe", 0755) < 0)
                probe_say(fd, errno, "mkdir on the new tmpfs");
}

/* The captures every plan starts with: the devices of /dev, /dev/null. */
static bool capture_devices(int fd, ExecCtx *c) {
        const DevSpec *d = plan_dev_spec();
        for (size_t k = 0; k < d->n_nodes; k++) {
                char path[64];
                snprintf(path, sizeof path, "/dev/%s", d->nodes[k].name);
                CaptureStep s = { .kind = CAPTURE_NODE,
                                  .slot = d->nodes[k].slot,
                                  .src = { .slot = -1, .path = path },
                                  .if_present = true,
                                  .why = "device" };
                if (!ok(fd, c, exec_capture(c, &s)))
                        return false;
        }
        CaptureStep null = { .kind = CAPTURE_TREE,
                             .slot = plan_proc_spec()->null_slot,
                             .src = { .slot = -1, .path = (char *) "/dev/null" },
                             .readonly = true,
                             .why = "masks of /proc" };
        return ok(fd, c, exec_capture(c, &null));
}

static void probe_proc(int fd) {
        _cleanup_(exec_ctx_done) ExecCtx c = {};
        if (!enter_userns(fd, &c) || !scratch_tmpfs(fd, &c) || !capture_devices(fd, &c))
                return;
        if (unshare(CLONE_NEWPID) < 0) {
                probe_say(fd, errno, "unshare(CLONE_NEWPID)");
                return;
        }
        /* proc belongs to the pid namespace of the mounter's children. */
        pid_t pid = fork();
        if (pid < 0) {
                probe_say(fd, errno, "fork into the new pid namespace");
                return;
        }
        if (pid == 0) {
                char *dsts[] = { (char *) "/tmp/proc", NULL };
                MountStep m = { .kind = MOUNT_PROC, .dsts = dsts, .proc = plan_proc_spec(), .why = "probe" };
                if (ok(fd, &c, exec_mount(&c, &m)) && access("/tmp/proc/1/status", F_OK) < 0)
                        probe_say(fd, errno, "read the new proc (/proc/1/status)");
                _exit(0);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
}

static void probe_devpts(int fd) {
        _cleanup_(exec_ctx_done) ExecCtx c = {};
        if (!enter_userns(fd, &c) || !scratch_tmpfs(fd, &c) || !capture_devices(fd, &c))
                return;
        char *dsts[] = { (char *) "/tmp/dev", NULL };
        MountStep m = { .kind = MOUNT_DEV, .dsts = dsts, .dev = plan_dev_spec(), .why = "probe" };
        if (ok(fd, &c, exec_mount(&c, &m)) && access("/tmp/dev/pts/ptmx", F_OK) < 0)
                probe_say(fd, errno, "find the new devpts (/dev/pts/ptmx)");
}

static void probe_overlay(int fd) {
        _cleanup_(exec_ctx_done) ExecCtx c = {};
        if (!enter_userns(fd, &c) || !scratch_tmpfs(fd, &c))
                return;
        /* The lower layer on the scratch tmpfs, the upper one on a private
         * tmpfs, as the sandbox has them. */
        static const char *const dirs[] = { "/tmp/lower", "/tmp/merged" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (mkdir(dirs[i], 0755) < 0) {
                        probe_say(fd, errno, "mkdir %s", dirs[i]);
                        return;
                }
        CaptureStep cap = { .kind = CAPTURE_OVERLAY,
                            .slot = PROBE_SLOT_1,
                            .src = { .slot = -1, .path = (char *) "/tmp/lower" },
                            .why = "probe" };
        char *dsts[] = { (char *) "/tmp/merged", NULL };
        MountStep m = { .kind = MOUNT_CAPTURED, .slot = PROBE_SLOT_1, .dsts = dsts, .why = "overlay" };
        if (!ok(fd, &c, exec_capture(&c, &cap)) || !ok(fd, &c, exec_mount(&c, &m)))
                return;
        int r = write_file_at(AT_FDCWD, "/tmp/merged/probe", "x", 1, 0644, 0);
        if (r < 0) {
                probe_say(fd, r, "write through the overlay");
                return;
        }
        if (access("/tmp/lower/probe", F_OK) == 0)
                probe_say(fd, EINVAL, "the write went to the lower layer");
}

static void probe_mount_api(int fd) {
        _cleanup_(exec_ctx_done) ExecCtx c = {};
        /* tmpfs: fsopen, fsconfig, fsmount, move_mount; the capture:
         * open_tree and mount_setattr; its mount: move_mount. */
        if (!enter_userns(fd, &c) || !scratch_tmpfs(fd, &c))
                return;
        CaptureStep cap = { .kind = CAPTURE_TREE,
                            .slot = PROBE_SLOT_1,
                            .src = { .slot = -1, .path = (char *) "/tmp" },
                            .readonly = true,
                            .why = "read-only clone of" };
        char *dsts[] = { (char *) "/tmp", NULL };
        MountStep m = { .kind = MOUNT_CAPTURED, .slot = PROBE_SLOT_1, .dsts = dsts, .readonly = true, .why = "clone" };
        if (!ok(fd, &c, exec_capture(&c, &cap)) || !ok(fd, &c, exec_mount(&c, &m)))
                return;
        if (mkdir("/tmp/probe", 0755) == 0)
                probe_say(fd, EINVAL, "the read-only clone is writable");
        else if (errno != EROFS)
                probe_say(fd, errno, "mkdir on the read-only clone (expected EROFS)");
}

static void probe_seccomp(int fd) {
        int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
        if (mode < 0) {
                probe_say(fd, errno, "prctl(PR_GET_SECCOMP)");
                return;
        }
        uint32_t action = SECCOMP_RET_ERRNO;
        if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) < 0) {
                probe_say(fd, errno, "seccomp(SECCOMP_GET_ACTION_AVAIL, SECCOMP_RET_ERRNO)");
                return;
        }
        /* vrun's own default filter, then a syscall it denies. */
        int r = seccomp_apply(&(SeccompPolicy){});
        if (r < 0) {
                probe_say(fd, r, "load vrun's seccomp filter");
                return;
        }
        if (unshare(CLONE_NEWUTS) == 0) {
                probe_say(fd, EINVAL, "the filter did not deny unshare(CLONE_NEWUTS)");
                return;
        }
        if (errno != EPERM) {
                probe_say(fd, errno, "unshare(CLONE_NEWUTS) under the filter (expected EPERM)");
                return;
        }
        if (mode == 2)
                probe_say(fd, 0, "already under a seccomp filter (a container's?); vrun's stacks on it");
}

static void probe_landlock(int fd) {
        int abi = landlock_abi();
        if (abi < 0) {
                probe_say(fd, -abi, "landlock_create_ruleset(LANDLOCK_CREATE_RULESET_VERSION)");
                return;
        }
        if (!(landlock_scopes_supported() & LANDLOCK_SCOPE_SIGNAL_BIT)) {
                probe_say(fd, EOPNOTSUPP, "Landlock ABI %d has no scopes (ABI 6, Linux >= 6.12)", abi);
                return;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                probe_say(fd, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
                return;
        }
        int r = landlock_restrict_scopes(LANDLOCK_SCOPE_SIGNAL_BIT | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET_BIT);
        if (r < 0) {
                probe_say(fd, -r, "enter a Landlock domain with scopes");
                return;
        }
        /* doctor itself is outside the domain now */
        if (kill(getppid(), 0) == 0) {
                probe_say(fd, EINVAL, "kill() still reaches a process outside the domain");
                return;
        }
        probe_say(fd, 0, "ABI %d", abi);
}

static void probe_idmap(int fd) {
        if (!idmap_is_host_root()) {
                probe_say(fd, 0, "not needed: vrun is not run by the host's root");
                return;
        }
        uid_t id;
        _cleanup_close_ int userns = -1, tree = -1;
        int r = idmap_pick_host_id(&id);
        if (r >= 0 && (r = idmap_userns_open(id, &userns)) < 0) {
                probe_say(fd, -r, "a user namespace mapping 0 to host id %u", (unsigned) id);
                return;
        }
        if ((r = idmap_clone("/tmp", userns, &tree)) < 0) {
                probe_say(fd, -r, "an idmapped clone of /tmp");
                return;
        }
        probe_say(fd, 0, "0 inside is host id %u; the env and the working directory idmapped", (unsigned) id);
}

static void probe_cgroup(int fd) {
        const char *layout = NULL;
        unsigned want = CGROUP_MEMORY | CGROUP_PIDS | CGROUP_CPU;
        unsigned got = cgroup_available(want, &layout);
        if (got != want) {
                probe_say(fd, EACCES, "no writable cgroup for %s%s%s%s", cgroup_controllers_name(want & ~got),
                          got ? " (have: " : "", got ? cgroup_controllers_name(got) : "", got ? ")" : "");
                return;
        }
        probe_say(fd, 0, "cgroup %s", layout);
}

/* ---- the checks ------------------------------------------------------------------------- */

typedef enum Status { STATUS_OK, STATUS_FAIL, STATUS_SKIP, STATUS_NOTE } Status;

typedef struct Result {
        Status status;
        char detail[512]; /* ok: what was found; fail: why; skip: why not tried */
        char fix[512];    /* fail only */
} Result;

/* Every sandboxed run needs these. */
#define BREAKS_ALL "vrun run, shell and prove (every sandboxed run; vrun create still works)"

typedef struct Check {
        const char *id;     /* JSON */
        const char *what;   /* the line's text */
        const char *done;   /* what passing shows, after "what: " */
        const char *breaks; /* what does not work when this fails */
        void (*probe)(int fd);
        bool needs_userns;   /* skipped when the user namespace probe failed */
        const char *fix;     /* the usual fix; a diagnosis may replace it */
        const char *without; /* non-NULL: vrun works without it, weaker; a failure is a note saying how */
} Check;

static const Check checks[] = {
        { "user-namespace", "user namespace", "unshare(CLONE_NEWUSER|CLONE_NEWNS), own uid and gid mapped", BREAKS_ALL,
          probe_userns, false, NULL },
        { "namespaces", "pid, ipc and uts namespaces", "inside the user namespace; pid 1 and a hostname", BREAKS_ALL,
          probe_namespaces, true, "a kernel built with CONFIG_PID_NS, CONFIG_IPC_NS and CONFIG_UTS_NS" },
        { "network-namespace", "network namespace", "loopback up",
          "--unshare-net and profiles with \"network\": \"none\" (the untrusted profile)", probe_netns, true,
          "a kernel built with CONFIG_NET_NS; or run with --share-net" },
        { "tmpfs", "tmpfs in a user namespace", NULL, BREAKS_ALL, probe_tmpfs, true, NULL },
        { "proc", "proc in a new pid namespace", NULL, BREAKS_ALL, probe_proc, true,
          "proc can be mounted in a user namespace only where the host's /proc is fully visible: "
          "a container must not mask /proc paths (docker: --security-opt systempaths=unconfined; "
          "podman: --security-opt unmask=ALL)" },
        { "devpts", "devpts in a user namespace", "newinstance", BREAKS_ALL, probe_devpts, true,
          "a kernel built with CONFIG_UNIX98_PTYS (devpts)" },
        { "overlayfs", "overlayfs in a user namespace", "userxattr, upper layer on a tmpfs",
          "--ephemeral and profiles with \"env\": \"ephemeral\" (the untrusted profile)", probe_overlay, true,
          "Linux >= 5.11 with overlayfs (modprobe overlay; CONFIG_OVERLAY_FS); or run without --ephemeral "
          "and with a profile whose env is \"rw\" or \"ro\"" },
        { "mount-api", "new mount API", "fsopen, fsconfig, fsmount, move_mount, open_tree, mount_setattr", BREAKS_ALL,
          probe_mount_api, true, "Linux >= 5.12 (mount_setattr); vrun has no fallback to the old API" },
        { "seccomp", "seccomp", "vrun's default filter loads and denies what it should", BREAKS_ALL, probe_seccomp,
          false,
          "a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER; a container must allow seccomp(2) and "
          "prctl(PR_SET_SECCOMP)" },
        { "landlock", "Landlock scopes", "signals and abstract unix sockets end at the sandbox", NULL, probe_landlock,
          false, "Linux >= 6.12 with Landlock enabled (lsm= on the kernel command line)",
          "without them a program's kill(0) reaches the caller's process group when stdin is a terminal (vrun "
          "gives it a session of its own otherwise), and host abstract unix sockets stay reachable under the "
          "install profile" },
        { "idmap", "unprivileged root", NULL, "vrun run, shell and prove started by root", probe_idmap, false,
          "Linux >= 5.12 with idmapped mounts on the filesystems of your envs and working directories" },
        { "cgroup", "cgroup budget", "memory, pids and cpu of the whole sandbox", NULL, probe_cgroup, false,
          "a delegated cgroup v2 subtree (systemd-run --user --scope -p Delegate=yes vrun ...)",
          "profiles with limits (untrusted, install) bound memory and CPU per process only: RLIMIT_AS, "
          "RLIMIT_CPU and the timeout per process, RLIMIT_NPROC per user, every tmpfs by size and inodes, "
          "memfds and SysV shm denied (untrusted)" },
};

/* Reads a small integer sysctl; -ENOENT when the kernel has no such knob. */
static int read_sysctl(const char *path, long *ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_full_file_at(AT_FDCWD, path, 64, &text, NULL);
        if (r < 0)
                return r;
        char *end;
        errno = 0;
        long v = strtol(text, &end, 10);
        if (errno || end == text)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* Is our own uid mapped in the user namespace we run in? Unmapped, we
 * cannot create a user namespace of our own. */
static bool uid_mapped(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/uid_map", "re");
        if (!f)
                return true;
        unsigned long inside, outside, count, uid = (unsigned long) geteuid();
        /* NOLINTNEXTLINE(cert-err34-c): the kernel writes this file, in this format */
        while (fscanf(f, "%lu %lu %lu", &inside, &outside, &count) == 3)
                if (uid >= inside && uid - inside < count)
                        return uid != 65534 || count > 1;
        return false;
}

/* The sysctls that restrict user namespaces exempt CAP_SYS_ADMIN in the
 * initial user namespace: root, unless root of a user namespace itself. */
static bool privileged(void) {
        if (geteuid() != 0)
                return false;
        _cleanup_fclose_ FILE *f = fopen("/proc/self/uid_map", "re");
        unsigned long inside, outside, count;
        /* NOLINTNEXTLINE(cert-err34-c): the kernel writes this file, in this format */
        return f && fscanf(f, "%lu %lu %lu", &inside, &outside, &count) == 3 && inside == 0 && outside == 0 &&
               count == 4294967295UL;
}

static bool in_container(void) {
        return access("/.dockerenv", F_OK) == 0 || access("/run/.containerenv", F_OK) == 0;
}

/* proc may be mounted in a user namespace only where no part of the
 * visible /proc is covered by another mount (container runtimes cover
 * /proc/kcore, /proc/sys, ... with masks). Names the covered paths. */
static const char *proc_covered(char *buf, size_t size) {
        const LibMnt *m = libmnt_get();
        if (!m)
                return NULL;
        struct libmnt_table *t = m->new_table_from_file("/proc/self/mountinfo");
        if (!t)
                return NULL;
        struct libmnt_iter *it = m->new_iter(MNT_ITER_FORWARD);
        struct libmnt_fs *fs;
        size_t n = 0, found = 0;
        n = (size_t) snprintf(buf, size, "mounts cover parts of /proc here:");
        while (it && n < size && m->table_next_fs(t, it, &fs) == 0) {
                const char *target = m->fs_get_target(fs);
                if (!target || strncmp(target, "/proc/", 6) != 0)
                        continue;
                if (found++ < 4)
                        n += (size_t) snprintf(buf + n, size - n, " %s", target);
        }
        if (found > 4 && n < size)
                snprintf(buf + n, size - n, " and %zu more", found - 4);
        if (it)
                m->free_iter(it);
        m->unref_table(t);
        return found ? buf : NULL;
}

typedef struct Sysctls {
        int max_user_ns_r, clone_r, apparmor_r;
        long max_user_ns, clone, apparmor;
} Sysctls;

/* Does a sysctl explain why a user-namespace operation failed with err?
 * Fills fix and returns the cause, or returns NULL. */
static const char *diagnose_sysctls(int err, const Sysctls *s, char *fix, size_t size) {
        bool root = privileged();
        if (s->max_user_ns_r >= 0 && s->max_user_ns == 0) {
                snprintf(fix, size,
                         "as root: sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/); "
                         "inside a container or an outer user namespace, whoever sets it up must allow "
                         "nested user namespaces");
                return "user.max_user_namespaces is 0";
        }
        if (err == ENOSPC) {
                snprintf(fix, size, "raise user.max_user_namespaces (sysctl -w user.max_user_namespaces=15000)");
                return "the limit of user namespaces is reached";
        }
        if (!root && s->clone_r >= 0 && s->clone == 0) {
                snprintf(fix, size,
                         "as root: sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)");
                return "kernel.unprivileged_userns_clone is 0";
        }
        if (!root && s->apparmor_r >= 0 && s->apparmor != 0) {
                snprintf(fix, size,
                         "allow vrun in AppArmor: /etc/apparmor.d/vrun with \"abi <abi/4.0>, include "
                         "<tunables/global> profile vrun /usr/local/bin/vrun flags=(unconfined) { userns, }\" "
                         "(use the path of your vrun) and apparmor_parser -r /etc/apparmor.d/vrun; or as root: "
                         "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0");
                return "AppArmor restricts unprivileged user namespaces";
        }
        return NULL;
}

/* Why could vrun not create a user namespace? Fills fix and returns the
 * cause, or returns NULL when nothing is known. */
static const char *diagnose_userns(int err, const Sysctls *s, char *fix, size_t size) {
        if (err == ENOSYS || err == EINVAL) {
                snprintf(fix, size, "a kernel built with CONFIG_USER_NS=y");
                return "the kernel has no user namespaces";
        }
        const char *cause = diagnose_sysctls(err, s, fix, size);
        if (cause)
                return cause;
        if (!uid_mapped()) {
                snprintf(fix, size,
                         "start the outer user namespace with vrun's uid mapped (for example unshare -r, or "
                         "--map-user/--map-root-user), or run vrun outside it");
                return "vrun runs in a user namespace where its own uid is not mapped";
        }
        if (err == EPERM || err == EACCES) {
                if (in_container())
                        snprintf(fix, size,
                                 "the container must allow user namespaces: docker run --security-opt "
                                 "seccomp=unconfined --security-opt apparmor=unconfined, or a seccomp profile "
                                 "that allows unshare/clone with CLONE_NEWUSER; podman allows them by default");
                else
                        snprintf(fix, size,
                                 "check the security module (SELinux, AppArmor) or seccomp filter that vrun runs "
                                 "under; a container must allow unshare/clone with CLONE_NEWUSER");
                return in_container() ? "the container vrun runs in blocks it" : "denied";
        }
        return NULL;
}

static void check_sysctls(const Sysctls *s, bool userns_ok, Result *ret_max, Result *ret_clone, Result *ret_apparmor) {
        bool root = privileged();

        *ret_max = (Result){};
        if (s->max_user_ns_r == -ENOENT)
                snprintf(ret_max->detail, sizeof ret_max->detail, "not present");
        else if (s->max_user_ns_r < 0)
                snprintf(ret_max->detail, sizeof ret_max->detail, "unreadable: %s", strerror(-s->max_user_ns_r));
        else if (s->max_user_ns > 0)
                snprintf(ret_max->detail, sizeof ret_max->detail, "%ld", s->max_user_ns);
        else {
                ret_max->status = STATUS_FAIL;
                snprintf(ret_max->detail, sizeof ret_max->detail, "is 0: no user namespace can be created");
                snprintf(ret_max->fix, sizeof ret_max->fix,
                         "as root: sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/)");
        }

        /* The other two stop only unprivileged users, and a profile may
         * exempt vrun: what the probe saw decides. */
        *ret_clone = (Result){};
        if (s->clone_r == -ENOENT)
                snprintf(ret_clone->detail, sizeof ret_clone->detail,
                         "not present (only Debian's older kernels have it)");
        else if (s->clone_r < 0)
                snprintf(ret_clone->detail, sizeof ret_clone->detail, "unreadable: %s", strerror(-s->clone_r));
        else if (s->clone != 0 || root || userns_ok)
                snprintf(ret_clone->detail, sizeof ret_clone->detail, "%ld%s", s->clone,
                         s->clone != 0 ? ""
                         : root        ? " (root is not affected)"
                                       : " (but vrun may create them)");
        else {
                ret_clone->status = STATUS_FAIL;
                snprintf(ret_clone->detail, sizeof ret_clone->detail, "is 0: only root may create user namespaces");
                snprintf(ret_clone->fix, sizeof ret_clone->fix,
                         "as root: sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)");
        }

        *ret_apparmor = (Result){};
        if (s->apparmor_r == -ENOENT)
                snprintf(ret_apparmor->detail, sizeof ret_apparmor->detail, "not present (Ubuntu >= 23.10 has it)");
        else if (s->apparmor_r < 0)
                snprintf(ret_apparmor->detail, sizeof ret_apparmor->detail, "unreadable: %s", strerror(-s->apparmor_r));
        else if (s->apparmor == 0 || root || userns_ok)
                snprintf(ret_apparmor->detail, sizeof ret_apparmor->detail, "%ld%s", s->apparmor,
                         s->apparmor == 0 ? ""
                         : root           ? " (root is not affected)"
                                          : " (but vrun is allowed)");
        else {
                ret_apparmor->status = STATUS_FAIL;
                snprintf(ret_apparmor->detail, sizeof ret_apparmor->detail,
                         "is %ld: unconfined programs get user namespaces without capabilities", s->apparmor);
                snprintf(ret_apparmor->fix, sizeof ret_apparmor->fix,
                         "an AppArmor profile for vrun with \"userns,\" (see the user namespace line), or as "
                         "root: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0");
        }
}

/* ---- output ----------------------------------------------------------------------------- */

typedef struct Line {
        const char *id, *what, *breaks;
        Result result;
} Line;

static const char *status_name(Status s) {
        return s == STATUS_OK ? "ok" : s == STATUS_FAIL ? "fail" : s == STATUS_NOTE ? "note" : "skip";
}

static void print_text(const Line *lines, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const Line *l = &lines[i];
                const Result *r = &l->result;
                switch (r->status) {
                case STATUS_OK: printf("ok   %s%s%s\n", l->what, *r->detail ? ": " : "", r->detail); break;
                case STATUS_SKIP: printf("skip %s: %s\n", l->what, r->detail); break;
                case STATUS_NOTE: printf("note %s: %s\n", l->what, r->detail); break;
                case STATUS_FAIL:
                        printf("FAIL %s: %s; breaks %s; fix: %s\n", l->what, r->detail, l->breaks, r->fix);
                        break;
                }
        }
}

static int print_json(const Line *lines, size_t n, bool all_ok) {
        _cleanup_(json_decrefp) json_t *a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const Line *l = &lines[i];
                const Result *r = &l->result;
                bool fail = r->status == STATUS_FAIL;
                json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?}", "id", l->id, "what", l->what, "status",
                                      status_name(r->status), "detail", r->detail, "breaks", fail ? l->breaks : NULL,
                                      "fix", fail ? r->fix : NULL);
                if (!o || json_array_append_new(a, o) < 0)
                        return -ENOMEM;
        }
        _cleanup_(json_decrefp) json_t *top = json_pack("{s:b, s:O}", "ok", all_ok, "checks", a);
        if (!top)
                return -ENOMEM;
        if (json_dumpf(top, stdout, JSON_INDENT(2)) < 0)
                return -EIO;
        fputc('\n', stdout);
        return 0;
}

int doctor_main(const Cli *c) {
        Sysctls s = {};
        s.max_user_ns_r = read_sysctl("/proc/sys/user/max_user_namespaces", &s.max_user_ns);
        s.clone_r = read_sysctl("/proc/sys/kernel/unprivileged_userns_clone", &s.clone);
        s.apparmor_r = read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", &s.apparmor);

        enum { N_SYSCTL = 3 };
        Line lines[N_SYSCTL + ELEMENTSOF(checks)];
        size_t n = 0;
        bool userns_ok = true;

        for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
                const Check *k = &checks[i];
                Line *l = &lines[N_SYSCTL + i];
                *l = (Line){ .id = k->id, .what = k->what, .breaks = k->breaks };
                if (k->needs_userns && !userns_ok) {
                        l->result.status = STATUS_SKIP;
                        snprintf(l->result.detail, sizeof l->result.detail, "not tried: it needs a user namespace");
                        continue;
                }
                ProbeReport rep;
                probe_run(k->probe, &rep);
                if (rep.err == 0) {
                        snprintf(l->result.detail, sizeof l->result.detail, "%s%s%s", k->done ? k->done : "",
                                 k->done && *rep.step ? "; " : "", rep.step);
                        continue;
                }
                if (k->without) {
                        l->result.status = STATUS_NOTE;
                        snprintf(l->result.detail, sizeof l->result.detail, "%s: %s; %s", rep.step, strerror(rep.err),
                                 k->without);
                        continue;
                }
                l->result.status = STATUS_FAIL;
                const char *cause = NULL;
                char fix[sizeof l->result.fix] = "", covered[200];
                /* In a user namespace, EPERM usually comes from what restricts
                 * the namespace, not from the mount or syscall itself. */
                if (strcmp(k->id, "user-namespace") == 0)
                        cause = diagnose_userns(rep.err, &s, fix, sizeof fix);
                else if (rep.err == EPERM || rep.err == EACCES)
                        cause = diagnose_sysctls(rep.err, &s, fix, sizeof fix);
                else if (rep.err == ENOSYS)
                        cause = "the kernel lacks this system call";
                if (!cause && strcmp(k->id, "proc") == 0 && rep.err == EPERM)
                        cause = proc_covered(covered, sizeof covered);
                snprintf(l->result.detail, sizeof l->result.detail, "%s: %s%s%s%s", rep.step, strerror(rep.err),
                         cause ? " (" : "", cause ? cause : "", cause ? ")" : "");
                snprintf(l->result.fix, sizeof l->result.fix, "%s",
                         *fix     ? fix
                         : k->fix ? k->fix
                                  : "see the kernel log (dmesg) for what denied it");
                if (strcmp(k->id, "user-namespace") == 0)
                        userns_ok = false;
        }

        check_sysctls(&s, userns_ok, &lines[0].result, &lines[1].result, &lines[2].result);
        lines[0].id = "max-user-namespaces";
        lines[0].what = "user.max_user_namespaces";
        lines[0].breaks = BREAKS_ALL;
        lines[1].id = "unprivileged-userns-clone";
        lines[1].what = "kernel.unprivileged_userns_clone";
        lines[1].breaks = BREAKS_ALL " for users other than root";
        lines[2].id = "apparmor-restrict-userns";
        lines[2].what = "kernel.apparmor_restrict_unprivileged_userns";
        lines[2].breaks = BREAKS_ALL " for users other than root";
        n = N_SYSCTL + ELEMENTSOF(checks);

        bool all_ok = true;
        for (size_t i = 0; i < n; i++)
                if (lines[i].result.status != STATUS_OK && lines[i].result.status != STATUS_NOTE)
                        all_ok = false;

        if (c->json) {
                int r = print_json(lines, n, all_ok);
                if (r < 0) {
                        log_error_errno(r, "cannot write the report: %m");
                        return EXIT_FAILURE;
                }
        } else
                print_text(lines, n);
        if (fflush(stdout) != 0) {
                log_error_errno(errno, "cannot write the report: %m");
                return EXIT_FAILURE;
        }
        return all_ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
