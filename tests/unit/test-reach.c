/* What a sandboxed program can reach (issue 11), unit by unit: a Landlock
 * domain with vrun's scopes keeps kill() and connect() to an abstract
 * socket from reaching a process outside it, while both still work inside;
 * root's host id comes from the fallback block or root's subordinate range;
 * the cgroup budget names its controllers. Landlock checks are skipped (exit
 * 77) on a kernel without scopes, unless VRUN_TESTS_MUST_WORK=1. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "vrun/sandbox/cgroup.h"
#include "vrun/sandbox/idmap.h"
#include "vrun/sandbox/landlock.h"

#define EXIT_SKIP 77

/* In a child: 0 when the scoped domain stops both, 1 + what got through. */
static int child_scoped(pid_t outside, const struct sockaddr_un *addr, socklen_t len) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return 10;
        if (landlock_restrict_scopes(LANDLOCK_SCOPE_SIGNAL_BIT | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET_BIT) < 0)
                return 11;
        int bad = 0;
        if (kill(outside, 0) == 0 || errno != EPERM)
                bad |= 1;
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || connect(s, (const struct sockaddr *) addr, len) == 0 || errno != EPERM)
                bad |= 2;
        if (s >= 0)
                close(s);
        /* inside the domain, both still work */
        if (kill(getpid(), 0) < 0)
                bad |= 4;
        return bad;
}

static int test_landlock(void) {
        if (!(landlock_scopes_supported() & LANDLOCK_SCOPE_SIGNAL_BIT))
                return EXIT_SKIP;
        CHECK(landlock_abi() >= 6);
        CHECK_STREQ(landlock_scopes_name(LANDLOCK_SCOPE_SIGNAL_BIT | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET_BIT),
                    "signals, abstract unix sockets");
        CHECK_INTEQ(landlock_restrict_scopes(0), 0);

        int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1, "vrun-test-reach-%ld", (long) getpid());
        socklen_t len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(addr.sun_path + 1));
        CHECK(l >= 0 && bind(l, (struct sockaddr *) &addr, len) == 0 && listen(l, 4) == 0);
        /* the test can reach it itself */
        int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(c >= 0 && connect(c, (struct sockaddr *) &addr, len) == 0);
        close(c);

        pid_t me = getpid(), pid = fork();
        if (pid == 0)
                _exit(child_scoped(me, &addr, len));
        int status = -1;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status));
        CHECK_INTEQ(WEXITSTATUS(status), 0);
        close(l);
        return 0;
}

static void test_idmap(void) {
        uid_t id = 0;
        CHECK_INTEQ(idmap_pick_host_id(&id), 0);
        CHECK(id != 0);
        CHECK(id >= 1000);
}

static void test_cgroup_names(void) {
        CgroupBudget b = { .memory = 1 << 30, .cpus = 1 };
        CHECK_INTEQ(cgroup_budget_controllers(&b), CGROUP_MEMORY | CGROUP_CPU);
        CHECK_STREQ(cgroup_controllers_name(CGROUP_MEMORY | CGROUP_CPU), "memory, cpu");
        CHECK_STREQ(cgroup_controllers_name(0), "none");
        CgroupBudget none = {};
        CHECK_INTEQ(cgroup_budget_controllers(&none), 0);
}

int main(void) {
        test_idmap();
        test_cgroup_names();
        if (test_landlock() == EXIT_SKIP) {
                const char *must = getenv("VRUN_TESTS_MUST_WORK");
                const char *ci = getenv("CI");
                if ((must && strcmp(must, "1") == 0) || (ci && strcmp(ci, "true") == 0)) {
                        printf("not ok: the kernel has no Landlock scopes\n");
                        return 1;
                }
                printf("# skip: the kernel has no Landlock scopes (Linux >= 6.12)\n");
                tap_finish();
                return EXIT_SKIP;
        }
        return tap_finish();
}
