/* vrun info: what an env is built on and what a run in it hides. It reads
 * the env and the plan `vrun run` would build (default profile), runs
 * nothing inside, and never creates the env. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "util/cleanup.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/log.h"
#include "vrun/sandbox/plan.h"
#include "vrun/verbs/run.h"
#include "vrun/exit.h"
#include "vrun/verbs/verbs.h"

#define INFO_MAX_DISTS        10000
#define INFO_MAX_HEADER_LINES 10000
#define INFO_LINE_MAX         4096

#define _cleanup_json_ __attribute__((cleanup(json_decrefp)))

typedef struct Dist {
        char *name;
        char *version;
} Dist;

static void dists_free(Dist *d, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(d[i].name);
                free(d[i].version);
        }
        free(d);
}

static char *strip(char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        size_t l = strlen(s);
        while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
                s[--l] = 0;
        return s;
}

/* Name and Version from the METADATA headers (RFC 822 style: they end at
 * the first empty line; the long description after it is not read). */
static int read_metadata(int dirfd, const char *dist_dir, Dist *ret) {
        _cleanup_free_ char *path = path_join(dist_dir, "METADATA");
        if (!path)
                return -ENOMEM;
        int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        _cleanup_fclose_ FILE *f = fdopen(fd, "r");
        if (!f) {
                close(fd);
                return negative_errno();
        }
        _cleanup_free_ char *name = NULL, *version = NULL;
        char line[INFO_LINE_MAX];
        for (int n = 0; n < INFO_MAX_HEADER_LINES && fgets(line, sizeof line, f); n++) {
                if (line[0] == '\n' || (line[0] == '\r' && line[1] == '\n'))
                        break;
                char *colon = strchr(line, ':');
                if (!colon)
                        continue;
                *colon = 0;
                char **slot = strcasecmp(line, "Name") == 0      ? &name
                              : strcasecmp(line, "Version") == 0 ? &version
                                                                 : NULL;
                if (!slot || *slot)
                        continue;
                if (!(*slot = strdup(strip(colon + 1))))
                        return -ENOMEM;
        }
        if (!name || !version)
                return -EBADMSG;
        ret->name = TAKE_PTR(name);
        ret->version = TAKE_PTR(version);
        return 0;
}

/* Without a readable METADATA, the directory's name says NAME-VERSION. */
static int dist_from_dirname(const char *d, Dist *ret) {
        size_t l = strlen(d) - STRLEN(".dist-info");
        const char *dash = memchr(d, '-', l);
        if (!dash)
                return -EBADMSG;
        ret->name = strndup(d, (size_t) (dash - d));
        ret->version = strndup(dash + 1, l - (size_t) (dash - d) - 1);
        if (!ret->name || !ret->version) {
                free(ret->name);
                free(ret->version);
                return -ENOMEM;
        }
        return 0;
}

static int dist_cmp(const void *a, const void *b) {
        return strcasecmp(((const Dist *) a)->name, ((const Dist *) b)->name);
}

/* The distributions installed in site (its *.dist-info), sorted by name. */
static int list_dists(const char *site, Dist **ret, size_t *ret_n) {
        _cleanup_closedir_ DIR *d = opendir(site);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = NULL;
                        *ret_n = 0;
                        return 0;
                }
                return negative_errno();
        }
        Dist *dists = NULL;
        size_t n = 0;
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                if (l <= STRLEN(".dist-info") || strcmp(de->d_name + l - STRLEN(".dist-info"), ".dist-info") != 0)
                        continue;
                if (n >= INFO_MAX_DISTS) {
                        r = -E2BIG;
                        break;
                }
                Dist *nd = realloc(dists, (n + 1) * sizeof *nd);
                if (!nd) {
                        r = -ENOMEM;
                        break;
                }
                dists = nd;
                dists[n] = (Dist){};
                r = read_metadata(dirfd(d), de->d_name, &dists[n]);
                if (r == -ENOMEM)
                        break;
                if (r < 0 && (r = dist_from_dirname(de->d_name, &dists[n])) < 0) {
                        if (r == -ENOMEM)
                                break;
                        r = 0;
                        continue;
                }
                n++;
        }
        if (r < 0) {
                dists_free(dists, n);
                return r;
        }
        if (n > 1)
                qsort(dists, n, sizeof *dists, dist_cmp);
        *ret = dists;
        *ret_n = n;
        return 0;
}

static bool is_dir(const char *p) {
        struct stat st;
        return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static json_t *build_info(const RunContext *ctx, const Plan *plan, const Dist *dists, size_t n) {
        const InterpInfo *i = ctx->interp;
        _cleanup_json_ json_t *pkgs = json_array(), *hidden = json_array();
        if (!pkgs || !hidden)
                return NULL;
        const char *pip = NULL;
        for (size_t k = 0; k < n; k++) {
                if (strcasecmp(dists[k].name, "pip") == 0)
                        pip = dists[k].version;
                if (json_array_append_new(
                            pkgs, json_pack("{s:s, s:s}", "name", dists[k].name, "version", dists[k].version)) < 0)
                        return NULL;
        }
        const char *overlay = NULL;
        for (size_t k = 0; k < plan->n_steps; k++) {
                const MountStep *m = &plan->steps[k].mount;
                if (plan->steps[k].kind == STEP_MOUNT && m->kind == MOUNT_EMPTY &&
                    json_array_append_new(hidden, json_pack("{s:s, s:s, s:b}", "path", m->dsts[0], "why", m->why,
                                                            "present", is_dir(m->dsts[0]))) < 0)
                        return NULL;
        }
        /* The sandbox overlays the env on the first of these that exists
         * (unless the env asks for the base's packages). */
        STRV_FOREACH (sp, ctx->system_site_packages ? NULL : i->site_packages)
                if (!overlay && is_dir(*sp))
                        overlay = *sp;
        return json_pack("{s:s, s:b, s:{s:s, s:s, s:s, s:s}, s:s?, s:O, s:O, s:s?, s:{s:s, s:s?}, s:{s:s?, s:b}}",
                         "env", ctx->env, "system_site_packages", ctx->system_site_packages, "python", "executable",
                         i->executable, "version", i->version, "implementation",
                         i->implementation ? i->implementation : "", "prefix", i->prefix, "pip", pip, "packages", pkgs,
                         "hidden", hidden, "overlay", overlay, "profile", "name", ctx->profile->name, "description",
                         ctx->profile->description, "interpreter_cache", "path", i->cache_path, "fresh", i->from_cache);
}

#define FIELD "%-19s"
#define MORE  "                   "

static void print_info(json_t *j) {
        json_t *py = json_object_get(j, "python"), *v;
        size_t k;
        printf(FIELD "%s\n", "env:", json_string_value(json_object_get(j, "env")));
        printf(FIELD "%s (%s %s)\n", "base interpreter:", json_string_value(json_object_get(py, "executable")),
               json_string_value(json_object_get(py, "implementation")),
               json_string_value(json_object_get(py, "version")));
        if (json_is_true(json_object_get(j, "system_site_packages")))
                printf(FIELD "visible inside, as the env asks (include-system-site-packages = true)\n",
                       "system packages:");
        json_t *pip = json_object_get(j, "pip");
        printf(FIELD "%s\n", "pip:", json_is_string(pip) ? json_string_value(pip) : "not installed");
        json_t *pkgs = json_object_get(j, "packages");
        printf(FIELD "%zu installed\n", "packages:", json_array_size(pkgs));
        json_array_foreach (pkgs, k, v)
                printf(MORE "%s %s\n", json_string_value(json_object_get(v, "name")),
                       json_string_value(json_object_get(v, "version")));
        printf(FIELD "an empty read-only mount on each of\n", "hidden inside:");
        json_array_foreach (json_object_get(j, "hidden"), k, v) {
                const char *why = json_string_value(json_object_get(v, "why"));
                bool present = json_is_true(json_object_get(v, "present"));
                printf(MORE "%s%s%s\n", json_string_value(json_object_get(v, "path")),
                       strcmp(why, "hide global packages") == 0 ? ""
                       : strcmp(why, "hide vrun's state") == 0  ? " (vrun's state)"
                                                                : " (vrun's cache)",
                       present ? "" : " (absent on this host)");
        }
        json_t *ov = json_object_get(j, "overlay");
        if (json_is_string(ov))
                printf(FIELD "%s (inside, the base interpreter imports the env's packages)\n",
                       "env overlaid on:", json_string_value(ov));
        json_t *pr = json_object_get(j, "profile");
        json_t *desc = json_object_get(pr, "description");
        printf(FIELD "%s%s%s\n", "profile:", json_string_value(json_object_get(pr, "name")),
               json_is_string(desc) ? ": " : "", json_is_string(desc) ? json_string_value(desc) : "");
        json_t *cache = json_object_get(j, "interpreter_cache");
        json_t *cp = json_object_get(cache, "path");
        if (json_is_true(json_object_get(cache, "fresh")))
                printf(FIELD "fresh: %s\n", "interpreter cache:", json_string_value(cp));
        else if (json_is_string(cp))
                printf(FIELD "was missing or stale: asked the interpreter again, now cached in %s\n",
                       "interpreter cache:", json_string_value(cp));
        else
                printf(FIELD "not cached (the cache cannot be written): asked the interpreter\n", "interpreter cache:");
}

int info_main(const Cli *c) {
        _cleanup_(run_context_done) RunContext ctx = {};
        _cleanup_(plan_freep) Plan *plan = NULL;
        /* The default command; nothing runs. A missing env is an error
         * (run_build_plan says so), not something to create. */
        int r = run_build_plan(c, NULL, ENV_MUST_EXIST, &ctx, &plan);
        if (r < 0)
                return exit_status_from_error(r, EXIT_FAILURE);

        _cleanup_free_ char *site = NULL;
        if (asprintf(&site, "%s/lib/python%d.%d/site-packages", ctx.env, ctx.interp->version_major,
                     ctx.interp->version_minor) < 0) {
                log_error("out of memory");
                return EXIT_FAILURE;
        }
        Dist *dists = NULL;
        size_t n = 0;
        r = list_dists(site, &dists, &n);
        if (r < 0) {
                log_error_errno(r, "cannot list the packages in %s: %m", site);
                return EXIT_FAILURE;
        }
        _cleanup_json_ json_t *j = build_info(&ctx, plan, dists, n);
        dists_free(dists, n);
        if (!j) {
                log_error("out of memory");
                return EXIT_FAILURE;
        }
        if (c->json) {
                json_dumpf(j, stdout, JSON_INDENT(2));
                putchar('\n');
        } else
                print_info(j);
        if (fflush(stdout) != 0) {
                log_error_errno(errno, "cannot write to stdout: %m");
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
