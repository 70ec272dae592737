/* Compiling a wheel's modules once per interpreter, into its cache entry:
 * the __pycache__/NAME.TAG.pyc files ensurepip's `pip install` would write, so the
 * first pip run in a fresh env (even with PYTHONDONTWRITEBYTECODE=1, or in a
 * read-only or ephemeral env) does not compile pip again. The .pyc files are
 * timestamp-based: valid as long as the .py keeps its mtime and size, which
 * the copy into an env preserves. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* The RECORD rows (hash, size) of the compiled files, kept in the cache
 * entry beside the marker: hashing them on every create would cost more
 * than copying them. */
#define PYCACHE_RECORD ".vrun-pycache-record"

/* True for a file of an unpacked wheel that pip would compile: a .py that
 * lands in site-packages (not a .data/scripts file). */
bool pycache_wants(const char *name);

/* Compiles the files names[0..n) below root_fd with the interpreter python
 * and writes each NAME's DIR/__pycache__/STEM.TAG.pyc there. Appends the
 * name of each .pyc written, one a line, to names_out and its RECORD row to
 * record_out. A file that does not compile gets no .pyc, as with pip.
 * -ENOEXEC when the interpreter fails, -EBADMSG when its answer is malformed. */
int pycache_compile(const char *python, int root_fd, char *const *names, size_t n, FILE *names_out, FILE *record_out);
