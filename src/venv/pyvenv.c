#include "vrun/venv/pyvenv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fileio.h"

void pyvenv_cfg_free(PyvenvCfg *c) {
        if (!c)
                return;
        free(c->home);
        free(c->version);
        free(c->executable);
        free(c->command);
        free(c->prompt);
        free(c);
}

static char *strip(char *s, char *end) {
        while (s < end && (*s == ' ' || *s == '\t'))
                s++;
        while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                end--;
        *end = 0;
        return s;
}

/* venv writes the prompt with Python's repr(); undo the simple cases. */
static char *unquote_prompt(const char *v) {
        size_t l = strlen(v);
        if (l >= 2 && (v[0] == '\'' || v[0] == '"') && v[l - 1] == v[0]) {
                char *out = malloc(l);
                if (!out)
                        return NULL;
                size_t n = 0;
                for (size_t i = 1; i + 1 < l; i++) {
                        if (v[i] == '\\' && i + 2 < l)
                                i++;
                        out[n++] = v[i];
                }
                out[n] = 0;
                return out;
        }
        return strdup(v);
}

int pyvenv_cfg_parse(const char *text, PyvenvCfg **ret) {
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        PyvenvCfg *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->include_system_site_packages = true;
        int r = 0;
        char *line = copy;
        while (line && *line) {
                char *nl = strchr(line, '\n');
                char *end = nl ? nl : line + strlen(line);
                char *next = nl ? nl + 1 : NULL;
                char *eq = memchr(line, '=', (size_t) (end - line));
                if (!eq) {
                        char *t = strip(line, end);
                        if (*t && *t != '#') {
                                r = -EBADMSG;
                                goto fail;
                        }
                        line = next;
                        continue;
                }
                char *key = strip(line, eq);
                char *val = strip(eq + 1, end);
                for (char *k = key; *k; k++)
                        if (*k >= 'A' && *k <= 'Z')
                                *k = (char) (*k - 'A' + 'a');
                for (char *v = val; *v; v++)
                        if ((unsigned char) *v < 0x20 && *v != '\t') {
                                r = -EBADMSG;
                                goto fail;
                        }
                char **slot = NULL;
                if (strcmp(key, "home") == 0)
                        slot = &c->home;
                else if (strcmp(key, "version") == 0 || strcmp(key, "version_info") == 0)
                        slot = &c->version;
                else if (strcmp(key, "executable") == 0 || strcmp(key, "base-executable") == 0)
                        slot = &c->executable;
                else if (strcmp(key, "command") == 0)
                        slot = &c->command;
                else if (strcmp(key, "include-system-site-packages") == 0)
                        c->include_system_site_packages = strcasecmp(val, "true") == 0;
                else if (strcmp(key, "prompt") == 0) {
                        free(c->prompt);
                        c->prompt = unquote_prompt(val);
                        if (!c->prompt) {
                                r = -ENOMEM;
                                goto fail;
                        }
                }
                if (slot && !*slot) {
                        *slot = strdup(val);
                        if (!*slot) {
                                r = -ENOMEM;
                                goto fail;
                        }
                }
                line = next;
        }
        *ret = c;
        return 0;
fail:
        pyvenv_cfg_free(c);
        return r;
}

int pyvenv_cfg_read_at(int env_fd, const char *path, PyvenvCfg **ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_full_file_at(env_fd, path, PYVENV_CFG_MAX, &text, NULL);
        if (r < 0)
                return r;
        return pyvenv_cfg_parse(text, ret);
}

static int append(char **buf, size_t *len, const char *key, const char *val) {
        if (!val)
                return 0;
        size_t need = strlen(key) + strlen(val) + 5;
        char *b = realloc(*buf, *len + need + 1);
        if (!b)
                return -ENOMEM;
        *buf = b;
        *len += (size_t) snprintf(b + *len, need + 1, "%s = %s\n", key, val);
        return 0;
}

int pyvenv_cfg_format(const PyvenvCfg *c, char **ret) {
        _cleanup_free_ char *buf = strdup("");
        _cleanup_free_ char *prompt = NULL;
        size_t len = 0;
        if (!buf)
                return -ENOMEM;
        if (c->prompt) {
                /* Same shape as venv's repr(): single quotes, escaped. */
                size_t l = strlen(c->prompt);
                prompt = malloc(2 * l + 3);
                if (!prompt)
                        return -ENOMEM;
                size_t n = 0;
                prompt[n++] = '\'';
                for (size_t i = 0; i < l; i++) {
                        if (c->prompt[i] == '\'' || c->prompt[i] == '\\')
                                prompt[n++] = '\\';
                        prompt[n++] = c->prompt[i];
                }
                prompt[n++] = '\'';
                prompt[n] = 0;
        }
        int r;
        if ((r = append(&buf, &len, "home", c->home)) < 0 ||
            (r = append(&buf, &len, "include-system-site-packages",
                        c->include_system_site_packages ? "true" : "false")) < 0 ||
            (r = append(&buf, &len, "version", c->version)) < 0 || (r = append(&buf, &len, "prompt", prompt)) < 0 ||
            (r = append(&buf, &len, "executable", c->executable)) < 0 ||
            (r = append(&buf, &len, "command", c->command)) < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}
