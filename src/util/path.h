/* Path string helpers. No syscalls except where the name says (cwd, stat). */
#pragma once

#include <stdbool.h>

#define VRUN_PATH_MAX 4096

/* Joins a and b with exactly one '/'; NULL on ENOMEM. */
char *path_join(const char *a, const char *b);
/* Absolute, lexically normalised ("." and ".." and "//" folded) version of p,
 * relative to the current directory. Symlinks are not resolved. */
int path_make_absolute(const char *p, char **ret);
/* Lexical normalisation of an absolute path. */
int path_normalize(const char *p, char **ret);
/* Directory part / last component of an absolute, normalised path. */
char *path_dirname(const char *p);
const char *path_basename(const char *p);
/* True when p equals prefix or lies below it (lexically). */
bool path_startswith(const char *p, const char *prefix);
bool path_is_safe_component(const char *name);

/* $VAR/name when VAR holds an absolute path, else $HOME/home_rel/name
 * (the XDG base directory rule). -ENOENT when neither is set. */
int path_xdg_dir(const char *var, const char *home_rel, const char *name, char **ret);
