/* mountsrc: what the executor opens by handle. A tree with a directory, a
 * file, symlinks inside and out, and both ways of resolving (openat2 and the
 * O_NOFOLLOW walk) must agree on every path. Attaching needs mount
 * privileges and is attacked by tests/integration/test-escape-mounts.sh. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "vrun/sandbox/mountsrc.h"

typedef int (*OpenFn)(int dirfd, const char *rel, mode_t type, int *ret_fd);

static int try_open(OpenFn fn, int dirfd, const char *rel, mode_t type) {
        int fd = -1;
        int r = fn(dirfd, rel, type, &fd);
        if (r >= 0) {
                CHECK(fd >= 0);
                close(fd);
        } else
                CHECK(fd == -1);
        return r;
}

static void check_both(int dirfd, const char *rel, mode_t type, int want) {
        CHECK_INTEQ(try_open(mountsrc_open_beneath, dirfd, rel, type), want);
        CHECK_INTEQ(try_open(mountsrc_open_beneath_walk, dirfd, rel, type), want);
}

int main(void) {
        char tmpl[] = "/tmp/vrun-test-mountsrc.XXXXXX";
        const char *d = mkdtemp(tmpl);
        CHECK(d != NULL);
        if (!d)
                return tap_finish();
        _cleanup_free_ char *sp = path_join(d, "env/lib/python3.11/site-packages");
        CHECK_INTEQ(mkdir_p(sp, 0755), 0);
        _cleanup_free_ char *outside = path_join(d, "outside");
        CHECK_INTEQ(mkdir(outside, 0755), 0);
        _cleanup_close_ int top = open(d, O_PATH | O_DIRECTORY | O_CLOEXEC);
        CHECK(top >= 0);
        CHECK_INTEQ(write_file_at(top, "env/pyvenv.cfg", "home = /usr/bin\n", 16, 0644, 0), 0);
        CHECK_INTEQ(symlinkat("/usr/lib/python3/dist-packages", top, "env/lib/python3.11/planted"), 0);
        CHECK_INTEQ(symlinkat("site-packages", top, "env/lib/python3.11/relative"), 0);
        CHECK_INTEQ(symlinkat("lib", top, "env/lib64"), 0);
        CHECK_INTEQ(symlinkat("../outside", top, "env/up"), 0);
        _cleanup_close_ int env = openat(top, "env", O_PATH | O_DIRECTORY | O_CLOEXEC);
        CHECK(env >= 0);

        /* What a healthy env resolves to. */
        check_both(env, "lib/python3.11/site-packages", S_IFDIR, 0);
        check_both(env, "lib//python3.11/./site-packages/", S_IFDIR, 0);
        check_both(env, "", S_IFDIR, 0);
        check_both(env, "pyvenv.cfg", S_IFREG, 0);
        check_both(env, "pyvenv.cfg", 0, 0);
        /* Planted symlinks, absolute or relative, at the end or on the way. */
        check_both(env, "lib/python3.11/planted", S_IFDIR, -ELOOP);
        check_both(env, "lib/python3.11/relative", S_IFDIR, -ELOOP);
        check_both(env, "lib64/python3.11/site-packages", S_IFDIR, -ELOOP);
        check_both(env, "up", 0, -ELOOP);
        /* Leaving the root. */
        check_both(env, "../outside", S_IFDIR, -EXDEV);
        check_both(env, "lib/../../outside", S_IFDIR, -EXDEV);
        check_both(env, "/etc", S_IFDIR, -EXDEV);
        /* The wrong type. */
        check_both(env, "pyvenv.cfg", S_IFDIR, -ENOTDIR);
        check_both(env, "lib", S_IFREG, -EISDIR);
        check_both(env, "pyvenv.cfg/x", 0, -ENOTDIR);
        check_both(env, "missing", S_IFDIR, -ENOENT);

        /* A path resolved once: it must still hold no symlink, and be the same inode. */
        _cleanup_free_ char *envpath = path_join(d, "env"), *via_link = path_join(d, "env/lib64/python3.11");
        struct stat st;
        CHECK_INTEQ(stat(envpath, &st), 0);
        int fd = -1;
        CHECK_INTEQ(mountsrc_open_resolved(envpath, S_IFDIR, st.st_dev, st.st_ino, &fd), 0);
        if (fd >= 0)
                close(fd);
        CHECK_INTEQ(mountsrc_open_resolved(via_link, S_IFDIR, 0, 0, &fd), -ELOOP);
        CHECK_INTEQ(mountsrc_open_resolved(outside, S_IFDIR, st.st_dev, st.st_ino, &fd), -ESTALE);
        CHECK_INTEQ(mountsrc_open_resolved("relative", S_IFDIR, 0, 0, &fd), -EINVAL);

        /* The deepest open root holds a path; others are the host's. */
        MountRoot roots[] = { { d, top }, { envpath, env }, { "/nowhere", -1 } };
        const char *rel = NULL;
        CHECK(mountsrc_root_of(roots, 3, sp, &rel) == &roots[1]);
        CHECK_STREQ(rel, "lib/python3.11/site-packages");
        CHECK(mountsrc_root_of(roots, 3, envpath, &rel) == &roots[1]);
        CHECK_STREQ(rel, "");
        CHECK(mountsrc_root_of(roots, 3, outside, &rel) == &roots[0]);
        CHECK(mountsrc_root_of(roots, 3, "/nowhere/x", &rel) == NULL);
        CHECK(mountsrc_root_of(roots, 3, "/usr", &rel) == NULL);
        _cleanup_free_ char *planted = path_join(d, "env/lib/python3.11/planted");
        bool beneath = false;
        CHECK_INTEQ(mountsrc_open(roots, 3, planted, S_IFDIR, &fd, &beneath), -ELOOP);
        CHECK(beneath);
        CHECK_INTEQ(mountsrc_open(roots, 3, "/usr/bin", S_IFDIR, &fd, &beneath), 0);
        CHECK(!beneath);
        if (fd >= 0)
                close(fd);

        CHECK_INTEQ(rm_rf_at(AT_FDCWD, d), 0);
        return tap_finish();
}
