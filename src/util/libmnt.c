#include "util/libmnt.h"

#include <dlfcn.h>
#include <stddef.h>

#include "config.h"

const LibMnt *libmnt_get(void) {
        static LibMnt m;
        static int state; /* 0 untried, 1 loaded, -1 failed */
        if (state)
                return state > 0 ? &m : NULL;
        state = -1;
        void *h = dlopen(VRUN_LIBMOUNT_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return NULL;
        struct {
                void **slot;
                const char *name;
        } syms[] = {
                { (void **) &m.new_table_from_file, "mnt_new_table_from_file" },
                { (void **) &m.unref_table, "mnt_unref_table" },
                { (void **) &m.new_iter, "mnt_new_iter" },
                { (void **) &m.free_iter, "mnt_free_iter" },
                { (void **) &m.table_next_fs, "mnt_table_next_fs" },
                { (void **) &m.fs_get_fstype, "mnt_fs_get_fstype" },
                { (void **) &m.fs_get_target, "mnt_fs_get_target" },
                { (void **) &m.fs_match_options, "mnt_fs_match_options" },
        };
        for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++)
                if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
                        dlclose(h);
                        return NULL;
                }
        state = 1;
        return &m;
}
