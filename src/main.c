/* vrun: the verb table, and the only place where errors become exit codes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util/cleanup.h"
#include "util/path.h"
#include "vrun/verbs/cli.h"
#include "vrun/exit.h"
#include "util/log.h"
#include "vrun/verbs/run.h"
#include "vrun/verbs/verbs.h"

#include "vrun/venv/venv.h"

/* pyvenv.cfg's `command`: how to make this env again. */
static char *describe_create(const Cli *c) {
        char self[VRUN_PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
                strcpy(self, "vrun");
        else
                self[n] = 0;
        /* A path vrun cannot make absolute is reported by venv_create;
         * here it is only recorded as given. */
        _cleanup_free_ char *abs = NULL;
        if (path_make_absolute(c->env, &abs) < 0 && !(abs = strdup(c->env)))
                return NULL;
        const CreateOptions *o = &c->create;
        char *s = NULL;
        if (asprintf(&s, "%s create%s%s%s%s%s%s%s%s%s %s", self, o->python ? " --python " : "",
                     o->python ? o->python : "", o->prompt ? " --prompt " : "", o->prompt ? o->prompt : "",
                     o->without_pip ? " --without-pip" : "", o->system_site_packages ? " --system-site-packages" : "",
                     o->copies ? " --copies" : "", o->clear ? " --clear" : "", o->upgrade ? " --upgrade" : "", abs) < 0)
                return NULL;
        return s;
}

static int verb_create(const Cli *c) {
        _cleanup_free_ char *cmd = describe_create(c);
        if (!cmd) {
                log_error("out of memory");
                return EXIT_FAILURE;
        }
        return venv_create(c->env, &c->create, cmd) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(int argc, char **argv) {
        Cli c;
        int r = cli_parse(argc, argv, &c);
        if (r < 0)
                return EXIT_USAGE;

        /* `vrun crate .venv` is a typo, not an env to create. */
        const char *hint = c.implicit_run ? cli_verb_hint(c.env) : NULL;
        struct stat st;
        if (hint && lstat(c.env, &st) < 0) {
                log_error("unknown verb '%s' (did you mean '%s'?); to use an env of that name, say "
                          "'vrun run %s ...'",
                          c.env, hint, c.env);
                cli_done(&c);
                return EXIT_USAGE;
        }

        int status;
        switch (c.verb) {
        case VERB_HELP:
                cli_help(c.help_verb, c.help_is_usage_error ? stderr : stdout);
                status = c.help_is_usage_error ? EXIT_USAGE : EXIT_SUCCESS;
                break;
        case VERB_VERSION:
                printf("vrun %s\n", VRUN_VERSION);
                status = EXIT_SUCCESS;
                break;
        case VERB_CREATE: status = verb_create(&c); break;
        case VERB_RUN:
                /* `vrun ENV` with no command is a shell. */
                status = c.argv && c.argv[0] ? run_main(&c) : shell_main(&c);
                break;
        case VERB_SHELL: status = shell_main(&c); break;
        case VERB_PROFILES: status = profiles_main(&c); break;
        case VERB_PROVE: status = prove_main(&c); break;
        case VERB_INFO: status = info_main(&c); break;
        case VERB_VERIFY: status = verify_main(&c); break;
        case VERB_DOCTOR: status = doctor_main(&c); break;
        case VERB_EXPORT: status = export_main(&c); break;
        default: log_error("this verb is not available yet (see 'vrun --help')"); status = EXIT_USAGE;
        }
        cli_done(&c);
        return status;
}
