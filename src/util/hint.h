/* "Did you mean": the candidate a mistyped word was probably meant to be. */
#pragma once

#include <stddef.h>

static inline int ascii_lower(int c) {
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

typedef struct Hint {
        const char *word;
        size_t distance;
        char *best; /* owned; NULL while nothing is close enough */
} Hint;

/* Case-insensitive edit distance; SIZE_MAX for words too long to be typos. */
size_t edit_distance(const char *a, const char *b);

/* Keeps candidate in h when it is the closest so far and close enough: up to
 * two edits away, one for words of three letters or fewer. */
void hint_consider(Hint *h, const char *candidate);

/* The closest of the NULL-terminated candidates (malloc'd), or NULL. */
char *hint_among(const char *word, const char *const *candidates);
