/* caps_drop_all() must leave the payload nothing: all five capability sets empty and
 * no_new_privs on, read back from /proc/self/status as a user would see them. It runs in a
 * forked child inside a new user namespace, where it holds every capability, as in vrun; so the
 * test works as root and unprivileged. Exit 77 when user namespaces are unavailable, unless
 * VRUN_TESTS_MUST_WORK=1. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "vrun/sandbox/caps.h"

#define EXIT_SKIP 77

/* Returns the value of a "Key:" line of /proc/self/status (capability sets are hex), or -1. */
static long long status_field(const char *status, const char *key) {
        char needle[32];
        const char *line;

        /* The first line is "Name:", so every key we look for follows a newline. */
        snprintf(needle, sizeof needle, "\n%s:", key);
        line = strstr(status, needle);
        if (!line)
                return -1;
        return strtoll(line + strlen(needle), NULL, strncmp(key, "Cap", 3) == 0 ? 16 : 10);
}

static void check_nothing_left(void) {
        static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
        _cleanup_free_ char *status = NULL;

        CHECK_INTEQ(read_full_file_at(AT_FDCWD, "/proc/self/status", 64 * 1024, &status, NULL), 0);
        if (!status)
                return;
        for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
                long long v = status_field(status, sets[i]);
                if (v != 0)
                        fprintf(stderr, "not ok: %s is %llx\n", sets[i], v);
                CHECK_INTEQ(v, 0);
        }
        CHECK_INTEQ(status_field(status, "NoNewPrivs"), 1);
}

static int write_string(const char *path, const char *s) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return loop_write(fd, s, strlen(s));
}

/* Maps ourselves to root inside, as vrun's executor does. */
static int map_to_root(uid_t uid, gid_t gid) {
        char line[64];
        int r;

        snprintf(line, sizeof line, "0 %u 1\n", (unsigned) uid);
        r = write_string("/proc/self/uid_map", line);
        if (r < 0)
                return r;
        r = write_string("/proc/self/setgroups", "deny\n");
        if (r < 0 && r != -ENOENT)
                return r;
        snprintf(line, sizeof line, "0 %u 1\n", (unsigned) gid);
        return write_string("/proc/self/gid_map", line);
}

static int child_in_userns(void) {
        uid_t uid = geteuid();
        gid_t gid = getegid();

        if (unshare(CLONE_NEWUSER) < 0) {
                fprintf(stderr, "# unshare(CLONE_NEWUSER): %s\n", strerror(errno));
                return EXIT_SKIP;
        }
        CHECK_INTEQ(map_to_root(uid, gid), 0);
        /* Holding every capability in the new namespace, as vrun's executor does. */
        CHECK_INTEQ(getuid(), 0);

        CHECK_INTEQ(caps_drop_all(), 0);
        check_nothing_left();
        /* Nothing comes back by becoming root again either. */
        CHECK_INTEQ(setuid(0), 0);
        check_nothing_left();
        /* Idempotent: with nothing left to drop, nothing needs a capability. */
        CHECK_INTEQ(caps_drop_all(), 0);
        check_nothing_left();
        return 0;
}

/* Without capabilities a populated bounding set cannot be emptied; in vrun that means the
 * executor runs outside its user namespace, a real error that must not pass silently. */
static int child_without_caps(void) {
        _cleanup_free_ char *status = NULL;
        long long eff, bnd;

        CHECK_INTEQ(read_full_file_at(AT_FDCWD, "/proc/self/status", 64 * 1024, &status, NULL), 0);
        if (!status)
                return 0;
        eff = status_field(status, "CapEff");
        bnd = status_field(status, "CapBnd");
        if (eff == 0 && bnd != 0)
                CHECK_INTEQ(caps_drop_all(), -EPERM);
        else {
                /* Root on the host, or a caller with an empty bounding set: it must simply work. */
                CHECK_INTEQ(caps_drop_all(), 0);
                check_nothing_left();
        }
        return 0;
}

static int run_in_child(const char *what, int (*fn)(void)) {
        int status = 0;
        pid_t pid;

        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int rc;
                tap_checks = tap_failures = 0;
                if (fn() == EXIT_SKIP)
                        _exit(EXIT_SKIP);
                printf("# %s: ", what);
                rc = tap_finish();
                fflush(stdout);
                _exit(rc);
        }
        if (waitpid(pid, &status, 0) != pid)
                return -errno;
        if (!WIFEXITED(status)) {
                fprintf(stderr, "not ok: child '%s' died with status 0x%x\n", what, status);
                return 1;
        }
        return WEXITSTATUS(status);
}

int main(void) {
        const char *must_work = getenv("VRUN_TESTS_MUST_WORK");
        int rc;

        rc = run_in_child("user namespace", child_in_userns);
        if (rc == EXIT_SKIP) {
                if (must_work && strcmp(must_work, "1") == 0) {
                        fprintf(stderr, "not ok: no user namespaces, VRUN_TESTS_MUST_WORK=1\n");
                        return 1;
                }
                printf("# skipped: user namespaces unavailable\n");
                return EXIT_SKIP;
        }
        CHECK_INTEQ(rc, 0);

        rc = run_in_child("no user namespace", child_without_caps);
        CHECK_INTEQ(rc, 0);

        return tap_finish();
}
