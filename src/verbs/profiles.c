#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/cleanup.h"
#include "util/log.h"
#include "vrun/sandbox/profile.h"
#include "vrun/verbs/verbs.h"
#include "vrun/exit.h"

static int show_one(const char *name, bool as_json) {
        _cleanup_(profile_freep) Profile *p = NULL;
        int r = profile_load(name, &p);
        /* profile_load has said what is wrong. */
        if (r < 0)
                return r == -ENOENT ? EXIT_USAGE : exit_status_from_error(r, EXIT_FAILURE);
        json_t *j = profile_to_json(p);
        if (!j) {
                log_error("out of memory");
                return EXIT_FAILURE;
        }
        if (as_json) {
                /* Loadable back as a profile file: no "name" key. */
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                fputc('\n', stdout);
        } else {
                /* The resolved profile: what a run with it will do. */
                printf("# profile %s%s%s\n", p->name, p->description ? ": " : "", p->description ? p->description : "");
                json_object_del(j, "description");
                json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                fputc('\n', stdout);
        }
        json_decref(j);
        return EXIT_SUCCESS;
}

int profiles_main(const Cli *c) {
        if (c->env)
                return show_one(c->env, c->json);

        const char *const *names = profile_builtin_names();
        if (c->json) {
                json_t *a = json_array();
                for (size_t i = 0; a && names[i]; i++) {
                        _cleanup_(profile_freep) Profile *p = NULL;
                        if (profile_load(names[i], &p) < 0) {
                                json_decref(a);
                                return EXIT_FAILURE;
                        }
                        json_array_append_new(
                                a, json_pack("{s:s, s:s?}", "name", names[i], "description", p->description));
                }
                if (!a) {
                        log_error("out of memory");
                        return EXIT_FAILURE;
                }
                json_dumpf(a, stdout, JSON_INDENT(2));
                fputc('\n', stdout);
                json_decref(a);
                return EXIT_SUCCESS;
        }
        for (size_t i = 0; names[i]; i++) {
                _cleanup_(profile_freep) Profile *p = NULL;
                if (profile_load(names[i], &p) < 0)
                        return EXIT_FAILURE;
                printf("%-10s %s\n", names[i], p->description ? p->description : "");
        }
        return EXIT_SUCCESS;
}
