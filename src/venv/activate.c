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

/* The scripts are templates (src/venv/activate/, embedded at build time):
 * @VIRTUAL_ENV@, @VIRTUAL_ENV_PROMPT@ and @PROMPT_PREFIX@ ("(prompt) " as the
 * shell's prompt should show it) are replaced by values already quoted for
 * that shell, and @PROMPT_ESCAPED_FUNCTION@ by activate_prompt_escaped_sh.
 * One file for bash and zsh (and, as a courtesy, other POSIX shells): prompt
 * escaping happens at activation time because it depends on shell options
 * (promptvars, promptsubst, ...) that only the running shell knows. csh has
 * no functions: deactivate is an alias, and every conditional in it is a
 * "test ... &&" chain because csh substitutes the variables of a one-line
 * "if" before evaluating its condition. */
extern const char vrun_activate_sh[];
extern const char vrun_activate_csh[];
extern const char vrun_activate_fish[];
extern const char vrun_activate_ps1[];

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
        { "activate", vrun_activate_sh, shell_quote_posix, plain_prompt_prefix },
        { "activate.csh", vrun_activate_csh, shell_quote_csh, tcsh_prompt_prefix },
        { "activate.fish", vrun_activate_fish, shell_quote_fish, plain_prompt_prefix },
        { "Activate.ps1", vrun_activate_ps1, shell_quote_powershell, plain_prompt_prefix },
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
                { "@PROMPT_ESCAPED_FUNCTION@", activate_prompt_escaped_sh },
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
