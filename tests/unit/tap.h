/* Minimal TAP-ish assertions for vrun's unit tests. A failed check prints
 * where and what, and the test exits 1 at the end. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_failures;
static int tap_checks;

#define CHECK(cond)                                                                       \
        do {                                                                              \
                tap_checks++;                                                             \
                if (!(cond)) {                                                            \
                        tap_failures++;                                                   \
                        fprintf(stderr, "not ok %s:%d: %s\n", __FILE__, __LINE__, #cond); \
                }                                                                         \
        } while (0)

#define CHECK_STREQ(a, b)                                                                                           \
        do {                                                                                                        \
                const char *_a = (a), *_b = (b);                                                                    \
                tap_checks++;                                                                                       \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                                            \
                        tap_failures++;                                                                             \
                        fprintf(stderr, "not ok %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, _a ? _a : "(null)", \
                                _b ? _b : "(null)");                                                                \
                }                                                                                                   \
        } while (0)

#define CHECK_INTEQ(a, b)                                                                                             \
        do {                                                                                                          \
                long long _a = (long long) (a), _b = (long long) (b);                                                 \
                tap_checks++;                                                                                         \
                if (_a != _b) {                                                                                       \
                        tap_failures++;                                                                               \
                        fprintf(stderr, "not ok %s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, _a, _b); \
                }                                                                                                     \
        } while (0)

static inline int tap_finish(void) {
        printf("%d checks, %d failed\n", tap_checks, tap_failures);
        return tap_failures ? 1 : 0;
}
