#include "vrun/venv/activate.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/memstream.h"
#include "util/path.h"

/* The scripts are templates: @VIRTUAL_ENV@, @VIRTUAL_ENV_PROMPT@ and
 * @PROMPT_PREFIX@ ("(prompt) " as the shell's prompt should show it) are
 * replaced by values already quoted for that shell. */

/* _vrun_prompt_escaped, shared by activate and the startup files of `vrun
 * shell` (see activate.h). */
#define PROMPT_ESCAPED_SH                                                                  \
        "# Prints VIRTUAL_ENV_PROMPT escaped for the prompt expansion this shell will\n"   \
        "# do on PS1, so that a \"$(...)\", backslash, \"%\" or \"!\" in it is shown as\n" \
        "# written and never run or interpreted.\n"                                        \
        "_vrun_prompt_escaped () {\n"                                                      \
        "    local decode= subst= bang= percent= rest=\"$VIRTUAL_ENV_PROMPT\" out= c\n"    \
        "    if [ -n \"${ZSH_VERSION:-}\" ]; then\n"                                       \
        "        if [[ -o promptsubst ]]; then subst=1; fi\n"                              \
        "        if [[ -o promptbang ]]; then bang=1; fi\n"                                \
        "        if [[ -o promptpercent ]]; then percent=1; fi\n"                          \
        "    elif [ -n \"${BASH_VERSION:-}\" ]; then\n"                                    \
        "        # bash first decodes backslash escapes, then, with promptvars or in\n"    \
        "        # POSIX mode, expands like a double-quoted string.\n"                     \
        "        decode=1\n"                                                               \
        "        if shopt -q promptvars; then subst=1; fi\n"                               \
        "        if shopt -qo posix; then subst=1; bang=1; fi\n"                           \
        "    else\n"                                                                       \
        "        # Other POSIX shells expand PS1 like a double-quoted string; ksh\n"       \
        "        # also turns \"!\" into the history number.\n"                            \
        "        subst=1\n"                                                                \
        "        if [ -n \"${KSH_VERSION:-}\" ]; then bang=1; fi\n"                        \
        "    fi\n"                                                                         \
        "    while [ -n \"$rest\" ]; do\n"                                                 \
        "        c=${rest%\"${rest#?}\"}\n"                                                \
        "        rest=${rest#?}\n"                                                         \
        "        case $c in\n"                                                             \
        "        '\\')\n"                                                                  \
        "            if [ -n \"$subst\" ]; then c='\\\\'; fi\n"                            \
        "            if [ -n \"$decode\" ]; then c=$c$c; fi\n"                             \
        "            ;;\n"                                                                 \
        "        '$'|'`')\n"                                                               \
        "            if [ -n \"$subst\" ]; then\n"                                         \
        "                c=\\\\$c\n"                                                       \
        "                if [ -n \"$decode\" ]; then c=\\\\$c; fi\n"                       \
        "            fi\n"                                                                 \
        "            ;;\n"                                                                 \
        "        '!')\n"                                                                   \
        "            if [ -n \"$bang\" ]; then c='!!'; fi\n"                               \
        "            ;;\n"                                                                 \
        "        '%')\n"                                                                   \
        "            if [ -n \"$percent\" ]; then c='%%'; fi\n"                            \
        "            ;;\n"                                                                 \
        "        esac\n"                                                                   \
        "        out=$out$c\n"                                                             \
        "    done\n"                                                                       \
        "    printf '%s' \"$out\"\n"                                                       \
        "}\n"

const char activate_prompt_escaped_sh[] = PROMPT_ESCAPED_SH;

/* One file for bash and zsh (and, as a courtesy, other POSIX shells). Prompt
 * escaping happens at activation time because it depends on shell options
 * (promptvars, promptsubst, ...) that only the running shell knows. */
static const char activate_sh[] = "# Sourced by bash or zsh (\". bin/activate\"), never run as a program: only the\n"
                                  "# shell itself can change its own environment. Written by vrun. The values\n"
                                  "# below are single-quoted, so nothing in them is ever expanded.\n"
                                  "\n"
                                  "# A deactivate left by an earlier activation, of this or of another venv,\n"
                                  "# knows best how to undo it.\n"
                                  "if typeset -f deactivate >/dev/null 2>&1; then\n"
                                  "    deactivate nondestructive || :\n"
                                  "fi\n"
                                  "\n"
                                  "deactivate () {\n"
                                  "    # Saved values start with \"x\" when the variable was set, so that unset\n"
                                  "    # and empty variables both come back as they were.\n"
                                  "    if [ -n \"${_VRUN_OLD_PATH+x}\" ]; then\n"
                                  "        if [ -n \"$_VRUN_OLD_PATH\" ]; then\n"
                                  "            PATH=${_VRUN_OLD_PATH#x}\n"
                                  "            export PATH\n"
                                  "        else\n"
                                  "            unset PATH\n"
                                  "        fi\n"
                                  "        unset _VRUN_OLD_PATH\n"
                                  "    fi\n"
                                  "    if [ -n \"${_VRUN_OLD_PYTHONHOME+x}\" ]; then\n"
                                  "        if [ -n \"$_VRUN_OLD_PYTHONHOME\" ]; then\n"
                                  "            PYTHONHOME=${_VRUN_OLD_PYTHONHOME#x}\n"
                                  "            export PYTHONHOME\n"
                                  "        else\n"
                                  "            unset PYTHONHOME\n"
                                  "        fi\n"
                                  "        unset _VRUN_OLD_PYTHONHOME\n"
                                  "    fi\n"
                                  "    if [ -n \"${_VRUN_OLD_PS1+x}\" ]; then\n"
                                  "        if [ -n \"$_VRUN_OLD_PS1\" ]; then\n"
                                  "            PS1=${_VRUN_OLD_PS1#x}\n"
                                  "        else\n"
                                  "            unset PS1\n"
                                  "        fi\n"
                                  "        unset _VRUN_OLD_PS1\n"
                                  "    fi\n"
                                  "    unset VIRTUAL_ENV VIRTUAL_ENV_PROMPT\n"
                                  "    # Forget where commands were found while the env was on PATH.\n"
                                  "    hash -r\n"
                                  "    # \"nondestructive\" keeps this function: activate uses it to clean up.\n"
                                  "    if [ \"${1:-}\" != nondestructive ]; then\n"
                                  "        unset -f deactivate\n"
                                  "    fi\n"
                                  "}\n"
                                  "\n"
                                  "VIRTUAL_ENV=@VIRTUAL_ENV@\n"
                                  "VIRTUAL_ENV_PROMPT=@VIRTUAL_ENV_PROMPT@\n"
                                  "export VIRTUAL_ENV VIRTUAL_ENV_PROMPT\n"
                                  "\n"
                                  "_VRUN_OLD_PATH=${PATH+x}${PATH-}\n"
                                  "# An empty PATH must not gain a trailing \":\", which would mean the current\n"
                                  "# directory.\n"
                                  "PATH=$VIRTUAL_ENV/bin${PATH:+:$PATH}\n"
                                  "export PATH\n"
                                  "\n"
                                  "# A PYTHONHOME from outside would point the env's python at another prefix.\n"
                                  "_VRUN_OLD_PYTHONHOME=${PYTHONHOME+x}${PYTHONHOME-}\n"
                                  "unset PYTHONHOME\n"
                                  "\n" PROMPT_ESCAPED_SH "\n"
                                  "if [ -z \"${VIRTUAL_ENV_DISABLE_PROMPT:-}\" ]; then\n"
                                  "    _VRUN_OLD_PS1=${PS1+x}${PS1-}\n"
                                  "    PS1=\"($(_vrun_prompt_escaped)) ${PS1-}\"\n"
                                  "fi\n"
                                  "unset -f _vrun_prompt_escaped\n"
                                  "\n"
                                  "# Forget where commands were found before the env came first on PATH.\n"
                                  "hash -r\n";

/* No functions in csh: deactivate is an alias, and every conditional in it is
 * a "test ... &&" chain because csh substitutes the variables of a one-line
 * "if" before evaluating its condition. */
static const char activate_csh[] =
        "# Sourced by csh or tcsh (\"source bin/activate.csh\"), never run as a program:\n"
        "# only the shell itself can change its own environment. Written by vrun. The\n"
        "# values below are single-quoted, with history characters escaped, so\n"
        "# nothing in them is ever expanded.\n"
        "\n"
        "# csh has no functions; \"deactivate nondestructive\" keeps the alias so that\n"
        "# activate can use it to undo an earlier activation.\n"
        "alias deactivate '"
        "test $?_vrun_old_path != 0 && setenv PATH \"$_vrun_old_path\" && unset _vrun_old_path; "
        "test $?_vrun_old_pythonhome != 0 && setenv PYTHONHOME \"$_vrun_old_pythonhome\" "
        "&& unset _vrun_old_pythonhome; "
        "test $?_vrun_old_prompt != 0 && set prompt=\"$_vrun_old_prompt\" "
        "&& unset _vrun_old_prompt; "
        "unsetenv VIRTUAL_ENV; unsetenv VIRTUAL_ENV_PROMPT; rehash; "
        "if (\"\\!:*\" != \"nondestructive\") unalias deactivate"
        "'\n"
        "\n"
        "deactivate nondestructive\n"
        "\n"
        "setenv VIRTUAL_ENV @VIRTUAL_ENV@\n"
        "setenv VIRTUAL_ENV_PROMPT @VIRTUAL_ENV_PROMPT@\n"
        "\n"
        "set _vrun_old_path = \"$PATH\"\n"
        "setenv PATH \"$VIRTUAL_ENV/bin:$PATH\"\n"
        "\n"
        "# A PYTHONHOME from outside would point the env's python at another prefix.\n"
        "if ($?PYTHONHOME) then\n"
        "    set _vrun_old_pythonhome = \"$PYTHONHOME\"\n"
        "    unsetenv PYTHONHOME\n"
        "endif\n"
        "\n"
        "# Only an interactive shell has a prompt to change.\n"
        "set _vrun_show_prompt = $?prompt\n"
        "if ($?VIRTUAL_ENV_DISABLE_PROMPT) then\n"
        "    if (\"$VIRTUAL_ENV_DISABLE_PROMPT\" != \"\") set _vrun_show_prompt = 0\n"
        "endif\n"
        "if ($_vrun_show_prompt) then\n"
        "    set _vrun_old_prompt = \"$prompt\"\n"
        "    # The prefix is escaped for the prompt expansion of tcsh as well.\n"
        "    set prompt = @PROMPT_PREFIX@\"$prompt\"\n"
        "endif\n"
        "unset _vrun_show_prompt\n"
        "\n"
        "rehash\n";

static const char activate_fish[] = "# Sourced by fish (\"source bin/activate.fish\"), never run as a program: only\n"
                                    "# the shell itself can change its own environment. Written by vrun. The values\n"
                                    "# below are single-quoted, so nothing in them is ever expanded.\n"
                                    "\n"
                                    "# A deactivate left by an earlier activation, of this or of another venv,\n"
                                    "# knows best how to undo it.\n"
                                    "if functions -q deactivate\n"
                                    "    deactivate nondestructive\n"
                                    "end\n"
                                    "\n"
                                    "function deactivate --description 'Leave the virtual environment'\n"
                                    "    if set -q _vrun_old_path\n"
                                    "        set -gx PATH $_vrun_old_path\n"
                                    "        set -e _vrun_old_path\n"
                                    "    end\n"
                                    "    if set -q _vrun_old_pythonhome\n"
                                    "        set -gx PYTHONHOME $_vrun_old_pythonhome\n"
                                    "        set -e _vrun_old_pythonhome\n"
                                    "    end\n"
                                    "    if functions -q _vrun_old_fish_prompt\n"
                                    "        functions -e fish_prompt\n"
                                    "        functions -c _vrun_old_fish_prompt fish_prompt\n"
                                    "        functions -e _vrun_old_fish_prompt\n"
                                    "        functions -e _vrun_return\n"
                                    "    end\n"
                                    "    set -e VIRTUAL_ENV\n"
                                    "    set -e VIRTUAL_ENV_PROMPT\n"
                                    "    # \"nondestructive\" keeps this function: activate uses it to clean up.\n"
                                    "    if test \"$argv[1]\" != nondestructive\n"
                                    "        functions -e deactivate\n"
                                    "    end\n"
                                    "end\n"
                                    "\n"
                                    "set -gx VIRTUAL_ENV @VIRTUAL_ENV@\n"
                                    "set -gx VIRTUAL_ENV_PROMPT @VIRTUAL_ENV_PROMPT@\n"
                                    "\n"
                                    "set -g _vrun_old_path $PATH\n"
                                    "set -gx PATH \"$VIRTUAL_ENV/bin\" $PATH\n"
                                    "\n"
                                    "# A PYTHONHOME from outside would point the env's python at another prefix.\n"
                                    "if set -q PYTHONHOME\n"
                                    "    set -g _vrun_old_pythonhome $PYTHONHOME\n"
                                    "    set -e PYTHONHOME\n"
                                    "end\n"
                                    "\n"
                                    "if test -z \"$VIRTUAL_ENV_DISABLE_PROMPT\"; and functions -q fish_prompt\n"
                                    "    functions -c fish_prompt _vrun_old_fish_prompt\n"
                                    "    # Hands the old prompt the exit status it would have seen, which many\n"
                                    "    # prompts show.\n"
                                    "    function _vrun_return\n"
                                    "        return $argv[1]\n"
                                    "    end\n"
                                    "    function fish_prompt\n"
                                    "        set -l last_status $status\n"
                                    "        printf '%s' @PROMPT_PREFIX@\n"
                                    "        _vrun_return $last_status\n"
                                    "        _vrun_old_fish_prompt\n"
                                    "    end\n"
                                    "end\n";

static const char activate_ps1[] =
        "# Dot-sourced by PowerShell (\". bin/Activate.ps1\"). Written by vrun. The\n"
        "# values below are single-quoted, so nothing in them is ever expanded.\n"
        "\n"
        "# A deactivate left by an earlier activation, of this or of another venv,\n"
        "# knows best how to undo it.\n"
        "if (Get-Command -Name deactivate -CommandType Function -ErrorAction SilentlyContinue) {\n"
        "    deactivate -NonDestructive\n"
        "}\n"
        "\n"
        "function global:deactivate {\n"
        "    # -NonDestructive keeps this function: activate uses it to clean up.\n"
        "    param([switch] $NonDestructive)\n"
        "\n"
        "    if (Get-Variable -Name _VrunOldPath -Scope Global -ErrorAction SilentlyContinue) {\n"
        "        $env:PATH = $global:_VrunOldPath\n"
        "        Remove-Variable -Name _VrunOldPath -Scope Global\n"
        "    }\n"
        "    if (Get-Variable -Name _VrunOldPythonHome -Scope Global "
        "-ErrorAction SilentlyContinue) {\n"
        "        $env:PYTHONHOME = $global:_VrunOldPythonHome\n"
        "        Remove-Variable -Name _VrunOldPythonHome -Scope Global\n"
        "    }\n"
        "    if (Get-Variable -Name _VrunOldPrompt -Scope Global -ErrorAction SilentlyContinue) {\n"
        "        Set-Item -Path Function:Global:prompt -Value $global:_VrunOldPrompt\n"
        "        Remove-Variable -Name _VrunOldPrompt -Scope Global\n"
        "    }\n"
        "    Remove-Item -Path Env:VIRTUAL_ENV -ErrorAction SilentlyContinue\n"
        "    Remove-Item -Path Env:VIRTUAL_ENV_PROMPT -ErrorAction SilentlyContinue\n"
        "    if (-not $NonDestructive) {\n"
        "        Remove-Item -Path Function:deactivate\n"
        "    }\n"
        "}\n"
        "\n"
        "$env:VIRTUAL_ENV = @VIRTUAL_ENV@\n"
        "$env:VIRTUAL_ENV_PROMPT = @VIRTUAL_ENV_PROMPT@\n"
        "\n"
        "$global:_VrunOldPath = $env:PATH\n"
        "$_vrunBin = $env:VIRTUAL_ENV + '/bin'\n"
        "# An empty PATH must not gain a trailing separator, which would mean the\n"
        "# current directory.\n"
        "if ($env:PATH) {\n"
        "    $env:PATH = $_vrunBin + [System.IO.Path]::PathSeparator + $env:PATH\n"
        "} else {\n"
        "    $env:PATH = $_vrunBin\n"
        "}\n"
        "Remove-Variable -Name _vrunBin\n"
        "\n"
        "# A PYTHONHOME from outside would point the env's python at another prefix.\n"
        "if (Test-Path -Path Env:PYTHONHOME) {\n"
        "    $global:_VrunOldPythonHome = $env:PYTHONHOME\n"
        "    Remove-Item -Path Env:PYTHONHOME\n"
        "}\n"
        "\n"
        "# Without a prompt function there is nothing to wrap.\n"
        "$_vrunNoPrompt = (Test-Path -Path Env:VIRTUAL_ENV_DISABLE_PROMPT) -and "
        "$env:VIRTUAL_ENV_DISABLE_PROMPT\n"
        "if ((-not $_vrunNoPrompt) -and $function:prompt) {\n"
        "    $global:_VrunOldPrompt = $function:prompt\n"
        "    function global:prompt {\n"
        "        @PROMPT_PREFIX@ + (& $global:_VrunOldPrompt)\n"
        "    }\n"
        "}\n"
        "Remove-Variable -Name _vrunNoPrompt\n";

/* Ends an open_memstream() and hands out its string; NULL when any write to
 * it failed. */
static char *memstream_finish(FILE **f, char **buf, const size_t *len, size_t *ret_len) {
        if (memstream_close(f) < 0)
                return NULL;
        if (ret_len)
                *ret_len = *len;
        return TAKE_PTR(*buf);
}

char *shell_quote_posix(const char *s) {
        assert(s);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;

        fputc('\'', f);
        for (const char *p = s; *p; p++) {
                if (*p == '\'')
                        fputs("'\\''", f);
                else
                        fputc(*p, f);
        }
        fputc('\'', f);
        return memstream_finish(&f, &buf, &len, NULL);
}

char *shell_quote_csh(const char *s) {
        assert(s);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;

        fputc('\'', f);
        for (const char *p = s; *p; p++) {
                switch (*p) {
                case '\'': fputs("'\\''", f); break;
                case '!':
                        /* History substitution runs before quotes are looked
                         * at, on sourced files too: only a backslash stops it. */
                        fputs("\\!", f);
                        break;
                default: fputc(*p, f);
                }
        }
        fputc('\'', f);
        return memstream_finish(&f, &buf, &len, NULL);
}

char *shell_quote_fish(const char *s) {
        assert(s);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;

        fputc('\'', f);
        for (const char *p = s; *p; p++) {
                if (*p == '\\' || *p == '\'')
                        fputc('\\', f);
                fputc(*p, f);
        }
        fputc('\'', f);
        return memstream_finish(&f, &buf, &len, NULL);
}

/* PowerShell also ends a single-quoted string at the typographic quotes
 * U+2018..U+201B; all of them are escaped the same way, by doubling. */
static size_t powershell_quote_len(const char *p) {
        if (*p == '\'')
                return 1;
        if ((unsigned char) p[0] == 0xe2 && (unsigned char) p[1] == 0x80 && (unsigned char) p[2] >= 0x98 &&
            (unsigned char) p[2] <= 0x9b)
                return 3;
        return 0;
}

char *shell_quote_powershell(const char *s) {
        assert(s);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;

        fputc('\'', f);
        for (const char *p = s; *p;) {
                size_t q = powershell_quote_len(p);
                if (q > 0) {
                        fwrite(p, 1, q, f);
                        fwrite(p, 1, q, f);
                        p += q;
                } else
                        fputc(*p++, f);
        }
        fputc('\'', f);
        return memstream_finish(&f, &buf, &len, NULL);
}

/* "(prompt) " as tcsh's prompt must hold it to show exactly that: tcsh reads
 * "%" sequences, "!" (history number) and backslash escapes in $prompt. */
static char *tcsh_prompt_prefix(const char *prompt) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;

        fputc('(', f);
        for (const char *p = prompt; *p; p++) {
                if (*p == '\\' || *p == '!')
                        fputc('\\', f);
                else if (*p == '%')
                        fputc('%', f);
                fputc(*p, f);
        }
        fputs(") ", f);
        return memstream_finish(&f, &buf, &len, NULL);
}

static char *plain_prompt_prefix(const char *prompt) {
        char *s = NULL;
        if (asprintf(&s, "(%s) ", prompt) < 0)
                return NULL;
        return s;
}

typedef struct {
        const char *marker;
        const char *value;
} Substitution;

/* Copies tmpl with each marker replaced by its value. Values are not scanned
 * again, so a value that happens to contain a marker stays as it is. */
static int expand_template(const char *tmpl, const Substitution *subst, size_t n_subst, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;

        for (const char *p = tmpl; *p;) {
                const Substitution *match = NULL;
                if (*p == '@')
                        for (size_t i = 0; i < n_subst; i++)
                                if (strncmp(p, subst[i].marker, strlen(subst[i].marker)) == 0) {
                                        match = &subst[i];
                                        break;
                                }
                if (match) {
                        fputs(match->value, f);
                        p += strlen(match->marker);
                } else
                        fputc(*p++, f);
        }

        char *s = memstream_finish(&f, &buf, &len, ret_len);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

typedef struct {
        const char *filename;
        const char *tmpl;
        char *(*quote)(const char *s);
        /* Builds "(prompt) " in the form the shell's prompt needs. */
        char *(*prompt_prefix)(const char *prompt);
} ScriptKind;

static const ScriptKind script_kinds[] = {
        { "activate", activate_sh, shell_quote_posix, plain_prompt_prefix },
        { "activate.csh", activate_csh, shell_quote_csh, tcsh_prompt_prefix },
        { "activate.fish", activate_fish, shell_quote_fish, plain_prompt_prefix },
        { "Activate.ps1", activate_ps1, shell_quote_powershell, plain_prompt_prefix },
};

static int render_script(const ScriptKind *kind, const char *env_dir, const char *prompt, char **ret, size_t *ret_len) {
        _cleanup_free_ char *prefix = kind->prompt_prefix(prompt);
        _cleanup_free_ char *q_env = kind->quote(env_dir);
        _cleanup_free_ char *q_prompt = kind->quote(prompt);
        _cleanup_free_ char *q_prefix = prefix ? kind->quote(prefix) : NULL;
        if (!q_env || !q_prompt || !q_prefix)
                return -ENOMEM;

        const Substitution subst[] = {
                { "@VIRTUAL_ENV@", q_env },
                { "@VIRTUAL_ENV_PROMPT@", q_prompt },
                { "@PROMPT_PREFIX@", q_prefix },
        };
        return expand_template(kind->tmpl, subst, ELEMENTSOF(subst), ret, ret_len);
}

/* The quoting works within one line: csh cannot carry a newline inside
 * quotes, and control characters have no business in a prompt. */
static bool string_is_one_line(const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

static int check_args(const char *env_dir, const char *prompt) {
        if (!env_dir || !prompt)
                return -EINVAL;
        if (env_dir[0] != '/' || !string_is_one_line(env_dir) || !string_is_one_line(prompt))
                return -EINVAL;
        if (strlen(env_dir) >= VRUN_PATH_MAX)
                return -ENAMETOOLONG;
        return 0;
}

void activate_scripts_done(ActivateScript s[ACTIVATE_N_SCRIPTS]) {
        for (size_t i = 0; i < ACTIVATE_N_SCRIPTS; i++) {
                free(s[i].text);
                s[i] = (ActivateScript){};
        }
}

int activate_render_scripts(const char *env_dir, const char *prompt, ActivateScript ret[ACTIVATE_N_SCRIPTS]) {
        _Static_assert(ELEMENTSOF(script_kinds) == ACTIVATE_N_SCRIPTS, "one ActivateScript per kind");
        int r = check_args(env_dir, prompt);
        if (r < 0)
                return r;
        ActivateScript s[ACTIVATE_N_SCRIPTS] = {};
        for (size_t i = 0; i < ACTIVATE_N_SCRIPTS; i++) {
                s[i].name = script_kinds[i].filename;
                r = render_script(&script_kinds[i], env_dir, prompt, &s[i].text, &s[i].len);
                if (r < 0) {
                        activate_scripts_done(s);
                        return r;
                }
        }
        memcpy(ret, s, sizeof s);
        return 0;
}

int activate_write_scripts(int bin_fd, const char *env_dir, const char *prompt) {
        if (bin_fd < 0)
                return -EINVAL;
        ActivateScript s[ACTIVATE_N_SCRIPTS];
        int r = activate_render_scripts(env_dir, prompt, s);
        if (r < 0)
                return r;
        /* Atomic, so that a shell sourcing a script meanwhile (an upgrade of
         * a venv in use) never reads half of it. */
        for (size_t i = 0; i < ACTIVATE_N_SCRIPTS && r >= 0; i++)
                r = write_file_atomic_at(bin_fd, s[i].name, s[i].text, s[i].len, 0644);
        activate_scripts_done(s);
        return r;
}
