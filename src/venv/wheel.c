#include "vrun/venv/wheel.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "vrun/venv/zip.h"

/* A cache entry is complete only once this file exists; it lists the entry's
 * files so that installing needs neither readdir() nor stat(). */
#define CACHE_MARKER     ".vrun-complete"
#define CACHE_MAGIC      "vrun-wheel-cache 1\n"
#define CACHE_TMP_PREFIX ".tmp-"
#define SCRATCH_PREFIX   ".vrun-wheel-"

#define METADATA_MAX  (16u * 1024 * 1024) /* RECORD, entry_points.txt, manifest, scripts */
#define SCRIPTS_MAX   1024
#define DIR_DEPTH_MAX 64
/* Kernels before 5.1 read only 128 bytes of "#!" line including the newline
 * and silently cut the interpreter path; pip/distlib use the same bound. */
#define SHEBANG_MAX 127

/* ---- growable buffer: errors are sticky so callers check once ---- */

typedef struct Buf {
        char *data;
        size_t len, cap;
        bool oom;
} Buf;

static void buf_done(Buf *b) {
        free(b->data);
}

static void buf_add(Buf *b, const void *p, size_t n) {
        if (b->oom)
                return;
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 256;
                while (cap < b->len + n + 1)
                        cap *= 2;
                char *d = realloc(b->data, cap);
                if (!d) {
                        b->oom = true;
                        return;
                }
                b->data = d;
                b->cap = cap;
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
}

static void buf_puts(Buf *b, const char *s) {
        buf_add(b, s, strlen(s));
}
static void buf_putc(Buf *b, char c) {
        buf_add(b, &c, 1);
}

__attribute__((format(printf, 2, 3))) static void buf_printf(Buf *b, const char *fmt, ...) {
        char tmp[256];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof tmp)
                b->oom = true; /* only used for short, bounded lines */
        else
                buf_add(b, tmp, (size_t) n);
}

/* ---- SHA-256 (FIPS 180-4), for RECORD lines of the files we generate ---- */

typedef struct Sha256 {
        uint32_t h[8];
        uint64_t len;
        uint8_t block[64];
        size_t fill;
} Sha256;

static const uint32_t sha256_k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror32(uint32_t x, unsigned n) {
        return x >> n | x << (32 - n);
}

static void sha256_init(Sha256 *s) {
        static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
        memcpy(s->h, iv, sizeof iv);
        s->len = 0;
        s->fill = 0;
}

static void sha256_block(Sha256 *s, const uint8_t *p) {
        uint32_t w[64];
        for (unsigned i = 0; i < 16; i++)
                w[i] = (uint32_t) p[4 * i] << 24 | (uint32_t) p[4 * i + 1] << 16 | (uint32_t) p[4 * i + 2] << 8 |
                       p[4 * i + 3];
        for (unsigned i = 16; i < 64; i++) {
                uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
                uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
                w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3];
        uint32_t e = s->h[4], f = s->h[5], g = s->h[6], h = s->h[7];
        for (unsigned i = 0; i < 64; i++) {
                uint32_t t1 =
                        h + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
                uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
                h = g;
                g = f;
                f = e;
                e = d + t1;
                d = c;
                c = b;
                b = a;
                a = t1 + t2;
        }
        s->h[0] += a;
        s->h[1] += b;
        s->h[2] += c;
        s->h[3] += d;
        s->h[4] += e;
        s->h[5] += f;
        s->h[6] += g;
        s->h[7] += h;
}

static void sha256_update(Sha256 *s, const void *data, size_t len) {
        const uint8_t *p = data;
        s->len += len;
        while (len > 0) {
                size_t k = 64 - s->fill < len ? 64 - s->fill : len;
                memcpy(s->block + s->fill, p, k);
                s->fill += k;
                p += k;
                len -= k;
                if (s->fill == 64) {
                        sha256_block(s, s->block);
                        s->fill = 0;
                }
        }
}

static void sha256_final(Sha256 *s, uint8_t out[32]) {
        uint64_t bits = s->len * 8;
        uint8_t pad = 0x80;
        sha256_update(s, &pad, 1);
        pad = 0;
        while (s->fill != 56)
                sha256_update(s, &pad, 1);
        uint8_t lenbuf[8];
        for (unsigned i = 0; i < 8; i++)
                lenbuf[i] = (uint8_t) (bits >> (56 - 8 * i));
        sha256_update(s, lenbuf, 8);
        for (unsigned i = 0; i < 8; i++) {
                out[4 * i] = (uint8_t) (s->h[i] >> 24);
                out[4 * i + 1] = (uint8_t) (s->h[i] >> 16);
                out[4 * i + 2] = (uint8_t) (s->h[i] >> 8);
                out[4 * i + 3] = (uint8_t) s->h[i];
        }
}

static void sha256(const void *data, size_t len, uint8_t out[32]) {
        Sha256 s;
        sha256_init(&s);
        sha256_update(&s, data, len);
        sha256_final(&s, out);
}

#define RECORD_HASH_MAX (STRLEN("sha256=") + 43 + 1)

/* RECORD's hash form: "sha256=" + urlsafe base64 without padding. */
static void record_hash(const void *data, size_t len, char out[RECORD_HASH_MAX]) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        uint8_t d[32];
        sha256(data, len, d);
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

/* ---- directories relative to an fd ---- */

/* Keeps the fds of the current directory and its parents open, so walking
 * names in zip_name_compare() order opens (and creates) each directory once
 * and never resolves a path string twice. */
typedef struct DirStack {
        int root_fd;
        bool create;
        size_t depth;
        int fds[DIR_DEPTH_MAX];
        size_t ends[DIR_DEPTH_MAX]; /* end of component i in path */
        char path[VRUN_PATH_MAX];
} DirStack;

static void dir_stack_init(DirStack *s, int root_fd, bool create) {
        s->root_fd = root_fd;
        s->create = create;
        s->depth = 0;
}

static void dir_stack_pop(DirStack *s, size_t depth) {
        while (s->depth > depth)
                close(s->fds[--s->depth]);
}

static void dir_stack_done(DirStack *s) {
        dir_stack_pop(s, 0);
}

/* Returns (in *ret_fd, still owned by the stack) the directory dir[0..len)
 * below the root; an empty dir is the root itself. */
static int dir_stack_enter(DirStack *s, const char *dir, size_t len, int *ret_fd) {
        if (len >= sizeof s->path)
                return -ENAMETOOLONG;
        size_t keep = 0;
        while (keep < s->depth) {
                size_t end = s->ends[keep];
                if (end > len || memcmp(s->path, dir, end) != 0 || (end < len && dir[end] != '/'))
                        break;
                keep++;
        }
        dir_stack_pop(s, keep);
        size_t pos = keep > 0 ? s->ends[keep - 1] + 1 : 0;
        while (pos < len) {
                const char *c = dir + pos;
                const char *slash = memchr(c, '/', len - pos);
                size_t cl = (size_t) ((slash ? slash : dir + len) - c);
                if (s->depth == DIR_DEPTH_MAX)
                        return -ENAMETOOLONG;
                char comp[256];
                if (cl == 0 || cl >= sizeof comp)
                        return -EINVAL;
                memcpy(comp, c, cl);
                comp[cl] = 0;
                int parent = s->depth > 0 ? s->fds[s->depth - 1] : s->root_fd;
                if (s->create && mkdirat(parent, comp, 0755) < 0 && errno != EEXIST)
                        return negative_errno();
                int fd = openat(parent, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                if (pos > 0)
                        s->path[pos - 1] = '/';
                memcpy(s->path + pos, c, cl);
                s->fds[s->depth] = fd;
                s->ends[s->depth++] = pos + cl;
                pos += cl + 1;
        }
        *ret_fd = s->depth > 0 ? s->fds[s->depth - 1] : s->root_fd;
        return 0;
}

/* Opens (creating with 0755 where missing) dir below dirfd; a new fd. */
static int mkdir_p_open_at(int dirfd, const char *dir, int *ret_fd) {
        DirStack s;
        dir_stack_init(&s, dirfd, true);
        int fd, r = dir_stack_enter(&s, dir, strlen(dir), &fd);
        if (r >= 0) {
                fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        r = negative_errno();
                else
                        *ret_fd = fd;
        }
        dir_stack_done(&s);
        return r;
}

#define TEMP_NAME_MAX 32

static int mkdtemp_at(int dirfd, const char *prefix, char ret_name[TEMP_NAME_MAX]) {
        static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        for (unsigned attempt = 0; attempt < 64; attempt++) {
                uint8_t rnd[8];
                if (getrandom(rnd, sizeof rnd, GRND_NONBLOCK) != (ssize_t) sizeof rnd) {
                        /* Uniqueness, not secrecy, is needed here: mkdirat() is
                         * exclusive, so a predictable name only costs a retry. */
                        struct timespec ts;
                        clock_gettime(CLOCK_MONOTONIC, &ts);
                        uint64_t v = (uint64_t) ts.tv_nsec ^ (uint64_t) getpid() << 32 ^ attempt;
                        memcpy(rnd, &v, sizeof rnd);
                }
                char name[TEMP_NAME_MAX];
                size_t pl = strlen(prefix);
                if (pl + sizeof rnd + 1 > sizeof name)
                        return -EINVAL;
                memcpy(name, prefix, pl);
                for (size_t i = 0; i < sizeof rnd; i++)
                        name[pl + i] = chars[rnd[i] % (sizeof chars - 1)];
                name[pl + sizeof rnd] = 0;
                if (mkdirat(dirfd, name, 0700) >= 0) {
                        memcpy(ret_name, name, sizeof name);
                        return 0;
                }
                if (errno != EEXIST)
                        return negative_errno();
        }
        return -EEXIST;
}

/* ---- unpacking ---- */

/* Extracts every entry of z below dirfd; with manifest, appends the name of
 * each file (not directory) on its own line, in zip_entry() order. */
static int unpack_tree(ZipArchive *z, int dirfd, Buf *manifest) {
        DirStack s;
        dir_stack_init(&s, dirfd, true);
        int r = 0;
        for (size_t i = 0; i < zip_n_entries(z); i++) {
                const ZipEntry *e = zip_entry(z, i);
                const char *slash = strrchr(e->name, '/');
                int dfd;
                if (e->is_dir) {
                        r = dir_stack_enter(&s, e->name, strlen(e->name) - 1, &dfd);
                        if (r < 0)
                                break;
                        continue;
                }
                const char *base = slash ? slash + 1 : e->name;
                r = dir_stack_enter(&s, e->name, slash ? (size_t) (slash - e->name) : 0, &dfd);
                if (r < 0)
                        break;
                _cleanup_close_ int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                                e->executable ? 0755 : 0644);
                if (fd < 0) {
                        r = negative_errno();
                        break;
                }
                r = zip_extract(z, e, fd);
                if (r < 0)
                        break;
                if (close(TAKE_FD(fd)) < 0) {
                        r = negative_errno();
                        break;
                }
                if (manifest) {
                        buf_puts(manifest, e->name);
                        buf_putc(manifest, '\n');
                }
        }
        dir_stack_done(&s);
        return r;
}

int wheel_unpack(const char *wheel_path, const char *dest_dir) {
        _cleanup_(zip_freep) ZipArchive *z = NULL;
        int r = zip_open_at(AT_FDCWD, wheel_path, &z);
        if (r < 0)
                return r;
        if (mkdir(dest_dir, 0755) < 0)
                return negative_errno();
        _cleanup_close_ int fd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = fd < 0 ? negative_errno() : unpack_tree(z, fd, NULL);
        if (r < 0)
                (void) rm_rf_at(AT_FDCWD, dest_dir); /* we created it; leave nothing half-done */
        return r;
}

/* ---- the cache's list of files ---- */

typedef struct Manifest {
        char *buf;
        char **files; /* point into buf */
        size_t n;
} Manifest;

static void manifest_done(Manifest *m) {
        free(m->files);
        free(m->buf);
        *m = (Manifest){};
}

/* Parses m->buf (len bytes) in place. Anything unexpected, including a
 * count that does not match the list, is -EBADMSG: the entry is damaged. */
static int manifest_parse(Manifest *m, size_t len) {
        char *p = m->buf, *end = m->buf + len;
        if (len < STRLEN(CACHE_MAGIC) || memcmp(p, CACHE_MAGIC, STRLEN(CACHE_MAGIC)) != 0)
                return -EBADMSG;
        p += STRLEN(CACHE_MAGIC);
        char *nl = memchr(p, '\n', (size_t) (end - p));
        if (!nl || strncmp(p, "files ", 6) != 0)
                return -EBADMSG;
        *nl = 0;
        char *num_end;
        errno = 0;
        unsigned long n = strtoul(p + 6, &num_end, 10);
        if (errno != 0 || num_end != nl || n > ZIP_ENTRIES_MAX)
                return -EBADMSG;
        p = nl + 1;
        m->files = calloc(n + 1, sizeof(char *));
        if (!m->files)
                return -ENOMEM;
        size_t i = 0;
        while (p < end) {
                nl = memchr(p, '\n', (size_t) (end - p));
                if (!nl || i == n || !zip_name_is_safe(p, (size_t) (nl - p)) || nl[-1] == '/')
                        return -EBADMSG;
                *nl = 0;
                m->files[i++] = p;
                p = nl + 1;
        }
        if (i != n)
                return -EBADMSG;
        m->n = n;
        return 0;
}

/* ---- the cache ---- */

static int cache_key(const char *wheel_path, const struct stat *st, char **ret) {
        _cleanup_free_ char *abs = NULL;
        int r = path_make_absolute(wheel_path, &abs);
        if (r < 0)
                return r;
        uint8_t h[32];
        sha256(abs, strlen(abs), h);
        const char *base = path_basename(abs);
        uint64_t mtime = (uint64_t) st->st_mtim.tv_sec * 1000000000u + (uint64_t) st->st_mtim.tv_nsec;
        char *key;
        /* the hashed path tells apart same-named wheels from different places;
         * size and mtime notice a wheel replaced in place */
        if (asprintf(&key, "%.160s-%" PRIx64 "-%" PRIx64 "-%02x%02x%02x%02x%02x%02x", base, (uint64_t) st->st_size,
                     mtime, h[0], h[1], h[2], h[3], h[4], h[5]) < 0)
                return -ENOMEM;
        *ret = key;
        return 0;
}

static int cache_open_wheels_dir(const char *cache_dir, int *ret_fd) {
        _cleanup_free_ char *p = path_join(cache_dir, "wheels");
        if (!p)
                return -ENOMEM;
        int fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                /* 0700: the cache holds code that ends up on sys.path */
                int r = mkdir_p(p, 0700);
                if (r < 0)
                        return r;
                fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        return 0;
}

/* -ENOENT: no entry. -EBADMSG: an entry that is not complete. */
static int cache_read(int wheels_fd, const char *key, int *ret_fd, Manifest *ret_m) {
        _cleanup_close_ int fd = openat(wheels_fd, key, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOTDIR || errno == ELOOP ? -EBADMSG : negative_errno();
        Manifest m = {};
        size_t len;
        int r = read_full_file_at(fd, CACHE_MARKER, METADATA_MAX, &m.buf, &len);
        if (r == -ENOENT || r == -EFBIG || r == -EISDIR)
                return -EBADMSG;
        if (r < 0)
                return r;
        r = manifest_parse(&m, len);
        if (r < 0) {
                manifest_done(&m);
                return r;
        }
        *ret_fd = TAKE_FD(fd);
        *ret_m = m;
        return 0;
}

/* Moves the entry out of the way in one step, so others see it complete or
 * not at all, and a process still installing from it keeps its open fds. */
static int cache_discard(int wheels_fd, const char *key) {
        char tmp[TEMP_NAME_MAX];
        int r = mkdtemp_at(wheels_fd, CACHE_TMP_PREFIX, tmp);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = openat(wheels_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || (renameat(wheels_fd, key, fd, "old") < 0 && errno != ENOENT))
                r = negative_errno();
        int k = rm_rf_at(wheels_fd, tmp);
        return r < 0 ? r : k;
}

/* Unpacks z into a new temporary directory below parent_fd and writes the
 * marker last. */
static int unpack_to_temp(ZipArchive *z, int parent_fd, const char *prefix, char ret_name[TEMP_NAME_MAX], int *ret_fd,
                          Manifest *ret_m) {
        size_t files = 0;
        for (size_t i = 0; i < zip_n_entries(z); i++) {
                const ZipEntry *e = zip_entry(z, i);
                size_t l = strlen(CACHE_MARKER);
                /* a wheel cannot place anything where the marker goes */
                if (strncmp(e->name, CACHE_MARKER, l) == 0 && (e->name[l] == 0 || e->name[l] == '/'))
                        return -EBADMSG;
                files += !e->is_dir;
        }
        char name[TEMP_NAME_MAX];
        int r = mkdtemp_at(parent_fd, prefix, name);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        Buf mf = {};
        Manifest m = {};
        if (fd < 0)
                r = negative_errno();
        else {
                buf_printf(&mf, "%sfiles %zu\n", CACHE_MAGIC, files);
                r = unpack_tree(z, fd, &mf);
                if (r >= 0 && mf.oom)
                        r = -ENOMEM;
                if (r >= 0)
                        r = write_file_at(fd, CACHE_MARKER, mf.data, mf.len, 0644, 0);
        }
        if (r >= 0) {
                size_t len = mf.len;
                m.buf = TAKE_PTR(mf.data);
                r = manifest_parse(&m, len);
        }
        buf_done(&mf);
        if (r < 0) {
                manifest_done(&m);
                (void) rm_rf_at(parent_fd, name);
                return r;
        }
        memcpy(ret_name, name, TEMP_NAME_MAX);
        *ret_fd = TAKE_FD(fd);
        *ret_m = m;
        return 0;
}

/* Returns 1 when another process completed the entry first (read theirs). */
static int cache_build(int wheels_fd, const char *key, int wheel_fd, int *ret_fd, Manifest *ret_m) {
        _cleanup_(zip_freep) ZipArchive *z = NULL;
        int r = zip_open_fd(wheel_fd, &z);
        if (r < 0)
                return r;
        char tmp[TEMP_NAME_MAX];
        _cleanup_close_ int fd = -1;
        Manifest m;
        r = unpack_to_temp(z, wheels_fd, CACHE_TMP_PREFIX, tmp, &fd, &m);
        if (r < 0)
                return r;
        if (renameat(wheels_fd, tmp, wheels_fd, key) < 0) {
                r = errno == EEXIST || errno == ENOTEMPTY ? 1 : negative_errno();
                manifest_done(&m);
                (void) rm_rf_at(wheels_fd, tmp);
                return r;
        }
        *ret_fd = TAKE_FD(fd);
        *ret_m = m;
        return 0;
}

static int cache_acquire(int wheels_fd, const char *key, int wheel_fd, int *ret_fd, Manifest *ret_m) {
        for (unsigned attempt = 0; attempt < 4; attempt++) {
                int r = cache_read(wheels_fd, key, ret_fd, ret_m);
                if (r >= 0)
                        return 0;
                if (r == -EBADMSG)
                        r = cache_discard(wheels_fd, key);
                else if (r == -ENOENT)
                        r = 0;
                if (r < 0)
                        return r;
                r = cache_build(wheels_fd, key, wheel_fd, ret_fd, ret_m);
                if (r <= 0)
                        return r;
        }
        return -EAGAIN; /* entries keep vanishing under us */
}

/* ---- the wheel's own RECORD ---- */

typedef struct RecordRow {
        const char *path, *hash, *size;
} RecordRow;

typedef struct RecordIndex {
        char *buf;
        RecordRow *rows;
        size_t n;
} RecordIndex;

static void record_index_done(RecordIndex *x) {
        free(x->rows);
        free(x->buf);
        *x = (RecordIndex){};
}

/* Parses one CSV field at *p in place (quotes removed, "" unescaped). */
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

static int record_index_parse(RecordIndex *x) {
        size_t cap = 0;
        char *p = x->buf;
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
                if (x->n == cap) {
                        if (cap >= 4 * ZIP_ENTRIES_MAX)
                                return -EBADMSG;
                        cap = cap ? cap * 2 : 256;
                        RecordRow *rows = realloc(x->rows, cap * sizeof(RecordRow));
                        if (!rows)
                                return -ENOMEM;
                        x->rows = rows;
                }
                x->rows[x->n++] = (RecordRow){ f[0], f[1], f[2] };
        }
        if (x->n > 0)
                qsort(x->rows, x->n, sizeof(RecordRow), row_compare);
        return 0;
}

static const RecordRow *record_index_find(const RecordIndex *x, const char *path) {
        if (x->n == 0)
                return NULL;
        RecordRow key = { .path = path };
        return bsearch(&key, x->rows, x->n, sizeof(RecordRow), row_compare);
}

static void csv_put_field(Buf *b, const char *s) {
        if (!s[strcspn(s, ",\"\r\n")]) {
                buf_puts(b, s);
                return;
        }
        buf_putc(b, '"');
        for (; *s; s++) {
                if (*s == '"')
                        buf_putc(b, '"');
                buf_putc(b, *s);
        }
        buf_putc(b, '"');
}

static void csv_put_row(Buf *b, const char *prefix, const char *path, const char *hash, const char *size) {
        if (prefix) {
                /* the path is one field: quote it as a whole */
                Buf joined = {};
                buf_puts(&joined, prefix);
                buf_putc(&joined, '/');
                buf_puts(&joined, path);
                if (joined.oom)
                        b->oom = true;
                else
                        csv_put_field(b, joined.data);
                buf_done(&joined);
        } else
                csv_put_field(b, path);
        buf_putc(b, ',');
        csv_put_field(b, hash);
        buf_putc(b, ',');
        csv_put_field(b, size);
        buf_putc(b, '\n');
}

/* ---- scripts ---- */

/* Inside the double quotes that pip's trampoline uses, only \" and \\ are
 * escapes that both sh and Python accept; "\$" or "\`" would make Python warn
 * about an invalid escape (an error with -W error). So $ and ` are closed out
 * into sh single quotes, and ' becomes \' outside any quotes, which keeps
 * Python from ever seeing ''' inside its string. */
static void sh_quote_python(Buf *b, const char *s) {
        buf_putc(b, '"');
        for (; *s; s++) {
                switch (*s) {
                case '"':
                case '\\':
                        buf_putc(b, '\\');
                        buf_putc(b, *s);
                        break;
                case '$':
                case '`':
                        buf_puts(b, "\"'");
                        buf_putc(b, *s);
                        buf_puts(b, "'\"");
                        break;
                case '\'': buf_puts(b, "\"\\'\""); break;
                default: buf_putc(b, *s);
                }
        }
        buf_putc(b, '"');
}

static void put_shebang(Buf *b, const char *python) {
        bool plain = STRLEN("#!") + strlen(python) + STRLEN("\n") <= SHEBANG_MAX;
        for (const char *c = python; plain && *c; c++)
                if ((unsigned char) *c <= ' ' || *c == 0x7f)
                        plain = false; /* the kernel splits the "#!" line at whitespace */
        if (plain) {
                buf_puts(b, "#!");
                buf_puts(b, python);
                buf_putc(b, '\n');
                return;
        }
        /* sh runs line two; Python sees lines two and three as a string */
        buf_puts(b, "#!/bin/sh\n'''exec' ");
        sh_quote_python(b, python);
        buf_puts(b, " \"$0\" \"$@\"\n' '''\n");
}

typedef struct Script {
        char *name;
        const char *module, *attr;
} Script;

typedef struct ScriptList {
        Script *s;
        size_t n;
} ScriptList;

static void script_list_done(ScriptList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->s[i].name);
        free(l->s);
        *l = (ScriptList){};
}

static int script_list_set(ScriptList *l, const char *name, const char *module, const char *attr) {
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->s[i].name, name) == 0) {
                        l->s[i].module = module;
                        l->s[i].attr = attr;
                        return 0;
                }
        if (l->n == SCRIPTS_MAX)
                return -EBADMSG;
        Script *s = realloc(l->s, (l->n + 1) * sizeof(Script));
        if (!s)
                return -ENOMEM;
        l->s = s;
        char *copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        l->s[l->n++] = (Script){ copy, module, attr };
        return 0;
}

static void script_list_remove_if(ScriptList *l, bool (*match)(const char *)) {
        size_t k = 0;
        for (size_t i = 0; i < l->n; i++) {
                if (match(l->s[i].name))
                        free(l->s[i].name);
                else
                        l->s[k++] = l->s[i];
        }
        l->n = k;
}

static const char *skip_digits(const char *s) {
        const char *p = s;
        while (*p >= '0' && *p <= '9')
                p++;
        return p > s ? p : NULL;
}

/* pip, pip3, pip3.11 */
static bool is_pip_script(const char *s) {
        if (strncmp(s, "pip", 3) != 0)
                return false;
        s += 3;
        if (!*s)
                return true;
        if (!(s = skip_digits(s)))
                return false;
        if (!*s)
                return true;
        return *s == '.' && (s = skip_digits(s + 1)) && !*s;
}

/* easy_install, easy_install-3.11 */
static bool is_easy_install_script(const char *s) {
        if (strncmp(s, "easy_install", 12) != 0)
                return false;
        s += 12;
        if (!*s)
                return true;
        return *s == '-' && (s = skip_digits(s + 1)) && *s == '.' && (s = skip_digits(s + 1)) && !*s;
}

static bool is_dotted_name(const char *s) {
        bool start = true;
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '.') {
                        if (start)
                                return false;
                        start = true;
                        continue;
                }
                bool alpha = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
                if (!alpha && !(!start && c >= '0' && c <= '9'))
                        return false;
                start = false;
        }
        return !start;
}

static char *strip(char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        size_t l = strlen(s);
        while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r'))
                s[--l] = 0;
        return s;
}

/* Collects [console_scripts] and [gui_scripts] (the same thing on POSIX) of
 * an entry_points.txt, parsed in place. */
static int parse_entry_points(char *text, ScriptList *l) {
        bool in_scripts = false;
        for (char *line = text, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char *s = strip(line);
                if (!*s || *s == '#' || *s == ';')
                        continue;
                if (*s == '[') {
                        in_scripts = strcmp(s, "[console_scripts]") == 0 || strcmp(s, "[gui_scripts]") == 0;
                        continue;
                }
                if (!in_scripts)
                        continue;
                char *eq = strchr(s, '=');
                if (!eq)
                        return -EBADMSG;
                *eq = 0;
                char *name = strip(s), *value = strip(eq + 1);
                char *extras = strchr(value, '[');
                if (extras) {
                        *extras = 0;
                        value = strip(value);
                }
                char *colon = strchr(value, ':');
                if (!colon)
                        return -EBADMSG; /* a script needs a callable */
                *colon = 0;
                char *module = strip(value), *attr = strip(colon + 1);
                if (!path_is_safe_component(name) || name[strcspn(name, "\\\x7f")] || !is_dotted_name(module) ||
                    !is_dotted_name(attr))
                        return -EBADMSG;
                for (const char *c = name; *c; c++)
                        if ((unsigned char) *c < 0x20)
                                return -EBADMSG;
                int r = script_list_set(l, name, module, attr);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* pip's wheel carries "pip3.N" for whichever Python built it; like pip
 * itself, name the scripts after the interpreter they will run on. */
static int rename_versioned_scripts(ScriptList *l, int major, int minor) {
        for (size_t i = 0; i < l->n; i++) {
                if (strcmp(l->s[i].name, "pip") != 0)
                        continue;
                Script pip = l->s[i];
                char a[32], b[32];
                snprintf(a, sizeof a, "pip%d", major);
                snprintf(b, sizeof b, "pip%d.%d", major, minor);
                script_list_remove_if(l, is_pip_script);
                int r;
                if ((r = script_list_set(l, "pip", pip.module, pip.attr)) < 0 ||
                    (r = script_list_set(l, a, pip.module, pip.attr)) < 0 ||
                    (r = script_list_set(l, b, pip.module, pip.attr)) < 0)
                        return r;
                break;
        }
        for (size_t i = 0; i < l->n; i++) {
                if (strcmp(l->s[i].name, "easy_install") != 0)
                        continue;
                Script ei = l->s[i];
                char a[48];
                snprintf(a, sizeof a, "easy_install-%d.%d", major, minor);
                script_list_remove_if(l, is_easy_install_script);
                int r;
                if ((r = script_list_set(l, "easy_install", ei.module, ei.attr)) < 0 ||
                    (r = script_list_set(l, a, ei.module, ei.attr)) < 0)
                        return r;
                break;
        }
        return 0;
}

static void put_console_script(Buf *b, const char *python, const char *module, const char *attr) {
        put_shebang(b, python);
        size_t head = strcspn(attr, ".");
        buf_puts(b, "# Written by vrun for an entry point; `pip uninstall` removes it.\n"
                    "import re\n"
                    "import sys\n"
                    "\n"
                    "from ");
        buf_puts(b, module);
        buf_puts(b, " import ");
        buf_add(b, attr, head);
        buf_puts(b, "\n"
                    "\n"
                    "if __name__ == \"__main__\":\n"
                    "    sys.argv[0] = re.sub(r\"(-script\\.pyw|\\.exe)?$\", \"\", sys.argv[0])\n"
                    "    sys.exit(");
        buf_puts(b, attr);
        buf_puts(b, "())\n");
}

/* ---- installing ---- */

typedef struct Installer {
        const WheelTarget *t;
        int site_fd, bin_fd;
        char *bin_rel; /* bin_dir as seen from site_packages, for RECORD */
        bool no_links; /* linkat() failed in a way that will not change */

        /* per source tree */
        int src_fd;
        const Manifest *m;
        char *dist_info;
        RecordIndex wheel_record;
        Buf record;
        DirStack src, site, bin;
} Installer;

typedef enum DestKind {
        DEST_SKIP,
        DEST_SITE,
        DEST_BIN,
} DestKind;

/* Where the wheel's file path goes: rel is below site-packages or bin. */
static int classify(const Installer *in, const char *path, DestKind *ret_kind, const char **ret_rel) {
        const char *slash = strchr(path, '/');
        size_t l = slash ? (size_t) (slash - path) : 0;
        if (slash && l > STRLEN(".data") && memcmp(slash - STRLEN(".data"), ".data", STRLEN(".data")) == 0) {
                const char *scheme = slash + 1, *s2 = strchr(scheme, '/');
                if (!s2)
                        return -EBADMSG;
                size_t sl = (size_t) (s2 - scheme);
                if ((sl == 7 && memcmp(scheme, "purelib", 7) == 0) || (sl == 7 && memcmp(scheme, "platlib", 7) == 0))
                        *ret_kind = DEST_SITE;
                else if (sl == 7 && memcmp(scheme, "scripts", 7) == 0)
                        *ret_kind = DEST_BIN;
                else
                        return -EOPNOTSUPP; /* "headers" and "data" need install paths we do not model */
                *ret_rel = s2 + 1;
                return 0;
        }
        if (slash && strncmp(path, in->dist_info, l) == 0 && in->dist_info[l] == 0 &&
            (strcmp(slash + 1, "RECORD") == 0 || strcmp(slash + 1, "INSTALLER") == 0 ||
             strcmp(slash + 1, "REQUESTED") == 0)) {
                *ret_kind = DEST_SKIP; /* written fresh for this env */
                *ret_rel = path;
                return 0;
        }
        *ret_kind = DEST_SITE;
        *ret_rel = path;
        return 0;
}

static int find_dist_info(const Manifest *m, char **ret) {
        const char *found = NULL;
        size_t found_len = 0;
        for (size_t i = 0; i < m->n; i++) {
                const char *p = m->files[i], *slash = strchr(p, '/');
                if (!slash || (size_t) (slash - p) <= STRLEN(".dist-info") ||
                    memcmp(slash - STRLEN(".dist-info"), ".dist-info", STRLEN(".dist-info")) != 0)
                        continue;
                size_t l = (size_t) (slash - p);
                if (found && (l != found_len || memcmp(found, p, l) != 0))
                        return -EBADMSG; /* a wheel holds exactly one distribution */
                found = p;
                found_len = l;
        }
        if (!found)
                return -EBADMSG;
        char *d = strndup(found, found_len);
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

static int copy_fd(int in_fd, int out_fd) {
        bool fallback = false;
        for (;;) {
                ssize_t k;
                if (!fallback) {
                        k = copy_file_range(in_fd, NULL, out_fd, NULL, 1u << 30, 0);
                        if (k < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP ||
                                      errno == EBADF || errno == EPERM)) {
                                fallback = true; /* the file offsets have not moved */
                                continue;
                        }
                } else {
                        char buf[64 * 1024];
                        k = read(in_fd, buf, sizeof buf);
                        if (k > 0) {
                                int r = loop_write(out_fd, buf, (size_t) k);
                                if (r < 0)
                                        return r;
                        }
                }
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        return 0;
        }
}

/* A fresh file, never a write through an existing name: installed files may
 * be hard links into the cache. (fileio's copy_file_at() takes the source as
 * a path; here both sides are relative to directory fds.) */
static int copy_into_at(int src_dirfd, const char *src, int dst_dirfd, const char *dst) {
        _cleanup_close_ int in_fd = openat(src_dirfd, src, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (in_fd < 0)
                return negative_errno();
        struct stat st;
        if (fstat(in_fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        _cleanup_close_ int out_fd =
                openat(dst_dirfd, dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 0777);
        if (out_fd < 0)
                return negative_errno();
        int r = copy_fd(in_fd, out_fd);
        if (r < 0)
                return r;
        return close(TAKE_FD(out_fd)) < 0 ? negative_errno() : 0;
}

static int link_or_copy(Installer *in, int src_dirfd, const char *src, int dst_dirfd, const char *dst) {
        if (!in->no_links) {
                if (linkat(src_dirfd, src, dst_dirfd, dst, 0) >= 0)
                        return 0;
                /* EXDEV: cache on another filesystem; EPERM: fs.protected_hardlinks
                 * or no hard links at all; EMLINK: the cache file has too many */
                if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != EOPNOTSUPP)
                        return negative_errno();
                if (errno != EMLINK)
                        in->no_links = true;
        }
        return copy_into_at(src_dirfd, src, dst_dirfd, dst);
}

/* Files from <name>.data/scripts get pip's treatment: a "#!python" first line
 * becomes the env's interpreter, and the result is executable. */
static int install_data_script(Installer *in, int src_dirfd, const char *src, int dst_dirfd, const char *dst,
                               char hash[RECORD_HASH_MAX], size_t *ret_size) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = read_full_file_at(src_dirfd, src, METADATA_MAX, &data, &len);
        if (r < 0)
                return r;
        Buf b = {};
        if (len >= STRLEN("#!python") && memcmp(data, "#!python", STRLEN("#!python")) == 0) {
                const char *nl = memchr(data, '\n', len);
                size_t rest = nl ? (size_t) (nl + 1 - data) : len;
                put_shebang(&b, in->t->python);
                buf_add(&b, data + rest, len - rest);
        } else
                buf_add(&b, data, len);
        if (b.oom)
                r = -ENOMEM;
        else {
                record_hash(b.data, b.len, hash);
                *ret_size = b.len;
                r = write_file_at(dst_dirfd, dst, b.data, b.len, 0755, 0);
        }
        buf_done(&b);
        return r;
}

static int install_one(Installer *in, const char *path) {
        DestKind kind;
        const char *rel;
        int r = classify(in, path, &kind, &rel);
        if (r < 0 || kind == DEST_SKIP)
                return r;

        const char *sslash = strrchr(path, '/');
        const char *sbase = sslash ? sslash + 1 : path;
        int sfd;
        r = dir_stack_enter(&in->src, path, sslash ? (size_t) (sslash - path) : 0, &sfd);
        if (r < 0)
                return r;
        const char *dslash = strrchr(rel, '/');
        const char *dbase = dslash ? dslash + 1 : rel;
        int dfd;
        r = dir_stack_enter(kind == DEST_BIN ? &in->bin : &in->site, rel, dslash ? (size_t) (dslash - rel) : 0, &dfd);
        if (r < 0)
                return r;

        const RecordRow *row = record_index_find(&in->wheel_record, path);
        if (kind == DEST_BIN) {
                char hash[RECORD_HASH_MAX], size[32];
                size_t n;
                r = install_data_script(in, sfd, sbase, dfd, dbase, hash, &n);
                if (r < 0)
                        return r;
                snprintf(size, sizeof size, "%zu", n);
                csv_put_row(&in->record, in->bin_rel, rel, hash, size);
                return 0;
        }
        r = link_or_copy(in, sfd, sbase, dfd, dbase);
        if (r < 0)
                return r;
        csv_put_row(&in->record, NULL, rel, row ? row->hash : "", row ? row->size : "");
        return 0;
}

/* Removes what install_one() placed for the first n files. */
static void uninstall_files(Installer *in, size_t n) {
        DirStack site, bin;
        dir_stack_init(&site, in->site_fd, false);
        dir_stack_init(&bin, in->bin_fd, false);
        for (size_t i = 0; i < n; i++) {
                DestKind kind;
                const char *rel;
                if (classify(in, in->m->files[i], &kind, &rel) < 0 || kind == DEST_SKIP)
                        continue;
                const char *slash = strrchr(rel, '/');
                int dfd;
                if (dir_stack_enter(kind == DEST_BIN ? &bin : &site, rel, slash ? (size_t) (slash - rel) : 0, &dfd) >=
                    0)
                        (void) unlinkat(dfd, slash ? slash + 1 : rel, 0);
        }
        dir_stack_done(&site);
        dir_stack_done(&bin);
}

static bool manifest_has(const Manifest *m, const char *dist_info, const char *file) {
        size_t l = strlen(dist_info);
        for (size_t i = m->n; i-- > 0;) /* dist-info sorts late; search from the end */
                if (strncmp(m->files[i], dist_info, l) == 0 && m->files[i][l] == '/' &&
                    strcmp(m->files[i] + l + 1, file) == 0)
                        return true;
        return false;
}

static int write_scripts(Installer *in) {
        if (!manifest_has(in->m, in->dist_info, "entry_points.txt"))
                return 0;
        _cleanup_free_ char *path = NULL, *text = NULL;
        if (asprintf(&path, "%s/entry_points.txt", in->dist_info) < 0)
                return -ENOMEM;
        int r = read_full_file_at(in->src_fd, path, METADATA_MAX, &text, NULL);
        if (r < 0)
                return r;
        ScriptList l = {};
        r = parse_entry_points(text, &l);
        if (r >= 0)
                r = rename_versioned_scripts(&l, in->t->version_major, in->t->version_minor);
        for (size_t i = 0; r >= 0 && i < l.n; i++) {
                Buf b = {};
                put_console_script(&b, in->t->python, l.s[i].module, l.s[i].attr);
                if (b.oom)
                        r = -ENOMEM;
                else
                        r = write_file_at(in->bin_fd, l.s[i].name, b.data, b.len, 0755, 0);
                if (r >= 0) {
                        char hash[RECORD_HASH_MAX], size[32];
                        record_hash(b.data, b.len, hash);
                        snprintf(size, sizeof size, "%zu", b.len);
                        csv_put_row(&in->record, in->bin_rel, l.s[i].name, hash, size);
                }
                buf_done(&b);
        }
        script_list_done(&l);
        return r;
}

static int write_generated(Installer *in, int dir_fd, const char *name, const char *content) {
        size_t len = strlen(content);
        int r = write_file_at(dir_fd, name, content, len, 0644, 0);
        if (r < 0)
                return r;
        char hash[RECORD_HASH_MAX], size[32];
        record_hash(content, len, hash);
        snprintf(size, sizeof size, "%zu", len);
        csv_put_row(&in->record, in->dist_info, name, hash, size);
        return 0;
}

/* Installs the unpacked wheel at src_fd (listed by m). -ESTALE when the
 * source tree lacks a file it should have; what was placed is removed again
 * so the caller can rebuild the source and retry. */
static int install_tree(Installer *in, int src_fd, const Manifest *m) {
        in->src_fd = src_fd;
        in->m = m;
        in->record = (Buf){};
        dir_stack_init(&in->src, src_fd, false);
        dir_stack_init(&in->site, in->site_fd, true);
        dir_stack_init(&in->bin, in->bin_fd, true);
        size_t done = 0;
        int dfd, r = find_dist_info(m, &in->dist_info);
        if (r >= 0 && manifest_has(m, in->dist_info, "RECORD")) {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/RECORD", in->dist_info) < 0)
                        r = -ENOMEM;
                else
                        r = read_full_file_at(src_fd, path, METADATA_MAX, &in->wheel_record.buf, NULL);
                if (r >= 0)
                        r = record_index_parse(&in->wheel_record);
        }
        while (r >= 0 && done < m->n) {
                r = install_one(in, m->files[done]);
                if (r >= 0)
                        done++;
        }
        if (r >= 0)
                r = write_scripts(in);
        if (r >= 0)
                r = dir_stack_enter(&in->site, in->dist_info, strlen(in->dist_info), &dfd);
        if (r >= 0)
                /* pip only uninstalls what it considers its own */
                r = write_generated(in, dfd, "INSTALLER", "pip\n");
        if (r >= 0)
                r = write_generated(in, dfd, "REQUESTED", "");
        if (r >= 0) {
                csv_put_row(&in->record, in->dist_info, "RECORD", "", "");
                r = in->record.oom ? -ENOMEM : write_file_at(dfd, "RECORD", in->record.data, in->record.len, 0644, 0);
        }
        if (r == -ENOENT || r == -ENOTDIR) {
                /* Every name came from the source's manifest and every
                 * destination directory was just created: the source is
                 * missing something. */
                uninstall_files(in, done);
                r = -ESTALE;
        }
        dir_stack_done(&in->src);
        dir_stack_done(&in->site);
        dir_stack_done(&in->bin);
        buf_done(&in->record);
        record_index_done(&in->wheel_record);
        free(in->dist_info);
        in->dist_info = NULL;
        in->m = NULL; /* the caller's, gone when it returns */
        in->src_fd = -1;
        return r;
}

/* "lib/python3.11/site-packages" -> "bin" gives "../../../bin". */
static int relative_dir(const char *from, const char *to, char **ret) {
        const char *f = from, *t = to;
        /* skip the common leading components */
        for (;;) {
                while (*f == '/')
                        f++;
                while (*t == '/')
                        t++;
                size_t fl = strcspn(f, "/"), tl = strcspn(t, "/");
                if (fl == 0 || fl != tl || memcmp(f, t, fl) != 0)
                        break;
                f += fl;
                t += tl;
        }
        Buf b = {};
        while (*f) {
                size_t fl = strcspn(f, "/");
                buf_puts(&b, b.len ? "/.." : "..");
                f += fl;
                while (*f == '/')
                        f++;
        }
        while (*t) {
                size_t tl = strcspn(t, "/");
                if (b.len)
                        buf_putc(&b, '/');
                buf_add(&b, t, tl);
                t += tl;
                while (*t == '/')
                        t++;
        }
        if (!b.len)
                buf_putc(&b, '.');
        if (b.oom) {
                buf_done(&b);
                return -ENOMEM;
        }
        *ret = b.data;
        return 0;
}

static bool is_plain_relative(const char *p) {
        if (!p || !*p || *p == '/')
                return false;
        for (const char *c = p; *c;) {
                size_t l = strcspn(c, "/");
                if ((l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += l;
                while (*c == '/')
                        c++;
        }
        return true;
}

static int install_via_scratch(Installer *in, int wheel_fd) {
        _cleanup_(zip_freep) ZipArchive *z = NULL;
        int r = zip_open_fd(wheel_fd, &z);
        if (r < 0)
                return r;
        char tmp[TEMP_NAME_MAX];
        _cleanup_close_ int fd = -1;
        Manifest m;
        r = unpack_to_temp(z, in->t->env_fd, SCRATCH_PREFIX, tmp, &fd, &m);
        if (r < 0)
                return r;
        r = install_tree(in, fd, &m);
        manifest_done(&m);
        int k = rm_rf_at(in->t->env_fd, tmp);
        return r < 0 ? r : k;
}

/* *ret_started tells whether anything may have been placed in the env. */
static int install_via_cache(Installer *in, const char *wheel_path, int wheel_fd, const struct stat *st,
                             bool *ret_started) {
        _cleanup_free_ char *key = NULL;
        int r = cache_key(wheel_path, st, &key);
        if (r < 0)
                return r;
        _cleanup_close_ int wheels_fd = -1;
        r = cache_open_wheels_dir(in->t->cache_dir, &wheels_fd);
        if (r < 0)
                return r;
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_close_ int entry_fd = -1;
                Manifest m;
                r = cache_acquire(wheels_fd, key, wheel_fd, &entry_fd, &m);
                if (r < 0)
                        return r;
                *ret_started = true;
                r = install_tree(in, entry_fd, &m);
                manifest_done(&m);
                if (r != -ESTALE || attempt > 0)
                        return r;
                /* someone cleaned files out of the cache: rebuild it once */
                r = cache_discard(wheels_fd, key);
                if (r < 0)
                        return r;
        }
}

int wheel_install(const char *wheel_path, const WheelTarget *t) {
        if (!wheel_path || !t || t->env_fd < 0 || !is_plain_relative(t->site_packages) ||
            !is_plain_relative(t->bin_dir) || !t->python || t->python[0] != '/' || t->version_major <= 0 ||
            t->version_minor < 0)
                return -EINVAL;

        _cleanup_close_ int wheel_fd = open(wheel_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (wheel_fd < 0)
                return negative_errno();
        struct stat st;
        if (fstat(wheel_fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return S_ISDIR(st.st_mode) ? -EISDIR : -EBADMSG;

        Installer in = { .t = t, .site_fd = -1, .bin_fd = -1 };
        int r = mkdir_p_open_at(t->env_fd, t->site_packages, &in.site_fd);
        if (r >= 0)
                r = mkdir_p_open_at(t->env_fd, t->bin_dir, &in.bin_fd);
        if (r >= 0)
                r = relative_dir(t->site_packages, t->bin_dir, &in.bin_rel);
        if (r >= 0) {
                bool started = false;
                r = t->cache_dir ? install_via_cache(&in, wheel_path, wheel_fd, &st, &started) : -ENOENT;
                /* An unusable cache (read-only or full home, a file in the
                 * way) only costs speed: unpack into the env being built and
                 * link from there. A bad wheel fails there again. */
                if (r < 0 && !started)
                        r = install_via_scratch(&in, wheel_fd);
        }
        free(in.bin_rel);
        if (in.site_fd >= 0)
                close(in.site_fd);
        if (in.bin_fd >= 0)
                close(in.bin_fd);
        return r;
}
