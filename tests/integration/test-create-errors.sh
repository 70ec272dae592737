#!/bin/bash
# Bad input to `vrun create`: exit 1 (2 for usage errors), exactly one line
# "vrun: ..." on stderr, and nothing left behind — no ENV, no temporary
# .vrun-* dir beside it.
. "$TESTS/lib.sh"

P="$T/err"
mkdir -p "$P"

# bad NAME WANT_STATUS [MESSAGE_PART] -- CREATE ARGS...: `vrun create ARGS`
# fails as it should and leaves nothing at $P/NAME.
bad() {
        local name=$1 want=$2 part=$3
        shift 4
        local what="create $*"
        expect_error "$want" "$VRUN" create "$@"
        [ -n "$part" ] && assert_contains "$err" "$part" "${what:0:200}: message"
        assert_nothing_left "$P" "$name"
}

# ---- help and usage ----------------------------------------------------------------------
expect_status 0 "$VRUN" --help
assert_contains "$out" "create" "vrun --help lists create"
expect_status 0 "$VRUN" create --help
assert_contains "$out" "--without-pip" "vrun create --help lists its options"
expect_status 0 "$VRUN" help create
assert_contains "$out" "--system-site-packages" "vrun help create"
expect_status 0 "$VRUN" --version
assert_contains "$out" "vrun " "vrun --version"

bad missing 2 "missing ENV" --
bad e 2 "--bogus" -- --bogus "$P/e"
bad e 2 "--python" -- "$P/e" --python
bad e 2 "" -- --clear --upgrade "$P/e"
bad e 2 "" -- "$P/e" "$P/f"

# ---- the interpreter -----------------------------------------------------------------------
bad e 1 "$P/no-such-python" -- --python "$P/no-such-python" "$P/e"
bad e 1 "no-such-python" -- --python no-such-python "$P/e"
bad e 1 "3.99" -- --python 3.99 "$P/e"
bad e 1 "/bin/ls" -- --python /bin/ls "$P/e"
bad e 1 "" -- --python /usr "$P/e"
printf 'not python\n' >"$P/noexec"
bad e 1 "" -- --python "$P/noexec" "$P/e"
rm -f "$P/noexec"

# Interpreters that answer vrun's query but are too old. vrun reads the
# answer as JSON, so a script that prints what Python 2.7 or 3.7 would say
# stands in for one; as root pyenv's real 2.7, 3.6 and 3.7 are tried too.
mkdir -p "$T/fake"
printf '#!/bin/sh\necho '"'"'{"version": "2.7.18", "major": 2, "minor": 7}'"'"'\n' >"$T/fake/python2.7"
printf '#!/bin/sh\necho '"'"'{"version": "3.7.16", "major": 3, "minor": 7}'"'"'\n' >"$T/fake/python3.7"
printf '#!/bin/sh\necho "Traceback (most recent call last):"\nexit 0\n' >"$T/fake/python-garbage"
printf '#!/bin/sh\nexit 3\n' >"$T/fake/python-fails"
chmod 755 "$T/fake"/*
bad e 1 "3.8" -- --python "$T/fake/python2.7" "$P/e"
bad e 1 "3.8" -- --python "$T/fake/python3.7" "$P/e"
bad e 1 "" -- --python "$T/fake/python-garbage" "$P/e"
bad e 1 "" -- --python "$T/fake/python-fails" "$P/e"
for v in 2.7 3.6 3.7; do
        for py in $(pyenv_pythons "$v"); do
                bad e 1 "3.8" -- --python "$py" "$P/e"
        done
done

# ---- where the env would go ----------------------------------------------------------------
printf 'precious\n' >"$P/file"
expect_error 1 "$VRUN" create --without-pip "$P/file"
assert_eq "$(cat "$P/file")" precious "ENV that is a file is left untouched"
assert_eq "$(find "$P" -maxdepth 1 -name '.vrun-*')" "" "ENV that is a file: temporary dir left"
bad e 1 "" -- --without-pip "$P/file/e"
assert_eq "$(cat "$P/file")" precious "ENV under a file: the file is left untouched"
rm -f "$P/file"

ln -s "$P/nowhere" "$P/dangling"
expect_error 1 "$VRUN" create --without-pip "$P/dangling"
assert_eq "$(readlink "$P/dangling")" "$P/nowhere" "ENV that is a dangling symlink is left untouched"
assert_false "a dangling symlink ENV was followed" test -e "$P/nowhere"
rm -f "$P/dangling"

long=$(printf 'x%.0s' $(seq 1 5000))
bad "$long" 1 "too long" -- --without-pip "$P/$long"
deep=$(printf 'abcdefghij/%.0s' $(seq 1 420))
bad abcdefghij 1 "too long" -- --without-pip "$P/${deep}e"
name300=$(printf 'n%.0s' $(seq 1 300))
bad "$name300" 1 "" -- --without-pip "$P/$name300"
bad e 1 "" -- --python "/$long" --without-pip "$P/e"

# Paths vrun cannot make absolute are still reported as what they are.
mkdir "$P/gone"
res=$(cd "$P/gone" && rmdir "$P/gone" && "$VRUN" create --without-pip rel 2>&1)
assert_contains "$res" "vrun: " "create in a deleted working directory fails with a message"
assert_not_contains "$res" "out of memory" "create in a deleted working directory: message"
res=$("$VRUN" create --without-pip '' 2>&1)
assert_contains "$res" "vrun: " "empty ENV fails with a message"
assert_not_contains "$res" "out of memory" "empty ENV: message"

bad "$(printf 'a\nb')" 1 "" -- --without-pip "$P/$(printf 'a\nb')"
bad e 1 "" -- --without-pip --prompt "$(printf 'a\nb')" "$P/e"

# An unwritable parent. Root writes anywhere a mode allows, so the root phase
# uses a read-only mount (in a private mount namespace); the user phase uses
# both a mode 555 dir and, in a user namespace, the read-only mount.
if [ "$VRUN_TEST_MODE" = user ]; then
        mkdir -p "$P/ro"
        chmod 555 "$P/ro"
        bad e 1 "$P/ro" -- --without-pip "$P/ro/e"
        assert_nothing_left "$P/ro" e
        bad a 1 "" -- --without-pip "$P/ro/a/b/e"
        assert_eq "$(ls -A "$P/ro")" "" "unwritable parent stays empty"
        chmod 755 "$P/ro"
        rmdir "$P/ro"
fi

# in_mount_ns SCRIPT ARGS...: runs bash SCRIPT as root of a private mount
# namespace (a user namespace too when we are not root); $1 inside is $VRUN.
in_mount_ns() {
        local script=$1
        shift
        if [ "$(id -u)" = 0 ]; then
                unshare -m --propagation private bash -c "$script" bash "$VRUN" "$@"
        else
                unshare -Urm --propagation private bash -c "$script" bash "$VRUN" "$@"
        fi
}

# in_tmpfs MOUNT_OPTIONS CREATE_ARGS...: `vrun create ARGS... $T/mnt/e` with a
# tmpfs mounted on $T/mnt; leaves vrun's status, stderr and what is left in
# the mount in $T/mnt.rc, $T/mnt.err, $T/mnt.ls.
in_tmpfs() {
        local opts=$1
        shift
        mkdir -p "$T/mnt"
        rm -f "$T/mnt.rc" "$T/mnt.err" "$T/mnt.ls"
        # shellcheck disable=SC2016
        in_mount_ns '
                vrun=$1 opts=$2 T=$3
                shift 3
                mount -t tmpfs -o "$opts" tmpfs "$T/mnt" || exit 1
                "$vrun" create "$@" "$T/mnt/e" 2>"$T/mnt.err" >/dev/null
                echo $? >"$T/mnt.rc"
                ls -A "$T/mnt" >"$T/mnt.ls"
        ' "$opts" "$T" "$@"
}

# expect_tmpfs_failure WHAT MESSAGE_PART: checks what in_tmpfs left.
expect_tmpfs_failure() {
        local what=$1 part=$2
        assert_eq "$(cat "$T/mnt.rc" 2>/dev/null)" 1 "$what: exit status (stderr: $(cat "$T/mnt.err" 2>/dev/null))"
        assert_eq "$(grep -c '' "$T/mnt.err" 2>/dev/null)" 1 "$what: lines on stderr: $(cat "$T/mnt.err" 2>/dev/null)"
        assert_contains "$(cat "$T/mnt.err" 2>/dev/null)" "vrun: " "$what: message"
        [ -n "$part" ] && assert_contains "$(cat "$T/mnt.err" 2>/dev/null)" "$part" "$what: message"
        assert_eq "$(cat "$T/mnt.ls" 2>/dev/null)" "" "$what: left behind in the mount"
}

mkdir -p "$T/mnt"
# shellcheck disable=SC2016
if in_mount_ns 'mount -t tmpfs tmpfs "$2"' "$T/mnt"; then
        # Read-only parent.
        in_tmpfs ro --without-pip
        expect_tmpfs_failure "read-only parent" ""

        # A full disk: pip does not fit in 2 MiB (the pip cache is elsewhere,
        # so the copy into the env is what fails).
        in_tmpfs size=2m
        expect_tmpfs_failure "full disk (2 MiB tmpfs, with pip)" "space"

        # Out of inodes before the tree is even complete.
        in_tmpfs nr_inodes=6 --without-pip
        expect_tmpfs_failure "out of inodes (--without-pip)" "space"

        # The same mount with room to spare: the create works (so the
        # failures above are the disk's).
        in_tmpfs size=64m
        assert_eq "$(cat "$T/mnt.rc" 2>/dev/null)" 0 "create with pip into a 64 MiB tmpfs: $(cat "$T/mnt.err" 2>/dev/null)"
        assert_eq "$(cat "$T/mnt.ls" 2>/dev/null)" e "create into a 64 MiB tmpfs leaves just the env"
elif [ "$VRUN_TEST_MODE" = user ]; then
        echo "note: no user namespaces here; read-only and full-disk parents are checked in the root phase only" >&2
else
        fail "cannot mount a tmpfs in a private mount namespace as root"
fi

rmdir "$T/mnt"
assert_eq "$(ls -A "$P")" "" "nothing at all left in the parent"

done_testing
