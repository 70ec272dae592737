/* libarchive and libcrypto, loaded on first use by `vrun export`. Linking
 * them would make every `vrun run` load them (and libarchive's compressors,
 * libxml2, libacl, ...) before it can start the sandbox; only export needs
 * them. The prototypes come from the libraries' own headers. */
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#define LIBS_FN(name) __typeof__(name) *name

typedef struct LibArchive {
        LIBS_FN(archive_write_new);
        LIBS_FN(archive_write_set_format_pax_restricted);
        LIBS_FN(archive_write_set_bytes_per_block);
        LIBS_FN(archive_write_set_bytes_in_last_block);
        LIBS_FN(archive_write_open);
        LIBS_FN(archive_write_header);
        LIBS_FN(archive_write_data);
        LIBS_FN(archive_write_close);
        LIBS_FN(archive_write_free);
        LIBS_FN(archive_error_string);
        LIBS_FN(archive_errno);
        LIBS_FN(archive_entry_new);
        LIBS_FN(archive_entry_free);
        LIBS_FN(archive_entry_clear);
        LIBS_FN(archive_entry_set_pathname);
        LIBS_FN(archive_entry_set_filetype);
        LIBS_FN(archive_entry_set_perm);
        LIBS_FN(archive_entry_set_size);
        LIBS_FN(archive_entry_set_mtime);
        LIBS_FN(archive_entry_set_uid);
        LIBS_FN(archive_entry_set_gid);
        LIBS_FN(archive_entry_set_symlink);
} LibArchive;

typedef struct LibCrypto {
        LIBS_FN(EVP_MD_CTX_new);
        LIBS_FN(EVP_MD_CTX_free);
        LIBS_FN(EVP_sha256);
        LIBS_FN(EVP_DigestInit_ex);
        LIBS_FN(EVP_DigestUpdate);
        LIBS_FN(EVP_DigestFinal_ex);
} LibCrypto;

/* The functions, or NULL (with -errno-style reason logged by the caller)
 * when the library cannot be loaded. */
const LibArchive *libarchive_get(void);
const LibCrypto *libcrypto_get(void);
