#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int max_level = LOG_LEVEL_WARNING;

void log_set_max_level(int level) {
        max_level = level;
}
int log_get_max_level(void) {
        return max_level;
}

int log_internal(int level, int err, const char *fmt, ...) {
        int e = err < 0 ? -err : err;
        if (level <= max_level) {
                char buf[8192];
                va_list ap;
                va_start(ap, fmt);
                errno = e;
                vsnprintf(buf, sizeof buf, fmt, ap);
                va_end(ap);
                /* One write per line so concurrent vrun processes do not interleave. */
                fprintf(stderr, "vrun: %s%s\n", level == LOG_LEVEL_WARNING ? "warning: " : "", buf);
        }
        return e ? -e : -EINVAL;
}
