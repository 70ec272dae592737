/* vrun export's pieces without running anything: layers are reproducible
 * (the same files give the same bytes; the diff_id is the digest of the tar
 * inside), the seccomp JSON writes 64-bit masks whole, and the ELF closure of
 * a host program finds libc and the loader. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "util/sha256.h"
#include "util/strv.h"
#include "vrun/export/digest.h"
#include "vrun/export/elfdeps.h"
#include "vrun/export/layer.h"
#include "vrun/export/rootfs.h"
#include "vrun/export/spec.h"

static Rootfs *sample(const char *host_dir) {
        Rootfs *fs = NULL;
        if (rootfs_new(NULL, &fs) < 0)
                return NULL;
        CHECK_INTEQ(rootfs_add_dir(fs, "etc", 0755), 0);
        CHECK_INTEQ(rootfs_add_data(fs, "etc/passwd", "root:x:0:0::/:/bin/sh\n", 22, 0644), 0);
        CHECK_INTEQ(rootfs_add_host(fs, host_dir, true, false), 0);
        return fs;
}

/* The tar inside a gzip blob, and its digest: what an OCI diff_id is. */
static void gunzip_digest(int dirfd, const char *name, char out[DIGEST_STR_SIZE]) {
        _cleanup_free_ char *gz = NULL;
        size_t len = 0;
        CHECK_INTEQ(read_full_file_at(dirfd, name, 64 << 20, &gz, &len), 0);
        z_stream z = { .next_in = (Bytef *) gz, .avail_in = (uInt) len };
        CHECK_INTEQ(inflateInit2(&z, 15 + 16), Z_OK);
        _cleanup_free_ unsigned char *tar = malloc(64 << 20);
        z.next_out = tar;
        z.avail_out = 64 << 20;
        CHECK_INTEQ(inflate(&z, Z_FINISH), Z_STREAM_END);
        digest_bytes(tar, z.total_out, out);
        inflateEnd(&z);
}

static void test_layers(void) {
        char tmpl[] = "/tmp/vrun-test-export.XXXXXX";
        CHECK(mkdtemp(tmpl) != NULL);
        _cleanup_free_ char *src = path_join(tmpl, "src"), *sub = path_join(tmpl, "src/pkg"),
                            *f = path_join(tmpl, "src/pkg/mod.py"), *l = path_join(tmpl, "src/link");
        CHECK_INTEQ(mkdir(src, 0755), 0);
        CHECK_INTEQ(mkdir(sub, 0755), 0);
        CHECK_INTEQ(write_file_at(AT_FDCWD, f, "x = 1\n", 6, 0644, 0), 0);
        CHECK_INTEQ(symlink("/etc/shadow", l), 0);
        _cleanup_close_ int dirfd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        Rootfs *a = sample(src);
        LayerInfo la = {}, lb = {};
        /* -ENOPKG here: libarchive or libcrypto cannot be loaded. */
        CHECK_INTEQ(layer_write(a, 0, dirfd, "a.tar.gz", &la), 0);
        /* A later mtime on the host changes nothing: only SOURCE_DATE_EPOCH (here 0) is stored. */
        CHECK_INTEQ(utimensat(AT_FDCWD, f, (struct timespec[]){ { 1, 0 }, { 12345, 0 } }, 0), 0);
        Rootfs *b = sample(src);
        CHECK_INTEQ(layer_write(b, 0, dirfd, "b.tar.gz", &lb), 0);
        CHECK_STREQ(la.digest, lb.digest);
        CHECK_STREQ(la.diff_id, lb.diff_id);
        CHECK(la.size == lb.size && la.size > 0);

        char diff[DIGEST_STR_SIZE];
        gunzip_digest(dirfd, "a.tar.gz", diff);
        CHECK_STREQ(diff, la.diff_id);

        /* The link is kept as a link; what it names is not taken in. */
        const RootfsEntry *e = rootfs_find(b, l);
        CHECK(e && e->kind == ROOTFS_SYMLINK && strcmp(e->target, "/etc/shadow") == 0);
        CHECK(rootfs_find(b, "/etc/shadow") == NULL);
        /* Parents of the tree are directories any user can traverse. */
        const RootfsEntry *t = rootfs_find(b, "tmp");
        CHECK(t && t->kind == ROOTFS_DIR && t->mode == 01777);

        /* Another mtime gives other bytes. */
        LayerInfo lc = {};
        CHECK_INTEQ(layer_write(b, 1700000000, dirfd, "c.tar.gz", &lc), 0);
        CHECK(strcmp(lc.digest, la.digest) != 0);
        rootfs_free(a);
        rootfs_free(b);
        CHECK_INTEQ(rm_rf_at(AT_FDCWD, tmpl), 0);
}

static void test_seccomp_json(void) {
        /* strict with inet: the socket family gaps take masks with the top bit set. */
        SeccompPolicy p = { .strict = true, .allow_inet = true };
        json_t *j = NULL;
        CHECK_INTEQ(spec_seccomp_json(&p, &j), 0);
        _cleanup_free_ char *text = NULL;
        CHECK_INTEQ(spec_dumps(j, true, &text), 0);
        CHECK(text && strstr(text, "\"defaultAction\": \"SCMP_ACT_ALLOW\""));
        CHECK(text && strstr(text, "18446744073709551615"));
        CHECK(text && !strstr(text, "\\u0001"));
        CHECK(text && !strstr(text, ": -"));
        CHECK(text && strstr(text, "\"clone3\""));
        json_decref(j);
}

static void test_elfdeps(void) {
        _cleanup_(elfdeps_freep) ElfDeps *d = NULL;
        CHECK_INTEQ(elfdeps_new(&d), 0);
        CHECK_INTEQ(elfdeps_add(d, "/bin/sh"), 0);
        bool libc = false, loader = false;
        STRV_FOREACH (l, elfdeps_libraries(d)) {
                libc |= strstr(path_basename(*l), "libc.so") != NULL;
                loader |= strstr(path_basename(*l), "ld-") != NULL;
        }
        CHECK(libc);
        CHECK(loader);
        CHECK_INTEQ(elf_is_elf("/bin/sh"), 1);
        CHECK_INTEQ(elf_is_elf("/etc/passwd"), 0);
}

int main(void) {
        test_layers();
        test_seccomp_json();
        test_elfdeps();
        return tap_finish();
}
