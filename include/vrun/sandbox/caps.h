/* Capability handling for the payload (libcap): after setup, the payload
 * keeps nothing. */
#pragma once

/* Empties the bounding, ambient, inheritable, permitted and effective sets
 * and sets no_new_privs. Returns -errno. Must run after the last mount. */
int caps_drop_all(void);
