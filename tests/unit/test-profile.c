/* Profiles: the built-in ones load with the values the docs promise, every good fixture loads,
 * and every bad fixture fails with exactly the error line stored next to it (bad-X.err), since
 * that line is what a user sees and fixes their file by.
 *
 * Usage: test-profile FIXTURES_DIR PROFILES_DIR (tests/fixtures/profiles and profiles/). */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util/strv.h"
#include "tap.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "vrun/sandbox/profile.h"

#define HOME   "/home/tester"
#define SIZE_M (UINT64_C(1) << 20)
#define SIZE_G (UINT64_C(1) << 30)

/* profile_load with stderr captured: returns what it printed. */
static char *load_captured(const char *spec, int *ret_r, Profile **ret_p) {
        char path[] = "/tmp/vrun-test-profile-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0)
                abort();
        unlink(path);
        fflush(stderr);
        int saved = dup(STDERR_FILENO);
        dup2(fd, STDERR_FILENO);
        Profile *p = NULL;
        int r = profile_load(spec, &p);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);

        off_t n = lseek(fd, 0, SEEK_END);
        char *out = calloc(1, (size_t) n + 1);
        if (!out || pread(fd, out, (size_t) n, 0) != n)
                abort();
        close(fd);
        *ret_r = r;
        if (ret_p)
                *ret_p = p;
        else
                profile_free(p);
        return out;
}

static char *json_text(const Profile *p) {
        json_t *j = profile_to_json(p);
        char *s = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        json_decref(j);
        return s;
}

/* Loading what profile_to_json printed gives the same profile back. */
static void check_roundtrip(const Profile *p, const char *what) {
        _cleanup_free_ char *before = json_text(p), *after = NULL, *err = NULL;
        char path[] = "/tmp/vrun-test-profile-XXXXXX.json";
        int fd = mkstemps(path, 5), r;
        Profile *q = NULL;

        CHECK(before != NULL);
        if (!before || fd < 0)
                return;
        CHECK(loop_write(fd, before, strlen(before)) == 0);
        close(fd);
        err = load_captured(path, &r, &q);
        unlink(path);
        CHECK_INTEQ(r, 0);
        CHECK_STREQ(err, "");
        if (r < 0)
                return;
        after = json_text(q);
        if (!after || strcmp(before, after) != 0)
                fprintf(stderr, "# round trip of %s changed it:\n%s\n---\n%s\n", what, before,
                        after ? after : "(null)");
        CHECK_STREQ(after, before);
        profile_free(q);
}

static Profile *load_ok(const char *spec) {
        Profile *p = NULL;
        int r;
        _cleanup_free_ char *err = load_captured(spec, &r, &p);
        if (r < 0)
                fprintf(stderr, "# %s: %s", spec, err);
        CHECK_INTEQ(r, 0);
        CHECK_STREQ(err, "");
        return r < 0 ? NULL : p;
}

static bool deny_has(const Profile *p, const char *name, int err) {
        for (size_t i = 0; i < p->n_seccomp_deny; i++)
                if (strcmp(p->seccomp_deny[i].syscall, name) == 0)
                        return p->seccomp_deny[i].errno_value == err;
        return false;
}

static size_t strv_len(char **l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

static void check_default(const Profile *p) {
        CHECK_INTEQ(p->filesystem, PROFILE_FS_HOST_RO);
        CHECK_INTEQ(p->env, PROFILE_ENV_RW);
        CHECK_INTEQ(p->cwd, PROFILE_CWD_RW);
        CHECK_INTEQ(p->home, PROFILE_HOME_HOST);
        CHECK_INTEQ(p->network, PROFILE_NET_HOST);
        CHECK(!p->seccomp_strict);
        CHECK(p->socket_families == NULL);
        for (int i = 0; i < _PROFILE_RLIMIT_MAX; i++)
                CHECK(!p->rlimits[i].set);
        CHECK_INTEQ(p->timeout_sec, 0);
        CHECK_INTEQ(p->tmp_size, 0);
        CHECK_INTEQ(p->n_binds, 0);
        CHECK(p->env_allow == NULL);
        CHECK(p->hostname == NULL);
        CHECK(p->seccomp_allow == NULL);
        CHECK_INTEQ(p->n_seccomp_deny, 0);
        CHECK(p->description != NULL);
}

static void check_rlimit(const Profile *p, int which, uint64_t value) {
        CHECK(p->rlimits[which].set);
        CHECK_INTEQ(p->rlimits[which].value, value);
}

static void check_untrusted(const Profile *p) {
        CHECK_INTEQ(p->filesystem, PROFILE_FS_MINIMAL);
        CHECK_INTEQ(p->env, PROFILE_ENV_EPHEMERAL);
        CHECK_INTEQ(p->cwd, PROFILE_CWD_EPHEMERAL);
        CHECK_INTEQ(p->home, PROFILE_HOME_TMPFS);
        CHECK_INTEQ(p->network, PROFILE_NET_NONE);
        CHECK(p->seccomp_strict);
        CHECK_INTEQ(strv_len(p->socket_families), 1);
        CHECK_STREQ(p->socket_families ? p->socket_families[0] : NULL, "unix");
        check_rlimit(p, PROFILE_RLIMIT_NPROC, 256);
        check_rlimit(p, PROFILE_RLIMIT_AS, 2 * SIZE_G);
        check_rlimit(p, PROFILE_RLIMIT_FSIZE, 512 * SIZE_M);
        check_rlimit(p, PROFILE_RLIMIT_NOFILE, 1024);
        check_rlimit(p, PROFILE_RLIMIT_CORE, 0);
        CHECK(!p->rlimits[PROFILE_RLIMIT_CPU].set);
        CHECK_INTEQ(p->tmp_size, 256 * SIZE_M);
        CHECK_INTEQ(p->timeout_sec, 600);
        CHECK_INTEQ(p->n_binds, 0);
        CHECK_INTEQ(p->host_sockets, PROFILE_SOCKETS_HIDDEN);
        CHECK_INTEQ(p->memory, 2 * SIZE_G);
        CHECK_INTEQ(p->cpus, 1);
        /* memory outside the size-limited tmpfs mounts */
        CHECK(deny_has(p, "memfd_create", EPERM) && deny_has(p, "shmget", EPERM));
        /* no PIP_*: an index URL may carry a token */
        CHECK(p->env_allow != NULL && strv_contains(p->env_allow, "TERM") && !strv_contains(p->env_allow, "PIP_*"));
}

static void check_install(const Profile *p) {
        CHECK_INTEQ(p->filesystem, PROFILE_FS_HOST_RO);
        CHECK_INTEQ(p->env, PROFILE_ENV_RW);
        CHECK_INTEQ(p->cwd, PROFILE_CWD_EPHEMERAL);
        CHECK_INTEQ(p->home, PROFILE_HOME_TMPFS);
        CHECK_INTEQ(p->network, PROFILE_NET_HOST);
        CHECK(p->seccomp_strict);
        CHECK_INTEQ(strv_len(p->socket_families), 3);
        check_rlimit(p, PROFILE_RLIMIT_NPROC, 256);
        check_rlimit(p, PROFILE_RLIMIT_AS, 8 * SIZE_G);
        check_rlimit(p, PROFILE_RLIMIT_FSIZE, 2 * SIZE_G);
        check_rlimit(p, PROFILE_RLIMIT_NOFILE, 1024);
        check_rlimit(p, PROFILE_RLIMIT_CORE, 0);
        CHECK_INTEQ(p->timeout_sec, 1800);
        CHECK_INTEQ(p->host_sockets, PROFILE_SOCKETS_HIDDEN);
        CHECK_INTEQ(p->memory, 8 * SIZE_G);
        CHECK_INTEQ(p->cpus, 0);
}

/* Each built-in: listed, embedded text identical to profiles/NAME.json, loadable by name and
 * as a file, with the values docs/profiles.md describes. */
static void test_builtins(const char *profiles_dir) {
        static void (*const checks[])(const Profile *) = { check_default, check_untrusted, check_install };
        static const char *const expected[] = { "default", "untrusted", "install" };
        const char *const *names = profile_builtin_names();
        size_t n = 0;

        for (; names[n]; n++) {
                _cleanup_free_ char *file = NULL, *text = NULL;
                char datadir_copy[512];
                struct stat st;

                CHECK(n < 3);
                if (n >= 3)
                        break;
                CHECK_STREQ(names[n], expected[n]);
                CHECK(asprintf(&file, "%s/%s.json", profiles_dir, names[n]) > 0);
                CHECK(read_full_file_at(AT_FDCWD, file, PROFILE_MAX_SIZE, &text, NULL) == 0);
                CHECK_STREQ(profile_builtin_text(names[n]), text);

                Profile *by_file = load_ok(file), *by_name = load_ok(names[n]);
                if (!by_file || !by_name)
                        continue;
                checks[n](by_file);
                CHECK_STREQ(by_file->name, file);
                CHECK_STREQ(by_name->name, names[n]);
                /* An installed copy wins over the embedded one; it may be older than this tree. */
                snprintf(datadir_copy, sizeof datadir_copy, "%s/profiles/%s.json", VRUN_DATADIR, names[n]);
                if (stat(datadir_copy, &st) < 0) {
                        _cleanup_free_ char *a = json_text(by_file), *b = json_text(by_name);
                        CHECK_STREQ(a, b);
                } else
                        printf("# %s is installed; its values are not checked\n", datadir_copy);
                check_roundtrip(by_file, file);
                profile_free(by_file);
                profile_free(by_name);
        }
        CHECK_INTEQ(n, 3);
        CHECK(profile_builtin_text("nope") == NULL);
        CHECK(profile_builtin_text("untrusted.json") == NULL);
}

/* Every file in profiles/ is a loadable profile, not only the three the code knows. */
static void test_profiles_dir(const char *profiles_dir) {
        _cleanup_free_ char *pattern = NULL;
        glob_t g = {};

        CHECK(asprintf(&pattern, "%s/*.json", profiles_dir) > 0);
        CHECK(glob(pattern, 0, NULL, &g) == 0);
        CHECK(g.gl_pathc >= 3);
        for (size_t i = 0; i < g.gl_pathc; i++)
                profile_free(load_ok(g.gl_pathv[i]));
        globfree(&g);
}

static void test_good_fixtures(void) {
        glob_t g = {};

        CHECK(glob("good-*.json", 0, NULL, &g) == 0);
        CHECK(g.gl_pathc >= 5);
        for (size_t i = 0; i < g.gl_pathc; i++) {
                Profile *p = load_ok(g.gl_pathv[i]);
                if (p)
                        check_roundtrip(p, g.gl_pathv[i]);
                profile_free(p);
        }
        globfree(&g);
}

static void test_bad_fixtures(void) {
        glob_t g = {};

        CHECK(glob("bad-*.json", 0, NULL, &g) == 0);
        CHECK(g.gl_pathc >= 16);
        for (size_t i = 0; i < g.gl_pathc; i++) {
                const char *json = g.gl_pathv[i];
                _cleanup_free_ char *errfile = strdup(json), *want = NULL, *got = NULL;
                int r;

                memcpy(errfile + strlen(errfile) - 4, "err", sizeof "err");
                if (read_full_file_at(AT_FDCWD, errfile, 4096, &want, NULL) < 0) {
                        fprintf(stderr, "not ok: %s has no %s\n", json, errfile);
                        tap_failures++;
                        continue;
                }
                got = load_captured(json, &r, NULL);
                CHECK_INTEQ(r, -EINVAL);
                if (strcmp(got, want) != 0)
                        fprintf(stderr, "# %s:\n#  want %s#  got  %s", json, want, got);
                CHECK_STREQ(got, want);
        }
        globfree(&g);
}

/* 256 KiB of fixture in the tree would be noise; the file is made here. */
static void test_too_large(void) {
        char dir[] = "/tmp/vrun-test-profile-XXXXXX";
        _cleanup_free_ char *text = NULL, *err = NULL, *file = NULL;
        size_t n = PROFILE_MAX_SIZE + 1;
        int r;

        CHECK(mkdtemp(dir) != NULL);
        text = malloc(n);
        CHECK(text != NULL);
        if (!text)
                return;
        memset(text, ' ', n);
        memcpy(text, "{\"description\": \"", 17);
        memcpy(text + n - 3, "\"}\n", 3);
        CHECK(asprintf(&file, "%s/bad-too-large.json", dir) > 0);
        CHECK(write_file_at(AT_FDCWD, file, text, n, 0644, 0) == 0);
        err = load_captured(file, &r, NULL);
        CHECK_INTEQ(r, -EINVAL);
        _cleanup_free_ char *want = NULL;
        CHECK(asprintf(&want, "vrun: %s: profile is too large (more than 262144 bytes)\n", file) > 0);
        CHECK_STREQ(err, want);

        /* One byte less is no longer too large (the description is too long instead). */
        memcpy(text + n - 4, "\"}\n", 3);
        CHECK(write_file_at(AT_FDCWD, file, text, n - 1, 0644, 1) == 0);
        free(err);
        err = load_captured(file, &r, NULL);
        CHECK_INTEQ(r, -EINVAL);
        CHECK(strstr(err, "description: string is longer than 4096 bytes") != NULL);
        unlink(file);
        rmdir(dir);
}

static void test_unknown(void) {
        int r;
        _cleanup_free_ char *e1 = load_captured("untrused", &r, NULL);
        CHECK_INTEQ(r, -ENOENT);
        CHECK_STREQ(e1, "vrun: unknown profile \"untrused\" (did you mean \"untrusted\"?)\n");

        _cleanup_free_ char *e2 = load_captured("strict", &r, NULL);
        CHECK_INTEQ(r, -ENOENT);
        CHECK_STREQ(e2, "vrun: unknown profile \"strict\" (built-in profiles: default, untrusted, install; "
                        "a file name contains \"/\" or ends in \".json\")\n");

        _cleanup_free_ char *e3 = load_captured("missing.json", &r, NULL);
        CHECK_INTEQ(r, -ENOENT);
        CHECK_STREQ(e3, "vrun: cannot read profile \"missing.json\": No such file or directory\n");
}

/* What extends merges, as docs/profiles.md states it. */
static void test_merge(void) {
        Profile *p = load_ok("good-extends-file.json");
        if (p) {
                CHECK_STREQ(p->name, "good-extends-file.json");
                CHECK_STREQ(p->description, "a base that good-extends-file.json extends");
                CHECK_INTEQ(p->filesystem, PROFILE_FS_MINIMAL); /* from untrusted */
                CHECK_INTEQ(p->network, PROFILE_NET_HOST);      /* the child's */
                CHECK_INTEQ(p->n_binds, 2);                     /* appended */
                if (p->n_binds == 2) {
                        CHECK_INTEQ(p->binds[0].kind, BIND_RO);
                        CHECK_STREQ(p->binds[0].src, "/srv/base");
                        CHECK_STREQ(p->binds[0].dst, "/srv/base");
                        CHECK_INTEQ(p->binds[1].kind, BIND_TMPFS);
                        CHECK(p->binds[1].src == NULL);
                        CHECK_STREQ(p->binds[1].dst, "/scratch");
                }
                CHECK_INTEQ(strv_len(p->env_allow), 13);             /* union with untrusted's 13 */
                check_rlimit(p, PROFILE_RLIMIT_NPROC, 512);          /* overridden */
                CHECK(!p->rlimits[PROFILE_RLIMIT_AS].set);           /* null: unset */
                check_rlimit(p, PROFILE_RLIMIT_FSIZE, 512 * SIZE_M); /* inherited */
                CHECK_INTEQ(p->timeout_sec, 0);                      /* null: none */
                CHECK_INTEQ(p->tmp_size, 256 * SIZE_M);
                CHECK_INTEQ(strv_len(p->seccomp_allow), 1); /* mbind moved over */
                CHECK_STREQ(p->seccomp_allow ? p->seccomp_allow[0] : NULL, "mbind");
                CHECK_INTEQ(p->n_seccomp_deny, 4); /* untrusted's memfd_create, memfd_secret, shmget, and one */
                CHECK(deny_has(p, "personality", EACCES));
                CHECK_INTEQ(strv_len(p->socket_families), 3); /* replaced */
        }
        profile_free(p);

        p = load_ok("good-extends-builtin.json");
        if (p) {
                CHECK(!p->seccomp_strict);
                CHECK(p->socket_families == NULL); /* meaningless without strict: dropped */
                CHECK_INTEQ(p->timeout_sec, 600);
        }
        profile_free(p);

        p = load_ok("good-extends-reset.json");
        if (p) {
                for (int i = 0; i < _PROFILE_RLIMIT_MAX; i++)
                        CHECK(!p->rlimits[i].set);
                CHECK(!p->seccomp_strict);
                CHECK(p->env_allow != NULL && p->env_allow[0] == NULL); /* [] is not null */
                CHECK_INTEQ(p->tmp_size, 0);
                CHECK_INTEQ(p->timeout_sec, 1800);
                CHECK_INTEQ(p->cwd, PROFILE_CWD_EPHEMERAL);
        }
        profile_free(p);

        p = load_ok("good-everything.json");
        if (p) {
                CHECK_INTEQ(p->n_binds, 6);
                if (p->n_binds == 6) {
                        CHECK_STREQ(p->binds[2].src, HOME "/.config/app");
                        CHECK_STREQ(p->binds[3].src, "/opt/tools");
                        CHECK_STREQ(p->binds[3].dst, "/opt/tools");
                        CHECK_INTEQ(p->binds[1].kind, BIND_RW);
                        CHECK_STREQ(p->binds[5].dst, HOME "/.cache");
                }
                check_rlimit(p, PROFILE_RLIMIT_NOFILE, RLIM_INFINITY);
                check_rlimit(p, PROFILE_RLIMIT_CPU, 7200);
                check_rlimit(p, PROFILE_RLIMIT_AS, 4 * SIZE_G);
                CHECK_INTEQ(p->tmp_size, 64 * SIZE_M);
                CHECK_STREQ(p->hostname, "sandbox.example");
                CHECK(deny_has(p, "ptrace", EPERM));
                CHECK(deny_has(p, "set_mempolicy", ENOSYS));
                CHECK(deny_has(p, "get_mempolicy", 1234));
        }
        profile_free(p);
}

/* "~" needs a $HOME to mean anything. */
static void test_no_home(void) {
        int r;
        unsetenv("HOME");
        _cleanup_free_ char *err = load_captured("good-everything.json", &r, NULL);
        CHECK_INTEQ(r, -EINVAL);
        CHECK_STREQ(err, "vrun: good-everything.json:11:7: binds[2].src: \"~/.config/app\" starts with \"~\" "
                         "but $HOME is not an absolute path\n");
        setenv("HOME", HOME, 1);
}

int main(int argc, char **argv) {
        if (argc != 3) {
                fprintf(stderr, "usage: %s FIXTURES_DIR PROFILES_DIR\n", argv[0]);
                return 2;
        }
        _cleanup_free_ char *profiles_dir = NULL;
        if (path_make_absolute(argv[2], &profiles_dir) < 0)
                return 2;
        setenv("HOME", HOME, 1);

        test_builtins(profiles_dir);
        test_profiles_dir(profiles_dir);
        if (chdir(argv[1]) < 0) {
                perror(argv[1]);
                return 2;
        }
        test_good_fixtures();
        test_bad_fixtures();
        test_too_large();
        test_unknown();
        test_merge();
        test_no_home();
        return tap_finish();
}
