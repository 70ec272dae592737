/* An image layer: a Rootfs as a reproducible gzip'd tar (libarchive for the
 * tar, zlib for gzip): entries sorted by path, one fixed mtime, owners 0:0
 * by number, no atime/ctime, and a gzip header with no time or name, so the
 * same files give the same bytes and the same digest. */
#pragma once

#include <stdint.h>

#include "vrun/export/digest.h"
#include "vrun/export/rootfs.h"

typedef struct LayerInfo {
        char digest[DIGEST_STR_SIZE];  /* of the compressed blob */
        char diff_id[DIGEST_STR_SIZE]; /* of the tar inside */
        uint64_t size;                 /* of the compressed blob */
} LayerInfo;

/* Writes fs to the new file dirfd/name. -ENOPKG when libarchive or
 * libcrypto cannot be loaded; -ESTALE when a file changed size while it
 * was read. The file is removed on failure. */
int layer_write(Rootfs *fs, int64_t mtime, int dirfd, const char *name, LayerInfo *ret);
