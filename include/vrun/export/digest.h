/* SHA-256 for OCI digests ("sha256:" + 64 hex digits). Streams (layers of
 * up to hundreds of MiB) go through libcrypto, whose SHA-256 uses the CPU's
 * SHA extensions (several times util/sha256's speed); small buffers through
 * util/sha256. */
#pragma once

#include <stddef.h>

#define DIGEST_HEX_LEN 64
/* "sha256:" + hex + NUL */
#define DIGEST_STR_SIZE (7 + DIGEST_HEX_LEN + 1)

typedef struct Digest Digest;

/* -ENOPKG when libcrypto cannot be loaded. */
int digest_new(Digest **ret);
void digest_update(Digest *s, const void *data, size_t len);
/* Writes "sha256:<hex>" into out (DIGEST_STR_SIZE bytes). */
void digest_final(Digest *s, char out[DIGEST_STR_SIZE]);
void digest_free(Digest *s);
static inline void digest_freep(Digest **s) {
        digest_free(*s);
}
/* The digest of one small buffer (util/sha256: no library needed). */
void digest_bytes(const void *data, size_t len, char out[DIGEST_STR_SIZE]);
