#include "vrun/venv/scripts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/path.h"

/* Inside the double quotes that pip's trampoline uses, only \" and \\ are
 * escapes that both sh and Python accept; "\$" or "\`" would make Python warn
 * about an invalid escape (an error with -W error). So $ and ` are closed out
 * into sh single quotes, and ' becomes \' outside any quotes, which keeps
 * Python from ever seeing ''' inside its string. */
static void sh_quote_python(FILE *f, const char *s) {
        fputc('"', f);
        for (; *s; s++) {
                switch (*s) {
                case '"':
                case '\\':
                        fputc('\\', f);
                        fputc(*s, f);
                        break;
                case '$':
                case '`':
                        fputs("\"'", f);
                        fputc(*s, f);
                        fputs("'\"", f);
                        break;
                case '\'': fputs("\"\\'\"", f); break;
                default: fputc(*s, f);
                }
        }
        fputc('"', f);
}

void script_put_shebang(FILE *f, const char *python) {
        bool plain = STRLEN("#!") + strlen(python) + STRLEN("\n") <= SHEBANG_MAX;
        for (const char *c = python; plain && *c; c++)
                if ((unsigned char) *c <= ' ' || *c == 0x7f)
                        plain = false; /* the kernel splits the "#!" line at whitespace */
        if (plain) {
                fputs("#!", f);
                fputs(python, f);
                fputc('\n', f);
                return;
        }
        /* sh runs line two; Python sees lines two and three as a string */
        fputs("#!/bin/sh\n'''exec' ", f);
        sh_quote_python(f, python);
        fputs(" \"$0\" \"$@\"\n' '''\n", f);
}

void script_list_done(ScriptList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->s[i].name);
        free(l->s);
        *l = (ScriptList){};
}

static int script_list_set(ScriptList *l, const char *name, const char *module, const char *attr) {
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->s[i].name, name) == 0) {
                        l->s[i].module = module;
                        l->s[i].attr = attr;
                        return 0;
                }
        if (l->n == SCRIPTS_MAX)
                return -EBADMSG;
        Script *s = realloc(l->s, (l->n + 1) * sizeof(Script));
        if (!s)
                return -ENOMEM;
        l->s = s;
        char *copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        l->s[l->n++] = (Script){ copy, module, attr };
        return 0;
}

static void script_list_remove_if(ScriptList *l, bool (*match)(const char *)) {
        size_t k = 0;
        for (size_t i = 0; i < l->n; i++) {
                if (match(l->s[i].name))
                        free(l->s[i].name);
                else
                        l->s[k++] = l->s[i];
        }
        l->n = k;
}

static const char *skip_digits(const char *s) {
        const char *p = s;
        while (*p >= '0' && *p <= '9')
                p++;
        return p > s ? p : NULL;
}

/* pip, pip3, pip3.11 */
static bool is_pip_script(const char *s) {
        if (strncmp(s, "pip", 3) != 0)
                return false;
        s += 3;
        if (!*s)
                return true;
        if (!(s = skip_digits(s)))
                return false;
        if (!*s)
                return true;
        return *s == '.' && (s = skip_digits(s + 1)) && !*s;
}

/* easy_install, easy_install-3.11 */
static bool is_easy_install_script(const char *s) {
        if (strncmp(s, "easy_install", 12) != 0)
                return false;
        s += 12;
        if (!*s)
                return true;
        return *s == '-' && (s = skip_digits(s + 1)) && *s == '.' && (s = skip_digits(s + 1)) && !*s;
}

static bool is_dotted_name(const char *s) {
        bool start = true;
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '.') {
                        if (start)
                                return false;
                        start = true;
                        continue;
                }
                bool alpha = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
                if (!alpha && !(!start && c >= '0' && c <= '9'))
                        return false;
                start = false;
        }
        return !start;
}

static char *strip(char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        size_t l = strlen(s);
        while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r'))
                s[--l] = 0;
        return s;
}

/* Collects [console_scripts] and [gui_scripts] (the same thing on POSIX) of
 * an entry_points.txt, parsed in place. */
int entry_points_parse(char *text, ScriptList *l) {
        bool in_scripts = false;
        for (char *line = text, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                char *s = strip(line);
                if (!*s || *s == '#' || *s == ';')
                        continue;
                if (*s == '[') {
                        in_scripts = strcmp(s, "[console_scripts]") == 0 || strcmp(s, "[gui_scripts]") == 0;
                        continue;
                }
                if (!in_scripts)
                        continue;
                char *eq = strchr(s, '=');
                if (!eq)
                        return -EBADMSG;
                *eq = 0;
                char *name = strip(s), *value = strip(eq + 1);
                char *extras = strchr(value, '[');
                if (extras) {
                        *extras = 0;
                        value = strip(value);
                }
                char *colon = strchr(value, ':');
                if (!colon)
                        return -EBADMSG; /* a script needs a callable */
                *colon = 0;
                char *module = strip(value), *attr = strip(colon + 1);
                if (!path_is_safe_component(name) || name[strcspn(name, "\\\x7f")] || !is_dotted_name(module) ||
                    !is_dotted_name(attr))
                        return -EBADMSG;
                for (const char *c = name; *c; c++)
                        if ((unsigned char) *c < 0x20)
                                return -EBADMSG;
                int r = script_list_set(l, name, module, attr);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* pip's wheel carries "pip3.N" for whichever Python built it; like pip
 * itself, name the scripts after the interpreter they will run on. */
int scripts_rename_versioned(ScriptList *l, int major, int minor) {
        for (size_t i = 0; i < l->n; i++) {
                if (strcmp(l->s[i].name, "pip") != 0)
                        continue;
                Script pip = l->s[i];
                char a[32], b[32];
                snprintf(a, sizeof a, "pip%d", major);
                snprintf(b, sizeof b, "pip%d.%d", major, minor);
                script_list_remove_if(l, is_pip_script);
                int r;
                if ((r = script_list_set(l, "pip", pip.module, pip.attr)) < 0 ||
                    (r = script_list_set(l, a, pip.module, pip.attr)) < 0 ||
                    (r = script_list_set(l, b, pip.module, pip.attr)) < 0)
                        return r;
                break;
        }
        for (size_t i = 0; i < l->n; i++) {
                if (strcmp(l->s[i].name, "easy_install") != 0)
                        continue;
                Script ei = l->s[i];
                char a[48];
                snprintf(a, sizeof a, "easy_install-%d.%d", major, minor);
                script_list_remove_if(l, is_easy_install_script);
                int r;
                if ((r = script_list_set(l, "easy_install", ei.module, ei.attr)) < 0 ||
                    (r = script_list_set(l, a, ei.module, ei.attr)) < 0)
                        return r;
                break;
        }
        return 0;
}

void script_put_console(FILE *f, const char *python, const char *module, const char *attr) {
        script_put_shebang(f, python);
        size_t head = strcspn(attr, ".");
        fputs("# Written by vrun for an entry point; `pip uninstall` removes it.\n"
              "import re\n"
              "import sys\n"
              "\n"
              "from ",
              f);
        fputs(module, f);
        fputs(" import ", f);
        fwrite(attr, 1, head, f);
        fputs("\n"
              "\n"
              "if __name__ == \"__main__\":\n"
              "    sys.argv[0] = re.sub(r\"(-script\\.pyw|\\.exe)?$\", \"\", sys.argv[0])\n"
              "    sys.exit(",
              f);
        fputs(attr, f);
        fputs("())\n", f);
}
