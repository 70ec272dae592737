/* The shared libraries ELF objects load: their DT_NEEDED closure, resolved
 * the way the dynamic loader does (DT_RPATH, DT_RUNPATH with $ORIGIN,
 * /etc/ld.so.cache, the default directories), and the loader itself
 * (PT_INTERP). Reads files only; runs nothing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define ELFDEPS_MAX_OBJECTS 4096

typedef struct ElfDeps ElfDeps;

int elfdeps_new(ElfDeps **ret);
void elfdeps_free(ElfDeps *d);
static inline void elfdeps_freep(ElfDeps **d) {
        elfdeps_free(*d);
}

/* Adds the ELF object at path (a file that is not ELF is ignored: 0) and
 * everything it needs. A library that cannot be found is skipped, as the
 * loader would fail only when the object is loaded (optional modules). */
int elfdeps_add(ElfDeps *d, const char *path);

/* The paths (as the loader opens them, symlinks not resolved) of every
 * library and loader found, in discovery order, NULL-terminated; owned by d. */
char *const *elfdeps_libraries(const ElfDeps *d);

/* 1 when the file at path starts with the ELF magic, 0 when not. */
int elf_is_elf(const char *path);
