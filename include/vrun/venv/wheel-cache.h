/* The unpacked-wheel cache: each wheel is unpacked once below
 * CACHE_DIR/wheels/KEY, complete only once a marker listing its files exists
 * (so installing needs neither readdir() nor stat()); entries appear and
 * vanish with one rename, so concurrent creates see them whole or not at all. */
#pragma once

#include <stdio.h>
#include <sys/stat.h>

#include "util/dirat.h"
#include "vrun/venv/zip.h"

/* The files of an unpacked tree, in zip_entry() order. */
typedef struct Manifest {
        char *buf;
        char **files; /* point into buf */
        size_t n;
} Manifest;

void manifest_done(Manifest *m);

/* Extracts every entry of z below dirfd; with manifest, writes the name of
 * each file (not directory) on its own line, in zip_entry() order. */
int wheel_unpack_tree(ZipArchive *z, int dirfd, FILE *manifest);

/* Unpacks the wheel open as wheel_fd into a new temporary directory prefix*
 * below parent_fd, compiles its modules with python (unless NULL; see
 * pycache.h) and writes the marker last. */
int wheel_unpack_to_temp(int wheel_fd, const char *python, int parent_fd, const char *prefix,
                         char ret_name[TEMP_NAME_MAX], int *ret_fd, Manifest *ret_m);

/* The entry name for the wheel at wheel_path (st: its fstat()) with .pyc
 * files for the interpreter python (NULL: none). */
int wheel_cache_key(const char *wheel_path, const struct stat *st, const char *python, char **ret);
/* Opens (creating, 0700) CACHE_DIR/wheels. */
int wheel_cache_open(const char *cache_dir, int *ret_fd);
/* Opens the complete entry key, building it from wheel_fd (compiled with
 * python, unless NULL) when it is missing or damaged. */
int wheel_cache_acquire(int wheels_fd, const char *key, int wheel_fd, const char *python, int *ret_fd, Manifest *ret_m);
/* Moves the entry out of the way in one step; a process still installing
 * from it keeps its open fds. */
int wheel_cache_discard(int wheels_fd, const char *key);
