#!/bin/bash
# Host sockets unreachable where the code is not yours (issue 11,
# docs/security.md "Reach"): a listener on the host offers an abstract unix
# socket, a path socket under /run and one in $XDG_RUNTIME_DIR (here under
# the working directory, which every profile shows). Under `install` and
# `untrusted` a program inside reaches none of them and the listener sees no
# connection; under `default` (your own code, as bubblewrap keeps them) all
# three are reachable, as docs/security.md says, and `vrun prove` lists them.
. "$TESTS/lib.sh"

make_env "$T/env" --without-pip
tag="vrun-reach-$$-$RANDOM"
mkdir -p "$T/xdg"
export XDG_RUNTIME_DIR="$T/xdg"
run_sock=/run/lock/$tag.sock
[ -w /run/lock ] || skip "/run/lock is not writable here: no place for a host socket under /run"

"$PY" - "$tag" "$run_sock" "$XDG_RUNTIME_DIR/bus" "$T/listener.log" "$T/listener.ready" <<'PYEOF' &
import os, select, socket, sys, time
tag, run_sock, xdg_sock, log, ready = sys.argv[1:6]
socks = {}
for name, addr in (("abstract", "\0" + tag), ("run", run_sock), ("xdg", xdg_sock)):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(addr)
    if name != "abstract":
        os.chmod(addr, 0o777)
    s.listen(16)
    socks[s] = name
open(ready, "w").close()
end = time.monotonic() + 240
while time.monotonic() < end and not os.path.exists(ready + ".stop"):
    r, _, _ = select.select(list(socks), [], [], 0.2)
    for s in r:
        c, _ = s.accept()
        # What the client sends names it: other programs on the machine
        # (another test's `vrun prove` probing every abstract socket) may
        # connect too, and only this test's own attempts count.
        c.settimeout(2)
        try:
            data = c.recv(64).decode("ascii", "replace")
        except OSError:
            data = ""
        with open(log, "a") as f:
            f.write("%s:%s\n" % (socks[s], data))
        c.close()
for a in (run_sock, xdg_sock):
    os.unlink(a)
PYEOF
listener=$!
wait_for_file "$T/listener.ready" || {
        fail "the host listener did not start"
        done_testing
}

cat >"$T/connect.py" <<'PYEOF'
import errno, socket, sys
tag, run_sock, xdg_sock, token = sys.argv[1:5]
res = []
for name, addr in (("abstract", "\0" + tag), ("run", run_sock), ("xdg", xdg_sock)):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(addr)
        s.sendall(token.encode())
        res.append(name + ":reached")
    except OSError as e:
        res.append(name + ":" + errno.errorcode.get(e.errno, str(e.errno)))
    s.close()
print(" ".join(res))
PYEOF

for profile in install untrusted default; do
        : >"$T/listener.log"
        vrun_rc --profile "$profile" "$T/env" python "$T/connect.py" "$tag" "$run_sock" "$XDG_RUNTIME_DIR/bus" "probe-$profile"
        assert_eq "$rc" 0 "$profile: the connect attempts ran (stderr: $err)"
        sleep 0.3
        if [ "$profile" = default ]; then
                assert_eq "$out" "abstract:reached run:reached xdg:reached" "default keeps the host's sockets (documented)"
                continue
        fi
        assert_not_contains "$out" "reached" "$profile: no host socket is reachable"
        assert_eq "$(grep -c ":probe-$profile\$" "$T/listener.log")" 0 "$profile: the host listener saw no connection from the program (log: $(tr '\n' ' ' <"$T/listener.log"))"
done

# Binding an abstract name inside works (it is the sandbox's own), and a
# program connects to it.
expect_run 0 "inside:ok" "install: abstract sockets of its own still work" --profile install "$T/env" python -c '
import socket
a = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); a.bind("\0own-" + str(id(a))); a.listen(1)
b = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); b.connect(a.getsockname())
print("inside:ok")'

# vrun prove says which host sockets are reachable.
vrun_rc prove "$T/env"
assert_contains "$out" "host sockets" "prove (default) has a host sockets line"
assert_contains "$out" "@$tag" "prove (default) names the reachable abstract socket"
assert_contains "$out" "$run_sock" "prove (default) names the reachable socket under /run"
vrun_rc prove --profile install "$T/env"
assert_eq "$rc" 0 "prove --profile install holds (output: $out)"
assert_contains "$out" "host sockets" "prove (install) has a host sockets line"
assert_not_contains "$out" "@$tag" "prove (install): the abstract socket is not reachable"

touch "$T/listener.ready.stop"
wait "$listener"
done_testing
