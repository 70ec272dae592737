/* SHA-256 (FIPS 180-4): the hashes RECORD files carry and vrun's cache keys. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_SIZE 32

typedef struct Sha256 {
        uint32_t h[8];
        uint64_t len;
        uint8_t block[64];
        size_t fill;
} Sha256;

void sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t len);
void sha256_final(Sha256 *s, uint8_t out[SHA256_DIGEST_SIZE]);
/* The digest of data in one call. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);
/* The digest of what fd holds from its offset to EOF, and how many bytes that
 * was (ret_size may be NULL). -errno when reading fails. */
int sha256_fd(int fd, uint8_t out[SHA256_DIGEST_SIZE], uint64_t *ret_size);
