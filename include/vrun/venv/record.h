/* RECORD, the list of an installed distribution's files (the wheel spec's
 * CSV of path, "sha256=" + urlsafe base64 digest, size): parsing a wheel's
 * (or an env's) RECORD, and writing one for what vrun installed. */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "util/cleanup.h"

/* The largest RECORD (and other dist-info metadata) vrun reads. */
#define RECORD_MAX      (16u * 1024 * 1024)
#define RECORD_ROWS_MAX 80000
/* "sha256=" + 43 base64 characters + NUL */
#define RECORD_HASH_MAX (STRLEN("sha256=") + 43 + 1)

/* RECORD's hash form of a digest. */
void record_hash_format(const uint8_t digest[32], char out[RECORD_HASH_MAX]);
/* The hash form of data. */
void record_hash(const void *data, size_t len, char out[RECORD_HASH_MAX]);
/* The hash form of what fd holds from its offset to EOF, and its size. */
int record_hash_fd(int fd, char out[RECORD_HASH_MAX], uint64_t *ret_size);

typedef struct RecordRow {
        const char *path, *hash, *size; /* "" when the field is empty or missing */
} RecordRow;

typedef struct RecordIndex {
        RecordRow *rows; /* sorted by path; they point into the parsed text */
        size_t n;
} RecordIndex;

/* Parses the NUL-terminated text in place (quotes removed, "" unescaped);
 * the rows point into it, so it must outlive the index. Rows with an empty
 * path are skipped. -EBADMSG beyond RECORD_ROWS_MAX rows. */
int record_index_parse(char *text, RecordIndex *ret);
const RecordRow *record_index_find(const RecordIndex *x, const char *path);
void record_index_done(RecordIndex *x);

/* Writes one row; prefix (may be NULL) and path form the path field as
 * prefix/path. Errors are the stream's (check ferror()/fclose()). */
void record_put_row(FILE *f, const char *prefix, const char *path, const char *hash, const char *size);
