#include "util/hint.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define HINT_MAX_LEN 64

size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        size_t row[HINT_MAX_LEN + 1];

        if (la > HINT_MAX_LEN || lb > HINT_MAX_LEN)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t cost = ascii_lower((unsigned char) a[i - 1]) != ascii_lower((unsigned char) b[j - 1]);
                        size_t best = diag + cost;
                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diag = up;
                }
        }
        return row[lb];
}

/* Up to two edits away, one for short words, where two edits turn anything into anything. */
void hint_consider(Hint *h, const char *candidate) {
        size_t d = edit_distance(h->word, candidate);
        size_t limit = strlen(h->word) <= 3 ? 1 : 2;

        if (d <= limit && d < h->distance) {
                char *c = strdup(candidate);
                if (!c)
                        return;
                free(h->best);
                h->best = c;
                h->distance = d;
        }
}

char *hint_among(const char *word, const char *const *candidates) {
        Hint h = { word, SIZE_MAX, NULL };
        for (size_t i = 0; candidates[i]; i++)
                hint_consider(&h, candidates[i]);
        return h.best;
}
