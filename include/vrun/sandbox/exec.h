/* The executor's steps, one call each: what sandbox_run takes pid 1 through
 * between the clone and the payload's start, and what `vrun doctor` tries
 * for real. Each interprets one step of the plan (plan.h) and decides
 * nothing of its own; each returns -errno and, on failure, names what failed
 * in ctx->failed (the parent logs it as "vrun: WHAT: ERRNO"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "vrun/sandbox/plan.h"

/* What a capture holds: a detached mount (fd), or the target of a host
 * symlink kept as a symlink (link). Both empty: a source that was not there. */
typedef struct ExecSlot {
        int fd;
        char *link;
} ExecSlot;

typedef struct ExecCtx {
        ExecSlot *slots;
        size_t n_slots;
        int empty_fd;        /* the empty read-only tmpfs MOUNT_EMPTY clones, made once */
        bool empty_attached; /* empty_fd is mounted (its first use): the others are its clones */
        int userns_fd;       /* root's run, in vrun: the user namespace idmapped captures go through */
        bool in_parent;      /* vrun runs STEP_ROOT_CAPTURES: captures marked by_parent are taken */
        char failed[480];    /* what failed */
} ExecCtx;

int exec_ctx_init(ExecCtx *c, size_t n_slots);
void exec_ctx_done(ExecCtx *c);
/* Records what failed; returns r. */
int exec_fail(ExecCtx *c, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* exec-ns.c: the process and its namespaces */
int exec_id_map(ExecCtx *c, const IdMapStep *s);
int exec_not_dumpable(ExecCtx *c);
int exec_hostname(ExecCtx *c, const char *name);
int exec_loopback(ExecCtx *c);
int exec_chdir(ExecCtx *c, const char *dir);
int exec_caps(ExecCtx *c);
int exec_landlock(ExecCtx *c, unsigned scopes);
int exec_seccomp(ExecCtx *c, const SeccompStep *s);

/* exec-mount.c: the mount tree */
int exec_propagation(ExecCtx *c);
int exec_capture(ExecCtx *c, const CaptureStep *s);
int exec_root(ExecCtx *c, RootKind k);
int exec_mount(ExecCtx *c, const MountStep *s);
int exec_seal_root(ExecCtx *c);

/* Any step pid 1 runs (between STEP_NAMESPACES and STEP_SPAWN). */
int exec_step(ExecCtx *c, const Step *s);
