# Promise 20 of docs/security.md: vrun executes nothing an env names. The
# base interpreter of an env is vrun's record (in its state dir, masked
# inside), not what pyvenv.cfg or bin/python3 say: a program that rewrites
# them (issue 10, repro 2) gets the next run, info and prove refused, and the
# interpreter it planted never runs. Two steps each: plant from inside, then
# the next vrun on the host.
. "$TESTS/lib.sh"

state=${XDG_STATE_HOME:-$HOME/.local/state}/vrun
# evil records where it ran; inside a sandbox the hostname is "vrun".
evil_body='#!/bin/sh
hostname >>"'"$T"'/marker"
exec /usr/bin/python3 "$@"'

# plant DIR: inside, writes DIR/evil (DIR empty: the env itself), points pyvenv.cfg at it (executable and
# home) and relinks bin/python3 to it. $VIRTUAL_ENV is the env.
plant_script='d=${1:-$VIRTUAL_ENV}; printf "%s\n" "$2" >"$d/evil" && chmod +x "$d/evil" &&
sed -i "s|^executable = .*|executable = $d/evil|; s|^home = .*|home = $d|" "$VIRTUAL_ENV/pyvenv.cfg" &&
ln -sf "$d/evil" "$VIRTUAL_ENV/bin/python3" && echo planted'

check_marker() { # what
        _checks=$((_checks + 1))
        if [ -e "$T/marker" ]; then
                fail "$1: the planted interpreter ran (hostname: $(tr '\n' ' ' <"$T/marker"))"
                rm -f "$T/marker"
        fi
}

# refused WHAT ENV [RUN OPTIONS]: the next run, info and prove all refuse ENV
# in one line naming pyvenv.cfg, and evil never runs.
refused() {
        local what=$1 env=$2
        shift 2
        expect_error 125 "$VRUN" "$@" "$env" true
        assert_contains "$err" "refusing venv '$env': it no longer agrees with vrun's record" "$what: run refused"
        assert_contains "$err" ": pyvenv.cfg names executable" "$what: the refusal names the change"
        assert_contains "$err" "vrun create --upgrade $env" "$what: the refusal says how to re-trust"
        expect_error 1 "$VRUN" info "$env"
        assert_contains "$err" "refusing venv" "$what: info refused"
        vrun_rc prove "$env"
        assert_contains "$err" "refusing venv" "$what: prove refused"
        _checks=$((_checks + 1))
        [ "$rc" != 0 ] || fail "$what: prove exited 0"
        check_marker "$what"
}

# --- default: exactly issue 10's repro 2 (evil in the working directory) --------------------
make_env e --without-pip
make_env e2 --without-pip
[ -n "$(ls "$state/envs/" 2>/dev/null)" ] || fail "create recorded nothing in $state/envs"
mkdir w && cd w || exit 1
vrun_rc ../e sh -c "$plant_script" sh "$PWD" "$evil_body"
assert_contains "$out" planted "default: the payload could rewrite pyvenv.cfg (the attack is real)"
cd "$T" || exit 1
refused "default" e
# The record and the state dir are out of reach inside.
assert_masked_inside e2 "$state" "vrun's state dir"

# create --upgrade, run by the user, restores the recorded base and trusts it again.
expect_status 0 "$VRUN" create --upgrade e
assert_eq "$(cfg_get e executable)" "$(cfg_get e2 executable)" "upgrade wrote the recorded base into pyvenv.cfg"
assert_eq "$(readlink e/bin/python3)" "$(readlink e2/bin/python3)" "upgrade relinked bin/python3 to the recorded base"
expect_run 0 ok "after create --upgrade the env runs again" e python -c 'print("ok")'
check_marker "after upgrade"

# --- a relinked bin/python3 alone is refused too ---------------------------------------------
make_env e3 --without-pip
vrun_rc e3 sh -c 'ln -sf /bin/sh "$VIRTUAL_ENV/bin/python3" && echo relinked'
assert_contains "$out" relinked "the payload could relink bin/python3"
expect_error 125 "$VRUN" e3 true
assert_contains "$err" "bin/python3 is a link to /bin/sh" "a relinked bin/python3 is named"

# --- install: the working directory is read-only, so evil goes into the env ------------------
make_env ei --without-pip
vrun_rc --profile install ei sh -c "$plant_script" sh "" "$evil_body"
assert_contains "$out" planted "install: the payload could rewrite pyvenv.cfg"
refused "install" ei --profile install

# --- untrusted and --ephemeral: the plant does not survive, nothing runs ---------------------
for how in "--profile untrusted" "--ephemeral"; do
        name=e-$(echo "$how" | tr -dc a-z)
        make_env "$name" --without-pip
        # shellcheck disable=SC2086
        vrun_rc $how "$name" sh -c "$plant_script" sh "$T" "$evil_body"
        # The plant succeeds inside (the env is writable there); only then
        # does what follows show that it does not survive.
        assert_contains "$out" planted "$how: the payload could rewrite pyvenv.cfg inside"
        # shellcheck disable=SC2086
        expect_status 0 "$VRUN" $how "$name" true
        expect_status 0 "$VRUN" info "$name"
        expect_status 0 "$VRUN" prove "$name"
        check_marker "$how"
        assert_not_contains "$(cat "$name/pyvenv.cfg")" evil "$how: pyvenv.cfg is unchanged on the host"
done

# --- the env's directory replaced under its name ---------------------------------------------
mkdir d
make_env d/e --without-pip
vrun_rc d/e sh -c 'mv "$0/d" "$0/d.old" && mkdir -p "$0/d/e/bin" &&
cp "$0/d.old/e/pyvenv.cfg" "$0/d/e/" && '"$plant_script" "$T" "$T" "$evil_body"
assert_contains "$out" planted "the payload could put a new env in the old one's place"
expect_error 125 "$VRUN" d/e true
assert_contains "$err" "is not the directory vrun recorded" "a replaced env directory is refused"
check_marker "replaced env"

# --- an env made by python -m venv is recorded on its first use ------------------------------
"$PY" -m venv --without-pip pv || fail "python -m venv"
expect_run 0 "$(realpath "$T/pv")" "a python -m venv env runs on first use" pv python -c 'import sys; print(sys.prefix)'
vrun_rc pv sh -c "$plant_script" sh "$T" "$evil_body"
refused "python -m venv env" pv

done_testing
