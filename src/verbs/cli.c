#include "vrun/verbs/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/hint.h"
#include "util/strv.h"
#include "util/log.h"

static const struct {
        const char *name;
        Verb verb;
} verbs[] = {
        { "create", VERB_CREATE }, { "run", VERB_RUN },           { "shell", VERB_SHELL },   { "prove", VERB_PROVE },
        { "info", VERB_INFO },     { "profiles", VERB_PROFILES }, { "doctor", VERB_DOCTOR }, { "export", VERB_EXPORT },
        { "verify", VERB_VERIFY }, { "help", VERB_HELP },
};

enum {
        OPT_PYTHON = 0x100,
        OPT_PROMPT,
        OPT_CLEAR,
        OPT_UPGRADE,
        OPT_WITHOUT_PIP,
        OPT_SYSTEM_SITE,
        OPT_COPIES,
        OPT_BIND,
        OPT_RO_BIND,
        OPT_TMPFS,
        OPT_SETENV,
        OPT_UNSETENV,
        OPT_CHDIR,
        OPT_SHARE_NET,
        OPT_UNSHARE_NET,
        OPT_DRY_RUN,
        OPT_PROFILE,
        OPT_EPHEMERAL,
        OPT_JSON,
        OPT_MODULE,
        OPT_HOME,
        OPT_BUNDLE,
        OPT_OCI,
        OPT_TAG,
        OPT_SECCOMP_JSON,
};

void cli_done(Cli *c) {
        for (size_t i = 0; i < c->run.n_binds; i++) {
                free(c->run.binds[i].src);
                free(c->run.binds[i].dst);
        }
        free(c->run.binds);
        strv_free(c->run.setenv);
        strv_free(c->run.unsetenv);
        strv_free(c->run.modules);
        *c = (Cli){};
}

static int usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int usage_error(const char *verb, const char *fmt, ...) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        log_error("%s (see 'vrun %s%s--help')", msg, verb ? verb : "", verb ? " " : "");
        return -EINVAL;
}

/* The option getopt stopped at: a short option inside a cluster ("-dash")
 * is named by its letter, since optind still points at the cluster. */
static int bad_option(const char *verb, int opt, char **argv) {
        char shortopt[3] = { '-', (char) optopt, 0 };
        const char *name = optopt > 0 && optopt < 0x100 ? shortopt : argv[optind - 1];
        if (opt == ':')
                return usage_error(verb, "option '%s' needs a value", name);
        return usage_error(verb, "unknown option '%s'", name);
}

/* Which parsers take an option: every option is defined once, here. */
enum {
        FOR_CREATE = 1 << 0, /* parse_create */
        FOR_RUN = 1 << 1,    /* parse_run: run, shell, prove, export */
        FOR_INFO = 1 << 2,   /* parse_info: info, verify, profiles, doctor */
};

static const struct {
        struct option option;
        unsigned parsers;
} option_defs[] = {
        { { "python", required_argument, NULL, OPT_PYTHON }, FOR_CREATE | FOR_RUN },
        { { "prompt", required_argument, NULL, OPT_PROMPT }, FOR_CREATE },
        { { "clear", no_argument, NULL, OPT_CLEAR }, FOR_CREATE },
        { { "upgrade", no_argument, NULL, OPT_UPGRADE }, FOR_CREATE },
        { { "without-pip", no_argument, NULL, OPT_WITHOUT_PIP }, FOR_CREATE },
        { { "system-site-packages", no_argument, NULL, OPT_SYSTEM_SITE }, FOR_CREATE },
        { { "copies", no_argument, NULL, OPT_COPIES }, FOR_CREATE },
        { { "bind", required_argument, NULL, OPT_BIND }, FOR_RUN },
        { { "ro-bind", required_argument, NULL, OPT_RO_BIND }, FOR_RUN },
        { { "tmpfs", required_argument, NULL, OPT_TMPFS }, FOR_RUN },
        { { "setenv", required_argument, NULL, OPT_SETENV }, FOR_RUN },
        { { "unsetenv", required_argument, NULL, OPT_UNSETENV }, FOR_RUN },
        { { "chdir", required_argument, NULL, OPT_CHDIR }, FOR_RUN },
        { { "share-net", no_argument, NULL, OPT_SHARE_NET }, FOR_RUN },
        { { "unshare-net", no_argument, NULL, OPT_UNSHARE_NET }, FOR_RUN },
        { { "verbose", no_argument, NULL, 'v' }, FOR_RUN },
        { { "dry-run", no_argument, NULL, OPT_DRY_RUN }, FOR_RUN },
        { { "profile", required_argument, NULL, OPT_PROFILE }, FOR_RUN },
        { { "ephemeral", no_argument, NULL, OPT_EPHEMERAL }, FOR_RUN },
        { { "home", required_argument, NULL, OPT_HOME }, FOR_RUN },
        { { "json", no_argument, NULL, OPT_JSON }, FOR_RUN | FOR_INFO },
        /* prove's and export's own: parse_run names the verb they belong to. */
        { { "module", required_argument, NULL, OPT_MODULE }, FOR_RUN },
        { { "bundle", required_argument, NULL, OPT_BUNDLE }, FOR_RUN },
        { { "oci", required_argument, NULL, OPT_OCI }, FOR_RUN },
        { { "tag", required_argument, NULL, OPT_TAG }, FOR_RUN },
        { { "seccomp-json", required_argument, NULL, OPT_SECCOMP_JSON }, FOR_RUN },
        { { "help", no_argument, NULL, 'h' }, FOR_CREATE | FOR_RUN | FOR_INFO },
};

/* The getopt_long table of one parser, its options in option_defs' order. */
static void select_options(unsigned parser, struct option ret[static ELEMENTSOF(option_defs) + 1]) {
        size_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(option_defs); i++)
                if (option_defs[i].parsers & parser)
                        ret[n++] = option_defs[i].option;
        ret[n] = (struct option){};
}

/* --python, taken by create and by the verbs that create a missing ENV. */
static int set_python(Cli *c, const char *verb, const char *arg) {
        if (!*arg)
                return usage_error(verb, "--python needs a value (a path, a command or a version)");
        c->create.python = arg;
        return 0;
}

/* The variables that decide where Python finds code: vrun never passes
 * them (see build_env in plan.c), so setting one would be silently lost. */
static const char *const env_never[] = { "PYTHONPATH",       "PYTHONHOME",       "PYTHONUSERBASE", "PYTHONSTARTUP",
                                         "PYTHONEXECUTABLE", "PYTHONPLATLIBDIR", "PYTHONSAFEPATH" };

static int check_env_name(const char *verb, const char *opt, const char *name) {
        bool ok = *name && !(*name >= '0' && *name <= '9') && strlen(name) <= 256;
        for (const char *p = name; ok && *p; p++)
                ok = *p == '_' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
        if (!ok)
                return usage_error(verb,
                                   "%s: bad variable name '%s' (letters, digits and '_', not starting with a digit)",
                                   opt, name);
        for (size_t i = 0; i < ELEMENTSOF(env_never); i++)
                if (strcmp(name, env_never[i]) == 0)
                        return usage_error(verb,
                                           "%s %s: vrun never passes %s inside (the sandbox decides where Python "
                                           "finds code; install the code into the env or use --bind)",
                                           opt, name, name);
        return 0;
}

/* SRC[:DST]. A path holding ':' is given as SRC:SRC (the same path twice),
 * or as SRC:DST where DST is absolute: the split is at the last ":/". */
static int split_bind(const char *arg, char **ret_src, char **ret_dst) {
        size_t n = strlen(arg);
        const char *colon = NULL;
        if (n % 2 == 1 && arg[n / 2] == ':' && strncmp(arg, arg + n / 2 + 1, n / 2) == 0)
                colon = arg + n / 2;
        else
                for (const char *p = arg; (p = strchr(p, ':')); p++)
                        if (p[1] == '/')
                                colon = p;
        if (!colon)
                colon = strrchr(arg, ':');
        _cleanup_free_ char *src = colon ? strndup(arg, (size_t) (colon - arg)) : strdup(arg);
        char *dst = strdup(colon ? colon + 1 : arg);
        if (!src || !dst) {
                free(dst);
                return -ENOMEM;
        }
        *ret_src = TAKE_PTR(src);
        *ret_dst = dst;
        return 0;
}

static int add_bind(Cli *c, BindKind kind, const char *arg) {
        if (c->run.n_binds >= VRUN_MAX_BINDS)
                return usage_error("run", "too many --bind/--ro-bind/--tmpfs options (at most %d)", VRUN_MAX_BINDS);
        if (!*arg)
                return usage_error("run", "%s: empty path", kind == BIND_TMPFS ? "--tmpfs" : "--bind");
        BindSpec *b = realloc(c->run.binds, (c->run.n_binds + 1) * sizeof *b);
        if (!b)
                return -ENOMEM;
        c->run.binds = b;
        BindSpec *s = &b[c->run.n_binds];
        *s = (BindSpec){ .kind = kind };
        if (kind == BIND_TMPFS)
                s->dst = strdup(arg);
        else {
                if (split_bind(arg, &s->src, &s->dst) < 0)
                        return -ENOMEM;
                if (!*s->src || !*s->dst) {
                        free(s->src);
                        free(s->dst);
                        return usage_error("run", "bad bind '%s': expected SRC[:DST]", arg);
                }
        }
        if ((kind != BIND_TMPFS && !s->src) || !s->dst) {
                free(s->src);
                free(s->dst);
                return -ENOMEM;
        }
        c->run.n_binds++;
        return 0;
}

static int parse_create(int argc, char **argv, Cli *c) {
        struct option options[ELEMENTSOF(option_defs) + 1];
        int opt, r;
        select_options(FOR_CREATE, options);
        /* 0, not 1: glibc then also forgets where it was inside a previous
         * argv ("-hv" stopped after h), which another cli_parse must not see. */
        optind = 0;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (opt) {
                case OPT_PYTHON:
                        if ((r = set_python(c, "create", optarg)) < 0)
                                return r;
                        break;
                case OPT_PROMPT: c->create.prompt = optarg; break;
                case OPT_CLEAR: c->create.clear = true; break;
                case OPT_UPGRADE: c->create.upgrade = true; break;
                case OPT_WITHOUT_PIP: c->create.without_pip = true; break;
                case OPT_SYSTEM_SITE: c->create.system_site_packages = true; break;
                case OPT_COPIES: c->create.copies = true; break;
                case 'h':
                        c->verb = VERB_HELP;
                        c->help_verb = "create";
                        return 0;
                default: return bad_option("create", opt, argv);
                }
        }
        if (c->create.clear && c->create.upgrade)
                return usage_error("create", "%s and --upgrade cannot be combined", "--clear");
        if (optind >= argc)
                return usage_error("create", "missing ENV");
        if (optind + 1 < argc)
                return usage_error("create", "unexpected argument '%s'", argv[optind + 1]);
        c->env = argv[optind];
        return 0;
}

static int parse_run(int argc, char **argv, Cli *c, const char *verb) {
        struct option options[ELEMENTSOF(option_defs) + 1];
        int opt, r;
        select_options(FOR_RUN, options);
        optind = 0;
        opterr = 0;
        /* '+': stop at ENV, everything after it belongs to the command. */
        while ((opt = getopt_long(argc, argv, "+:hv", options, NULL)) >= 0) {
                switch (opt) {
                case OPT_PYTHON:
                        if ((r = set_python(c, verb, optarg)) < 0)
                                return r;
                        break;
                case OPT_BIND:
                case OPT_RO_BIND:
                        r = add_bind(c, opt == OPT_BIND ? BIND_RW : BIND_RO, optarg);
                        if (r < 0)
                                return r;
                        break;
                case OPT_TMPFS:
                        r = add_bind(c, BIND_TMPFS, optarg);
                        if (r < 0)
                                return r;
                        break;
                case OPT_SETENV:
                        /* bubblewrap's form: --setenv VAR VALUE */
                        if (optind >= argc)
                                return usage_error(verb, "--setenv needs VAR and VALUE");
                        if ((r = check_env_name(verb, "--setenv", optarg)) < 0)
                                return r;
                        {
                                _cleanup_free_ char *kv = NULL;
                                if (asprintf(&kv, "%s=%s", optarg, argv[optind]) < 0)
                                        return -ENOMEM;
                                optind++;
                                r = strv_push(&c->run.setenv, kv);
                                if (r < 0)
                                        return r;
                                kv = NULL;
                        }
                        break;
                case OPT_UNSETENV:
                        if ((r = check_env_name(verb, "--unsetenv", optarg)) < 0)
                                return r;
                        if (strcmp(optarg, "PATH") == 0 || strcmp(optarg, "VIRTUAL_ENV") == 0)
                                return usage_error(verb,
                                                   "--unsetenv %s: %s is always set inside (ENV's bin comes first "
                                                   "on PATH); use --setenv %s VALUE to change it",
                                                   optarg, optarg, optarg);
                        r = strv_extend(&c->run.unsetenv, optarg);
                        if (r < 0)
                                return r;
                        break;
                case OPT_CHDIR: c->run.chdir = optarg; break;
                case OPT_SHARE_NET: c->run.share_net = 1; break;
                case OPT_UNSHARE_NET: c->run.share_net = 0; break;
                case 'v': c->run.verbose++; break;
                case OPT_DRY_RUN: c->run.dry_run = true; break;
                case OPT_PROFILE: c->run.profile = optarg; break;
                case OPT_EPHEMERAL: c->run.ephemeral = true; break;
                case OPT_HOME:
                        /* 1 + ProfileHome: ro and tmpfs are the profiles' "host" and "tmpfs" */
                        if (strcmp(optarg, "ro") == 0)
                                c->run.home = 1;
                        else if (strcmp(optarg, "tmpfs") == 0)
                                c->run.home = 2;
                        else if (strcmp(optarg, "rw") == 0)
                                c->run.home = 3;
                        else
                                return usage_error(verb, "--home: '%s' is not ro, tmpfs or rw", optarg);
                        break;
                case OPT_JSON: c->json = true; break;
                case OPT_MODULE:
                        if (c->verb != VERB_PROVE)
                                return usage_error(verb, "unknown option '--module' (it is an option of 'vrun prove')");
                        r = strv_extend(&c->run.modules, optarg);
                        if (r < 0)
                                return r;
                        break;
                case OPT_BUNDLE:
                case OPT_OCI:
                case OPT_TAG:
                case OPT_SECCOMP_JSON:
                        if (c->verb != VERB_EXPORT)
                                return usage_error(verb, "unknown option '%s' (it is an option of 'vrun export')",
                                                   argv[optind - 1]);
                        if (!*optarg)
                                return usage_error(verb, "option '%s' needs a value", argv[optind - 1]);
                        *(opt == OPT_BUNDLE ? &c->export.bundle
                          : opt == OPT_OCI  ? &c->export.oci
                          : opt == OPT_TAG  ? &c->export.tag
                                            : &c->export.seccomp_json) = optarg;
                        break;
                case 'h':
                        c->verb = VERB_HELP;
                        c->help_verb = verb;
                        return 0;
                default: return bad_option(verb, opt, argv);
                }
        }
        if (optind >= argc)
                return usage_error(verb, "missing ENV");
        c->env = argv[optind++];
        c->argv = argv + optind;
        if (c->verb != VERB_RUN && c->verb != VERB_EXPORT && *c->argv)
                return usage_error(verb, "unexpected argument '%s'", *c->argv);
        if (c->verb == VERB_EXPORT) {
                if (!c->export.bundle && !c->export.oci && !c->export.seccomp_json)
                        return usage_error(verb,
                                           "nothing to export: give --bundle DIR, --oci DIR or --seccomp-json FILE");
                if (c->export.tag && !c->export.oci)
                        return usage_error(verb, "--tag names the image of --oci DIR");
                if (c->export.tag && (!*c->export.tag || strlen(c->export.tag) > 255 ||
                                      strspn(c->export.tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                            "0123456789._-/:") != strlen(c->export.tag)))
                        return usage_error(verb,
                                           "bad --tag '%s': expected [NAME:]TAG of letters, digits, '.', '_', '-', '/'",
                                           c->export.tag);
                if (c->run.dry_run)
                        return usage_error(verb, "--dry-run is not an option of 'vrun export'");
        }
        return 0;
}

static int parse_info(int argc, char **argv, Cli *c, const char *verb, bool env_required) {
        struct option options[ELEMENTSOF(option_defs) + 1];
        int opt;
        select_options(FOR_INFO, options);
        optind = 0;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, ":h", options, NULL)) >= 0) {
                switch (opt) {
                case OPT_JSON: c->json = true; break;
                case 'h':
                        c->verb = VERB_HELP;
                        c->help_verb = verb;
                        return 0;
                default: return bad_option(verb, opt, argv);
                }
        }
        if (optind < argc)
                c->env = argv[optind++];
        else if (env_required)
                return usage_error(verb, "missing ENV");
        if (optind < argc)
                return usage_error(verb, "unexpected argument '%s'", argv[optind]);
        return 0;
}

static bool is_verb(const char *word) {
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(word, verbs[i].name) == 0)
                        return true;
        return false;
}

const char *cli_verb_hint(const char *word) {
        /* Paths and env-like names ("./x", ".venv", "a/b") are never typos of a verb. */
        if (!*word || strpbrk(word, "/.") || word[0] == '-')
                return NULL;
        size_t best = SIZE_MAX;
        const char *hint = NULL;
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                size_t d = edit_distance(word, verbs[i].name), limit = strlen(word) <= 3 ? 1 : 2;
                if (d > 0 && d <= limit && d < best) {
                        best = d;
                        hint = verbs[i].name;
                }
        }
        return hint;
}

int cli_parse(int argc, char **argv, Cli *ret) {
        Cli c = { .run.share_net = -1 };
        int r;

        if (argc < 2) {
                c.verb = VERB_HELP;
                c.help_is_usage_error = true;
                *ret = c;
                return 0;
        }
        const char *first = argv[1];
        if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0) {
                c.verb = VERB_HELP;
                *ret = c;
                return 0;
        }
        if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
                c.verb = VERB_VERSION;
                *ret = c;
                return 0;
        }

        bool found = false;
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(first, verbs[i].name) == 0) {
                        c.verb = verbs[i].verb;
                        found = true;
                        break;
                }
        /* A first word that is not a verb is an ENV (or a run option). */
        int sub_argc = found ? argc - 1 : argc;
        char **sub_argv = found ? argv + 1 : argv;
        if (!found) {
                c.verb = VERB_RUN;
                c.implicit_run = true;
        }

        switch (c.verb) {
        case VERB_CREATE: r = parse_create(sub_argc, sub_argv, &c); break;
        case VERB_RUN: r = parse_run(sub_argc, sub_argv, &c, "run"); break;
        case VERB_SHELL: r = parse_run(sub_argc, sub_argv, &c, "shell"); break;
        case VERB_PROVE: r = parse_run(sub_argc, sub_argv, &c, "prove"); break;
        case VERB_EXPORT: r = parse_run(sub_argc, sub_argv, &c, "export"); break;
        case VERB_INFO: r = parse_info(sub_argc, sub_argv, &c, "info", true); break;
        case VERB_VERIFY: r = parse_info(sub_argc, sub_argv, &c, "verify", true); break;
        case VERB_PROFILES: r = parse_info(sub_argc, sub_argv, &c, "profiles", false); break;
        case VERB_DOCTOR:
                r = parse_info(sub_argc, sub_argv, &c, "doctor", false);
                if (r >= 0 && c.env)
                        r = usage_error("doctor", "unexpected argument '%s'", c.env);
                break;
        case VERB_HELP:
                c.help_verb = sub_argc > 1 ? sub_argv[1] : NULL;
                r = 0;
                if (c.help_verb && !is_verb(c.help_verb)) {
                        const char *hint = cli_verb_hint(c.help_verb);
                        log_error("unknown verb '%s'%s%s%s (see 'vrun --help')", c.help_verb,
                                  hint ? " (did you mean '" : "", hint ? hint : "", hint ? "'?)" : "");
                        r = -EINVAL;
                } else if (sub_argc > 2)
                        r = usage_error("help", "unexpected argument '%s'", sub_argv[2]);
                break;
        default: r = -EINVAL;
        }
        if (r < 0) {
                cli_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

void cli_help(const char *verb, FILE *f) {
        if (verb && strcmp(verb, "create") == 0)
                fputs("Usage: vrun create [OPTIONS] ENV\n"
                      "\n"
                      "Build a PEP 405 virtual environment natively (no `python -m venv`).\n"
                      "\n"
                      "  --python PY              interpreter: a path, a command on PATH, or a version\n"
                      "                           such as 3.12 (PATH, then pyenv); default python3\n"
                      "  --prompt P               prompt shown as \"(P) \" (\".\" = current directory name)\n"
                      "  --clear                  replace an existing venv\n"
                      "  --upgrade                refresh an existing venv for its (upgraded) base\n"
                      "  --without-pip            do not seed pip\n"
                      "  --system-site-packages   let the venv see the base's packages\n"
                      "  --copies                 copy the interpreter instead of linking it\n"
                      "\n"
                      "Examples:\n"
                      "  vrun create .venv\n"
                      "  vrun create --python 3.12 --without-pip /tmp/env\n",
                      f);
        else if (verb && strcmp(verb, "prove") == 0)
                fputs("Usage: vrun prove [RUN OPTIONS] [--module NAME]... [--json] ENV\n"
                      "\n"
                      "Show, and check, that isolation holds: a probe that ships with vrun runs in ENV\n"
                      "under exactly the sandbox `vrun run` would use with the same options, and\n"
                      "checks that global modules cannot be imported or reached by path, that global\n"
                      "package directories show nothing of the host's, that the host and the base\n"
                      "interpreter are read-only, capabilities, no_new_privs, seccomp, namespaces, the\n"
                      "network, and that the env's own packages import. One line per check; [ok] and\n"
                      "[LEAK] (a check mark and a cross, in color, on a UTF-8 terminal without\n"
                      "NO_COLOR). ENV is not created.\n"
                      "\n"
                      "  --module NAME            check NAME (repeatable); default: a sample of at most\n"
                      "                           20 modules the base imports outside the env\n"
                      "  --json                   the report as JSON (see docs/prove.md)\n"
                      "  RUN OPTIONS              as for `vrun run` (--profile, --bind, --ro-bind, ...)\n"
                      "\n"
                      "Exit status: 0 when every check holds, 1 when one fails (a leak is named),\n"
                      "2 usage, 125 when vrun could not run the proof.\n"
                      "\n"
                      "Examples:\n"
                      "  vrun prove .venv\n"
                      "  vrun prove --profile untrusted --module bcrypt .venv\n",
                      f);
        else if (verb && strcmp(verb, "export") == 0)
                fputs("Usage: vrun export [RUN OPTIONS] --bundle DIR ENV [CMD ARGS...]\n"
                      "       vrun export [RUN OPTIONS] --oci DIR [--tag [NAME:]TAG] ENV [CMD ARGS...]\n"
                      "       vrun export [RUN OPTIONS] --seccomp-json FILE ENV\n"
                      "\n"
                      "Write ENV and its sandbox for OCI runtimes and engines (crun, runc, podman,\n"
                      "Kubernetes, Slurm, HTCondor), with no daemon and no base image. The root\n"
                      "filesystem is minimal: the base interpreter's stdlib, the libraries it and\n"
                      "ENV's extension modules load, a few /etc files and ENV at its own path; no\n"
                      "global site-packages. CMD (default python) runs as uid 1000, read-only root.\n"
                      "The options combine; ENV is not created.\n"
                      "\n"
                      "  --bundle DIR             an OCI runtime bundle: DIR/config.json (the profile's\n"
                      "                           namespaces, mounts, masks, seccomp, rlimits, no\n"
                      "                           capabilities; rootless when you are not root) and\n"
                      "                           DIR/rootfs; DIR must be new or empty\n"
                      "  --oci DIR                an OCI image layout (new, empty, or one to add to):\n"
                      "                           a base layer shared by every env on one interpreter\n"
                      "                           (cached), an env layer, reproducible digests\n"
                      "  --tag [NAME:]TAG         the image's reference in DIR (default latest)\n"
                      "  --seccomp-json FILE      the profile's seccomp filter as OCI / Kubernetes JSON\n"
                      "  RUN OPTIONS              --profile NAME|PATH (default: default), --share-net,\n"
                      "                           --unshare-net, --setenv, --unsetenv, --python\n"
                      "\n"
                      "SOURCE_DATE_EPOCH sets every mtime and the image's creation time (default 0).\n"
                      "Exit status: 0, 1 when the export failed, 2 usage.\n"
                      "\n"
                      "Examples:\n"
                      "  vrun export --bundle /srv/job .venv python app.py && crun run -b /srv/job job1\n"
                      "  vrun export --oci img --tag app:1.0 .venv && skopeo copy oci:img:1.0 docker://reg/app:1.0\n"
                      "  vrun export --profile untrusted --seccomp-json vrun-untrusted.json .venv\n",
                      f);
        else if (verb && strcmp(verb, "info") == 0)
                fputs("Usage: vrun info [--json] ENV\n"
                      "\n"
                      "What ENV is built on and what a run in it hides: its path, the base\n"
                      "interpreter (path, version), pip and the installed packages, the directories\n"
                      "hidden inside, the profile, and whether the interpreter cache entry is fresh.\n"
                      "Runs nothing inside and does not create ENV.\n"
                      "\n"
                      "  --json                   the same as JSON\n"
                      "\n"
                      "Exit status: 0, 1 when ENV is missing or unusable, 2 usage.\n",
                      f);
        else if (verb && strcmp(verb, "verify") == 0)
                fputs("Usage: vrun verify [--json] ENV\n"
                      "\n"
                      "Check ENV after untrusted code ran in it, running nothing from it: every\n"
                      "installed file against the sha256 its RECORD lists; files no RECORD owns in\n"
                      "site-packages (.pth, sitecustomize, usercustomize, ...) and bin/; the activate\n"
                      "scripts against what vrun writes; pyvenv.cfg and bin/python* against the base\n"
                      "interpreter vrun recorded. One line per finding, naming the file.\n"
                      "\n"
                      "  --json                   the report as JSON\n"
                      "\n"
                      "Exit status: 0 when ENV is as installed, 1 when something was found (or ENV\n"
                      "cannot be read), 2 usage.\n"
                      "\n"
                      "Examples:\n"
                      "  vrun verify .venv\n"
                      "  vrun verify --json .venv | jq -r '.findings[].path'\n",
                      f);
        else if (verb && strcmp(verb, "shell") == 0)
                fputs("Usage: vrun shell [OPTIONS] ENV\n"
                      "       vrun [run] [OPTIONS] ENV\n"
                      "\n"
                      "Start your shell ($SHELL: bash, zsh, fish or sh; /bin/sh when unset) inside\n"
                      "the sandbox `vrun run` builds, activated: VIRTUAL_ENV set, ENV's bin first on\n"
                      "PATH and \"(ENV) \" before the prompt (the env's own prompt when pyvenv.cfg\n"
                      "has one) after your startup files ran. `exit`, or `deactivate`, leaves it;\n"
                      "vrun exits with the shell's status. With stdin not a terminal this is\n"
                      "`vrun run ENV $SHELL`. VIRTUAL_ENV_DISABLE_PROMPT=1 keeps the prompt as is.\n"
                      "\n"
                      "OPTIONS are those of `vrun run` (see 'vrun run --help').\n"
                      "\n"
                      "Examples:\n"
                      "  vrun shell .venv\n"
                      "  vrun shell --profile untrusted --unshare-net .venv\n",
                      f);
        else if (verb && strcmp(verb, "run") == 0)
                fputs("Usage: vrun [run] [OPTIONS] ENV [CMD ARGS...]\n"
                      "\n"
                      "Run CMD with ENV's bin first on PATH, in new user, mount, pid, ipc and uts\n"
                      "namespaces where the host is read-only and the base interpreter's global\n"
                      "package directories are hidden. ENV is created first when missing. Without\n"
                      "CMD it is `vrun shell ENV`: your shell, activated.\n"
                      "\n"
                      "  --python PY              interpreter used when ENV must be created\n"
                      "  --bind SRC[:DST]         bind SRC writable at DST\n"
                      "  --ro-bind SRC[:DST]      bind SRC read-only at DST\n"
                      "  --tmpfs DST              an empty tmpfs at DST\n"
                      "  --setenv VAR VALUE       set VAR inside\n"
                      "  --unsetenv VAR           remove VAR inside\n"
                      "  --chdir DIR              working directory inside\n"
                      "  --share-net/--unshare-net   keep the host network / loopback only\n"
                      "  --profile NAME|PATH      sandbox profile (default, untrusted, install, or a file)\n"
                      "  --ephemeral              writes to ENV vanish at exit (overlay on a tmpfs)\n"
                      "  --home ro|tmpfs|rw       your home read-only (default), an empty tmpfs, or writable\n"
                      "  -v, --verbose            print the plan before running\n"
                      "  --dry-run                print the plan, run nothing\n"
                      "\n"
                      "Exit status: CMD's own; 128+N when it died of signal N; 125 when vrun failed;\n"
                      "126 when CMD cannot be executed; 127 when CMD is not found.\n"
                      "\n"
                      "Examples:\n"
                      "  vrun env python app.py\n"
                      "  vrun env pip install --no-index --find-links ./wheels falconc\n",
                      f);
        else if (verb && strcmp(verb, "profiles") == 0)
                fputs("Usage: vrun profiles [--json] [NAME|PATH]\n"
                      "\n"
                      "List the built-in sandbox profiles (default, install, untrusted), or print one\n"
                      "profile, resolved (its `extends` chain applied), as `--profile` would use it.\n"
                      "\n"
                      "  --json                   the same as JSON\n"
                      "\n"
                      "Exit status: 0, 1 when the profile cannot be loaded, 2 usage.\n"
                      "\n"
                      "Examples:\n"
                      "  vrun profiles\n"
                      "  vrun profiles --json untrusted\n",
                      f);
        else if (verb && strcmp(verb, "doctor") == 0)
                fputs("Usage: vrun doctor [--json]\n"
                      "\n"
                      "Check what vrun needs of the kernel and the system: user namespaces (and the\n"
                      "sysctls and AppArmor settings that restrict them), pid/ipc/uts/net namespaces,\n"
                      "tmpfs, proc, devpts and overlayfs mounts in a user namespace, the new mount API\n"
                      "and seccomp. Each check runs in a child process that leaves nothing behind.\n"
                      "One line per check: \"ok   WHAT\" or \"FAIL WHAT: why; breaks ...; fix: ...\".\n"
                      "\n"
                      "  --json                   the report as JSON\n"
                      "\n"
                      "Exit status: 0 when vrun works fully here, 1 when a check failed.\n"
                      "\n"
                      "Examples:\n"
                      "  vrun doctor\n"
                      "  vrun doctor --json | jq '.checks[] | select(.status != \"ok\")'\n",
                      f);
        else
                fputs("Usage: vrun VERB [OPTIONS] ...\n"
                      "\n"
                      "  vrun create [OPTIONS] ENV            build a PEP 405 venv natively\n"
                      "  vrun [run] [OPTIONS] ENV [CMD ARGS]  run CMD isolated in ENV (creates ENV if missing)\n"
                      "  vrun shell [OPTIONS] ENV             your shell inside, prompt \"(ENV) \"\n"
                      "  vrun prove [OPTIONS] ENV             show, and check, that isolation holds\n"
                      "  vrun info [--json] ENV               what ENV is built on and what it hides\n"
                      "  vrun verify [--json] ENV             check ENV is still what was installed\n"
                      "  vrun profiles [--json] [NAME]        list the sandbox profiles, or show one\n"
                      "  vrun doctor [--json]                 check what vrun needs of the kernel\n"
                      "  vrun export [OPTIONS] ENV [CMD]      ENV and its sandbox as an OCI bundle or image\n"
                      "  vrun --version                       print the version\n"
                      "\n"
                      "`vrun VERB --help` describes a verb.\n"
                      "\n"
                      "Examples:\n"
                      "  vrun create .venv\n"
                      "  vrun .venv python app.py\n",
                      f);
}
