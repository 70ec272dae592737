/* Wheels are built by the system Python's zipfile (and then damaged on
 * purpose), unpacked and installed into throwaway envs and caches. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "vrun/venv/wheel.h"

#define PYTHON "/usr/bin/python3"
#define SITE   "lib/python3.11/site-packages"

static char *root;

/* Builds fixtures: mk.py KIND OUT */
static const char mk_py[] =
        "import base64, csv, hashlib, io, struct, sys, zipfile\n"
        "def h(d):\n"
        "    return 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()\n"
        "DEMO = [\n"
        "    ('demo/__init__.py',\n"
        "     b\"def main():\\n    print('demo-main')\\n    return 0\\n\", 0o644),\n"
        "    ('demo/sub/', b'', 0o755),\n"
        "    ('demo/sub/x.txt', b'hello\\n', 0o644),\n"
        "    ('demo/tool.sh', b'#!/bin/sh\\necho tool\\n', 0o755),\n"
        "    ('demo/we,ird\"name.txt', b'odd\\n', 0o644),\n"
        "    ('demo-1.0.data/purelib/demo_extra.py', b'X = 1\\n', 0o644),\n"
        "    ('demo-1.0.data/scripts/demo-sh', b\"#!python\\nprint('data-script')\\n\", 0o755),\n"
        "    ('demo-1.0.dist-info/METADATA', b'Metadata-Version: 2.1\\nName: demo\\nVersion: 1.0\\n', 0o644),\n"
        "    ('demo-1.0.dist-info/WHEEL',\n"
        "     b'Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n', 0o644),\n"
        "    ('demo-1.0.dist-info/entry_points.txt', b'[console_scripts]\\ndemo = demo:main\\n'\n"
        "     b'demo-x = demo : main [extra1, extra2]\\npip = demo:main\\npip3 = demo:main\\npip3.9 = demo:main\\n'\n"
        "     b'\\n[other.group]\\nnot-a-script = demo:main\\n', 0o644),\n"
        "]\n"
        "def wheel(out, entries, record=True):\n"
        "    entries = list(entries)\n"
        "    if record:\n"
        "        buf = io.StringIO()\n"
        "        w = csv.writer(buf, lineterminator='\\n')\n"
        "        for n, d, m in entries:\n"
        "            if not n.endswith('/'):\n"
        "                w.writerow([n, h(d), len(d)])\n"
        "        w.writerow(['demo-1.0.dist-info/RECORD', '', ''])\n"
        "        entries.append(('demo-1.0.dist-info/RECORD', buf.getvalue().encode(), 0o644))\n"
        "    with zipfile.ZipFile(out, 'w') as z:\n"
        "        for n, d, m in entries:\n"
        "            zi = zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0))\n"
        "            zi.create_system = 3\n"
        "            kind = 0o040000 if n.endswith('/') else (0 if m >> 12 else 0o100000)\n"
        "            zi.external_attr = (kind | m) << 16\n"
        "            zi.compress_type = zipfile.ZIP_STORED if n.endswith('.txt') else zipfile.ZIP_DEFLATED\n"
        "            z.writestr(zi, d)\n"
        "def patch_central(out, off, fmt, fn):\n"
        "    data = bytearray(open(out, 'rb').read())\n"
        "    i = data.find(b'PK\\x01\\x02')\n"
        "    (v,) = struct.unpack_from(fmt, data, i + off)\n"
        "    struct.pack_into(fmt, data, i + off, fn(v))\n"
        "    open(out, 'wb').write(bytes(data))\n"
        "kind, out = sys.argv[1], sys.argv[2]\n"
        "if kind == 'good': wheel(out, DEMO)\n"
        "elif kind == 'evil': wheel(out, DEMO + [('../evil', b'x', 0o644)])\n"
        "elif kind == 'abs': wheel(out, DEMO + [('/tmp/vrun-abs-evil', b'x', 0o644)])\n"
        "elif kind == 'dotdir': wheel(out, DEMO + [('demo/../../evil2', b'x', 0o644)])\n"
        "elif kind == 'backslash': wheel(out, DEMO + [('demo\\\\x.py', b'x', 0o644)])\n"
        "elif kind == 'symlink': wheel(out, DEMO + [('demo/link', b'/etc/passwd', 0o120777)])\n"
        "elif kind == 'dup': wheel(out, DEMO + [('demo/__init__.py', b'again', 0o644)], record=False)\n"
        "elif kind == 'filedir': wheel(out, DEMO + [('demo/sub/x.txt/y', b'y', 0o644)])\n"
        "elif kind == 'nodistinfo': wheel(out, [('x/y.py', b'y', 0o644)], record=False)\n"
        "elif kind == 'syntax': wheel(out, DEMO + [('demo/broken.py', b'def (:\\n', 0o644)])\n"
        "elif kind == 'headers': wheel(out, DEMO + [('demo-1.0.data/headers/demo.h', b'', 0o644)])\n"
        "elif kind == 'many': wheel(out, [('f/%d' % i, b'', 0o644) for i in range(20001)], record=False)\n"
        "elif kind == 'badcrc':\n"
        "    wheel(out, DEMO); patch_central(out, 16, '<I', lambda v: v ^ 1)\n"
        "elif kind == 'zip64':\n"
        "    wheel(out, DEMO); patch_central(out, 20, '<I', lambda v: 0xffffffff)\n"
        "elif kind == 'encrypted':\n"
        "    wheel(out, DEMO); patch_central(out, 8, '<H', lambda v: v | 1)\n"
        "elif kind == 'huge':\n"
        "    wheel(out, DEMO); patch_central(out, 24, '<I', lambda v: 0x20000001)\n"
        "elif kind == 'trunc':\n"
        "    wheel(out, DEMO); d = open(out, 'rb').read(); open(out, 'wb').write(d[:len(d) - 30])\n"
        "elif kind == 'garbage': open(out, 'wb').write(b'PK\\x05\\x06' + b'\\xff' * 18)\n"
        "else: sys.exit('unknown kind ' + kind)\n";

/* verify.py ENV: RECORD must list every file pip would own, with right hashes. */
static const char verify_py[] =
        "import base64, csv, glob, hashlib, os, sys\n"
        "env = sys.argv[1]; site = os.path.join(env, 'lib/python3.11/site-packages'); bad = 0\n"
        "for rec in glob.glob(os.path.join(site, '*.dist-info/RECORD')):\n"
        "    listed = set()\n"
        "    for row in csv.reader(open(rec, newline='')):\n"
        "        p = os.path.normpath(os.path.join(site, row[0])); listed.add(p)\n"
        "        if not os.path.isfile(p): print('missing', p); bad = 1; continue\n"
        "        if row[1]:\n"
        "            algo, want = row[1].split('=', 1)\n"
        "            d = hashlib.new(algo, open(p, 'rb').read()).digest()\n"
        "            got = base64.urlsafe_b64encode(d).rstrip(b'=').decode()\n"
        "            if got != want or int(row[2]) != os.path.getsize(p): print('hash/size', p); bad = 1\n"
        "    print('checked', rec, len(listed))\n"
        "    if not all(p.startswith((site + '/', env + '/bin/')) for p in listed): print('outside'); bad = 1\n"
        "    for d, _, files in os.walk(site):\n"
        "        for f in files:\n"
        "            p = os.path.join(d, f)\n"
        "            if '__pycache__' in p: continue\n"
        "            if p.startswith(os.path.dirname(rec)) or p.startswith(os.path.join(site, 'demo')):\n"
        "                if p not in listed: print('unlisted', p); bad = 1\n"
        "sys.exit(bad)\n";

__attribute__((format(printf, 1, 2))) static char *fmt(const char *f, ...) {
        va_list ap;
        va_start(ap, f);
        char *s;
        if (vasprintf(&s, f, ap) < 0)
                abort();
        va_end(ap);
        return s;
}

__attribute__((format(printf, 1, 2))) static int sh(const char *f, ...) {
        va_list ap;
        va_start(ap, f);
        _cleanup_free_ char *cmd = NULL;
        if (vasprintf(&cmd, f, ap) < 0)
                abort();
        va_end(ap);
        int st = system(cmd); /* NOLINT(cert-env33-c): test commands are shell lines */
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *fixture(const char *kind) {
        char *out = fmt("%s/%s.whl", root, kind);
        if (sh("%s -W ignore %s/mk.py %s %s", PYTHON, root, kind, out) != 0)
                fprintf(stderr, "cannot build fixture %s\n", kind);
        return out;
}

static int make_env(const char *dir) {
        _cleanup_free_ char *site = fmt("%s/" SITE, dir), *bin = fmt("%s/bin", dir);
        if (mkdir(dir, 0755) < 0 || mkdir_p(site, 0755) < 0 || mkdir(bin, 0755) < 0)
                return -1;
        return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static bool exists(const char *f, ...) __attribute__((format(printf, 1, 2)));
static bool exists(const char *f, ...) {
        va_list ap;
        va_start(ap, f);
        _cleanup_free_ char *p = NULL;
        if (vasprintf(&p, f, ap) < 0)
                abort();
        va_end(ap);
        return access(p, F_OK) == 0;
}

static char *first_line(int dirfd, const char *path) {
        char *s = NULL;
        if (read_full_file_at(dirfd, path, 1 << 20, &s, NULL) < 0)
                return NULL;
        s[strcspn(s, "\n")] = 0;
        return s;
}

static ino_t inode_at(int dirfd, const char *path) {
        struct stat st;
        return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 ? 0 : st.st_ino;
}

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static WheelTarget target(int env_fd, const char *python, const char *cache) {
        return (WheelTarget){
                .env_fd = env_fd,
                .site_packages = SITE,
                .bin_dir = "bin",
                .python = python,
                .cache_dir = cache,
                .version_major = 3,
                .version_minor = 11,
        };
}

static void test_unpack(void) {
        _cleanup_free_ char *good = fixture("good"), *dest = fmt("%s/unpacked", root);
        CHECK_INTEQ(wheel_unpack(good, dest), 0);
        CHECK(exists("%s/demo/__init__.py", dest));
        CHECK(exists("%s/demo/sub/x.txt", dest));
        CHECK(exists("%s/demo-1.0.dist-info/RECORD", dest));
        CHECK(sh("cmp -s %s/demo/sub/x.txt - <<EOF\nhello\nEOF", dest) == 0);
        _cleanup_free_ char *tool = fmt("%s/demo/tool.sh", dest), *init = fmt("%s/demo/__init__.py", dest);
        struct stat st;
        CHECK(stat(tool, &st) == 0 && (st.st_mode & 0777) == 0755);
        CHECK(stat(init, &st) == 0 && (st.st_mode & 0777) == 0644);
        CHECK_INTEQ(wheel_unpack(good, dest), -EEXIST);

        static const char *const bad[] = { "evil",   "abs",   "dotdir",    "backslash", "symlink", "dup",     "filedir",
                                           "badcrc", "zip64", "encrypted", "huge",      "trunc",   "garbage", "many" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *w = fixture(bad[i]), *d = fmt("%s/bad-%s", root, bad[i]);
                int r = wheel_unpack(w, d);
                if (r != -EBADMSG)
                        fprintf(stderr, "fixture %s: %d\n", bad[i], r);
                CHECK_INTEQ(r, -EBADMSG);
                CHECK(!exists("%s", d)); /* nothing left half-unpacked */
        }
        CHECK(!exists("%s/evil", root));
        CHECK(!exists("%s/../evil2", root));
        CHECK(!exists("/tmp/vrun-abs-evil"));
}

static void check_demo_env(int env_fd, const char *env, const char *python) {
        CHECK(inode_at(env_fd, SITE "/demo/__init__.py") != 0);
        CHECK(inode_at(env_fd, SITE "/demo/sub/x.txt") != 0);
        CHECK(inode_at(env_fd, SITE "/demo_extra.py") != 0);
        CHECK(inode_at(env_fd, SITE "/demo-1.0.data") == 0);
        struct stat st;
        CHECK(fstatat(env_fd, SITE "/demo/tool.sh", &st, 0) == 0 && (st.st_mode & 0111));
        CHECK(fstatat(env_fd, "bin/demo", &st, 0) == 0 && (st.st_mode & 0777) == 0755);
        CHECK(inode_at(env_fd, "bin/demo-x") != 0);
        CHECK(inode_at(env_fd, "bin/pip") != 0);
        CHECK(inode_at(env_fd, "bin/pip3") != 0);
        CHECK(inode_at(env_fd, "bin/pip3.11") != 0);
        CHECK(inode_at(env_fd, "bin/pip3.9") == 0);
        CHECK(inode_at(env_fd, "bin/not-a-script") == 0);

        _cleanup_free_ char *installer = NULL;
        CHECK(read_full_file_at(env_fd, SITE "/demo-1.0.dist-info/INSTALLER", 64, &installer, NULL) == 0);
        CHECK_STREQ(installer, "pip\n");

        _cleanup_free_ char *record = NULL;
        CHECK(read_full_file_at(env_fd, SITE "/demo-1.0.dist-info/RECORD", 1 << 20, &record, NULL) == 0);
        CHECK(record && strstr(record, "\"demo/we,ird\"\"name.txt\",sha256="));
        CHECK(record && strstr(record, "\n../../../bin/pip3.11,sha256="));
        CHECK(record && strstr(record, "\ndemo-1.0.dist-info/RECORD,,\n"));
        CHECK(record && strstr(record, "\ndemo_extra.py,sha256="));
        /* hash of "pip\n", as pip would write it */
        CHECK(record && strstr(record, "demo-1.0.dist-info/INSTALLER,"
                                       "sha256=zuuue4knoyJ-UwPPXg8fezS7VCrXJQrAP7zeNuwvFQg,4\n"));
        CHECK(sh("%s %s/verify.py %s >/dev/null", PYTHON, root, env) == 0);

        /* a RECORD entry must never be a hard link into the cache */
        CHECK(fstatat(env_fd, SITE "/demo-1.0.dist-info/RECORD", &st, 0) == 0 && st.st_nlink == 1);

        _cleanup_free_ char *shebang = first_line(env_fd, "bin/demo"), *want = fmt("#!%s", python);
        if (strlen(python) < 120 && !strchr(python, ' '))
                CHECK_STREQ(shebang, want);
        else
                CHECK_STREQ(shebang, "#!/bin/sh");
        _cleanup_free_ char *data_shebang = first_line(env_fd, "bin/demo-sh");
        CHECK_STREQ(data_shebang, strcmp(shebang, "#!/bin/sh") == 0 ? "#!/bin/sh" : want);

        /* the scripts run, through the trampoline too, and compile without warnings */
        CHECK(sh("cd / && PYTHONPATH='%s/" SITE "' '%s/bin/demo' | grep -qx demo-main", env, env) == 0);
        CHECK(sh("cd / && PYTHONPATH='%s/" SITE "' '%s/bin/pip3.11' | grep -qx demo-main", env, env) == 0);
        CHECK(sh("cd / && '%s/bin/demo-sh' | grep -qx data-script", env) == 0);
        CHECK(sh("%s -W error -c 'import pathlib, sys; "
                 "compile(pathlib.Path(sys.argv[1]).read_text(), \"s\", \"exec\")' '%s/bin/demo'",
                 PYTHON, env) == 0);
}

/* The inode of path in the (one) cache entry of the "good" wheel. */
static ino_t cache_inode(const char *cache, const char *path) {
        _cleanup_free_ char *pattern = fmt("%s/wheels/good.whl-*/%s", cache, path);
        glob_t g;
        ino_t ino = 0;
        struct stat st;
        if (glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc == 1 && lstat(g.gl_pathv[0], &st) == 0)
                ino = st.st_ino;
        globfree(&g);
        return ino;
}

static void test_install(void) {
        _cleanup_free_ char *good = fixture("good"), *cache = fmt("%s/cache", root);
        _cleanup_free_ char *env1 = fmt("%s/env1", root), *env2 = fmt("%s/env2", root);
        _cleanup_free_ char *env3 = fmt("%s/env3", root), *env4 = fmt("%s/env4", root);

        _cleanup_close_ int fd1 = make_env(env1);
        WheelTarget t = target(fd1, PYTHON, cache);
        CHECK_INTEQ(wheel_install(good, &t), 0);
        check_demo_env(fd1, env1, PYTHON);
        struct stat st;
        _cleanup_free_ char *wheels = fmt("%s/wheels", cache);
        CHECK(stat(wheels, &st) == 0 && (st.st_mode & 0777) == 0700);

        /* warm cache: the same entry is copied from again; every env file is
         * an inode of its own (no hard link into the cache or another env) */
        ino_t cached1 = cache_inode(cache, "demo/__init__.py");
        _cleanup_close_ int fd2 = make_env(env2);
        t = target(fd2, PYTHON, cache);
        CHECK_INTEQ(wheel_install(good, &t), 0);
        ino_t ino1 = inode_at(fd1, SITE "/demo/__init__.py");
        CHECK(cached1 != 0 && cache_inode(cache, "demo/__init__.py") == cached1);
        CHECK(ino1 != 0 && ino1 != cached1 && inode_at(fd2, SITE "/demo/__init__.py") != ino1);
        CHECK(inode_at(fd2, SITE "/demo/__init__.py") != cached1);
        CHECK(sh("find %s %s -type f -links +1 | grep -q .", env1, env2) != 0);
        CHECK(sh("ls -A %s/wheels | grep -c . | grep -qx 1", cache) == 0); /* one entry, no temp dirs */

        /* damaged entry (marker gone): rebuilt, so a new entry (without the
         * file planted in the old one; inode numbers may be reused) */
        CHECK(sh("for d in %s/wheels/good.whl-*; do rm $d/.vrun-complete && touch $d/old-entry; done", cache) == 0);
        _cleanup_close_ int fd3 = make_env(env3);
        t = target(fd3, PYTHON, cache);
        CHECK_INTEQ(wheel_install(good, &t), 0);
        CHECK(cache_inode(cache, "demo/__init__.py") != 0 && cache_inode(cache, "old-entry") == 0);
        CHECK(sh("test -f %s/wheels/good.whl-*/.vrun-complete", cache) == 0);
        check_demo_env(fd3, env3, PYTHON);

        /* a file cleaned out of the cache behind our back: rebuilt too */
        CHECK(sh("rm %s/wheels/good.whl-*/demo/sub/x.txt", cache) == 0);
        _cleanup_close_ int fd4 = make_env(env4);
        t = target(fd4, PYTHON, cache);
        CHECK_INTEQ(wheel_install(good, &t), 0);
        CHECK(inode_at(fd4, SITE "/demo/sub/x.txt") != 0);
        CHECK(sh("test -f %s/wheels/good.whl-*/demo/sub/x.txt", cache) == 0);
        CHECK(sh("ls -A %s/wheels | grep -c . | grep -qx 1", cache) == 0);
        check_demo_env(fd4, env4, PYTHON);

        /* an interpreter path a plain "#!" cannot carry */
        _cleanup_free_ char *odd = fmt("%s/my python $HOME `x` \"q\" 'a''b' \\n", root);
        _cleanup_free_ char *odd_py = fmt("%s/python", odd), *env5 = fmt("%s/env5", root);
        CHECK(mkdir(odd, 0755) == 0 && symlink(PYTHON, odd_py) == 0);
        _cleanup_close_ int fd5 = make_env(env5);
        t = target(fd5, odd_py, cache);
        CHECK_INTEQ(wheel_install(good, &t), 0);
        check_demo_env(fd5, env5, odd_py);

        _cleanup_free_ char *longdir = fmt("%s/%0100d/%050d", root, 0, 0);
        _cleanup_free_ char *long_py = fmt("%s/python", longdir), *env6 = fmt("%s/env6", root);
        CHECK(mkdir_p(longdir, 0755) == 0 && symlink(PYTHON, long_py) == 0);
        _cleanup_close_ int fd6 = make_env(env6);
        t = target(fd6, long_py, NULL); /* no cache: unpacked inside the env, then removed */
        CHECK_INTEQ(wheel_install(good, &t), 0);
        check_demo_env(fd6, env6, long_py);
        CHECK(sh("ls -A %s | grep -q vrun", env6) != 0);

        /* wheels vrun cannot install */
        static const struct {
                const char *kind;
                int err;
        } refused[] = { { "nodistinfo", -EBADMSG }, { "headers", -EOPNOTSUPP }, { "evil", -EBADMSG } };
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                _cleanup_free_ char *w = fixture(refused[i].kind), *e = fmt("%s/env-%s", root, refused[i].kind);
                _cleanup_close_ int fd = make_env(e);
                t = target(fd, PYTHON, cache);
                CHECK_INTEQ(wheel_install(w, &t), refused[i].err);
        }
        CHECK(sh("ls -A %s/wheels | grep -q '^\\.tmp'", cache) != 0); /* failures leave no temp dirs */

        /* a cache that cannot exist: installed anyway, by way of the env */
        _cleanup_free_ char *env7 = fmt("%s/env7", root);
        _cleanup_close_ int fd7 = make_env(env7);
        t = target(fd7, PYTHON, "/dev/null/cache");
        CHECK_INTEQ(wheel_install(good, &t), 0);
        CHECK(inode_at(fd7, SITE "/demo/sub/x.txt") != 0);
        CHECK(sh("ls -A %s | grep -q vrun", env7) != 0);
}

/* Processes seeding envs at the same time from a cold cache all succeed, and
 * exactly one of them gets to publish the cache entry. */
/* With an interpreter to compile them, the cache holds the .pyc files pip
 * would write and each env gets them, listed in RECORD and valid for the
 * copied modules. */
static void check_compiled_env(const char *env) {
        CHECK(exists("%s/" SITE "/demo/__pycache__/__init__.cpython-311.pyc", env));
        CHECK(!exists("%s/" SITE "/demo/sub/__pycache__", env)); /* no modules there */
        CHECK(exists("%s/" SITE "/__pycache__/demo_extra.cpython-311.pyc", env));
        CHECK(!exists("%s/bin/__pycache__", env));
        CHECK(sh("grep -q '^demo/__pycache__/__init__.cpython-311.pyc,sha256=' %s/" SITE "/demo-1.0.dist-info/RECORD",
                 env) == 0);
        CHECK(sh("%s %s/verify.py %s >/dev/null", PYTHON, root, env) == 0);
        /* imported from the .pyc: its recorded mtime and size match the copy */
        CHECK(sh("cd / && PYTHONDONTWRITEBYTECODE=1 PYTHONPATH='%s/" SITE "' %s -v -c 'import demo, demo_extra' 2>&1 | "
                 "grep -c 'site-packages.*pyc matches' | grep -qx 2",
                 env, PYTHON) == 0);
}

static void test_compiled(void) {
        _cleanup_free_ char *good = fixture("good"), *syntax = fixture("syntax"), *cache = fmt("%s/pyccache", root);
        _cleanup_free_ char *env1 = fmt("%s/pyc1", root), *env2 = fmt("%s/pyc2", root);
        _cleanup_free_ char *env3 = fmt("%s/pyc3", root), *env4 = fmt("%s/pyc4", root);

        _cleanup_close_ int fd1 = make_env(env1);
        WheelTarget t = target(fd1, PYTHON, cache);
        t.compile_python = PYTHON;
        CHECK_INTEQ(wheel_install(good, &t), 0);
        check_demo_env(fd1, env1, PYTHON);
        check_compiled_env(env1);

        _cleanup_close_ int fd2 = make_env(env2); /* warm cache */
        t.env_fd = fd2;
        CHECK_INTEQ(wheel_install(good, &t), 0);
        check_compiled_env(env2);
        CHECK(sh("ls -A %s/wheels | grep -c . | grep -qx 1", cache) == 0);

        /* a module that does not compile gets no .pyc, as with pip */
        _cleanup_close_ int fd3 = make_env(env3);
        t.env_fd = fd3;
        CHECK_INTEQ(wheel_install(syntax, &t), 0);
        CHECK(exists("%s/" SITE "/demo/broken.py", env3));
        CHECK(!exists("%s/" SITE "/demo/__pycache__/broken.cpython-311.pyc", env3));
        CHECK(exists("%s/" SITE "/demo/__pycache__/__init__.cpython-311.pyc", env3));

        /* an interpreter that fails to compile: installed without .pyc files,
         * and nothing cached for it */
        _cleanup_close_ int fd4 = make_env(env4);
        t.env_fd = fd4;
        t.compile_python = "/bin/false";
        CHECK_INTEQ(wheel_install(good, &t), 0);
        check_demo_env(fd4, env4, PYTHON);
        CHECK(!exists("%s/" SITE "/demo/__pycache__", env4));
        CHECK(sh("ls -A %s/wheels | grep -c . | grep -qx 2", cache) == 0); /* good and syntax */
}

static void test_race(void) {
        _cleanup_free_ char *good = fixture("good"), *cache = fmt("%s/racecache", root);
        pid_t pids[6];
        for (size_t k = 0; k < ELEMENTSOF(pids); k++) {
                pids[k] = fork();
                if (pids[k] == 0) {
                        /* _exit() runs no cleanup: free by hand (valgrind counts leaks in children too). */
                        char *env = fmt("%s/race%zu", root, k);
                        int fd = make_env(env);
                        free(env);
                        WheelTarget t = target(fd, PYTHON, cache);
                        _exit(fd >= 0 && wheel_install(good, &t) == 0 ? 0 : 1);
                }
        }
        for (size_t k = 0; k < ELEMENTSOF(pids); k++) {
                int st;
                CHECK(pids[k] > 0 && waitpid(pids[k], &st, 0) == pids[k] && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        CHECK(sh("ls -A %s/wheels | grep -c . | grep -qx 1", cache) == 0);
        for (size_t k = 0; k < ELEMENTSOF(pids); k++)
                CHECK(exists("%s/race%zu/" SITE "/demo/sub/x.txt", root, k));
}

static void test_pip(void) {
        glob_t g;
        if (glob("/usr/share/python-wheels/pip-*.whl", 0, NULL, &g) != 0) {
                printf("# skip: no /usr/share/python-wheels/pip-*.whl\n");
                return;
        }
        _cleanup_free_ char *pip = strdup(g.gl_pathv[0]);
        globfree(&g);
        _cleanup_free_ char *cache = fmt("%s/pipcache", root), *env = fmt("%s/pipenv", root);
        _cleanup_free_ char *python = fmt("%s/bin/python", env);

        /* a venv that /usr/bin/python3 recognises, so pip acts on it */
        _cleanup_close_ int fd = make_env(env);
        CHECK(symlinkat(PYTHON, fd, "bin/python") == 0);
        static const char cfg[] = "home = /usr/bin\ninclude-system-site-packages = false\n";
        CHECK(write_file_at(fd, "pyvenv.cfg", cfg, strlen(cfg), 0644, 0) == 0);

        WheelTarget t = target(fd, python, cache);
        double t0 = now_ms();
        CHECK_INTEQ(wheel_install(pip, &t), 0);
        double cold = now_ms() - t0;
        CHECK(sh("cd / && '%s/bin/pip' --version | grep -q '%s/" SITE "/pip'", env, env) == 0);
        CHECK(sh("cd / && PYTHONPATH='%s/" SITE "' %s -m pip --version >/dev/null", env, PYTHON) == 0);
        CHECK(sh("%s %s/verify.py %s >/dev/null", PYTHON, root, env) == 0);
        glob_t w;
        if (glob("/usr/share/python-wheels/wheel-*.whl", 0, NULL, &w) == 0) {
                CHECK_INTEQ(wheel_install(w.gl_pathv[0], &t), 0);
                CHECK(sh("cd / && '%s/bin/pip' uninstall -q -y wheel && test ! -e '%s/bin/wheel'", env, env) == 0);
                globfree(&w);
        }
        CHECK(sh("cd / && '%s/bin/pip' uninstall -q -y pip", env) == 0);
        CHECK(sh("cd '%s' && test -z \"$(ls -A " SITE ")\" && test -z \"$(ls bin | grep pip)\"", env) == 0);

        /* warm cache: what `vrun create` pays per env */
        double best = 1e9, total = 0;
        const int rounds = 20;
        for (int i = 0; i < rounds; i++) {
                _cleanup_free_ char *e = fmt("%s/pipenv-%d", root, i);
                _cleanup_close_ int efd = make_env(e);
                t = target(efd, python, cache);
                t0 = now_ms();
                CHECK_INTEQ(wheel_install(pip, &t), 0);
                double ms = now_ms() - t0;
                total += ms;
                if (ms < best)
                        best = ms;
        }
        printf("# pip install: cold cache %.2f ms, warm cache best %.2f ms, mean %.2f ms\n", cold, best,
               total / rounds);
}

/* `--compiled` runs only the .pyc test: its compile runs in the real sandbox
 * (confined_capture), which valgrind cannot run (it does not know the new
 * mount API), so meson registers it apart, outside the valgrind setup. */
int main(int argc, char **argv) {
        bool compiled_only = argc > 1 && strcmp(argv[1], "--compiled") == 0;
        char tmpl[] = "/tmp/test-wheel-XXXXXX";
        root = mkdtemp(tmpl);
        if (!root)
                return 1;
        _cleanup_free_ char *mk = fmt("%s/mk.py", root), *verify = fmt("%s/verify.py", root);
        if (write_file_at(AT_FDCWD, mk, mk_py, strlen(mk_py), 0644, 0) < 0 ||
            write_file_at(AT_FDCWD, verify, verify_py, strlen(verify_py), 0644, 0) < 0)
                return 1;

        if (compiled_only)
                test_compiled();
        else {
                test_unpack();
                test_install();
                test_race();
                test_pip();
        }

        if (!tap_failures && !getenv("VRUN_TEST_KEEP"))
                (void) rm_rf_at(AT_FDCWD, root);
        else
                printf("# left %s for inspection\n", root);
        return tap_finish();
}
