#include "vrun/venv/wheel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/dirat.h"
#include "util/fileio.h"
#include "util/memstream.h"
#include "vrun/venv/pycache.h"
#include "vrun/venv/record.h"
#include "vrun/venv/scripts.h"
#include "vrun/venv/wheel-cache.h"
#include "vrun/venv/zip.h"

#define SCRATCH_PREFIX ".vrun-wheel-"

int wheel_unpack(const char *wheel_path, const char *dest_dir) {
        _cleanup_(zip_freep) ZipArchive *z = NULL;
        int r = zip_open_at(AT_FDCWD, wheel_path, &z);
        if (r < 0)
                return r;
        if (mkdir(dest_dir, 0755) < 0)
                return negative_errno();
        _cleanup_close_ int fd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        r = fd < 0 ? negative_errno() : wheel_unpack_tree(z, fd, NULL);
        if (r < 0)
                (void) rm_rf_at(AT_FDCWD, dest_dir); /* we created it; leave nothing half-done */
        return r;
}

typedef struct Installer {
        const WheelTarget *t;
        int site_fd, bin_fd;
        char *bin_rel; /* bin_dir as seen from site_packages, for RECORD */
        CopyMethods copy;

        /* per source tree */
        int src_fd;
        const Manifest *m;
        char *dist_info;
        char *wheel_record_text;
        RecordIndex wheel_record;
        char *pyc_record_text;
        RecordIndex pyc_record; /* the entry's compiled files */
        FILE *record;           /* the env's RECORD, written as files are placed */
        char *record_buf;
        size_t record_len;
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

/* Every installed file is a new inode (a copy, or a reflink where the
 * filesystem has them): a write to it inside the env, even after a chmod,
 * can never reach the cache or any other env. */
static int copy_into_at(Installer *in, int src_dirfd, const char *src, int dst_dirfd, const char *dst) {
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
        int r = copy_fd_data(in_fd, out_fd, &in->copy);
        if (r < 0)
                return r;
        /* The cache's .pyc files are valid for the module's mtime (and size):
         * the copy keeps it. */
        size_t l = strlen(dst);
        if (l > STRLEN(".py") && strcmp(dst + l - STRLEN(".py"), ".py") == 0 &&
            futimens(out_fd, (const struct timespec[2]){ { .tv_nsec = UTIME_OMIT }, st.st_mtim }) < 0)
                return negative_errno();
        return close(TAKE_FD(out_fd)) < 0 ? negative_errno() : 0;
}

/* Files from <name>.data/scripts get pip's treatment: a "#!python" first line
 * becomes the env's interpreter, and the result is executable. */
static int install_data_script(Installer *in, int src_dirfd, const char *src, int dst_dirfd, const char *dst,
                               char hash[RECORD_HASH_MAX], size_t *ret_size) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = read_full_file_at(src_dirfd, src, RECORD_MAX, &data, &len);
        if (r < 0)
                return r;
        _cleanup_free_ char *buf = NULL;
        size_t blen = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&buf, &blen);
        if (!f)
                return -ENOMEM;
        if (len >= STRLEN("#!python") && memcmp(data, "#!python", STRLEN("#!python")) == 0) {
                const char *nl = memchr(data, '\n', len);
                size_t rest = nl ? (size_t) (nl + 1 - data) : len;
                script_put_shebang(f, in->t->python);
                fwrite(data + rest, 1, len - rest, f);
        } else
                fwrite(data, 1, len, f);
        r = memstream_close(&f);
        if (r >= 0)
                r = write_file_at(dst_dirfd, dst, buf, blen, 0755, 0);
        if (r < 0)
                return r;
        record_hash(buf, blen, hash);
        *ret_size = blen;
        return 0;
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
        if (!row)
                row = record_index_find(&in->pyc_record, path);
        if (kind == DEST_BIN) {
                char hash[RECORD_HASH_MAX], size[32];
                size_t n;
                r = install_data_script(in, sfd, sbase, dfd, dbase, hash, &n);
                if (r < 0)
                        return r;
                snprintf(size, sizeof size, "%zu", n);
                record_put_row(in->record, in->bin_rel, rel, hash, size);
                return 0;
        }
        r = copy_into_at(in, sfd, sbase, dfd, dbase);
        if (r < 0)
                return r;
        record_put_row(in->record, NULL, rel, row ? row->hash : "", row ? row->size : "");
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

static int write_console_script(Installer *in, const Script *s) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        script_put_console(f, in->t->python, s->module, s->attr);
        int r = memstream_close(&f);
        if (r >= 0)
                r = write_file_at(in->bin_fd, s->name, buf, len, 0755, 0);
        if (r < 0)
                return r;
        char hash[RECORD_HASH_MAX], size[32];
        record_hash(buf, len, hash);
        snprintf(size, sizeof size, "%zu", len);
        record_put_row(in->record, in->bin_rel, s->name, hash, size);
        return 0;
}

static int write_scripts(Installer *in) {
        if (!manifest_has(in->m, in->dist_info, "entry_points.txt"))
                return 0;
        _cleanup_free_ char *path = NULL, *text = NULL;
        if (asprintf(&path, "%s/entry_points.txt", in->dist_info) < 0)
                return -ENOMEM;
        int r = read_full_file_at(in->src_fd, path, RECORD_MAX, &text, NULL);
        if (r < 0)
                return r;
        ScriptList l = {};
        r = entry_points_parse(text, &l);
        if (r >= 0)
                r = scripts_rename_versioned(&l, in->t->version_major, in->t->version_minor);
        for (size_t i = 0; r >= 0 && i < l.n; i++)
                r = write_console_script(in, &l.s[i]);
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
        record_put_row(in->record, in->dist_info, name, hash, size);
        return 0;
}

/* Installs the unpacked wheel at src_fd (listed by m). -ESTALE when the
 * source tree lacks a file it should have; what was placed is removed again
 * so the caller can rebuild the source and retry. */
static int install_tree(Installer *in, int src_fd, const Manifest *m) {
        in->src_fd = src_fd;
        in->m = m;
        in->record = open_memstream(&in->record_buf, &in->record_len);
        if (!in->record)
                return -ENOMEM;
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
                        r = read_full_file_at(src_fd, path, RECORD_MAX, &in->wheel_record_text, NULL);
                if (r >= 0)
                        r = record_index_parse(in->wheel_record_text, &in->wheel_record);
        }
        if (r >= 0) {
                r = read_full_file_at(src_fd, PYCACHE_RECORD, RECORD_MAX, &in->pyc_record_text, NULL);
                if (r == -ENOENT)
                        r = 0; /* nothing compiled (no cache, or no modules) */
                else if (r >= 0)
                        r = record_index_parse(in->pyc_record_text, &in->pyc_record);
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
                record_put_row(in->record, in->dist_info, "RECORD", "", "");
                r = memstream_close(&in->record);
                if (r >= 0)
                        r = write_file_at(dfd, "RECORD", in->record_buf, in->record_len, 0644, 0);
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
        if (in->record)
                fclose(in->record);
        in->record = NULL;
        free(in->record_buf);
        in->record_buf = NULL;
        record_index_done(&in->wheel_record);
        free(in->wheel_record_text);
        in->wheel_record_text = NULL;
        record_index_done(&in->pyc_record);
        free(in->pyc_record_text);
        in->pyc_record_text = NULL;
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
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *out = open_memstream(&buf, &len);
        if (!out)
                return -ENOMEM;
        bool first = true;
        for (; *f; first = false) {
                fputs(first ? ".." : "/..", out);
                f += strcspn(f, "/");
                while (*f == '/')
                        f++;
        }
        for (; *t; first = false) {
                size_t tl = strcspn(t, "/");
                if (!first)
                        fputc('/', out);
                fwrite(t, 1, tl, out);
                t += tl;
                while (*t == '/')
                        t++;
        }
        if (first)
                fputc('.', out);
        int r = memstream_close(&out);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
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
        char tmp[TEMP_NAME_MAX];
        _cleanup_close_ int fd = -1;
        Manifest m;
        int r = wheel_unpack_to_temp(wheel_fd, NULL, in->t->env_fd, SCRATCH_PREFIX, tmp, &fd, &m);
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
        int r = wheel_cache_key(wheel_path, st, in->t->compile_python, &key);
        if (r < 0)
                return r;
        _cleanup_close_ int wheels_fd = -1;
        r = wheel_cache_open(in->t->cache_dir, &wheels_fd);
        if (r < 0)
                return r;
        for (unsigned attempt = 0;; attempt++) {
                _cleanup_close_ int entry_fd = -1;
                Manifest m;
                r = wheel_cache_acquire(wheels_fd, key, wheel_fd, in->t->compile_python, &entry_fd, &m);
                if (r < 0)
                        return r;
                *ret_started = true;
                r = install_tree(in, entry_fd, &m);
                manifest_done(&m);
                if (r != -ESTALE || attempt > 0)
                        return r;
                /* someone cleaned files out of the cache: rebuild it once */
                r = wheel_cache_discard(wheels_fd, key);
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
