# Sourced by every integration test. Provides assertions and fixtures.
# Environment (set by runner.sh): VRUN (binary), TESTS (this dir), T (scratch
# dir owned by the test's account), VRUN_TEST_MODE (root|user).
set -u
cd "$T" || exit 1

_failures=0
_checks=0

fail() {
        echo "FAIL: $*" >&2
        _failures=$((_failures + 1))
}

ok() { _checks=$((_checks + 1)); }

# skip REASON: the test cannot run on this machine (runner turns it into a
# failure in CI).
skip() {
        echo "SKIP: $*" >&2
        exit 77
}

assert_eq() { # actual expected message
        _checks=$((_checks + 1))
        if [ "$1" != "$2" ]; then
                fail "$3: got '$1', expected '$2'"
        fi
}

assert_contains() { # haystack needle message
        _checks=$((_checks + 1))
        case "$1" in
        *"$2"*) ;;
        *) fail "$3: '$2' not in: $1" ;;
        esac
}

assert_not_contains() {
        _checks=$((_checks + 1))
        case "$1" in
        *"$2"*) fail "$3: '$2' unexpectedly in: $1" ;;
        esac
}

# expect_status WANT CMD...: runs CMD, captures stdout+stderr in $out.
expect_status() {
        local want=$1
        shift
        out=$("$@" 2>&1)
        local rc=$?
        _checks=$((_checks + 1))
        if [ "$rc" != "$want" ]; then
                fail "'$*' exited $rc, expected $want; output: $out"
        fi
        return 0
}

done_testing() {
        echo "$_checks checks, $_failures failed ($VRUN_TEST_MODE)"
        [ "$_failures" = 0 ]
        exit $?
}

# The interpreters to test with: Debian's, plus pyenv's when this account can
# reach them.
PY=/usr/bin/python3
pyenv_pythons() {
        local root=${PYENV_ROOT:-$HOME/.pyenv} v
        for v in "$@"; do
                local d
                d=$(ls -d "$root"/versions/"$v".* 2>/dev/null | sort -V | tail -n 1)
                if [ -n "$d" ] && [ -x "$d/bin/python$v" ]; then
                        echo "$d/bin/python$v"
                fi
        done
}

# make_wheel DIR NAME VERSION [BODY]: writes DIR/NAME-VERSION-py3-none-any.whl
# whose module NAME has __version__ = VERSION (plus BODY).
make_wheel() {
        "$PY" - "$@" <<'PYEOF'
import base64, hashlib, sys, zipfile
d, name, version = sys.argv[1:4]
body = sys.argv[4] if len(sys.argv) > 4 else ""
dist = "%s-%s" % (name, version)
files = {
    "%s/__init__.py" % name: "__version__ = %r\n%s\n" % (version, body),
    "%s.dist-info/METADATA" % dist: "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version),
    "%s.dist-info/WHEEL" % dist: "Wheel-Version: 1.0\nGenerator: vrun-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
for f, c in files.items():
    h = base64.urlsafe_b64encode(hashlib.sha256(c.encode()).digest()).rstrip(b"=").decode()
    record.append("%s,sha256=%s,%d" % (f, h, len(c.encode())))
record.append("%s.dist-info/RECORD,," % dist)
files["%s.dist-info/RECORD" % dist] = "\n".join(record) + "\n"
with zipfile.ZipFile("%s/%s-py3-none-any.whl" % (d, dist), "w", zipfile.ZIP_DEFLATED) as z:
    for f, c in files.items():
        z.writestr(f, c)
PYEOF
}

# ---- helpers for the `vrun create` tests -------------------------------------------------

assert_true() { # message CMD...: CMD must succeed
        local msg=$1
        shift
        _checks=$((_checks + 1))
        "$@" >/dev/null 2>&1 || fail "$msg"
        return 0
}

assert_false() { # message CMD...: CMD must fail
        local msg=$1
        shift
        _checks=$((_checks + 1))
        if "$@" >/dev/null 2>&1; then
                fail "$msg"
        fi
        return 0
}

# create ARGS...: `vrun create ARGS...`, which must succeed; its output is in $out.
create() {
        out=$("$VRUN" create "$@" 2>&1)
        local rc=$?
        _checks=$((_checks + 1))
        if [ "$rc" != 0 ]; then
                fail "vrun create $* exited $rc: $out"
                return 1
        fi
        return 0
}

# expect_error WANT CMD...: CMD must exit WANT and print exactly one line on
# stderr, starting "vrun: ". Its stderr is left in $err, stdout in $out.
expect_error() {
        local want=$1
        shift
        local ef what="$*"
        what=${what:0:160}
        ef=$(mktemp "$T/.stderr.XXXXXX")
        out=$("$@" 2>"$ef")
        local rc=$?
        err=$(cat "$ef")
        rm -f "$ef"
        _checks=$((_checks + 1))
        if [ "$rc" != "$want" ]; then
                fail "'$what' exited $rc, expected $want; stderr: $err"
        fi
        _checks=$((_checks + 1))
        local lines
        lines=$(printf '%s' "$err" | grep -c '')
        if [ "$lines" != 1 ]; then
                fail "'$what' printed $lines lines on stderr, expected 1: $err"
        fi
        _checks=$((_checks + 1))
        case "$err" in
        "vrun: "*) ;;
        *) fail "'$what': stderr does not start with 'vrun: ': $err" ;;
        esac
        return 0
}

# assert_nothing_left PARENT NAME: neither PARENT/NAME nor a temporary
# PARENT/.vrun-* exists.
assert_nothing_left() {
        local parent=$1 name=$2 left
        _checks=$((_checks + 1))
        if [ -e "$parent/$name" ] || [ -L "$parent/$name" ]; then
                fail "$parent/$name was left behind"
        fi
        left=$(find "$parent" -mindepth 1 -maxdepth 1 -name '.vrun-*' 2>/dev/null)
        _checks=$((_checks + 1))
        if [ -n "$left" ]; then
                fail "temporary dirs left in $parent: $left"
        fi
}

# tree_listing DIR: "TYPE relative/path" for everything under DIR (types as
# find's %y: d, f, l), sorted; compiled bytecode is left out.
tree_listing() {
        (cd "$1" && find . -mindepth 1 -name __pycache__ -prune -o -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort)
}

# cfg_get ENV KEY: the value of KEY in ENV/pyvenv.cfg (empty when missing).
cfg_get() {
        sed -n "s/^$2[[:space:]]*=[[:space:]]*//p" "$1/pyvenv.cfg" | tail -n 1
}

# cfg_keys ENV: the keys of ENV/pyvenv.cfg, sorted, one a line.
cfg_keys() {
        sed -n 's/^\([A-Za-z0-9_-]*\)[[:space:]]*=.*/\1/p' "$1/pyvenv.cfg" | LC_ALL=C sort
}

# interp_cache_files: the interpreter cache entries under $XDG_CACHE_HOME.
interp_cache_files() {
        ls -1 "${XDG_CACHE_HOME:-$HOME/.cache}"/vrun/interp/*.json 2>/dev/null
}

# json_ok FILE: FILE holds one valid JSON value.
json_ok() {
        "$PY" -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null
}

# ---- helpers for the `vrun run` tests ----------------------------------------------------

# make_env DIR [CREATE OPTIONS...]: `vrun create --python $PY` DIR (pip seeded
# unless --without-pip is given). Without an env nothing else can be checked,
# so a failure ends the test.
make_env() {
        local dir=$1 o
        shift
        if ! o=$("$VRUN" create --python "$PY" "$@" "$dir" 2>&1); then
                fail "vrun create --python $PY $* $dir: $o"
                done_testing
        fi
}

# vrun_rc ARGS...: runs `vrun ARGS...`; stdout in $out, stderr in $err, exit
# status in $rc. Asserts nothing.
vrun_rc() {
        local ef
        ef=$(mktemp "$T/.stderr.XXXXXX")
        out=$("$VRUN" "$@" 2>"$ef")
        rc=$?
        err=$(cat "$ef")
        rm -f "$ef"
}

# expect_run WANT_STATUS WANT_STDOUT MESSAGE ARGS...: `vrun ARGS...` must exit
# WANT_STATUS and print exactly WANT_STDOUT.
expect_run() {
        local want=$1 want_out=$2 msg=$3
        shift 3
        vrun_rc "$@"
        assert_eq "$rc" "$want" "$msg: exit status (stderr: ${err:0:2000})"
        assert_eq "$out" "$want_out" "$msg: output"
}

# need_bcrypt: the host's Debian python must import bcrypt (CI installs
# python3-bcrypt); otherwise the proof has nothing to hide.
need_bcrypt() {
        "$PY" -c 'import bcrypt' >/dev/null 2>&1 ||
                skip "$PY cannot import bcrypt on the host (apt-get install python3-bcrypt)"
}

# wait_for_file FILE [TENTHS]: waits until FILE exists (default 10 s).
wait_for_file() {
        local i n=${2:-100}
        for ((i = 0; i < n; i++)); do
                [ -e "$1" ] && return 0
                sleep 0.1
        done
        return 1
}

# marker_procs MARKER: how many processes have MARKER in their command line.
marker_procs() {
        pgrep -c -f -- "$1" 2>/dev/null || true
}

# wait_marker_gone MARKER [TENTHS]: waits until no process mentions MARKER
# (default 2 s).
wait_marker_gone() {
        local i n=${2:-20}
        for ((i = 0; i < n; i++)); do
                [ "$(marker_procs "$1")" = 0 ] && return 0
                sleep 0.1
        done
        return 1
}

# assert_masked_inside ENV DIR WHAT: inside a run in ENV, DIR is empty and
# cannot be written, and nothing written there reaches the host.
assert_masked_inside() {
        local env=$1 dir=$2 what=$3
        expect_status 0 "$VRUN" "$env" python -c '
import os, sys
d = sys.argv[1]
print("entries:", sorted(os.listdir(d)) if os.path.isdir(d) else "absent")
try:
    open(os.path.join(d, "planted"), "w")
    print("write: ok")
except OSError as e:
    print("write:", e.strerror)
' "$dir"
        assert_contains "$out" "entries: []" "$what looks empty inside"
        assert_contains "$out" "write: Read-only file system" "$what cannot be written inside"
        _checks=$((_checks + 1))
        [ ! -e "$dir/planted" ] || fail "a file planted in $what reached the host"
}

# ---- helpers for the profile tests --------------------------------------------------------

# make_wheel_from DIR SRC NAME VERSION: packs every file under SRC (modules,
# packages, .pth files; paths relative to SRC) into
# DIR/NAME-VERSION-py3-none-any.whl, with its dist-info and RECORD.
make_wheel_from() {
        "$PY" - "$@" <<'PYEOF'
import base64, hashlib, os, sys, zipfile
d, src, name, version = sys.argv[1:5]
dist = "%s-%s" % (name, version)
files = {}
for root, dirs, names in os.walk(src):
    dirs.sort()
    for n in sorted(names):
        p = os.path.join(root, n)
        with open(p, "rb") as f:
            files[os.path.relpath(p, src)] = f.read()
files["%s.dist-info/METADATA" % dist] = ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)).encode()
files["%s.dist-info/WHEEL" % dist] = b"Wheel-Version: 1.0\nGenerator: vrun-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
record = []
for f, c in files.items():
    h = base64.urlsafe_b64encode(hashlib.sha256(c).digest()).rstrip(b"=").decode()
    record.append("%s,sha256=%s,%d" % (f, h, len(c)))
record.append("%s.dist-info/RECORD,," % dist)
files["%s.dist-info/RECORD" % dist] = ("\n".join(record) + "\n").encode()
with zipfile.ZipFile("%s/%s-py3-none-any.whl" % (d, dist), "w", zipfile.ZIP_DEFLATED) as z:
    for f, c in files.items():
        z.writestr(f, c)
PYEOF
}

# make_sdist DIR SRC NAME VERSION: DIR/NAME-VERSION.tar.gz holding SRC's files
# (SRC has the setup.py) under NAME-VERSION/, plus a PKG-INFO.
make_sdist() {
        "$PY" - "$@" <<'PYEOF'
import io, os, sys, tarfile
d, src, name, version = sys.argv[1:5]
top = "%s-%s" % (name, version)
with tarfile.open("%s/%s.tar.gz" % (d, top), "w:gz") as t:
    def add(arcname, data):
        info = tarfile.TarInfo("%s/%s" % (top, arcname))
        info.size = len(data)
        info.mode = 0o644
        t.addfile(info, io.BytesIO(data))
    add("PKG-INFO", ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)).encode())
    for root, dirs, names in os.walk(src):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                add(os.path.relpath(p, src), f.read())
PYEOF
}

# tree_state PATH...: what a host check compares before and after: for each
# PATH, a sorted listing (type, path, and for everything but directories size
# and symlink target) and the sha256 of the regular files at most two levels
# down (where a dropped .pth, sitecustomize.py or ~/.ssh/authorized_keys
# lands), or "missing PATH". __pycache__ is left out: the host's own
# interpreters may compile bytecode meanwhile.
tree_state() {
        local p
        for p in "$@"; do
                if [ ! -e "$p" ] && [ ! -L "$p" ]; then
                        echo "missing $p"
                        continue
                fi
                find "$p" -name __pycache__ -prune -o -type d -printf 'd %p\n' -o -printf '%y %p %s %l\n' |
                        LC_ALL=C sort
                find "$p" -maxdepth 2 -name __pycache__ -prune -o -type f -print0 | xargs -0r sha256sum |
                        LC_ALL=C sort -k 2
        done
}

# env_state ENV: ENV's listing (type, mode, size, path, link target) and the
# sha256 of every regular file, bytecode included.
env_state() {
        (cd "$1" && find . -printf '%y %m %s %p %l\n' | LC_ALL=C sort &&
                find . -type f -print0 | xargs -0r sha256sum | LC_ALL=C sort -k 2)
}

# assert_same_state BEFORE AFTER MESSAGE: the two state files are identical
# (their sha256 sums agree); on failure the difference is shown.
assert_same_state() {
        _checks=$((_checks + 1))
        local a b
        a=$(sha256sum <"$1")
        b=$(sha256sum <"$2")
        if [ "$a" != "$b" ]; then
                fail "$3: $(diff "$1" "$2" | head -n 20)"
        fi
}

# start_listener LOG SECONDS: a recorder on 127.0.0.1 outside any sandbox,
# TCP and UDP on one port. Each TCP connection appends "TCP <what it sent>"
# to LOG, each datagram "UDP <payload>" (and gets it echoed back, so a sender
# knows it arrived). It exits after SECONDS. Sets $listener_port and
# $listener_pid (the caller kills it when done).
start_listener() {
        local log=$1 secs=$2 portfile
        portfile=$(mktemp "$T/.port.XXXXXX")
        rm -f "$portfile"
        : >"$log"
        "$PY" - "$portfile" "$log" "$secs" <<'PYEOF' &
import os, select, socket, sys, time
portfile, log, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
for _ in range(50):
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        udp.bind(("127.0.0.1", port))
        break
    except OSError:
        tcp.close()
        udp.close()
tcp.listen(64)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % port)
os.rename(portfile + ".tmp", portfile)

def record(line):
    with open(log, "a") as f:
        f.write(line + "\n")

end = time.monotonic() + secs
while time.monotonic() < end:
    r, _, _ = select.select([tcp, udp], [], [], 0.5)
    if tcp in r:
        c, _ = tcp.accept()
        c.settimeout(2)
        data = b""
        try:
            while len(data) < 65536:
                b = c.recv(4096)
                if not b:
                    break
                data += b
        except OSError:
            pass
        c.close()
        record("TCP " + "".join(chr(b) if 32 <= b < 127 else " " for b in data).strip())
    if udp in r:
        data, peer = udp.recvfrom(4096)
        record("UDP " + "".join(chr(b) if 32 < b < 127 else "." for b in data))
        udp.sendto(data, peer)
PYEOF
        listener_pid=$!
        if ! wait_for_file "$portfile" 50; then
                fail "the listener did not start"
                kill "$listener_pid" 2>/dev/null
                done_testing
        fi
        listener_port=$(cat "$portfile")
        rm -f "$portfile"
}
