#!/bin/bash
# Writes inside `vrun ENV`: the host (/usr, the base's stdlib, the hidden
# package dirs, $HOME/.bashrc, /etc) is read-only; the env and the working
# directory are writable and keep what was written; /tmp and /dev/shm are
# fresh and forgotten at exit; --bind, --ro-bind, --tmpfs and --chdir do what
# they say.
. "$TESTS/lib.sh"

probe=vrun_fs_probe_$$_$RANDOM
stdlib=$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
hidden=$("$PY" -c 'import bcrypt, os; print(os.path.dirname(os.path.dirname(bcrypt.__file__)))' 2>/dev/null)
[ -n "$hidden" ] || hidden=/usr/lib/python3/dist-packages
overlaid=$("$PY" -c 'import os, site; print(next((p for p in site.getsitepackages() if os.path.isdir(p)), ""))')
pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
real_py=$(readlink -f "$PY")

# Every path a failed check might have created on the host, removed at exit
# (only a broken vrun creates them).
host_probes=("/usr/$probe" "/usr/bin/$probe" "$stdlib/$probe.py" "$hidden/$probe.py" "$hidden/$probe"
        "/etc/$probe" "$stdlib/$probe.cwd")
cleanup_probes() { rm -rf "${host_probes[@]}" 2>/dev/null; }
trap cleanup_probes EXIT

mkdir -p "$T/proj" "$T/envs" "$T/data" "$T/rodata" "$T/proj/cache"
echo 'original' >"$HOME/.bashrc"
echo 'kept' >"$T/proj/cache/kept.txt"
make_env "$T/envs/main" --without-pip
env_dir="$T/envs/main"
cd "$T/proj" || exit 1

# fs.py: for each "MODE PATH" argument tries the operation and prints
# "MODE PATH: RESULT", RESULT being "ok" or the errno name. Nothing is ever
# written into a file that existed before: opening for writing is the test.
# It lives in the env, which is visible whatever the working directory.
cat >"$env_dir/fs.py" <<'PYEOF'
import errno, os, sys
def res(fn, p):
    try:
        fn(p)
        return "ok"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def create(p):
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b"written inside\n")
    os.close(fd)
def open_w(p):
    os.close(os.open(p, os.O_WRONLY | os.O_APPEND))
def mkdir(p):
    os.mkdir(p)
def exists(p):
    if not os.path.exists(p):
        raise OSError(errno.ENOENT, p)
ops = {"create": create, "open_w": open_w, "mkdir": mkdir, "exists": exists}
for a in sys.argv[1:]:
    mode, path = a.split(" ", 1)
    print("%s %s: %s" % (mode, path, res(ops[mode], path)))
PYEOF

# must_fail MODE PATH...: inside, each operation fails.
must_fail() {
        local mode=$1 p args=()
        shift
        for p in "$@"; do args+=("$mode $p"); done
        vrun_rc "$env_dir" python "$env_dir/fs.py" "${args[@]}"
        assert_eq "$rc" 0 "fs.py ran (stderr: $err)"
        for p in "$@"; do
                assert_not_contains "$out" "$mode $p: ok" "inside, $mode $p must fail"
                assert_contains "$out" "$mode $p: E" "inside, $mode $p gives an errno"
        done
}

must_fail create "/usr/$probe" "/usr/bin/$probe" "$stdlib/$probe.py" "$hidden/$probe.py" "/etc/$probe" \
        "$HOME/.bashrc"
must_fail mkdir "$hidden/$probe"
must_fail open_w "$real_py" "$stdlib/os.py" "/etc/passwd" "$HOME/.bashrc"
for p in "/usr/$probe" "/usr/bin/$probe" "$stdlib/$probe.py" "$hidden/$probe.py" "$hidden/$probe" "/etc/$probe"; do
        assert_false "host: $p was not created" test -e "$p"
done
assert_eq "$(cat "$HOME/.bashrc")" original "host: \$HOME/.bashrc is unchanged"

# The env and the working directory keep what is written.
expect_run 0 "" "write into the env and the working directory" "$env_dir" python -c '
import os, sys
open(os.path.join(sys.prefix, "written-by-payload.txt"), "w").write("env\n")
site = [p for p in sys.path if p.endswith("site-packages")][0]
open(os.path.join(site, "payload_mod.py"), "w").write("value = 42\n")
open("out.txt", "w").write("cwd\n")
os.makedirs("sub/deeper")
open("sub/deeper/f.txt", "w").write("deep\n")'
assert_eq "$(cat "$env_dir/written-by-payload.txt" 2>&1)" env "host: the file written into the env persists"
assert_eq "$(cat "$T/proj/out.txt" 2>&1)" cwd "host: the file written into the working directory persists"
assert_eq "$(cat "$T/proj/sub/deeper/f.txt" 2>&1)" deep "host: nested dirs made in the working directory persist"
assert_eq "$(stat -c %u:%g "$T/proj/out.txt")" "$(id -u):$(id -g)" "host: files written inside belong to the caller"
expect_run 0 42 "a module written into the env imports in the next run" \
        "$env_dir" python -c 'import payload_mod; print(payload_mod.value)'

# The overlaid global dir is the env: what is written there lands in the env,
# never in the host's directory.
if [ -n "$overlaid" ]; then
        before=$(ls -A "$overlaid")
        vrun_rc "$env_dir" python "$env_dir/fs.py" "create $overlaid/$probe.py"
        assert_eq "$(ls -A "$overlaid")" "$before" "host: $overlaid is unchanged by a write inside"
        rm -f "$overlaid/$probe.py" 2>/dev/null
        case "$out" in
        *": ok") assert_true "a write to $overlaid inside landed in the env" \
                test -f "$env_dir/lib/python$pyver/site-packages/$probe.py" ;;
        esac
fi

# /tmp and /dev/shm are fresh and vanish at exit.
expect_run 0 "create /tmp/$probe: ok
exists /tmp/$probe: ok
create /dev/shm/$probe: ok" "/tmp and /dev/shm are writable inside" \
        "$env_dir" python "$env_dir/fs.py" "create /tmp/$probe" "exists /tmp/$probe" "create /dev/shm/$probe"
assert_false "host: /tmp/$probe does not exist" test -e "/tmp/$probe"
assert_false "host: /dev/shm/$probe does not exist" test -e "/dev/shm/$probe"
expect_run 0 "exists /tmp/$probe: ENOENT
exists /dev/shm/$probe: ENOENT" "the next run does not see the last run's /tmp" \
        "$env_dir" python "$env_dir/fs.py" "exists /tmp/$probe" "exists /dev/shm/$probe"
touch "/tmp/$probe.host"
host_probes+=("/tmp/$probe.host")
expect_run 0 "exists /tmp/$probe.host: ENOENT" "the host's /tmp is not visible inside" \
        "$env_dir" python "$env_dir/fs.py" "exists /tmp/$probe.host"

# A working directory that is part of the base interpreter is not made
# writable.
cd "$stdlib" || exit 1
vrun_rc "$env_dir" python "$env_dir/fs.py" "create $stdlib/$probe.cwd"
assert_contains "$out" "create $stdlib/$probe.cwd: E" "with the stdlib as working directory, it stays read-only"
assert_false "host: $stdlib/$probe.cwd was not created" test -e "$stdlib/$probe.cwd"
cd "$T/proj" || exit 1

# The base interpreter's prefix is visible wherever it lives, under /tmp
# too: a relocated CPython (a copy of the binary, the stdlib beside it)
# whose prefix is $T/pp. Neither the working directory nor the env covers it.
mkdir -p "$T/pp/bin" "$T/pp/lib"
cp "$real_py" "$T/pp/bin/"
ln -s "$stdlib" "$T/pp/lib/$(basename "$stdlib")"
pp_py="$T/pp/bin/$(basename "$real_py")"
if [ "$("$pp_py" -c 'import sys; print(sys.prefix)' 2>&1)" = "$T/pp" ]; then
        make_env "$T/envs/pp" --without-pip --python "$pp_py"
        expect_run 0 "$T/pp $pp_py" "an env whose base interpreter lives under /tmp runs that interpreter" \
                "$T/envs/pp" python -c 'import os, sys; print(sys.base_prefix, os.path.realpath(sys.executable))'
else
        fail "host: the relocated interpreter $pp_py does not report prefix $T/pp"
fi

# --bind, --ro-bind, --tmpfs, --chdir.
expect_run 0 "create $T/data/a.txt: ok
create /tmp/data2/b.txt: ok
create $T/rodata/c.txt: EROFS
create $T/proj/cache/d.txt: ok" "--bind, --bind SRC:DST, --ro-bind, --tmpfs" \
        --bind "$T/data" --bind "$T/data:/tmp/data2" --ro-bind "$T/rodata" --tmpfs "$T/proj/cache" \
        "$env_dir" python "$env_dir/fs.py" "create $T/data/a.txt" "create /tmp/data2/b.txt" \
        "create $T/rodata/c.txt" "create $T/proj/cache/d.txt"
assert_true "host: --bind write persists" test -f "$T/data/a.txt"
assert_true "host: --bind SRC:DST write lands in SRC" test -f "$T/data/b.txt"
assert_false "host: --ro-bind dir unchanged" test -e "$T/rodata/c.txt"
assert_false "host: --tmpfs write vanished" test -e "$T/proj/cache/d.txt"
assert_eq "$(cat "$T/proj/cache/kept.txt")" kept "host: the dir under --tmpfs is untouched"
expect_run 0 "" "--tmpfs hides what was there" --tmpfs "$T/proj/cache" "$env_dir" ls -A "$T/proj/cache"
expect_run 0 "$T/proj/sub" "--chdir" --chdir "$T/proj/sub" "$env_dir" python -c 'import os; print(os.getcwd())'
expect_run 0 "$T/proj/sub" "--chdir relative to the working directory" --chdir sub "$env_dir" pwd

done_testing
