/* NULL-terminated string vectors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

void strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ __attribute__((cleanup(strv_freep)))

size_t strv_length(char *const *l);
/* Appends a copy of s; -ENOMEM on failure (l unchanged). */
int strv_extend(char ***l, const char *s);
/* Appends s itself (takes ownership on success only). */
int strv_push(char ***l, char *s);
bool strv_contains(char *const *l, const char *s);
char **strv_copy(char *const *l);

/* NOLINTNEXTLINE(bugprone-macro-parentheses): s is the name the loop declares */
#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)
