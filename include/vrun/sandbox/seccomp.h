/* The seccomp filter installed right before execve of the payload. Built with
 * libseccomp. Building is separate from loading so the filter can be exported
 * as text (golden-file tests) without loading anything. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct SeccompPolicy {
        bool strict;     /* untrusted profile: also ptrace, process_vm_*, personality,
                           * and socket families other than AF_UNIX (+INET when allow_inet) */
        bool allow_inet; /* with strict: AF_INET/AF_INET6 sockets allowed */
        /* extra syscalls to deny, with the errno to return; NULL-terminated
         * names and a parallel array of errnos (may be NULL: EPERM). An entry
         * replaces the built-in rule for that syscall. */
        const char *const *deny_extra;
        const int *deny_extra_errno;
        /* syscalls the profile allows back out of the default deny list */
        const char *const *allow_extra;
} SeccompPolicy;

/* Builds the filter; *ret is a scmp_filter_ctx (void* here so callers need
 * not include seccomp.h); free it with seccomp_filter_free(). Unknown syscall
 * names give -ENOENT; an errno outside 1..4095, a name both allowed and
 * denied, or one denied twice with different errnos give -EINVAL;
 * -EOPNOTSUPP means vrun was built with kernel headers too old to name every
 * syscall it denies. */
int seccomp_build(const SeccompPolicy *p, void **ret);
/* Not "seccomp_release": libseccomp exports that name itself. */
void seccomp_filter_free(void *ctx);
/* Builds and loads the filter into the calling thread (and any other thread of
 * the process). Sets no_new_privs if caps_drop_all() has not. */
int seccomp_apply(const SeccompPolicy *p);
/* Writes the filter as libseccomp's PFC text to fd. */
int seccomp_export_text(const SeccompPolicy *p, int fd);

/* One rule of the filter: syscall nr (native numbering) fails with error,
 * whatever its arguments or, with has_cmp, when argument arg compares true
 * (op is libseccomp's enum scmp_compare; datum_a the mask for MASKED_EQ). */
typedef struct SeccompRule {
        int nr;
        int error;
        bool has_cmp;
        unsigned arg;
        int op;
        uint64_t datum_a;
        uint64_t datum_b;
} SeccompRule;
/* The rules seccomp_build() adds, in its order, for exporters (OCI JSON);
 * the default action is allow and other ABIs kill the process. Free *ret. */
int seccomp_rules(const SeccompPolicy *p, SeccompRule **ret, size_t *ret_n);
