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

static int add_mount(json_t *mounts, const char *dst, const char *type, const char *src, const char *opts) {
        json_t *o = json_array();
        if (!o)
                return -ENOMEM;
        _cleanup_free_ char *copy = strdup(opts);
        if (!copy) {
                json_decref(o);
                return -ENOMEM;
        }
        char *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                if (json_array_append_new(o, json_string(t)) < 0) {
                        json_decref(o);
                        return -ENOMEM;
                }
        json_t *m = json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src, "options", o);
        return m ? json_array_append_new(mounts, m) : -ENOMEM;
}

static uint64_t plan_tmpfs_size(const Plan *p, const char *dst) {
        for (size_t i = 0; i < p->n_steps; i++) {
                const MountStep *m = &p->steps[i].mount;
                if (p->steps[i].kind == STEP_MOUNT && m->kind == MOUNT_TMPFS && strcmp(m->dsts[0], dst) == 0)
                        return m->size;
        }
        return 0;
}

static int add_tmpfs(json_t *mounts, const char *dst, const char *src, const char *opts, uint64_t size) {
        _cleanup_free_ char *o = NULL;
        if (size > 0 ? asprintf(&o, "%s,size=%llu", opts, (unsigned long long) size) < 0 : !(o = strdup(opts)))
                return -ENOMEM;
        return add_mount(mounts, dst, "tmpfs", src, o);
}

static int runtime_mounts(const SpecInput *in, json_t *mounts) {
        uint64_t tmp = plan_tmpfs_size(in->plan, "/tmp");
        JSON_TRY(add_mount(mounts, "/proc", "proc", "proc", "nosuid,noexec,nodev"));
        /* The runtime adds the default devices (null, zero, full, random, urandom, tty). */
        JSON_TRY(add_tmpfs(mounts, "/dev", "tmpfs", "nosuid,strictatime,mode=755", 65536 * 1024));
        /* gid=5 (tty) would be unmapped in a rootless user namespace. */
        JSON_TRY(add_mount(mounts, "/dev/pts", "devpts", "devpts",
                           in->rootless ? "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620"
                                        : "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
        JSON_TRY(add_tmpfs(mounts, "/dev/shm", "shm", "nosuid,noexec,nodev,mode=1777", tmp));
        /* A tmpfs over /tmp would cover an env that lies below it: the scratch space moves to
         * /var/tmp then (HOME and TMPDIR say so), and /tmp stays as the image has it. */
        JSON_TRY(add_tmpfs(mounts, in->scratch_dir, "tmpfs", "nosuid,nodev,mode=1777", tmp));
        return 0;
}

static int namespaces(const SpecInput *in, json_t **ret) {
        static const struct {
                int flag;
                const char *type;
        } t[] = { { CLONE_NEWPID, "pid" },
                  { CLONE_NEWIPC, "ipc" },
                  { CLONE_NEWUTS, "uts" },
                  { CLONE_NEWNS, "mount" },
                  { CLONE_NEWNET, "network" } };
        json_t *a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                if ((plan_find(in->plan, STEP_NAMESPACES)->clone_flags & t[i].flag) &&
                    json_array_append_new(a, json_pack("{s:s}", "type", t[i].type)) < 0)
                        goto oom;
        /* A root runtime runs the payload as a plain uid; a rootless one needs the user
         * namespace that maps it. */
        if (in->rootless && json_array_append_new(a, json_pack("{s:s}", "type", "user")) < 0)
                goto oom;
        *ret = a;
        return 0;
oom:
        json_decref(a);
        return -ENOMEM;
}

int spec_runtime_config(const SpecInput *in, json_t **ret) {
        const Plan *p = in->plan;
        int r;
        _cleanup_(json_decrefp) json_t *seccomp = NULL;
        if ((r = spec_seccomp_json(&plan_find(p, STEP_SECCOMP)->seccomp.policy, &seccomp)) < 0)
                return r;
        _cleanup_(json_decrefp) json_t *rlimits = json_array();
        _cleanup_(json_decrefp) json_t *mounts = json_array();
        _cleanup_(json_decrefp) json_t *ns = NULL;
        if (!rlimits || !mounts)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_steps; i++) {
                const RlimitStep *rl = &p->steps[i].rlimit;
                if (p->steps[i].kind != STEP_RLIMIT)
                        continue;
                const char *name = rlimit_name(rl->resource);
                if (!name)
                        return -EOPNOTSUPP;
                JSON_TRY(json_array_append_new(rlimits,
                                               json_pack("{s:s, s:I, s:I}", "type", name, "hard",
                                                         (json_int_t) rl->value, "soft", (json_int_t) rl->value)));
        }
        if ((r = runtime_mounts(in, mounts)) < 0 || (r = namespaces(in, &ns)) < 0)
                return r;

        json_t *caps = json_pack("{s:[], s:[], s:[], s:[], s:[]}", "bounding", "effective", "inheritable", "permitted",
                                 "ambient");
        json_t *process =
                json_pack("{s:b, s:{s:i, s:i}, s:o, s:o, s:s, s:o, s:O, s:b}", "terminal", 0, "user", "uid",
                          (int) in->uid, "gid", (int) in->gid, "args", strv_json(in->args), "env", strv_json(in->env),
                          "cwd", in->cwd, "capabilities", caps, "rlimits", rlimits, "noNewPrivileges", 1);
        if (!process)
                return -ENOMEM;
        /* What container runtimes protect in a fresh /proc, as vrun does in its own. */
        json_t *linux_ = json_pack("{s:O, s:[s,s,s,s,s,s,s,s,s], s:[s,s,s,s,s,s], s:O}", "namespaces", ns,
                                   "maskedPaths", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                                   "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                                   "/sys/firmware", "readonlyPaths", "/proc/asound", "/proc/bus", "/proc/fs",
                                   "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", "seccomp", seccomp);
        if (!linux_) {
                json_decref(process);
                return -ENOMEM;
        }
        if (in->rootless) {
                json_t *um = json_pack("[{s:i, s:i, s:i}]", "containerID", (int) in->uid, "hostID", (int) in->host_uid,
                                       "size", 1);
                json_t *gm = json_pack("[{s:i, s:i, s:i}]", "containerID", (int) in->gid, "hostID", (int) in->host_gid,
                                       "size", 1);
                if (!um || !gm || json_object_set_new(linux_, "uidMappings", um) < 0 ||
                    json_object_set_new(linux_, "gidMappings", gm) < 0) {
                        json_decref(process);
                        json_decref(linux_);
                        return -ENOMEM;
                }
        }
        json_t *j = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:O, s:o}", "ociVersion", "1.0.2", "process", process,
                              "root", "path", "rootfs", "readonly", 1, "hostname", plan_find(p, STEP_HOSTNAME)->text,
                              "mounts", mounts, "linux", linux_);
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}
