/* The plan: everything a run will do, as data. Built from the command line,
 * the env and the interpreter facts without a single syscall, so it can be
 * printed (--dry-run, -v) and unit-tested; the sandbox executes it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "vrun/verbs/cli.h"
#include "vrun/venv/interp.h"
#include "vrun/sandbox/profile.h"
#include "vrun/sandbox/seccomp.h"

typedef enum MountOpKind {
        MOUNT_OP_BIND,    /* a clone of src, taken before the root turns read-only */
        MOUNT_OP_HIDE,    /* an empty read-only tmpfs over dst */
        MOUNT_OP_TMPFS,   /* a fresh writable tmpfs */
        MOUNT_OP_DEV,     /* a minimal /dev: tmpfs, a few host devices, new devpts, shm */
        MOUNT_OP_PROC,    /* a fresh procfs of the new pid namespace, sensitive parts locked */
        MOUNT_OP_OVERLAY, /* src overlaid with a tmpfs upper layer at dst: writes vanish at exit */
} MountOpKind;

typedef struct MountOp {
        MountOpKind kind;
        char *src; /* BIND only */
        char *dst;
        bool readonly;
        bool optional; /* a missing src or dst is skipped instead of failing */
        int group;     /* ops sharing a non-zero group: only the first (by rank)
                          * whose dst exists is applied */
        int rank;
        bool mirror;     /* BIND: a host symlink is recreated as a symlink (minimal root) */
        uint64_t size;   /* TMPFS: size limit in bytes, 0 for the default */
        unsigned mode;   /* TMPFS: mode of its root, 0 for 01777 */
        const char *why; /* shown by --dry-run */
} MountOp;

typedef struct PlanRlimit {
        int resource;
        uint64_t value;
} PlanRlimit;

typedef struct Plan {
        int clone_flags;
        bool unshare_net;
        bool minimal_root; /* a fresh tmpfs root with only what ops bind in */
        char *hostname;
        MountOp *mounts; /* in execution order: every parent before its children */
        size_t n_mounts;
        char *chdir;
        char **argv;         /* argv[0] is looked up in path when it has no '/' */
        bool foreground_job; /* the payload leads its own process group, put in the
                              * terminal's foreground (a job-control shell) */
        char *path;
        char **envp;
        SeccompPolicy seccomp;
        char **seccomp_deny; /* backing store of seccomp.deny_extra */
        int *seccomp_deny_errno;
        char **seccomp_allow;
        PlanRlimit rlimits[8];
        size_t n_rlimits;
        uint64_t timeout_sec;
        const char *profile_name;
        uid_t uid;
        gid_t gid;
} Plan;

typedef struct PlanInput {
        const char *env; /* absolute path of the venv */
        const InterpInfo *interp;
        const char *cwd;       /* absolute */
        const char *cache_dir; /* vrun's cache: hidden inside (may be NULL) */
        const char *state_dir; /* vrun's records of envs: hidden inside (may be NULL) */
        const RunOptions *opts;
        const Profile *profile; /* the run options override it */
        const char *home;       /* $HOME, for home = tmpfs */
        char *const *argv;      /* the command; empty means the env's python */
        char *const *environ;   /* the caller's environment */
        uid_t uid;
        gid_t gid;
} PlanInput;

#define PLAN_MAX_MOUNTS 4096

/* Logs what is wrong with the input (a usage error) and returns -EINVAL. */
int plan_build(const PlanInput *in, Plan **ret);
void plan_free(Plan *p);
static inline void plan_freep(Plan **p) {
        plan_free(*p);
}
void plan_print(const Plan *p, FILE *f);
