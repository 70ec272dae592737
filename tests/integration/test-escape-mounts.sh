# Issue 10, docs/security.md "Mount sources are opened, never followed" and
# the two promises beside it. Each attack takes two steps: a program run in
# the env (under `default` or `install`) plants something in the env, the
# working directory or a profile file kept there; then the next run, under
# `default`, `install`, `untrusted` or `--ephemeral`, must not trust it.
#   1. site-packages replaced by a symlink to the host's dist-packages: the
#      next run must not bind it (it would import the host's bcrypt), and one
#      to a directory outside the view must not become writable inside.
#   2. a --bind source inside the working directory replaced by a symlink.
#   3. an env reached through a symlink the user made still works (run,
#      shell without a terminal, prove).
#   4. a profile file in the working directory cannot be rewritten, replaced
#      or removed by the run it configures (nor a file it extends).
#   5. started in $HOME (or above it), `untrusted` and `install` still show
#      an empty home.
#   6. a --chdir directory in the working directory replaced by a symlink
#      (to a stand-in for ~/.ssh): the next run with --chdir must refuse it,
#      neither writing (default) nor reading (install) where it points.
. "$TESTS/lib.sh"

need_bcrypt
pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
mkdir -p "$T/work" "$T/outside"
cd "$T/work" || exit 1

# Where the base interpreter looks for third-party code inside, and a write
# into each of those and the env's own site-packages: what a payload that
# wants out would try.
write_everywhere='
import os, site, sys
dirs = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
dirs.append(os.path.join(os.environ["VIRTUAL_ENV"], "lib", "python%d.%d" % sys.version_info[:2], "site-packages"))
for d in dirs:
    try:
        with open(os.path.join(d, "pwned"), "w") as f:
            f.write("x")
        print("wrote", d)
    except OSError as e:
        pass
print("done")
'
# Never written into: a failing check must not leave files in the host's
# dist-packages.
import_bcrypt='
try:
    import bcrypt
    print("IMPORTED bcrypt from", bcrypt.__file__)
except ImportError:
    print("no bcrypt")
'

# plant ENV TARGET: a default run replaces ENV's site-packages with a symlink to TARGET.
plant() {
        vrun_rc "$1" /bin/sh -c "rm -rf \"\$VIRTUAL_ENV/lib/python$pyver/site-packages\" &&
                ln -s '$2' \"\$VIRTUAL_ENV/lib/python$pyver/site-packages\""
        assert_eq "$rc" 0 "plant a symlink in $1 (stderr: $err)"
        [ -L "$1/lib/python$pyver/site-packages" ] || fail "the symlink was not planted in $1"
}

n=0
for victim in "" "--profile install" "--profile untrusted" "--ephemeral"; do
        n=$((n + 1))
        # shellcheck disable=SC2086 # $victim is a list of options
        {
                make_env "e$n" --without-pip
                plant "e$n" /usr/lib/python3/dist-packages
                vrun_rc $victim "e$n" /usr/bin/python3 -c "$import_bcrypt"
                assert_not_contains "$out" "IMPORTED" "[${victim:-default}] the planted symlink brought back the host's bcrypt"
                assert_eq "$rc" 125 "[${victim:-default}] a symlinked site-packages is refused (stdout: $out)"
                assert_contains "$err" "site-packages" "[${victim:-default}] the refusal names site-packages"
                assert_contains "$err" "symlink" "[${victim:-default}] the refusal says why"

                make_env "w$n" --without-pip
                plant "w$n" "$T/outside"
                vrun_rc $victim "w$n" /usr/bin/python3 -c "$write_everywhere"
                assert_eq "$rc" 125 "[${victim:-default}] a symlink to a dir outside the view is refused (stdout: $out)"
                [ -z "$(ls -A "$T/outside")" ] || fail "[${victim:-default}] the payload wrote outside: $(ls -A "$T/outside")"
                rm -rf "${T:?}/outside/"*
        }
done

# The same planted by an `install` run.
make_env ei --without-pip
vrun_rc --profile install ei /bin/sh -c "rm -rf \"\$VIRTUAL_ENV/lib/python$pyver/site-packages\" &&
        ln -s /usr/lib/python3/dist-packages \"\$VIRTUAL_ENV/lib/python$pyver/site-packages\""
assert_eq "$rc" 0 "install run plants a symlink (stderr: $err)"
vrun_rc ei /usr/bin/python3 -c "$import_bcrypt"
assert_not_contains "$out" "IMPORTED" "[install then default] the host's bcrypt came back"
assert_eq "$rc" 125 "[install then default] refused"

# 2. A --bind source in the working directory, swapped for a symlink.
make_env b --without-pip
mkdir data
vrun_rc --bind data:/tmp/data b /bin/sh -c 'rmdir "$PWD/data" && ln -s '"$T/outside"' "$PWD/data"'
assert_eq "$rc" 0 "plant: data becomes a symlink (stderr: $err)"
for victim in "" "--profile install" "--profile untrusted"; do
        # shellcheck disable=SC2086
        vrun_rc $victim --bind data:/tmp/data b /bin/sh -c 'echo x > /tmp/data/pwned && echo wrote'
        assert_eq "$rc" 125 "[${victim:-default}] a symlinked --bind source in the cwd is refused (stdout: $out)"
        assert_contains "$err" "symlink" "[${victim:-default}] the refusal says why"
        [ ! -e "$T/outside/pwned" ] || fail "[${victim:-default}] --bind followed a planted symlink out of the cwd"
        rm -f "$T/outside/pwned"
done
rm -f data

# 3. An env reached through a symlink the user made.
ln -s b link
expect_run 0 "$T/work/b" "run through a symlinked env" link /bin/sh -c 'echo "$VIRTUAL_ENV"'
expect_run 0 "$T/work/b" "untrusted run through a symlinked env" --profile untrusted link /bin/sh -c 'echo "$VIRTUAL_ENV"'
vrun_rc shell link </dev/null
assert_eq "$rc" 0 "shell through a symlinked env (stderr: $err)"
vrun_rc prove link
assert_eq "$rc" 0 "prove through a symlinked env (stderr: $err; stdout: ${out:0:2000})"

# 4. A profile file in the working directory.
cat >base.json <<'EOF'
{ "extends": "default", "network": "none" }
EOF
cat >ci.json <<'EOF'
{ "extends": "./base.json", "cwd": "rw" }
EOF
sum_before=$(sha256sum ci.json base.json)
vrun_rc --profile ./ci.json b /bin/sh -c '
for f in ci.json base.json; do
        echo "{\"extends\": \"default\"}" > "$f" 2>/dev/null && echo "rewrote $f"
        echo "{\"extends\": \"default\"}" > "$f.new" && mv -f "$f.new" "$f" 2>/dev/null && echo "replaced $f"
        rm -f "$f.new"
        rm -f "$f" 2>/dev/null && echo "removed $f"
done
echo scratch > scratch && echo "cwd writable"'
assert_eq "$rc" 0 "the run under ./ci.json (stderr: $err)"
assert_contains "$out" "cwd writable" "the profile's writable cwd is writable"
assert_not_contains "$out" "rewrote" "a profile file was rewritten by the run it configures"
assert_not_contains "$out" "replaced" "a profile file was replaced by the run it configures"
assert_not_contains "$out" "removed" "a profile file was removed by the run it configures"
assert_eq "$(sha256sum ci.json base.json 2>&1)" "$sum_before" "the profile files are unchanged"
rm -f ci.json.new base.json.new scratch

# The same with the profile inside the env, which `default` leaves writable.
cp base.json b/p.json
sum_before=$(sha256sum b/p.json)
vrun_rc --profile "$T/work/b/p.json" b /bin/sh -c 'echo "{}" > "$VIRTUAL_ENV/p.json" && echo rewrote'
assert_not_contains "$out" "rewrote" "a profile inside the env was rewritten by its run"
assert_eq "$(sha256sum b/p.json)" "$sum_before" "the profile inside the env is unchanged"

# 5. The empty home stays empty, started at $HOME or above it.
mkdir -p "$HOME/.ssh"
echo secret >"$HOME/.ssh/id_test"
for prof in untrusted install; do
        for dir in "$HOME" "$(dirname "$HOME")"; do
                (cd "$dir" && "$VRUN" --profile "$prof" "$T/work/b" /bin/sh -c 'ls -A "$HOME"; echo "rc=$?"') \
                        >"$T/home.out" 2>"$T/home.err"
                assert_eq "$(cat "$T/home.out")" "rc=0" "[$prof, cwd $dir] the empty home is empty ($(cat "$T/home.err"))"
        done
done

# 6. --chdir DIR where DIR (or a directory on its way) became a symlink.
mkdir -p "$T/work/sub" "$T/ssh"
echo host-secret >"$T/ssh/id_test"
vrun_rc b /bin/sh -c 'rmdir "$PWD/sub" && ln -s '"$T/ssh"' "$PWD/sub" && ln -s '"$T"' "$PWD/up"'
assert_eq "$rc" 0 "plant: sub becomes a symlink (stderr: $err)"
for victim in "" "--profile install"; do
        for dir in sub "$T/work/sub" up/ssh; do
                what="[${victim:-default}] --chdir $dir"
                # shellcheck disable=SC2086
                vrun_rc $victim --chdir "$dir" b /bin/sh -c 'cat id_test; echo x > pwned && echo wrote'
                assert_eq "$rc" 125 "$what through a planted symlink is refused (stdout: $out)"
                assert_not_contains "$out" "host-secret" "$what: the program read through the planted symlink"
                assert_contains "$err" "symlink" "$what: the refusal says why"
                assert_contains "$err" "$T/work" "$what: the refusal names the path"
                [ "$(printf '%s' "$err" | grep -c '')" = 1 ] || fail "$what: more than one line: $err"
                [ ! -e "$T/ssh/pwned" ] || fail "$what: the program wrote through the planted symlink"
                rm -f "$T/ssh/pwned"
        done
done
rm -f sub up
mkdir sub
expect_run 0 "$T/work/sub" "--chdir into a plain directory still works" --chdir sub b pwd

done_testing
