/* The command line: argv in, a Cli description out. No syscalls beyond
 * reading argv; usage errors are logged here (they name the option) and
 * returned as -EINVAL, which main turns into exit status 2. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum Verb {
        VERB_CREATE,
        VERB_RUN,
        VERB_SHELL,
        VERB_PROVE,
        VERB_INFO,
        VERB_PROFILES,
        VERB_DOCTOR,
        VERB_EXPORT,
        VERB_VERIFY,
        VERB_HELP,
        VERB_VERSION,
} Verb;

typedef struct CreateOptions {
        const char *python;
        const char *prompt;
        bool clear;
        bool upgrade;
        bool without_pip;
        bool system_site_packages;
        bool copies;
} CreateOptions;

typedef enum BindKind { BIND_RW, BIND_RO, BIND_TMPFS } BindKind;

typedef struct BindSpec {
        BindKind kind;
        char *src; /* NULL for tmpfs */
        char *dst;
} BindSpec;

typedef struct RunOptions {
        BindSpec *binds;
        size_t n_binds;
        char **setenv; /* "K=V" */
        char **unsetenv;
        const char *chdir;
        int share_net; /* -1: profile decides, 0: --unshare-net, 1: --share-net */
        int home;      /* 0: profile decides; else --home as 1 + ProfileHome (1 ro, 2 tmpfs, 3 rw) */
        int verbose;
        bool dry_run;
        bool ephemeral; /* --ephemeral: the env gets a throw-away upper layer */
        const char *profile;
        char **modules;      /* prove: --module NAME, repeatable */
        bool foreground_job; /* not an option: set by `vrun shell` (see Plan) */
} RunOptions;

typedef struct ExportOptions {
        const char *bundle;       /* --bundle DIR: an OCI runtime bundle */
        const char *oci;          /* --oci DIR: an OCI image layout */
        const char *tag;          /* --tag [NAME:]TAG for --oci */
        const char *seccomp_json; /* --seccomp-json FILE */
} ExportOptions;

typedef struct Cli {
        Verb verb;
        const char *env; /* ENV as given */
        char **argv;     /* command for run (points into the original argv) */
        bool json;
        CreateOptions create;
        RunOptions run;
        ExportOptions export;
        const char *help_verb;    /* `vrun VERB --help` */
        bool help_is_usage_error; /* bare `vrun`: the overview on stderr, status 2 */
        bool implicit_run;        /* the first word was not a verb: `vrun ENV ...` */
} Cli;

int cli_parse(int argc, char **argv, Cli *ret);
void cli_done(Cli *c);

/* Prints usage of the verb (or the overview when NULL) to f. */
void cli_help(const char *verb, FILE *f);

/* The verb a first word that is not one was probably meant to be (a
 * static string), or NULL when it looks like an env name or path. */
const char *cli_verb_hint(const char *word);

#define VRUN_MAX_BINDS 1024
