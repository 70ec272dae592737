#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int max_level = LOG_LEVEL_WARNING;

void log_set_max_level(int level) {
        max_level = level;
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
                /* A path with a newline or an ESC must not forge a second
                 * message or drive the terminal: control characters are
                 * shown escaped, as C escapes. */
                char safe[sizeof buf * 4];
                size_t o = 0;
                for (const unsigned char *p = (const unsigned char *) buf; *p && o + 5 < sizeof safe; p++) {
                        if (*p == '\n' || *p == '\t' || *p == '\r') {
                                safe[o++] = '\\';
                                safe[o++] = (char) (*p == '\n' ? 'n' : *p == '\t' ? 't' : 'r');
                        } else if (*p < 0x20 || *p == 0x7f)
                                o += (size_t) snprintf(safe + o, sizeof safe - o, "\\x%02x", *p);
                        else
                                safe[o++] = (char) *p;
                }
                safe[o] = 0;
                /* One write per line so concurrent vrun processes do not interleave. */
                fprintf(stderr, "vrun: %s%s\n", level == LOG_LEVEL_WARNING ? "warning: " : "", safe);
        }
        return e ? -e : -EINVAL;
}
