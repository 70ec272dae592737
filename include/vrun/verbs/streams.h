/* The standard streams a run hands to its program, checked before anything
 * runs. An fd is a handle on the host's tree that no mount inside can take
 * back: a directory lets openat(0, ...) create files outside the sandbox's
 * view, an O_PATH or read-only regular file can be reopened through
 * /proc/self/fd/N with more access than it was given. So fds 0-2 are passed
 * only when they are a terminal, a pipe, a socket, a regular file or a
 * harmless character device (/dev/null, zero, full, random, urandom);
 * anything else is refused with one line. A regular file given read-only as
 * stdin that the program could reopen for writing reaches it through a pipe
 * that a process of vrun fills, so it stays read-only; a regular file given
 * write-only as stdout or stderr that it could reopen for reading (and so
 * read what it held before) is written by a process of vrun from a pipe the
 * program writes. Terminals and pipes are passed as they are. */
#pragma once

#include <sys/types.h>
#include <stdbool.h>

#include "vrun/sandbox/plan.h"

typedef struct StreamsGuard {
        int saved[3];  /* the caller's fd 0-2 while a pipe replaces it, or -1 */
        pid_t pump[3]; /* the process that moves between that pipe and the caller's fd, or 0.
                        * A forked process, not a thread: vrun clones the sandbox later, and
                        * a clone of a multi-threaded process can inherit a libc lock held by
                        * the other thread (seen: a hang) */
} StreamsGuard;

#define STREAMS_GUARD_INIT              \
        {                               \
                .saved = { -1, -1, -1 } \
        }

/* Checks fds 0-2 (the bits of `which`: 1 << fd) and starts the pumps that
 * are needed. An output pump writes its file under the plan's RLIMIT_FSIZE
 * (plan may be NULL), as the program would have. Logs one line and returns -errno (-EPERM for a stream
 * that is refused). */
int streams_guard_begin(unsigned which, const Plan *plan, StreamsGuard *g);

/* Gives the caller its streams back and waits until every pump is done
 * (all the program's output is in its file). Accepts a guard that
 * was never begun. */
void streams_guard_end(StreamsGuard *g);
