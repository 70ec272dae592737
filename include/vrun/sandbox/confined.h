/* Running a program vrun must ask something (the base interpreter: its
 * facts; a compile step) inside a sandbox rather than on the host: a
 * read-only view of the host with vrun's cache and state hidden, no network,
 * a fresh /tmp, new user/mount/pid/ipc/uts/net namespaces, no capabilities,
 * no_new_privs, the strict seccomp set, cwd "/", stdin /dev/null or a
 * file vrun gives it. Whatever
 * that program is, it can at most lie in what it prints; it cannot write the
 * host or run anything outside the sandbox. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct ConfinedRun {
        char *const *argv;    /* argv[0]: the program's absolute path */
        const char *writable; /* NULL, or one directory bound writable at its path (a
                               * compile's output); everything else is read-only */
        int stdin_fd;         /* > 2: its stdin (a memfd, at its offset); else /dev/null */
        bool show_stderr;     /* its stderr to vrun's (else /dev/null) */
        size_t max;           /* the most it may print on stdout */
} ConfinedRun;

/* Runs r->argv confined and returns what it printed on stdout
 * (NUL-terminated). -ENOEXEC when it does not exit 0, -EFBIG when it prints
 * more than r->max, other -errno when the sandbox could not be set up.
 * Logs nothing (unless show_stderr: then the sandbox's own errors too). */
int confined_capture(const ConfinedRun *r, char **ret_stdout);
