/* vrun verify: whether an env still is what was installed, after untrusted
 * code ran in it. Reads the env and vrun's record of it; runs nothing from
 * it, and nothing at all inside. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "util/cleanup.h"
#include "util/log.h"
#include "util/path.h"
#include "util/strv.h"
#include "vrun/exit.h"
#include "vrun/venv/envcheck.h"
#include "vrun/verbs/verbs.h"

#define _cleanup_json_ __attribute__((cleanup(json_decrefp)))

static json_t *report_json(const char *env, const EnvCheck *c) {
        _cleanup_json_ json_t *f = json_array(), *u = json_array();
        if (!f || !u)
                return NULL;
        for (size_t k = 0; k < c->n_findings; k++)
                if (json_array_append_new(
                            f, json_pack("{s:s, s:s}", "path", c->findings[k].path, "what", c->findings[k].what)) < 0)
                        return NULL;
        STRV_FOREACH (p, c->unchecked)
                if (json_array_append_new(u, json_string(*p)) < 0)
                        return NULL;
        return json_pack("{s:s, s:b, s:s?, s:I, s:I, s:O, s:I, s:O}", "env", env, "clean", c->n_findings == 0, "base",
                         c->base, "files_checked", (json_int_t) c->n_files, "distributions", (json_int_t) c->n_dists,
                         "findings", f, "more_findings", (json_int_t) c->n_more, "unchecked", u);
}

static void print_report(const char *env, const EnvCheck *c) {
        for (size_t k = 0; k < c->n_findings; k++)
                printf("%s: %s\n", c->findings[k].path, c->findings[k].what);
        if (c->n_more)
                printf("... and %zu more findings\n", c->n_more);
        size_t n_unchecked = strv_length(c->unchecked);
        if (n_unchecked)
                printf("not checked: %zu files vrun cannot check without running Python (bytecode no RECORD "
                       "lists, scripts of another tool); see --json\n",
                       n_unchecked);
        if (c->n_findings == 0)
                printf("%s: clean: %zu files of %zu distributions match their RECORD; pyvenv.cfg, bin/python* "
                       "and the activate scripts are as vrun made them; no file in site-packages or bin/ "
                       "that no RECORD owns\n",
                       env, c->n_files, c->n_dists);
        else
                printf("%s: %zu finding%s\n", env, c->n_findings + c->n_more,
                       c->n_findings + c->n_more == 1 ? "" : "s");
}

int verify_main(const Cli *c) {
        _cleanup_free_ char *abs = NULL;
        int r = path_make_absolute(c->env, &abs);
        if (r < 0) {
                log_error_errno(r, "bad ENV '%s': %m", c->env);
                return EXIT_FAILURE;
        }
        _cleanup_close_ int fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                log_error_errno(errno, "cannot open venv '%s': %m", c->env);
                return EXIT_FAILURE;
        }
        if (faccessat(fd, "pyvenv.cfg", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                log_error_errno(errno, "'%s' is not a venv (it has no pyvenv.cfg)", c->env);
                return EXIT_FAILURE;
        }
        _cleanup_(envcheck_done) EnvCheck chk = {};
        r = envcheck_run(abs, fd, &chk);
        if (r < 0) {
                log_error_errno(r, "cannot check venv '%s': %m", c->env);
                return EXIT_FAILURE;
        }
        if (c->json) {
                _cleanup_json_ json_t *j = report_json(abs, &chk);
                if (!j) {
                        log_error("out of memory");
                        return EXIT_FAILURE;
                }
                json_dumpf(j, stdout, JSON_INDENT(2));
                putchar('\n');
        } else
                print_report(c->env, &chk);
        if (fflush(stdout) != 0) {
                log_error_errno(errno, "cannot write to stdout: %m");
                return EXIT_FAILURE;
        }
        return chk.n_findings + chk.n_more == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
