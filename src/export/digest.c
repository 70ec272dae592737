#include "vrun/export/digest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/sha256.h"
#include "vrun/export/libs.h"

struct Digest {
        const LibCrypto *c;
        EVP_MD_CTX *ctx;
};

int digest_new(Digest **ret) {
        const LibCrypto *c = libcrypto_get();
        if (!c)
                return -ENOPKG;
        Digest *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->c = c;
        s->ctx = c->EVP_MD_CTX_new();
        if (!s->ctx || c->EVP_DigestInit_ex(s->ctx, c->EVP_sha256(), NULL) != 1) {
                digest_free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

void digest_update(Digest *s, const void *data, size_t len) {
        s->c->EVP_DigestUpdate(s->ctx, data, len);
}

static void format_digest(const unsigned char md[32], char out[DIGEST_STR_SIZE]) {
        static const char hex[] = "0123456789abcdef";
        size_t o = (size_t) snprintf(out, DIGEST_STR_SIZE, "sha256:");
        for (unsigned i = 0; i < 32; i++) {
                out[o++] = hex[md[i] >> 4];
                out[o++] = hex[md[i] & 15];
        }
        out[o] = 0;
}

void digest_final(Digest *s, char out[DIGEST_STR_SIZE]) {
        unsigned char md[32];
        unsigned n = 0;
        s->c->EVP_DigestFinal_ex(s->ctx, md, &n);
        format_digest(md, out);
}

void digest_free(Digest *s) {
        if (!s)
                return;
        if (s->ctx)
                s->c->EVP_MD_CTX_free(s->ctx);
        free(s);
}

void digest_bytes(const void *data, size_t len, char out[DIGEST_STR_SIZE]) {
        uint8_t md[SHA256_DIGEST_SIZE];
        sha256(data, len, md);
        format_digest(md, out);
}
