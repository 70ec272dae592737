/* The payload's seccomp filter: its exported text against golden files, then the filter loaded in
 * forked children, where each denied call must fail with the filter's errno. Arguments are chosen
 * so that the kernel itself would answer differently (ENOENT, EBADF, EINVAL, success), so the
 * errno proves the filter answered, as root and unprivileged alike.
 *
 * Usage: test-seccomp GOLDEN_DIR. With VRUN_UPDATE_GOLDEN=1 the golden files are rewritten:
 *   VRUN_UPDATE_GOLDEN=1 meson test -C build test-seccomp */
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "golden.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "vrun/sandbox/seccomp.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define MISSING_PATH "/nonexistent-vrun-test"

/* The call must fail with errno |want|. */
#define CHECK_ERRNO(call, want)                                                                                       \
        do {                                                                                                          \
                errno = 0;                                                                                            \
                long _r = (long) (call);                                                                              \
                int _e = errno;                                                                                       \
                tap_checks++;                                                                                         \
                if (_r != -1 || _e != (want)) {                                                                       \
                        tap_failures++;                                                                               \
                        fprintf(stderr, "not ok %s:%d: %s = %ld (%s), expected -1 (%s)\n", __FILE__, __LINE__, #call, \
                                _r, _r == -1 ? strerror(_e) : "-", strerror(want));                                   \
                }                                                                                                     \
        } while (0)

extern char **environ;

static int fd_read_all(int fd, char **ret) {
        struct stat st;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0)
                return negative_errno();
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (len < (size_t) st.st_size) {
                ssize_t n = read(fd, buf + len, (size_t) st.st_size - len);
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

static int export_to_string(const SeccompPolicy *p, char **ret) {
        _cleanup_close_ int fd = memfd_create("pfc", MFD_CLOEXEC);
        int r;

        if (fd < 0)
                return negative_errno();
        r = seccomp_export_text(p, fd);
        if (r < 0)
                return r;
        return fd_read_all(fd, ret);
}

static void check_golden(const char *golden_dir, const char *name, const SeccompPolicy *p) {
        _cleanup_free_ char *text = NULL, *path = NULL;

        CHECK_INTEQ(export_to_string(p, &text), 0);
        if (!text)
                return;
        path = path_join(golden_dir, name);
        CHECK(path);
        if (path)
                check_golden_text(path, text, "test-seccomp");
}

static bool text_contains(const SeccompPolicy *p, const char *needle) {
        _cleanup_free_ char *text = NULL;

        if (export_to_string(p, &text) < 0)
                return false;
        return strstr(text, needle);
}

static void test_policy_errors(void) {
        void *ctx = NULL;

        {
                const char *deny[] = { "no_such_syscall", NULL };
                SeccompPolicy p = { .deny_extra = deny };
                CHECK_INTEQ(seccomp_build(&p, &ctx), -ENOENT);
                CHECK(!ctx);
        }
        {
                const char *allow[] = { "no_such_syscall", NULL };
                SeccompPolicy p = { .allow_extra = allow };
                CHECK_INTEQ(seccomp_build(&p, &ctx), -ENOENT);
        }
        {
                /* errno 0 would fake success; above 4095 the kernel cannot return it. */
                const char *deny[] = { "getcwd", NULL };
                const int zero[] = { 0 }, huge[] = { 4096 };
                SeccompPolicy p = { .deny_extra = deny, .deny_extra_errno = zero };
                CHECK_INTEQ(seccomp_build(&p, &ctx), -EINVAL);
                p.deny_extra_errno = huge;
                CHECK_INTEQ(seccomp_build(&p, &ctx), -EINVAL);
        }
        {
                const char *both[] = { "getcwd", NULL };
                SeccompPolicy p = { .deny_extra = both, .allow_extra = both };
                CHECK_INTEQ(seccomp_build(&p, &ctx), -EINVAL);
        }
        {
                const char *deny[] = { "getcwd", "getcwd", NULL };
                const int conflicting[] = { EPERM, ENOSYS }, same[] = { EPERM, EPERM };
                SeccompPolicy p = { .deny_extra = deny, .deny_extra_errno = conflicting };
                CHECK_INTEQ(seccomp_build(&p, &ctx), -EINVAL);
                p.deny_extra_errno = same;
                CHECK_INTEQ(seccomp_build(&p, &ctx), 0);
                CHECK(ctx);
                seccomp_filter_free(ctx);
                ctx = NULL;
        }
        {
                /* Known to libseccomp, absent on this architecture: nothing to deny here. */
                bool x86_64 = seccomp_arch_native() == SCMP_ARCH_X86_64;
                const char *deny[] = { x86_64 ? "socketcall" : "getcwd", NULL };
                SeccompPolicy p = { .deny_extra = deny };
                CHECK_INTEQ(seccomp_build(&p, &ctx), 0);
                seccomp_filter_free(ctx);
                ctx = NULL;
        }
        seccomp_filter_free(NULL);
}

static void test_policy_overrides(void) {
        const char *allow[] = { "bpf", NULL };
        const char *deny[] = { "getcwd", "mount", NULL };
        const int deny_errno[] = { ENOSYS, ENOSYS };
        SeccompPolicy p = { .allow_extra = allow, .deny_extra = deny, .deny_extra_errno = deny_errno };
        SeccompPolicy def = { 0 };

        CHECK(text_contains(&def, "\"bpf\""));
        CHECK(!text_contains(&p, "\"bpf\""));
        CHECK(text_contains(&p, "if ($syscall == 79)\n    action ERRNO(38);"));
        /* deny_extra replaces the built-in rule, it does not add a second one. */
        CHECK(text_contains(&p, "if ($syscall == 165)\n    action ERRNO(38);"));
}

typedef void (*ChildFn)(void);

/* Runs fn in a forked child, which reports its own failures and exits with its own verdict. */
static void run_in_child(const char *what, ChildFn fn) {
        int status = 0;
        pid_t pid;

        fflush(stdout);
        fflush(stderr);
        pid = fork();
        CHECK(pid >= 0);
        if (pid < 0)
                return;
        if (pid == 0) {
                int rc;
                tap_checks = tap_failures = 0;
                fn();
                printf("# %s: ", what);
                rc = tap_finish();
                fflush(stdout);
                _exit(rc);
        }
        CHECK_INTEQ(waitpid(pid, &status, 0), pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (!WIFEXITED(status))
                fprintf(stderr, "not ok: child '%s' died with status 0x%x\n", what, status);
}

/* Runs fn in a grandchild and returns its wait status. */
static int wait_status_of(void (*fn)(void)) {
        int status = 0;
        pid_t pid = fork();

        if (pid < 0)
                return -1;
        if (pid == 0) {
                /* It is meant to die of SIGSYS: no core file for that. */
                (void) setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
                (void) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
                fn();
                _exit(0);
        }
        if (waitpid(pid, &status, 0) != pid)
                return -1;
        return status;
}

static void *thread_main(void *arg) {
        return arg;
}

static void check_threads_and_exec(void) {
        /* glibc tries clone3 first for threads and posix_spawn: ENOSYS must make it fall back. */
        pthread_t t;
        void *res = NULL;
        CHECK_INTEQ(pthread_create(&t, NULL, thread_main, (void *) 0x2a), 0);
        CHECK_INTEQ(pthread_join(t, &res), 0);
        CHECK(res == (void *) 0x2a);

        if (access("/bin/true", X_OK) == 0) {
                char *argv[] = { (char *) "true", NULL };
                pid_t pid;
                int status = 0;
                CHECK_INTEQ(posix_spawn(&pid, "/bin/true", NULL, NULL, argv, environ), 0);
                CHECK_INTEQ(waitpid(pid, &status, 0), pid);
                CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
}

#if defined(__x86_64__)
static void x32_getpid(void) {
        syscall(0x40000000 /* __X32_SYSCALL_BIT */ | SYS_getpid);
}

static void i386_getpid(void) {
        long ret;
        /* 20 is getpid in the i386 table. */
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
        (void) ret;
}
#endif

static void check_other_abis(bool i386_works) {
#if defined(__x86_64__)
        int status = wait_status_of(x32_getpid);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
        if (i386_works) {
                status = wait_status_of(i386_getpid);
                CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
        } else
                printf("# i386 syscalls do not work in this kernel: not tested\n");
#endif
}

static bool i386_abi_works(void) {
#if defined(__x86_64__)
        int status = wait_status_of(i386_getpid);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
#else
        return false;
#endif
}

static void apply(const SeccompPolicy *p) {
        /* As vrun does: caps_drop_all() sets no_new_privs before the filter goes in. */
        CHECK_INTEQ(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
        CHECK_INTEQ(seccomp_apply(p), 0);
}

static void check_clone_namespaces_denied(void) {
        static const unsigned long flags[] = {
                CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,    CLONE_NEWUSER,
                CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, CLONE_NEWTIME,
        };

        for (size_t i = 0; i < ELEMENTSOF(flags); i++) {
                errno = 0;
                long pid = syscall(SYS_clone, flags[i] | SIGCHLD, NULL, NULL, NULL, NULL);
                int e = errno;
                if (pid == 0)
                        _exit(0);
                if (pid > 0)
                        (void) waitpid((pid_t) pid, NULL, 0);
                CHECK_INTEQ(pid, -1);
                CHECK_INTEQ(e, EPERM);
        }
        /* The kernel ignores the upper half of the flags; so does the rule. */
        errno = 0;
        long pid = syscall(SYS_clone, (1UL << 32) | CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL);
        int e = errno;
        if (pid == 0)
                _exit(0);
        if (pid > 0)
                (void) waitpid((pid_t) pid, NULL, 0);
        CHECK_INTEQ(pid, -1);
        CHECK_INTEQ(e, EPERM);
}

static void check_default_rules(void) {
        _cleanup_close_ int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        char c = 'x';
        struct file_handle fh = { .handle_bytes = 0 };
        int mount_id;

        CHECK(null_fd >= 0);

        CHECK_ERRNO(mount(NULL, MISSING_PATH, "tmpfs", 0, NULL), EPERM);
        CHECK_ERRNO(umount2(MISSING_PATH, 0), EPERM);
        CHECK_ERRNO(chroot(MISSING_PATH), EPERM);
        CHECK_ERRNO(syscall(SYS_pivot_root, MISSING_PATH, MISSING_PATH), EPERM);
        CHECK_ERRNO(syscall(SYS_open_tree, AT_FDCWD, MISSING_PATH, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_move_mount, -1, "", -1, "", 0), EPERM);
        CHECK_ERRNO(syscall(SYS_fspick, AT_FDCWD, MISSING_PATH, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_mount_setattr, -1, "", 0, NULL, 0), EPERM);

        CHECK_ERRNO(unshare(0), EPERM);
        CHECK_ERRNO(unshare(CLONE_NEWUSER), EPERM);
        CHECK_ERRNO(unshare(CLONE_NEWUSER | CLONE_NEWNS), EPERM);
        CHECK_ERRNO(setns(-1, 0), EPERM);
        check_clone_namespaces_denied();
        /* With size 0 the kernel would say EINVAL, and nothing forks if the rule is missing. */
        CHECK_ERRNO(syscall(SYS_clone3, NULL, 0), ENOSYS);

        CHECK_ERRNO(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_add_key, "user", "vrun", "x", 1, KEY_SPEC_SESSION_KEYRING), EPERM);
        CHECK_ERRNO(syscall(SYS_bpf, -1, NULL, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_io_uring_setup, 0, NULL), EPERM);
        CHECK_ERRNO(syscall(SYS_userfaultfd, O_CLOEXEC), EPERM);
        CHECK_ERRNO(name_to_handle_at(AT_FDCWD, MISSING_PATH, &fh, &mount_id, 0), EPERM);
        CHECK_ERRNO(open_by_handle_at(-1, &fh, O_RDONLY), EPERM);
        CHECK_ERRNO(syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_finit_module, -1, "", 0), EPERM);

        /* /dev/null is no tty: the driver would say ENOTTY, so EPERM comes from the filter. */
        CHECK_ERRNO(ioctl(null_fd, TIOCSTI, &c), EPERM);
        CHECK_ERRNO(syscall(SYS_ioctl, null_fd, (unsigned long) TIOCSTI | (1UL << 32), &c), EPERM);
        CHECK_ERRNO(syscall(SYS_ioctl, null_fd, (unsigned long) TIOCLINUX | (1UL << 63), &c), EPERM);
        CHECK_ERRNO(ioctl(null_fd, TIOCLINUX, &c), EPERM);
        CHECK_ERRNO(ioctl(null_fd, TCGETS, &c), ENOTTY);
}

static void check_still_works(void) {
        int status = 0;
        pid_t pid;

        CHECK(getpid() > 0);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0)
                _exit(7);
        CHECK_INTEQ(waitpid(pid, &status, 0), pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7);
        check_threads_and_exec();
}

static void child_default(void) {
        bool i386 = i386_abi_works();
        int fd;

        apply(&(SeccompPolicy){ 0 });
        check_default_rules();
        check_still_works();
        check_other_abis(i386);

        /* Only the strict policy restricts these. */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        if (fd >= 0)
                close(fd);
        CHECK_ERRNO(syscall(SYS_ptrace, PTRACE_CONT, getpid(), NULL, NULL), ESRCH);
        CHECK_ERRNO(syscall(SYS_process_vm_readv, getpid(), NULL, 1, NULL, 0, 0), EFAULT);
        CHECK(personality(0xffffffff) >= 0);
}

static void check_socket_works(int family, int type) {
        int fd = socket(family, type | SOCK_CLOEXEC, 0);
        CHECK(fd >= 0);
        if (fd < 0)
                fprintf(stderr, "# socket(%d): %s\n", family, strerror(errno));
        else
                close(fd);
}

static void child_strict(void) {
        int pair[2] = { -1, -1 };
        unsigned long persona = (unsigned long) personality(0xffffffff);

        apply(&(SeccompPolicy){ .strict = true });
        check_default_rules();
        check_still_works();

        check_socket_works(AF_UNIX, SOCK_STREAM);
        check_socket_works(AF_UNIX, SOCK_DGRAM);
        CHECK_INTEQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
        close(pair[0]);
        close(pair[1]);
        CHECK_ERRNO(socket(AF_INET, SOCK_STREAM, 0), EAFNOSUPPORT);
        CHECK_ERRNO(socket(AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT);
        CHECK_ERRNO(socket(AF_NETLINK, SOCK_RAW, 0), EAFNOSUPPORT);
        CHECK_ERRNO(socket(AF_UNSPEC, SOCK_STREAM, 0), EAFNOSUPPORT);
        CHECK_ERRNO(socket(AF_PACKET, SOCK_RAW, 0), EAFNOSUPPORT);
        /* The kernel would truncate this to AF_UNIX and succeed. */
        CHECK_ERRNO(syscall(SYS_socket, (1UL << 32) | AF_UNIX, SOCK_STREAM, 0), EAFNOSUPPORT);
        CHECK_ERRNO(socketpair(AF_INET, SOCK_STREAM, 0, pair), EAFNOSUPPORT);

        CHECK_ERRNO(syscall(SYS_ptrace, PTRACE_CONT, getpid(), NULL, NULL), EPERM);
        CHECK_ERRNO(syscall(SYS_process_vm_readv, getpid(), NULL, 1, NULL, 0, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_process_vm_writev, getpid(), NULL, 1, NULL, 0, 0), EPERM);
        CHECK_ERRNO(syscall(SYS_pidfd_getfd, -1, 0, 0), EPERM);

        /* The query, however it is spelled: the kernel reads the low 32 bits. */
        CHECK_INTEQ((unsigned long) personality(0xffffffff), persona);
        CHECK_INTEQ((unsigned long) personality((unsigned long) -1), persona);
        CHECK_INTEQ(syscall(SYS_personality, 0x1ffffffffUL), (long) persona);
        CHECK_ERRNO(personality(PER_LINUX), EPERM);
        CHECK_ERRNO(personality(ADDR_NO_RANDOMIZE), EPERM);
        CHECK_ERRNO(personality(0x7fffffff), EPERM);
        CHECK_ERRNO(personality(0xfffffffe), EPERM);
        /* The kernel would set PER_LINUX from this one. */
        CHECK_ERRNO(syscall(SYS_personality, 1UL << 32), EPERM);
}

static void child_strict_inet(void) {
        /* IPv6 may be off in this kernel: the filter must not change the answer. */
        int fd6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool inet6 = fd6 >= 0;
        if (fd6 >= 0)
                close(fd6);

        apply(&(SeccompPolicy){ .strict = true, .allow_inet = true });

        check_socket_works(AF_UNIX, SOCK_STREAM);
        check_socket_works(AF_INET, SOCK_STREAM);
        check_socket_works(AF_INET, SOCK_DGRAM);
        if (inet6)
                check_socket_works(AF_INET6, SOCK_STREAM);
        /* Every family but the three allowed ones, including the gap between AF_INET and
         * AF_INET6 and far beyond AF_MAX. */
        for (long family = 0; family < 64; family++)
                if (family != AF_UNIX && family != AF_INET && family != AF_INET6)
                        CHECK_ERRNO(socket((int) family, SOCK_STREAM, 0), EAFNOSUPPORT);
        CHECK_ERRNO(syscall(SYS_socket, -1L, SOCK_STREAM, 0), EAFNOSUPPORT);
        CHECK_ERRNO(syscall(SYS_socket, 0x7fffffffL, SOCK_STREAM, 0), EAFNOSUPPORT);
        CHECK_ERRNO(syscall(SYS_socket, (1UL << 32) | AF_INET, SOCK_STREAM, 0), EAFNOSUPPORT);
        CHECK_ERRNO(syscall(SYS_socket, (1UL << 63) | AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT);
}

static void child_overrides(void) {
        const char *allow[] = { "unshare", NULL };
        const char *deny[] = { "getcwd", "mount", NULL };
        const int deny_errno[] = { ENOSYS, EACCES };
        char buf[256];

        apply(&(SeccompPolicy){ .allow_extra = allow, .deny_extra = deny, .deny_extra_errno = deny_errno });

        CHECK_INTEQ(unshare(0), 0);
        CHECK_ERRNO(syscall(SYS_getcwd, buf, sizeof buf), ENOSYS);
        CHECK_ERRNO(mount(NULL, MISSING_PATH, "tmpfs", 0, NULL), EACCES);
        CHECK_ERRNO(umount2(MISSING_PATH, 0), EPERM);
}

int main(int argc, char **argv) {
        const char *golden_dir = argc > 1 ? argv[1] : getenv("VRUN_GOLDEN_DIR");

        if (!golden_dir) {
                fprintf(stderr, "usage: %s GOLDEN_DIR\n", argv[0]);
                return 2;
        }

        /* PFC names the architecture and syscall numbers; the golden files are x86_64's. */
        if (seccomp_arch_native() == SCMP_ARCH_X86_64) {
                check_golden(golden_dir, "default.pfc", &(SeccompPolicy){ 0 });
                check_golden(golden_dir, "strict.pfc", &(SeccompPolicy){ .strict = true });
                check_golden(golden_dir, "strict-inet.pfc", &(SeccompPolicy){ .strict = true, .allow_inet = true });
        } else
                printf("# golden files skipped: they are for x86_64\n");

        test_policy_errors();
        test_policy_overrides();

        run_in_child("default", child_default);
        run_in_child("strict", child_strict);
        run_in_child("strict+inet", child_strict_inet);
        run_in_child("overrides", child_overrides);

        return tap_finish();
}
