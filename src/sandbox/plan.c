/* plan_build: the steps of a run, in the order the executor takes them. The
 * mounts are drafted in plan-mounts.c and lowered here into captures (what
 * must be taken from the host while it is reachable), the root, and the
 * mounts themselves; every other decision (namespaces, id maps, cgroup,
 * hostname, capabilities, seccomp, rlimits, environment, exec) is made here
 * too. No syscalls. */
#include <errno.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "sandbox/plan-internal.h"
#include "util/cleanup.h"
#include "util/log.h"
#include "util/path.h"
#include "util/strv.h"
#include "vrun/sandbox/idmap.h"
#include "vrun/sandbox/landlock.h"

#define VRUN_HOSTNAME "vrun"

/* ---- the tables of /proc and /dev ------------------------------------------------------------ */

/* Every plan captures the devices of its /dev first, then /dev/null for the
 * masks of /proc: these slots are fixed. */
enum {
        SLOT_DEV_NULL,
        SLOT_DEV_ZERO,
        SLOT_DEV_FULL,
        SLOT_DEV_RANDOM,
        SLOT_DEV_URANDOM,
        SLOT_DEV_TTY,
        SLOT_PROC_MASK,
        _SLOT_FIXED,
};

static const char *const proc_readonly[] = { "sys", "sysrq-trigger", "irq", "bus", "fs", NULL };
static const char *const proc_masked[] = { "kcore", "keys", "timer_list", "sched_debug", NULL };
static const ProcSpec proc_spec = { .readonly = proc_readonly, .masked = proc_masked, .null_slot = SLOT_PROC_MASK };

static const DevNode dev_nodes[] = {
        { "null", SLOT_DEV_NULL },     { "zero", SLOT_DEV_ZERO },       { "full", SLOT_DEV_FULL },
        { "random", SLOT_DEV_RANDOM }, { "urandom", SLOT_DEV_URANDOM }, { "tty", SLOT_DEV_TTY },
};
static const DevLink dev_links[] = {
        { "ptmx", "pts/ptmx" },          { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" },
        { "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
};
static const DevSpec dev_spec = {
        .nodes = dev_nodes,
        .n_nodes = ELEMENTSOF(dev_nodes),
        .links = dev_links,
        .n_links = ELEMENTSOF(dev_links),
        .devpts_options = "newinstance,ptmxmode=0666,mode=620",
        .shm_mode = 01777,
        .mode = 0755,
        .attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
};

const ProcSpec *plan_proc_spec(void) {
        return &proc_spec;
}

const DevSpec *plan_dev_spec(void) {
        return &dev_spec;
}

/* ---- steps ------------------------------------------------------------------------------------ */

void step_done(Step *s) {
        switch (s->kind) {
        case STEP_CAPTURE:
                free(s->capture.src.anchor);
                free(s->capture.src.path);
                break;
        case STEP_MOUNT:
                strv_free(s->mount.dsts);
                free(s->mount.dst_rel);
                break;
        case STEP_HOSTNAME:
        case STEP_CHDIR: free(s->text); break;
        case STEP_SECCOMP:
                strv_free(s->seccomp.deny);
                free(s->seccomp.deny_errno);
                strv_free(s->seccomp.allow);
                break;
        case STEP_ENV:
                strv_free(s->env.envp);
                free(s->env.path);
                break;
        case STEP_EXEC: strv_free(s->argv); break;
        default: break;
        }
}

int plan_add(Plan *p, const Step *s) {
        Step copy = *s;
        /* A plan has a few dozen steps besides its mounts. */
        if (p->n_steps >= PLAN_MAX_MOUNTS * 2) {
                step_done(&copy);
                return -E2BIG;
        }
        Step *v = realloc(p->steps, (p->n_steps + 1) * sizeof *v);
        if (!v) {
                step_done(&copy);
                return -ENOMEM;
        }
        p->steps = v;
        p->steps[p->n_steps++] = copy;
        return 0;
}

static int add_kind(Plan *p, StepKind kind) {
        return plan_add(p, &(Step){ .kind = kind });
}

static int add_text(Plan *p, StepKind kind, const char *text) {
        char *t = strdup(text);
        if (!t)
                return -ENOMEM;
        return plan_add(p, &(Step){ .kind = kind, .text = t });
}

Step *plan_find(const Plan *p, StepKind kind) {
        for (size_t k = 0; k < p->n_steps; k++)
                if (p->steps[k].kind == kind)
                        return &p->steps[k];
        return NULL;
}

bool plan_mount_writable(const MountStep *m) {
        return !m->readonly && !m->proc && m->kind != MOUNT_EMPTY;
}

/* ---- mounts: drafts lowered into captures, the root and mounts ------------------------------- */

static int add_capture(Plan *p, CaptureKind kind, int from_slot, const char *path, bool readonly, bool if_present,
                       const char *why, int *ret_slot) {
        char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        int slot = (int) p->n_slots++;
        Step s = { .kind = STEP_CAPTURE,
                   .capture = { .kind = kind,
                                .slot = slot,
                                .src = { .slot = from_slot, .path = copy },
                                .readonly = readonly,
                                .if_present = if_present,
                                .why = why } };
        int r = plan_add(p, &s);
        if (r >= 0 && ret_slot)
                *ret_slot = slot;
        return r;
}

static Step *last_step(Plan *p) {
        return &p->steps[p->n_steps - 1];
}

static int add_mount(Plan *p, const MountStep *m, const char *dst) {
        char **dsts = NULL;
        int r = strv_extend(&dsts, dst);
        if (r < 0)
                return r;
        Step s = { .kind = STEP_MOUNT, .mount = *m };
        s.mount.dsts = dsts;
        return plan_add(p, &s);
}

/* Captures of every draft that takes something from the host; slot_of[k]
 * is draft k's slot, -1 for none. A group of binds shares one capture. */
/* The overlay draft whose tree holds src (the innermost), or -1: also when
 * a bind closer to src is its own mount (the env bound writable inside an
 * ephemeral working directory). */
static ssize_t overlay_holding(const MountDrafts *d, const char *src) {
        ssize_t ov = -1;
        for (size_t j = 0; j < d->n; j++)
                if (d->v[j].kind == DRAFT_OVERLAY && path_startswith(src, d->v[j].src) &&
                    (ov < 0 || strlen(d->v[j].src) > strlen(d->v[ov].src)))
                        ov = (ssize_t) j;
        for (size_t j = 0; ov >= 0 && j < d->n; j++)
                if (d->v[j].kind == DRAFT_BIND && !d->v[j].group && path_startswith(src, d->v[j].src) &&
                    strlen(d->v[j].src) > strlen(d->v[ov].src))
                        return -1;
        return ov;
}

/* The places a program could have written, as vrun resolved them: the env,
 * the working directory (getcwd()) and a --chdir DIR (made absolute against
 * it and normalized, never resolved as the host resolves a link an earlier
 * run planted: as the cwd, it is opened following no symlink at all). "/"
 * is none. */
static size_t writable_roots(const PlanInput *in, const char *wd, const char *ret[static 3]) {
        size_t n = 0;
        ret[n++] = in->env;
        if (strcmp(in->cwd, "/") != 0)
                ret[n++] = in->cwd;
        if (in->opts->chdir && strcmp(wd, "/") != 0)
                ret[n++] = wd;
        return n;
}

static bool is_writable_root(const PlanInput *in, const char *wd, const char *path) {
        const char *roots[3];
        size_t n = writable_roots(in, wd, roots);
        for (size_t k = 0; k < n; k++)
                if (strcmp(path, roots[k]) == 0)
                        return true;
        return false;
}

/* The deepest of the places a program could have written that holds
 * path, or NULL. */
static const char *writable_root_of(const PlanInput *in, const char *wd, const char *path) {
        const char *best = NULL, *roots[3];
        size_t n = writable_roots(in, wd, roots);
        for (size_t k = 0; k < n; k++)
                if (path_startswith(path, roots[k]) && (!best || strlen(roots[k]) > strlen(best)))
                        best = roots[k];
        return best;
}

/* The last capture step's source becomes path below anchor. */
static int anchor_last_capture(Plan *p, const char *anchor, const char *path) {
        CaptureStep *c = &p->steps[p->n_steps - 1].capture;
        const char *rel = path + strlen(anchor);
        while (*rel == '/')
                rel++;
        char *a = strdup(anchor), *r = strdup(rel);
        if (!a || !r) {
                free(a);
                free(r);
                return -ENOMEM;
        }
        free(c->src.path);
        c->src.anchor = a;
        c->src.path = r;
        return 0;
}

static int lower_captures(Plan *p, const PlanInput *in, const char *wd, const MountDrafts *d, bool minimal_root,
                          bool map_root, int *slot_of) {
        int r, group_slot = -1;

        for (size_t k = 0; k < dev_spec.n_nodes; k++) {
                _cleanup_free_ char *path = path_join("/dev", dev_nodes[k].name);
                if (!path)
                        return -ENOMEM;
                if ((r = add_capture(p, CAPTURE_NODE, -1, path, false, true, "device", NULL)) < 0)
                        return r;
        }
        if ((r = add_capture(p, CAPTURE_TREE, -1, "/dev/null", true, false, "masks of /proc", NULL)) < 0)
                return r;

        for (size_t k = 0; k < d->n; k++) {
                slot_of[k] = -1;
                if (d->v[k].kind != DRAFT_OVERLAY)
                        continue;
                /* The ephemeral env, the ephemeral working directory. Root's
                 * is idmapped by vrun first: the overlay's lower layer. */
                int lower = -1;
                if (map_root) {
                        if ((r = add_capture(p, CAPTURE_TREE, -1, d->v[k].src, false, false, d->v[k].why, &lower)) < 0)
                                return r;
                        last_step(p)->capture.idmap = d->v[k].owned;
                        last_step(p)->capture.by_parent = true;
                        last_step(p)->capture.want_dir = true;
                }
                /* The lower layer is opened following no symlink: root's
                 * idmapped capture above, else the overlay's own. */
                const char *root = writable_root_of(in, wd, d->v[k].src);
                if (map_root && root && (r = anchor_last_capture(p, root, d->v[k].src)) < 0)
                        return r;
                if ((r = add_capture(p, CAPTURE_OVERLAY, lower, d->v[k].src, false, false, d->v[k].why, &slot_of[k])) <
                    0)
                        return r;
                if (!map_root && root && (r = anchor_last_capture(p, root, d->v[k].src)) < 0)
                        return r;
                last_step(p)->capture.size = d->v[k].size;
        }
        for (size_t k = 0; minimal_root && k < d->n; k++) {
                /* The kernel lets a user namespace mount procfs only where a
                 * fully visible one exists, which the empty root lacks: it is
                 * mounted on the host's /proc and carried across. */
                if (d->v[k].kind != DRAFT_PROC)
                        continue;
                if ((r = add_capture(p, CAPTURE_PROC, -1, "/proc", false, false, d->v[k].why, &slot_of[k])) < 0)
                        return r;
                last_step(p)->capture.proc = &proc_spec;
        }
        for (size_t k = 0; k < d->n; k++) {
                const MountDraft *m = &d->v[k];
                if (m->kind != DRAFT_BIND)
                        continue;
                if (m->group && group_slot >= 0) {
                        slot_of[k] = group_slot;
                        continue;
                }
                ssize_t ov = overlay_holding(d, m->src);
                if (ov >= 0) {
                        /* e.g. the env's site-packages over the base's: it
                         * must show the ephemeral layer, not the host's. */
                        const char *rel = m->src + strlen(d->v[ov].src);
                        while (*rel == '/')
                                rel++;
                        r = add_capture(p, CAPTURE_TREE, slot_of[ov], rel, m->readonly, m->optional || m->group, m->why,
                                        &slot_of[k]);
                } else {
                        r = add_capture(p, CAPTURE_TREE, -1, m->src, m->readonly, m->optional || m->group, m->why,
                                        &slot_of[k]);
                        /* Root's run is an unprivileged uid inside, which
                         * cannot enter root's directories to take what it
                         * binds: vrun takes it before the clone. */
                        if (r >= 0) {
                                last_step(p)->capture.idmap = map_root && m->owned;
                                last_step(p)->capture.by_parent = map_root;
                        }
                        const char *root = r >= 0 && !m->keep_symlink ? writable_root_of(in, wd, m->src) : NULL;
                        if (root)
                                r = anchor_last_capture(p, root, m->src);
                }
                if (r < 0)
                        return r;
                last_step(p)->capture.keep_symlink = m->keep_symlink;
                last_step(p)->capture.want_dir = m->group || is_writable_root(in, wd, m->src);
                if (m->group)
                        group_slot = slot_of[k];
        }
        return 0;
}

/* The members of draft k's group, by rank: where the env's site-packages
 * may go, the first that exists on the host. */
static int group_dsts(const MountDrafts *d, int group, char ***ret) {
        _cleanup_strv_free_ char **dsts = NULL;
        int r;
        for (int rank = 0;; rank++) {
                bool found = false;
                for (size_t k = 0; k < d->n; k++)
                        if (d->v[k].group == group && d->v[k].rank == rank) {
                                if ((r = strv_extend(&dsts, d->v[k].dst)) < 0)
                                        return r;
                                found = true;
                        }
                if (!found)
                        break;
        }
        *ret = TAKE_PTR(dsts);
        return 0;
}

static int lower_mount(Plan *p, const PlanInput *in, const MountDraft *m, int slot) {
        MountStep s = { .kind = MOUNT_CAPTURED,
                        .slot = slot,
                        .readonly = m->readonly,
                        .why = m->why,
                        .owner_uid = UID_NONE,
                        .owner_gid = (gid_t) -1 };
        switch (m->kind) {
        case DRAFT_PROC:
                /* Fresh here, or carried across from the host's /proc. */
                s.kind = slot < 0 ? MOUNT_PROC : MOUNT_CAPTURED;
                s.proc = &proc_spec;
                break;
        case DRAFT_DEV:
                s.kind = MOUNT_DEV;
                s.dev = &dev_spec;
                s.size = m->size;
                break;
        case DRAFT_TMPFS:
                s.kind = MOUNT_TMPFS;
                s.mode = m->mode ? m->mode : 01777;
                s.size = m->size;
                s.attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
                if (m->user_owned) {
                        /* An empty home belongs to the user, not to vrun's root. */
                        s.owner_uid = in->uid;
                        s.owner_gid = in->gid;
                }
                break;
        case DRAFT_HIDE:
                s.kind = MOUNT_EMPTY;
                s.readonly = true;
                s.if_present = true; /* nothing there to hide */
                break;
        case DRAFT_OVERLAY: break;
        case DRAFT_BIND: s.if_present = m->optional || m->group; break;
        }
        return add_mount(p, &s, m->dst);
}

static int plan_mounts(Plan *p, const PlanInput *in, bool minimal_root, bool map_root) {
        _cleanup_(mount_drafts_done) MountDrafts d = {};
        int r = plan_draft_mounts(in, minimal_root, &d);
        if (r < 0)
                return r;
        _cleanup_free_ char *wd = NULL;
        if ((r = plan_workdir(in, &wd)) < 0)
                return r;
        _cleanup_free_ int *slot_of = calloc(d.n ? d.n : 1, sizeof(int));
        if (!slot_of)
                return -ENOMEM;
        if ((r = add_kind(p, STEP_PROPAGATION)) < 0 ||
            (r = lower_captures(p, in, wd, &d, minimal_root, map_root, slot_of)) < 0)
                return r;
        if ((r = plan_add(p, &(Step){ .kind = STEP_ROOT, .root = minimal_root ? ROOT_EMPTY : ROOT_HOST_READONLY })) < 0)
                return r;
        /* Where the env and the working directory are mounted, in order:
         * what goes below them is resolved beneath them. */
        struct {
                const char *dst;
                int slot;
        } roots[3];
        size_t n_roots = 0;
        for (size_t k = 0; k < d.n; k++) {
                const MountDraft *m = &d.v[k];
                if (m->group) {
                        /* One mount for the group, where its deepest member
                         * stands: after every hide of every candidate. */
                        bool last = true;
                        for (size_t j = k + 1; j < d.n; j++)
                                if (d.v[j].group == m->group)
                                        last = false;
                        if (!last)
                                continue;
                        _cleanup_strv_free_ char **dsts = NULL;
                        if ((r = group_dsts(&d, m->group, &dsts)) < 0 || (r = lower_mount(p, in, m, slot_of[k])) < 0)
                                return r;
                        strv_free(last_step(p)->mount.dsts);
                        last_step(p)->mount.dsts = TAKE_PTR(dsts);
                        continue;
                }
                if ((r = lower_mount(p, in, m, slot_of[k])) < 0)
                        return r;
                const char *root_dst = NULL;
                int root_slot = -1;
                for (size_t j = 0; j < n_roots; j++)
                        if (path_startswith(m->dst, roots[j].dst) && strcmp(m->dst, roots[j].dst) != 0 &&
                            (!root_dst || strlen(roots[j].dst) > strlen(root_dst))) {
                                root_dst = roots[j].dst;
                                root_slot = roots[j].slot;
                        }
                if (root_dst) {
                        const char *rel = m->dst + strlen(root_dst);
                        while (*rel == '/')
                                rel++;
                        if (!(last_step(p)->mount.dst_rel = strdup(rel)))
                                return -ENOMEM;
                        last_step(p)->mount.dst_slot = root_slot;
                }
                if ((m->kind == DRAFT_BIND || m->kind == DRAFT_OVERLAY) && n_roots < ELEMENTSOF(roots) &&
                    is_writable_root(in, wd, m->src))
                        roots[n_roots++] = (typeof(roots[0])){ m->dst, slot_of[k] };
        }
        /* Sources of captures live in the capture steps; mounts point at them. */
        for (size_t k = 0; k < p->n_steps; k++) {
                MountStep *m = &p->steps[k].mount;
                if (p->steps[k].kind != STEP_MOUNT || m->kind != MOUNT_CAPTURED)
                        continue;
                for (size_t j = 0; j < p->n_steps; j++) {
                        const CaptureStep *c = &p->steps[j].capture;
                        if (p->steps[j].kind == STEP_CAPTURE && c->slot == m->slot && c->src.slot < 0 &&
                            (c->kind == CAPTURE_TREE || c->kind == CAPTURE_OVERLAY))
                                m->src = c->src.path;
                }
        }
        if (minimal_root && (r = add_kind(p, STEP_SEAL_ROOT)) < 0)
                return r;
        return 0;
}

/* ---- everything else ------------------------------------------------------------------------- */

static int plan_seccomp(Plan *p, const Profile *pr, bool network) {
        Step s = { .kind = STEP_SECCOMP };
        SeccompStep *sc = &s.seccomp;
        int r = 0;
        sc->policy.strict = pr->seccomp_strict;
        if (pr->socket_families)
                sc->policy.allow_inet =
                        strv_contains(pr->socket_families, "inet") || strv_contains(pr->socket_families, "inet6");
        else
                sc->policy.allow_inet = network;
        if (pr->n_seccomp_deny > 0) {
                sc->deny_errno = calloc(pr->n_seccomp_deny, sizeof(int));
                if (!sc->deny_errno)
                        r = -ENOMEM;
                for (size_t k = 0; r >= 0 && k < pr->n_seccomp_deny; k++) {
                        r = strv_extend(&sc->deny, pr->seccomp_deny[k].syscall);
                        sc->deny_errno[k] = pr->seccomp_deny[k].errno_value;
                }
        }
        if (r >= 0 && pr->seccomp_allow && !(sc->allow = strv_copy(pr->seccomp_allow)))
                r = -ENOMEM;
        if (r < 0) {
                step_done(&s);
                return r;
        }
        if ((r = plan_add(p, &s)) < 0)
                return r;
        /* The policy points into the step's own arrays, where they now live. */
        sc = &last_step(p)->seccomp;
        sc->policy.deny_extra = (const char *const *) sc->deny;
        sc->policy.deny_extra_errno = sc->deny ? sc->deny_errno : NULL;
        sc->policy.allow_extra = (const char *const *) sc->allow;
        return 0;
}

static const int rlimit_resource[_PROFILE_RLIMIT_MAX] = {
        [PROFILE_RLIMIT_NPROC] = RLIMIT_NPROC, [PROFILE_RLIMIT_AS] = RLIMIT_AS,
        [PROFILE_RLIMIT_FSIZE] = RLIMIT_FSIZE, [PROFILE_RLIMIT_NOFILE] = RLIMIT_NOFILE,
        [PROFILE_RLIMIT_CPU] = RLIMIT_CPU,     [PROFILE_RLIMIT_CORE] = RLIMIT_CORE,
};

static int plan_exec(Plan *p, const PlanInput *in) {
        char **argv;
        if (in->argv && in->argv[0])
                argv = strv_copy(in->argv);
        else {
                const char *sh = NULL;
                STRV_FOREACH (e, in->environ)
                        if (strncmp(*e, "SHELL=", 6) == 0 && (*e)[6] == '/')
                                sh = *e + 6;
                char *def[] = { (char *) (sh ? sh : "/bin/sh"), NULL };
                argv = strv_copy(def);
        }
        if (!argv)
                return -ENOMEM;
        return plan_add(p, &(Step){ .kind = STEP_EXEC, .argv = argv });
}

/* The payload's side: fds, terminal, rlimits, environment, exec. */
static int plan_payload(Plan *p, const PlanInput *in) {
        const Profile *pr = in->profile;
        int r;
        if ((r = add_kind(p, STEP_FDS)) < 0)
                return r;
        if (in->opts->foreground_job && (r = add_kind(p, STEP_FOREGROUND)) < 0)
                return r;
        for (size_t k = 0; k < _PROFILE_RLIMIT_MAX; k++)
                if (pr->rlimits[k].set &&
                    (r = plan_add(p, &(Step){ .kind = STEP_RLIMIT,
                                              .rlimit = { rlimit_resource[k], pr->rlimits[k].value } })) < 0)
                        return r;
        Step env = { .kind = STEP_ENV };
        if ((r = plan_build_env(in, &env.env.envp, &env.env.path)) < 0 || (r = plan_add(p, &env)) < 0)
                return r;
        return plan_exec(p, in);
}

int plan_build(const PlanInput *in, Plan **ret) {
        _cleanup_(plan_freep) Plan *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        const RunOptions *o = in->opts;
        const Profile *pr = in->profile;
        int r;
        if (!pr) {
                log_error("no profile");
                return -EINVAL;
        }
        p->profile_name = pr->name;
        bool minimal_root = pr->filesystem == PROFILE_FS_MINIMAL;
        bool network = o->share_net >= 0 ? o->share_net == 1 : pr->network == PROFILE_NET_HOST;
        bool map_root = in->uid == 0 && in->root_host_id != 0;
        uid_t host_id = in->root_host_id;

        /* One budget for the whole sandbox: what rlimits cannot bound in
         * total (many processes, memfds, kernel memory, CPU). */
        CgroupBudget budget = { .memory = pr->memory, .cpus = pr->cpus };
        if (pr->rlimits[PROFILE_RLIMIT_NPROC].set && pr->rlimits[PROFILE_RLIMIT_NPROC].value != RLIM_INFINITY)
                budget.pids = pr->rlimits[PROFILE_RLIMIT_NPROC].value + 1; /* and pid 1 */
        if (cgroup_budget_controllers(&budget) &&
            (r = plan_add(p, &(Step){ .kind = STEP_CGROUP, .cgroup.budget = budget })) < 0)
                return r;
        if (map_root && (r = plan_add(p, &(Step){ .kind = STEP_ROOT_CAPTURES, .root_captures.host_id = host_id })) < 0)
                return r;
        int flags =
                CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | (network ? 0 : CLONE_NEWNET);
        if ((r = plan_add(p, &(Step){ .kind = STEP_NAMESPACES, .clone_flags = flags })) < 0)
                return r;
        /* Started by the host's root, the run is 0 inside and an
         * unprivileged id on the host (idmap.h); what it owns is idmapped. */
        Step idmap = { .kind = STEP_ID_MAP,
                       .id_map = { .uid_inside = in->uid,
                                   .uid_outside = map_root ? host_id : in->uid,
                                   .gid_inside = in->gid,
                                   .gid_outside = map_root ? host_id : in->gid,
                                   .deny_setgroups = !map_root,
                                   .by_parent = map_root } };
        if ((r = plan_add(p, &idmap)) < 0 || (r = add_kind(p, STEP_NOT_DUMPABLE)) < 0)
                return r;
        /* The home as a place to mount on and to compare with the working
         * directory (getcwd's, resolved): resolved too. A $HOME through a
         * link (/home -> /var/home) would be mounted on as the link itself,
         * which fails. The program's HOME stays as the user set it. */
        _cleanup_free_ char *home_real = in->home && in->home[0] == '/' ? realpath(in->home, NULL) : NULL;
        PlanInput resolved = *in;
        if (home_real)
                resolved.home = home_real;
        if ((r = plan_mounts(p, &resolved, minimal_root, map_root)) < 0)
                return r;

        if ((r = add_text(p, STEP_HOSTNAME, pr->hostname ? pr->hostname : VRUN_HOSTNAME)) < 0)
                return r;
        if (!network && (r = add_kind(p, STEP_LOOPBACK)) < 0)
                return r;
        _cleanup_free_ char *wd = NULL, *chdir = NULL;
        if ((r = plan_workdir(in, &wd)) < 0)
                return r;
        if (!(chdir = strdup(plan_cwd_hidden(in, wd) ? "/" : wd)))
                return -ENOMEM;
        if ((r = add_text(p, STEP_CHDIR, chdir)) < 0)
                return r;
        /* Locked down before the payload starts, so it inherits empty
         * capability sets, no_new_privs and the filter, and pid 1 keeps
         * nothing it could be robbed of. */
        if ((r = add_kind(p, STEP_CAPS)) < 0)
                return r;
        /* Signals end at the sandbox; so do abstract sockets where the host's are hidden. */
        unsigned scopes = LANDLOCK_SCOPE_SIGNAL_BIT |
                          (pr->host_sockets == PROFILE_SOCKETS_HIDDEN ? LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET_BIT : 0);
        if ((r = plan_add(p, &(Step){ .kind = STEP_LANDLOCK, .landlock_scopes = scopes })) < 0 ||
            (r = plan_seccomp(p, pr, network)) < 0)
                return r;
        if ((r = plan_add(p, &(Step){ .kind = STEP_SPAWN, .spawn.timeout_sec = pr->timeout_sec })) < 0)
                return r;
        if ((r = plan_payload(p, in)) < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

void plan_free(Plan *p) {
        if (!p)
                return;
        for (size_t k = 0; k < p->n_steps; k++)
                step_done(&p->steps[k]);
        free(p->steps);
        free(p);
}
