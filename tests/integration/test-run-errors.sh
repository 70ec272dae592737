#!/bin/bash
# Bad input to `vrun ENV CMD`: an ENV that cannot be created, is a file, is
# not a venv, or lost its base interpreter (125, one clear message); unknown
# options and missing arguments (2); a --bind of a missing path (125); and
# the inputs that must simply work: relative paths and paths with spaces.
. "$TESTS/lib.sh"

mkdir -p "$T/proj"
cd "$T/proj" || exit 1
make_env "$T/proj/env" --without-pip

# in_ro_dir DIR CMD...: runs CMD while DIR cannot be written to by this
# account. A plain user gets a mode 555 dir; root, whom modes do not stop,
# gets a read-only tmpfs on DIR in a private mount namespace.
in_ro_dir() {
        local dir=$1
        shift
        if [ "$(id -u)" = 0 ]; then
                unshare -m --propagation private sh -c 'mount -t tmpfs -o ro,mode=755 tmpfs "$1" || exit 99; shift; exec "$@"' \
                        sh "$dir" "$@"
        else
                chmod 555 "$dir"
                "$@"
                local rc=$?
                chmod 755 "$dir"
                return $rc
        fi
}

# ---- ENV that cannot be used ---------------------------------------------------------------
mkdir -p "$T/ro"
# Two lines: auto-creation says it starts, then why it failed.
expect_status 125 in_ro_dir "$T/ro" "$VRUN" --python "$PY" "$T/ro/env" python -c pass
err=$out
assert_eq "$(printf '%s\n' "$err" | grep -c '^vrun: ')" 2 "ENV under a read-only dir: two lines"
case "$err" in
*"Permission denied"* | *"Read-only file system"*) ok ;;
*) fail "ENV under a read-only dir: the message names the errno: $err" ;;
esac
assert_contains "$err" "$T/ro/env" "ENV under a read-only dir: the message names the env"
assert_nothing_left "$T/ro" env

touch "$T/proj/afile"
expect_error 125 "$VRUN" afile python -c pass
assert_contains "$err" "afile" "ENV that is a file: the message names it"
assert_contains "$err" "not a directory" "ENV that is a file: the message says why"
assert_eq "$(stat -c %s "$T/proj/afile")" 0 "ENV that is a file: the file is untouched"

mkdir -p "$T/proj/notvenv"
echo keep >"$T/proj/notvenv/data"
expect_error 125 "$VRUN" notvenv python -c pass
assert_contains "$err" "pyvenv.cfg" "a dir that is not a venv: the message says why"
assert_eq "$(ls -A "$T/proj/notvenv")" data "a dir that is not a venv is left alone"

# An env whose base interpreter was removed: built on a copy of the
# interpreter, which is then deleted (a copied CPython still finds its
# stdlib through its compiled-in prefix). The copy lives in /var/tmp, not
# under $T: inside, /tmp is a fresh tmpfs.
pyreal=$(readlink -f "$PY")
gone=$(mktemp -d /var/tmp/vrun-test-gonepy.XXXXXX)
trap 'rm -rf "$gone"' EXIT
chmod 755 "$gone"
cp "$pyreal" "$gone/$(basename "$pyreal")"
if "$gone/$(basename "$pyreal")" -c pass 2>/dev/null; then
        make_env "$T/proj/orphan" --without-pip --python "$gone/$(basename "$pyreal")"
        expect_run 0 ok "an env on a copied interpreter runs" orphan python -c 'print("ok")'
        rm -rf "$gone"
        expect_error 125 "$VRUN" orphan python -c pass
        assert_contains "$err" "interpreter" "base interpreter removed: the message says what is wrong"
        assert_contains "$err" "$gone" "base interpreter removed: the message names the missing interpreter"
else
        fail "a copy of $pyreal does not run; cannot build the removed-interpreter fixture"
fi
# A pyvenv.cfg that names no interpreter at all, and bin/python dangling.
make_env "$T/proj/noexe" --without-pip
printf 'include-system-site-packages = false\n' >"$T/proj/noexe/pyvenv.cfg"
for f in "$T/proj/noexe/bin"/python*; do
        [ -L "$f" ] && ln -sfn "$T/nowhere/python3" "$f"
done
expect_error 125 "$VRUN" noexe python -c pass
assert_contains "$err" "interpreter" "pyvenv.cfg without home/executable: the message says what is wrong"

# --dry-run never creates a missing env.
vrun_rc --dry-run --python "$PY" "$T/proj/dry" true
assert_false "--dry-run does not create a missing env" test -e "$T/proj/dry"

# ---- usage errors: 2 ----------------------------------------------------------------------
expect_error 2 "$VRUN" --frobnicate env true
assert_contains "$err" "--frobnicate" "unknown option: the message names it"
expect_error 2 "$VRUN" run --frobnicate env true
expect_error 2 "$VRUN" run --bind
expect_error 2 "$VRUN" run
expect_error 2 "$VRUN" --setenv ONLYNAME
expect_error 2 "$VRUN" --bind "$T/proj:relative/dst" env true
assert_contains "$err" "relative/dst" "a relative --bind destination: the message names it"
vrun_rc --frobnicate env touch "$T/proj/should-not-exist"
assert_false "nothing runs after a usage error" test -e "$T/proj/should-not-exist"

# ---- --bind of a missing path: 125 -----------------------------------------------------------
expect_error 125 "$VRUN" --bind ./no-such-dir env true
assert_contains "$err" "no-such-dir" "--bind of a missing relative path: the message names it"
assert_contains "$err" "No such file or directory" "--bind of a missing path: the message names the errno"
expect_error 125 "$VRUN" --ro-bind "$T/no-such-file:/tmp/f" env true
assert_contains "$err" "No such file or directory" "--ro-bind of a missing path: the message names the errno"

# ---- relative paths work ------------------------------------------------------------------
expect_run 0 "$T/proj/env" "ENV given as ./env" ./env python -c 'import sys; print(sys.prefix)'
expect_run 0 "$T/proj/env" "ENV given as env" env python -c 'import sys; print(sys.prefix)'
mkdir -p "$T/proj/sub" "$T/proj/data"
echo payload >"$T/proj/data/f.txt"
cd "$T/proj/sub" || exit 1
expect_run 0 "$T/proj/env" "ENV given as ../env" ../env python -c 'import sys; print(sys.prefix)'
cd "$T/proj" || exit 1
expect_run 0 payload "--bind ./data:/tmp/data2" --bind ./data:/tmp/data2 env cat /tmp/data2/f.txt
expect_run 0 payload "--ro-bind data (relative SRC only)" --ro-bind data env cat "$T/proj/data/f.txt"
expect_run 0 "f.txt" "--bind ./data:/tmp/d, listed" --bind ./data:/tmp/d env ls /tmp/d

# ---- paths with spaces work --------------------------------------------------------------
make_env "$T/my env"
expect_run 0 "$T/my env" "an env at '$T/my env'" "$T/my env" python -c 'import sys; print(sys.prefix)'
vrun_rc "$T/my env" pip --version
assert_eq "$rc" 0 "pip runs in an env whose path has a space (stderr: $err)"
assert_contains "$out" "$T/my env" "pip reports the env with a space"
mkdir -p "$T/dir with space" "$T/my proj"
echo spaced >"$T/dir with space/f.txt"
expect_run 0 spaced "--bind of a dir with spaces" --bind "$T/dir with space" env cat "$T/dir with space/f.txt"
expect_run 0 spaced "--bind SRC:DST with spaces" --bind "$T/dir with space:/tmp/d w s" env cat "/tmp/d w s/f.txt"
cd "$T/my proj" || exit 1
expect_run 0 "" "a working directory with a space is writable" "$T/proj/env" python -c 'open("w.txt", "w").write("x")'
assert_true "host: the file written in '$T/my proj' persists" test -f "$T/my proj/w.txt"
expect_run 0 "$T/my proj/new env" "creating a missing env whose path has a space" \
        --python "$PY" "new env" python -c 'import sys; print(sys.prefix)'

done_testing
