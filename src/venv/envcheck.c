#include "vrun/venv/envcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strv.h"
#include "vrun/sandbox/mountsrc.h"
#include "vrun/venv/activate.h"
#include "vrun/venv/pyvenv.h"
#include "vrun/venv/record.h"
#include "vrun/venv/trust.h"

#define WALK_ENTRIES_MAX 1000000
#define WALK_DEPTH_MAX   64
#define OWNED_MAX        2000000

typedef struct Walk {
        int env_fd;
        EnvCheck *c;
        char **owned; /* env-relative paths some RECORD lists, sorted once collected */
        size_t n_owned, cap_owned;
        size_t n_entries;
} Walk;

void envcheck_done(EnvCheck *c) {
        for (size_t k = 0; k < c->n_findings; k++) {
                free(c->findings[k].path);
                free(c->findings[k].what);
        }
        free(c->findings);
        strv_free(c->unchecked);
        free(c->base);
        *c = (EnvCheck){};
}

static int add_finding(EnvCheck *c, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add_finding(EnvCheck *c, const char *path, const char *fmt, ...) {
        if (c->n_findings >= ENVCHECK_FINDINGS_MAX) {
                c->n_more++;
                return 0;
        }
        EnvFinding *f = realloc(c->findings, (c->n_findings + 1) * sizeof *f);
        if (!f)
                return -ENOMEM;
        c->findings = f;
        va_list ap;
        va_start(ap, fmt);
        char *what = NULL;
        int n = vasprintf(&what, fmt, ap);
        va_end(ap);
        char *p = strdup(path);
        if (n < 0 || !p) {
                free(p);
                if (n >= 0)
                        free(what);
                return -ENOMEM;
        }
        c->findings[c->n_findings++] = (EnvFinding){ p, what };
        return 0;
}

/* dir/rel folded lexically ("." and ".." resolved) into out; -EXDEV when it
 * climbs above the env, -EINVAL for an absolute rel. */
static int rel_join(const char *dir, const char *rel, char out[VRUN_PATH_MAX]) {
        if (rel[0] == '/')
                return -EINVAL;
        char buf[VRUN_PATH_MAX];
        if ((size_t) snprintf(buf, sizeof buf, "%s/%s", dir, rel) >= sizeof buf)
                return -ENAMETOOLONG;
        size_t n = 0;
        char *save = NULL;
        for (char *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
                if (strcmp(t, ".") == 0)
                        continue;
                if (strcmp(t, "..") == 0) {
                        if (n == 0)
                                return -EXDEV;
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        if (n > 0)
                                n--;
                        continue;
                }
                size_t l = strlen(t);
                if (n + 1 + l + 1 > VRUN_PATH_MAX)
                        return -ENAMETOOLONG;
                if (n > 0)
                        out[n++] = '/';
                memcpy(out + n, t, l);
                n += l;
        }
        out[n] = 0;
        return n > 0 ? 0 : -EINVAL;
}

/* rel below the env, for reading: no symlink followed, nothing outside reached. */
static int open_in_env(int env_fd, const char *rel, mode_t type, int flags, int *ret_fd) {
        _cleanup_close_ int path_fd = -1;
        int r = mountsrc_open_beneath(env_fd, rel, type, &path_fd);
        if (r < 0)
                return r;
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", path_fd);
        int fd = open(proc, flags | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        *ret_fd = fd;
        return 0;
}

static int read_in_env(int env_fd, const char *rel, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd = -1;
        int r = open_in_env(env_fd, rel, S_IFREG, O_RDONLY | O_NONBLOCK, &fd);
        if (r < 0)
                return r;
        return read_fd_full_len(fd, max, 0, ret, ret_len);
}

static int own(Walk *w, const char *rel) {
        if (w->n_owned >= OWNED_MAX)
                return -E2BIG;
        if (w->n_owned == w->cap_owned) {
                size_t cap = w->cap_owned ? w->cap_owned * 2 : 1024;
                char **o = realloc(w->owned, cap * sizeof *o);
                if (!o)
                        return -ENOMEM;
                w->owned = o;
                w->cap_owned = cap;
        }
        if (!(w->owned[w->n_owned] = strdup(rel)))
                return -ENOMEM;
        w->n_owned++;
        return 0;
}

static int str_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool owned(const Walk *w, const char *rel) {
        return w->n_owned > 0 && bsearch(&rel, w->owned, w->n_owned, sizeof(char *), str_compare);
}

/* Every file the RECORD of site_rel/dist lists: owned, and hashed where the
 * RECORD gives a hash. */
static int check_dist(Walk *w, const char *site_rel, const char *dist) {
        char rec_rel[VRUN_PATH_MAX];
        if ((size_t) snprintf(rec_rel, sizeof rec_rel, "%s/%s/RECORD", site_rel, dist) >= sizeof rec_rel)
                return -ENAMETOOLONG;
        w->c->n_dists++;
        _cleanup_free_ char *text = NULL;
        int r = read_in_env(w->env_fd, rec_rel, RECORD_MAX, &text, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return add_finding(w->c, rec_rel, "cannot be read (%s): the files of %s cannot be checked",
                                   strerror(-r), dist);
        _cleanup_(record_index_done) RecordIndex x = {};
        r = record_index_parse(text, &x);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return add_finding(w->c, rec_rel, "is malformed");
        for (size_t k = 0; k < x.n; k++) {
                const RecordRow *row = &x.rows[k];
                char rel[VRUN_PATH_MAX];
                r = rel_join(site_rel, row->path, rel);
                if (r < 0) {
                        if ((r = add_finding(w->c, rec_rel, "lists %s, outside the env", row->path)) < 0)
                                return r;
                        continue;
                }
                if ((r = own(w, rel)) < 0)
                        return r;
                if (!*row->hash)
                        continue;
                if (strncmp(row->hash, "sha256=", 7) != 0) {
                        if ((r = strv_extend(&w->c->unchecked, rel)) < 0)
                                return r;
                        continue;
                }
                _cleanup_close_ int fd = -1;
                r = open_in_env(w->env_fd, rel, S_IFREG, O_RDONLY | O_NONBLOCK, &fd);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        r = add_finding(w->c, rel, "%s (listed in %s)",
                                        r == -ENOENT ? "is missing" : mountsrc_strerror(r), rec_rel);
                        if (r < 0)
                                return r;
                        continue;
                }
                char hash[RECORD_HASH_MAX];
                uint64_t size = 0;
                if ((r = record_hash_fd(fd, hash, &size)) < 0)
                        return r;
                w->c->n_files++;
                if (strcmp(hash, row->hash) != 0 &&
                    (r = add_finding(w->c, rel, "was modified since it was installed (its hash differs from %s)",
                                     rec_rel)) < 0)
                        return r;
        }
        return 0;
}

static bool has_suffix(const char *s, const char *suffix) {
        size_t l = strlen(s), k = strlen(suffix);
        return l >= k && strcmp(s + l - k, suffix) == 0;
}

static const char *why_unowned(const char *name, bool top) {
        if (top && has_suffix(name, ".pth"))
                return "no RECORD owns this .pth file (Python runs its import lines at every start)";
        if (top && (strncmp(name, "sitecustomize", 13) == 0 || strncmp(name, "usercustomize", 13) == 0))
                return "no RECORD owns it (Python imports it at every start)";
        return "no RECORD owns it";
}

/* Everything below dir_fd (at rel) that no RECORD lists. Bytecode in
 * __pycache__ is code too, but Python writes it at run time: it is listed
 * as unchecked, not as a finding. */
static int walk_unowned(Walk *w, int dir_fd, const char *rel, unsigned depth) {
        if (depth > WALK_DEPTH_MAX)
                return add_finding(w->c, rel, "is nested too deep to check");
        int fd = dup(dir_fd);
        if (fd < 0)
                return negative_errno();
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return negative_errno();
        }
        bool pycache = strcmp(path_basename(rel), "__pycache__") == 0;
        struct dirent *de;
        int r;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (++w->n_entries > WALK_ENTRIES_MAX)
                        return -E2BIG;
                char p[VRUN_PATH_MAX];
                if ((size_t) snprintf(p, sizeof p, "%s/%s", rel, de->d_name) >= sizeof p)
                        return -ENAMETOOLONG;
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return negative_errno();
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub =
                                openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                return negative_errno();
                        if ((r = walk_unowned(w, sub, p, depth + 1)) < 0)
                                return r;
                        continue;
                }
                if (owned(w, p))
                        continue;
                if (pycache && has_suffix(de->d_name, ".pyc") && S_ISREG(st.st_mode)) {
                        if ((r = strv_extend(&w->c->unchecked, p)) < 0)
                                return r;
                        continue;
                }
                if ((r = add_finding(w->c, p, "%s", why_unowned(de->d_name, depth == 0))) < 0)
                        return r;
        }
        return 0;
}

/* lib/python3.X/site-packages: one per interpreter version the env has. */
static int site_dirs(int env_fd, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int fd = openat(env_fd, "lib", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                *ret = NULL;
                return errno == ENOENT ? 0 : negative_errno();
        }
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return negative_errno();
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strncmp(de->d_name, "python", 6) != 0)
                        continue;
                char p[VRUN_PATH_MAX];
                snprintf(p, sizeof p, "lib/%.200s/site-packages", de->d_name);
                _cleanup_close_ int sfd = -1;
                int r = mountsrc_open_beneath(env_fd, p, S_IFDIR, &sfd);
                if (r >= 0)
                        r = strv_extend(&l, p);
                if (r == -ENOMEM)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int open_dir_in_env(int env_fd, const char *rel, DIR **ret) {
        int fd = -1;
        int r = open_in_env(env_fd, rel, S_IFDIR, O_RDONLY | O_DIRECTORY, &fd);
        if (r < 0)
                return r;
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return negative_errno();
        }
        *ret = d;
        return 0;
}

static int check_site(Walk *w, const char *site_rel) {
        _cleanup_closedir_ DIR *d = NULL;
        int r = open_dir_in_env(w->env_fd, site_rel, &d);
        if (r < 0)
                return r == -ENOMEM ? r : add_finding(w->c, site_rel, "%s", mountsrc_strerror(r));
        struct dirent *de;
        while ((de = readdir(d)))
                if (has_suffix(de->d_name, ".dist-info") && (r = check_dist(w, site_rel, de->d_name)) < 0)
                        return r;
        return 0;
}

static const char *const activate_names[] = { "activate",     "activate.csh",     "activate.fish",
                                              "Activate.ps1", "activate.nu",      "deactivate.nu",
                                              "activate.bat", "activate_this.py", "deactivate.bat" };

static bool is_activate_name(const char *n) {
        for (size_t k = 0; k < ELEMENTSOF(activate_names); k++)
                if (strcmp(n, activate_names[k]) == 0)
                        return true;
        return false;
}

/* The activate scripts as vrun writes them for this env, compared byte for byte. */
static int check_activate(Walk *w, const TrustReport *rep) {
        _cleanup_free_ char *text = NULL;
        _cleanup_pyvenv_cfg_ PyvenvCfg *cfg = NULL;
        int r = read_in_env(w->env_fd, "pyvenv.cfg", PYVENV_CFG_MAX, &text, NULL);
        if (r >= 0)
                r = pyvenv_cfg_parse(text, &cfg);
        if (r < 0)
                return r == -ENOMEM ? r : 0; /* reported by the trust check */
        ActivateScript s[ACTIVATE_N_SCRIPTS];
        r = activate_render_scripts(rep->made_as, cfg->prompt ? cfg->prompt : path_basename(rep->made_as), s);
        if (r < 0)
                return r;
        for (size_t k = 0; k < ACTIVATE_N_SCRIPTS && r >= 0; k++) {
                char rel[64];
                snprintf(rel, sizeof rel, "bin/%s", s[k].name);
                _cleanup_free_ char *have = NULL;
                size_t len = 0;
                r = read_in_env(w->env_fd, rel, 1024 * 1024, &have, &len);
                if (r == -ENOMEM)
                        break;
                if (r < 0)
                        r = add_finding(w->c, rel, "%s (vrun wrote it)",
                                        r == -ENOENT ? "is missing" : mountsrc_strerror(r));
                else if (len != s[k].len || memcmp(have, s[k].text, len) != 0)
                        r = add_finding(w->c, rel, "differs from the script vrun wrote");
        }
        activate_scripts_done(s);
        return r;
}

static int check_bin(Walk *w, const TrustReport *rep) {
        int fd = openat(w->env_fd, "bin", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return 0; /* reported by the trust check */
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return negative_errno();
        }
        int r;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    trust_is_interpreter_name(de->d_name))
                        continue;
                char p[VRUN_PATH_MAX];
                snprintf(p, sizeof p, "bin/%s", de->d_name);
                if (owned(w, p))
                        continue;
                if (is_activate_name(de->d_name)) {
                        if (!rep || !rep->created) {
                                if ((r = strv_extend(&w->c->unchecked, p)) < 0)
                                        return r;
                        }
                        continue;
                }
                if ((r = add_finding(w->c, p, "no RECORD owns it and vrun did not write it")) < 0)
                        return r;
        }
        return rep && rep->created ? check_activate(w, rep) : 0;
}

/* What the trust record says: pyvenv.cfg, bin/python*, the base. */
static int check_record(Walk *w, const char *env_abs, TrustReport *rep, bool *ret_have) {
        int r = trust_check(env_abs, w->env_fd, rep);
        *ret_have = r >= 0;
        if (r == -ENOENT)
                return add_finding(w->c, "pyvenv.cfg",
                                   "vrun has no record of this env (it was made elsewhere and never run by vrun), "
                                   "so pyvenv.cfg and bin/python* cannot be checked");
        if (r < 0)
                return r;
        if (!(w->c->base = strdup(rep->base)))
                return -ENOMEM;
        STRV_FOREACH (ch, rep->changes) {
                const char *path = strncmp(*ch, "pyvenv.cfg", 10) == 0 ? "pyvenv.cfg" : ".";
                char buf[128];
                if (strncmp(*ch, "bin/", 4) == 0) {
                        snprintf(buf, sizeof buf, "%.*s", (int) strcspn(*ch, " "), *ch);
                        path = buf;
                }
                if ((r = add_finding(w->c, path, "%s", *ch)) < 0)
                        return r;
        }
        if (rep->base_changed && (r = add_finding(w->c, rep->base, "%s", rep->base_changed)) < 0)
                return r;
        return 0;
}

int envcheck_run(const char *env_abs, int env_fd, EnvCheck *ret) {
        _cleanup_(envcheck_done) EnvCheck c = {};
        Walk w = { .env_fd = env_fd, .c = &c };
        _cleanup_(trust_report_done) TrustReport rep = {};
        _cleanup_strv_free_ char **sites = NULL;
        bool have_record = false;
        int r = check_record(&w, env_abs, &rep, &have_record);
        if (r >= 0)
                r = site_dirs(env_fd, &sites);
        STRV_FOREACH (s, sites)
                if (r >= 0)
                        r = check_site(&w, *s);
        if (r >= 0 && w.n_owned > 1)
                qsort(w.owned, w.n_owned, sizeof(char *), str_compare);
        STRV_FOREACH (s, sites) {
                if (r < 0)
                        break;
                _cleanup_closedir_ DIR *d = NULL;
                r = open_dir_in_env(env_fd, *s, &d);
                if (r >= 0)
                        r = walk_unowned(&w, dirfd(d), *s, 0);
        }
        if (r >= 0)
                r = check_bin(&w, have_record ? &rep : NULL);
        if (r >= 0) {
                /* venv's lib64 is a link to lib; pointed elsewhere it adds a
                 * directory to what Python outside vrun searches. */
                char buf[16];
                ssize_t n = readlinkat(env_fd, "lib64", buf, sizeof buf - 1);
                struct stat st;
                if (n < 0 && fstatat(env_fd, "lib64", &st, AT_SYMLINK_NOFOLLOW) == 0)
                        r = add_finding(&c, "lib64", "is not the link to lib that venv makes");
                else if (n >= 0 && (buf[n] = 0, strcmp(buf, "lib") != 0))
                        r = add_finding(&c, "lib64", "points at %s, not lib", buf);
        }
        for (size_t k = 0; k < w.n_owned; k++)
                free(w.owned[k]);
        free(w.owned);
        if (r < 0)
                return r;
        *ret = TAKE_STRUCT(c);
        return 0;
}
