/* The plan: the whole sandbox as data. An ordered list of typed steps, built
 * from the command line, the profile, the env and the interpreter facts
 * without a single syscall, so that it can be printed (--dry-run, -v),
 * unit-tested against golden files, and translated (vrun export). The
 * executor (sandbox.h) interprets the steps in order and decides nothing:
 * every path, flag, owner, size and table it uses is in a step.
 *
 * Where each step runs follows from the order: the parent runs the steps up
 * to STEP_NAMESPACES (the clone), pid 1 those up to STEP_SPAWN (the fork of
 * the payload), the payload the rest, ending with STEP_EXEC. See
 * docs/architecture.md for each kind. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "vrun/verbs/cli.h"
#include "vrun/venv/interp.h"
#include "vrun/sandbox/cgroup.h"
#include "vrun/sandbox/profile.h"
#include "vrun/sandbox/seccomp.h"

typedef enum StepKind {
        /* the parent */
        STEP_CGROUP,        /* a cgroup of the run's own, with the sandbox's budget (where one can be had) */
        STEP_ROOT_CAPTURES, /* root's run: vrun takes the captures marked by_parent (idmapped where owned) */
        STEP_NAMESPACES,    /* clone into new namespaces; pid 1 goes on from the next step */
        /* pid 1 */
        STEP_ID_MAP,       /* setgroups, uid_map, gid_map */
        STEP_NOT_DUMPABLE, /* nothing in the sandbox may ptrace pid 1 or read its memory */
        STEP_PROPAGATION,  /* every mount private, recursively */
        STEP_CAPTURE,      /* take an object of the host into a slot while the host tree is reachable */
        STEP_ROOT,         /* the host's / read-only, or an empty new root */
        STEP_MOUNT,        /* attach something at a path */
        STEP_SEAL_ROOT,    /* the new root read-only, once populated */
        STEP_HOSTNAME,
        STEP_LOOPBACK, /* bring lo up in the new network namespace */
        STEP_CHDIR,
        STEP_CAPS,     /* every capability set empty; no_new_privs */
        STEP_LANDLOCK, /* a Landlock domain scoping signals (and abstract sockets); else a session of its own */
        STEP_SECCOMP,  /* the filter, inherited by the payload */
        STEP_SPAWN,    /* start the payload; pid 1 forwards signals, reaps, times out */
        /* the payload */
        STEP_FDS,        /* close every fd >= 3 */
        STEP_FOREGROUND, /* lead its own process group, in the terminal's foreground */
        STEP_RLIMIT,
        STEP_ENV,  /* the environment execve passes, and the PATH argv[0] is looked up in */
        STEP_EXEC, /* execve */
        _STEP_KIND_MAX,
} StepKind;

typedef struct CgroupStep {
        CgroupBudget budget; /* pids: the payload's nproc limit + pid 1 */
} CgroupStep;

typedef struct IdMapStep {
        uid_t uid_inside, uid_outside;
        gid_t gid_inside, gid_outside;
        bool deny_setgroups;
        /* Root's run: only vrun, outside, may map 0 to another host id. It
         * writes the maps after the clone; pid 1 waits, then becomes uid and
         * gid 0 of its namespace without root's supplementary groups. */
        bool by_parent;
} IdMapStep;

/* Started by the host's root: the user namespace idmapped captures are made
 * through maps 0 to host_id, as the sandbox's does (idmap.h). */
typedef struct RootCapturesStep {
        uid_t host_id;
} RootCapturesStep;

/* Where a captured tree comes from: a path of the host, a path inside an
 * earlier capture (the env's site-packages inside the ephemeral env's
 * overlay), or a path below the env or the working directory, places a
 * program could have written (anchor). The anchor was resolved once before
 * anything ran and is opened following no symlink; a path below it or below
 * an earlier capture is resolved beneath that handle with
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS (mountsrc.h): a symlink found there is
 * refused, never followed. */
typedef struct StepSource {
        int slot;     /* >= 0: path is relative to this earlier capture; -1: none */
        char *anchor; /* a trusted directory path is resolved beneath, or NULL */
        char *path;   /* absolute unless slot >= 0 or anchor is set; "" is the anchor itself */
} StepSource;

typedef enum CaptureKind {
        CAPTURE_TREE,    /* a recursive clone of a directory or file (open_tree) */
        CAPTURE_NODE,    /* one node, not recursive (a device of /dev) */
        CAPTURE_OVERLAY, /* src read through an overlay whose upper layer is a private tmpfs; with
                          * src.slot, that capture is attached at src.path first and is the lower layer */
        CAPTURE_PROC,    /* a fresh procfs, mounted on the host's /proc, locked, then cloned */
} CaptureKind;

typedef struct ProcSpec ProcSpec;

typedef struct CaptureStep {
        CaptureKind kind;
        int slot;
        StepSource src;
        bool readonly;        /* TREE: read-only and nosuid, recursively */
        bool if_present;      /* a missing source leaves the slot empty instead of failing */
        bool keep_symlink;    /* TREE: a symlink is kept as a symlink, not followed */
        bool by_parent;       /* TREE: taken by vrun before the clone (STEP_ROOT_CAPTURES), not by pid 1 */
        bool idmap;           /* TREE, by_parent: idmapped, root's files shown as the program's */
        bool want_dir;        /* TREE: the source must be a directory (the env, its site-packages, the cwd) */
        uint64_t size;        /* OVERLAY: the upper layer's size limit, 0 for none */
        const ProcSpec *proc; /* PROC */
        const char *why;      /* shown by --dry-run and in errors */
} CaptureStep;

/* What a fresh procfs locks: the paths container runtimes protect. */
struct ProcSpec {
        const char *const *readonly; /* NULL-terminated, relative to /proc */
        const char *const *masked;   /* covered with /dev/null */
        int null_slot;               /* the capture of /dev/null */
};

typedef struct DevNode {
        const char *name;
        int slot; /* its capture from the host's /dev (empty: left out) */
} DevNode;

typedef struct DevLink {
        const char *name, *target;
} DevLink;

/* A minimal /dev: a tmpfs with a few host devices, a new devpts and shm. */
typedef struct DevSpec {
        const DevNode *nodes;
        size_t n_nodes;
        const DevLink *links;
        size_t n_links;
        const char *devpts_options;
        unsigned shm_mode;
        unsigned mode, attrs; /* of the tmpfs: its root's mode, MOUNT_ATTR_* flags */
} DevSpec;

typedef enum RootKind {
        ROOT_HOST_READONLY, /* the host's tree, read-only and nosuid, recursively, in one step */
        ROOT_EMPTY,         /* an empty tmpfs; pivot_root into it, the old root detached */
} RootKind;

typedef enum MountKind {
        MOUNT_CAPTURED, /* a capture (a bind, the overlay, the procfs; a kept symlink is recreated) */
        MOUNT_TMPFS,    /* a fresh tmpfs */
        MOUNT_EMPTY,    /* an empty read-only directory: hides what is under it */
        MOUNT_PROC,     /* a fresh procfs of the new pid namespace, locked as .proc says */
        MOUNT_DEV,      /* a minimal /dev, as .dev says */
} MountKind;

#define UID_NONE ((uid_t) -1)

typedef struct MountStep {
        MountKind kind;
        /* Where: the first of these that exists (an existing directory for
         * MOUNT_EMPTY and a multi-path MOUNT_CAPTURED); one path for all
         * others, whose mountpoint is made when missing where vrun mounted a
         * tmpfs. NULL-terminated, at least one. */
        char **dsts;
        bool if_present; /* skipped when no dst exists */
        int slot;        /* MOUNT_CAPTURED */
        bool readonly;   /* what the payload gets (a capture was made so; TMPFS) */
        unsigned attrs;  /* TMPFS: MOUNT_ATTR_* flags */
        unsigned mode;   /* TMPFS: mode of its root */
        uint64_t size;   /* TMPFS, DEV: size limit in bytes, 0 for none */
        uid_t owner_uid; /* TMPFS: chown its root, or UID_NONE */
        /* Set when the (single) dst lies below where an earlier capture of
         * the env or the working directory was mounted: dst is then resolved
         * as dst_rel beneath that mount (slot dst_slot), following no
         * symlink, and a missing last component is made there. */
        char *dst_rel;
        int dst_slot;
        gid_t owner_gid;
        const ProcSpec *proc;
        const DevSpec *dev;
        const char *why; /* shown by --dry-run */
        /* For readers of the plan (prove, info, export): the host path a
         * capture shows, NULL for fresh filesystems. */
        const char *src;
} MountStep;

typedef struct RlimitStep {
        int resource;
        uint64_t value; /* soft = hard; more than the hard limit means the hard limit */
} RlimitStep;

typedef struct SeccompStep {
        SeccompPolicy policy; /* points into the arrays below */
        char **deny;
        int *deny_errno;
        char **allow;
} SeccompStep;

typedef struct SpawnStep {
        uint64_t timeout_sec; /* 0: none */
} SpawnStep;

typedef struct EnvStep {
        char **envp;
        char *path; /* where argv[0] without '/' is looked up */
} EnvStep;

typedef struct Step {
        StepKind kind;
        union {
                CgroupStep cgroup;
                RootCapturesStep root_captures;
                int clone_flags; /* NAMESPACES */
                IdMapStep id_map;
                CaptureStep capture;
                RootKind root;
                MountStep mount;
                char *text;               /* HOSTNAME, CHDIR */
                unsigned landlock_scopes; /* LANDLOCK: LANDLOCK_SCOPE_*_BIT, where the kernel has them */
                SeccompStep seccomp;
                SpawnStep spawn;
                RlimitStep rlimit;
                EnvStep env;
                char **argv; /* EXEC */
        };
} Step;

typedef struct Plan {
        Step *steps;
        size_t n_steps;
        size_t n_slots; /* captures number their slots 0..n_slots-1 */
        const char *profile_name;
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
        bool system_site_packages; /* the env's pyvenv.cfg asks for the base's packages */
        const char *hosts_file;    /* /etc/hosts plus the sandbox's hostname, bound over it (may be NULL) */
        const char *tty;           /* the caller's terminal, bound at /dev/console (may be NULL) */
        uid_t root_host_id;        /* the host's root: the unprivileged host id the run is mapped to (idmap.h) */
} PlanInput;

#define PLAN_MAX_MOUNTS 4096

/* The env's own cache, below the env (XDG_CACHE_HOME inside): what a run
 * leaves there (pip's downloads, anything a program writes) is run-time
 * state, not the env, and vrun export leaves it out. */
#define PLAN_ENV_CACHE ".cache"

/* Logs what is wrong with the input (a usage error) and returns -EINVAL. */
int plan_build(const PlanInput *in, Plan **ret);
void plan_free(Plan *p);
static inline void plan_freep(Plan **p) {
        plan_free(*p);
}
/* One line per step (the same list the executor runs). */
void plan_print(const Plan *p, FILE *f);

/* The first step of kind, or NULL. */
Step *plan_find(const Plan *p, StepKind kind);
/* Whether the payload can write what the mount shows. */
bool plan_mount_writable(const MountStep *m);
/* The tables every plan uses for /proc and /dev (doctor tries them). */
const ProcSpec *plan_proc_spec(void);
const DevSpec *plan_dev_spec(void);
