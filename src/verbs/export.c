/* vrun export: the env and its sandbox as an OCI runtime bundle, an OCI
 * image layout, and/or the profile's seccomp filter as OCI JSON. The plan is
 * the one `vrun run` builds; the root filesystem is the minimal root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "util/path.h"
#include "util/strv.h"
#include "vrun/export/elfdeps.h"
#include "vrun/export/image.h"
#include "vrun/export/rootfs.h"
#include "vrun/exit.h"
#include "vrun/export/spec.h"
#include "vrun/verbs/run.h"
#include "vrun/verbs/verbs.h"

/* The user the payload runs as in the image: numeric and not root, so that
 * Kubernetes' runAsNonRoot accepts the image as it is. */
#define EXPORT_UID 1000
#define EXPORT_GID 1000

static const char passwd_text[] = "root:x:0:0:root:/root:/usr/sbin/nologin\n"
                                  "vrun:x:1000:1000:vrun:/tmp:/usr/sbin/nologin\n"
                                  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
static const char group_text[] = "root:x:0:\nvrun:x:1000:\nnogroup:x:65534:\n";
static const char hosts_text[] = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
static const char nsswitch_text[] = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n";

/* The CA bundle where the distributions' OpenSSL and Python look for it (a link is mirrored). */
static const char *const ca_files[] = {
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
        "/usr/lib/ssl/cert.pem",
};

static int64_t source_date_epoch(void) {
        const char *s = getenv("SOURCE_DATE_EPOCH");
        if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 12) {
                if (s && *s)
                        log_warning("SOURCE_DATE_EPOCH='%s' is not a number of seconds: using 0", s);
                return 0;
        }
        return strtoll(s, NULL, 10);
}

static bool may_be_elf(const RootfsEntry *e) {
        if (e->kind != ROOTFS_FILE || !e->src)
                return false;
        const char *b = path_basename(e->path);
        return (e->mode & 0111) || strstr(b, ".so") != NULL;
}

/* The ELF objects among fs's files, by host path (copied: adding to fs moves its entries). */
static int elf_candidates(Rootfs *fs, char ***ret) {
        const RootfsEntry *const *l;
        size_t n;
        int r = rootfs_sorted(fs, &l, &n);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **out = NULL;
        for (size_t i = 0; i < n; i++)
                if (may_be_elf(l[i]) && elf_is_elf(l[i]->src) > 0 && (r = strv_extend(&out, l[i]->src)) < 0)
                        return r;
        *ret = TAKE_PTR(out);
        return 0;
}

/* The libraries the loader finds for the objects, from the n_before-th on, into fs. */
static int add_libraries(Rootfs *fs, ElfDeps *deps, char *const *objects, size_t n_before) {
        int r;
        STRV_FOREACH (o, objects)
                if ((r = elfdeps_add(deps, *o)) < 0)
                        return log_error_errno(r, "cannot read the ELF object %s: %m", *o);
        char *const *libs = elfdeps_libraries(deps);
        for (size_t i = n_before; libs[i]; i++)
                if ((r = rootfs_add_host(fs, libs[i], false, true)) < 0)
                        return log_error_errno(r, "cannot add the library %s: %m", libs[i]);
        return 0;
}

static int build_base(const RunContext *ctx, Rootfs **ret, ElfDeps **ret_deps) {
        _cleanup_(rootfs_freep) Rootfs *fs = NULL;
        _cleanup_(elfdeps_freep) ElfDeps *deps = NULL;
        const InterpInfo *i = ctx->interp;
        int r;
        if ((r = rootfs_new(NULL, &fs)) < 0 || (r = elfdeps_new(&deps)) < 0)
                return log_error_errno(r, "out of memory");
        /* Global site-packages (and vrun's cache) are simply not there. */
        STRV_FOREACH (h, i->hide_dirs)
                if ((r = rootfs_exclude(fs, *h)) < 0)
                        return log_error_errno(r, "out of memory");
        if ((ctx->cache_dir && (r = rootfs_exclude(fs, ctx->cache_dir)) < 0) ||
            (ctx->state_dir && (r = rootfs_exclude(fs, ctx->state_dir)) < 0))
                return log_error_errno(r, "out of memory");

        /* config-X.Y-ARCH holds the static libpython and the build's Makefile, for compiling
         * extensions against the base: nothing a run loads, and a third of the stdlib's size. */
        STRV_FOREACH (d, i->stdlib_dirs) {
                _cleanup_closedir_ DIR *dir = opendir(*d);
                struct dirent *de;
                while (dir && (de = readdir(dir)))
                        if (strncmp(de->d_name, "config-", 7) == 0) {
                                _cleanup_free_ char *p = path_join(*d, de->d_name);
                                if (!p || rootfs_exclude(fs, p) < 0)
                                        return log_error_errno(ENOMEM, "out of memory");
                        }
        }
        if ((r = rootfs_add_host(fs, i->executable, false, true)) < 0)
                return log_error_errno(r, "cannot add the base interpreter %s: %m", i->executable);
        STRV_FOREACH (d, i->stdlib_dirs) {
                r = rootfs_add_host(fs, *d, true, true);
                if (r < 0 && r != -ENOENT)
                        return log_error_errno(r, "cannot add the standard library %s: %m", *d);
        }
        /* The interpreter first: its DT_RPATH also applies to what it loads. */
        if ((r = elfdeps_add(deps, i->executable)) < 0)
                return log_error_errno(r, "cannot read the ELF object %s: %m", i->executable);
        _cleanup_strv_free_ char **objects = NULL;
        if ((r = elf_candidates(fs, &objects)) < 0)
                return log_error_errno(r, "cannot list the base's ELF objects: %m");
        if ((r = add_libraries(fs, deps, objects, 0)) < 0)
                return r;

        static const struct {
                const char *path;
                unsigned mode;
        } dirs[] = { { "etc", 0755 },  { "proc", 0555 }, { "dev", 0755 },     { "sys", 0555 },
                     { "tmp", 01777 }, { "var", 0755 },  { "var/tmp", 01777 } };
        for (size_t k = 0; k < ELEMENTSOF(dirs); k++)
                if ((r = rootfs_add_dir(fs, dirs[k].path, dirs[k].mode)) < 0)
                        return log_error_errno(r, "out of memory");
        if ((r = rootfs_add_data(fs, "etc/passwd", passwd_text, STRLEN(passwd_text), 0644)) < 0 ||
            (r = rootfs_add_data(fs, "etc/group", group_text, STRLEN(group_text), 0644)) < 0 ||
            (r = rootfs_add_data(fs, "etc/hosts", hosts_text, STRLEN(hosts_text), 0644)) < 0 ||
            (r = rootfs_add_data(fs, "etc/nsswitch.conf", nsswitch_text, STRLEN(nsswitch_text), 0644)) < 0)
                return log_error_errno(r, "cannot add the /etc files: %m");
        /* The loader's cache finds libraries outside its default directories. */
        if ((r = rootfs_add_host(fs, "/etc/ld.so.cache", false, true)) < 0 && r != -ENOENT)
                return log_error_errno(r, "cannot add /etc/ld.so.cache: %m");
        for (size_t k = 0; k < ELEMENTSOF(ca_files); k++)
                if ((r = rootfs_add_host(fs, ca_files[k], false, true)) < 0 && r != -ENOENT)
                        return log_error_errno(r, "cannot add the CA certificates %s: %m", ca_files[k]);
        *ret = TAKE_PTR(fs);
        *ret_deps = TAKE_PTR(deps);
        return 0;
}

static int build_env(const RunContext *ctx, Rootfs *base, ElfDeps *deps, Rootfs **ret) {
        _cleanup_(rootfs_freep) Rootfs *fs = NULL;
        int r = rootfs_new(base, &fs);
        if (r < 0)
                return log_error_errno(r, "out of memory");
        /* What runs left in the env's cache is state, not the env (nor anything an image should
         * carry: whatever a sandboxed program chose to write there). */
        _cleanup_free_ char *cache = path_join(ctx->env, PLAN_ENV_CACHE);
        if (!cache || (r = rootfs_exclude(fs, cache)) < 0)
                return log_error_errno(r < 0 ? r : -ENOMEM, "out of memory");
        /* The env is data: its symlinks are kept as links, never followed onto the host. */
        if ((r = rootfs_add_host(fs, ctx->env, true, false)) < 0)
                return log_error_errno(r, "cannot add the env %s: %m", ctx->env);
        _cleanup_strv_free_ char **objects = NULL;
        if ((r = elf_candidates(fs, &objects)) < 0)
                return log_error_errno(r, "cannot list the env's ELF objects: %m");
        if ((r = add_libraries(fs, deps, objects, strv_length(elfdeps_libraries(deps)))) < 0)
                return r;
        *ret = TAKE_PTR(fs);
        return 0;
}

/* CMD's first word, as the image will find it on its PATH. */
static int resolve_command(const Rootfs *fs, char *const *path_dirs, const char *cmd, char **ret) {
        if (strchr(cmd, '/')) {
                if (cmd[0] != '/' || !rootfs_find(fs, cmd))
                        return -ENOENT;
                return (*ret = strdup(cmd)) ? 0 : -ENOMEM;
        }
        STRV_FOREACH (d, path_dirs) {
                _cleanup_free_ char *p = path_join(*d, cmd);
                if (!p)
                        return -ENOMEM;
                const RootfsEntry *e = rootfs_find(fs, p);
                if (e && e->kind != ROOTFS_DIR) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        return -ENOENT;
}

/* Where the payload may write: a tmpfs at /tmp would cover an env that lies below it. */
static const char *scratch_dir(const char *env_dir) {
        return path_startswith(env_dir, "/tmp") ? "/var/tmp" : "/tmp";
}

/* The image's environment: the env activated, a UTF-8 locale Python needs no files for, a home
 * on the writable /tmp, and the run options' --setenv/--unsetenv. */
static int image_env(const Cli *c, const char *env_dir, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *venv = NULL, *path = NULL;
        if (asprintf(&venv, "VIRTUAL_ENV=%s", env_dir) < 0 ||
            asprintf(&path, "PATH=%s/bin:/usr/local/bin:/usr/bin:/bin", env_dir) < 0)
                return -ENOMEM;
        _cleanup_free_ char *home = NULL, *tmpdir = NULL;
        const char *scratch = scratch_dir(env_dir);
        if (asprintf(&home, "HOME=%s", scratch) < 0 || asprintf(&tmpdir, "TMPDIR=%s", scratch) < 0)
                return -ENOMEM;
        const char *base[] = { path, venv, "LANG=C.UTF-8", home, tmpdir };
        for (size_t i = 0; i < ELEMENTSOF(base); i++) {
                size_t klen = strcspn(base[i], "=");
                bool unset = false, overridden = false;
                STRV_FOREACH (u, c->run.unsetenv)
                        unset |= strlen(*u) == klen && strncmp(*u, base[i], klen) == 0;
                STRV_FOREACH (s, c->run.setenv)
                        overridden |= strncmp(*s, base[i], klen + 1) == 0;
                if (!unset && !overridden && strv_extend(&l, base[i]) < 0)
                        return -ENOMEM;
        }
        STRV_FOREACH (s, c->run.setenv)
                if (strv_extend(&l, *s) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

static int write_json_file(const char *path, json_t *j, bool is_seccomp) {
        _cleanup_free_ char *text = NULL;
        int r = spec_dumps(j, is_seccomp, &text);
        if (r < 0)
                return r;
        return write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0644);
}

static int export_seccomp(const Plan *plan, const char *file) {
        _cleanup_(json_decrefp) json_t *j = NULL;
        int r = spec_seccomp_json(&plan_find(plan, STEP_SECCOMP)->seccomp.policy, &j);
        if (r < 0)
                return log_error_errno(r, "cannot translate the profile's seccomp filter: %m");
        if ((r = write_json_file(file, j, true)) < 0)
                return log_error_errno(r, "cannot write %s: %m", file);
        printf("seccomp: %s\n", file);
        return 0;
}

/* rootfs/ and config.json in the bundle directory dirfd, whose rootfs/ is new and empty. */
static int fill_bundle(const char *dir, int dirfd, const SpecInput *in, Rootfs *base, Rootfs *env) {
        int r;
        _cleanup_close_ int rootfd = openat(dirfd, "rootfs", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (rootfd < 0)
                return log_error_errno(errno, "cannot open %s/rootfs: %m", dir);
        if ((r = rootfs_write_dir(base, rootfd)) < 0 || (r = rootfs_write_dir(env, rootfd)) < 0)
                return log_error_errno(r, "cannot write the bundle's root filesystem in %s/rootfs: %m", dir);
        _cleanup_(json_decrefp) json_t *config = NULL;
        if ((r = spec_runtime_config(in, &config)) < 0)
                return log_error_errno(r, "cannot write the runtime configuration: %m");
        _cleanup_free_ char *path = path_join(dir, "config.json");
        if (!path || (r = write_json_file(path, config, false)) < 0)
                return log_error_errno(path ? r : -ENOMEM, "cannot write %s/config.json: %m", dir);
        return 0;
}

static int export_bundle(const Cli *c, const Plan *plan, const RunContext *ctx, Rootfs *base, Rootfs *env,
                         char *const *args, char *const *envp) {
        const char *dir = c->export.bundle;
        int r;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return log_error_errno(errno, "cannot create the bundle directory %s: %m", dir);
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "cannot open the bundle directory %s: %m", dir);
        if ((r = dir_is_empty_at(fd, ".")) < 0)
                return log_error_errno(r, "cannot read the bundle directory %s: %m", dir);
        if (r == 0)
                return log_error_errno(ENOTEMPTY,
                                       "cannot write a bundle into %s: it is not empty (give a new or "
                                       "empty directory)",
                                       dir);
        if (mkdirat(fd, "rootfs", 0755) < 0)
                return log_error_errno(errno, "cannot create %s/rootfs: %m", dir);
        SpecInput in = {
                .plan = plan,
                .args = args,
                .env = envp,
                .cwd = "/",
                .uid = EXPORT_UID,
                .gid = EXPORT_GID,
                .rootless = geteuid() != 0,
                .host_uid = geteuid(),
                .host_gid = getegid(),
                .scratch_dir = scratch_dir(ctx->env),
        };
        if (fill_bundle(dir, fd, &in, base, env) < 0) {
                /* No half bundle that a runtime could be pointed at. */
                (void) unlinkat(fd, "config.json", 0);
                (void) rm_rf_at(fd, "rootfs");
                return -EIO;
        }
        printf("bundle: %s%s\n", dir, in.rootless ? " (rootless)" : "");
        return 0;
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* "name==version,..." of the env's distributions, sorted: the image says what it holds. */
static int env_distributions(const RunContext *ctx, char **ret) {
        _cleanup_free_ char *site = NULL;
        if (asprintf(&site, "%s/lib/python%d.%d/site-packages", ctx->env, ctx->interp->version_major,
                     ctx->interp->version_minor) < 0)
                return -ENOMEM;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_closedir_ DIR *d = opendir(site);
        struct dirent *de;
        while (d && (de = readdir(d))) {
                size_t n = strlen(de->d_name);
                const char *dash = strchr(de->d_name, '-');
                if (n <= 10 || strcmp(de->d_name + n - 10, ".dist-info") != 0 || !dash)
                        continue;
                _cleanup_free_ char *s = NULL;
                if (asprintf(&s, "%.*s==%.*s", (int) (dash - de->d_name), de->d_name,
                             (int) (n - 10 - (size_t) (dash + 1 - de->d_name)), dash + 1) < 0 ||
                    strv_push(&names, s) < 0)
                        return -ENOMEM;
                s = NULL;
                if (strv_length(names) > 4096)
                        break;
        }
        size_t n = strv_length(names);
        if (names && n > 1)
                qsort(names, n, sizeof *names, strcmp_ptr);
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (!f)
                return -ENOMEM;
        STRV_FOREACH (s, names)
                fprintf(f, "%s%s", s == names ? "" : ",", *s);
        if (fclose(f) != 0) {
                free(out);
                return -ENOMEM;
        }
        *ret = out;
        return 0;
}

static int export_image(const Cli *c, const RunContext *ctx, Rootfs *base, Rootfs *env, char *const *args,
                        char *const *envp) {
        const char *tag = c->export.tag ? c->export.tag : "latest";
        const char *colon = strrchr(tag, ':');
        const char *ref = colon ? colon + 1 : tag;
        _cleanup_free_ char *name = colon ? strndup(tag, (size_t) (colon - tag)) : strdup(path_basename(ctx->env));
        _cleanup_free_ char *dists = NULL, *uid = NULL, *history_base = NULL, *history_env = NULL;
        int r;
        if (!name || !*ref || env_distributions(ctx, &dists) < 0 ||
            asprintf(&uid, "%d:%d", EXPORT_UID, EXPORT_GID) < 0 ||
            asprintf(&history_base, "vrun export: python %s (%s), its libraries, /etc", ctx->interp->version,
                     ctx->interp->executable) < 0 ||
            asprintf(&history_env, "vrun export: env %s", ctx->env) < 0)
                return log_error_errno(!name || !*ref ? EINVAL : ENOMEM, "bad --tag '%s'", tag);

        _cleanup_(json_decrefp) json_t *cmd = json_array();
        for (size_t i = 1; cmd && args[i]; i++)
                if (json_array_append_new(cmd, json_string(args[i])) < 0)
                        return log_error_errno(ENOMEM, "out of memory");
        _cleanup_(json_decrefp) json_t *env_json = json_array();
        STRV_FOREACH (e, envp)
                if (!env_json || json_array_append_new(env_json, json_string(*e)) < 0)
                        return log_error_errno(ENOMEM, "out of memory");
        _cleanup_(json_decrefp) json_t *config = json_pack(
                "{s:s, s:O, s:[s], s:O, s:s, s:{s:s, s:s, s:s, s:s, s:s}}", "User", uid, "Env", env_json, "Entrypoint",
                args[0], "Cmd", cmd, "WorkingDir", "/", "Labels", "org.opencontainers.image.title", name,
                "io.vrun.version", VRUN_VERSION, "io.vrun.python.version", ctx->interp->version, "io.vrun.profile",
                ctx->profile->name ? ctx->profile->name : "default", "io.vrun.distributions", dists);
        if (!config)
                return log_error_errno(ENOMEM, "out of memory");

        ImageInput in = {
                .base = base,
                .env = env,
                .config = config,
                .created = source_date_epoch(),
                .cache_dir = ctx->cache_dir,
                .ref = ref,
                .history_base = history_base,
                .history_env = history_env,
        };
        ImageResult res;
        r = image_write_layout(&in, c->export.oci, &res);
        if (r == -ENOTEMPTY)
                return log_error_errno(r, "cannot write an image layout into %s: it is neither empty nor a layout",
                                       c->export.oci);
        if (r == -ENOPKG)
                return log_error_errno(r, "cannot load libarchive or libcrypto (install libarchive13 and libssl3)");
        if (r == -ESTALE)
                return log_error_errno(r, "a file changed while it was written into the image: export again");
        if (r < 0)
                return log_error_errno(r, "cannot write the image layout %s: %m", c->export.oci);
        printf("image: oci:%s:%s %s (base layer %s %s, env layer %s)\n", c->export.oci, ref, res.manifest,
               res.layers[0].digest, res.base_cached ? "cached" : "built", res.layers[1].digest);
        return 0;
}

int export_main(const Cli *c) {
        char *default_cmd[] = { (char *) "python", NULL };
        char *const *argv = c->argv && c->argv[0] ? c->argv : default_cmd;
        _cleanup_(run_context_done) RunContext ctx = {};
        _cleanup_(plan_freep) Plan *plan = NULL;
        int r = run_build_plan(c, argv, false, &ctx, &plan);
        if (r < 0)
                return exit_status_from_error(r, EXIT_FAILURE);

        /* What names the host has no place in an image: say so rather than drop it silently. */
        if (c->run.n_binds > 0 || c->run.chdir || c->run.ephemeral)
                log_warning("--bind, --ro-bind, --tmpfs, --chdir and --ephemeral name this host: the export "
                            "leaves them out (give the engine its own volumes; the env is read-only there)");
        if (c->export.seccomp_json && export_seccomp(plan, c->export.seccomp_json) < 0)
                return EXIT_FAILURE;
        if (!c->export.bundle && !c->export.oci)
                return 0;

        _cleanup_(rootfs_freep) Rootfs *base = NULL;
        _cleanup_(rootfs_freep) Rootfs *env = NULL;
        _cleanup_(elfdeps_freep) ElfDeps *deps = NULL;
        if (build_base(&ctx, &base, &deps) < 0 || build_env(&ctx, base, deps, &env) < 0)
                return EXIT_FAILURE;

        _cleanup_strv_free_ char **envp = NULL;
        _cleanup_strv_free_ char **args = strv_copy(argv);
        _cleanup_free_ char *bin = path_join(ctx.env, "bin");
        char *path_dirs[] = { bin, (char *) "/usr/local/bin", (char *) "/usr/bin", (char *) "/bin", NULL };
        if (!args || !bin || image_env(c, ctx.env, &envp) < 0) {
                log_error("out of memory");
                return EXIT_FAILURE;
        }
        char *resolved = NULL;
        r = resolve_command(env, path_dirs, argv[0], &resolved);
        if (r == -ENOENT) {
                log_error("cannot export '%s': no such command in the image (it holds the env's bin, the base "
                          "interpreter and its libraries; give CMD as a path inside them)",
                          argv[0]);
                return EXIT_FAILURE;
        }
        if (r < 0) {
                log_error_errno(r, "cannot export '%s': %m", argv[0]);
                return EXIT_FAILURE;
        }
        free(args[0]);
        args[0] = resolved;

        if (c->export.bundle && export_bundle(c, plan, &ctx, base, env, args, envp) < 0)
                return EXIT_FAILURE;
        if (c->export.oci && export_image(c, &ctx, base, env, args, envp) < 0)
                return EXIT_FAILURE;
        return 0;
}
