/* Reading and writing pyvenv.cfg, the file that makes a directory a venv
 * (PEP 405). Parsing follows CPython's site.py: "key = value" lines, keys
 * lower-cased, first '=' splits, whitespace stripped. */
#pragma once

#include <stdbool.h>

#define PYVENV_CFG_MAX (64 * 1024)

typedef struct PyvenvCfg {
        char *home;
        char *version;
        char *executable;
        char *command;
        char *prompt;                      /* unquoted */
        bool include_system_site_packages; /* a missing key means true (site.py) */
} PyvenvCfg;

void pyvenv_cfg_free(PyvenvCfg *c);
static inline void pyvenv_cfg_freep(PyvenvCfg **c) {
        pyvenv_cfg_free(*c);
}
#define _cleanup_pyvenv_cfg_ __attribute__((cleanup(pyvenv_cfg_freep)))

/* Parses text (NUL-terminated). -EBADMSG on a line without '=' that is not
 * blank or a comment, or a value with control characters. */
int pyvenv_cfg_parse(const char *text, PyvenvCfg **ret);
/* Reads ENV/pyvenv.cfg through env_fd (or a path when env_fd is AT_FDCWD). */
int pyvenv_cfg_read_at(int env_fd, const char *path, PyvenvCfg **ret);
/* Renders the file; ret is newly allocated. */
int pyvenv_cfg_format(const PyvenvCfg *c, char **ret);
