/* The command line parser on arbitrary argv: the input split at NULs gives
 * the arguments after "vrun". */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util/cleanup.h"
#include "vrun/verbs/cli.h"
#include "util/log.h"

#define MAX_ARGS 4096

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        /* Usage errors are formatted but not printed. */
        log_set_max_level(getenv("VRUN_FUZZ_LOG") ? LOG_LEVEL_DEBUG : -1);
        return 0;
}

/* Splits a copy of data at NULs into argv after "vrun"; NULL when too many. */
static char **make_argv(const uint8_t *data, size_t size, int *ret_argc) {
        size_t n = 1;
        for (size_t i = 0; i < size; i++)
                if (data[i] == 0)
                        n++;
        if (n + 1 > MAX_ARGS)
                return NULL;
        /* The pointers, then the strings, in one allocation. */
        char **argv = malloc((n + 2) * sizeof(char *) + size + 1);
        if (!argv)
                abort();
        char *buf = (char *) (argv + n + 2);
        memcpy(buf, data, size);
        buf[size] = 0;
        int argc = 0;
        argv[argc++] = (char *) "vrun";
        for (char *p = buf; p <= buf + size; p += strlen(p) + 1)
                argv[argc++] = p;
        argv[argc] = NULL;
        *ret_argc = argc;
        return argv;
}

static bool same_str(const char *a, const char *b) {
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        int argc;
        _cleanup_free_ char **argv = make_argv(data, size, &argc);
        if (!argv)
                return 0;
        Cli c;
        int r = cli_parse(argc, argv, &c);
        if (r >= 0) {
                /* What main and the verbs read must be there. */
                if ((c.verb == VERB_CREATE && !c.env) || (c.verb == VERB_RUN && (!c.env || !c.argv)))
                        abort();
        }

        /* The same command line parsed again, from another copy, must give
         * the same answer: nothing of one parse may leak into the next. */
        int argc2;
        _cleanup_free_ char **argv2 = make_argv(data, size, &argc2);
        Cli c2;
        int r2 = cli_parse(argc2, argv2, &c2);
        if (r != r2)
                abort();
        if (r >= 0) {
                if (c.verb != c2.verb || !same_str(c.env, c2.env) || !same_str(c.help_verb, c2.help_verb) ||
                    c.json != c2.json || c.run.verbose != c2.run.verbose || c.run.n_binds != c2.run.n_binds ||
                    c.run.dry_run != c2.run.dry_run || !same_str(c.run.profile, c2.run.profile) ||
                    !same_str(c.create.python, c2.create.python) || (!c.argv != !c2.argv) ||
                    (c.argv && c.argv - argv != c2.argv - argv2))
                        abort();
                cli_done(&c2);
                cli_done(&c);
        }
        return 0;
}
