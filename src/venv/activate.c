#include "vrun/venv/activate.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fileio.h"
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

/* ---- quoting ------------------------------------------------------------------------------
 * Every shell's quoting is one Quoting: the text put before and after the
 * value, and the byte sequences inside it that must be rewritten. Anything
 * not listed is copied as it is. */

typedef struct Escape {
        const char *from; /* a byte sequence of the value */
        const char *to;   /* what it becomes inside the quotes */
} Escape;

typedef struct Quoting {
        const char *open, *close;
        Escape escapes[6]; /* ended by { NULL } */
} Quoting;

/* No expansion is longer than this many times what it replaces. */
#define QUOTE_MAX_GROWTH 4

static const Quoting quote_posix = { "'", "'", { { "'", "'\\''" } } };
/* History substitution runs before csh looks at quotes, on sourced files
 * too: only a backslash stops a "!". */
static const Quoting quote_csh = { "'", "'", { { "'", "'\\''" }, { "!", "\\!" } } };
static const Quoting quote_fish = { "'", "'", { { "\\", "\\\\" }, { "'", "\\'" } } };
/* PowerShell also ends a single-quoted string at the typographic quotes
 * U+2018..U+201B; every quote is escaped by doubling it. */
static const Quoting quote_powershell = { "'",
                                          "'",
                                          { { "'", "''" },
                                            { "\xe2\x80\x98", "\xe2\x80\x98\xe2\x80\x98" },
                                            { "\xe2\x80\x99", "\xe2\x80\x99\xe2\x80\x99" },
                                            { "\xe2\x80\x9a", "\xe2\x80\x9a\xe2\x80\x9a" },
                                            { "\xe2\x80\x9b", "\xe2\x80\x9b\xe2\x80\x9b" } } };
/* "(prompt) " as tcsh's $prompt must hold it to show exactly that: tcsh
 * reads "%" sequences, "!" (history number) and backslash escapes there. */
static const Quoting prompt_tcsh = { "(", ") ", { { "\\", "\\\\" }, { "!", "\\!" }, { "%", "%%" } } };
static const Quoting prompt_plain = { "(", ") ", { { NULL } } };

static char *quote_with(const Quoting *q, const char *s) {
        assert(q && s);
        size_t n = strlen(s), open = strlen(q->open), close = strlen(q->close);
        if (n > (SIZE_MAX - open - close - 1) / QUOTE_MAX_GROWTH)
                return NULL;
        char *buf = malloc(open + n * QUOTE_MAX_GROWTH + close + 1), *o = buf;
        if (!buf)
                return NULL;
        o = mempcpy(o, q->open, open);
        while (*s) {
                const Escape *e = q->escapes;
                while (e->from && strncmp(s, e->from, strlen(e->from)) != 0)
                        e++;
                if (e->from) {
                        size_t from = strlen(e->from), to = strlen(e->to);
                        assert(to <= from * QUOTE_MAX_GROWTH);
                        o = mempcpy(o, e->to, to);
                        s += from;
                } else
                        *o++ = *s++;
        }
        o = mempcpy(o, q->close, close);
        *o = 0;
        return buf;
}

char *shell_quote_posix(const char *s) {
        return quote_with(&quote_posix, s);
}

char *shell_quote_csh(const char *s) {
        return quote_with(&quote_csh, s);
}

char *shell_quote_fish(const char *s) {
        return quote_with(&quote_fish, s);
}

char *shell_quote_powershell(const char *s) {
        return quote_with(&quote_powershell, s);
}

typedef struct {
        const char *marker;
        const char *value;
} Substitution;

typedef struct Span {
        const char *p;
        size_t n;
} Span;

/* The substitution whose marker starts at p, or NULL. */
static const Substitution *marker_at(const char *p, const Substitution *subst, size_t n_subst) {
        for (size_t i = 0; i < n_subst; i++)
                if (strncmp(p, subst[i].marker, strlen(subst[i].marker)) == 0)
                        return &subst[i];
        return NULL;
}

/* Copies tmpl with each marker replaced by its value into out (when not
 * NULL) and returns the length of the result. Values are not scanned again,
 * so a value that happens to contain a marker stays as it is. */
static size_t expand_into(char *out, const char *tmpl, const Substitution *subst, size_t n_subst) {
        size_t len = 0;
        for (const char *p = tmpl;;) {
                const char *at = strchrnul(p, '@');
                if (out)
                        memcpy(out + len, p, (size_t) (at - p));
                len += (size_t) (at - p);
                if (!*at)
                        return len;
                /* An '@' that starts no marker is copied as it is. */
                const Substitution *m = marker_at(at, subst, n_subst);
                Span v = m ? (Span){ m->value, strlen(m->value) } : (Span){ at, 1 };
                if (out)
                        memcpy(out + len, v.p, v.n);
                len += v.n;
                p = at + (m ? strlen(m->marker) : 1);
        }
}

static int expand_template(const char *tmpl, const Substitution *subst, size_t n_subst, char **ret, size_t *ret_len) {
        size_t len = expand_into(NULL, tmpl, subst, n_subst);
        char *s = malloc(len + 1);
        if (!s)
                return -ENOMEM;
        expand_into(s, tmpl, subst, n_subst);
        s[len] = 0;
        *ret = s;
        *ret_len = len;
        return 0;
}

typedef struct {
        const char *filename;
        const char *tmpl;
        const Quoting *quote;
        /* "(prompt) " in the form the shell's prompt needs. */
        const Quoting *prompt_prefix;
} ScriptKind;

static const ScriptKind script_kinds[] = {
        { "activate", vrun_activate_sh, &quote_posix, &prompt_plain },
        { "activate.csh", vrun_activate_csh, &quote_csh, &prompt_tcsh },
        { "activate.fish", vrun_activate_fish, &quote_fish, &prompt_plain },
        { "Activate.ps1", vrun_activate_ps1, &quote_powershell, &prompt_plain },
};

static int render_script(const ScriptKind *kind, const char *env_dir, const char *prompt, char **ret, size_t *ret_len) {
        _cleanup_free_ char *prefix = quote_with(kind->prompt_prefix, prompt);
        _cleanup_free_ char *q_env = quote_with(kind->quote, env_dir);
        _cleanup_free_ char *q_prompt = quote_with(kind->quote, prompt);
        _cleanup_free_ char *q_prefix = prefix ? quote_with(kind->quote, prefix) : NULL;
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

int activate_write_scripts(int bin_fd, const char *env_dir, const char *prompt, bool replace) {
        if (bin_fd < 0)
                return -EINVAL;
        ActivateScript s[ACTIVATE_N_SCRIPTS];
        int r = activate_render_scripts(env_dir, prompt, s);
        if (r < 0)
                return r;
        /* Replaced atomically, so that a shell sourcing a script meanwhile
         * (an upgrade of a venv in use) never reads half of it. */
        for (size_t i = 0; i < ACTIVATE_N_SCRIPTS && r >= 0; i++)
                r = replace ? write_file_atomic_at(bin_fd, s[i].name, s[i].text, s[i].len, 0644)
                            : write_file_at(bin_fd, s[i].name, s[i].text, s[i].len, 0644, 0);
        activate_scripts_done(s);
        return r;
}
