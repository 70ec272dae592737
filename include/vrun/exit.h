/* vrun's exit statuses, defined once, and the only translations of an error
 * or a wait status into one. The contract (docs/architecture.md):
 *
 *   - every function below a verb returns -errno (>= 0 is success) and
 *     stays silent or logs once, never both; -EINVAL from the functions that
 *     check what the user gave (cli_parse, profile_load, plan_build and
 *     run_build_plan, which passes theirs on) means "change the command";
 *   - every verb's entry point, int VERB_main(const Cli *), returns an exit
 *     status from this file (or the payload's own) and nothing else;
 *   - the executor (sandbox_run) returns -errno when vrun failed and the
 *     payload's status otherwise: its own, 128+N for signal N, and the
 *     statuses below that stand for the payload (timeout, cannot execute,
 *     not found). */
#pragma once

#include <stdlib.h>
#include <sys/wait.h>

enum {
        /* EXIT_SUCCESS (0) and EXIT_FAILURE (1) come from <stdlib.h>: 1 is
         * "the verb's answer is no" (prove found a leak, doctor a missing
         * feature) or "it failed" for verbs that run nothing. */
        EXIT_USAGE = 2,         /* the command line or the profile is wrong */
        EXIT_TIMEOUT = 124,     /* the profile's timeout killed the payload (as timeout(1)) */
        EXIT_SETUP = 125,       /* vrun itself failed; the message names the step and errno */
        EXIT_CANNOT_EXEC = 126, /* CMD exists but cannot be executed */
        EXIT_NOT_FOUND = 127,   /* CMD is not found */
        EXIT_SIGNAL_BASE = 128, /* + N: the payload died of signal N */
};

/* The status of a verb whose step failed with r (< 0): usage for -EINVAL
 * from a function that checks the user's input, else failure. */
static inline int exit_status_from_error(int r, int failure) {
        return r == -EINVAL ? EXIT_USAGE : failure;
}

/* The status a shell would report for a child's wait status. */
static inline int exit_status_from_wait(int wstatus) {
        if (WIFEXITED(wstatus))
                return WEXITSTATUS(wstatus);
        if (WIFSIGNALED(wstatus))
                return EXIT_SIGNAL_BASE + WTERMSIG(wstatus);
        return EXIT_SETUP;
}
