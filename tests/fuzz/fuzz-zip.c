/* The zip reader on arbitrary bytes (a wheel comes from outside vrun). What
 * opens must hold only safe, sorted, distinct names, and every entry must
 * extract or be refused with -EBADMSG, never more bytes than it declares. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "vrun/venv/zip.h"

/* Keeps a deflate bomb from spending the run writing one entry. */
#define EXTRACT_MAX (1024 * 1024)

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = memfd_create("fuzz-zip", MFD_CLOEXEC);
        if (fd < 0 || loop_write(fd, data, size) < 0)
                abort();
        _cleanup_(zip_freep) ZipArchive *z = NULL;
        int r = zip_open_fd(fd, &z);
        if (r < 0) {
                if (r != -EBADMSG)
                        abort();
                return 0;
        }
        for (size_t i = 0; i < zip_n_entries(z); i++) {
                const ZipEntry *e = zip_entry(z, i);
                size_t l = strlen(e->name);
                if (!zip_name_is_safe(e->name, l) || e->is_dir != (e->name[l - 1] == '/'))
                        abort();
                if (i > 0 && zip_name_compare(zip_entry(z, i - 1)->name, e->name) >= 0)
                        abort();
                if (e->is_dir || e->size > EXTRACT_MAX)
                        continue;
                _cleanup_close_ int out = memfd_create("fuzz-zip-out", MFD_CLOEXEC);
                if (out < 0)
                        abort();
                r = zip_extract(z, e, out);
                struct stat st;
                if (fstat(out, &st) < 0)
                        abort();
                if (r < 0 ? r != -EBADMSG : (uint64_t) st.st_size != e->size)
                        abort();
        }
        return 0;
}
