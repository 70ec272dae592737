#include "vrun/export/spec.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "util/cleanup.h"
#include "util/path.h"

/* A jansson call that failed ran out of memory. */
#define JSON_TRY(x)                     \
        do {                            \
                if ((x) < 0)            \
                        return -ENOMEM; \
        } while (0)

static const char *arch_name(uint32_t arch) {
        static const struct {
                uint32_t arch;
                const char *name;
        } t[] = {
                { SCMP_ARCH_X86_64, "SCMP_ARCH_X86_64" }, { SCMP_ARCH_X86, "SCMP_ARCH_X86" },
                { SCMP_ARCH_X32, "SCMP_ARCH_X32" },       { SCMP_ARCH_AARCH64, "SCMP_ARCH_AARCH64" },
                { SCMP_ARCH_ARM, "SCMP_ARCH_ARM" },       { SCMP_ARCH_PPC64LE, "SCMP_ARCH_PPC64LE" },
                { SCMP_ARCH_S390X, "SCMP_ARCH_S390X" },   { SCMP_ARCH_RISCV64, "SCMP_ARCH_RISCV64" },
        };
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (t[i].arch == arch)
                        return t[i].name;
        return NULL;
}

static const char *op_name(int op) {
        switch (op) {
        case SCMP_CMP_NE: return "SCMP_CMP_NE";
        case SCMP_CMP_LT: return "SCMP_CMP_LT";
        case SCMP_CMP_LE: return "SCMP_CMP_LE";
        case SCMP_CMP_EQ: return "SCMP_CMP_EQ";
        case SCMP_CMP_GE: return "SCMP_CMP_GE";
        case SCMP_CMP_GT: return "SCMP_CMP_GT";
        case SCMP_CMP_MASKED_EQ: return "SCMP_CMP_MASKED_EQ";
        default: return NULL;
        }
}

/* jansson's integers are signed: a 64-bit mask with the top bit set is kept as a string with
 * this prefix inside the seccomp object, and spec_dumps() writes it as the number it is. */
#define U64_MARK "\001u64:"

static json_t *u64_json(uint64_t v) {
        if (v <= (uint64_t) INT64_MAX)
                return json_integer((json_int_t) v);
        char buf[48];
        snprintf(buf, sizeof buf, U64_MARK "%" PRIu64, v);
        return json_string(buf);
}

static int dump_value(FILE *f, const json_t *j, unsigned depth, bool raw_ok);

static void indent(FILE *f, unsigned depth) {
        fputc('\n', f);
        for (unsigned i = 0; i < depth; i++)
                fputs("  ", f);
}

static int dump_string(FILE *f, const char *s, bool raw_ok) {
        if (raw_ok && strncmp(s, U64_MARK, STRLEN(U64_MARK)) == 0) {
                fputs(s + STRLEN(U64_MARK), f);
                return 0;
        }
        json_t *t = json_string(s);
        char *text = t ? json_dumps(t, JSON_ENCODE_ANY) : NULL;
        json_decref(t);
        if (!text)
                return -ENOMEM;
        fputs(text, f);
        free(text);
        return 0;
}

static int keycmp(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

static int dump_object(FILE *f, const json_t *j, unsigned depth, bool raw_ok) {
        size_t n = json_object_size(j), k = 0;
        if (n == 0) {
                fputs("{}", f);
                return 0;
        }
        _cleanup_free_ const char **keys = calloc(n, sizeof *keys);
        if (!keys)
                return -ENOMEM;
        const char *key;
        json_t *v;
        json_object_foreach ((json_t *) j, key, v)
                keys[k++] = key;
        qsort(keys, n, sizeof *keys, keycmp);
        fputc('{', f);
        for (k = 0; k < n; k++) {
                indent(f, depth + 1);
                int r = dump_string(f, keys[k], false);
                if (r < 0)
                        return r;
                fputs(": ", f);
                /* Only the seccomp filter holds marked numbers: nothing a user typed is read as one. */
                r = dump_value(f, json_object_get(j, keys[k]), depth + 1, raw_ok || strcmp(keys[k], "seccomp") == 0);
                if (r < 0)
                        return r;
                if (k + 1 < n)
                        fputc(',', f);
        }
        indent(f, depth);
        fputc('}', f);
        return 0;
}

static int dump_value(FILE *f, const json_t *j, unsigned depth, bool raw_ok) {
        switch (json_typeof(j)) {
        case JSON_OBJECT: return dump_object(f, j, depth, raw_ok);
        case JSON_ARRAY: {
                size_t n = json_array_size(j);
                fputc('[', f);
                for (size_t i = 0; i < n; i++) {
                        indent(f, depth + 1);
                        int r = dump_value(f, json_array_get(j, i), depth + 1, raw_ok);
                        if (r < 0)
                                return r;
                        if (i + 1 < n)
                                fputc(',', f);
                }
                if (n)
                        indent(f, depth);
                fputc(']', f);
                return 0;
        }
        case JSON_STRING: return dump_string(f, json_string_value(j), raw_ok);
        case JSON_INTEGER: fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(j)); return 0;
        case JSON_TRUE: fputs("true", f); return 0;
        case JSON_FALSE: fputs("false", f); return 0;
        case JSON_NULL: fputs("null", f); return 0;
        default: return -EINVAL;
        }
}

int spec_dumps(const json_t *j, bool is_seccomp, char **ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        int r = dump_value(f, j, 0, is_seccomp);
        fputc('\n', f);
        if (fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        return 0;
}

static json_t *errno_rule(int error) {
        return json_pack("{s:[], s:s, s:i}", "names", "action", "SCMP_ACT_ERRNO", "errnoRet", error);
}

int spec_seccomp_json(const SeccompPolicy *p, json_t **ret) {
        _cleanup_free_ SeccompRule *rules = NULL;
        size_t n = 0;
        int r = seccomp_rules(p, &rules, &n);
        if (r < 0)
                return r;
        const char *arch = arch_name(seccomp_arch_native());
        if (!arch)
                return -EOPNOTSUPP;
        _cleanup_(json_decrefp) json_t *syscalls = json_array();
        /* Argument-free rules with one errno share an entry; the others stand alone, in order. */
        _cleanup_(json_decrefp) json_t *by_errno = json_object();
        if (!syscalls || !by_errno)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const SeccompRule *k = &rules[i];
                _cleanup_free_ char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, k->nr);
                if (!name)
                        return -EOPNOTSUPP;
                if (!k->has_cmp) {
                        char key[16];
                        snprintf(key, sizeof key, "%d", k->error);
                        json_t *entry = json_object_get(by_errno, key);
                        if (!entry) {
                                if (!(entry = errno_rule(k->error)))
                                        return -ENOMEM;
                                JSON_TRY(json_array_append_new(syscalls, entry));
                                JSON_TRY(json_object_set(by_errno, key, entry));
                        }
                        JSON_TRY(json_array_append_new(json_object_get(entry, "names"), json_string(name)));
                        continue;
                }
                const char *op = op_name(k->op);
                if (!op)
                        return -EOPNOTSUPP;
                /* The spec's value/valueTwo are libseccomp's datum_a/datum_b: for MASKED_EQ the
                 * mask, then the value compared with. */
                json_t *entry = json_pack("{s:[s], s:s, s:i, s:[{s:i, s:o, s:o, s:s}]}", "names", name, "action",
                                          "SCMP_ACT_ERRNO", "errnoRet", k->error, "args", "index", (int) k->arg,
                                          "value", u64_json(k->datum_a), "valueTwo", u64_json(k->datum_b), "op", op);
                if (!entry)
                        return -ENOMEM;
                JSON_TRY(json_array_append_new(syscalls, entry));
        }
        /* Another ABI (i386 on x86_64, x32) is left out of architectures: the runtime's
         * libseccomp kills a process that uses it, as vrun's own filter does. */
        json_t *j = json_pack("{s:s, s:[s], s:O}", "defaultAction", "SCMP_ACT_ALLOW", "architectures", arch, "syscalls",
                              syscalls);
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}

static const char *rlimit_name(int resource) {
        switch (resource) {
        case RLIMIT_NPROC: return "RLIMIT_NPROC";
        case RLIMIT_AS: return "RLIMIT_AS";
        case RLIMIT_FSIZE: return "RLIMIT_FSIZE";
        case RLIMIT_NOFILE: return "RLIMIT_NOFILE";
        case RLIMIT_CPU: return "RLIMIT_CPU";
        case RLIMIT_CORE: return "RLIMIT_CORE";
        default: return NULL;
        }
}

static json_t *strv_json(char *const *l) {
        json_t *a = json_array();
        for (size_t i = 0; a && l && l[i]; i++)
                if (json_array_append_new(a, json_string(l[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* A mount of the spec; opts is comma-separated, size (bytes) appended when not 0. */
static int add_mount(json_t *mounts, const char *dst, const char *type, const char *src, const char *opts,
                     uint64_t size) {
        _cleanup_free_ char *all = NULL;
        if (size > 0 ? asprintf(&all, "%s,size=%llu", opts, (unsigned long long) size) < 0 : !(all = strdup(opts)))
                return -ENOMEM;
        json_t *o = json_array();
        if (!o)
                return -ENOMEM;
        char *save = NULL;
        for (char *t = strtok_r(all, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (json_array_append_new(o, json_string(t)) < 0) {
                        json_decref(o);
                        return -ENOMEM;
                }
        json_t *m = json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src, "options", o);
        return m ? json_array_append_new(mounts, m) : -ENOMEM;
}

/* What the plan's /proc locks, as the spec's maskedPaths and readonlyPaths. */
static int proc_paths(const ProcSpec *proc, json_t *masked, json_t *readonly) {
        for (int k = 0; k < 2; k++) {
                const char *const *l = k == 0 ? proc->masked : proc->readonly;
                for (size_t i = 0; l && l[i]; i++) {
                        _cleanup_free_ char *p = path_join("/proc", l[i]);
                        if (!p)
                                return -ENOMEM;
                        JSON_TRY(json_array_append_new(k == 0 ? masked : readonly, json_string(p)));
                }
        }
        return 0;
}

/* The ProcSpec of a mount: a fresh procfs, or the capture of one. */
static const ProcSpec *mount_proc(const Plan *p, const MountStep *m) {
        if (m->kind == MOUNT_PROC)
                return m->proc;
        if (m->kind != MOUNT_CAPTURED)
                return NULL;
        for (size_t i = 0; i < p->n_steps; i++) {
                const Step *s = &p->steps[i];
                if (s->kind == STEP_CAPTURE && s->capture.slot == m->slot && s->capture.kind == CAPTURE_PROC)
                        return s->capture.proc;
        }
        return NULL;
}

static char *octal_opt(const char *name, unsigned mode) {
        char *s = NULL;
        return asprintf(&s, "%s=%o", name, mode) < 0 ? NULL : s;
}

/* A minimal /dev as the plan has it: the runtime adds the default devices and links. */
static int dev_mounts(const SpecInput *in, const MountStep *m, json_t *mounts) {
        const DevSpec *dev = m->dev;
        _cleanup_free_ char *mode = octal_opt("mode", dev->mode), *shm = octal_opt("mode", dev->shm_mode);
        _cleanup_free_ char *dev_opts = NULL, *shm_opts = NULL, *pts_opts = NULL;
        if (!mode || !shm || asprintf(&dev_opts, "nosuid,noexec,strictatime,%s", mode) < 0 ||
            asprintf(&shm_opts, "nosuid,noexec,nodev,%s", shm) < 0 ||
            /* The tty group owns new ptys where a runtime maps it; a rootless namespace does not. */
            asprintf(&pts_opts, "nosuid,noexec,%s%s", dev->devpts_options, in->rootless ? "" : ",gid=5") < 0)
                return -ENOMEM;
        /* The runtime's default /dev size when the plan sets none. */
        JSON_TRY(add_mount(mounts, "/dev", "tmpfs", "tmpfs", dev_opts, m->size ? m->size : 65536 * 1024));
        JSON_TRY(add_mount(mounts, "/dev/pts", "devpts", "devpts", pts_opts, 0));
        JSON_TRY(add_mount(mounts, "/dev/shm", "tmpfs", "shm", shm_opts, m->size));
        return 0;
}

static int tmp_mount(const SpecInput *in, const MountStep *m, json_t *mounts) {
        _cleanup_free_ char *mode = octal_opt("mode", m->mode ? m->mode : 01777), *opts = NULL;
        if (!mode || asprintf(&opts, "nosuid,nodev,%s", mode) < 0)
                return -ENOMEM;
        /* A tmpfs over /tmp would cover an env that lies below it: the scratch space moves to
         * /var/tmp then (HOME and TMPDIR say so), and /tmp stays as the image has it. */
        return add_mount(mounts, in->scratch_dir, "tmpfs", "tmpfs", opts, m->size);
}

static int add_namespaces(const SpecInput *in, int clone_flags, json_t *ns) {
        static const struct {
                int flag;
                const char *type;
        } t[] = { { CLONE_NEWPID, "pid" },  { CLONE_NEWIPC, "ipc" },     { CLONE_NEWUTS, "uts" },
                  { CLONE_NEWNS, "mount" }, { CLONE_NEWNET, "network" }, { CLONE_NEWCGROUP, "cgroup" } };
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if (clone_flags & t[i].flag)
                        JSON_TRY(json_array_append_new(ns, json_pack("{s:s}", "type", t[i].type)));
        /* The plan's user namespace maps the caller; the bundle's maps uid 1000 to whoever runs
         * the runtime rootless, and a root runtime needs none to run the payload as uid 1000. */
        if (in->rootless)
                JSON_TRY(json_array_append_new(ns, json_pack("{s:s}", "type", "user")));
        return 0;
}

/* What the spec is made of, gathered from the plan's steps. */
typedef struct SpecParts {
        json_t *mounts, *ns, *rlimits, *masked, *readonly, *seccomp, *annotations;
        const char *hostname;
        bool caps_dropped;
        int64_t pids_max; /* 0: none */
} SpecParts;

static void spec_parts_done(SpecParts *s) {
        json_decref(s->mounts);
        json_decref(s->ns);
        json_decref(s->rlimits);
        json_decref(s->masked);
        json_decref(s->readonly);
        json_decref(s->seccomp);
        json_decref(s->annotations);
}

static int translate_mount(const SpecInput *in, const MountStep *m, SpecParts *o) {
        const ProcSpec *proc = mount_proc(in->plan, m);
        if (proc) {
                JSON_TRY(add_mount(o->mounts, "/proc", "proc", "proc", "nosuid,noexec,nodev", 0));
                return proc_paths(proc, o->masked, o->readonly);
        }
        if (m->kind == MOUNT_DEV)
                return dev_mounts(in, m, o->mounts);
        if (m->kind == MOUNT_TMPFS && strcmp(m->dsts[0], "/tmp") == 0)
                return tmp_mount(in, m, o->mounts);
        /* Binds of host paths, the hiding of global package directories, an empty home: the
         * image holds only the base and the env, so there is nothing to bind and nothing to hide. */
        return 0;
}

static int translate_step(const SpecInput *in, const Step *s, SpecParts *o) {
        int r;
        switch (s->kind) {
        case STEP_CGROUP:
                /* As vrun run did for root: a rootless runtime may have no
                 * cgroup to put the limit in. */
                if (!in->rootless)
                        o->pids_max = (int64_t) s->cgroup.budget.pids;
                return 0;
        case STEP_NAMESPACES: return add_namespaces(in, s->clone_flags, o->ns);
        case STEP_MOUNT: return translate_mount(in, &s->mount, o);
        case STEP_HOSTNAME: o->hostname = s->text; return 0;
        case STEP_CAPS: o->caps_dropped = true; return 0;
        case STEP_SECCOMP:
                json_decref(o->seccomp);
                o->seccomp = NULL;
                return spec_seccomp_json(&s->seccomp.policy, &o->seccomp);
        case STEP_RLIMIT: {
                const char *name = rlimit_name(s->rlimit.resource);
                if (!name)
                        return -EOPNOTSUPP;
                JSON_TRY(json_array_append_new(o->rlimits, json_pack("{s:s, s:I, s:I}", "type", name, "hard",
                                                                     (json_int_t) s->rlimit.value, "soft",
                                                                     (json_int_t) s->rlimit.value)));
                return 0;
        }
        case STEP_SPAWN:
                /* A runtime has no timeout: the engine's (activeDeadlineSeconds, --time) applies. */
                if (s->spawn.timeout_sec > 0) {
                        char v[32];
                        snprintf(v, sizeof v, "%llu", (unsigned long long) s->spawn.timeout_sec);
                        r = json_object_set_new(o->annotations, "io.vrun.timeout-seconds", json_string(v));
                        return r < 0 ? -ENOMEM : 0;
                }
                return 0;
        default:
                /* The id map, captures, the root (the image is the root, read-only), the loopback
                 * (runtimes bring it up), chdir, fds, the environment and argv are the caller's or
                 * the runtime's: the bundle has its own. */
                return 0;
        }
}

int spec_runtime_config(const SpecInput *in, json_t **ret) {
        _cleanup_(spec_parts_done) SpecParts o = {
                .mounts = json_array(),
                .ns = json_array(),
                .rlimits = json_array(),
                .masked = json_array(),
                .readonly = json_array(),
                .annotations = json_object(),
                .hostname = "vrun",
        };
        if (!o.mounts || !o.ns || !o.rlimits || !o.masked || !o.readonly || !o.annotations)
                return -ENOMEM;
        for (size_t i = 0; i < in->plan->n_steps; i++) {
                int r = translate_step(in, &in->plan->steps[i], &o);
                if (r < 0)
                        return r;
        }
        if (!o.seccomp)
                return -EINVAL; /* every plan has a filter */

        json_t *process =
                json_pack("{s:b, s:{s:i, s:i}, s:o, s:o, s:s, s:O, s:b}", "terminal", 0, "user", "uid", (int) in->uid,
                          "gid", (int) in->gid, "args", strv_json(in->args), "env", strv_json(in->env), "cwd", in->cwd,
                          "rlimits", o.rlimits, "noNewPrivileges", o.caps_dropped);
        json_t *caps = o.caps_dropped ? json_pack("{s:[], s:[], s:[], s:[], s:[]}", "bounding", "effective",
                                                  "inheritable", "permitted", "ambient")
                                      : NULL;
        if (!process || (o.caps_dropped && (!caps || json_object_set_new(process, "capabilities", caps) < 0))) {
                json_decref(process);
                return -ENOMEM;
        }
        json_t *linux_ = json_pack("{s:O, s:O, s:O, s:O}", "namespaces", o.ns, "maskedPaths", o.masked, "readonlyPaths",
                                   o.readonly, "seccomp", o.seccomp);
        if (!linux_) {
                json_decref(process);
                return -ENOMEM;
        }
        int r = 0;
        if (o.pids_max > 0)
                r = json_object_set_new(linux_, "resources",
                                        json_pack("{s:{s:I}}", "pids", "limit", (json_int_t) o.pids_max));
        if (r >= 0 && in->rootless)
                r = json_object_set_new(linux_, "uidMappings",
                                        json_pack("[{s:i, s:i, s:i}]", "containerID", (int) in->uid, "hostID",
                                                  (int) in->host_uid, "size", 1)) < 0 ||
                                    json_object_set_new(linux_, "gidMappings",
                                                        json_pack("[{s:i, s:i, s:i}]", "containerID", (int) in->gid,
                                                                  "hostID", (int) in->host_gid, "size", 1)) < 0
                            ? -1
                            : 0;
        if (r < 0) {
                json_decref(process);
                json_decref(linux_);
                return -ENOMEM;
        }
        json_t *j = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:O, s:o, s:O}", "ociVersion", "1.0.2", "process", process,
                              "root", "path", "rootfs", "readonly", 1, "hostname", o.hostname, "mounts", o.mounts,
                              "linux", linux_, "annotations", o.annotations);
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}
