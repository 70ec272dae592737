/* Seeding a venv from a wheel without running Python: the wheel is unpacked
 * once into vrun's cache, then each file is copied (reflinked where the
 * filesystem can, never hard-linked: no inode is shared between an env and
 * anything outside it) into the env's site-packages. Console scripts and a
 * RECORD that lists every installed file (so `pip uninstall` works) are
 * written for the env. */
#pragma once

#include <stdbool.h>

typedef struct WheelTarget {
        int env_fd;                 /* dirfd of the env being built (may be a temp dir) */
        const char *site_packages;  /* relative to env_fd: "lib/python3.11/site-packages" */
        const char *bin_dir;        /* relative to env_fd: "bin" */
        const char *python;         /* absolute FINAL path of ENV/bin/python, for shebangs */
        const char *cache_dir;      /* e.g. ~/.cache/vrun; created when missing */
        const char *compile_python; /* the base interpreter that compiles the cache's .pyc files; NULL: none */
        int version_major;          /* of the target interpreter, for "pip3.X" */
        int version_minor;
} WheelTarget;

/* Unpacks wheel_path into the cache (once; keyed by the wheel's path, size and
 * mtime and by compile_python; a damaged cache entry is rebuilt), compiles its
 * modules there, and installs it into the env, .pyc files listed in RECORD.
 * Without a usable cache, or when compiling fails, it is unpacked inside the
 * env and installed without .pyc files.
 * Returns -errno; on failure the env may hold part of the wheel (the caller
 * builds in a temporary dir and discards it). */
int wheel_install(const char *wheel_path, const WheelTarget *t);

/* Unpacks wheel_path into the (not yet existing) directory dest_dir.
 * Rejects absolute names, "..", symlinks and oversized archives (-EBADMSG). */
int wheel_unpack(const char *wheel_path, const char *dest_dir);
