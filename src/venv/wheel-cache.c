#include "vrun/venv/wheel-cache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/memstream.h"
#include "util/path.h"
#include "util/sha256.h"
#include "vrun/venv/pycache.h"
#include "vrun/venv/record.h"

#define CACHE_MARKER   ".vrun-complete"
#define CACHE_MAGIC    "vrun-wheel-cache 2\n"
#define CACHE_RESERVED ".vrun-" /* names of the entry's own files */
/* the wheel's files and a .pyc for each module */
#define MANIFEST_FILES_MAX (2 * ZIP_ENTRIES_MAX)
#define CACHE_TMP_PREFIX   ".tmp-"

int wheel_unpack_tree(ZipArchive *z, int dirfd, FILE *manifest) {
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
                        fputs(e->name, manifest);
                        fputc('\n', manifest);
                }
        }
        dir_stack_done(&s);
        return r;
}

void manifest_done(Manifest *m) {
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
        if (errno != 0 || num_end != nl || n > MANIFEST_FILES_MAX)
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

static uint64_t mtime_ns(const struct stat *st) {
        return (uint64_t) st->st_mtim.tv_sec * 1000000000u + (uint64_t) st->st_mtim.tv_nsec;
}

int wheel_cache_key(const char *wheel_path, const struct stat *st, const char *python, char **ret) {
        _cleanup_free_ char *abs = NULL;
        int r = path_make_absolute(wheel_path, &abs);
        if (r < 0)
                return r;
        uint8_t h[SHA256_DIGEST_SIZE];
        sha256(abs, strlen(abs), h);
        /* The .pyc files are the interpreter's: its path, size and mtime, as
         * for its cached facts. */
        char py[24] = "";
        struct stat pst;
        if (python) {
                if (stat(python, &pst) < 0)
                        return negative_errno();
                Sha256 ps;
                uint64_t id[2] = { (uint64_t) pst.st_size, mtime_ns(&pst) };
                uint8_t ph[SHA256_DIGEST_SIZE];
                sha256_init(&ps);
                sha256_update(&ps, python, strlen(python));
                sha256_update(&ps, id, sizeof id);
                sha256_final(&ps, ph);
                snprintf(py, sizeof py, "-py%02x%02x%02x%02x%02x%02x", ph[0], ph[1], ph[2], ph[3], ph[4], ph[5]);
        }
        const char *base = path_basename(abs);
        char *key;
        /* the hashed path tells apart same-named wheels from different places;
         * size and mtime notice a wheel replaced in place */
        if (asprintf(&key, "%.160s-%" PRIx64 "-%" PRIx64 "-%02x%02x%02x%02x%02x%02x%s", base, (uint64_t) st->st_size,
                     mtime_ns(st), h[0], h[1], h[2], h[3], h[4], h[5], py) < 0)
                return -ENOMEM;
        *ret = key;
        return 0;
}

int wheel_cache_open(const char *cache_dir, int *ret_fd) {
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
        /* Unpacks of killed processes: a live one takes seconds, not an hour. */
        sweep_stale_dirs_at(fd, CACHE_TMP_PREFIX, 3600, NULL);
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
        int r = read_full_file_at(fd, CACHE_MARKER, RECORD_MAX, &m.buf, &len);
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

int wheel_cache_discard(int wheels_fd, const char *key) {
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

/* The lines of buf (each ends in '\n') as strings, in place. */
static int split_lines(char *buf, size_t len, char ***ret, size_t *ret_n) {
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                n += buf[i] == '\n';
        char **l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        char *p = buf;
        for (size_t i = 0; i < n; i++) {
                char *nl = strchr(p, '\n');
                *nl = 0;
                l[i] = p;
                p = nl + 1;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

static int name_compare(const void *a, const void *b) {
        return zip_name_compare(*(char *const *) a, *(char *const *) b);
}

/* Compiles the modules among files[0..n) (see pycache.h), writes their RECORD
 * rows to PYCACHE_RECORD and returns the names of the .pyc files. */
static int compile_modules(const char *python, int fd, char **files, size_t n, char **ret_buf, size_t *ret_len) {
        _cleanup_free_ char **py = calloc(n + 1, sizeof(char *));
        if (!py)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                if (pycache_wants(files[i]))
                        py[k++] = files[i];
        _cleanup_free_ char *names = NULL, *record = NULL;
        size_t names_len = 0, record_len = 0;
        _cleanup_fclose_ FILE *nf = open_memstream(&names, &names_len);
        _cleanup_fclose_ FILE *rf = open_memstream(&record, &record_len);
        if (!nf || !rf)
                return -ENOMEM;
        int r = pycache_compile(python, fd, py, k, nf, rf);
        int c1 = memstream_close(&nf), c2 = memstream_close(&rf);
        if (r >= 0)
                r = c1 < 0 ? c1 : c2;
        if (r >= 0)
                r = write_file_at(fd, PYCACHE_RECORD, record, record_len, 0644, 0);
        if (r < 0)
                return r;
        *ret_buf = TAKE_PTR(names);
        *ret_len = names_len;
        return 0;
}

/* The marker: magic, count and every file, sorted as zip_entry() sorts. */
static int write_marker(int fd, char *wheel_names, size_t wheel_len, char *pyc_names, size_t pyc_len, Manifest *ret_m) {
        _cleanup_free_ char **a = NULL, **b = NULL, **all = NULL;
        size_t na, nb;
        int r = split_lines(wheel_names, wheel_len, &a, &na);
        if (r >= 0)
                r = split_lines(pyc_names, pyc_len, &b, &nb);
        if (r < 0)
                return r;
        all = calloc(na + nb + 1, sizeof(char *));
        if (!all)
                return -ENOMEM;
        memcpy(all, a, na * sizeof(char *));
        memcpy(all + na, b, nb * sizeof(char *));
        qsort(all, na + nb, sizeof(char *), name_compare);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%sfiles %zu\n", CACHE_MAGIC, na + nb);
        for (size_t i = 0; i < na + nb; i++) {
                fputs(all[i], f);
                fputc('\n', f);
        }
        r = memstream_close(&f);
        if (r >= 0)
                r = write_file_at(fd, CACHE_MARKER, buf, len, 0644, 0);
        if (r < 0)
                return r;
        Manifest m = { .buf = TAKE_PTR(buf) };
        r = manifest_parse(&m, len);
        if (r < 0) {
                manifest_done(&m);
                return r;
        }
        *ret_m = m;
        return 0;
}

static int unpack_into(ZipArchive *z, const char *python, int fd, Manifest *ret_m) {
        _cleanup_free_ char *names = NULL, *pyc_names = NULL;
        size_t names_len = 0, pyc_len = 0;
        _cleanup_fclose_ FILE *nf = open_memstream(&names, &names_len);
        if (!nf)
                return -ENOMEM;
        int r = wheel_unpack_tree(z, fd, nf);
        int k = memstream_close(&nf);
        if (r < 0 || k < 0)
                return r < 0 ? r : k;
        if (python) {
                /* split_lines() below works in place: compile from a copy */
                _cleanup_free_ char *copy = strdup(names);
                _cleanup_free_ char **files = NULL;
                size_t n;
                if (!copy)
                        return -ENOMEM;
                r = split_lines(copy, names_len, &files, &n);
                if (r >= 0)
                        r = compile_modules(python, fd, files, n, &pyc_names, &pyc_len);
                if (r < 0)
                        return r;
        }
        return write_marker(fd, names, names_len, pyc_names ? pyc_names : (char[]){ 0 }, pyc_len, ret_m);
}

int wheel_unpack_to_temp(int wheel_fd, const char *python, int parent_fd, const char *prefix,
                         char ret_name[TEMP_NAME_MAX], int *ret_fd, Manifest *ret_m) {
        _cleanup_(zip_freep) ZipArchive *z = NULL;
        int r = zip_open_fd(wheel_fd, &z);
        if (r < 0)
                return r;
        for (size_t i = 0; i < zip_n_entries(z); i++)
                /* a wheel cannot place anything where the entry's own files go */
                if (strncmp(zip_entry(z, i)->name, CACHE_RESERVED, STRLEN(CACHE_RESERVED)) == 0)
                        return -EBADMSG;
        char name[TEMP_NAME_MAX];
        r = mkdtemp_at(parent_fd, prefix, name);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        Manifest m = {};
        r = fd < 0 ? negative_errno() : unpack_into(z, python, fd, &m);
        if (r < 0) {
                (void) rm_rf_at(parent_fd, name);
                return r;
        }
        memcpy(ret_name, name, TEMP_NAME_MAX);
        *ret_fd = TAKE_FD(fd);
        *ret_m = m;
        return 0;
}

/* Returns 1 when another process completed the entry first (read theirs). */
static int cache_build(int wheels_fd, const char *key, int wheel_fd, const char *python, int *ret_fd, Manifest *ret_m) {
        char tmp[TEMP_NAME_MAX];
        _cleanup_close_ int fd = -1;
        Manifest m;
        int r = wheel_unpack_to_temp(wheel_fd, python, wheels_fd, CACHE_TMP_PREFIX, tmp, &fd, &m);
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

int wheel_cache_acquire(int wheels_fd, const char *key, int wheel_fd, const char *python, int *ret_fd,
                        Manifest *ret_m) {
        for (unsigned attempt = 0; attempt < 4; attempt++) {
                int r = cache_read(wheels_fd, key, ret_fd, ret_m);
                if (r >= 0)
                        return 0;
                if (r == -EBADMSG)
                        r = wheel_cache_discard(wheels_fd, key);
                else if (r == -ENOENT)
                        r = 0;
                if (r < 0)
                        return r;
                r = cache_build(wheels_fd, key, wheel_fd, python, ret_fd, ret_m);
                if (r <= 0)
                        return r;
        }
        return -EAGAIN; /* entries keep vanishing under us */
}
