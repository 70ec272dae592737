#include "vrun/venv/interp.h"

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
#include "vrun/sandbox/confined.h"

extern const char vrun_interp_query[];

#define INTERP_CACHE_FORMAT 5
#define INTERP_OUTPUT_MAX   (1024 * 1024)
#define INTERP_MIN_MINOR    8

/* jansson ≥ 2.14 provides json_decrefp() for cleanup attributes. */
#define _cleanup_json_ __attribute__((cleanup(json_decrefp)))

void interp_info_free(InterpInfo *i) {
        if (!i)
                return;
        free(i->executable);
        free(i->version);
        free(i->implementation);
        free(i->prefix);
        free(i->exec_prefix);
        strv_free(i->stdlib_dirs);
        strv_free(i->site_packages);
        strv_free(i->hide_dirs);
        strv_free(i->seed_wheels);
        free(i->cache_path);
        free(i);
}

int vrun_cache_dir(char **ret) {
        return path_xdg_dir("XDG_CACHE_HOME", ".cache", "vrun", ret);
}

/* ---- finding the interpreter ---------------------------------------------------------- */

static bool is_executable_file(const char *p) {
        struct stat st;
        return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* Searches PATH for name, skipping skip_dir (pyenv's shims when resolving
 * the "system" version). */
static int find_on_path(const char *name, const char *skip_dir, char **ret) {
        const char *path = getenv("PATH");
        if (!path || !*path)
                path = "/usr/local/bin:/usr/bin:/bin";
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                if (d[0] != '/')
                        continue; /* relative PATH entries would make the answer depend on cwd */
                if (skip_dir && strcmp(d, skip_dir) == 0)
                        continue;
                _cleanup_free_ char *c = path_join(d, name);
                if (!c)
                        return -ENOMEM;
                if (is_executable_file(c)) {
                        *ret = TAKE_PTR(c);
                        return 0;
                }
        }
        return -ENOENT;
}

static int pyenv_root(char **ret) {
        const char *r = getenv("PYENV_ROOT");
        if (r && r[0] == '/') {
                *ret = strdup(r);
                return *ret ? 0 : -ENOMEM;
        }
        const char *h = getenv("HOME");
        if (!h || h[0] != '/')
                return -ENOENT;
        *ret = path_join(h, ".pyenv");
        return *ret ? 0 : -ENOMEM;
}

/* A pyenv shim is a small bash script that execs `pyenv exec NAME`. */
static bool is_pyenv_shim(const char *p) {
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        char head[512];
        ssize_t n = read(fd, head, sizeof head - 1);
        if (n < 2 || head[0] != '#' || head[1] != '!')
                return false;
        head[n] = 0;
        return strstr(head, "pyenv") != NULL;
}

/* pyenv's own selection order: $PYENV_VERSION, .python-version from the
 * current directory upwards, then $PYENV_ROOT/version. */
static int pyenv_selected_versions(const char *root, char ***ret) {
        _cleanup_free_ char *text = NULL;
        const char *e = getenv("PYENV_VERSION");
        if (e && *e) {
                text = strdup(e);
                if (!text)
                        return -ENOMEM;
        } else {
                _cleanup_free_ char *dir = getcwd(NULL, 0);
                while (dir && !text) {
                        _cleanup_free_ char *f = path_join(dir, ".python-version");
                        if (!f)
                                return -ENOMEM;
                        if (read_full_file_at(AT_FDCWD, f, 64 * 1024, &text, NULL) >= 0)
                                break;
                        if (strcmp(dir, "/") == 0)
                                break;
                        char *up = path_dirname(dir);
                        free(dir);
                        dir = up;
                }
                if (!text) {
                        _cleanup_free_ char *f = path_join(root, "version");
                        if (!f)
                                return -ENOMEM;
                        if (read_full_file_at(AT_FDCWD, f, 64 * 1024, &text, NULL) < 0)
                                text = strdup("system");
                        if (!text)
                                return -ENOMEM;
                }
        }
        _cleanup_strv_free_ char **l = NULL;
        char *save = NULL;
        for (char *t = strtok_r(text, " \t\r\n:", &save); t; t = strtok_r(NULL, " \t\r\n:", &save)) {
                if (t[0] == '#')
                        continue;
                int r = strv_extend(&l, t);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int resolve_pyenv_shim(const char *shim, char **ret) {
        _cleanup_free_ char *root = NULL, *shims = NULL;
        int r = pyenv_root(&root);
        if (r < 0)
                return r;
        shims = path_join(root, "shims");
        if (!shims)
                return -ENOMEM;
        const char *name = path_basename(shim);
        _cleanup_strv_free_ char **versions = NULL;
        r = pyenv_selected_versions(root, &versions);
        if (r < 0)
                return r;
        STRV_FOREACH (v, versions) {
                if (strcmp(*v, "system") == 0) {
                        _cleanup_free_ char *shim_dir = path_dirname(shim);
                        if (!shim_dir)
                                return -ENOMEM;
                        if (find_on_path(name, shim_dir, ret) >= 0)
                                return 0;
                        continue;
                }
                if (!path_is_safe_component(*v))
                        continue;
                _cleanup_free_ char *vd = path_join(root, "versions"), *vv = NULL, *bin = NULL, *c = NULL;
                if (!vd || !(vv = path_join(vd, *v)) || !(bin = path_join(vv, "bin")) || !(c = path_join(bin, name)))
                        return -ENOMEM;
                if (is_executable_file(c)) {
                        *ret = TAKE_PTR(c);
                        return 0;
                }
        }
        return -ENOENT;
}

static bool is_version_spec(const char *s) {
        /* "3", "3.12", "3.12.1" — digits and at most two dots */
        int dots = 0;
        if (!*s)
                return false;
        for (const char *p = s; *p; p++) {
                if (*p == '.') {
                        if (++dots > 2 || p == s || !p[1] || p[1] == '.')
                                return false;
                } else if (*p < '0' || *p > '9')
                        return false;
        }
        return true;
}

/* "3.12" of "3.12.1", or NULL when spec has no patch level. */
static char *version_minor_of(const char *spec) {
        const char *dot = strchr(spec, '.');
        const char *dot2 = dot ? strchr(dot + 1, '.') : NULL;
        return dot2 ? strndup(spec, (size_t) (dot2 - spec)) : NULL;
}

/* Newest $PYENV_ROOT/versions/<spec>.N with a bin/python<spec>; for a full
 * version, $PYENV_ROOT/versions/<spec>/bin/python3.X itself. */
static int find_pyenv_version(const char *spec, char **ret) {
        _cleanup_free_ char *root = NULL, *vd = NULL, *minor = version_minor_of(spec);
        int r = pyenv_root(&root);
        if (r < 0)
                return r;
        vd = path_join(root, "versions");
        if (!vd)
                return -ENOMEM;
        if (minor) {
                _cleanup_free_ char *c = NULL;
                if (asprintf(&c, "%s/%s/bin/python%s", vd, spec, minor) < 0)
                        return -ENOMEM;
                if (!is_executable_file(c))
                        return -ENOENT;
                *ret = TAKE_PTR(c);
                return 0;
        }
        _cleanup_closedir_ DIR *d = opendir(vd);
        if (!d)
                return -ENOENT;
        size_t sl = strlen(spec);
        _cleanup_free_ char *best = NULL;
        long best_patch = -1;
        struct dirent *de;
        while ((de = readdir(d))) {
                const char *n = de->d_name;
                long patch = 0;
                if (strncmp(n, spec, sl) != 0)
                        continue;
                if (n[sl] == '.') {
                        char *end;
                        errno = 0;
                        patch = strtol(n + sl + 1, &end, 10);
                        if (errno || *end)
                                continue;
                } else if (n[sl] != 0)
                        continue;
                if (patch <= best_patch)
                        continue;
                _cleanup_free_ char *a = path_join(vd, n), *b = NULL, *pyname = NULL;
                if (!a || !(b = path_join(a, "bin")) || asprintf(&pyname, "python%s", spec) < 0)
                        return -ENOMEM;
                char *c = path_join(b, pyname);
                if (!c)
                        return -ENOMEM;
                if (!is_executable_file(c)) {
                        free(c);
                        continue;
                }
                free(best);
                best = c;
                best_patch = patch;
        }
        if (!best)
                return -ENOENT;
        *ret = TAKE_PTR(best);
        return 0;
}

int interp_find(const char *spec, char **ret_path) {
        _cleanup_free_ char *found = NULL;
        int r;

        if (!spec || !*spec)
                spec = "python3";
        if (strlen(spec) >= VRUN_PATH_MAX)
                return -ENAMETOOLONG;

        if (strchr(spec, '/')) {
                r = path_make_absolute(spec, &found);
                if (r < 0)
                        return r;
        } else if (is_version_spec(spec)) {
                /* A full version is looked for in pyenv first, where each
                 * one has its own directory; PATH has python3.X only. */
                _cleanup_free_ char *name = NULL, *minor = version_minor_of(spec);
                r = minor ? find_pyenv_version(spec, &found) : -ENOENT;
                if (r < 0) {
                        if (asprintf(&name, "python%s", minor ? minor : spec) < 0)
                                return -ENOMEM;
                        r = find_on_path(name, NULL, &found);
                        if (r >= 0 && is_pyenv_shim(found)) {
                                _cleanup_free_ char *shim = TAKE_PTR(found);
                                r = resolve_pyenv_shim(shim, &found);
                        }
                }
                if (r < 0 && !minor)
                        r = find_pyenv_version(spec, &found);
                if (r < 0)
                        return r;
        } else {
                r = find_on_path(spec, NULL, &found);
                if (r >= 0 && is_pyenv_shim(found)) {
                        _cleanup_free_ char *shim = TAKE_PTR(found);
                        r = resolve_pyenv_shim(shim, &found);
                }
                /* "python3.12" that is not on PATH (or a pyenv shim of a
                 * version not selected): the version, as pyenv has it. */
                if (r == -ENOENT && strncmp(spec, "python", 6) == 0 && is_version_spec(spec + 6))
                        return interp_find(spec + 6, ret_path);
                if (r < 0)
                        return r;
        }

        if (is_pyenv_shim(found)) {
                _cleanup_free_ char *shim = TAKE_PTR(found);
                r = resolve_pyenv_shim(shim, &found);
                if (r < 0)
                        return r;
        }

        char *real = realpath(found, NULL);
        if (!real)
                return negative_errno();
        if (!is_executable_file(real)) {
                struct stat st;
                int e = stat(real, &st) == 0 && S_ISDIR(st.st_mode) ? -EISDIR
                        : access(real, X_OK) < 0                    ? negative_errno()
                                                                    : -EACCES;
                free(real);
                return e;
        }
        *ret_path = real;
        return 0;
}

/* ---- facts: JSON ------------------------------------------------------------------------ */

static int json_strv(json_t *a, char ***ret) {
        if (!json_is_array(a))
                return -EBADMSG;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        size_t i;
        json_t *v;
        json_array_foreach (a, i, v) {
                const char *s = json_string_value(v);
                if (!s || s[0] != '/' || strlen(s) >= VRUN_PATH_MAX)
                        return -EBADMSG;
                int r = strv_extend(&l, s);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static json_t *strv_json(char *const *l) {
        json_t *a = json_array();
        if (!a)
                return NULL;
        STRV_FOREACH (s, l)
                if (json_array_append_new(a, json_string(*s)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static int json_abs_path(json_t *o, const char *key, char **ret) {
        const char *s = json_string_value(json_object_get(o, key));
        if (!s || s[0] != '/' || strlen(s) >= VRUN_PATH_MAX)
                return -EBADMSG;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

json_t *interp_info_to_json(const InterpInfo *i) {
        return json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:o}", "executable", i->executable,
                         "version", i->version, "major", i->version_major, "minor", i->version_minor, "implementation",
                         i->implementation, "prefix", i->prefix, "exec_prefix", i->exec_prefix, "is_64bit", i->is_64bit,
                         "stdlib", strv_json(i->stdlib_dirs), "site_packages", strv_json(i->site_packages), "hide",
                         strv_json(i->hide_dirs), "seed_wheels", strv_json(i->seed_wheels));
}

int interp_info_from_json(json_t *j, InterpInfo **ret) {
        if (!json_is_object(j))
                return -EBADMSG;
        InterpInfo *i = calloc(1, sizeof *i);
        if (!i)
                return -ENOMEM;
        int r;
        json_t *maj = json_object_get(j, "major"), *min = json_object_get(j, "minor");
        const char *ver = json_string_value(json_object_get(j, "version"));
        const char *impl = json_string_value(json_object_get(j, "implementation"));
        json_t *b64 = json_object_get(j, "is_64bit");
        if (!json_is_integer(maj) || !json_is_integer(min) || !ver || !impl || !json_is_boolean(b64) ||
            strlen(ver) > 32 || strlen(impl) > 32) {
                r = -EBADMSG;
                goto fail;
        }
        i->version_major = (int) json_integer_value(maj);
        i->version_minor = (int) json_integer_value(min);
        i->is_64bit = json_is_true(b64);
        i->version = strdup(ver);
        i->implementation = strdup(impl);
        if (!i->version || !i->implementation) {
                r = -ENOMEM;
                goto fail;
        }
        if ((r = json_abs_path(j, "executable", &i->executable)) < 0 ||
            (r = json_abs_path(j, "prefix", &i->prefix)) < 0 ||
            (r = json_abs_path(j, "exec_prefix", &i->exec_prefix)) < 0 ||
            (r = json_strv(json_object_get(j, "stdlib"), &i->stdlib_dirs)) < 0 ||
            (r = json_strv(json_object_get(j, "site_packages"), &i->site_packages)) < 0 ||
            (r = json_strv(json_object_get(j, "hide"), &i->hide_dirs)) < 0 ||
            (r = json_strv(json_object_get(j, "seed_wheels"), &i->seed_wheels)) < 0)
                goto fail;
        *ret = i;
        return 0;
fail:
        interp_info_free(i);
        return r;
}

/* ---- asking the interpreter ------------------------------------------------------------- */

/* Runs exe with the query script; returns its stdout. */
static int run_query(const char *exe, char **ret_out) {
        /* -E -s -S rather than -I: Python 2 and 3.3 know these, so an old
         * interpreter answers with its version instead of a usage error.
         * It runs in "/": where it runs must not change what it answers. */
        char *argv[] = { (char *) exe, "-E", "-s", "-S", "-c", (char *) vrun_interp_query, NULL };
        /* Confined: exe may be whatever an env named on its first use, and
         * must not be able to do more than lie about its paths. */
        const ConfinedRun r = { .argv = argv, .max = INTERP_OUTPUT_MAX };
        return confined_capture(&r, ret_out);
}

static int interp_query(const char *exe, InterpInfo **ret) {
        _cleanup_free_ char *out = NULL;
        int r = run_query(exe, &out);
        if (r < 0)
                return r;
        json_error_t err;
        _cleanup_json_ json_t *j = json_loads(out, JSON_REJECT_DUPLICATES, &err);
        if (!j)
                return -ENOEXEC;
        json_t *maj = json_object_get(j, "major"), *min = json_object_get(j, "minor");
        if (!json_is_integer(maj) || !json_is_integer(min))
                return -ENOEXEC;
        if (json_integer_value(maj) != 3 || json_integer_value(min) < INTERP_MIN_MINOR)
                return -EPROTONOSUPPORT;
        return interp_info_from_json(j, ret) < 0 ? -ENOEXEC : 0;
}

/* ---- cache ---------------------------------------------------------------------------- */

static uint64_t fnv1a(const char *s) {
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 1099511628211ULL;
        }
        return h;
}

/* What invalidates an entry: the binary itself, and the directories where
 * a new .pth file could add import paths. */
static json_t *cache_key(const char *exe, const struct stat *st, char *const *site_dirs) {
        json_t *dirs = json_array();
        if (!dirs)
                return NULL;
        STRV_FOREACH (d, site_dirs) {
                struct stat ds;
                long long m =
                        stat(*d, &ds) == 0 ? (long long) ds.st_mtim.tv_sec * 1000000000LL + ds.st_mtim.tv_nsec : -1;
                if (json_array_append_new(dirs, json_integer(m)) < 0) {
                        json_decref(dirs);
                        return NULL;
                }
        }
        /* The user site the facts name comes from $HOME. */
        const char *home = getenv("HOME");
        return json_pack("{s:i, s:s, s:s, s:I, s:I, s:I, s:o}", "format", INTERP_CACHE_FORMAT, "home", home ? home : "",
                         "path", exe, "size", (json_int_t) st->st_size, "mtime_ns",
                         (json_int_t) (st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec), "inode",
                         (json_int_t) st->st_ino, "dir_mtimes", dirs);
}

static int cache_read(const char *path, const char *exe, const struct stat *st, InterpInfo **ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_full_file_at(AT_FDCWD, path, INTERP_OUTPUT_MAX, &text, NULL);
        if (r < 0)
                return r;
        json_error_t err;
        _cleanup_json_ json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &err);
        if (!j)
                return -EBADMSG;
        json_t *facts = json_object_get(j, "facts");
        _cleanup_(interp_info_freep) InterpInfo *i = NULL;
        r = interp_info_from_json(facts, &i);
        if (r < 0)
                return r;
        /* Recompute the key from the facts and compare, so a stale entry, a
         * hash collision or a hand-edited file is not trusted. */
        _cleanup_json_ json_t *want = cache_key(exe, st, i->hide_dirs);
        if (!want)
                return -ENOMEM;
        if (!json_equal(want, json_object_get(j, "key")))
                return -ESTALE;
        if (strcmp(i->executable, exe) != 0)
                return -ESTALE;
        *ret = TAKE_PTR(i);
        return 0;
}

static int cache_write(const char *dir, const char *path, const char *exe, const struct stat *st, const InterpInfo *i) {
        int r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *j =
                json_pack("{s:o, s:o}", "key", cache_key(exe, st, i->hide_dirs), "facts", interp_info_to_json(i));
        if (!j)
                return -ENOMEM;
        _cleanup_free_ char *text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
        if (!text)
                return -ENOMEM;
        return write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0600);
}

int interp_load(const char *exe, InterpInfo **ret) {
        struct stat st;
        if (stat(exe, &st) < 0)
                return negative_errno();

        _cleanup_free_ char *cache = NULL, *dir = NULL, *path = NULL;
        int r = vrun_cache_dir(&cache);
        if (r >= 0) {
                dir = path_join(cache, "interp");
                if (!dir || asprintf(&path, "%s/%016llx.json", dir, (unsigned long long) fnv1a(exe)) < 0)
                        return -ENOMEM;
        }

        InterpInfo *i = NULL;
        if (path) {
                r = cache_read(path, exe, &st, &i);
                if (r >= 0) {
                        i->from_cache = true;
                        i->cache_path = TAKE_PTR(path);
                        *ret = i;
                        return 0;
                }
        }

        r = interp_query(exe, &i);
        if (r < 0)
                return r;
        if (path) {
                /* A cache we cannot write costs speed, not correctness. */
                if (cache_write(dir, path, exe, &st, i) >= 0)
                        i->cache_path = TAKE_PTR(path);
        }
        *ret = i;
        return 0;
}
