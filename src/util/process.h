/* Running a helper program on the host and reading what it prints. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Runs argv (argv[0] a path) with cwd "/", stdin from /dev/null and stderr
 * dropped unless show_stderr, and returns at most max bytes of its stdout
 * (NUL-terminated). -ENOEXEC when it does not exit 0, -EFBIG when it prints
 * more than max. */
int spawn_capture(char *const *argv, bool show_stderr, size_t max, char **ret);
/* The same with stdin_fd (its offset, usually a memfd rewound to 0) as its
 * stdin; -1 for /dev/null. */
int spawn_capture_stdin(char *const *argv, int stdin_fd, bool show_stderr, size_t max, char **ret);
