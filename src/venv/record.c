#include "vrun/venv/record.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/sha256.h"

void record_hash_format(const uint8_t digest[32], char out[RECORD_HASH_MAX]) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        const uint8_t *d = digest;
        char *o = stpcpy(out, "sha256=");
        for (size_t i = 0; i < 32; i += 3) {
                uint32_t v = (uint32_t) d[i] << 16 | (i + 1 < 32 ? (uint32_t) d[i + 1] << 8 : 0) |
                             (i + 2 < 32 ? d[i + 2] : 0);
                *o++ = alphabet[v >> 18 & 63];
                *o++ = alphabet[v >> 12 & 63];
                if (i + 1 < 32)
                        *o++ = alphabet[v >> 6 & 63];
                if (i + 2 < 32)
                        *o++ = alphabet[v & 63];
        }
        *o = 0;
}

void record_hash(const void *data, size_t len, char out[RECORD_HASH_MAX]) {
        uint8_t d[SHA256_DIGEST_SIZE];
        sha256(data, len, d);
        record_hash_format(d, out);
}

int record_hash_fd(int fd, char out[RECORD_HASH_MAX], uint64_t *ret_size) {
        uint8_t d[SHA256_DIGEST_SIZE];
        int r = sha256_fd(fd, d, ret_size);
        if (r < 0)
                return r;
        record_hash_format(d, out);
        return 0;
}

void record_index_done(RecordIndex *x) {
        free(x->rows);
        *x = (RecordIndex){};
}

/* Parses one CSV field at *p in place. */
static char *csv_field(char **p, bool *ret_eol) {
        char *r = *p, *w = *p, *start = *p;
        if (*r == '"') {
                r++;
                while (*r) {
                        if (*r == '"') {
                                if (r[1] != '"') {
                                        r++;
                                        break;
                                }
                                r++;
                        }
                        *w++ = *r++;
                }
        }
        while (*r && *r != ',' && *r != '\n' && *r != '\r')
                *w++ = *r++;
        char end = *r;
        if (end == ',')
                r++;
        else {
                if (*r == '\r')
                        r++;
                if (*r == '\n')
                        r++;
        }
        *w = 0;
        *ret_eol = end != ',';
        *p = r;
        return start;
}

static int row_compare(const void *a, const void *b) {
        return strcmp(((const RecordRow *) a)->path, ((const RecordRow *) b)->path);
}

int record_index_parse(char *text, RecordIndex *ret) {
        RecordIndex x = {};
        size_t cap = 0;
        char *p = text;
        while (*p) {
                const char *f[3] = { "", "", "" };
                bool eol = false;
                for (size_t k = 0; !eol; k++) {
                        char *v = csv_field(&p, &eol);
                        if (k < ELEMENTSOF(f))
                                f[k] = v;
                }
                if (!*f[0])
                        continue;
                if (x.n == cap) {
                        if (cap >= RECORD_ROWS_MAX) {
                                record_index_done(&x);
                                return -EBADMSG;
                        }
                        cap = cap ? cap * 2 : 256;
                        RecordRow *rows = realloc(x.rows, cap * sizeof(RecordRow));
                        if (!rows) {
                                record_index_done(&x);
                                return -ENOMEM;
                        }
                        x.rows = rows;
                }
                x.rows[x.n++] = (RecordRow){ f[0], f[1], f[2] };
        }
        if (x.n > 0)
                qsort(x.rows, x.n, sizeof(RecordRow), row_compare);
        *ret = x;
        return 0;
}

const RecordRow *record_index_find(const RecordIndex *x, const char *path) {
        if (x->n == 0)
                return NULL;
        RecordRow key = { .path = path };
        return bsearch(&key, x->rows, x->n, sizeof(RecordRow), row_compare);
}

static bool csv_needs_quotes(const char *s) {
        return s[strcspn(s, ",\"\r\n")] != 0;
}

static void csv_put_quoted_part(FILE *f, const char *s) {
        for (; *s; s++) {
                if (*s == '"')
                        fputc('"', f);
                fputc(*s, f);
        }
}

static void csv_put_field(FILE *f, const char *s) {
        if (!csv_needs_quotes(s)) {
                fputs(s, f);
                return;
        }
        fputc('"', f);
        csv_put_quoted_part(f, s);
        fputc('"', f);
}

void record_put_row(FILE *f, const char *prefix, const char *path, const char *hash, const char *size) {
        if (prefix && (csv_needs_quotes(prefix) || csv_needs_quotes(path))) {
                /* the path is one field: quote it as a whole */
                fputc('"', f);
                csv_put_quoted_part(f, prefix);
                fputc('/', f);
                csv_put_quoted_part(f, path);
                fputc('"', f);
        } else if (prefix)
                fprintf(f, "%s/%s", prefix, path);
        else
                csv_put_field(f, path);
        fputc(',', f);
        csv_put_field(f, hash);
        fputc(',', f);
        csv_put_field(f, size);
        fputc('\n', f);
}
