#!/bin/bash
# Runs one integration test as MODE (root | user) against the vrun binary in
# $VRUN. "user" runs it as an unprivileged account (created on demand when we
# are root; ourselves when we are not). Both phases get a private scratch dir,
# HOME, XDG cache and XDG state, readable by the account that runs the test.
#
# usage: runner.sh MODE TEST.sh
# Exit 77 means "cannot run here"; under CI=true or VRUN_TESTS_MUST_WORK=1
# a skip is turned into a failure.
set -u
mode=$1
test=$2
here=$(cd "$(dirname "$0")" && pwd)
must_work=0
if [ "${CI:-}" = true ] || [ "${VRUN_TESTS_MUST_WORK:-0}" = 1 ]; then
        must_work=1
fi
: "${VRUN:?VRUN must name the vrun binary}"

finish() {
        local rc=$1
        if [ "$rc" = 77 ] && [ "$must_work" = 1 ]; then
                echo "runner: test skipped, but skips are failures here (CI/VRUN_TESTS_MUST_WORK)" >&2
                rc=1
        fi
        exit "$rc"
}

test_user=vrun-test
# A world-traversable copy of the binary and the tests: the source tree may
# live under /root, which the unprivileged account cannot enter.
stage=$(mktemp -d /tmp/vrun-it.XXXXXX)
chmod 755 "$stage"
cleanup() { rm -rf "$stage"; }
trap cleanup EXIT
cp "$VRUN" "$stage/vrun"
cp -r "$here" "$stage/it"
# Tests that need the source tree (install, completions) get a copy without
# .git and build dirs in $SRC, when meson passes VRUN_SOURCE_ROOT.
if [ -n "${VRUN_SOURCE_ROOT:-}" ]; then
        mkdir "$stage/src"
        tar -C "$VRUN_SOURCE_ROOT" --exclude=./.git --exclude='./build*' -cf - . | tar -C "$stage/src" -xf - ||
                { echo "runner: cannot copy the source tree $VRUN_SOURCE_ROOT" >&2; exit 1; }
fi
chmod -R a+rX "$stage"

scratch="$stage/scratch"
mkdir "$scratch"

common_env=(
        "VRUN=$stage/vrun"
        "TESTS=$stage/it"
        "T=$scratch"
        "XDG_CACHE_HOME=$scratch/cache"
        "XDG_STATE_HOME=$scratch/state"
        "PATH=${VRUN_TEST_PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}"
        "LANG=C.UTF-8"
        "CI=${CI:-}"
        "VRUN_TESTS_MUST_WORK=$must_work"
        "VRUN_TEST_MODE=$mode"
)
if [ -n "${VRUN_SOURCE_ROOT:-}" ]; then
        common_env+=("SRC=$stage/src")
fi

case "$mode" in
root)
        if [ "$(id -u)" != 0 ]; then
                echo "runner: not root; the root phase cannot run here" >&2
                finish 77
        fi
        mkdir -p "$scratch/home"
        env -i "${common_env[@]}" "HOME=$scratch/home" "USER=root" \
                "PYENV_ROOT=${PYENV_ROOT:-/root/.pyenv}" \
                bash "$stage/it/$test"
        finish $?
        ;;
user)
        if [ "$(id -u)" != 0 ]; then
                mkdir -p "$scratch/home"
                env -i "${common_env[@]}" "HOME=$scratch/home" "USER=$(id -un)" bash "$stage/it/$test"
                finish $?
        fi
        # Tests run in parallel: another runner may be creating the account.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
                id "$test_user" >/dev/null 2>&1 && break
                useradd --create-home --shell /bin/bash "$test_user" 2>/dev/null || sleep 0.5
        done
        id "$test_user" >/dev/null 2>&1 || { echo "runner: cannot create user $test_user" >&2; finish 77; }
        chown -R "$test_user:" "$scratch"
        mkdir -p "$scratch/home"
        chown "$test_user:" "$scratch/home"
        env -i "${common_env[@]}" "HOME=$scratch/home" "USER=$test_user" \
                setpriv --reuid="$test_user" --regid="$test_user" --init-groups \
                bash "$stage/it/$test"
        finish $?
        ;;
*)
        echo "runner: unknown mode $mode" >&2
        exit 2
        ;;
esac
