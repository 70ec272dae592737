#include "vrun/venv/venv.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strv.h"
#include "vrun/venv/activate.h"
#include "util/log.h"
#include "vrun/venv/pyvenv.h"
#include "vrun/venv/trust.h"
#include "vrun/venv/wheel.h"

/* Leaves room below the env for site-packages paths of real packages. */
#define VENV_PATH_MAX 3072

int venv_exists(const char *env_abs) {
        _cleanup_free_ char *cfg = path_join(env_abs, "pyvenv.cfg");
        if (!cfg)
                return -ENOMEM;
        struct stat st;
        if (stat(cfg, &st) < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : negative_errno();
        return S_ISREG(st.st_mode);
}

static bool has_control_chars(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

/* ---- the watchdog ------------------------------------------------------------------------
 * SIGKILL cannot be caught, yet a killed create must not leave its
 * temporary tree behind. A forked watchdog holds the read end of a pipe; if
 * vrun dies before saying "committed", the pipe reports EOF and the watchdog
 * removes the temporary directory. */

typedef struct Watchdog {
        pid_t pid;
        int fd;
} Watchdog;

/* Removes what a create moved into a directory that was empty before it
 * started, when pyvenv.cfg (moved last) never arrived. */
static void undo_partial_commit(const char *target) {
        int fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        if (faccessat(fd, "pyvenv.cfg", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                DIR *d = fdopendir(fd);
                if (!d) {
                        close(fd);
                        return;
                }
                struct dirent *de;
                while ((de = readdir(d)))
                        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                                rm_rf_at(dirfd(d), de->d_name);
                closedir(d);
                return;
        }
        close(fd);
}

/* target is non-NULL when the env is moved into an existing empty dir
 * entry by entry instead of renamed into place. */
static int watchdog_start(const char *parent, const char *tmp_name, const char *target, Watchdog *ret) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        pid_t pid = fork();
        if (pid < 0) {
                int e = negative_errno();
                close(p[0]);
                close(p[1]);
                return e;
        }
        if (pid == 0) {
                close(p[1]);
                /* Out of vrun's process group, so `kill -9 -PGID`, timeout(1)
                 * or a terminal's SIGINT cannot take the cleanup down too
                 * (the parent moves it as well: whichever comes first). */
                (void) setpgid(0, 0);
                signal(SIGINT, SIG_IGN);
                signal(SIGHUP, SIG_IGN);
                signal(SIGTERM, SIG_IGN);
                signal(SIGQUIT, SIG_IGN);
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        dup2(null, STDIN_FILENO);
                        dup2(null, STDOUT_FILENO);
                        dup2(null, STDERR_FILENO);
                }
                char c;
                ssize_t n;
                do
                        n = read(p[0], &c, 1);
                while (n < 0 && errno == EINTR);
                if (n == 1)
                        _exit(0);
                int dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0)
                        rm_rf_at(dfd, tmp_name);
                if (target)
                        undo_partial_commit(target);
                _exit(0);
        }
        close(p[0]);
        /* Until the watchdog has left the process group, a kill of the group
         * takes it too: the temporary dir is made only once it has. The
         * child may have moved itself first (then this fails, harmlessly);
         * either way it is out when setpgid() returns. */
        (void) setpgid(pid, pid);
        *ret = (Watchdog){ .pid = pid, .fd = p[1] };
        return 0;
}

#define TMP_PREFIX ".vrun-create-"

/* A create holds the lock on its temporary dir from a few microseconds
 * after making it; only in that window does the creator's pid matter. */
#define TMP_UNLOCKED_WINDOW_SEC 60

/* Leftovers of creates killed together with their watchdog: a temporary
 * dir whose lock nobody holds and whose creator is dead. A pid that is
 * alive may have been reused by another process: a dir nobody has touched
 * for longer than the window is abandoned whoever has that pid now. */
static bool create_abandoned(int dir_fd, const char *name) {
        long pid = strtol(name + STRLEN(TMP_PREFIX), NULL, 10);
        if (pid <= 0 || pid == getpid())
                return false;
        if (kill((pid_t) pid, 0) == 0 || errno != ESRCH) {
                struct stat st;
                if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    time(NULL) - st.st_mtime < TMP_UNLOCKED_WINDOW_SEC)
                        return false;
        }
        _cleanup_close_ int t = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return t >= 0 && flock(t, LOCK_EX | LOCK_NB) == 0;
}

static void sweep_stale(int parent_fd) {
        sweep_stale_dirs_at(parent_fd, TMP_PREFIX, 0, create_abandoned);
}

/* Moves the entries of tmp into the existing (empty) target, pyvenv.cfg
 * last: until it arrives, the target is not a venv. */
static int commit_into(int tmp_fd, int target_fd) {
        int fd = dup(tmp_fd);
        if (fd < 0)
                return negative_errno();
        DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return negative_errno();
        }
        /* rewinddir: the dup shares the offset with tmp_fd */
        rewinddir(d);
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d)) && r >= 0) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    strcmp(de->d_name, "pyvenv.cfg") == 0)
                        continue;
                if (renameat(tmp_fd, de->d_name, target_fd, de->d_name) < 0)
                        r = negative_errno();
        }
        closedir(d);
        if (r >= 0 && renameat(tmp_fd, "pyvenv.cfg", target_fd, "pyvenv.cfg") < 0)
                r = negative_errno();
        return r;
}

static int clear_dir(int fd) {
        int dfd = dup(fd);
        if (dfd < 0)
                return negative_errno();
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return negative_errno();
        }
        rewinddir(d);
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        int k = rm_rf_at(dirfd(d), de->d_name);
                        if (k < 0 && r == 0)
                                r = k;
                }
        closedir(d);
        return r;
}

static void watchdog_finish(Watchdog *w, bool committed) {
        if (w->pid <= 0)
                return;
        if (committed)
                (void) !write(w->fd, "c", 1);
        close(w->fd);
        /* Wait, so the temporary tree is gone (or kept) before we return. */
        while (waitpid(w->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        w->pid = 0;
}

/* ---- the tree ---------------------------------------------------------------------------- */

typedef struct Layout {
        char lib[64];       /* lib/python3.X */
        char site[96];      /* lib/python3.X/site-packages */
        char inc[64];       /* include/python3.X */
        char versioned[32]; /* python3.X */
} Layout;

static void layout_init(Layout *l, const InterpInfo *i) {
        snprintf(l->versioned, sizeof l->versioned, "python%d.%d", i->version_major, i->version_minor);
        snprintf(l->lib, sizeof l->lib, "lib/%s", l->versioned);
        snprintf(l->site, sizeof l->site, "%s/site-packages", l->lib);
        snprintf(l->inc, sizeof l->inc, "include/%s", l->versioned);
}

static int mkdirat_ok(int dfd, const char *p) {
        return mkdirat(dfd, p, 0755) < 0 && errno != EEXIST ? negative_errno() : 0;
}

/* symlink that replaces whatever is at name, atomically. */
static int symlink_replace_at(const char *target, int dfd, const char *name) {
        char tmp[128];
        snprintf(tmp, sizeof tmp, ".%s.vrun-%ld", name, (long) getpid());
        unlinkat(dfd, tmp, 0);
        if (symlinkat(target, dfd, tmp) < 0)
                return negative_errno();
        if (renameat(dfd, tmp, dfd, name) < 0) {
                int e = negative_errno();
                unlinkat(dfd, tmp, 0);
                return e;
        }
        return 0;
}

/* The same interpreter names venv makes: python3 points at the real binary,
 * python and (3.9+) python3.X at python3. */
static int make_interpreter_links(int env_fd, const InterpInfo *i, const Layout *l, bool copies, bool replace) {
        _cleanup_close_ int bin = openat(env_fd, "bin", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (bin < 0)
                return negative_errno();
        /* venv also names the link after the binary it was started as
         * (python3.8 for 3.8, which otherwise gets no versioned name). */
        const char *exe_name = path_basename(i->executable);
        bool extra = strcmp(exe_name, "python3") != 0 && strcmp(exe_name, "python") != 0 &&
                     !(i->version_minor >= 9 && strcmp(exe_name, l->versioned) == 0);
        const char *names[] = { "python3", "python", i->version_minor >= 9 ? l->versioned : NULL,
                                extra ? exe_name : NULL };
        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                if (!names[k])
                        continue;
                int r;
                if (copies) {
                        if (replace)
                                unlinkat(bin, names[k], 0);
                        r = copy_file_at(i->executable, bin, names[k], 0755);
                } else if (replace)
                        r = symlink_replace_at(k == 0 ? i->executable : "python3", bin, names[k]);
                else
                        r = symlinkat(k == 0 ? i->executable : "python3", bin, names[k]) < 0 ? negative_errno() : 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

/* replace: over the pyvenv.cfg of an env in use, atomically; otherwise into
 * a new tree nobody sees yet. */
static int write_cfg(int env_fd, const PyvenvCfg *cfg, bool replace) {
        _cleanup_free_ char *text = NULL;
        int r = pyvenv_cfg_format(cfg, &text);
        if (r < 0)
                return r;
        if (!replace)
                return write_file_at(env_fd, "pyvenv.cfg", text, strlen(text), 0644, 0);
        return write_file_atomic_at(env_fd, "pyvenv.cfg", text, strlen(text), 0644);
}

static int fill_cfg(PyvenvCfg *cfg, const InterpInfo *i, const char *command) {
        free(cfg->home);
        free(cfg->version);
        free(cfg->executable);
        free(cfg->command);
        cfg->home = path_dirname(i->executable);
        cfg->version = strdup(i->version);
        cfg->executable = strdup(i->executable);
        cfg->command = strdup(command);
        return cfg->home && cfg->version && cfg->executable && cfg->command ? 0 : -ENOMEM;
}

static const char *default_prompt(const char *env_abs, const char *given, char **buf) {
        if (given && strcmp(given, ".") == 0) {
                /* venv's convention: "." means the current directory's name. */
                *buf = getcwd(NULL, 0);
                return *buf ? path_basename(*buf) : path_basename(env_abs);
        }
        return given ? given : path_basename(env_abs);
}

static int write_activate(int env_fd, const char *env_abs, const char *prompt) {
        _cleanup_close_ int bin = openat(env_fd, "bin", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (bin < 0)
                return negative_errno();
        return activate_write_scripts(bin, env_abs, prompt, false);
}

static int seed_pip(int env_fd, const char *env_abs, const InterpInfo *i, const Layout *l) {
        _cleanup_free_ char *cache = NULL, *python = path_join(env_abs, "bin/python");
        if (!python)
                return -ENOMEM;
        int r = vrun_cache_dir(&cache);
        if (r < 0)
                return log_error_errno(r, "cannot seed pip: vrun has no cache directory (%m; set XDG_CACHE_HOME or "
                                          "HOME) (use --without-pip to skip pip)");
        WheelTarget t = {
                .env_fd = env_fd,
                .site_packages = l->site,
                .bin_dir = "bin",
                .python = python,
                .cache_dir = cache,
                .compile_python = i->executable,
                .version_major = i->version_major,
                .version_minor = i->version_minor,
        };
        STRV_FOREACH (w, i->seed_wheels) {
                r = wheel_install(*w, &t);
                if (r < 0)
                        return log_error_errno(r, "cannot seed pip from %s: %m (use --without-pip to skip it)", *w);
        }
        return 0;
}

static int build_tree(int env_fd, const char *env_abs, const InterpInfo *i, const CreateOptions *o,
                      const char *command) {
        Layout l;
        layout_init(&l, i);
        int r;
        const char *dirs[] = { "bin", "include", "lib", l.lib, l.site, i->version_minor >= 11 ? l.inc : NULL };
        for (size_t k = 0; k < ELEMENTSOF(dirs); k++)
                if (dirs[k] && (r = mkdirat_ok(env_fd, dirs[k])) < 0)
                        return log_error_errno(r, "cannot create %s/%s: %m", env_abs, dirs[k]);
        if (i->is_64bit && symlinkat("lib", env_fd, "lib64") < 0)
                return log_error_errno(errno, "cannot create %s/lib64: %m", env_abs);
        if (i->version_minor >= 13) {
                static const char ignore[] = "# Created by vrun: keep this venv out of version control.\n*\n";
                r = write_file_at(env_fd, ".gitignore", ignore, STRLEN(ignore), 0644, 0);
                if (r < 0)
                        return log_error_errno(r, "cannot write %s/.gitignore: %m", env_abs);
        }
        r = make_interpreter_links(env_fd, i, &l, o->copies, false);
        if (r < 0)
                return log_error_errno(r, "cannot link the interpreter into %s/bin: %m", env_abs);

        _cleanup_free_ char *cwdbuf = NULL;
        const char *prompt = default_prompt(env_abs, o->prompt, &cwdbuf);
        r = write_activate(env_fd, env_abs, prompt);
        if (r < 0)
                return log_error_errno(r, "cannot write the activate scripts of %s: %m", env_abs);

        PyvenvCfg cfg = { .include_system_site_packages = o->system_site_packages };
        r = fill_cfg(&cfg, i, command);
        if (r >= 0 && o->prompt && !(cfg.prompt = strdup(prompt)))
                r = -ENOMEM;
        if (r >= 0)
                r = write_cfg(env_fd, &cfg, false);
        free(cfg.home);
        free(cfg.version);
        free(cfg.executable);
        free(cfg.command);
        free(cfg.prompt);
        if (r < 0)
                return log_error_errno(r, "cannot write %s/pyvenv.cfg: %m", env_abs);

        if (!o->without_pip) {
                if (!i->seed_wheels || !i->seed_wheels[0])
                        return log_error_errno(ENOENT,
                                               "%s has no bundled pip wheel (ensurepip/_bundled or "
                                               "/usr/share/python-wheels); install one (Debian: python3-pip-whl) "
                                               "or use --without-pip",
                                               i->executable);
                r = seed_pip(env_fd, env_abs, i, &l);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int log_interp_error(int r, const char *spec) {
        const char *s = spec ? spec : "python3";
        switch (r) {
        case -ENOENT:
                if (strchr(s, '/'))
                        return log_error_errno(r, "no Python interpreter at '%s' (no such file)", s);
                return log_error_errno(r,
                                       "no Python interpreter found for '%s' (looked on PATH and in "
                                       "pyenv's versions; use --python PATH)",
                                       s);
        case -EISDIR:
                return log_error_errno(r,
                                       "'%s' is a directory, not a Python interpreter (use --python "
                                       "PATH/TO/bin/python3)",
                                       s);
        case -ENOEXEC:
                return log_error_errno(r,
                                       "'%s' is not a working Python interpreter (it did not answer "
                                       "vrun's query; use --python to pick another)",
                                       s);
        case -EPROTONOSUPPORT:
                return log_error_errno(r,
                                       "'%s' is Python 2 or older than 3.8; vrun needs Python 3.8 "
                                       "or newer (use --python 3.X)",
                                       s);
        default: return log_error_errno(r, "cannot use Python interpreter '%s': %m", s);
        }
}

int venv_load_interp(const char *spec, InterpInfo **ret) {
        _cleanup_free_ char *exe = NULL;
        int r = interp_find(spec, &exe);
        if (r >= 0)
                r = interp_load(exe, ret);
        /* --python 3.12.1 asks for that release, not any 3.12 on PATH. */
        const char *v = spec && strncmp(spec, "python", 6) == 0 ? spec + 6 : spec;
        if (r >= 0 && v && strspn(v, "0123456789.") == strlen(v) && strchr(v, '.') != strrchr(v, '.') &&
            strcmp((*ret)->version, v) != 0) {
                log_error("no Python %s found (%s is Python %s; use --python PATH or another version)", v, exe,
                          (*ret)->version);
                interp_info_free(*ret);
                *ret = NULL;
                return -ENOENT;
        }
        if (r < 0) {
                /* r itself: clang-tidy does not follow log_interp_error() to see that it returns r */
                (void) log_interp_error(r, spec ? spec : exe);
                return r;
        }
        return 0;
}

/* pyvenv.cfg's executable, else where bin/python leads, else home/python3:
 * that covers envs made by vrun, venv and virtualenv, and a base that was
 * upgraded in place. An interpreter inside the env itself is refused
 * (-EPERM): vrun runs the base outside any sandbox to learn its facts, and
 * a previous payload could have planted one there. */
int venv_base_interpreter(const char *env_abs, const PyvenvCfg *cfg, char **ret) {
        _cleanup_free_ char *found = NULL, *link = path_join(env_abs, "bin/python");
        if (!link)
                return -ENOMEM;
        if (!cfg->executable || interp_find(cfg->executable, &found) < 0) {
                _cleanup_free_ char *real = realpath(link, NULL);
                if (!real || path_startswith(real, env_abs) || interp_find(real, &found) < 0) {
                        _cleanup_free_ char *py = cfg->home ? path_join(cfg->home, "python3") : NULL;
                        if (cfg->home && !py)
                                return -ENOMEM;
                        if (!py || interp_find(py, &found) < 0)
                                return -ENOENT;
                }
        }
        if (path_startswith(found, env_abs))
                return -EPERM;
        *ret = TAKE_PTR(found);
        return 0;
}

/* What makes later runs use this base, whatever the env says then. */
static int record_env(const char *env_abs, int env_fd, const InterpInfo *i) {
        int r = trust_record(env_abs, env_fd, i, true);
        if (r < 0)
                return log_error_errno(r,
                                       "cannot record venv '%s' in vrun's state dir: %m (set XDG_STATE_HOME "
                                       "to a writable directory)",
                                       env_abs);
        return 0;
}

static int venv_upgrade(const char *env_abs, const CreateOptions *o, const char *command) {
        _cleanup_close_ int env_fd = open(env_abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (env_fd < 0)
                return log_error_errno(errno, "cannot open venv '%s': %m", env_abs);
        _cleanup_pyvenv_cfg_ PyvenvCfg *cfg = NULL;
        int r = pyvenv_cfg_read_at(env_fd, "pyvenv.cfg", &cfg);
        if (r < 0)
                return log_error_errno(r, "cannot read %s/pyvenv.cfg: %m (use --clear to rebuild the venv)", env_abs);

        /* The base vrun recorded for the env, not what the env (which a
         * program run in it could have rewritten) names now; an env vrun
         * has no record of is taken as it is. The base may have been
         * upgraded in place or removed. */
        _cleanup_interp_info_ InterpInfo *i = NULL;
        if (o->python)
                r = venv_load_interp(o->python, &i);
        else {
                /* --upgrade is how an env is trusted again: one that changed
                 * or whose record cannot be read is upgraded all the same. */
                _cleanup_(venv_base_done) VenvBase base = {};
                r = venv_find_base(env_abs, env_fd, cfg, VENV_BASE_ALLOW_CHANGED | VENV_BASE_UNREADABLE_IS_NEW, &base);
                const char *named = base.record.base  ? base.record.base
                                    : cfg->executable ? cfg->executable
                                    : cfg->home       ? cfg->home
                                                      : "unknown";
                /* Gone, or there but unusable: say which. */
                int why = r == -ENOENT ? venv_base_problem(named) : r;
                if (why == -ENOENT)
                        return log_error_errno(r,
                                               "cannot upgrade '%s': its base interpreter (%s) is gone; "
                                               "use --python to choose a new one",
                                               env_abs, named);
                if (r < 0 && base.step == VENV_BASE_QUERY)
                        return log_error_errno(r,
                                               "cannot upgrade '%s': its base interpreter (%s) does not answer "
                                               "as a Python interpreter: %m; use --python to choose a new one",
                                               env_abs, named);
                if (r < 0)
                        return log_error_errno(why,
                                               "cannot upgrade '%s': its base interpreter (%s) cannot be used: %m; "
                                               "use --python to choose a new one",
                                               env_abs, named);
                i = TAKE_PTR(base.info);
        }
        if (r < 0)
                return r;

        Layout l;
        layout_init(&l, i);
        const char *dirs[] = { "bin", "include", "lib", l.lib, l.site, i->version_minor >= 11 ? l.inc : NULL };
        for (size_t k = 0; k < ELEMENTSOF(dirs); k++)
                if (dirs[k] && (r = mkdirat_ok(env_fd, dirs[k])) < 0)
                        return log_error_errno(r, "cannot create %s/%s: %m", env_abs, dirs[k]);
        if (i->is_64bit && (r = symlink_replace_at("lib", env_fd, "lib64")) < 0)
                return log_error_errno(r, "cannot create %s/lib64: %m", env_abs);
        r = make_interpreter_links(env_fd, i, &l, o->copies, true);
        if (r < 0)
                return log_error_errno(r, "cannot link the interpreter into %s/bin: %m", env_abs);

        if (o->prompt) {
                free(cfg->prompt);
                _cleanup_free_ char *cwdbuf = NULL;
                cfg->prompt = strdup(default_prompt(env_abs, o->prompt, &cwdbuf));
                if (!cfg->prompt)
                        return log_error_errno(ENOMEM, "out of memory");
        }
        if (o->system_site_packages)
                cfg->include_system_site_packages = true;
        r = fill_cfg(cfg, i, command);
        if (r >= 0)
                r = write_cfg(env_fd, cfg, true);
        if (r < 0)
                return log_error_errno(r, "cannot write %s/pyvenv.cfg: %m", env_abs);

        _cleanup_close_ int bin = openat(env_fd, "bin", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (bin < 0)
                return log_error_errno(errno, "cannot open %s/bin: %m", env_abs);
        static const char *scripts[] = { "activate", "activate.csh", "activate.fish", "Activate.ps1" };
        for (size_t k = 0; k < ELEMENTSOF(scripts); k++)
                (void) unlinkat(bin, scripts[k], 0);
        r = activate_write_scripts(bin, env_abs, cfg->prompt ? cfg->prompt : path_basename(env_abs), true);
        if (r < 0)
                return log_error_errno(r, "cannot write the activate scripts of %s: %m", env_abs);
        return record_env(env_abs, env_fd, i);
}

/* `vrun create ENV` where ENV is a venv already: what `python -m venv` and
 * `uv venv` do, a refresh that keeps the installed packages. Another Python
 * version would leave them behind in lib/python3.X: that takes --clear or
 * --upgrade, which say so. */
static int venv_update(const char *env, const char *env_abs, const CreateOptions *o, const char *command) {
        if (o->python) {
                _cleanup_free_ char *file = path_join(env_abs, "pyvenv.cfg");
                _cleanup_pyvenv_cfg_ PyvenvCfg *cfg = NULL;
                _cleanup_interp_info_ InterpInfo *i = NULL;
                if (!file)
                        return log_error_errno(ENOMEM, "out of memory");
                int r = pyvenv_cfg_read_at(AT_FDCWD, file, &cfg);
                if (r < 0)
                        return log_error_errno(r, "cannot read %s: %m (use --clear to rebuild the venv)", file);
                if ((r = venv_load_interp(o->python, &i)) < 0)
                        return r;
                char want[32];
                snprintf(want, sizeof want, "%d.%d", i->version_major, i->version_minor);
                size_t wl = strlen(want);
                const char *have = cfg->version ? cfg->version : "";
                if (strncmp(have, want, wl) != 0 || (have[wl] != 0 && have[wl] != '.'))
                        return log_error_errno(EEXIST,
                                               "cannot create venv '%s': it exists and is a Python %s env, "
                                               "but --python %s is Python %s (use --clear to rebuild it, "
                                               "or --upgrade to move it and its packages' directory)",
                                               env, *have ? have : "(unknown version)", o->python, i->version);
        }
        int r = venv_upgrade(env_abs, o, command);
        if (r < 0 || o->without_pip)
                return r;

        /* venv seeds pip again when it is missing (a --without-pip env). */
        _cleanup_close_ int env_fd = open(env_abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_interp_info_ InterpInfo *i = NULL;
        if (env_fd < 0)
                return log_error_errno(errno, "cannot open venv '%s': %m", env);
        _cleanup_free_ char *file = path_join(env_abs, "pyvenv.cfg"), *exe = NULL;
        _cleanup_pyvenv_cfg_ PyvenvCfg *cfg = NULL;
        if (!file)
                return log_error_errno(ENOMEM, "out of memory");
        if ((r = pyvenv_cfg_read_at(AT_FDCWD, file, &cfg)) < 0 || (r = venv_base_interpreter(env_abs, cfg, &exe)) < 0 ||
            (r = interp_load(exe, &i)) < 0)
                return log_error_errno(r, "cannot read back venv '%s': %m", env);
        Layout l;
        layout_init(&l, i);
        char pip[128];
        snprintf(pip, sizeof pip, "%s/pip", l.site);
        if (faccessat(env_fd, pip, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || !i->seed_wheels || !i->seed_wheels[0])
                return 0;
        return seed_pip(env_fd, env_abs, i, &l);
}

int venv_create(const char *env, const CreateOptions *o, const char *command) {
        _cleanup_free_ char *abs = NULL, *parent = NULL;
        int r = path_make_absolute(env, &abs);
        if (r == -ENAMETOOLONG || (r >= 0 && strlen(abs) > VENV_PATH_MAX))
                return log_error_errno(ENAMETOOLONG,
                                       "cannot create venv: the path is too long (%zu bytes, "
                                       "at most %d)",
                                       strlen(abs ? abs : env), VENV_PATH_MAX);
        for (const char *c = abs; r >= 0 && *c;) {
                const char *e = strchrnul(c + 1, '/');
                if (e - c - 1 > 255)
                        return log_error_errno(ENAMETOOLONG,
                                               "cannot create venv: a path component is too long "
                                               "(%td bytes, at most 255)",
                                               e - c - 1);
                c = e;
        }
        if (r < 0)
                return log_error_errno(r, "cannot create venv '%s': %m", env);
        if (has_control_chars(abs))
                return log_error_errno(EINVAL, "cannot create venv: the path contains a newline or control "
                                               "character (choose a plain path)");
        if (strcmp(abs, "/") == 0)
                return log_error_errno(EINVAL, "cannot create a venv at '/'");
        if (strchr(abs, ':'))
                return log_error_errno(EINVAL,
                                       "cannot create venv '%s': the path contains ':', the PATH separator, "
                                       "which would break PATH inside it (python -m venv refuses it too; "
                                       "choose another path)",
                                       env);
        if (o->prompt && has_control_chars(o->prompt))
                return log_error_errno(EINVAL, "--prompt contains a newline or control character");

        const char *name = path_basename(abs);
        parent = path_dirname(abs);
        if (!parent)
                return log_error_errno(ENOMEM, "out of memory");

        struct stat st;
        bool exists = false, replace = false;
        if (lstat(abs, &st) == 0) {
                if (!S_ISDIR(st.st_mode))
                        return log_error_errno(EEXIST,
                                               "cannot create venv '%s': a %s of that name exists "
                                               "(remove it or choose another path)",
                                               env, S_ISLNK(st.st_mode) ? "symlink" : "file");
                int is_venv = venv_exists(abs);
                if (o->upgrade) {
                        if (is_venv <= 0)
                                return log_error_errno(ENOENT,
                                                       "cannot upgrade '%s': it is not a venv "
                                                       "(no pyvenv.cfg)",
                                                       env);
                        return venv_upgrade(abs, o, command);
                }
                int empty = dir_is_empty_at(AT_FDCWD, abs);
                if (empty < 0)
                        return log_error_errno(empty, "cannot create venv '%s': %m", env);
                if (!empty) {
                        if (is_venv <= 0)
                                return log_error_errno(EEXIST,
                                                       "cannot create venv '%s': the directory exists, "
                                                       "is not empty and is not a venv (choose another path)",
                                                       env);
                        if (!o->clear)
                                return venv_update(env, abs, o, command);
                        replace = true;
                }
                exists = true;
        } else if (errno != ENOENT)
                return log_error_errno(errno, "cannot create venv '%s': %m", env);
        else if (o->upgrade)
                return log_error_errno(ENOENT,
                                       "cannot upgrade '%s': it does not exist (drop --upgrade "
                                       "to create it)",
                                       env);

        _cleanup_interp_info_ InterpInfo *interp = NULL;
        r = venv_load_interp(o->python, &interp);
        if (r < 0)
                return r;

        r = mkdir_p(parent, 0755);
        if (r < 0)
                return log_error_errno(r, "cannot create venv '%s': cannot create %s: %m", env, parent);
        _cleanup_close_ int parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent_fd < 0)
                return log_error_errno(errno, "cannot create venv '%s': cannot open %s: %m", env, parent);

        /* An existing empty dir (the cwd of `vrun create .`, a mount point)
         * keeps its inode, mode and mount: the env is built inside it and
         * moved up entry by entry, pyvenv.cfg last. A venv that is a mount
         * point cannot be swapped by rename: --clear empties it first. */
        bool into = exists && !replace;
        _cleanup_close_ int target_fd = -1;
        if (exists) {
                target_fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                struct stat pst, tst;
                if (target_fd < 0 || fstat(target_fd, &tst) < 0 || fstat(parent_fd, &pst) < 0)
                        return log_error_errno(errno, "cannot open '%s': %m", env);
                if (replace && tst.st_dev != pst.st_dev) {
                        r = clear_dir(target_fd);
                        if (r < 0)
                                return log_error_errno(r, "cannot clear '%s': %m", env);
                        into = true;
                        replace = false;
                }
        }
        int build_in_fd = into ? target_fd : parent_fd;
        const char *build_in = into ? abs : parent;

        sweep_stale(build_in_fd);

        /* The watchdog exists before the temporary dir does, so no instant
         * of the create can be killed without the dir being cleaned up. */
        char tmp[96];
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        snprintf(tmp, sizeof tmp, TMP_PREFIX "%ld-%lld%09ld", (long) getpid(), (long long) now.tv_sec, now.tv_nsec);
        Watchdog wd = {};
        r = watchdog_start(build_in, tmp, into ? abs : NULL, &wd);
        if (r < 0)
                return log_error_errno(r, "cannot create venv '%s': fork: %m", env);
        if (mkdirat(build_in_fd, tmp, 0755) < 0) {
                r = log_error_errno(errno,
                                    "cannot create venv '%s': %s is not writable: %m "
                                    "(choose a directory you can write to)",
                                    env, build_in);
                watchdog_finish(&wd, false);
                return r;
        }
        _cleanup_close_ int tmp_fd = openat(build_in_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tmp_fd < 0 || flock(tmp_fd, LOCK_EX) < 0) {
                r = log_error_errno(errno, "cannot open %s/%s: %m", build_in, tmp);
                rm_rf_at(build_in_fd, tmp);
                watchdog_finish(&wd, false);
                return r;
        }

        r = build_tree(tmp_fd, abs, interp, o, command);
        if (r >= 0 && !into) {
                unsigned flags = replace ? RENAME_EXCHANGE : RENAME_NOREPLACE;
                int k = renameat2(parent_fd, tmp, parent_fd, name, flags) < 0 ? negative_errno() : 0;
                /* Another create of the same env won the race (parallel first
                 * runs): its env is complete, since it was renamed into place
                 * whole, and it is the one everybody uses. */
                if ((k == -EEXIST || k == -ENOTEMPTY) && !replace && venv_exists(abs) > 0) {
                        k = 0;
                        rm_rf_at(parent_fd, tmp);
                } else if (k == 0 && replace)
                        rm_rf_at(parent_fd, tmp); /* tmp now holds the old env */
                errno = -k;
                if (k < 0)
                        r = log_error_errno(errno,
                                            errno == EEXIST || errno == ENOTEMPTY
                                                    ? "cannot create venv '%s': it appeared while vrun "
                                                      "was building it"
                                                    : "cannot move the new venv into place at '%s': %m",
                                            env);
        }
        if (r >= 0 && into && (r = commit_into(tmp_fd, target_fd)) < 0) {
                r = log_error_errno(r, "cannot move the new venv into '%s': %m", env);
                rm_rf_at(build_in_fd, tmp);
                undo_partial_commit(abs);
        }
        if (r < 0 || into)
                rm_rf_at(build_in_fd, tmp);
        watchdog_finish(&wd, r >= 0);
        if (r < 0)
                return r;
        _cleanup_close_ int env_fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (env_fd < 0)
                return log_error_errno(errno, "cannot open the new venv '%s': %m", env);
        return record_env(abs, env_fd, interp);
}
