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

#include "vrun/verbs/doctor-probes.h"

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
