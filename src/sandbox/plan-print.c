/* plan_print: one line per step, the list the executor runs (--dry-run, -v,
 * and the golden test of tests/unit/test-plan.c). */
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <sys/resource.h>

#include "sandbox/plan-internal.h"
#include "util/cleanup.h"
#include "util/strv.h"
#include "vrun/sandbox/landlock.h"

static const char *rlimit_name(int resource) {
        switch (resource) {
        case RLIMIT_NPROC: return "nproc";
        case RLIMIT_AS: return "as";
        case RLIMIT_FSIZE: return "fsize";
        case RLIMIT_NOFILE: return "nofile";
        case RLIMIT_CPU: return "cpu";
        case RLIMIT_CORE: return "core";
        default: return "?";
        }
}

static void print_list(FILE *f, const char *const *l) {
        for (size_t k = 0; l && l[k]; k++)
                fprintf(f, "%s%s", k ? " " : "", l[k]);
}

static void print_attrs(FILE *f, unsigned attrs) {
        static const struct {
                unsigned attr;
                const char *name;
        } names[] = {
                { MOUNT_ATTR_RDONLY, "ro" },
                { MOUNT_ATTR_NOSUID, "nosuid" },
                { MOUNT_ATTR_NODEV, "nodev" },
                { MOUNT_ATTR_NOEXEC, "noexec" },
        };
        for (size_t k = 0; k < ELEMENTSOF(names); k++)
                if (attrs & names[k].attr)
                        fprintf(f, " %s", names[k].name);
}

static void print_proc(FILE *f, const ProcSpec *s) {
        fprintf(f, "; read-only: ");
        print_list(f, s->readonly);
        fprintf(f, "; masked with #%d: ", s->null_slot);
        print_list(f, s->masked);
}

static void print_capture(FILE *f, const CaptureStep *c) {
        const char *opt = c->if_present ? " (if present)" : "";
        fprintf(f, "capture #%d: ", c->slot);
        switch (c->kind) {
        case CAPTURE_TREE:
        case CAPTURE_NODE:
                fprintf(f, "%s ", c->kind == CAPTURE_TREE ? "tree" : "node");
                if (c->src.slot >= 0)
                        fprintf(f, "#%d/%s (no symlink followed)", c->src.slot, c->src.path);
                else if (c->src.anchor && !*c->src.path)
                        fprintf(f, "%s (no symlink followed)", c->src.anchor);
                else if (c->src.anchor)
                        fprintf(f, "%s beneath %s (no symlink followed)", c->src.path, c->src.anchor);
                else
                        fprintf(f, "%s", c->src.path);
                fprintf(f, "%s%s%s%s%s  # %s\n", c->readonly ? " ro nosuid" : "",
                        c->keep_symlink ? " (a symlink stays a symlink)" : "", c->idmap ? " idmapped" : "",
                        c->by_parent ? " (by vrun)" : "", opt, c->why);
                break;
        case CAPTURE_OVERLAY:
                fprintf(f, "overlay of %s%s with a tmpfs upper layer", c->src.anchor ? c->src.anchor : c->src.path,
                        c->src.anchor ? " (no symlink followed)" : "");
                if (c->size)
                        fprintf(f, " size %llu", (unsigned long long) c->size);
                fprintf(f, " (writes vanish at exit)%s  # %s\n", opt, c->why);
                break;
        case CAPTURE_PROC:
                fprintf(f, "proc mounted on the host's %s", c->src.path);
                print_proc(f, c->proc);
                fprintf(f, "  # %s\n", c->why);
                break;
        }
}

static void print_dsts(FILE *f, char *const *dsts) {
        if (dsts[1]) {
                fprintf(f, "the first present of ");
                for (size_t k = 0; dsts[k]; k++)
                        fprintf(f, "%s%s", k ? " | " : "", dsts[k]);
        } else
                fprintf(f, "%s", dsts[0]);
}

static void print_mount(FILE *f, const MountStep *m) {
        const char *opt = m->if_present ? " (if present)" : "";
        fprintf(f, "mount: ");
        switch (m->kind) {
        case MOUNT_CAPTURED:
                fprintf(f, "#%d on ", m->slot);
                print_dsts(f, m->dsts);
                if (m->dst_rel)
                        fprintf(f, " (beneath #%d, no symlink followed)", m->dst_slot);
                if (m->proc)
                        fprintf(f, "%s  # %s\n", opt, m->why);
                else
                        fprintf(f, " %s%s  # %s\n", m->readonly ? "ro" : "rw", opt, m->why);
                break;
        case MOUNT_TMPFS:
                fprintf(f, "tmpfs on %s", m->dsts[0]);
                if (m->dst_rel)
                        fprintf(f, " (beneath #%d, no symlink followed)", m->dst_slot);
                fprintf(f, " mode %04o", m->mode);
                if (m->size)
                        fprintf(f, " size %llu", (unsigned long long) m->size);
                print_attrs(f, m->attrs);
                if (m->owner_uid != UID_NONE)
                        fprintf(f, " owner %u:%u", (unsigned) m->owner_uid, (unsigned) m->owner_gid);
                fprintf(f, "  # %s\n", m->why);
                break;
        case MOUNT_EMPTY:
                /* tests/integration/test-info.sh reads these lines. */
                fprintf(f, "empty ro tmpfs on %s%s  # %s\n", m->dsts[0], opt, m->why);
                break;
        case MOUNT_PROC:
                fprintf(f, "proc on %s", m->dsts[0]);
                print_proc(f, m->proc);
                fprintf(f, "  # %s\n", m->why);
                break;
        case MOUNT_DEV: {
                const DevSpec *d = m->dev;
                fprintf(f, "tmpfs on %s mode %04o", m->dsts[0], d->mode);
                if (m->size)
                        fprintf(f, " size %llu", (unsigned long long) m->size);
                print_attrs(f, d->attrs);
                fprintf(f, "; devices:");
                for (size_t k = 0; k < d->n_nodes; k++)
                        fprintf(f, " %s (#%d)", d->nodes[k].name, d->nodes[k].slot);
                fprintf(f, "; links:");
                for (size_t k = 0; k < d->n_links; k++)
                        fprintf(f, " %s -> %s", d->links[k].name, d->links[k].target);
                fprintf(f, "; devpts on pts (%s); shm mode %04o  # %s\n", d->devpts_options, d->shm_mode, m->why);
                break;
        }
        }
}

static void print_namespaces(FILE *f, int flags) {
        static const struct {
                int flag;
                const char *name;
        } names[] = {
                { CLONE_NEWUSER, "user" }, { CLONE_NEWNS, "mount" }, { CLONE_NEWPID, "pid" },
                { CLONE_NEWIPC, "ipc" },   { CLONE_NEWUTS, "uts" },  { CLONE_NEWNET, "net" },
        };
        fprintf(f, "namespaces:");
        for (size_t k = 0; k < ELEMENTSOF(names); k++)
                if (flags & names[k].flag)
                        fprintf(f, " %s", names[k].name);
        fputc('\n', f);
}

static void print_seccomp(FILE *f, const SeccompStep *s) {
        const SeccompPolicy *p = &s->policy;
        fprintf(f, "seccomp: %s filter%s", p->strict ? "strict" : "default",
                p->strict ? (p->allow_inet ? ", sockets: unix inet inet6" : ", sockets: unix") : "");
        STRV_FOREACH (a, s->allow)
                fprintf(f, ", allow %s", *a);
        for (size_t k = 0; s->deny && s->deny[k]; k++)
                fprintf(f, ", deny %s (errno %d)", s->deny[k], s->deny_errno[k]);
        fputc('\n', f);
}

static void print_step(FILE *f, const Step *s) {
        switch (s->kind) {
        case STEP_CGROUP:
                fprintf(f, "cgroup: the whole sandbox in a cgroup of its own (where one can be had):");
                if (s->cgroup.budget.memory)
                        fprintf(f, " memory %llu", (unsigned long long) s->cgroup.budget.memory);
                if (s->cgroup.budget.pids)
                        fprintf(f, " pids %llu", (unsigned long long) s->cgroup.budget.pids);
                if (s->cgroup.budget.cpus)
                        fprintf(f, " cpus %llu", (unsigned long long) s->cgroup.budget.cpus);
                fputc('\n', f);
                break;
        case STEP_NAMESPACES: print_namespaces(f, s->clone_flags); break;
        case STEP_ID_MAP:
                /* Root's host id is picked per run (idmap.h): not printed,
                 * so that two plans of the same command read the same. */
                if (s->id_map.by_parent)
                        fprintf(f,
                                "id map: uid %u and gid %u -> an unprivileged host id picked for the run, "
                                "written by vrun; pid 1 drops root's groups\n",
                                (unsigned) s->id_map.uid_inside, (unsigned) s->id_map.gid_inside);
                else
                        fprintf(f, "id map: uid %u -> %u, gid %u -> %u%s\n", (unsigned) s->id_map.uid_inside,
                                (unsigned) s->id_map.uid_outside, (unsigned) s->id_map.gid_inside,
                                (unsigned) s->id_map.gid_outside, s->id_map.deny_setgroups ? ", setgroups deny" : "");
                break;
        case STEP_ROOT_CAPTURES:
                fprintf(f, "root's run: vrun maps 0 to an unprivileged host id picked for the run, and takes the "
                           "captures marked \"by vrun\" (idmapped where marked)\n");
                break;
        case STEP_NOT_DUMPABLE: fprintf(f, "pid 1: not dumpable\n"); break;
        case STEP_PROPAGATION: fprintf(f, "mount propagation: private (recursive)\n"); break;
        case STEP_CAPTURE: print_capture(f, &s->capture); break;
        case STEP_ROOT:
                if (s->root == ROOT_EMPTY)
                        fprintf(f, "root: an empty tmpfs; pivot_root into it, the old root detached\n");
                else
                        fprintf(f, "root: / read-only, nosuid (recursive, atomic)\n");
                break;
        case STEP_MOUNT: print_mount(f, &s->mount); break;
        case STEP_SEAL_ROOT: fprintf(f, "root: / read-only\n"); break;
        case STEP_HOSTNAME: fprintf(f, "hostname: %s\n", s->text); break;
        case STEP_LOOPBACK: fprintf(f, "network: loopback up\n"); break;
        case STEP_CHDIR: fprintf(f, "chdir: %s\n", s->text); break;
        case STEP_CAPS: fprintf(f, "capabilities: all sets empty; no_new_privs\n"); break;
        case STEP_LANDLOCK:
                fprintf(f,
                        "landlock: scope %s (Linux >= 6.12; without it, a session of its own when stdin is not a "
                        "terminal)\n",
                        landlock_scopes_name(s->landlock_scopes));
                break;
        case STEP_SECCOMP: print_seccomp(f, &s->seccomp); break;
        case STEP_SPAWN:
                fprintf(f, "spawn: the payload; pid 1 forwards INT TERM HUP QUIT USR1 USR2 and reaps");
                if (s->spawn.timeout_sec)
                        fprintf(f, "; timeout %llu s", (unsigned long long) s->spawn.timeout_sec);
                fputc('\n', f);
                break;
        case STEP_FDS: fprintf(f, "fds: close >= 3\n"); break;
        case STEP_FOREGROUND:
                fprintf(f, "terminal: the payload leads its own process group, in the foreground\n");
                break;
        case STEP_RLIMIT:
                fprintf(f, "rlimit: %s %llu\n", rlimit_name(s->rlimit.resource), (unsigned long long) s->rlimit.value);
                break;
        case STEP_ENV:
                STRV_FOREACH (e, s->env.envp)
                        fprintf(f, "env: %s\n", *e);
                break;
        case STEP_EXEC:
                fprintf(f, "exec:");
                STRV_FOREACH (a, s->argv)
                        fprintf(f, " %s", *a);
                fputc('\n', f);
                break;
        case _STEP_KIND_MAX: break;
        }
}

void plan_print(const Plan *p, FILE *f) {
        fprintf(f, "profile: %s\n", p->profile_name ? p->profile_name : "default");
        for (size_t k = 0; k < p->n_steps; k++)
                print_step(f, &p->steps[k]);
}
