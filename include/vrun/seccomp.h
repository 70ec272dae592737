/* The seccomp filter installed right before execve of the payload. Built with
 * libseccomp. Building is separate from loading so the filter can be exported
 * as text (golden-file tests) without loading anything. */
#pragma once

#include <stdbool.h>

typedef struct SeccompPolicy {
        bool strict;      /* untrusted profile: also ptrace, process_vm_*, personality,
                           * and socket families other than AF_UNIX (+INET when allow_inet) */
        bool allow_inet;  /* with strict: AF_INET/AF_INET6 sockets allowed */
        /* extra syscalls to deny, with the errno to return; NULL-terminated
         * names and a parallel array of errnos (may be NULL). */
        const char * const *deny_extra;
        const int *deny_extra_errno;
        /* syscalls the profile allows back out of the default deny list */
        const char * const *allow_extra;
} SeccompPolicy;

/* Builds the filter; *ret is a scmp_filter_ctx (void* here so callers need
 * not include seccomp.h). Unknown syscall names give -ENOENT. */
int seccomp_build(const SeccompPolicy *p, void **ret);
void seccomp_release(void *ctx);
/* Builds and loads the filter into the calling thread. Needs no_new_privs
 * (set by caps_drop_all) or CAP_SYS_ADMIN. */
int seccomp_apply(const SeccompPolicy *p);
/* Writes the filter as libseccomp's PFC text to fd. */
int seccomp_export_text(const SeccompPolicy *p, int fd);
