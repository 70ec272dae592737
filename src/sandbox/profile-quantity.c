/* Quantities in a profile: counts, sizes with K/M/G/T suffixes, durations
 * with s/m/h/d, and "unlimited", each within its range. */
#include <sys/resource.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/profile-internal.h"
#include "util/cleanup.h"
#include "util/log.h"

/* Digits and at most one unit letter; -EINVAL for anything else, -ERANGE on overflow. */
static int parse_scaled(const char *str, Quantity kind, uint64_t *ret) {
        uint64_t v = 0, factor = 1;
        const char *p = str;

        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        if (*p) {
                if (p[1])
                        return -EINVAL;
                if (kind == Q_SIZE)
                        switch (*p) {
                        case 'K':
                        case 'k': factor = SIZE_K; break;
                        case 'M':
                        case 'm': factor = SIZE_M; break;
                        case 'G':
                        case 'g': factor = SIZE_G; break;
                        case 'T':
                        case 't': factor = SIZE_T; break;
                        default: return -EINVAL;
                        }
                else if (kind == Q_DURATION)
                        switch (*p) {
                        case 's': factor = 1; break;
                        case 'm': factor = 60; break;
                        case 'h': factor = 3600; break;
                        case 'd': factor = 86400; break;
                        default: return -EINVAL;
                        }
                else
                        return -EINVAL;
        }
        if (v > UINT64_MAX / factor)
                return -ERANGE;
        *ret = v * factor;
        return 0;
}

/* "unlimited" is returned as RLIM_INFINITY. */
int profile_get_quantity(const Source *s, const JPath *at, const json_t *v, const QuantitySpec *q, uint64_t *ret) {
        uint64_t value;
        char shown[QUOTE_SIZE];

        if (json_is_integer(v)) {
                json_int_t i = json_integer_value(v);
                snprintf(shown, sizeof shown, "%lld", (long long) i);
                if (i < 0)
                        return fail(s, at, "%s: %s is out of range (%s)", PATHSTR(at), shown, q->range);
                value = (uint64_t) i;
        } else if (json_is_string(v)) {
                const char *str = json_string_value(v);
                int r;

                if (q->unlimited_ok && strcmp(str, "unlimited") == 0) {
                        *ret = RLIM_INFINITY;
                        return 0;
                }
                profile_quote(str, shown, sizeof shown);
                r = parse_scaled(str, q->kind, &value);
                if (r == -EINVAL)
                        switch (q->kind) {
                        case Q_SIZE:
                                return fail(s, at,
                                            "%s: bad size %s (use a number of bytes, or digits followed by K, M, G or "
                                            "T, e.g. \"512M\")",
                                            PATHSTR(at), shown);
                        case Q_DURATION:
                                return fail(s, at,
                                            "%s: bad duration %s (use a number of seconds, or digits followed by s, m, "
                                            "h or d, e.g. \"10m\")",
                                            PATHSTR(at), shown);
                        case Q_COUNT:
                                return fail(s, at, "\"%s\" must be an integer%s, got %s", PATHSTR(at),
                                            q->unlimited_ok ? " or \"unlimited\"" : "", shown);
                        }
                if (r < 0)
                        value = UINT64_MAX;
        } else
                return profile_fail_type(s, at, "an integer or a string", v);

        if (value < q->min || value > q->max)
                return fail(s, at, "%s: %s is out of range (%s)", PATHSTR(at), shown, q->range);
        *ret = value;
        return 0;
}
