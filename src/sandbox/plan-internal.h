/* What the parts of the planner share: the mount list as drafted from the
 * profile and the command line (before it is lowered into steps), and the
 * environment. Nothing here makes a syscall. */
#pragma once

#include "vrun/sandbox/plan.h"

typedef enum DraftKind {
        DRAFT_BIND,    /* a clone of src, taken before the root turns read-only */
        DRAFT_HIDE,    /* an empty read-only directory over dst */
        DRAFT_TMPFS,   /* a fresh writable tmpfs */
        DRAFT_DEV,     /* a minimal /dev */
        DRAFT_PROC,    /* a fresh procfs */
        DRAFT_OVERLAY, /* src overlaid with a tmpfs upper layer at dst */
} DraftKind;

typedef struct MountDraft {
        DraftKind kind;
        char *src; /* BIND, OVERLAY */
        char *dst;
        bool readonly;
        bool optional; /* a missing src or dst is skipped instead of failing */
        int group;     /* binds sharing a non-zero group: only the first (by rank)
                        * whose dst exists is applied */
        int rank;
        bool keep_symlink; /* BIND: a host symlink is recreated as a symlink (minimal root) */
        bool user_owned;   /* TMPFS: its root belongs to the user (an empty home) */
        bool owned;        /* BIND, OVERLAY: the program's own (env, cwd, --bind): idmapped for root's run */
        uint64_t size;     /* TMPFS, DEV, OVERLAY: size limit in bytes, 0 for none */
        unsigned mode;     /* TMPFS: mode of its root */
        const char *why;
} MountDraft;

typedef struct MountDrafts {
        MountDraft *v;
        size_t n;
} MountDrafts;

void mount_drafts_done(MountDrafts *d);

/* The mounts of a run, in execution order (every parent before its
 * children). Logs usage errors and returns -EINVAL for them. */
int plan_draft_mounts(const PlanInput *in, bool minimal_root, MountDrafts *ret);

/* The payload's environment (allowlist, PATH, VIRTUAL_ENV, --setenv and
 * --unsetenv) and the PATH its command is looked up in. */
int plan_build_env(const PlanInput *in, char ***ret_envp, char **ret_path);

/* The value of key in envp, or NULL. */
const char *plan_env_get(char *const *envp, const char *key);

/* p made absolute against cwd, and normalized. */
int plan_abs_path(const char *cwd, const char *p, char **ret);

/* The run's working directory: --chdir DIR made absolute, else the cwd. */
int plan_workdir(const PlanInput *in, char **ret);

/* Whether the working directory wd is hidden (and chdir goes to /). */
bool plan_cwd_hidden(const PlanInput *in, const char *wd);

/* Appends a step; takes the heap data it points to even on failure. */
int plan_add(Plan *p, const Step *s);
void step_done(Step *s);
