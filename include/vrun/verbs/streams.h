/* The standard streams a run hands to its program, checked before anything
 * runs. An fd is a handle on the host's tree that no mount inside can take
 * back: a directory lets openat(0, ...) create files outside the sandbox's
 * view, an O_PATH or read-only regular file can be reopened through
 * /proc/self/fd/N with more access than it was given. So fds 0-2 are passed
 * only when they are a terminal, a pipe, a socket, a regular file or a
 * harmless character device (/dev/null, zero, full, random, urandom);
 * anything else is refused with one line. A regular file given read-only as
 * stdin that the program could reopen for writing reaches it through a pipe
 * that vrun fills (a thread of the vrun process), so it stays read-only. */
#pragma once

#include <sys/types.h>
#include <stdbool.h>

typedef struct StreamsGuard {
        int saved_stdin; /* the caller's stdin while a pump replaces it, or -1 */
        int pump_out;    /* the pipe's write end the pump fills (and closes), or -1 */
        bool pumping;
        pid_t pump; /* a forked process, not a thread: vrun clones the sandbox
                     * later, and a clone of a multi-threaded process can inherit
                     * a libc lock held by the other thread (seen: a hang) */
} StreamsGuard;

#define STREAMS_GUARD_INIT \
        { .saved_stdin = -1, .pump_out = -1 }

/* Checks fds 0-2 (the bits of `which`: 1 << fd) and starts the stdin pump
 * when one is needed. Logs one line and returns -errno (-EPERM for a stream
 * that is refused). */
int streams_guard_begin(unsigned which, StreamsGuard *g);

/* Stops the pump and gives the caller its stdin back. Accepts a guard that
 * was never begun. */
void streams_guard_end(StreamsGuard *g);
