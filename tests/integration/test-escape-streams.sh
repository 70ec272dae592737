# Issue 10, docs/security.md "Standard streams give no way out": what vrun's
# caller connects to fds 0-2 becomes the payload's, and an fd is a handle on
# the host's tree, outside the sandbox's view. Under every profile:
#   - a directory as stdin, stdout or stderr is refused (exit 125, one line)
#     before anything runs: through it, openat(0, ...) or
#     /proc/self/fd/0/NAME would create files in the host's directory;
#   - an O_PATH fd and anything but a terminal, pipe, socket, regular file
#     or a harmless character device (/dev/null, zero, full, random,
#     urandom) is refused the same way;
#   - a regular file given as read-only stdin stays read-only: reopening it
#     through /proc/self/fd/0 for writing must not reach the host's file,
#     and the program still reads its content;
#   - a regular file given write-only as stdin is refused;
#   - a regular file given as stdout or stderr (`>> log`) cannot be read
#     through /proc/self/fd/1 or /proc/self/fd/2: what it held before (a
#     log with secrets, outside every mount of the sandbox) stays unread,
#     while the program's output still lands there, in order, complete by
#     the time vrun exits, with the program's exit status, and no larger
#     than the profile's fsize;
#   - pipes, /dev/null and regular files keep working.
. "$TESTS/lib.sh"

make_env "$T/e" --without-pip
mkdir -p "$T/work" "$T/outside" "$T/files"
cd "$T/work" || exit 1

for prof in default install untrusted; do
        popt=(--profile "$prof")
        # A directory as a standard stream: refused, nothing created through it.
        for fd in 0 1 2; do
                # With stderr a directory, vrun's own message has nowhere to go.
                bash -c 'f=$1; shift; "$0" "$@" 2>"$f" '"$fd"'<"'"$T/outside"'"' "$VRUN" "$T/stderr.err" "${popt[@]}" "$T/e" \
                        /bin/sh -c "echo x > /proc/self/fd/$fd/escaped-$fd; echo x > /proc/self/fd/$fd/../outside-escaped-$fd" \
                        >/dev/null
                assert_eq "$?" 125 "[$prof] fd $fd: a directory is refused"
                if [ "$fd" != 2 ]; then
                        assert_eq "$(grep -c '' "$T/stderr.err")" 1 "[$prof] fd $fd: one line on stderr"
                        assert_contains "$(cat "$T/stderr.err")" "vrun: " "[$prof] fd $fd: vrun's message"
                        assert_contains "$(cat "$T/stderr.err")" "is a directory" "[$prof] fd $fd: the refusal says what is wrong"
                fi
                [ -z "$(ls -A "$T/outside")" ] || fail "[$prof] fd $fd: the payload wrote through a directory fd: $(ls -A "$T/outside")"
                [ ! -e "$T/outside-escaped-$fd" ] || fail "[$prof] fd $fd: the payload wrote next to the directory"
                rm -rf "${T:?}/outside/"* "$T/outside-escaped-$fd"
        done

        # An O_PATH fd on a file the payload could otherwise not write.
        echo original >"$T/files/target"
        "$PY" - "$VRUN" "$T/files/target" "$prof" "$T/e" >"$T/opath.out" 2>"$T/opath.err" <<'PYEOF'
import os, subprocess, sys
vrun, target, prof, env = sys.argv[1:5]
fd = os.open(target, os.O_PATH | os.O_CLOEXEC)
r = subprocess.run([vrun, "--profile", prof, env, "/bin/sh", "-c",
                    "echo pwned > /proc/self/fd/0"], stdin=fd)
print("rc", r.returncode)
PYEOF
        assert_eq "$(cat "$T/opath.out")" "rc 125" "[$prof] an O_PATH stdin is refused ($(cat "$T/opath.err"))"
        assert_eq "$(cat "$T/files/target")" "original" "[$prof] the payload wrote through an O_PATH stdin"

        # A read-only regular file as stdin: readable, never writable.
        echo original >"$T/files/data"
        vrun_rc "${popt[@]}" "$T/e" /bin/sh -c \
                'cat; echo pwned > /proc/self/fd/0 && echo reopened-for-write' <"$T/files/data"
        assert_contains "$out" "original" "[$prof] the program reads a regular-file stdin"
        assert_eq "$(cat "$T/files/data")" "original" "[$prof] the payload rewrote the file given as stdin"

        # What keeps working: a pipe, /dev/null, a file for output.
        expect_run 0 "piped" "[$prof] a pipe as stdin" "${popt[@]}" "$T/e" /bin/cat <<<"piped"
        expect_run 0 "" "[$prof] /dev/null as stdin" "${popt[@]}" "$T/e" /bin/cat </dev/null
        "$VRUN" "${popt[@]}" "$T/e" /bin/sh -c 'echo to-file' >"$T/work/out.txt" 2>"$T/work/err.txt"
        assert_eq "$?" 0 "[$prof] a regular file as stdout (stderr: $(cat "$T/work/err.txt"))"
        assert_eq "$(cat "$T/work/out.txt")" "to-file" "[$prof] the program wrote its stdout to the file"
        expect_run 0 "" "[$prof] /dev/zero as stdin" "${popt[@]}" "$T/e" /bin/sh -c 'head -c 1 >/dev/null' </dev/zero

        # A regular file as stdout or stderr, holding a secret: written to,
        # never read from.
        for fd in 1 2; do
                other=$((3 - fd))
                printf 'old-secret\n' >"$T/files/log"
                bash -c 'exec "$@" '"$fd"'>>"'"$T/files/log"'" '"$other"'>"'"$T/files/other"'"' _ \
                        "$VRUN" "${popt[@]}" "$T/e" python3 -c '
import os, sys
fd = int(sys.argv[1])
try:
    r = os.open("/proc/self/fd/%d" % fd, os.O_RDONLY | os.O_NONBLOCK)
    try:
        data = os.read(r, 65536)
    except BlockingIOError:
        data = b""
    os.write(3 - fd, b"read:" + data)
except OSError as e:
    os.write(3 - fd, b"refused:" + str(e).encode())
os.write(fd, b"new\n")
sys.exit(7)' "$fd"
                assert_eq "$?" 7 "[$prof] fd $fd a file: the program's exit status"
                assert_not_contains "$(cat "$T/files/other")" "old-secret" \
                        "[$prof] fd $fd: the program read the file given as fd $fd through /proc/self/fd/$fd"
                assert_eq "$(cat "$T/files/log")" "$(printf 'old-secret\nnew')" "[$prof] fd $fd: the output lands in the file"
        done
        # A file given write-only as stdin: the same secret, refused.
        printf 'old-secret\n' >"$T/files/log"
        "$VRUN" "${popt[@]}" "$T/e" /bin/sh -c 'cat /proc/self/fd/0' 0>>"$T/files/log" >"$T/files/other" 2>"$T/files/err"
        assert_eq "$?" 125 "[$prof] a write-only stdin that could be reopened for reading is refused"
        assert_not_contains "$(cat "$T/files/other")" "old-secret" "[$prof] the program read a write-only stdin"
        assert_contains "$(cat "$T/files/err")" "write-only" "[$prof] the refusal says why"

        # Both to one file: in order, and all of it before vrun exits.
        printf 'old-secret\n' >"$T/files/log"
        "$VRUN" "${popt[@]}" "$T/e" /bin/sh -c 'echo a; echo b >&2; echo c; head -c 3000000 /dev/zero | tr "\0" x; echo; echo d >&2; exit 3' \
                >>"$T/files/log" 2>&1
        assert_eq "$?" 3 "[$prof] >>log 2>&1: the program's exit status"
        assert_eq "$(head -n 4 "$T/files/log")" "$(printf 'old-secret\na\nb\nc')" "[$prof] >>log 2>&1: in order"
        assert_eq "$(tail -n 1 "$T/files/log")" "d" "[$prof] >>log 2>&1: the last line is there when vrun exits"
        assert_eq "$(wc -c <"$T/files/log")" 3000020 "[$prof] >>log 2>&1: every byte is there when vrun exits"
done

# The pump writes a file no larger than the profile lets the program make one.
printf '{ "extends": "default", "rlimits": { "fsize": "64K" } }\n' >"$T/fsize.json"
: >"$T/files/big"
"$VRUN" --profile "$T/fsize.json" "$T/e" /bin/sh -c 'head -c 1000000 /dev/zero' >"$T/files/big" 2>"$T/files/big.err"
assert_eq "$(wc -c <"$T/files/big")" 65536 "a stdout file grows no larger than the profile's fsize ($(cat "$T/files/big.err"))"

done_testing
