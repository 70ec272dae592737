#include "vrun/sandbox/seccomp.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "util/cleanup.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The kernel clamps larger values in a filter's return data to this (MAX_ERRNO). */
#define SECCOMP_ERRNO_MAX 4095
/* A profile names a handful of syscalls; thousands would be a broken or hostile profile. */
#define SECCOMP_NAMES_MAX 512

typedef struct SyscallDenial {
        int nr;
        int error;
} SyscallDenial;

/* Denied whatever the arguments. SCMP_SYS() takes the numbers from the kernel headers of the
 * build, so a syscall newer than libseccomp's own table is still denied. */
static const SyscallDenial denials_default[] = {
        /* Old and new mount API: any of these could lift the masks over the host's
         * site-packages. */
        { SCMP_SYS(mount), EPERM },
        { SCMP_SYS(umount2), EPERM },
        { SCMP_SYS(pivot_root), EPERM },
        { SCMP_SYS(chroot), EPERM },
        { SCMP_SYS(open_tree), EPERM },
        { SCMP_SYS(move_mount), EPERM },
        { SCMP_SYS(fsopen), EPERM },
        { SCMP_SYS(fsconfig), EPERM },
        { SCMP_SYS(fsmount), EPERM },
        { SCMP_SYS(fspick), EPERM },
        { SCMP_SYS(mount_setattr), EPERM },
        /* A new user namespace hands back a full capability set, with which a new mount namespace
         * could be rearranged at will. */
        { SCMP_SYS(unshare), EPERM },
        { SCMP_SYS(setns), EPERM },
        /* clone3 passes its flags in memory, out of the filter's reach; ENOSYS makes glibc fall
         * back to clone, whose flags the rules below can see. */
        { SCMP_SYS(clone3), ENOSYS },
        /* The keyring is not namespaced: keys would be shared with the host user. */
        { SCMP_SYS(keyctl), EPERM },
        { SCMP_SYS(add_key), EPERM },
        { SCMP_SYS(request_key), EPERM },
        /* Large kernel attack surface that Python programs do not need. */
        { SCMP_SYS(bpf), EPERM },
        { SCMP_SYS(userfaultfd), EPERM },
        { SCMP_SYS(perf_event_open), EPERM },
        { SCMP_SYS(io_uring_setup), EPERM },
        { SCMP_SYS(io_uring_enter), EPERM },
        { SCMP_SYS(io_uring_register), EPERM },
        /* File handles open files by inode, around the mount tree that confines the payload. */
        { SCMP_SYS(name_to_handle_at), EPERM },
        { SCMP_SYS(open_by_handle_at), EPERM },
        /* Host-wide state. The payload has no capability to use these anyway; denying them keeps
         * a kernel bug in their permission checks out of reach. syslog(2) is the kernel log,
         * which can leak kernel addresses where dmesg_restrict is off (syslog(3) uses /dev/log
         * and is unaffected). */
        { SCMP_SYS(kexec_load), EPERM },
        { SCMP_SYS(kexec_file_load), EPERM },
        { SCMP_SYS(init_module), EPERM },
        { SCMP_SYS(finit_module), EPERM },
        { SCMP_SYS(delete_module), EPERM },
        { SCMP_SYS(swapon), EPERM },
        { SCMP_SYS(swapoff), EPERM },
        { SCMP_SYS(acct), EPERM },
        { SCMP_SYS(quotactl), EPERM },
        { SCMP_SYS(lookup_dcookie), EPERM },
        { SCMP_SYS(syslog), EPERM },
};

/* An untrusted payload may not look into or steer other processes of the same user. pidfd_getfd
 * takes the same ptrace permission as process_vm_readv and steals a file descriptor instead. */
static const SyscallDenial denials_strict[] = {
        { SCMP_SYS(ptrace), EPERM },
        { SCMP_SYS(process_vm_readv), EPERM },
        { SCMP_SYS(process_vm_writev), EPERM },
        { SCMP_SYS(pidfd_getfd), EPERM },
};

static const uint64_t clone_namespace_flags[] = {
        CLONE_NEWNS,
        CLONE_NEWUTS,
        CLONE_NEWIPC,
        CLONE_NEWUSER,
        CLONE_NEWPID,
        CLONE_NEWNET,
        CLONE_NEWCGROUP,
        /* clone() reads this bit as part of the exit signal and cannot create a time namespace;
         * no valid signal sets it, so matching it costs nothing and keeps the list whole. */
        CLONE_NEWTIME,
};

/* Where the rules go: into a libseccomp filter, or, for exporters, into a list. */
typedef struct RuleSink {
        scmp_filter_ctx ctx;
        SeccompRule *rules;
        size_t n_rules;
} RuleSink;

static int sink_add(RuleSink *s, int nr, int error, const struct scmp_arg_cmp *cmp) {
        if (s->ctx)
                return seccomp_rule_add_array(s->ctx, SCMP_ACT_ERRNO(error), nr, cmp ? 1 : 0, cmp);
        SeccompRule *l = realloc(s->rules, (s->n_rules + 1) * sizeof *l);
        if (!l)
                return -ENOMEM;
        s->rules = l;
        l[s->n_rules++] = (SeccompRule){
                .nr = nr,
                .error = error,
                .has_cmp = cmp != NULL,
                .arg = cmp ? cmp->arg : 0,
                .op = cmp ? (int) cmp->op : 0,
                .datum_a = cmp ? cmp->datum_a : 0,
                .datum_b = cmp ? cmp->datum_b : 0,
        };
        return 0;
}

static void filter_freep(scmp_filter_ctx *ctx) {
        if (*ctx)
                seccomp_release(*ctx);
}

/* libseccomp answers __NR_SCMP_ERROR for a name it has never heard of, and a negative pseudo
 * number for a syscall that exists only on other architectures. */
static int syscall_resolve(const char *name, int *ret_nr) {
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return -ENOENT;
        *ret_nr = nr;
        return 0;
}

static bool names_contain(const char *const *names, int nr) {
        for (size_t i = 0; names && names[i]; i++)
                if (seccomp_syscall_resolve_name(names[i]) == nr)
                        return true;
        return false;
}

static int deny_extra_errno(const SeccompPolicy *p, size_t i) {
        return p->deny_extra_errno ? p->deny_extra_errno[i] : EPERM;
}

static int policy_check(const SeccompPolicy *p) {
        int nr, r;

        for (size_t i = 0; p->allow_extra && p->allow_extra[i]; i++) {
                if (i >= SECCOMP_NAMES_MAX)
                        return -E2BIG;
                r = syscall_resolve(p->allow_extra[i], &nr);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; p->deny_extra && p->deny_extra[i]; i++) {
                int error = deny_extra_errno(p, i);

                if (i >= SECCOMP_NAMES_MAX)
                        return -E2BIG;
                /* errno 0 would make the syscall look successful without running it. */
                if (error <= 0 || error > SECCOMP_ERRNO_MAX)
                        return -EINVAL;
                r = syscall_resolve(p->deny_extra[i], &nr);
                if (r < 0)
                        return r;
                if (names_contain(p->allow_extra, nr))
                        return -EINVAL;
                /* libseccomp silently keeps the first of two rules that disagree. */
                for (size_t j = 0; j < i; j++)
                        if (seccomp_syscall_resolve_name(p->deny_extra[j]) == nr && deny_extra_errno(p, j) != error)
                                return -EINVAL;
        }

        return 0;
}

/* Adds a built-in denial unless the profile overrides it: allow_extra lifts it, deny_extra
 * replaces it with its own errno (two rules for one syscall would conflict). */
static int deny_builtin(RuleSink *s, const SeccompPolicy *p, int nr, int error, struct scmp_arg_cmp cmp, bool has_cmp) {
        /* libseccomp's placeholder for a syscall missing from the kernel headers of the build: a
         * filter without it would leave a hole, so refuse to build one. */
        if (nr < 0)
                return -EOPNOTSUPP;
        if (names_contain(p->allow_extra, nr) || names_contain(p->deny_extra, nr))
                return 0;
        return sink_add(s, nr, error, has_cmp ? &cmp : NULL);
}

static int deny_table(RuleSink *s, const SeccompPolicy *p, const SyscallDenial *table, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int r = deny_builtin(s, p, table[i].nr, table[i].error, (struct scmp_arg_cmp){ 0 }, false);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int deny_clone_namespaces(RuleSink *s, const SeccompPolicy *p) {
        uint32_t arch = seccomp_arch_native();
        /* s390 passes the stack first and the flags second. */
        unsigned flags_arg = arch == SCMP_ARCH_S390 || arch == SCMP_ARCH_S390X ? 1 : 0;

        /* One rule per flag: a rule's comparisons are ANDed and only one may look at an argument,
         * so "any of these bits" takes one masked comparison per bit. */
        for (size_t i = 0; i < ELEMENTSOF(clone_namespace_flags); i++) {
                uint64_t f = clone_namespace_flags[i];
                int r = deny_builtin(s, p, SCMP_SYS(clone), EPERM, SCMP_CMP(flags_arg, SCMP_CMP_MASKED_EQ, f, f), true);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int deny_terminal_injection(RuleSink *s, const SeccompPolicy *p) {
        /* The kernel truncates the request to 32 bits, so the upper half must not get a caller
         * past the rule. TIOCSTI pushes input into the terminal of whoever started vrun;
         * TIOCLINUX can do the same through the console selection buffer. */
        static const uint64_t requests[] = { TIOCSTI, TIOCLINUX };

        for (size_t i = 0; i < ELEMENTSOF(requests); i++) {
                int r = deny_builtin(s, p, SCMP_SYS(ioctl), EPERM,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, requests[i]), true);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Denies every value of argument |arg| but the |allowed| ones (sorted, distinct). A rule takes one
 * comparison per argument, so the complement is built from rules of one comparison each: below
 * the smallest, above the largest, and every gap in between cut into aligned power-of-two blocks
 * that a masked comparison matches whole. The 64-bit value is compared: a caller that sets the
 * upper half to smuggle an allowed low half past the kernel's truncation is denied too. */
static int deny_values_except(RuleSink *s, const SeccompPolicy *p, int nr, int error, unsigned arg,
                              const uint64_t *allowed, size_t n) {
        int r;

        if (n == 1)
                return deny_builtin(s, p, nr, error, SCMP_CMP(arg, SCMP_CMP_NE, allowed[0]), true);

        if (allowed[0] > 0) {
                r = deny_builtin(s, p, nr, error, SCMP_CMP(arg, SCMP_CMP_LT, allowed[0]), true);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i + 1 < n; i++) {
                /* lo >= 1 and hi < UINT64_MAX here: neither a block nor lo += size overflows. */
                uint64_t lo = allowed[i] + 1, hi = allowed[i + 1] - 1;

                while (lo <= hi) {
                        uint64_t size = lo & -lo;

                        while (size > hi - lo + 1)
                                size >>= 1;
                        r = deny_builtin(s, p, nr, error, SCMP_CMP(arg, SCMP_CMP_MASKED_EQ, ~(size - 1), lo), true);
                        if (r < 0)
                                return r;
                        lo += size;
                }
        }

        if (allowed[n - 1] < UINT64_MAX) {
                r = deny_builtin(s, p, nr, error, SCMP_CMP(arg, SCMP_CMP_GT, allowed[n - 1]), true);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int deny_strict(RuleSink *s, const SeccompPolicy *p) {
        static const uint64_t families_local[] = { AF_UNIX };
        static const uint64_t families_inet[] = { AF_UNIX, AF_INET, AF_INET6 };
        const uint64_t *families = p->allow_inet ? families_inet : families_local;
        size_t n_families = p->allow_inet ? ELEMENTSOF(families_inet) : ELEMENTSOF(families_local);
        int r;

        r = deny_table(s, p, denials_strict, ELEMENTSOF(denials_strict));
        if (r < 0)
                return r;

        /* Only the query, 0xffffffff, is allowed: a persona such as ADDR_NO_RANDOMIZE or
         * READ_IMPLIES_EXEC weakens the programs the payload executes next. The kernel reads the
         * low 32 bits, and glibc passes personality(-1) through sign-extended, so the rule looks
         * at those bits alone: any of them clear means a persona is being set. Allowing PER_LINUX
         * (0) as well would take some sixty rules, and nothing a Python program runs sets it. */
        for (unsigned bit = 0; bit < 32; bit++) {
                r = deny_builtin(s, p, SCMP_SYS(personality), EPERM, SCMP_A0(SCMP_CMP_MASKED_EQ, UINT64_C(1) << bit, 0),
                                 true);
                if (r < 0)
                        return r;
        }

        /* EAFNOSUPPORT is what a kernel without that family answers; programs handle it. */
        r = deny_values_except(s, p, SCMP_SYS(socket), EAFNOSUPPORT, 0, families, n_families);
        if (r < 0)
                return r;
        return deny_values_except(s, p, SCMP_SYS(socketpair), EAFNOSUPPORT, 0, families, n_families);
}

static int deny_profile_extra(RuleSink *s, const SeccompPolicy *p) {
        for (size_t i = 0; p->deny_extra && p->deny_extra[i]; i++) {
                int nr = seccomp_syscall_resolve_name(p->deny_extra[i]);
                int r;

                /* A syscall this architecture does not have: a portable profile may name it. */
                if (nr < 0)
                        continue;
                r = sink_add(s, nr, deny_extra_errno(p, i), NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_rules(RuleSink *s, const SeccompPolicy *p) {
        int r;

        r = deny_table(s, p, denials_default, ELEMENTSOF(denials_default));
        if (r < 0)
                return r;
        r = deny_clone_namespaces(s, p);
        if (r < 0)
                return r;
        r = deny_terminal_injection(s, p);
        if (r < 0)
                return r;
        if (p->strict) {
                r = deny_strict(s, p);
                if (r < 0)
                        return r;
        }
        r = deny_profile_extra(s, p);
        if (r < 0)
                return r;

        return 0;
}

int seccomp_build(const SeccompPolicy *p, void **ret) {
        _cleanup_(filter_freep) scmp_filter_ctx ctx = NULL;
        int r;

        r = policy_check(p);
        if (r < 0)
                return r;

        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;

        /* A syscall through another ABI (i386 int $0x80, x32 numbers on x86_64) would be checked
         * against none of the rules, and a native Python payload never makes one: it is an escape
         * attempt, so the whole process dies (killing one thread would leave the rest running).
         * libseccomp sends x32 numbers on x86_64 here as well when x32 is not in the filter. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r < 0)
                return r;
        /* Loading without no_new_privs needs CAP_SYS_ADMIN; let libseccomp set it if
         * caps_drop_all() has not. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
        if (r < 0)
                return r;
        /* Every thread that could exist before execve() must be filtered too; costs nothing while
         * vrun is single-threaded. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        if (r < 0)
                return r;
        /* Report the kernel's errno from seccomp_load() instead of -ECANCELED. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
        if (r < 0)
                return r;

        r = add_rules(&(RuleSink){ .ctx = ctx }, p);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(ctx);
        return 0;
}

void seccomp_filter_free(void *ctx) {
        if (ctx)
                seccomp_release(ctx);
}

int seccomp_apply(const SeccompPolicy *p) {
        _cleanup_(filter_freep) scmp_filter_ctx ctx = NULL;
        int r;

        r = seccomp_build(p, &ctx);
        if (r < 0)
                return r;
        return seccomp_load(ctx);
}

int seccomp_export_text(const SeccompPolicy *p, int fd) {
        _cleanup_(filter_freep) scmp_filter_ctx ctx = NULL;
        int r;

        r = seccomp_build(p, &ctx);
        if (r < 0)
                return r;
        return seccomp_export_pfc(ctx, fd);
}

int seccomp_rules(const SeccompPolicy *p, SeccompRule **ret, size_t *ret_n) {
        RuleSink s = {};
        int r = policy_check(p);
        if (r >= 0)
                r = add_rules(&s, p);
        if (r < 0) {
                free(s.rules);
                return r;
        }
        *ret = s.rules;
        *ret_n = s.n_rules;
        return 0;
}
