#include "vrun/export/digest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "vrun/export/libs.h"

struct Sha256 {
        const LibCrypto *c;
        EVP_MD_CTX *ctx;
};

int sha256_new(Sha256 **ret) {
        const LibCrypto *c = libcrypto_get();
        if (!c)
                return -ENOPKG;
        Sha256 *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->c = c;
        s->ctx = c->EVP_MD_CTX_new();
        if (!s->ctx || c->EVP_DigestInit_ex(s->ctx, c->EVP_sha256(), NULL) != 1) {
                sha256_free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

void sha256_update(Sha256 *s, const void *data, size_t len) {
        s->c->EVP_DigestUpdate(s->ctx, data, len);
}

void sha256_final(Sha256 *s, char out[DIGEST_STR_SIZE]) {
        unsigned char md[32];
        unsigned n = 0;
        s->c->EVP_DigestFinal_ex(s->ctx, md, &n);
        static const char hex[] = "0123456789abcdef";
        size_t o = (size_t) snprintf(out, DIGEST_STR_SIZE, "sha256:");
        for (unsigned i = 0; i < 32; i++) {
                out[o++] = hex[md[i] >> 4];
                out[o++] = hex[md[i] & 15];
        }
        out[o] = 0;
}

void sha256_free(Sha256 *s) {
        if (!s)
                return;
        if (s->ctx)
                s->c->EVP_MD_CTX_free(s->ctx);
        free(s);
}

int sha256_digest(const void *data, size_t len, char out[DIGEST_STR_SIZE]) {
        _cleanup_(sha256_freep) Sha256 *s = NULL;
        int r = sha256_new(&s);
        if (r < 0)
                return r;
        sha256_update(s, data, len);
        sha256_final(s, out);
        return 0;
}
