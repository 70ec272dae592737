#include "vrun/export/libs.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

typedef struct Sym {
        void **slot;
        const char *name;
} Sym;

/* state: 0 untried, 1 loaded, -1 failed (not retried: the answer will not change). */
static bool load(const char *soname, const Sym *syms, size_t n, int *state) {
        if (*state)
                return *state > 0;
        *state = -1;
        void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
                        dlclose(h);
                        return false;
                }
        *state = 1;
        return true;
}

#define SYM(lib, name) \
        { (void **) &(lib).name, #name }

const LibArchive *libarchive_get(void) {
        static LibArchive a;
        static int state;
        const Sym syms[] = {
                SYM(a, archive_write_new),
                SYM(a, archive_write_set_format_pax_restricted),
                SYM(a, archive_write_set_bytes_per_block),
                SYM(a, archive_write_set_bytes_in_last_block),
                SYM(a, archive_write_open),
                SYM(a, archive_write_header),
                SYM(a, archive_write_data),
                SYM(a, archive_write_close),
                SYM(a, archive_write_free),
                SYM(a, archive_error_string),
                SYM(a, archive_errno),
                SYM(a, archive_entry_new),
                SYM(a, archive_entry_free),
                SYM(a, archive_entry_clear),
                SYM(a, archive_entry_set_pathname),
                SYM(a, archive_entry_set_filetype),
                SYM(a, archive_entry_set_perm),
                SYM(a, archive_entry_set_size),
                SYM(a, archive_entry_set_mtime),
                SYM(a, archive_entry_set_uid),
                SYM(a, archive_entry_set_gid),
                SYM(a, archive_entry_set_symlink),
        };
        return load(VRUN_LIBARCHIVE_SONAME, syms, sizeof syms / sizeof syms[0], &state) ? &a : NULL;
}

const LibCrypto *libcrypto_get(void) {
        static LibCrypto c;
        static int state;
        const Sym syms[] = {
                SYM(c, EVP_MD_CTX_new),    SYM(c, EVP_MD_CTX_free),  SYM(c, EVP_sha256),
                SYM(c, EVP_DigestInit_ex), SYM(c, EVP_DigestUpdate), SYM(c, EVP_DigestFinal_ex),
        };
        return load(VRUN_LIBCRYPTO_SONAME, syms, sizeof syms / sizeof syms[0], &state) ? &c : NULL;
}
