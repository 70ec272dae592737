#include "vrun/sandbox/landlock.h"

#include <errno.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"

/* The kernel headers of the build machine may predate ABI 6: vrun carries
 * the one structure it passes, as the ABI fixes it (fields are only ever
 * appended, and the kernel reads as many bytes as it is given). */
struct vrun_landlock_ruleset_attr {
        /* cppcheck-suppress unusedStructMember ; read by the kernel */
        uint64_t handled_access_fs;
        /* cppcheck-suppress unusedStructMember ; read by the kernel */
        uint64_t handled_access_net;
        /* cppcheck-suppress unusedStructMember ; read by the kernel */
        uint64_t scoped;
};

#define VRUN_LANDLOCK_CREATE_RULESET_VERSION (1u << 0)
#define VRUN_LANDLOCK_ABI_SCOPES             6

int landlock_abi(void) {
        long v = syscall(SYS_landlock_create_ruleset, NULL, 0, VRUN_LANDLOCK_CREATE_RULESET_VERSION);
        if (v < 0)
                return negative_errno();
        return (int) v;
}

unsigned landlock_scopes_supported(void) {
        int abi = landlock_abi();
        if (abi < VRUN_LANDLOCK_ABI_SCOPES)
                return 0;
        return LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET_BIT | LANDLOCK_SCOPE_SIGNAL_BIT;
}

int landlock_restrict_scopes(unsigned scopes) {
        if (scopes == 0)
                return 0;
        if ((scopes & ~landlock_scopes_supported()) != 0)
                return -EOPNOTSUPP;
        struct vrun_landlock_ruleset_attr attr = { .scoped = scopes };
        _cleanup_close_ int fd = (int) syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
        if (fd < 0)
                return negative_errno();
        if (syscall(SYS_landlock_restrict_self, fd, 0) < 0)
                return negative_errno();
        return 0;
}

const char *landlock_scopes_name(unsigned scopes) {
        switch (scopes & (LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET_BIT | LANDLOCK_SCOPE_SIGNAL_BIT)) {
        case LANDLOCK_SCOPE_SIGNAL_BIT: return "signals";
        case LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET_BIT: return "abstract unix sockets";
        case LANDLOCK_SCOPE_SIGNAL_BIT | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET_BIT:
                return "signals, abstract unix sockets";
        default: return "none";
        }
}
