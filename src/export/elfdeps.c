#include "vrun/export/elfdeps.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strv.h"

/* Limits on what is read from an object: more would be a broken or hostile file. */
#define ELF_MAX_PHDRS   512
#define ELF_MAX_DYNAMIC 4096
#define ELF_MAX_STRTAB  (4 << 20)
#define LDCACHE_MAX     (16 << 20)

typedef struct ElfInfo {
        bool is64;
        uint16_t machine;
        char *interp;
        char **needed;
        char *rpath;
        char *runpath;
} ElfInfo;

struct ElfDeps {
        char **seen;      /* real paths of objects already scanned */
        char **libraries; /* what the loader opens */
        char *cache;      /* /etc/ld.so.cache, or NULL */
        size_t cache_len;
        char *main_rpath; /* DT_RPATH of the first object: the loader also searches it for its dependencies */
        char *main_origin;
};

static void elf_info_done(ElfInfo *e) {
        free(e->interp);
        strv_free(e->needed);
        free(e->rpath);
        free(e->runpath);
}

int elf_is_elf(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        unsigned char m[SELFMAG];
        return pread(fd, m, sizeof m, 0) == (ssize_t) sizeof m && memcmp(m, ELFMAG, SELFMAG) == 0;
}

static int read_at(int fd, void *buf, size_t len, uint64_t off) {
        if (off > (uint64_t) INT64_MAX)
                return -EBADMSG;
        ssize_t n = pread(fd, buf, len, (off_t) off);
        if (n < 0)
                return negative_errno();
        return (size_t) n == len ? 0 : -EBADMSG;
}

/* The program headers and dynamic entries in one shape for both classes. */
typedef struct Phdr {
        uint32_t type;
        uint64_t offset, vaddr, filesz;
} Phdr;

static int read_phdrs(int fd, bool is64, uint64_t phoff, size_t phnum, Phdr *out) {
        for (size_t i = 0; i < phnum; i++) {
                int r;
                if (is64) {
                        Elf64_Phdr p;
                        r = read_at(fd, &p, sizeof p, phoff + i * sizeof p);
                        out[i] = (Phdr){ p.p_type, p.p_offset, p.p_vaddr, p.p_filesz };
                } else {
                        Elf32_Phdr p;
                        r = read_at(fd, &p, sizeof p, phoff + i * sizeof p);
                        out[i] = (Phdr){ p.p_type, p.p_offset, p.p_vaddr, p.p_filesz };
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Dynamic entries point at the string table by address: map it to a file offset. */
static int vaddr_to_offset(const Phdr *ph, size_t n, uint64_t vaddr, uint64_t *ret) {
        for (size_t i = 0; i < n; i++)
                if (ph[i].type == PT_LOAD && vaddr >= ph[i].vaddr && vaddr - ph[i].vaddr < ph[i].filesz) {
                        *ret = ph[i].offset + (vaddr - ph[i].vaddr);
                        return 0;
                }
        return -EBADMSG;
}

static char *strtab_get(const char *tab, size_t len, uint64_t off) {
        if (off >= len)
                return NULL;
        size_t n = strnlen(tab + off, len - off);
        return n < len - off ? strndup(tab + off, n) : NULL;
}

/* 0 and info filled for an ELF object, 1 for a file that is not ELF. */
static int elf_read(const char *path, ElfInfo *ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        unsigned char ident[EI_NIDENT];
        if (pread(fd, ident, sizeof ident, 0) != (ssize_t) sizeof ident || memcmp(ident, ELFMAG, SELFMAG) != 0)
                return 1;
        /* Objects of the host's byte order only: a foreign one is never loaded here. */
        bool le = ident[EI_DATA] == ELFDATA2LSB;
        if (le != (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__))
                return 1;
        bool is64 = ident[EI_CLASS] == ELFCLASS64;
        uint64_t phoff;
        size_t phnum;
        uint16_t machine;
        int r;
        if (is64) {
                Elf64_Ehdr h;
                if ((r = read_at(fd, &h, sizeof h, 0)) < 0)
                        return r;
                phoff = h.e_phoff, phnum = h.e_phnum, machine = h.e_machine;
        } else {
                Elf32_Ehdr h;
                if ((r = read_at(fd, &h, sizeof h, 0)) < 0)
                        return r;
                phoff = h.e_phoff, phnum = h.e_phnum, machine = h.e_machine;
        }
        if (phnum > ELF_MAX_PHDRS)
                return -EBADMSG;
        Phdr ph[ELF_MAX_PHDRS];
        if ((r = read_phdrs(fd, is64, phoff, phnum, ph)) < 0)
                return r;

        _cleanup_(elf_info_done) ElfInfo e = { .is64 = is64, .machine = machine };
        const Phdr *dyn = NULL;
        for (size_t i = 0; i < phnum; i++) {
                if (ph[i].type == PT_INTERP && !e.interp && ph[i].filesz > 1 && ph[i].filesz < PATH_MAX) {
                        char buf[PATH_MAX];
                        if ((r = read_at(fd, buf, ph[i].filesz, ph[i].offset)) < 0)
                                return r;
                        buf[ph[i].filesz - 1] = 0;
                        if (!(e.interp = strdup(buf)))
                                return -ENOMEM;
                } else if (ph[i].type == PT_DYNAMIC)
                        dyn = &ph[i];
        }
        if (dyn) {
                size_t entsz = is64 ? sizeof(Elf64_Dyn) : sizeof(Elf32_Dyn);
                size_t n = dyn->filesz / entsz;
                if (n > ELF_MAX_DYNAMIC)
                        return -EBADMSG;
                uint64_t strtab = 0, strsz = 0;
                _cleanup_free_ uint64_t *tags = calloc(n + 1, sizeof *tags);
                _cleanup_free_ uint64_t *vals = calloc(n + 1, sizeof *vals);
                if (!tags || !vals)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        if (is64) {
                                Elf64_Dyn d = {};
                                r = read_at(fd, &d, sizeof d, dyn->offset + i * sizeof d);
                                tags[i] = (uint64_t) d.d_tag, vals[i] = d.d_un.d_val;
                        } else {
                                Elf32_Dyn d = {};
                                r = read_at(fd, &d, sizeof d, dyn->offset + i * sizeof d);
                                tags[i] = (uint64_t) (int64_t) d.d_tag, vals[i] = d.d_un.d_val;
                        }
                        if (r < 0)
                                return r;
                        if (tags[i] == DT_NULL) {
                                n = i;
                                break;
                        }
                        if (tags[i] == DT_STRTAB)
                                strtab = vals[i];
                        else if (tags[i] == DT_STRSZ)
                                strsz = vals[i];
                }
                uint64_t stroff;
                if (strsz > 0 && strsz <= ELF_MAX_STRTAB && vaddr_to_offset(ph, phnum, strtab, &stroff) >= 0) {
                        _cleanup_free_ char *tab = malloc(strsz);
                        if (!tab)
                                return -ENOMEM;
                        if ((r = read_at(fd, tab, strsz, stroff)) < 0)
                                return r;
                        for (size_t i = 0; i < n; i++) {
                                if (tags[i] != DT_NEEDED && tags[i] != DT_RPATH && tags[i] != DT_RUNPATH)
                                        continue;
                                char *s = strtab_get(tab, strsz, vals[i]);
                                if (!s)
                                        return -EBADMSG;
                                if (tags[i] == DT_NEEDED) {
                                        if ((r = strv_push(&e.needed, s)) < 0) {
                                                free(s);
                                                return r;
                                        }
                                } else if (tags[i] == DT_RPATH && !e.rpath)
                                        e.rpath = s;
                                else if (tags[i] == DT_RUNPATH && !e.runpath)
                                        e.runpath = s;
                                else
                                        free(s);
                        }
                }
        }
        *ret = TAKE_STRUCT(e);
        return 0;
}

int elfdeps_new(ElfDeps **ret) {
        ElfDeps *d = calloc(1, sizeof *d);
        if (!d)
                return -ENOMEM;
        /* The cache is optional: without it the loader searches the default directories. */
        if (read_full_file_at(AT_FDCWD, "/etc/ld.so.cache", LDCACHE_MAX, &d->cache, &d->cache_len) < 0)
                d->cache = NULL;
        *ret = d;
        return 0;
}

void elfdeps_free(ElfDeps *d) {
        if (!d)
                return;
        strv_free(d->seen);
        strv_free(d->libraries);
        free(d->cache);
        free(d->main_rpath);
        free(d->main_origin);
        free(d);
}

char *const *elfdeps_libraries(const ElfDeps *d) {
        static char *const empty[] = { NULL };
        return d->libraries ? d->libraries : empty;
}

/* A candidate is taken only when it is an ELF object the loader could map for this one. */
static bool compatible(const char *path, const ElfInfo *for_obj) {
        _cleanup_(elf_info_done) ElfInfo e = {};
        if (elf_read(path, &e) != 0)
                return false;
        return e.is64 == for_obj->is64 && e.machine == for_obj->machine;
}

/* Expands $ORIGIN, $LIB and $PLATFORM (also in ${} form) of one search path entry. */
static char *expand_dst(const char *dir, const char *origin, const ElfInfo *obj) {
        static const struct {
                const char *name;
                int which;
        } tokens[] = { { "ORIGIN", 0 }, { "LIB", 1 }, { "PLATFORM", 2 } };
        char out[PATH_MAX];
        size_t o = 0;
        for (const char *s = dir; *s;) {
                const char *value = NULL;
                size_t skip = 0;
                if (*s == '$')
                        for (size_t t = 0; t < ELEMENTSOF(tokens) && !value; t++) {
                                size_t l = strlen(tokens[t].name);
                                bool braced = s[1] == '{' && strncmp(s + 2, tokens[t].name, l) == 0 && s[2 + l] == '}';
                                bool bare = strncmp(s + 1, tokens[t].name, l) == 0 &&
                                            !(s[1 + l] == '_' || (s[1 + l] >= 'A' && s[1 + l] <= 'Z'));
                                if (!braced && !bare)
                                        continue;
                                skip = braced ? l + 3 : l + 1;
                                value = tokens[t].which == 0   ? origin
                                        : tokens[t].which == 1 ? (obj->is64 ? "lib64" : "lib")
                                                               : (obj->machine == EM_X86_64 ? "x86_64" : "");
                        }
                if (value) {
                        size_t l = strlen(value);
                        if (o + l >= sizeof out)
                                return NULL;
                        memcpy(out + o, value, l);
                        o += l;
                        s += skip;
                } else {
                        if (o + 1 >= sizeof out)
                                return NULL;
                        out[o++] = *s++;
                }
        }
        out[o] = 0;
        return strdup(out);
}

static char *search_path_list(const char *list, const char *origin, const char *name, const ElfInfo *obj) {
        if (!list)
                return NULL;
        _cleanup_free_ char *copy = strdup(list);
        if (!copy)
                return NULL;
        char *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *x = expand_dst(dir, origin, obj);
                if (!x || x[0] != '/')
                        continue;
                _cleanup_free_ char *p = path_join(x, name);
                _cleanup_free_ char *norm = NULL;
                if (p && path_normalize(p, &norm) >= 0 && compatible(norm, obj))
                        return TAKE_PTR(norm);
        }
        return NULL;
}

/* glibc's ld.so.cache, new format ("glibc-ld.so.cache1.1"): a header, then entries of
 * {int32 flags; uint32 key, value; uint32 osversion; uint64 hwcap}; strings are offsets
 * from the start of the header. */
static char *search_cache(const ElfDeps *d, const char *name, const ElfInfo *obj) {
        static const char magic[] = "glibc-ld.so.cache1.1";
        const size_t header = 48, entry = 24;
        if (!d->cache || d->cache_len < header || memcmp(d->cache, magic, STRLEN(magic)) != 0)
                return NULL;
        uint32_t nlibs;
        memcpy(&nlibs, d->cache + 20, sizeof nlibs);
        if (nlibs > (d->cache_len - header) / entry)
                return NULL;
        for (uint32_t i = 0; i < nlibs; i++) {
                uint32_t key, value;
                memcpy(&key, d->cache + header + i * entry + 4, sizeof key);
                memcpy(&value, d->cache + header + i * entry + 8, sizeof value);
                if (key >= d->cache_len || value >= d->cache_len)
                        continue;
                if (strnlen(d->cache + key, d->cache_len - key) == d->cache_len - key ||
                    strnlen(d->cache + value, d->cache_len - value) == d->cache_len - value)
                        continue;
                if (strcmp(d->cache + key, name) == 0 && compatible(d->cache + value, obj))
                        return strdup(d->cache + value);
        }
        return NULL;
}

static char *search_default(const char *name, const ElfInfo *obj) {
        static const char *const dirs64[] = { "/lib/x86_64-linux-gnu",
                                              "/usr/lib/x86_64-linux-gnu",
                                              "/lib/aarch64-linux-gnu",
                                              "/usr/lib/aarch64-linux-gnu",
                                              "/lib64",
                                              "/usr/lib64",
                                              "/lib",
                                              "/usr/lib",
                                              NULL };
        static const char *const dirs32[] = { "/lib/i386-linux-gnu",
                                              "/usr/lib/i386-linux-gnu",
                                              "/lib/arm-linux-gnueabihf",
                                              "/usr/lib/arm-linux-gnueabihf",
                                              "/lib32",
                                              "/usr/lib32",
                                              "/lib",
                                              "/usr/lib",
                                              NULL };
        for (const char *const *dir = obj->is64 ? dirs64 : dirs32; *dir; dir++) {
                _cleanup_free_ char *p = path_join(*dir, name);
                if (p && compatible(p, obj))
                        return TAKE_PTR(p);
        }
        return NULL;
}

static char *resolve(const ElfDeps *d, const char *name, const char *origin, const ElfInfo *obj) {
        char *p;
        if (strchr(name, '/'))
                return name[0] == '/' ? strdup(name) : NULL;
        /* The loader's order: DT_RPATH (of the object, then of the executable) unless the object
         * has DT_RUNPATH; LD_LIBRARY_PATH (not set in the image); DT_RUNPATH; the cache; the
         * default directories. */
        if (!obj->runpath) {
                if ((p = search_path_list(obj->rpath, origin, name, obj)))
                        return p;
                if ((p = search_path_list(d->main_rpath, d->main_origin, name, obj)))
                        return p;
        }
        if ((p = search_path_list(obj->runpath, origin, name, obj)))
                return p;
        if ((p = search_cache(d, name, obj)))
                return p;
        return search_default(name, obj);
}

static int add_library(ElfDeps *d, const char *path) {
        if (strv_contains(d->libraries, path))
                return 0;
        if (strv_length(d->libraries) >= ELFDEPS_MAX_OBJECTS)
                return -E2BIG;
        return strv_extend(&d->libraries, path);
}

int elfdeps_add(ElfDeps *d, const char *path) {
        _cleanup_free_ char *real = realpath(path, NULL);
        if (!real)
                return negative_errno();
        if (strv_contains(d->seen, real))
                return 0;
        if (strv_length(d->seen) >= ELFDEPS_MAX_OBJECTS)
                return -E2BIG;
        int r = strv_extend(&d->seen, real);
        if (r < 0)
                return r;

        _cleanup_(elf_info_done) ElfInfo e = {};
        r = elf_read(real, &e);
        if (r != 0)
                return r > 0 ? 0 : r;
        _cleanup_free_ char *origin = path_dirname(real);
        if (!origin)
                return -ENOMEM;
        if (e.interp && !d->main_origin) {
                /* The first executable: its DT_RPATH applies to every object it loads. */
                d->main_origin = strdup(origin);
                d->main_rpath = e.rpath ? strdup(e.rpath) : NULL;
                if (!d->main_origin || (e.rpath && !d->main_rpath))
                        return -ENOMEM;
        }
        if (e.interp) {
                if ((r = add_library(d, e.interp)) < 0)
                        return r;
                if ((r = elfdeps_add(d, e.interp)) < 0 && r != -ENOENT)
                        return r;
        }
        STRV_FOREACH (n, e.needed) {
                _cleanup_free_ char *lib = resolve(d, *n, origin, &e);
                if (!lib)
                        continue;
                if ((r = add_library(d, lib)) < 0)
                        return r;
                if ((r = elfdeps_add(d, lib)) < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}
