/* The activate scripts of a venv (bash/zsh, csh, fish, PowerShell). Every
 * value taken from the user (env path, prompt) is quoted for the target shell,
 * so a path holding spaces, quotes, '$', backticks or ';' is data, never code. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Writes activate, activate.csh, activate.fish and Activate.ps1 into the
 * directory bin_fd. env_dir is the env's final absolute path; prompt is shown
 * as "(prompt) ". replace: the scripts may exist and are replaced atomically
 * (an env in use); otherwise bin_fd is a new tree nobody sees yet, and they
 * are created there directly. Returns -errno. */
int activate_write_scripts(int bin_fd, const char *env_dir, const char *prompt, bool replace);

/* The same scripts in memory, as activate_write_scripts() would write them
 * (what `vrun verify` compares an env's scripts with). */
#define ACTIVATE_N_SCRIPTS 4
typedef struct ActivateScript {
        const char *name; /* "activate", ... (static) */
        char *text;
        size_t len;
} ActivateScript;
int activate_render_scripts(const char *env_dir, const char *prompt, ActivateScript ret[ACTIVATE_N_SCRIPTS]);
void activate_scripts_done(ActivateScript s[ACTIVATE_N_SCRIPTS]);

/* The definition of the POSIX shell function _vrun_prompt_escaped, which
 * prints $VIRTUAL_ENV_PROMPT escaped for the PS1 expansion of the shell that
 * runs it (bash, zsh, dash, ksh), so that nothing in it is ever run. activate
 * and the startup files of `vrun shell` define it. */
extern const char activate_prompt_escaped_sh[];

/* Quoting used by the scripts; exposed for the unit tests. Return a newly
 * allocated string or NULL on ENOMEM. */
char *shell_quote_posix(const char *s);
char *shell_quote_csh(const char *s);
char *shell_quote_fish(const char *s);
char *shell_quote_powershell(const char *s);
