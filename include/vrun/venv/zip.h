/* A defensive reader for zip archives (wheels). The archive comes from outside
 * vrun, so every name, size and offset is checked against the file before it
 * is used, and each entry's CRC-32 is verified while it is extracted. Only what
 * wheels need is supported: stored and deflated entries in a single-disk,
 * non-zip64, unencrypted archive. Everything else is refused with -EBADMSG. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZIP_ENTRIES_MAX    20000
#define ZIP_TOTAL_SIZE_MAX (UINT64_C(512) * 1024 * 1024)
#define ZIP_NAME_MAX       1024

typedef struct ZipEntry {
        const char *name;       /* validated relative path; directories end in '/' */
        uint64_t header_offset; /* of the local file header */
        uint32_t compressed_size;
        uint32_t size;
        uint32_t crc32;
        uint16_t method; /* 0 (stored) or 8 (deflated) */
        bool is_dir;
        bool executable; /* Unix mode in the external attributes has an x bit */
} ZipEntry;

typedef struct ZipArchive ZipArchive;

/* Reads and validates the central directory of the zip file open as fd (the
 * fd is duplicated, the caller keeps its own). Refuses absolute names, "." and
 * ".." components, backslashes, control characters, duplicate names, a file
 * that is also a directory prefix of another name, symlinks and other special
 * files, more than ZIP_ENTRIES_MAX entries and more than ZIP_TOTAL_SIZE_MAX
 * bytes uncompressed, all with -EBADMSG. */
int zip_open_fd(int fd, ZipArchive **ret);
int zip_open_at(int dirfd, const char *path, ZipArchive **ret);
void zip_free(ZipArchive *z);
static inline void zip_freep(ZipArchive **z) {
        zip_free(*z);
}

/* Entries are sorted by name with '/' ordered before every other byte, so the
 * contents of each directory (recursively) are contiguous: walking them in
 * order visits every directory once. */
size_t zip_n_entries(const ZipArchive *z);
const ZipEntry *zip_entry(const ZipArchive *z, size_t i);

/* Writes the uncompressed contents of e to fd. -EBADMSG when the data is
 * corrupt (bad CRC, wrong size, truncated). */
int zip_extract(ZipArchive *z, const ZipEntry *e, int fd);

/* True when name (len bytes, need not be NUL-terminated) is a relative path
 * that cannot leave the directory it is extracted into; a trailing '/' is
 * allowed and marks a directory. */
bool zip_name_is_safe(const char *name, size_t len);
/* strcmp() with '/' sorting before every other byte. */
int zip_name_compare(const char *a, const char *b);
