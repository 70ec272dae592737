/* The base interpreter: finding it from a --python spec, and what it knows
 * about itself (version, prefixes, stdlib, every directory it could import
 * third-party code from). The facts are asked of the interpreter once and
 * cached as JSON keyed by the interpreter's path, size and mtime. */
#pragma once

#include <stdbool.h>
#include <jansson.h>

typedef struct InterpInfo {
        char *executable; /* real path of the interpreter binary */
        char *version;    /* "3.11.2" */
        int version_major;
        int version_minor;
        char *implementation; /* "cpython" */
        char *prefix;         /* sys.base_prefix */
        char *exec_prefix;    /* sys.base_exec_prefix */
        bool is_64bit;
        char **stdlib_dirs;   /* keep set: sys.path under -I -S */
        char **site_packages; /* site.getsitepackages(), in order */
        char **hide_dirs;     /* every global package dir (all schemes, user site,
                                * .pth additions), minus the keep set */
        char **seed_wheels;   /* bundled wheels venv would seed: setuptools (<3.12), pip */
        /* cache bookkeeping, not part of the facts */
        char *cache_path;
        bool from_cache;
} InterpInfo;

void interp_info_free(InterpInfo *i);
static inline void interp_info_freep(InterpInfo **i) {
        interp_info_free(*i);
}
#define _cleanup_interp_info_ __attribute__((cleanup(interp_info_freep)))

/* Finds the interpreter for spec: NULL → "python3" on PATH; a path; a command
 * on PATH; or a version "3.12" (python3.12 on PATH, then pyenv's versions).
 * Symlinks and pyenv shims are followed to the real binary. */
int interp_find(const char *spec, char **ret_path);

/* Facts for the interpreter at the real path exe: from the cache when the
 * entry matches exe's size and mtime, else by running exe once. A corrupt or
 * stale entry is replaced. */
int interp_load(const char *exe, InterpInfo **ret);

/* The cache directory: ${XDG_CACHE_HOME:-$HOME/.cache}/vrun. */
int vrun_cache_dir(char **ret);

/* (De)serialisation, exposed for tests and `vrun info`. */
json_t *interp_info_to_json(const InterpInfo *i);
int interp_info_from_json(json_t *j, InterpInfo **ret);
