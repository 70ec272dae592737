#include "vrun/sandbox/caps.h"

#include <errno.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "util/cleanup.h"

static void cap_freep(cap_t *caps) {
        if (*caps)
                cap_free(*caps);
}

/* The bounding set caps what an execve() of a setuid or file-capability binary could gain;
 * emptied, nothing comes back. */
static int bounding_set_clear(void) {
        cap_value_t n = cap_max_bits();

        /* Dropped without asking first (half the syscalls on every run):
         * in the sandbox's new user namespace pid 1 holds CAP_SETPCAP, and
         * dropping a cap already gone is no error. Without CAP_SETPCAP
         * (EPERM), only a cap still present is a failure. EINVAL: the
         * kernel does not know this cap. */
        for (cap_value_t c = 0; c < n; c++) {
                if (cap_drop_bound(c) < 0) {
                        if (errno == EINVAL || (errno == EPERM && cap_get_bound(c) == 0))
                                continue;
                        return negative_errno();
                }
        }
        return 0;
}

int caps_drop_all(void) {
        _cleanup_(cap_freep) cap_t empty = NULL;
        int r;

        /* First, while CAP_SETPCAP is still effective. */
        r = bounding_set_clear();
        if (r < 0)
                return r;

        /* One prctl instead of libcap's cap_reset_ambient(), which probes
         * every capability on its own: this runs on every `vrun run`. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return negative_errno();

        empty = cap_init();
        if (!empty)
                return negative_errno();
        if (cap_set_proc(empty) < 0)
                return negative_errno();

        /* Also lets seccomp_apply() load its filter without CAP_SYS_ADMIN. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();

        return 0;
}
