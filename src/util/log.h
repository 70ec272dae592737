/* vrun's only way to talk to the user: one line per message on stderr,
 * prefixed "vrun: ". Helpers return -errno and stay silent; the caller that
 * can say what the user should do logs once. */
#pragma once

#include <stdarg.h>

enum { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARNING = 1, LOG_LEVEL_INFO = 2, LOG_LEVEL_DEBUG = 3 };

void log_set_max_level(int level);

/* Prints the message with errno set to |err| so "%m" names the error.
 * Returns -|err| (or -EINVAL when err is 0) so callers can
 * `return log_error_errno(r, "...: %m");`. */
int log_internal(int level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_error_errno(err, ...)   log_internal(LOG_LEVEL_ERROR, (err), __VA_ARGS__)
#define log_warning_errno(err, ...) log_internal(LOG_LEVEL_WARNING, (err), __VA_ARGS__)
#define log_error(...)              ((void) log_internal(LOG_LEVEL_ERROR, 0, __VA_ARGS__))
#define log_warning(...)            ((void) log_internal(LOG_LEVEL_WARNING, 0, __VA_ARGS__))
/* Something the user must hear of at every verbosity (not an error). */
#define log_notice(...) ((void) log_internal(LOG_LEVEL_ERROR, 0, __VA_ARGS__))
#define log_info(...)   ((void) log_internal(LOG_LEVEL_INFO, 0, __VA_ARGS__))
#define log_debug(...)  ((void) log_internal(LOG_LEVEL_DEBUG, 0, __VA_ARGS__))
