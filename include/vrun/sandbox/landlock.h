/* Landlock scoping: what a sandboxed process may still reach outside its
 * own Landlock domain. vrun uses no filesystem or network rules, only the
 * two scopes (Linux >= 6.12, Landlock ABI 6): signals (kill() and friends
 * reach only processes of the same domain or a nested one) and abstract
 * unix sockets (connect() reaches only sockets created inside). A domain is
 * entered with no_new_privs set and is inherited by every child. */
#pragma once

#include <stdbool.h>

#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET_BIT (1u << 0)
#define LANDLOCK_SCOPE_SIGNAL_BIT               (1u << 1)

/* The running kernel's Landlock ABI version (>= 1), or -errno: -ENOSYS (no
 * Landlock in the kernel), -EOPNOTSUPP (built in but disabled at boot). */
int landlock_abi(void);

/* The scope bits the kernel can enforce, from its ABI version: both at
 * ABI >= 6, none before. */
unsigned landlock_scopes_supported(void);

/* Enters a new Landlock domain that handles nothing but `scopes` (bits
 * above). Requires no_new_privs or CAP_SYS_ADMIN. Returns -EOPNOTSUPP when
 * the kernel cannot enforce every requested scope, without restricting
 * anything: the caller decides what to do instead. */
int landlock_restrict_scopes(unsigned scopes);

/* "signals, abstract unix sockets" for the bits, or "none". */
const char *landlock_scopes_name(unsigned scopes);
