#!/bin/bash
# What a new user hits on everyday paths (issue 14, group A): parallel first
# runs of a missing env all succeed with the winner's env; a mistyped verb is
# a usage error with a did-you-mean and creates nothing, while auto-creation
# says one line; create on an existing env refreshes it (keeping packages),
# refuses another Python version and paths holding ':'; --python 3.X.Y and
# python3.X; SRC:SRC for a path with ':'; the usage errors of item 13; the
# leftovers of killed processes are swept.
. "$TESTS/lib.sh"

P="$T/ev"
mkdir -p "$P"
cd "$P" || exit 1
make_env "$P/base" --without-pip

# ---- 1: parallel first runs of a missing env -------------------------------------------------
for i in $(seq 12); do
        ("$VRUN" --python "$PY" "$P/new" python -c 'import sys; print(sys.prefix)' >"$P/par.$i.out" 2>"$P/par.$i.err"
                echo $? >"$P/par.$i.rc") &
done
wait
bad=0
for i in $(seq 12); do
        [ "$(cat "$P/par.$i.rc")" = 0 ] && [ "$(cat "$P/par.$i.out")" = "$P/new" ] || {
                bad=$((bad + 1))
                fail "parallel first run $i: status $(cat "$P/par.$i.rc"): $(cat "$P/par.$i.err")"
        }
        # auto-creation says one line on stderr, and nothing else is said
        assert_eq "$(cat "$P/par.$i.err")" "vrun: venv '$P/new' does not exist: creating it with --python $PY" \
                "parallel first run $i: the one line of auto-creation"
done
assert_eq "$bad" 0 "parallel first runs of a missing env all succeed"
assert_eq "$(find "$P" -maxdepth 1 -name '.vrun-*')" "" "parallel first runs: no temporary dir left"
rm -f "$P"/par.*

# ---- 3: a mistyped verb ----------------------------------------------------------------------
for typo in crate craete shel prve inof; do
        expect_error 2 "$VRUN" "$typo" .venv
        assert_contains "$err" "did you mean" "'vrun $typo .venv': did-you-mean"
        assert_false "'vrun $typo .venv' created an env" test -e "$P/$typo"
done
assert_contains "$err" "'info'" "'vrun inof': suggests info"
# An existing env of that name is used, and an explicit run creates one.
expect_status 0 "$VRUN" run --python "$PY" crate true
assert_true "'vrun run crate' creates the env it names" test -f "$P/crate/pyvenv.cfg"
expect_status 0 "$VRUN" crate true
# Names that are not close to a verb still create an env, saying so.
vrun_rc --python "$PY" myenv true
assert_eq "$rc" 0 "vrun myenv true: status"
assert_eq "$err" "vrun: venv 'myenv' does not exist: creating it with --python $PY" "auto-creation says one line"

# ---- 4: create on an existing env ------------------------------------------------------------
E="$P/ex"
make_env "$E" --without-pip
echo keep >"$E/lib/python3.11/site-packages/kept.py"
expect_status 0 "$VRUN" create --python "$PY" "$E"
assert_eq "$(cat "$E/lib/python3.11/site-packages/kept.py" 2>/dev/null)" keep "create on an existing env keeps its packages"
assert_true "create on an existing --without-pip env seeds pip, as venv does" test -d "$E/lib/python3.11/site-packages/pip"
for py in $(pyenv_pythons 3.12); do
        expect_error 1 "$VRUN" create --python "$py" "$E"
        assert_contains "$err" "Python 3.11" "--python 3.12 on a 3.11 env: names the env's version"
        assert_contains "$err" "--clear" "--python 3.12 on a 3.11 env: says what to do"
        assert_eq "$(cfg_get "$E" version | cut -d. -f1-2)" 3.11 "--python 3.12 on a 3.11 env: env untouched"
done
for py in $(pyenv_pythons 3.12); do
        full=$("$py" -c 'import platform; print(platform.python_version())')
        expect_status 0 "$VRUN" create --without-pip --python "$full" "$P/full"
        assert_eq "$(cfg_get "$P/full" version)" "$full" "--python $full"
        expect_status 0 "$VRUN" create --without-pip --python python3.12 "$P/named"
        assert_eq "$(cfg_get "$P/named" version | cut -d. -f1-2)" 3.12 "--python python3.12"
done
expect_error 1 "$VRUN" create --without-pip --python 3.11.99 "$P/nine"
assert_nothing_left "$P" nine
v=$("$PY" -c 'import platform; print(platform.python_version())')
expect_status 0 "$VRUN" create --without-pip --python "$v" "$P/debfull"
expect_status 0 "$VRUN" create --without-pip --python "python3.11" "$P/debnamed"
expect_error 1 "$VRUN" create --without-pip --python "$PY" "$P/co:lon"
assert_contains "$err" "':'" "a path holding ':' is refused"
assert_nothing_left "$P" "co:lon"
expect_status 125 "$VRUN" --python "$PY" "$P/co:lon2" true
assert_contains "$out" "':'" "auto-creation of a path holding ':' is refused"
assert_nothing_left "$P" "co:lon2"

# ---- 7: SRC:SRC for a path holding ':' -------------------------------------------------------
mkdir -p "$P/da:ta"
expect_run 0 "" "--bind SRC:SRC with a ':'" --bind "$P/da:ta:$P/da:ta" "$P/base" \
        sh -c 'echo x >"$1/written"' sh "$P/da:ta"
assert_eq "$(cat "$P/da:ta/written" 2>/dev/null)" x "--bind SRC:SRC with a ':': writable at its own path"
mkdir -p "$P/dst"
expect_run 0 "x" "--ro-bind SRC:DST with a ':' in SRC" --ro-bind "$P/da:ta:$P/dst" "$P/base" cat "$P/dst/written"

# ---- 12: prove labels for a base whose site-packages is inside its stdlib dir -----------------
for py in $(pyenv_pythons 3.12); do
        make_env "$P/p12" --without-pip --python "$py"
        vrun_rc prove --module pip "$P/p12"
        assert_not_contains "$out" "standard library" "prove --module pip on pyenv's 3.12: not the stdlib"
        assert_contains "$out" "pip is hidden" "prove --module pip on pyenv's 3.12: hidden"
        vrun_rc prove "$P/p12"
        assert_not_contains "$out" "of the 0 " "prove on pyenv's 3.12: its site-packages is sampled"
done

# ---- 13: errors ------------------------------------------------------------------------------
expect_error 2 "$VRUN" -dash
assert_contains "$err" "'-d'" "vrun -dash names the option"
assert_not_contains "$err" "$VRUN" "vrun -dash does not name the binary"
vrun_rc
assert_eq "$rc" 2 "bare vrun: status"
assert_contains "$err" "Usage:" "bare vrun: usage on stderr"
expect_error 2 "$VRUN" help bogus
expect_status 0 "$VRUN" help create
out=$("$VRUN" --help)
assert_contains "$out" "vrun profiles" "--help lists profiles"
expect_error 1 "$VRUN" create "$(printf 'a\nb\033[31mc')"
expect_error 1 "$VRUN" info "$(printf 'a\nb\033[31mc')"
assert_contains "$err" 'a\nb\x1b[31mc' "a newline or ESC in a path is shown escaped"
expect_error 125 "$VRUN" prove "$(printf 'x\ny')"
assert_contains "$err" 'x\ny' "a newline in ENV is shown escaped"
# no HOME and no XDG_CACHE_HOME: pip cannot be seeded, and vrun says why
expect_error 1 env -u HOME -u XDG_CACHE_HOME XDG_STATE_HOME="$P/state" "$VRUN" create --python "$PY" "$P/nohome"
assert_contains "$err" "HOME" "create without HOME: the message says what is missing"
expect_error 2 "$VRUN" --profile /tmp "$P/base" true
printf '{"extends": "default", "binds": [{"dst": "/x", "mode": "rw"}]}' >"$P/nosrc.json"
expect_error 2 "$VRUN" --profile "$P/nosrc.json" "$P/base" true
expect_error 2 "$VRUN" create --python "" "$P/empty"
expect_error 2 "$VRUN" --python "" "$P/base" true
expect_error 2 "$VRUN" --setenv 1X y "$P/base" true
expect_error 2 "$VRUN" --setenv A-B y "$P/base" true
expect_error 2 "$VRUN" --setenv PYTHONPATH /x "$P/base" true
expect_error 2 "$VRUN" --unsetenv PATH "$P/base" true
expect_run 0 "y" "--setenv _A1 y" --setenv _A1 y "$P/base" sh -c 'echo $_A1'
# an unreadable base interpreter is not "gone"
mkdir -p "$P/pybin"
cp "$(readlink -f "$PY")" "$P/pybin/python3"
PY="$P/pybin/python3" make_env "$P/ubase" --without-pip
chmod 000 "$P/pybin/python3"
expect_error 125 "$VRUN" "$P/ubase" true
assert_not_contains "$err" "gone" "an unreadable base is not reported as gone"
assert_contains "$err" "Permission denied" "an unreadable base: the reason"
chmod 755 "$P/pybin/python3"
# --dry-run on a missing env shows what would be created, and creates nothing
vrun_rc --dry-run --python "$PY" "$P/dry" python -c pass
assert_eq "$rc" 0 "--dry-run of a missing env: status (stderr: $err)"
assert_contains "$out" "would create" "--dry-run of a missing env: 'would create'"
assert_contains "$out" "exec:" "--dry-run of a missing env: the plan"
assert_nothing_left "$P" dry
# binds that the sandbox would undo are refused
for o in "--tmpfs /usr" "--bind /usr" "--tmpfs $(dirname "$(dirname "$(readlink -f "$PY")")")"; do
        expect_error 2 "$VRUN" $o "$P/base" true
        assert_contains "$err" "read-only" "$o is refused, saying why"
done
expect_status 0 "$VRUN" --ro-bind /usr "$P/base" true

# ---- 14: leftovers of killed processes are swept ---------------------------------------------
# A dead create's tree (pid gone, nobody holds its lock), a dead unpack in
# the wheel cache, a dead vrun shell's startup files.
mkdir -p "$P/sw/.vrun-create-999999999-1/bin"
# A dead create whose pid now belongs to another process (pid reuse; this
# shell's own pid stands for it): unlocked and untouched for minutes.
mkdir -p "$P/sw/.vrun-create-$$-2/bin"
touch -d '10 minutes ago' "$P/sw/.vrun-create-$$-2"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/vrun"
mkdir -p "$cache/wheels/.tmp-dead1/pip"
touch -d '2 hours ago' "$cache/wheels/.tmp-dead1"
mkdir -p "$P/tmpdir/vrun-shell-999999999-abcdef"
touch -d '2 hours ago' "$P/tmpdir/vrun-shell-999999999-abcdef"
expect_status 0 "$VRUN" create --python "$PY" "$P/sw/env"
assert_false "a dead create's tree is swept" test -e "$P/sw/.vrun-create-999999999-1"
assert_false "a dead create's tree is swept when its pid was reused" test -e "$P/sw/.vrun-create-$$-2"
assert_false "a dead unpack in the wheel cache is swept" test -e "$cache/wheels/.tmp-dead1"
TMPDIR="$P/tmpdir" SHELL=/bin/sh "$VRUN" shell "$P/base" </dev/null >/dev/null 2>&1
if command -v script >/dev/null; then
        TMPDIR="$P/tmpdir" SHELL=/bin/sh script -qec "$VRUN shell $P/base" /dev/null </dev/null >/dev/null 2>&1
        assert_false "a dead vrun shell's startup files are swept" test -e "$P/tmpdir/vrun-shell-999999999-abcdef"
fi
# kill -9 of the whole process group during create leaves nothing behind
for i in $(seq 15); do
        setsid bash -c 'exec "$0" create --python "$1" "$2"' "$VRUN" "$PY" "$P/k9/e$i" >/dev/null 2>&1 &
        pid=$!
        sleep "0.0$((RANDOM % 10))"
        kill -9 -- "-$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
done
sleep 1
assert_eq "$(find "$P/k9" -maxdepth 1 -name '.vrun-*' 2>/dev/null)" "" "kill -9 of create's process group: no temporary tree left"

done_testing
