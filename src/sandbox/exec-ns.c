/* The executor's steps that shape the process rather than its mounts: the
 * id maps of the new user namespace, dumpability, hostname, loopback, the
 * working directory, capabilities and seccomp. Also the dispatch of pid 1's
 * steps. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "vrun/sandbox/caps.h"
#include "vrun/sandbox/exec.h"
#include "vrun/sandbox/landlock.h"
#include "vrun/sandbox/seccomp.h"

int exec_fail(ExecCtx *c, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->failed, sizeof c->failed, fmt, ap);
        va_end(ap);
        return r;
}

static int write_proc_self(const char *file, const char *text) {
        _cleanup_close_ int fd = open(file, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        return loop_write(fd, text, strlen(text));
}

int exec_id_map(ExecCtx *c, const IdMapStep *s) {
        char buf[64];
        int r;
        if (s->by_parent) {
                /* vrun has written the maps (exec_pid1 waited for it). pid 1
                 * is still the host's root until it takes the ids of its
                 * namespace, and drops root's supplementary groups, which
                 * would open every file of group root. */
                if (setresgid(s->gid_inside, s->gid_inside, s->gid_inside) < 0 || setgroups(0, NULL) < 0 ||
                    setresuid(s->uid_inside, s->uid_inside, s->uid_inside) < 0)
                        return exec_fail(c, negative_errno(), "become uid %u of the user namespace",
                                         (unsigned) s->uid_inside);
                /* A change of credentials clears the parent-death signal. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                        return exec_fail(c, negative_errno(), "prctl(PR_SET_PDEATHSIG)");
                return 0;
        }
        if (s->deny_setgroups) {
                r = write_proc_self("/proc/self/setgroups", "deny");
                if (r < 0 && r != -ENOENT)
                        return exec_fail(c, r, "write /proc/self/setgroups");
        }
        snprintf(buf, sizeof buf, "%u %u 1\n", (unsigned) s->uid_inside, (unsigned) s->uid_outside);
        if ((r = write_proc_self("/proc/self/uid_map", buf)) < 0)
                return exec_fail(c, r, "write /proc/self/uid_map");
        snprintf(buf, sizeof buf, "%u %u 1\n", (unsigned) s->gid_inside, (unsigned) s->gid_outside);
        if ((r = write_proc_self("/proc/self/gid_map", buf)) < 0)
                return exec_fail(c, r, "write /proc/self/gid_map");
        return 0;
}

int exec_not_dumpable(ExecCtx *c) {
        if (prctl(PR_SET_DUMPABLE, 0) < 0)
                return exec_fail(c, negative_errno(), "prctl(PR_SET_DUMPABLE)");
        return 0;
}

int exec_hostname(ExecCtx *c, const char *name) {
        if (sethostname(name, strlen(name)) < 0)
                return exec_fail(c, negative_errno(), "sethostname %s", name);
        return 0;
}

int exec_loopback(ExecCtx *c) {
        _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return exec_fail(c, negative_errno(), "bring up loopback: socket(AF_INET)");
        struct ifreq ifr = {};
        strcpy(ifr.ifr_name, "lo");
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
                return exec_fail(c, negative_errno(), "bring up loopback: SIOCGIFFLAGS lo");
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
                return exec_fail(c, negative_errno(), "bring up loopback: SIOCSIFFLAGS lo");
        return 0;
}

int exec_chdir(ExecCtx *c, const char *dir) {
        if (chdir(dir) < 0)
                return exec_fail(c, negative_errno(), "chdir %s", dir);
        return 0;
}

int exec_caps(ExecCtx *c) {
        int r = caps_drop_all();
        return r < 0 ? exec_fail(c, r, "drop capabilities") : 0;
}

/* With Landlock scopes, signals (and abstract unix sockets, where the plan
 * says so) end at the sandbox's domain; without them, a session of its own
 * keeps kill(0) off the caller's process group, unless a terminal needs
 * vrun's group for job control. Needs no_new_privs (STEP_CAPS). */
int exec_landlock(ExecCtx *c, unsigned scopes) {
        unsigned have = scopes & landlock_scopes_supported();
        int r = landlock_restrict_scopes(have);
        if (r < 0)
                return exec_fail(c, r, "enter the Landlock domain (scopes: %s)", landlock_scopes_name(have));
        if (!(have & LANDLOCK_SCOPE_SIGNAL_BIT) && !isatty(STDIN_FILENO) && setsid() < 0)
                return exec_fail(c, negative_errno(), "setsid");
        return 0;
}

int exec_seccomp(ExecCtx *c, const SeccompStep *s) {
        int r = seccomp_apply(&s->policy);
        return r < 0 ? exec_fail(c, r, "load seccomp filter") : 0;
}

int exec_step(ExecCtx *c, const Step *s) {
        switch (s->kind) {
        case STEP_ID_MAP: return exec_id_map(c, &s->id_map);
        case STEP_NOT_DUMPABLE: return exec_not_dumpable(c);
        case STEP_PROPAGATION: return exec_propagation(c);
        case STEP_CAPTURE: return exec_capture(c, &s->capture);
        case STEP_ROOT: return exec_root(c, s->root);
        case STEP_MOUNT: return exec_mount(c, &s->mount);
        case STEP_SEAL_ROOT: return exec_seal_root(c);
        case STEP_HOSTNAME: return exec_hostname(c, s->text);
        case STEP_LOOPBACK: return exec_loopback(c);
        case STEP_CHDIR: return exec_chdir(c, s->text);
        case STEP_CAPS: return exec_caps(c);
        case STEP_LANDLOCK: return exec_landlock(c, s->landlock_scopes);
        case STEP_SECCOMP: return exec_seccomp(c, &s->seccomp);
        default: return exec_fail(c, -EINVAL, "step %d out of place in pid 1", (int) s->kind);
        }
}
