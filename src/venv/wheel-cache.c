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
#include "vrun/venv/record.h"

#define CACHE_MARKER     ".vrun-complete"
#define CACHE_MAGIC      "vrun-wheel-cache 1\n"
#define CACHE_TMP_PREFIX ".tmp-"

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

int wheel_cache_key(const char *wheel_path, const struct stat *st, char **ret) {
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

int wheel_unpack_to_temp(int wheel_fd, int parent_fd, const char *prefix, char ret_name[TEMP_NAME_MAX], int *ret_fd,
                         Manifest *ret_m) {
        _cleanup_(zip_freep) ZipArchive *z = NULL;
        int r = zip_open_fd(wheel_fd, &z);
        if (r < 0)
                return r;
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
        r = mkdtemp_at(parent_fd, prefix, name);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        Manifest m = {};
        _cleanup_free_ char *mf_buf = NULL;
        size_t mf_len = 0;
        _cleanup_fclose_ FILE *mf = NULL;
        if (fd < 0)
                r = negative_errno();
        else if (!(mf = open_memstream(&mf_buf, &mf_len)))
                r = -ENOMEM;
        else {
                fprintf(mf, "%sfiles %zu\n", CACHE_MAGIC, files);
                r = wheel_unpack_tree(z, fd, mf);
                int k = memstream_close(&mf);
                if (r >= 0)
                        r = k;
                if (r >= 0)
                        r = write_file_at(fd, CACHE_MARKER, mf_buf, mf_len, 0644, 0);
        }
        if (r >= 0) {
                m.buf = TAKE_PTR(mf_buf);
                r = manifest_parse(&m, mf_len);
        }
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
        char tmp[TEMP_NAME_MAX];
        _cleanup_close_ int fd = -1;
        Manifest m;
        int r = wheel_unpack_to_temp(wheel_fd, wheels_fd, CACHE_TMP_PREFIX, tmp, &fd, &m);
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

int wheel_cache_acquire(int wheels_fd, const char *key, int wheel_fd, int *ret_fd, Manifest *ret_m) {
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
                r = cache_build(wheels_fd, key, wheel_fd, ret_fd, ret_m);
                if (r <= 0)
                        return r;
        }
        return -EAGAIN; /* entries keep vanishing under us */
}
