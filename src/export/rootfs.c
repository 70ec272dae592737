#include "vrun/export/rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strv.h"

/* Symlinks followed while resolving one path, as the kernel's limit. */
#define ROOTFS_MAX_HOPS 40

struct Rootfs {
        const Rootfs *below;
        RootfsEntry *entries;
        size_t n, cap;
        size_t *index; /* open addressing: entry number + 1, 0 free */
        size_t index_cap;
        const RootfsEntry **sorted;
        size_t n_sorted;
        char **exclude;
};

static uint64_t hash_path(const char *s) {
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * 1099511628211ULL;
        return h;
}

static RootfsEntry *lookup(const Rootfs *fs, const char *rel) {
        if (!fs->index_cap)
                return NULL;
        for (size_t i = hash_path(rel) & (fs->index_cap - 1);; i = (i + 1) & (fs->index_cap - 1)) {
                size_t k = fs->index[i];
                if (!k)
                        return NULL;
                if (strcmp(fs->entries[k - 1].path, rel) == 0)
                        return &fs->entries[k - 1];
        }
}

static void index_put(Rootfs *fs, size_t k) {
        size_t i = hash_path(fs->entries[k].path) & (fs->index_cap - 1);
        while (fs->index[i])
                i = (i + 1) & (fs->index_cap - 1);
        fs->index[i] = k + 1;
}

int rootfs_new(const Rootfs *below, Rootfs **ret) {
        Rootfs *fs = calloc(1, sizeof *fs);
        if (!fs)
                return -ENOMEM;
        fs->below = below;
        *ret = fs;
        return 0;
}

void rootfs_free(Rootfs *fs) {
        if (!fs)
                return;
        for (size_t i = 0; i < fs->n; i++) {
                free(fs->entries[i].path);
                free(fs->entries[i].src);
                free(fs->entries[i].data);
                free(fs->entries[i].target);
        }
        free(fs->entries);
        free(fs->index);
        free(fs->sorted);
        strv_free(fs->exclude);
        free(fs);
}

int rootfs_exclude(Rootfs *fs, const char *host_path) {
        return strv_extend(&fs->exclude, host_path);
}

static bool excluded(const Rootfs *fs, const char *host_path) {
        STRV_FOREACH (e, fs->exclude)
                if (path_startswith(host_path, *e))
                        return true;
        return false;
}

const RootfsEntry *rootfs_find(const Rootfs *fs, const char *path) {
        while (*path == '/')
                path++;
        for (; fs; fs = fs->below) {
                const RootfsEntry *e = lookup(fs, path);
                if (e)
                        return e;
        }
        return NULL;
}

/* Adds an entry (taking ownership of its strings on success); *ret_e the new or existing one.
 * Returns 1 when one already existed here or below (the new one is dropped). */
static int add_entry(Rootfs *fs, RootfsEntry e, RootfsEntry **ret_e) {
        RootfsEntry *old = lookup(fs, e.path);
        const RootfsEntry *lower = old ? NULL : rootfs_find(fs->below, e.path);
        if (old || lower) {
                if (ret_e)
                        *ret_e = old;
                free(e.path);
                free(e.src);
                free(e.data);
                free(e.target);
                return 1;
        }
        if (fs->n >= ROOTFS_MAX_ENTRIES)
                return -E2BIG;
        if (fs->n == fs->cap) {
                size_t cap = fs->cap ? fs->cap * 2 : 256;
                RootfsEntry *l = realloc(fs->entries, cap * sizeof *l);
                if (!l)
                        return -ENOMEM;
                fs->entries = l;
                fs->cap = cap;
        }
        if ((fs->n + 1) * 2 > fs->index_cap) {
                size_t cap = fs->index_cap ? fs->index_cap * 2 : 1024;
                size_t *ix = calloc(cap, sizeof *ix);
                if (!ix)
                        return -ENOMEM;
                free(fs->index);
                fs->index = ix;
                fs->index_cap = cap;
                for (size_t k = 0; k < fs->n; k++)
                        index_put(fs, k);
        }
        fs->entries[fs->n] = e;
        index_put(fs, fs->n);
        if (ret_e)
                *ret_e = &fs->entries[fs->n];
        fs->n++;
        free(fs->sorted);
        fs->sorted = NULL;
        return 0;
}

static unsigned clean_mode(mode_t m) {
        /* setuid/setgid would mean nothing under no_new_privs and a non-root user; leave them out. */
        return (unsigned) m & 01777;
}

static int add_simple(Rootfs *fs, const char *path, RootfsKind kind, unsigned mode, RootfsEntry **ret_e) {
        while (*path == '/')
                path++;
        char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        return add_entry(fs, (RootfsEntry){ .path = p, .kind = kind, .mode = mode }, ret_e);
}

int rootfs_add_dir(Rootfs *fs, const char *path, unsigned mode) {
        int r = add_simple(fs, path, ROOTFS_DIR, mode, NULL);
        return r < 0 ? r : 0;
}

int rootfs_add_data(Rootfs *fs, const char *path, const char *data, size_t len, unsigned mode) {
        RootfsEntry *e = NULL;
        int r = add_simple(fs, path, ROOTFS_FILE, mode, &e);
        if (r != 0)
                return r < 0 ? r : -EEXIST;
        if (!(e->data = malloc(len ? len : 1)))
                return -ENOMEM;
        memcpy(e->data, data, len);
        e->size = len;
        return 0;
}

static int add_tree(Rootfs *fs, const char *dir, bool follow);
static int add_resolved(Rootfs *fs, const char *host_path, bool recursive, bool follow, bool only_parents,
                        unsigned *hops);

/* One host object at host_path, whose parents are in place. */
static int add_object(Rootfs *fs, const char *host_path, const struct stat *st, bool recursive, bool follow,
                      bool is_parent, unsigned *hops) {
        RootfsEntry *e = NULL;
        int r;
        if (S_ISDIR(st->st_mode)) {
                unsigned mode = is_parent ? (strcmp(host_path, "/tmp") == 0 ? 01777 : 0755) : clean_mode(st->st_mode);
                r = add_simple(fs, host_path, ROOTFS_DIR, mode, &e);
                if (r < 0)
                        return r;
                if (e && !is_parent && !e->walked)
                        e->mode = mode;
                if (is_parent || !recursive || (r == 1 && (!e || e->walked)))
                        return 0;
                if (e)
                        e->walked = true;
                return add_tree(fs, host_path, follow);
        }
        if (S_ISREG(st->st_mode)) {
                r = add_simple(fs, host_path, ROOTFS_FILE, clean_mode(st->st_mode), &e);
                if (r != 0)
                        return r < 0 ? r : 0;
                if (!(e->src = strdup(host_path)))
                        return -ENOMEM;
                e->size = (uint64_t) st->st_size;
                e->mtime_ns = (int64_t) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
                return 0;
        }
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlink(host_path, target, sizeof target - 1);
                if (n < 0)
                        return negative_errno();
                target[n] = 0;
                r = add_simple(fs, host_path, ROOTFS_SYMLINK, 0777, &e);
                if (r < 0)
                        return r;
                if (r == 0 && !(e->target = strdup(target)))
                        return -ENOMEM;
                if (!follow)
                        return 0;
                /* The target, wherever it lies: what the link names must be there too. */
                _cleanup_free_ char *dir = path_dirname(host_path);
                _cleanup_free_ char *joined = target[0] == '/' ? strdup(target) : path_join(dir, target);
                _cleanup_free_ char *norm = NULL;
                if (!dir || !joined || path_normalize(joined, &norm) < 0)
                        return -ENOMEM;
                if (++*hops > ROOTFS_MAX_HOPS)
                        return -ELOOP;
                r = add_resolved(fs, norm, recursive, follow, false, hops);
                /* A dangling link is copied as it is, like `cp -a` does. */
                return r == -ENOENT ? 0 : r;
        }
        return 0; /* sockets, fifos, devices: not part of an image */
}

/* Walks host_path one component at a time, recreating symlinks met on the way and
 * continuing at their targets, so that every path the loader or Python opens resolves
 * inside the image as it does on the host. */
static int add_resolved(Rootfs *fs, const char *host_path, bool recursive, bool follow, bool only_parents,
                        unsigned *hops) {
        _cleanup_free_ char *p = NULL;
        int r = path_normalize(host_path, &p);
        if (r < 0)
                return r;
        if (excluded(fs, p))
                return 0;
        size_t len = strlen(p);
        for (size_t i = 1; i <= len; i++) {
                if (p[i] != '/' && p[i] != 0)
                        continue;
                bool last = p[i] == 0;
                char saved = p[i];
                p[i] = 0;
                struct stat st;
                if (lstat(p, &st) < 0)
                        return negative_errno();
                if (S_ISLNK(st.st_mode) && !last) {
                        /* A symlinked parent (/lib -> usr/lib): the link, then the rest at its target. */
                        r = add_object(fs, p, &st, false, false, true, hops);
                        if (r < 0)
                                return r;
                        char target[PATH_MAX];
                        ssize_t n = readlink(p, target, sizeof target - 1);
                        if (n < 0)
                                return negative_errno();
                        target[n] = 0;
                        _cleanup_free_ char *dir = path_dirname(p);
                        _cleanup_free_ char *base = target[0] == '/' ? strdup(target) : path_join(dir, target);
                        _cleanup_free_ char *rest = base ? path_join(base, p + i + 1) : NULL;
                        if (!dir || !rest)
                                return -ENOMEM;
                        if (++*hops > ROOTFS_MAX_HOPS)
                                return -ELOOP;
                        return add_resolved(fs, rest, recursive, follow, only_parents, hops);
                }
                r = add_object(fs, p, &st, last ? recursive : false, last ? true : follow, !last || only_parents, hops);
                if (r < 0)
                        return r;
                p[i] = saved;
        }
        return 0;
}

int rootfs_add_host(Rootfs *fs, const char *host_path, bool recursive, bool follow) {
        unsigned hops = 0;
        if (host_path[0] != '/')
                return -EINVAL;
        /* follow applies inside trees; the path itself is always resolved. */
        _cleanup_free_ char *p = NULL;
        int r = path_normalize(host_path, &p);
        if (r < 0)
                return r;
        struct stat st;
        if (lstat(p, &st) < 0)
                return negative_errno();
        if (!follow && S_ISDIR(st.st_mode)) {
                /* The parents first (resolved), then the tree without following its links. */
                _cleanup_free_ char *dir = path_dirname(p);
                if (!dir)
                        return -ENOMEM;
                if (strcmp(dir, "/") != 0 && (r = add_resolved(fs, dir, false, true, true, &hops)) < 0)
                        return r;
                return add_object(fs, p, &st, recursive, false, false, &hops);
        }
        return add_resolved(fs, p, recursive, follow, false, &hops);
}

static int add_tree(Rootfs *fs, const char *dir, bool follow) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return negative_errno();
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                _cleanup_free_ char *p = path_join(dir, de->d_name);
                if (!p)
                        return -ENOMEM;
                if (excluded(fs, p))
                        continue;
                struct stat st;
                if (lstat(p, &st) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return negative_errno();
                }
                unsigned hops = 0;
                int r = add_object(fs, p, &st, true, follow, false, &hops);
                if (r < 0)
                        return r;
        }
        return errno ? negative_errno() : 0;
}

static int cmp_entry(const void *a, const void *b) {
        return strcmp((*(const RootfsEntry *const *) a)->path, (*(const RootfsEntry *const *) b)->path);
}

int rootfs_sorted(Rootfs *fs, const RootfsEntry *const **ret, size_t *ret_n) {
        if (!fs->sorted) {
                fs->sorted = calloc(fs->n ? fs->n : 1, sizeof(const RootfsEntry *));
                if (!fs->sorted)
                        return -ENOMEM;
                for (size_t i = 0; i < fs->n; i++)
                        fs->sorted[i] = &fs->entries[i];
                /* Byte order puts every directory before what it holds ("a" < "a/b"). */
                qsort(fs->sorted, fs->n, sizeof(const RootfsEntry *), cmp_entry);
                fs->n_sorted = fs->n;
        }
        *ret = fs->sorted;
        *ret_n = fs->n_sorted;
        return 0;
}

int rootfs_write_dir(Rootfs *fs, int dirfd) {
        const RootfsEntry *const *l;
        size_t n;
        int r = rootfs_sorted(fs, &l, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const RootfsEntry *e = l[i];
                switch (e->kind) {
                case ROOTFS_DIR:
                        /* Writable until every child is in; the real mode comes last. */
                        if (mkdirat(dirfd, e->path, 0700) < 0 && errno != EEXIST)
                                return negative_errno();
                        break;
                case ROOTFS_SYMLINK:
                        if (symlinkat(e->target, dirfd, e->path) < 0)
                                return negative_errno();
                        break;
                case ROOTFS_FILE:
                        r = e->src ? copy_file_at(e->src, dirfd, e->path, 0600)
                                   : write_file_at(dirfd, e->path, e->data, e->size, 0600, 0);
                        if (r < 0)
                                return r;
                        if (fchmodat(dirfd, e->path, e->mode, 0) < 0)
                                return negative_errno();
                        break;
                }
        }
        for (size_t i = n; i-- > 0;)
                if (l[i]->kind == ROOTFS_DIR && fchmodat(dirfd, l[i]->path, l[i]->mode, 0) < 0)
                        return negative_errno();
        return 0;
}
