#include "vrun/export/image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"

#define MEDIA_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_INDEX    "application/vnd.oci.image.index.v1+json"
#define MEDIA_CONFIG   "application/vnd.oci.image.config.v1+json"
#define MEDIA_LAYER    "application/vnd.oci.image.layer.v1.tar+gzip"
#define REF_NAME       "org.opencontainers.image.ref.name"
/* index.json and cache records are small; more is not ours. */
#define INDEX_MAX (4 << 20)
/* The base layer cache keeps the layers of the bases exported last (a few interpreters,
 * each tens of MiB), and reads no more records than this. */
#define EXPORT_CACHE_KEEP        8
#define EXPORT_CACHE_MAX_RECORDS 4096

const char *image_architecture(void) {
#if defined(__x86_64__)
        return "amd64";
#elif defined(__aarch64__)
        return "arm64";
#elif defined(__i386__)
        return "386";
#elif defined(__arm__)
        return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        return "ppc64le";
#elif defined(__s390x__)
        return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
        return "riscv64";
#else
        return "unknown";
#endif
}

static const char *hex_of(const char *digest) {
        return digest + STRLEN("sha256:");
}

/* Deterministic bytes: sorted keys, no whitespace. */
static char *dump(const json_t *j) {
        return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
}

static int write_blob_bytes(int blobs, const char *data, size_t len, char digest[DIGEST_STR_SIZE]) {
        digest_bytes(data, len, digest);
        if (faccessat(blobs, hex_of(digest), F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        return write_file_atomic_at(blobs, hex_of(digest), data, len, 0644);
}

/* The blob at src into blobs/: a hard link where it can (blobs never change), else a copy. */
static int import_blob(int blobs, const char *src, const LayerInfo *l) {
        struct stat st;
        if (fstatat(blobs, hex_of(l->digest), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            (uint64_t) st.st_size == l->size)
                return 0;
        char tmp[64];
        snprintf(tmp, sizeof tmp, ".import-%ld", (long) getpid());
        (void) unlinkat(blobs, tmp, 0);
        if (linkat(AT_FDCWD, src, blobs, tmp, 0) < 0) {
                int r = copy_file_at(src, blobs, tmp, 0644);
                if (r < 0)
                        return r;
        }
        if (renameat(blobs, tmp, blobs, hex_of(l->digest)) < 0) {
                int r = negative_errno();
                (void) unlinkat(blobs, tmp, 0);
                return r;
        }
        return 0;
}

/* A layer into blobs/ under its digest, written beside it first. */
static int write_layer_blob(int dirfd, Rootfs *fs, int64_t created, LayerInfo *ret) {
        char tmp[64];
        snprintf(tmp, sizeof tmp, ".layer-%ld", (long) getpid());
        (void) unlinkat(dirfd, tmp, 0);
        int r = layer_write(fs, created, dirfd, tmp, ret);
        if (r < 0)
                return r;
        if (renameat(dirfd, tmp, dirfd, hex_of(ret->digest)) < 0) {
                r = negative_errno();
                (void) unlinkat(dirfd, tmp, 0);
                return r;
        }
        return 0;
}

/* What the base layer is made of, as one digest: every entry's path, kind, mode, size, host
 * mtime and link target, inline data, the fixed mtime and vrun's version. The same key means
 * the same layer bytes. */
static int base_key(Rootfs *fs, int64_t created, char key[DIGEST_STR_SIZE]) {
        const RootfsEntry *const *l;
        size_t n;
        int r = rootfs_sorted(fs, &l, &n);
        if (r < 0)
                return r;
        _cleanup_(digest_freep) Digest *s = NULL;
        if ((r = digest_new(&s)) < 0)
                return r;
        char buf[128];
        int k = snprintf(buf, sizeof buf, "vrun %s layer 1 mtime %" PRId64 "\n", VRUN_VERSION, created);
        digest_update(s, buf, (size_t) k);
        for (size_t i = 0; i < n; i++) {
                const RootfsEntry *e = l[i];
                k = snprintf(buf, sizeof buf, "%d %o %" PRIu64 " %" PRId64 " ", (int) e->kind, e->mode, e->size,
                             e->mtime_ns);
                digest_update(s, buf, (size_t) k);
                digest_update(s, e->path, strlen(e->path) + 1);
                if (e->target)
                        digest_update(s, e->target, strlen(e->target) + 1);
                if (e->data)
                        digest_update(s, e->data, e->size);
        }
        digest_final(s, key);
        return 0;
}

/* A record of the cache, NAME.json: the layer (digest, diff_id, size) its key was built into. */
static int cache_read_record(int cachefd, const char *name, LayerInfo *ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_full_file_at(cachefd, name, INDEX_MAX, &text, NULL);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *j = json_loads(text, 0, NULL);
        if (!j)
                return -EBADMSG;
        const char *digest = json_string_value(json_object_get(j, "digest"));
        const char *diff_id = json_string_value(json_object_get(j, "diff_id"));
        json_int_t size = json_integer_value(json_object_get(j, "size"));
        if (!digest || !diff_id || strlen(digest) != DIGEST_STR_SIZE - 1 || strlen(diff_id) != DIGEST_STR_SIZE - 1 ||
            strncmp(digest, "sha256:", 7) != 0 || strncmp(diff_id, "sha256:", 7) != 0 || size <= 0)
                return -EBADMSG;
        memcpy(ret->digest, digest, DIGEST_STR_SIZE);
        memcpy(ret->diff_id, diff_id, DIGEST_STR_SIZE);
        ret->size = (uint64_t) size;
        return 0;
}

static int cache_lookup(int cachefd, const char *key_hex, LayerInfo *ret) {
        char name[DIGEST_HEX_LEN + 8];
        snprintf(name, sizeof name, "%s.json", key_hex);
        LayerInfo l;
        int r = cache_read_record(cachefd, name, &l);
        if (r < 0)
                return r;
        /* The blob must still be there, whole. */
        struct stat st;
        if (fstatat(cachefd, hex_of(l.digest), &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
            (uint64_t) st.st_size != l.size)
                return -EBADMSG;
        /* Used now: the pruning keeps what was used last. */
        (void) utimensat(cachefd, name, NULL, AT_SYMLINK_NOFOLLOW);
        *ret = l;
        return 0;
}

static bool is_hex_name(const char *name, size_t len) {
        if (strlen(name) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
                        return false;
        return true;
}

typedef struct CacheRecord {
        char name[DIGEST_HEX_LEN + 8];
        struct timespec used;
} CacheRecord;

static int by_use_newest_first(const void *a, const void *b) {
        const CacheRecord *x = a, *y = b;
        if (x->used.tv_sec != y->used.tv_sec)
                return x->used.tv_sec < y->used.tv_sec ? 1 : -1;
        if (x->used.tv_nsec != y->used.tv_nsec)
                return x->used.tv_nsec < y->used.tv_nsec ? 1 : -1;
        return strcmp(x->name, y->name);
}

/* Keeps the EXPORT_CACHE_KEEP records used last (a lookup touches its record) and the layers
 * they name; every other record and layer goes, as do the temporary files of exports that died
 * more than an hour ago (up to EXPORT_CACHE_MAX_RECORDS records a time). Called with the cache locked: no export is between its lookup and
 * its import. Best effort: what cannot be read or removed stays. */
static void cache_prune(int cachefd) {
        _cleanup_close_ int fd = openat(cachefd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d)
                return;
        TAKE_FD(fd);
        _cleanup_free_ CacheRecord *recs = NULL;
        size_t n = 0;
        struct dirent *de;
        struct timespec now;
        (void) clock_gettime(CLOCK_REALTIME, &now);
        bool all_seen = true;
        while ((de = readdir(d))) {
                struct stat st;
                size_t len = strlen(de->d_name);
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (strncmp(de->d_name, ".layer-", 7) == 0 || strncmp(de->d_name, ".import-", 8) == 0) {
                        if (now.tv_sec - st.st_mtim.tv_sec > 3600)
                                (void) unlinkat(dirfd(d), de->d_name, 0);
                        continue;
                }
                if (len != DIGEST_HEX_LEN + 5 || strcmp(de->d_name + DIGEST_HEX_LEN, ".json") != 0)
                        continue;
                if (n >= EXPORT_CACHE_MAX_RECORDS) {
                        all_seen = false;
                        continue;
                }
                CacheRecord *v = realloc(recs, (n + 1) * sizeof *v);
                if (!v)
                        return;
                recs = v;
                memcpy(recs[n].name, de->d_name, len + 1); /* len checked above: it fits */
                recs[n++].used = st.st_mtim;
        }
        if (n > 1)
                qsort(recs, n, sizeof *recs, by_use_newest_first);
        /* The layers the kept records name. */
        char kept[EXPORT_CACHE_KEEP][DIGEST_STR_SIZE];
        size_t n_kept = 0;
        for (size_t i = 0; i < n; i++) {
                LayerInfo l;
                if (i < EXPORT_CACHE_KEEP && cache_read_record(dirfd(d), recs[i].name, &l) >= 0)
                        memcpy(kept[n_kept++], l.digest, DIGEST_STR_SIZE);
                else
                        (void) unlinkat(dirfd(d), recs[i].name, 0);
        }
        /* A layer is only known to be unnamed when every record was read. */
        rewinddir(d);
        while (all_seen && (de = readdir(d))) {
                if (!is_hex_name(de->d_name, DIGEST_HEX_LEN))
                        continue;
                bool named = false;
                for (size_t i = 0; i < n_kept && !named; i++)
                        named = strcmp(hex_of(kept[i]), de->d_name) == 0;
                if (!named)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        }
}

static int cache_store(int cachefd, const char *key_hex, const LayerInfo *l) {
        _cleanup_(json_decrefp) json_t *j =
                json_pack("{s:s, s:s, s:I}", "digest", l->digest, "diff_id", l->diff_id, "size", (json_int_t) l->size);
        _cleanup_free_ char *text = j ? dump(j) : NULL;
        if (!text)
                return -ENOMEM;
        char name[DIGEST_HEX_LEN + 8];
        snprintf(name, sizeof name, "%s.json", key_hex);
        return write_file_atomic_at(cachefd, name, text, strlen(text), 0644);
}

static int base_layer(const ImageInput *in, int blobs, LayerInfo *ret, bool *ret_cached) {
        _cleanup_close_ int cachefd = -1;
        _cleanup_free_ char *cache = NULL;
        int r;
        if (in->cache_dir) {
                cache = path_join(in->cache_dir, "export-layers");
                if (!cache)
                        return -ENOMEM;
                if (mkdir_p(cache, 0700) >= 0)
                        cachefd = open(cache, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (cachefd < 0) {
                *ret_cached = false;
                return write_layer_blob(blobs, in->base, in->created, ret);
        }
        char key[DIGEST_STR_SIZE];
        if ((r = base_key(in->base, in->created, key)) < 0)
                return r;
        /* Another export may be pruning what this one would use. */
        if (flock(cachefd, LOCK_EX) < 0)
                return negative_errno();
        *ret_cached = cache_lookup(cachefd, hex_of(key), ret) >= 0;
        if (!*ret_cached) {
                if ((r = write_layer_blob(cachefd, in->base, in->created, ret)) < 0 ||
                    (r = cache_store(cachefd, hex_of(key), ret)) < 0)
                        return r;
        }
        _cleanup_free_ char *src = path_join(cache, hex_of(ret->digest));
        if (!src)
                return -ENOMEM;
        if ((r = import_blob(blobs, src, ret)) < 0)
                return r;
        cache_prune(cachefd);
        return 0;
}

static void rfc3339(int64_t t, char out[32]) {
        time_t tt = (time_t) t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(out, 32, "1970-01-01T00:00:00Z");
}

static json_t *descriptor(const char *media, const char *digest, uint64_t size) {
        return json_pack("{s:s, s:s, s:I}", "mediaType", media, "digest", digest, "size", (json_int_t) size);
}

/* index.json with our reference replaced (or added); other references stay. */
static int update_index(int dirfd, const char *ref, const char *digest, uint64_t size) {
        _cleanup_(json_decrefp) json_t *manifests = json_array();
        if (!manifests)
                return -ENOMEM;
        _cleanup_free_ char *old = NULL;
        int r = read_full_file_at(dirfd, "index.json", INDEX_MAX, &old, NULL);
        if (r >= 0) {
                _cleanup_(json_decrefp) json_t *j = json_loads(old, 0, NULL);
                json_t *l = j ? json_object_get(j, "manifests") : NULL;
                if (!json_is_array(l))
                        return -EBADMSG;
                size_t i;
                json_t *m;
                json_array_foreach (l, i, m) {
                        const char *name =
                                json_string_value(json_object_get(json_object_get(m, "annotations"), REF_NAME));
                        if (name && strcmp(name, ref) == 0)
                                continue;
                        if (json_array_append(manifests, m) < 0)
                                return -ENOMEM;
                }
        } else if (r != -ENOENT)
                return r;
        json_t *d = descriptor(MEDIA_MANIFEST, digest, size);
        if (!d || json_object_set_new(d, "annotations", json_pack("{s:s}", REF_NAME, ref)) < 0 ||
            json_array_append_new(manifests, d) < 0)
                return -ENOMEM;
        _cleanup_(json_decrefp) json_t *index =
                json_pack("{s:i, s:s, s:O}", "schemaVersion", 2, "mediaType", MEDIA_INDEX, "manifests", manifests);
        _cleanup_free_ char *text = index ? dump(index) : NULL;
        if (!text)
                return -ENOMEM;
        return write_file_atomic_at(dirfd, "index.json", text, strlen(text), 0644);
}

static int init_layout(int fd) {
        int r;
        if (faccessat(fd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                r = dir_is_empty_at(fd, ".");
                if (r < 0)
                        return r;
                if (r == 0)
                        return -ENOTEMPTY;
                static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
                if ((r = write_file_at(fd, "oci-layout", layout, STRLEN(layout), 0644, 0)) < 0)
                        return r;
        }
        if (mkdirat(fd, "blobs", 0755) < 0 && errno != EEXIST)
                return negative_errno();
        if (mkdirat(fd, "blobs/sha256", 0755) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

static int open_layout(const char *dir, int *ret) {
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        /* A layout already, or nothing yet: never write into someone's other directory. Locked:
         * another export may be making the same layout. */
        if (flock(fd, LOCK_EX) < 0)
                return negative_errno();
        int r = init_layout(fd);
        (void) flock(fd, LOCK_UN);
        if (r < 0)
                return r;
        *ret = TAKE_FD(fd);
        return 0;
}

int image_write_layout(const ImageInput *in, const char *dir, ImageResult *ret) {
        _cleanup_close_ int dirfd = -1;
        int r = open_layout(dir, &dirfd);
        if (r < 0)
                return r;
        _cleanup_close_ int blobs = openat(dirfd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (blobs < 0)
                return negative_errno();

        ImageResult res = {};
        if ((r = base_layer(in, blobs, &res.layers[0], &res.base_cached)) < 0)
                return r;
        if ((r = write_layer_blob(blobs, in->env, in->created, &res.layers[1])) < 0)
                return r;

        char created[32];
        rfc3339(in->created, created);
        _cleanup_(json_decrefp) json_t *config =
                json_pack("{s:s, s:s, s:s, s:O, s:{s:s, s:[s,s]}, s:[{s:s, s:s}, {s:s, s:s}]}", "created", created,
                          "architecture", image_architecture(), "os", "linux", "config", in->config, "rootfs", "type",
                          "layers", "diff_ids", res.layers[0].diff_id, res.layers[1].diff_id, "history", "created",
                          created, "created_by", in->history_base, "created", created, "created_by", in->history_env);
        _cleanup_free_ char *config_text = config ? dump(config) : NULL;
        if (!config_text)
                return -ENOMEM;
        char config_digest[DIGEST_STR_SIZE];
        if ((r = write_blob_bytes(blobs, config_text, strlen(config_text), config_digest)) < 0)
                return r;

        _cleanup_(json_decrefp) json_t *manifest =
                json_pack("{s:i, s:s, s:o, s:[o,o]}", "schemaVersion", 2, "mediaType", MEDIA_MANIFEST, "config",
                          descriptor(MEDIA_CONFIG, config_digest, strlen(config_text)), "layers",
                          descriptor(MEDIA_LAYER, res.layers[0].digest, res.layers[0].size),
                          descriptor(MEDIA_LAYER, res.layers[1].digest, res.layers[1].size));
        _cleanup_free_ char *manifest_text = manifest ? dump(manifest) : NULL;
        if (!manifest_text)
                return -ENOMEM;
        if ((r = write_blob_bytes(blobs, manifest_text, strlen(manifest_text), res.manifest)) < 0)
                return r;
        /* Two exports into one layout: each keeps the other's reference. */
        if (flock(dirfd, LOCK_EX) < 0)
                return negative_errno();
        r = update_index(dirfd, in->ref, res.manifest, strlen(manifest_text));
        (void) flock(dirfd, LOCK_UN);
        if (r < 0)
                return r;
        *ret = res;
        return 0;
}
