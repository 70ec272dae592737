/* vrun prove: show, and check, that isolation holds. The probe that ships
 * with vrun (prove-probe.py) is asked twice: on the host, by the base
 * interpreter, where each module is found; then inside the sandbox, under
 * the very plan `vrun run` builds for the same options (only argv differs),
 * what can be seen of it there. vrun merges the answers into a checklist. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "vrun/sandbox/confined.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/log.h"
#include "vrun/sandbox/idmap.h"
#include "vrun/sandbox/landlock.h"
#include "vrun/sandbox/plan.h"
#include "vrun/verbs/run.h"
#include "vrun/verbs/streams.h"
#include "vrun/sandbox/sandbox.h"
#include "vrun/verbs/verbs.h"
#include "vrun/exit.h"

extern const char vrun_prove_probe[];
extern const size_t vrun_prove_probe_len;
extern char **environ;

#define PROVE_OUTPUT_MAX      (1024 * 1024)
#define PROVE_PIPE_SIZE       (1024 * 1024)
#define PROVE_MAX_MODULES     256
#define PROVE_MODULE_NAME_MAX 200
#define PROVE_SAMPLE_MAX      20

#define _cleanup_json_ __attribute__((cleanup(json_decrefp)))

static const char *const namespaces[] = { "user", "mnt", "pid", "ipc", "uts", "net" };

/* A dotted name of ASCII identifiers: what --module accepts. */
static bool module_name_valid(const char *n) {
        size_t l = strlen(n);
        if (l == 0 || l > PROVE_MODULE_NAME_MAX)
                return false;
        bool start = true;
        for (const char *p = n; *p; p++) {
                char ch = *p;
                if (ch == '.') {
                        if (start)
                                return false;
                        start = true;
                        continue;
                }
                bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
                if (!alpha && !(ch >= '0' && ch <= '9' && !start))
                        return false;
                start = false;
        }
        return !start;
}

static json_t *strv_to_json(char *const *l) {
        json_t *a = json_array();
        STRV_FOREACH (s, l)
                if (!a || json_array_append_new(a, json_string(*s)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* Adds s to the JSON array a unless it is there already. */
static int json_array_add_unique(json_t *a, const char *s) {
        size_t i;
        json_t *v;
        json_array_foreach (a, i, v)
                if (strcmp(json_string_value(v), s) == 0)
                        return 0;
        return json_array_append_new(a, json_string(s)) < 0 ? -ENOMEM : 0;
}

/* The inode numbers of vrun's own namespaces: what the probe's must differ from. */
static json_t *host_namespaces(void) {
        json_t *o = json_object();
        for (size_t i = 0; o && i < ELEMENTSOF(namespaces); i++) {
                char p[64];
                struct stat st;
                snprintf(p, sizeof p, "/proc/self/ns/%s", namespaces[i]);
                json_t *v = stat(p, &st) == 0 ? json_integer((json_int_t) st.st_ino) : json_null();
                if (json_object_set_new(o, namespaces[i], v) < 0) {
                        json_decref(o);
                        return NULL;
                }
        }
        return o;
}

static bool is_dir(const char *p) {
        struct stat st;
        return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The base interpreter, seeing the host: where it finds each module, or which
 * modules to sample. Logs. */
static int ask_host(const RunContext *ctx, const char *env_site, char *const *modules, bool verbose, json_t **ret) {
        _cleanup_json_ json_t *in =
                json_pack("{s:o, s:o, s:s, s:i}", "modules", modules ? strv_to_json(modules) : json_array(), "stdlib",
                          strv_to_json(ctx->interp->stdlib_dirs), "env_site", env_site, "sample_max", PROVE_SAMPLE_MAX);
        _cleanup_free_ char *arg = in ? json_dumps(in, JSON_COMPACT) : NULL;
        if (!arg)
                return log_error_errno(ENOMEM, "out of memory");
        char *argv[] = { ctx->interp->executable, (char *) "-I", (char *) "-c", (char *) vrun_prove_probe,
                         (char *) "host",         arg,           NULL };
        /* Confined like the interpreter query: it sees the host read-only
         * and unmasked, which is all the question needs, and whatever the
         * interpreter is, it cannot act on the host. */
        _cleanup_free_ char *out = NULL;
        const ConfinedRun run = { .argv = argv, .show_stderr = verbose, .max = PROVE_OUTPUT_MAX };
        int r = confined_capture(&run, &out);
        if (r < 0)
                return log_error_errno(r, "cannot ask the base interpreter %s where modules are: %s%m",
                                       ctx->interp->executable, r == -ENOEXEC ? "it failed: " : "");
        json_error_t err;
        json_t *j = json_loads(out, JSON_REJECT_DUPLICATES, &err);
        if (!j || !json_is_array(json_object_get(j, "modules")) || !json_is_array(json_object_get(j, "global_dirs"))) {
                json_decref(j);
                return log_error_errno(EBADMSG, "the base interpreter %s gave a malformed answer about modules",
                                       ctx->interp->executable);
        }
        *ret = j;
        return 0;
}

/* How signals are kept inside, as the executor will do it. */
static const char *signal_scope_name(const Plan *plan) {
        const Step *ll = plan_find(plan, STEP_LANDLOCK);
        if (ll && (ll->landlock_scopes & LANDLOCK_SCOPE_SIGNAL_BIT) &&
            (landlock_scopes_supported() & LANDLOCK_SCOPE_SIGNAL_BIT))
                return "Landlock signal scope";
        return isatty(STDIN_FILENO) ? "none: stdin is a terminal and the kernel has no Landlock signal scope"
                                    : "a session of its own";
}

/* SIGURG sent from inside with kill(0): it must not get here. Its default
 * action is to ignore it, so nothing else in the caller's group suffers. */
static volatile sig_atomic_t got_sigurg;
static void on_sigurg(int sig, siginfo_t *si, void *ctx) {
        if (si->si_code == SI_USER)
                got_sigurg = 1;
}

/* What the probe needs inside, as one argv string (-I ignores PYTHON*
 * variables, and the environment is the plan's). */
static char *probe_input(const RunContext *ctx, const Plan *plan, const char *env_site, json_t *host) {
        json_t *dirs = json_array();
        int r = dirs ? 0 : -ENOMEM;
        /* What vrun hides, and what the base really imports from on the
         * host (a dir vrun failed to learn about shows up here). */
        STRV_FOREACH (d, ctx->interp->hide_dirs)
                if (r >= 0)
                        r = json_array_add_unique(dirs, *d);
        STRV_FOREACH (d, ctx->interp->site_packages)
                if (r >= 0)
                        r = json_array_add_unique(dirs, *d);
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(host, "global_dirs"), i, v)
                if (r >= 0 && json_is_string(v))
                        r = json_array_add_unique(dirs, json_string_value(v));

        /* Where the plan lets the payload write: the host checks skip
         * those (the working directory may be $HOME). */
        json_t *writable = json_array();
        for (size_t k = 0; writable && r >= 0 && k < plan->n_steps; k++) {
                const MountStep *m = &plan->steps[k].mount;
                if (plan->steps[k].kind != STEP_MOUNT || !plan_mount_writable(m))
                        continue;
                STRV_FOREACH (d, m->dsts)
                        if (r >= 0)
                                r = json_array_append_new(writable, json_pack("[s, s]", *d, m->why)) < 0 ? -ENOMEM : 0;
        }

        json_t *host_paths = json_pack("[s, s, s, s]", "/", "/etc", "/usr", "/var");
        const char *home = getenv("HOME");
        if (host_paths && home && home[0] == '/' && strcmp(home, "/") != 0 && r >= 0)
                r = json_array_add_unique(host_paths, home);

        const InterpInfo *in = ctx->interp;
        json_t *base_paths = json_array();
        _cleanup_free_ char *bindir = path_dirname(in->executable);
        const char *fixed[] = { in->prefix, in->exec_prefix, bindir };
        for (size_t k = 0; base_paths && r >= 0 && k < ELEMENTSOF(fixed); k++)
                if (fixed[k] && is_dir(fixed[k]))
                        r = json_array_add_unique(base_paths, fixed[k]);
        STRV_FOREACH (d, in->stdlib_dirs)
                if (base_paths && r >= 0 && is_dir(*d))
                        r = json_array_add_unique(base_paths, *d);

        if (r < 0 || !writable || !host_paths || !base_paths) {
                json_decref(dirs);
                json_decref(writable);
                json_decref(host_paths);
                json_decref(base_paths);
                return NULL;
        }
        const char *runtime_dir = getenv("XDG_RUNTIME_DIR");
        _cleanup_json_ json_t *o = json_pack(
                "{s:s, s:s, s:o, s:O, s:o, s:s, s:o, s:o, s:o, s:b, s:s, s:s?, s:s, s:b}", "env", ctx->env, "env_site",
                env_site, "global_dirs", dirs, "modules", json_object_get(host, "modules"), "host_ns",
                host_namespaces(), "net", plan_find(plan, STEP_LOOPBACK) ? "none" : "host", "host_paths", host_paths,
                "base_paths", base_paths, "writable", writable, "system_site", ctx->system_site_packages,
                "host_sockets", ctx->profile->host_sockets == PROFILE_SOCKETS_HIDDEN ? "hidden" : "host", "runtime_dir",
                runtime_dir && runtime_dir[0] == '/' ? runtime_dir : NULL, "signal_scope", signal_scope_name(plan),
                "host_root", idmap_is_host_root());
        return o ? json_dumps(o, JSON_COMPACT) : NULL;
}

/* ---- the report -------------------------------------------------------------------------------- */

static bool check_valid(json_t *c) {
        json_t *leak = json_object_get(c, "leak");
        return json_is_object(c) && json_is_string(json_object_get(c, "id")) &&
               json_is_string(json_object_get(c, "what")) && json_is_boolean(json_object_get(c, "ok")) &&
               json_is_string(json_object_get(c, "evidence")) && (!leak || json_is_boolean(leak));
}

static json_t *find_check(json_t *checks, const char *id) {
        size_t i;
        json_t *c;
        json_array_foreach (checks, i, c)
                if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0)
                        return c;
        return NULL;
}

/* The probe says it sent the signal; only vrun, outside, knows whether it
 * arrived. */
static int settle_signals_check(json_t *checks) {
        json_t *c = find_check(checks, "signals");
        if (!c)
                return 0;
        _cleanup_free_ char *ev = NULL;
        if (asprintf(&ev, "%s; vrun, outside, %s", json_string_value(json_object_get(c, "evidence")),
                     got_sigurg ? "got it" : "did not get it") < 0)
                return -ENOMEM;
        if (json_object_set_new(c, "evidence", json_string(ev)) < 0 ||
            json_object_set_new(c, "ok", json_boolean(json_is_true(json_object_get(c, "ok")) && !got_sigurg)) < 0)
                return -ENOMEM;
        return 0;
}

/* Phase 2 (after the env's own code could run) adds to the checks of phase
 * 1 and can only make them fail: a check holds when both phases say so. */
static int merge_checks(json_t *checks, json_t *more) {
        size_t i;
        json_t *c;
        json_array_foreach (more, i, c) {
                if (!check_valid(c))
                        return -EBADMSG;
                json_t *old = find_check(checks, json_string_value(json_object_get(c, "id")));
                if (!old) {
                        if (json_array_append(checks, c) < 0)
                                return -ENOMEM;
                        continue;
                }
                bool ok = json_is_true(json_object_get(old, "ok")) && json_is_true(json_object_get(c, "ok"));
                _cleanup_free_ char *ev = NULL;
                if (asprintf(&ev, "%s; %s", json_string_value(json_object_get(old, "evidence")),
                             json_string_value(json_object_get(c, "evidence"))) < 0)
                        return -ENOMEM;
                if (json_object_set_new(old, "ok", json_boolean(ok)) < 0 ||
                    json_object_set_new(old, "evidence", json_string(ev)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The probe's stdout: one JSON object a line, {"phase": N, "checks": [...]}. */
static int parse_report(const char *out, int probe_status, json_t **ret) {
        _cleanup_json_ json_t *checks = NULL;
        int phases = 0;
        const char *line = out;
        while (*line && phases < 2) {
                const char *nl = strchr(line, '\n');
                if (!nl)
                        break;
                json_error_t err;
                _cleanup_json_ json_t *j = json_loadb(line, (size_t) (nl - line), JSON_REJECT_DUPLICATES, &err);
                json_t *a = j ? json_object_get(j, "checks") : NULL;
                if (!json_is_array(a) || !json_is_integer(json_object_get(j, "phase")) ||
                    json_integer_value(json_object_get(j, "phase")) != phases + 1)
                        return -EBADMSG;
                if (!checks) {
                        size_t i;
                        json_t *c;
                        json_array_foreach (a, i, c)
                                if (!check_valid(c))
                                        return -EBADMSG;
                        checks = json_incref(a);
                } else {
                        int r = merge_checks(checks, a);
                        if (r < 0)
                                return r;
                }
                phases++;
                line = nl + 1;
        }
        if (phases == 0)
                return -ENODATA;
        if (phases == 1) {
                char ev[128];
                snprintf(ev, sizeof ev, "it stopped after its first phase (exit status %d)", probe_status);
                if (json_array_append_new(checks, json_pack("{s:s, s:s, s:b, s:s, s:b}", "id", "probe", "what",
                                                            "the probe ran to the end", "ok", 0, "evidence", ev, "leak",
                                                            0)) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(checks);
        return 0;
}

static bool check_is_leak(json_t *c) {
        json_t *leak = json_object_get(c, "leak");
        return !json_is_true(json_object_get(c, "ok")) && (!leak || json_is_true(leak));
}

typedef struct Style {
        bool fancy; /* a UTF-8 terminal without NO_COLOR: ✓/✗ in color */
} Style;

static Style output_style(void) {
        const char *nc = getenv("NO_COLOR");
        const char *l = getenv("LC_ALL");
        if (!l || !*l)
                l = getenv("LC_CTYPE");
        if (!l || !*l)
                l = getenv("LANG");
        bool utf8 = l && (strcasestr(l, "utf-8") || strcasestr(l, "utf8"));
        return (Style){ .fancy = isatty(STDOUT_FILENO) && !(nc && *nc) && utf8 };
}

static void print_checklist(const RunContext *ctx, json_t *host, json_t *checks) {
        Style s = output_style();
        const char *sep = s.fancy ? " \u2014 " : " -- ";
        printf("vrun prove %s (profile %s; base interpreter %s %s)\n", ctx->env, ctx->profile->name,
               ctx->interp->executable, ctx->interp->version);
        if (ctx->system_site_packages)
                printf("system site packages: visible, as the env asks (pyvenv.cfg: include-system-site-packages "
                       "= true); the base's packages are not hidden\n");
        json_t *mods = json_object_get(host, "modules");
        if (json_is_true(json_object_get(host, "sampled")))
                printf("modules: a sample of %zu of the %lld that the base imports outside the env "
                       "(choose with --module NAME)\n",
                       json_array_size(mods), (long long) json_integer_value(json_object_get(host, "candidates")));

        size_t i, n_fail = 0, n_leak = 0;
        json_t *c;
        json_array_foreach (checks, i, c) {
                bool ok = json_is_true(json_object_get(c, "ok"));
                const char *mark;
                if (s.fancy)
                        mark = ok ? "\033[32m\u2713\033[0m" : "\033[1;31m\u2717\033[0m";
                else
                        mark = ok ? "[ok]" : check_is_leak(c) ? "[LEAK]" : "[FAIL]";
                printf("%s %s%s%s\n", mark, json_string_value(json_object_get(c, "what")), sep,
                       json_string_value(json_object_get(c, "evidence")));
                n_fail += !ok;
                n_leak += check_is_leak(c);
        }
        size_t n = json_array_size(checks);
        if (n_fail == 0) {
                printf("ok: all %zu checks hold\n", n);
                return;
        }
        /* Name what leaks: the module and where, or the check. */
        printf("%s: %zu of %zu checks fail:", n_leak ? "LEAK" : "FAIL", n_fail, n);
        const char *comma = "";
        json_array_foreach (checks, i, c) {
                if (json_is_true(json_object_get(c, "ok")))
                        continue;
                json_t *m = json_object_get(c, "module"), *p = json_object_get(c, "path");
                if (json_is_string(m) && json_is_string(p))
                        printf("%s %s (in %s)", comma, json_string_value(m), json_string_value(p));
                else if (json_is_string(p))
                        printf("%s %s", comma, json_string_value(p));
                else
                        printf("%s %s", comma, json_string_value(json_object_get(c, "what")));
                comma = ",";
        }
        putchar('\n');
}

static int print_json(const RunContext *ctx, json_t *host, json_t *checks, bool ok) {
        _cleanup_json_ json_t *leaks = json_array(), *names = json_array();
        if (!leaks || !names)
                return -ENOMEM;
        size_t i;
        json_t *c;
        json_array_foreach (checks, i, c) {
                if (check_is_leak(c)) {
                        json_t *l = json_pack("{s:O, s:O, s:O}", "id", json_object_get(c, "id"), "what",
                                              json_object_get(c, "what"), "evidence", json_object_get(c, "evidence"));
                        if (!l)
                                return -ENOMEM;
                        if (json_object_get(c, "module"))
                                json_object_set(l, "module", json_object_get(c, "module"));
                        if (json_object_get(c, "path"))
                                json_object_set(l, "path", json_object_get(c, "path"));
                        if (json_array_append_new(leaks, l) < 0)
                                return -ENOMEM;
                }
                /* "leak" is what decides leaks[]; the schema has it there. */
                json_object_del(c, "leak");
        }
        json_array_foreach (json_object_get(host, "modules"), i, c)
                if (json_array_append(names, json_object_get(c, "name")) < 0)
                        return -ENOMEM;
        _cleanup_json_ json_t *o =
                json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:b, s:O}, s:b, s:O, s:O}", "env", ctx->env, "profile",
                          ctx->profile->name, "interpreter", "executable", ctx->interp->executable, "version",
                          ctx->interp->version, "modules", "sampled", json_is_true(json_object_get(host, "sampled")),
                          "names", names, "ok", ok, "checks", checks, "leaks", leaks);
        if (!o)
                return -ENOMEM;
        if (json_dumpf(o, stdout, JSON_INDENT(2)) < 0)
                return -EIO;
        putchar('\n');
        return 0;
}

/* ---- the verb --------------------------------------------------------------------------------- */

int prove_main(const Cli *c) {
        if (c->run.verbose)
                log_set_max_level(LOG_LEVEL_INFO);
        size_t n_modules = strv_length(c->run.modules);
        if (n_modules > PROVE_MAX_MODULES) {
                log_error("too many --module options (at most %d) (see 'vrun prove --help')", PROVE_MAX_MODULES);
                return EXIT_USAGE;
        }
        STRV_FOREACH (m, c->run.modules)
                if (!module_name_valid(*m)) {
                        log_error("--module: '%s' is not a module name (a dotted Python name such as "
                                  "'bcrypt' or 'xml.dom') (see 'vrun prove --help')",
                                  *m);
                        return EXIT_USAGE;
                }

        /* The plan `vrun run` would use; only argv is replaced below. The
         * env is not created: there would be nothing to prove. */
        char *placeholder[] = { (char *) "python", NULL };
        _cleanup_(run_context_done) RunContext ctx = {};
        _cleanup_(plan_freep) Plan *plan = NULL;
        int r = run_build_plan(c, placeholder, ENV_MUST_EXIST, &ctx, &plan);
        if (r < 0)
                return exit_status_from_error(r, EXIT_SETUP);

        _cleanup_free_ char *env_site = NULL, *python = path_join(ctx.env, "bin/python");
        if (!python || asprintf(&env_site, "%s/lib/python%d.%d/site-packages", ctx.env, ctx.interp->version_major,
                                ctx.interp->version_minor) < 0) {
                log_error("out of memory");
                return EXIT_SETUP;
        }
        _cleanup_json_ json_t *host = NULL;
        if (ask_host(&ctx, env_site, c->run.modules, c->run.verbose > 0, &host) < 0)
                return EXIT_SETUP;
        _cleanup_free_ char *input = probe_input(&ctx, plan, env_site, host);
        if (!input) {
                log_error("out of memory");
                return EXIT_SETUP;
        }

        /* -S: the checks of phase 1 run before any code of the env (its .pth
         * files) can; the probe calls site.main() itself for phase 2. */
        char *argv[] = {
                python, (char *) "-I", (char *) "-S", (char *) "-c", (char *) vrun_prove_probe, (char *) "sandbox",
                input,  NULL
        };
        char **probe_argv = strv_copy(argv);
        if (!probe_argv) {
                log_error("out of memory");
                return EXIT_SETUP;
        }
        Step *exec = plan_find(plan, STEP_EXEC);
        strv_free(exec->argv);
        exec->argv = probe_argv;

        if (c->run.dry_run || c->run.verbose) {
                /* The probe's text is long and the same every time. */
                char shown[64];
                snprintf(shown, sizeof shown, "<vrun's probe, %zu bytes>", vrun_prove_probe_len);
                char *saved = exec->argv[4];
                exec->argv[4] = shown;
                plan_print(plan, c->run.dry_run ? stdout : stderr);
                exec->argv[4] = saved;
                if (c->run.dry_run)
                        return 0;
        }

        /* vrun reads the report once the sandbox is gone: the pipe holds it
         * all, and the probe cannot block on a full pipe (it fails instead). */
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                log_error_errno(errno, "pipe: %m");
                return EXIT_SETUP;
        }
        _cleanup_close_ int rd = p[0], wr = p[1];
        (void) fcntl(wr, F_SETPIPE_SZ, PROVE_PIPE_SIZE);
        if (fcntl(wr, F_SETFL, O_NONBLOCK) < 0) {
                log_error_errno(errno, "fcntl: %m");
                return EXIT_SETUP;
        }
        /* The probe's stdout is vrun's pipe; its stdin and stderr are the caller's. */
        _cleanup_(streams_guard_end) StreamsGuard streams = STREAMS_GUARD_INIT;
        if (streams_guard_begin(1u << 0 | 1u << 2, plan, &streams) < 0)
                return EXIT_SETUP;
        struct sigaction sa = { .sa_sigaction = on_sigurg, .sa_flags = SA_SIGINFO | SA_RESTART }, old_sa;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGURG, &sa, &old_sa);
        int probe_status = sandbox_run_with_stdout(plan, wr);
        sigaction(SIGURG, &old_sa, NULL);
        close(TAKE_FD(wr));
        _cleanup_free_ char *out = NULL;
        r = read_fd_full(rd, PROVE_OUTPUT_MAX, &out);
        if (r < 0) {
                log_error_errno(r, "cannot read the probe's report: %m");
                return EXIT_SETUP;
        }
        /* The sandbox said what failed. */
        if (probe_status < 0 || probe_status == EXIT_CANNOT_EXEC || probe_status == EXIT_NOT_FOUND)
                return EXIT_SETUP;

        _cleanup_json_ json_t *checks = NULL;
        r = parse_report(out, probe_status, &checks);
        if (r == -ENODATA) {
                log_error("the probe failed inside the sandbox (exit status %d%s); rerun with -v to see the plan",
                          probe_status, probe_status == EXIT_TIMEOUT ? ": the profile's timeout" : "");
                return EXIT_SETUP;
        }
        if (r < 0) {
                log_error_errno(r, "the probe's report is malformed: %m");
                return EXIT_SETUP;
        }

        if ((r = settle_signals_check(checks)) < 0) {
                log_error_errno(r, "out of memory");
                return EXIT_SETUP;
        }
        bool ok = true;
        size_t i;
        json_t *ch;
        json_array_foreach (checks, i, ch)
                ok = ok && json_is_true(json_object_get(ch, "ok"));
        if (c->json) {
                r = print_json(&ctx, host, checks, ok);
                if (r < 0) {
                        log_error_errno(r, "cannot write the report: %m");
                        return EXIT_SETUP;
                }
        } else
                print_checklist(&ctx, host, checks);
        if (fflush(stdout) != 0) {
                log_error_errno(errno, "cannot write the report: %m");
                return EXIT_SETUP;
        }
        return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
