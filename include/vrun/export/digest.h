/* SHA-256 for OCI digests ("sha256:" + 64 hex digits), through libcrypto
 * (hardware-accelerated; layers may be hundreds of MiB). */
#pragma once

#include <stddef.h>

#define DIGEST_HEX_LEN 64
/* "sha256:" + hex + NUL */
#define DIGEST_STR_SIZE (7 + DIGEST_HEX_LEN + 1)

typedef struct Sha256 Sha256;

/* -ENOPKG when libcrypto cannot be loaded. */
int sha256_new(Sha256 **ret);
void sha256_update(Sha256 *s, const void *data, size_t len);
/* Writes "sha256:<hex>" into out (DIGEST_STR_SIZE bytes). */
void sha256_final(Sha256 *s, char out[DIGEST_STR_SIZE]);
void sha256_free(Sha256 *s);
static inline void sha256_freep(Sha256 **s) {
        sha256_free(*s);
}
/* The digest of one buffer. */
int sha256_digest(const void *data, size_t len, char out[DIGEST_STR_SIZE]);
