/* vrun shell: the user's own shell inside the sandbox of `vrun run`,
 * activated as `. ENV/bin/activate` would activate it, where `exit` and
 * `deactivate` leave the env and the sandbox together.
 *
 * Interactive shells set their prompt in startup files that run after the
 * environment is read, so the "(ENV) " prefix and `deactivate` must come from
 * code the shell runs after the user's own startup files:
 *   bash  --rcfile FILE: FILE sources ~/.bashrc, then activates;
 *   zsh   ZDOTDIR=DIR: DIR/.zshenv and DIR/.zshrc put ZDOTDIR back, source
 *         the user's files, then activate (there is no zsh option that runs
 *         code after .zshrc);
 *   fish  --init-command CODE, which fish runs after config.fish: no file;
 *   sh    ENV=FILE, the file a POSIX shell reads when interactive (dash reads
 *         no other startup file then);
 *   tcsh  HOME=DIR: DIR/.tcshrc puts HOME back, sources the user's
 *         ~/.tcshrc (or ~/.cshrc), then the env's bin/activate.csh.
 * A Ctrl-C while the user's files run (a slow .bashrc) interrupts them but
 * not the activation that follows: SIGINT is trapped around them.
 * The files live in a private directory vrun makes outside, bound read-only
 * into the sandbox at the same path and removed when the shell exits. Every
 * value in them is single-quoted, and the prompt is escaped for the prompt
 * expansion of the running shell, so nothing in a path or prompt runs. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strv.h"
#include "vrun/venv/activate.h"
#include "util/log.h"
#include "vrun/venv/pyvenv.h"
#include "vrun/verbs/run.h"
#include "vrun/verbs/verbs.h"
#include "vrun/exit.h"

typedef enum ShellKind { SHELL_BASH, SHELL_ZSH, SHELL_FISH, SHELL_POSIX, SHELL_CSH, SHELL_OTHER } ShellKind;

static ShellKind shell_kind(const char *path) {
        static const char *const posix[] = { "sh", "dash", "ash", "ksh", "ksh93", "mksh", "lksh", "posh", "yash" };
        const char *slash = strrchr(path, '/');
        const char *name = slash ? slash + 1 : path;
        if (strcmp(name, "bash") == 0)
                return SHELL_BASH;
        if (strcmp(name, "zsh") == 0)
                return SHELL_ZSH;
        if (strcmp(name, "fish") == 0)
                return SHELL_FISH;
        if (strcmp(name, "tcsh") == 0 || strcmp(name, "csh") == 0)
                return SHELL_CSH;
        for (size_t i = 0; i < ELEMENTSOF(posix); i++)
                if (strcmp(name, posix[i]) == 0)
                        return SHELL_POSIX;
        return SHELL_OTHER;
}

/* pyvenv.cfg's prompt, else the env directory's name (what `vrun create`
 * and venv show), and the env's Python minor version (3.X: X, or -1). An
 * env that cannot be read is reported by run_main. */
static char *env_prompt(const char *env_abs, int *ret_minor) {
        _cleanup_pyvenv_cfg_ PyvenvCfg *cfg = NULL;
        _cleanup_free_ char *file = path_join(env_abs, "pyvenv.cfg");
        *ret_minor = -1;
        if (!file || pyvenv_cfg_read_at(AT_FDCWD, file, &cfg) < 0)
                return strdup(path_basename(env_abs));
        if (cfg->version && strncmp(cfg->version, "3.", 2) == 0)
                *ret_minor = (int) strtol(cfg->version + 2, NULL, 10);
        if (cfg->prompt && *cfg->prompt)
                return strdup(cfg->prompt);
        return strdup(path_basename(env_abs));
}

/* VIRTUAL_ENV_PROMPT as venv's activate of that Python sets it: not at all
 * before 3.10; "(ENV) " with the prompt shown, from 3.10 to 3.12; "ENV"
 * from 3.13 on (an unknown version counts as the newest). NULL: unset. */
static char *venv_prompt_var(const char *prompt, int minor, bool prompt_disabled) {
        char *s = NULL;
        if (minor >= 0 && minor < 10)
                return NULL;
        if (minor >= 10 && minor <= 12)
                return prompt_disabled || asprintf(&s, "(%s) ", prompt) < 0 ? NULL : s;
        return strdup(prompt);
}

/* The startup files' directory is named in ENV, which dash expands before
 * reading it: only a parent made of plain characters is used. */
static bool plain_dir(const char *s) {
        if (!s || s[0] != '/' || strlen(s) > 512 || strstr(s, "/.."))
                return false;
        for (const char *p = s; *p; p++)
                if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
                      strchr("/._-+", *p)))
                        return false;
        struct stat st;
        return stat(s, &st) == 0 && S_ISDIR(st.st_mode) && access(s, W_OK | X_OK) == 0;
}

static const char *scratch_parent(void) {
        const char *c[] = { getenv("XDG_RUNTIME_DIR"), getenv("TMPDIR") };
        for (size_t i = 0; i < ELEMENTSOF(c); i++)
                if (plain_dir(c[i]))
                        return c[i];
        return "/tmp";
}

/* What bash, zsh and sh run after the user's startup files. */
static char *activation_sh(const char *q_env, const char *q_prompt, const char *q_prompt_var) {
        char *s = NULL;
        _cleanup_free_ char *final = NULL;
        if (q_prompt_var ? asprintf(&final, "VIRTUAL_ENV_PROMPT=%s\n", q_prompt_var) < 0
                         : !(final = strdup("unset VIRTUAL_ENV_PROMPT\n")))
                return NULL;
        if (asprintf(&s,
                     "VIRTUAL_ENV=%s\n"
                     "VIRTUAL_ENV_PROMPT=%s\n"
                     "export VIRTUAL_ENV VIRTUAL_ENV_PROMPT\n"
                     "# The startup files may have put other directories first.\n"
                     "case ${PATH-} in\n"
                     "\"$VIRTUAL_ENV/bin\" | \"$VIRTUAL_ENV/bin\":*) ;;\n"
                     "*) PATH=$VIRTUAL_ENV/bin${PATH:+:$PATH}; export PATH ;;\n"
                     "esac\n"
                     "\n"
                     "# Leaving the env means leaving the sandbox. An activate script sourced\n"
                     "# in here first calls \"deactivate nondestructive\" to undo an earlier\n"
                     "# activation: there is none to undo.\n"
                     "deactivate () {\n"
                     "    _vrun_status=$?\n"
                     "    if [ \"${1:-}\" = nondestructive ]; then return 0; fi\n"
                     "    exit \"$_vrun_status\"\n"
                     "}\n"
                     "\n"
                     "%s"
                     "\n"
                     "if [ -z \"${VIRTUAL_ENV_DISABLE_PROMPT:-}\" ]; then\n"
                     "    PS1=\"($(_vrun_prompt_escaped)) ${PS1-}\"\n"
                     "fi\n"
                     "unset -f _vrun_prompt_escaped\n"
                     "# As venv's activate of this Python sets it.\n"
                     "%s",
                     q_env, q_prompt, activate_prompt_escaped_sh, final) < 0)
                return NULL;
        return s;
}

static const char rc_header[] = "# Written by `vrun shell` for one session and removed when it ends.\n";

static const char bashrc_user[] = "# bash reads this file instead of ~/.bashrc: that comes first.\n"
                                  "trap : INT\n"
                                  "if [ -f ~/.bashrc ]; then . ~/.bashrc; fi\n"
                                  "trap - INT\n"
                                  "\n";

/* zsh found this file because vrun pointed ZDOTDIR here; the user's own
 * files are read from where zsh would have found them. ZDOTDIR points here
 * again only until .zshrc, which zsh reads next from here. */
static const char zshenv[] = "_vrun_zdotdir=$ZDOTDIR\n"
                             "unset ZDOTDIR\n"
                             "if [[ -f $HOME/.zshenv ]]; then source $HOME/.zshenv; fi\n"
                             "# It may have set ZDOTDIR, for .zshrc to find the user's files.\n"
                             "_vrun_user_zdotdir=${ZDOTDIR-}\n"
                             "_vrun_user_zdotdir_set=${ZDOTDIR+x}\n"
                             "ZDOTDIR=$_vrun_zdotdir\n"
                             "unset _vrun_zdotdir\n";

static const char zshrc_user[] =
        "if [[ -n $_vrun_user_zdotdir_set ]]; then ZDOTDIR=$_vrun_user_zdotdir; else unset ZDOTDIR; fi\n"
        "unset _vrun_user_zdotdir _vrun_user_zdotdir_set\n"
        "trap : INT\n"
        "if [[ -f ${ZDOTDIR:-$HOME}/.zshrc ]]; then source ${ZDOTDIR:-$HOME}/.zshrc; fi\n"
        "trap - INT\n"
        "\n";

static const char shrc_user[] = "# Read through $ENV, which nested shells should not inherit.\n"
                                "unset ENV\n"
                                "\n";

/* tcsh found this file because vrun pointed HOME here. */
static char *tcshrc(const char *env_abs, const char *home) {
        _cleanup_free_ char *q_home = shell_quote_csh(home), *act = path_join(env_abs, "bin/activate.csh"),
                            *q_act = NULL;
        if (!q_home || !act || !(q_act = shell_quote_csh(act)))
                return NULL;
        char *s = NULL;
        if (asprintf(&s,
                     "%s"
                     "setenv HOME %s\n"
                     "set home = \"$HOME\"\n"
                     "if ( -f ~/.tcshrc ) then\n"
                     "    source ~/.tcshrc\n"
                     "else if ( -f ~/.cshrc ) then\n"
                     "    source ~/.cshrc\n"
                     "endif\n"
                     "source %s\n"
                     "# Leaving the env means leaving the sandbox.\n"
                     "alias deactivate exit\n",
                     rc_header, q_home, q_act) < 0)
                return NULL;
        return s;
}

static char *fish_init(const char *env_abs, const char *prompt) {
        _cleanup_free_ char *prefix = NULL;
        if (asprintf(&prefix, "(%s) ", prompt) < 0)
                return NULL;
        _cleanup_free_ char *q_env = shell_quote_fish(env_abs), *q_prompt = shell_quote_fish(prompt),
                            *q_prefix = shell_quote_fish(prefix);
        if (!q_env || !q_prompt || !q_prefix)
                return NULL;
        char *s = NULL;
        if (asprintf(&s,
                     "set -gx VIRTUAL_ENV %s\n"
                     "set -gx VIRTUAL_ENV_PROMPT %s\n"
                     "# config.fish may have put other directories first.\n"
                     "if test \"$PATH[1]\" != \"$VIRTUAL_ENV/bin\"\n"
                     "    set -gx PATH \"$VIRTUAL_ENV/bin\" $PATH\n"
                     "end\n"
                     "function deactivate --description 'Leave the env and its sandbox'\n"
                     "    set -l last_status $status\n"
                     "    if test \"$argv[1]\" = nondestructive\n"
                     "        return 0\n"
                     "    end\n"
                     "    exit $last_status\n"
                     "end\n"
                     "if test -z \"$VIRTUAL_ENV_DISABLE_PROMPT\"; and functions -q fish_prompt\n"
                     "    functions -c fish_prompt _vrun_old_fish_prompt\n"
                     "    function _vrun_return\n"
                     "        return $argv[1]\n"
                     "    end\n"
                     "    function fish_prompt\n"
                     "        set -l last_status $status\n"
                     "        printf '%%s' %s\n"
                     "        _vrun_return $last_status\n"
                     "        _vrun_old_fish_prompt\n"
                     "    end\n"
                     "end\n",
                     q_env, q_prompt, q_prefix) < 0)
                return NULL;
        return s;
}

static int write_rc(int dir_fd, const char *name, const char *user_part, const char *activation) {
        _cleanup_free_ char *text = NULL;
        if (asprintf(&text, "%s%s%s", rc_header, user_part, activation) < 0)
                return -ENOMEM;
        return write_file_at(dir_fd, name, text, strlen(text), 0600, 0);
}

#define SHELL_DIR_PREFIX "vrun-shell-"

/* vrun-shell-PID-XXXXXX of a vrun that is gone (killed before it could
 * remove it). */
static bool shell_dir_abandoned(int dir_fd, const char *name) {
        char *end;
        long pid = strtol(name + STRLEN(SHELL_DIR_PREFIX), &end, 10);
        return pid > 0 && *end == '-' && kill((pid_t) pid, 0) < 0 && errno == ESRCH;
}

/* The startup files for kind in a new private directory; ret_dir is set
 * even on failure once the directory exists, for the caller to remove. */
static int make_startup_files(ShellKind kind, const char *env_abs, const char *prompt, const char *prompt_var,
                              char **ret_dir) {
        _cleanup_free_ char *q_env = shell_quote_posix(env_abs), *q_prompt = shell_quote_posix(prompt),
                            *q_prompt_var = prompt_var ? shell_quote_posix(prompt_var) : NULL;
        if (!q_env || !q_prompt || (prompt_var && !q_prompt_var))
                return -ENOMEM;
        _cleanup_free_ char *activation = activation_sh(q_env, q_prompt, q_prompt_var);
        if (!activation)
                return -ENOMEM;
        const char *parent = scratch_parent();
        _cleanup_close_ int parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent_fd >= 0)
                sweep_stale_dirs_at(parent_fd, SHELL_DIR_PREFIX, 60, shell_dir_abandoned);
        char *dir = NULL;
        if (asprintf(&dir, "%s/" SHELL_DIR_PREFIX "%ld-XXXXXX", parent, (long) getpid()) < 0)
                return -ENOMEM;
        if (!mkdtemp(dir)) {
                int r = negative_errno();
                free(dir);
                return r;
        }
        *ret_dir = dir;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        switch (kind) {
        case SHELL_BASH: return write_rc(fd, "bashrc", bashrc_user, activation);
        case SHELL_ZSH: {
                int r = write_rc(fd, ".zshenv", zshenv, "");
                return r < 0 ? r : write_rc(fd, ".zshrc", zshrc_user, activation);
        }
        case SHELL_POSIX: return write_rc(fd, "shrc", shrc_user, activation);
        case SHELL_CSH: {
                const char *home = getenv("HOME");
                _cleanup_free_ char *rc = tcshrc(env_abs, home && *home ? home : "/");
                return rc ? write_file_at(fd, ".tcshrc", rc, strlen(rc), 0600, 0) : -ENOMEM;
        }
        default: return 0;
        }
}

static int push(char ***v, size_t *n, const char *s) {
        char **l = realloc(*v, (*n + 2) * sizeof *l);
        if (!l)
                return -ENOMEM;
        l[(*n)++] = (char *) s;
        l[*n] = NULL;
        *v = l;
        return 0;
}

/* The command line of `vrun run` that starts sh, with the startup files in
 * dir (NULL for fish and unknown shells) bound read-only at the same path:
 * c's own, plus what the shell needs. */
typedef struct ShellCli {
        Cli cli;
        char *rcfile, *code, *kv_prompt, *kv_disable, *kv_mech;
        char **argv, **setenv; /* the strings belong to the fields above or to c */
        BindSpec *binds;
} ShellCli;

static void shell_cli_done(ShellCli *s) {
        free(s->rcfile);
        free(s->code);
        free(s->kv_prompt);
        free(s->kv_disable);
        free(s->kv_mech);
        free(s->argv);
        free(s->setenv);
        free(s->binds);
        *s = (ShellCli){};
}

static int shell_cli_build(const Cli *c, ShellKind kind, const char *sh, const char *env_abs, const char *prompt,
                           const char *prompt_var, const char *dir, ShellCli *s) {
        size_t n_argv = 0, n_setenv = 0;

        if (push(&s->argv, &n_argv, sh) < 0)
                return -ENOMEM;
        if (kind == SHELL_BASH) {
                if (!(s->rcfile = path_join(dir, "bashrc")) || push(&s->argv, &n_argv, "--rcfile") < 0 ||
                    push(&s->argv, &n_argv, s->rcfile) < 0)
                        return -ENOMEM;
        } else if (kind == SHELL_FISH) {
                if (!(s->code = fish_init(env_abs, prompt)) || push(&s->argv, &n_argv, "--init-command") < 0 ||
                    push(&s->argv, &n_argv, s->code) < 0)
                        return -ENOMEM;
        }

        /* The user's --setenv first: what makes the shell read its startup
         * files must win. */
        STRV_FOREACH (e, c->run.setenv)
                if (push(&s->setenv, &n_setenv, *e) < 0)
                        return -ENOMEM;
        /* Set before the startup files run, for prompts that show the env
         * themselves (starship, powerlevel10k). */
        if (prompt_var && (asprintf(&s->kv_prompt, "VIRTUAL_ENV_PROMPT=%s", prompt_var) < 0 ||
                           push(&s->setenv, &n_setenv, s->kv_prompt) < 0))
                return -ENOMEM;
        const char *disable = getenv("VIRTUAL_ENV_DISABLE_PROMPT");
        if (disable && *disable &&
            (asprintf(&s->kv_disable, "VIRTUAL_ENV_DISABLE_PROMPT=%s", disable) < 0 ||
             push(&s->setenv, &n_setenv, s->kv_disable) < 0))
                return -ENOMEM;
        if (kind == SHELL_ZSH &&
            (asprintf(&s->kv_mech, "ZDOTDIR=%s", dir) < 0 || push(&s->setenv, &n_setenv, s->kv_mech) < 0))
                return -ENOMEM;
        if (kind == SHELL_POSIX &&
            (asprintf(&s->kv_mech, "ENV=%s/shrc", dir) < 0 || push(&s->setenv, &n_setenv, s->kv_mech) < 0))
                return -ENOMEM;
        if (kind == SHELL_CSH &&
            (asprintf(&s->kv_mech, "HOME=%s", dir) < 0 || push(&s->setenv, &n_setenv, s->kv_mech) < 0))
                return -ENOMEM;

        size_t n_binds = c->run.n_binds + (dir ? 1 : 0);
        if (!(s->binds = calloc(n_binds ? n_binds : 1, sizeof *s->binds)))
                return -ENOMEM;
        if (c->run.n_binds)
                memcpy(s->binds, c->run.binds, c->run.n_binds * sizeof *s->binds);
        if (dir)
                s->binds[c->run.n_binds] = (BindSpec){ .kind = BIND_RO, .src = (char *) dir, .dst = (char *) dir };

        s->cli = *c;
        s->cli.argv = s->argv;
        s->cli.run.setenv = s->setenv;
        s->cli.run.binds = s->binds;
        s->cli.run.n_binds = n_binds;
        s->cli.run.foreground_job = true;
        return 0;
}

int shell_main(const Cli *c) {
        /* Without a terminal there is nobody to show a prompt to: the shell
         * reads its commands like `vrun run ENV $SHELL`. */
        if (!isatty(STDIN_FILENO))
                return run_main(c);

        const char *sh = getenv("SHELL");
        if (!sh || sh[0] != '/')
                sh = "/bin/sh";
        _cleanup_free_ char *env_abs = NULL;
        if (path_make_absolute(c->env, &env_abs) < 0)
                return run_main(c); /* which says what is wrong with ENV */
        int minor;
        _cleanup_free_ char *prompt = env_prompt(env_abs, &minor);
        const char *disable = getenv("VIRTUAL_ENV_DISABLE_PROMPT");
        _cleanup_free_ char *prompt_var = prompt ? venv_prompt_var(prompt, minor, disable && *disable) : NULL;
        if (!prompt) {
                log_error("out of memory");
                return EXIT_SETUP;
        }

        ShellKind kind = shell_kind(sh);
        _cleanup_free_ char *dir = NULL;
        _cleanup_(shell_cli_done) ShellCli shell = {};
        int r = 0, status;
        if (kind != SHELL_FISH && kind != SHELL_OTHER)
                r = make_startup_files(kind, env_abs, prompt, prompt_var, &dir);
        if (r < 0) {
                log_error_errno(r, "cannot write the shell's startup files%s%s: %m", dir ? " in " : "", dir ? dir : "");
                status = EXIT_SETUP;
        } else if ((r = shell_cli_build(c, kind, sh, env_abs, prompt, prompt_var, dir, &shell)) < 0) {
                log_error_errno(r, "cannot start the shell: %m");
                status = EXIT_SETUP;
        } else
                status = run_main(&shell.cli);
        if (dir && (r = rm_rf_at(AT_FDCWD, dir)) < 0)
                log_warning_errno(r, "cannot remove %s: %m", dir);
        return status;
}
