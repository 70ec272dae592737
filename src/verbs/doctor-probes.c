/* vrun doctor's probes. Each capability is tried for real, with the executor's
 * own steps (vrun/sandbox/exec.h), in a forked child that _exits, so nothing
 * the probes create (user, mount, pid, net namespaces, mounts, seccomp
 * filters) outlives them. */
#include "vrun/verbs/doctor-probes.h"

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

static void probe_say(int fd, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void probe_say(int fd, int err, const char *fmt, ...) {
        ProbeReport r = { .err = err < 0 ? -err : err };
        va_list ap;
        va_start(ap, fmt);
        /* clang-analyzer 14 loses track of va_start when it enters here from the
         * exported probes (a known false positive of valist.Uninitialized). */
        vsnprintf(r.step, sizeof r.step, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
        va_end(ap);
        (void) !write(fd, &r, sizeof r);
}

/* Runs fn in a child; the child's first report wins. A child that reports
 * nothing and exits 0 passed. */
void probe_run(void (*fn)(int fd), ProbeReport *ret) {
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

void probe_userns(int fd) {
        uid_t uid = geteuid();
        _cleanup_(exec_ctx_done) ExecCtx c = {};
        if (!enter_userns(fd, &c))
                return;
        if (geteuid() != uid)
                probe_say(fd, EPERM, "uid %u is %u after writing uid_map", (unsigned) uid, (unsigned) geteuid());
}

void probe_namespaces(int fd) {
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

void probe_netns(int fd) {
        _cleanup_(exec_ctx_done) ExecCtx c = {};
        if (!enter_userns(fd, &c))
                return;
        if (unshare(CLONE_NEWNET) < 0) {
                probe_say(fd, errno, "unshare(CLONE_NEWNET)");
                return;
        }
        (void) ok(fd, &c, exec_loopback(&c));
}

void probe_tmpfs(int fd) {
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

void probe_proc(int fd) {
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

void probe_devpts(int fd) {
        _cleanup_(exec_ctx_done) ExecCtx c = {};
        if (!enter_userns(fd, &c) || !scratch_tmpfs(fd, &c) || !capture_devices(fd, &c))
                return;
        char *dsts[] = { (char *) "/tmp/dev", NULL };
        MountStep m = { .kind = MOUNT_DEV, .dsts = dsts, .dev = plan_dev_spec(), .why = "probe" };
        if (ok(fd, &c, exec_mount(&c, &m)) && access("/tmp/dev/pts/ptmx", F_OK) < 0)
                probe_say(fd, errno, "find the new devpts (/dev/pts/ptmx)");
}

void probe_overlay(int fd) {
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

void probe_mount_api(int fd) {
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

void probe_seccomp(int fd) {
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

void probe_landlock(int fd) {
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

void probe_idmap(int fd) {
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

void probe_cgroup(int fd) {
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
