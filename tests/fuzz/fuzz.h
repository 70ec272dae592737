/* The libFuzzer entry points every target defines. The same sources build
 * the fuzzers (clang, -Dfuzz=true) and, with test-fuzz-regressions.c as
 * main, the unit tests that replay the corpora and the crash fixtures. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a file reader hands it on: NUL-terminated (a NUL inside ends
 * the text). Aborts when out of memory. */
static inline char *fuzz_text(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);
        if (!s)
                abort();
        memcpy(s, data, size);
        s[size] = 0;
        return s;
}
