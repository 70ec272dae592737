#include "vrun/venv/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/sha256.h"
#include "util/strv.h"
#include "vrun/venv/pyvenv.h"

#define TRUST_FORMAT     1
#define TRUST_RECORD_MAX (256 * 1024)
#define TRUST_BIN_MAX    64 /* python* names in bin/ worth recording */

#define _cleanup_json_ __attribute__((cleanup(json_decrefp)))

int vrun_state_dir(char **ret) {
        return path_xdg_dir("XDG_STATE_HOME", ".local/state", "vrun", ret);
}

void trust_report_done(TrustReport *r) {
        free(r->base);
        free(r->made_as);
        strv_free(r->changes);
        free(r->base_changed);
        *r = (TrustReport){};
}

static int hex_sha256(const void *data, size_t len, char out[65]) {
        uint8_t d[32];
        sha256(data, len, d);
        for (size_t k = 0; k < 32; k++)
                snprintf(out + 2 * k, 3, "%02x", d[k]);
        return 0;
}

/* STATE/envs/<sha256 of the env's path>.json */
static int record_path(const char *state, const char *env_path, char **ret) {
        char h[65];
        hex_sha256(env_path, strlen(env_path), h);
        return asprintf(ret, "%s/envs/%.32s.json", state, h) < 0 ? -ENOMEM : 0;
}

/* The path env_fd was opened at, as the kernel resolved it. */
static int fd_path(int fd, char **ret) {
        char proc[64], buf[VRUN_PATH_MAX];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(proc, buf, sizeof buf - 1);
        if (n < 0)
                return negative_errno();
        if ((size_t) n >= sizeof buf - 1 || buf[0] != '/')
                return -ENAMETOOLONG;
        buf[n] = 0;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

/* Where records live, the path env_fd resolves to, and its inode. */
static int env_identity(int env_fd, char **ret_state, char **ret_resolved, struct stat *ret_st) {
        _cleanup_free_ char *state = NULL, *resolved = NULL;
        int r = vrun_state_dir(&state);
        if (r < 0)
                return r;
        if ((r = fd_path(env_fd, &resolved)) < 0)
                return r;
        if (fstat(env_fd, ret_st) < 0)
                return negative_errno();
        *ret_state = TAKE_PTR(state);
        *ret_resolved = TAKE_PTR(resolved);
        return 0;
}

static json_int_t ns(const struct timespec *t) {
        return (json_int_t) t->tv_sec * 1000000000 + t->tv_nsec;
}

/* pyvenv.cfg as it is: a regular file, read without following a symlink. */
static int read_cfg_text(int env_fd, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd =
                openat(env_fd, "pyvenv.cfg", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        struct stat st;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADF;
        return read_fd_full_len(fd, PYVENV_CFG_MAX, 0, ret, ret_len);
}

static json_t *cfg_json(int env_fd) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (read_cfg_text(env_fd, &text, &len) < 0)
                return json_null();
        char h[65];
        hex_sha256(text, len, h);
        _cleanup_pyvenv_cfg_ PyvenvCfg *c = NULL;
        if (pyvenv_cfg_parse(text, &c) < 0)
                return json_pack("{s:s}", "sha256", h);
        return json_pack("{s:s, s:s?, s:s?, s:s?, s:b}", "sha256", h, "home", c->home, "executable", c->executable,
                         "version", c->version, "include-system-site-packages", c->include_system_site_packages);
}

bool trust_is_interpreter_name(const char *n) {
        if (strncmp(n, "python", 6) != 0)
                return false;
        n += 6;
        if (!*n)
                return true;
        if (*n++ != '3')
                return false;
        if (!*n)
                return true;
        if (*n++ != '.' || !*n)
                return false;
        for (; *n; n++)
                if (*n < '0' || *n > '9')
                        return false;
        return true;
}

static json_t *bin_entry_json(int bin_fd, const char *name) {
        struct stat st;
        if (fstatat(bin_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return NULL;
        if (S_ISLNK(st.st_mode)) {
                char buf[VRUN_PATH_MAX];
                ssize_t n = readlinkat(bin_fd, name, buf, sizeof buf - 1);
                if (n < 0)
                        return NULL;
                buf[n] = 0;
                return json_pack("{s:s}", "link", buf);
        }
        /* A copy (--copies): its inode and change time notice any rewrite;
         * ctime cannot be set back by an unprivileged program. */
        return json_pack("{s:{s:I, s:I, s:I, s:I, s:I}}", "file", "mode", (json_int_t) st.st_mode, "ino",
                         (json_int_t) st.st_ino, "size", (json_int_t) st.st_size, "mtime_ns", ns(&st.st_mtim),
                         "ctime_ns", ns(&st.st_ctim));
}

static json_t *bin_json(int env_fd) {
        _cleanup_json_ json_t *o = json_object();
        if (!o)
                return NULL;
        int fd = openat(env_fd, "bin", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return json_null();
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return NULL;
        }
        struct dirent *de;
        size_t n = 0;
        while ((de = readdir(d)))
                if (trust_is_interpreter_name(de->d_name)) {
                        if (++n > TRUST_BIN_MAX)
                                break;
                        json_t *e = bin_entry_json(dirfd(d), de->d_name);
                        if (!e || json_object_set_new(o, de->d_name, e) < 0)
                                return NULL;
                }
        return TAKE_PTR(o);
}

static json_t *base_json(const char *exe) {
        struct stat st;
        if (stat(exe, &st) < 0)
                return json_pack("{s:s}", "path", exe);
        return json_pack("{s:s, s:I, s:I, s:I, s:I}", "path", exe, "dev", (json_int_t) st.st_dev, "ino",
                         (json_int_t) st.st_ino, "size", (json_int_t) st.st_size, "mtime_ns", ns(&st.st_mtim));
}

int trust_record(const char *env_abs, int env_fd, const InterpInfo *i, bool created) {
        _cleanup_free_ char *state = NULL, *resolved = NULL, *dir = NULL;
        struct stat st;
        int r = env_identity(env_fd, &state, &resolved, &st);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *j =
                json_pack("{s:i, s:s, s:s, s:b, s:I, s:I, s:o, s:s, s:o, s:o}", "format", TRUST_FORMAT, "env", resolved,
                          "made_as", env_abs, "created", created, "dev", (json_int_t) st.st_dev, "ino",
                          (json_int_t) st.st_ino, "base", base_json(i->executable), "version", i->version, "pyvenv_cfg",
                          cfg_json(env_fd), "bin", bin_json(env_fd));
        if (!j)
                return -ENOMEM;
        if (!(dir = path_join(state, "envs")))
                return -ENOMEM;
        if ((r = mkdir_p(dir, 0700)) < 0)
                return r;
        const char *names[] = { resolved, strcmp(resolved, env_abs) != 0 ? env_abs : NULL };
        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                if (!names[k])
                        continue;
                /* Each file names the path it is filed under, so a record is
                 * never applied to another env. */
                if (json_object_set_new(j, "path", json_string(names[k])) < 0)
                        return -ENOMEM;
                _cleanup_free_ char *p = NULL, *text = json_dumps(j, JSON_INDENT(1) | JSON_SORT_KEYS);
                if (!text || record_path(state, names[k], &p) < 0)
                        return -ENOMEM;
                if ((r = write_file_atomic_at(AT_FDCWD, p, text, strlen(text), 0600)) < 0)
                        return r;
        }
        return 0;
}

static int load_record(const char *state, const char *env_path, json_t **ret) {
        _cleanup_free_ char *p = NULL, *text = NULL;
        int r = record_path(state, env_path, &p);
        if (r < 0)
                return r;
        r = read_full_file_at(AT_FDCWD, p, TRUST_RECORD_MAX, &text, NULL);
        if (r < 0)
                return r;
        json_error_t err;
        _cleanup_json_ json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &err);
        const char *path = json_string_value(json_object_get(j, "path"));
        const char *base = json_string_value(json_object_get(json_object_get(j, "base"), "path"));
        if (!j || json_integer_value(json_object_get(j, "format")) != TRUST_FORMAT || !path ||
            strcmp(path, env_path) != 0 || !base || base[0] != '/')
                return -EBADMSG;
        *ret = TAKE_PTR(j);
        return 0;
}

static int add_change(char ***l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_change(char ***l, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *s = NULL;
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        int r = strv_push(l, s);
        if (r < 0)
                free(s);
        return r;
}

static const char *str_or(json_t *o, const char *key, const char *dflt) {
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : dflt;
}

static int compare_cfg(json_t *want, json_t *have, char ***changes) {
        if (json_equal(want, have))
                return 0;
        if (json_is_null(have))
                return add_change(changes, "pyvenv.cfg is missing or not a regular file");
        static const char *const keys[] = { "executable", "home", "version" };
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                json_t *a = json_object_get(want, keys[k]), *b = json_object_get(have, keys[k]);
                if (!json_equal(a, b) && !(a == NULL && b == NULL))
                        return add_change(changes, "pyvenv.cfg names %s %s, vrun recorded %s", keys[k],
                                          str_or(have, keys[k], "nothing"), str_or(want, keys[k], "nothing"));
        }
        const char *isp = "include-system-site-packages";
        if (!json_equal(json_object_get(want, isp), json_object_get(have, isp)))
                return add_change(changes, "pyvenv.cfg sets %s = %s, vrun recorded %s", isp,
                                  json_is_true(json_object_get(have, isp)) ? "true" : "false",
                                  json_is_true(json_object_get(want, isp)) ? "true" : "false");
        return add_change(changes, "pyvenv.cfg was modified");
}

static int describe_bin(json_t *e, char **ret) {
        const char *link = json_string_value(json_object_get(e, "link"));
        if (link)
                return asprintf(ret, "a link to %s", link) < 0 ? -ENOMEM : 0;
        *ret = strdup(e ? "a file" : "missing");
        return *ret ? 0 : -ENOMEM;
}

static int compare_bin(json_t *want, json_t *have, char ***changes) {
        if (json_equal(want, have))
                return 0;
        if (!json_is_object(have))
                return add_change(changes, "bin/ is missing or not a directory");
        const char *name;
        json_t *v;
        int r;
        json_object_foreach (want, name, v) {
                json_t *h = json_object_get(have, name);
                if (json_equal(v, h))
                        continue;
                _cleanup_free_ char *a = NULL, *b = NULL;
                if ((r = describe_bin(h, &a)) < 0 || (r = describe_bin(v, &b)) < 0)
                        return r;
                if (json_object_get(v, "file") && json_object_get(h, "file"))
                        return add_change(changes, "bin/%s was rewritten since vrun recorded it", name);
                return add_change(changes, "bin/%s is %s, vrun recorded %s", name, a, b);
        }
        json_object_foreach (have, name, v)
                if (!json_object_get(want, name)) {
                        _cleanup_free_ char *a = NULL;
                        if ((r = describe_bin(v, &a)) < 0)
                                return r;
                        return add_change(changes, "bin/%s appeared (%s)", name, a);
                }
        return 0;
}

int trust_check(const char *env_abs, int env_fd, TrustReport *ret) {
        _cleanup_free_ char *state = NULL, *resolved = NULL;
        struct stat st;
        int r = env_identity(env_fd, &state, &resolved, &st);
        if (r < 0)
                return r;

        /* The record of the resolved path and, when the env was reached
         * through another name, that name's: a directory swapped in under
         * either name is noticed. */
        json_t *recs[2] = {};
        const char *names[] = { resolved, strcmp(resolved, env_abs) != 0 ? env_abs : NULL };
        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                if (!names[k])
                        continue;
                r = load_record(state, names[k], &recs[k]);
                if (r < 0 && r != -ENOENT) {
                        json_decref(recs[0]);
                        return r;
                }
        }
        _cleanup_json_ json_t *rec = recs[0] ? recs[0] : recs[1];
        _cleanup_json_ json_t *alias = recs[0] ? recs[1] : NULL;
        if (!rec)
                return -ENOENT;

        _cleanup_(trust_report_done) TrustReport rep = {};
        if (!(rep.base = strdup(json_string_value(json_object_get(json_object_get(rec, "base"), "path")))) ||
            !(rep.made_as = strdup(str_or(rec, "made_as", resolved))))
                return -ENOMEM;
        rep.created = json_is_true(json_object_get(rec, "created"));
        json_t *both[] = { rec, alias };
        for (size_t k = 0; k < ELEMENTSOF(both); k++)
                if (both[k] &&
                    (json_integer_value(json_object_get(both[k], "dev")) != (json_int_t) st.st_dev ||
                     json_integer_value(json_object_get(both[k], "ino")) != (json_int_t) st.st_ino) &&
                    (r = add_change(&rep.changes, "%s is not the directory vrun recorded (it was replaced)",
                                    str_or(both[k], "path", env_abs))) < 0)
                        return r;

        _cleanup_json_ json_t *cfg = cfg_json(env_fd), *bin = bin_json(env_fd);
        if (!cfg || !bin)
                return -ENOMEM;
        if ((r = compare_cfg(json_object_get(rec, "pyvenv_cfg"), cfg, &rep.changes)) < 0 ||
            (r = compare_bin(json_object_get(rec, "bin"), bin, &rep.changes)) < 0)
                return r;

        _cleanup_json_ json_t *base = base_json(rep.base);
        if (!base)
                return -ENOMEM;
        if (!json_equal(base, json_object_get(rec, "base")) &&
            asprintf(&rep.base_changed, "the base interpreter %s changed since vrun recorded it", rep.base) < 0)
                return -ENOMEM;
        *ret = TAKE_STRUCT(rep);
        return 0;
}
