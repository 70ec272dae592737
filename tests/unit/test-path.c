#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/strv.h"

static void check_norm(const char *in, const char *want) {
        _cleanup_free_ char *out = NULL;
        CHECK_INTEQ(path_normalize(in, &out), 0);
        CHECK_STREQ(out, want);
}

int main(void) {
        check_norm("/", "/");
        check_norm("//a//b/", "/a/b");
        check_norm("/a/./b/../c", "/a/c");
        check_norm("/../..", "/");
        check_norm("/a/b/..", "/a");

        char *out = NULL;
        CHECK_INTEQ(path_normalize("relative", &out), -EINVAL);
        CHECK(out == NULL);

        _cleanup_free_ char *j1 = path_join("/", "x"), *j2 = path_join("/a/", "/b"), *j3 = path_join("/a", "");
        CHECK_STREQ(j1, "/x");
        CHECK_STREQ(j2, "/a/b");
        CHECK_STREQ(j3, "/a");

        CHECK(path_startswith("/usr/lib", "/usr"));
        CHECK(path_startswith("/usr", "/usr/"));
        CHECK(!path_startswith("/usrlocal", "/usr"));
        CHECK(path_startswith("/anything", "/"));

        _cleanup_free_ char *d1 = path_dirname("/a/b"), *d2 = path_dirname("/a");
        CHECK_STREQ(d1, "/a");
        CHECK_STREQ(d2, "/");
        CHECK_STREQ(path_basename("/a/b"), "b");

        CHECK(!path_is_safe_component(".."));
        CHECK(!path_is_safe_component("a/b"));
        CHECK(path_is_safe_component("env"));

        _cleanup_strv_free_ char **l = NULL;
        CHECK_INTEQ(strv_extend(&l, "a"), 0);
        CHECK_INTEQ(strv_extend(&l, "b"), 0);
        CHECK_INTEQ(strv_length(l), 2);
        CHECK(strv_contains(l, "b"));
        CHECK(!strv_contains(l, "c"));

        char *big = malloc(5000);
        memset(big, 'a', 4999);
        big[0] = '/';
        big[4999] = 0;
        out = NULL;
        CHECK_INTEQ(path_normalize(big, &out), -ENAMETOOLONG);
        free(big);
        /* read_full_file_at: a file of exactly max bytes fits, one more does not. */
        char tmpl[] = "/tmp/vrun-test-path-XXXXXX";
        int fd = mkstemp(tmpl);
        CHECK(fd >= 0);
        if (fd >= 0) {
                CHECK_INTEQ(write(fd, "0123456789", 10), 10);
                close(fd);
                char *text = NULL;
                size_t len = 0;
                CHECK_INTEQ(read_full_file_at(AT_FDCWD, tmpl, 10, &text, &len), 0);
                CHECK_INTEQ(len, 10);
                CHECK_STREQ(text, "0123456789");
                free(text);
                text = NULL;
                CHECK_INTEQ(read_full_file_at(AT_FDCWD, tmpl, 9, &text, &len), -EFBIG);
                CHECK(text == NULL);
                /* through a pipe there is no size to go by */
                int p[2];
                CHECK_INTEQ(pipe(p), 0);
                CHECK_INTEQ(write(p[1], "0123456789", 10), 10);
                close(p[1]);
                CHECK_INTEQ(read_fd_full(p[0], 9, &text), -EFBIG);
                close(p[0]);
                CHECK_INTEQ(pipe(p), 0);
                CHECK_INTEQ(write(p[1], "0123456789", 10), 10);
                close(p[1]);
                CHECK_INTEQ(read_fd_full(p[0], 10, &text), 0);
                CHECK_STREQ(text, "0123456789");
                free(text);
                close(p[0]);
                unlink(tmpl);
        }
        return tap_finish();
}
