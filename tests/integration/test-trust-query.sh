# Promise 20 of docs/security.md, second half: vrun asks the base
# interpreter for its facts (and prove asks it where modules are) inside a
# sandbox, so even a hostile interpreter (one an env named on its first use)
# can at most lie in its answer: it cannot write the host, reach the network
# or see the host's hostname.
. "$TESTS/lib.sh"

outside=/var/tmp/vrun-test-query-$$-$RANDOM
rm -f "$outside"
# The host's loopback: a sandbox without network has its own.
start_listener "$T/listener.log" 60
# A "python" that answers vrun's query through the real one, naming itself
# as the executable, but first tries to act on the host, and puts the
# hostname it sees and what its attempts did into the answer's
# "implementation" field.
cat >"$T/fakepy" <<EOS
#!/bin/sh
w=\$( (echo ran >"$outside") 2>/dev/null && echo wrote || echo nowrite)
h=\$( (echo ran >"$HOME/query-marker") 2>/dev/null && echo wrote || echo nowrite)
n=\$(/usr/bin/python3 -c 'import socket
try:
    socket.create_connection(("127.0.0.1", $listener_port), timeout=2).sendall(b"query"); print("net")
except OSError:
    print("nonet")' 2>/dev/null)
if [ "\$1" != -E ]; then exec /usr/bin/python3 "\$@"; fi
/usr/bin/python3 "\$@" | sed -e "s/\"implementation\": \"cpython\"/\"implementation\": \"\$(hostname)-\$w-\$h-\$n\"/" \
        -e "s|\"executable\": \"[^\"]*\"|\"executable\": \"$T/fakepy\"|"
EOS
chmod +x "$T/fakepy"

expect_status 0 "$VRUN" create --without-pip --python "$T/fakepy" fq
_checks=$((_checks + 1))
if [ -e "$outside" ]; then
        fail "the interpreter query wrote $outside on the host"
        rm -f "$outside"
fi
_checks=$((_checks + 1))
[ ! -e "$HOME/query-marker" ] || fail "the interpreter query wrote into \$HOME"
impl=$(sed -n 's/.*"implementation": "\(.*\)".*/\1/p' $(interp_cache_files) | grep -v '^cpython$' | head -n 1)
assert_eq "$impl" "vrun-nowrite-nowrite-nonet" "the query saw the sandbox's hostname, could not write, had no network"
assert_eq "$(cat "$T/listener.log")" "" "nothing of the query reached a listener on the host's loopback"
kill "$listener_pid" 2>/dev/null

# (The payload of a run under the default profile shares the host's network:
# below, only what vrun itself runs to learn facts is checked.)

# An env vrun never saw that names such an interpreter: its first use asks it
# only inside the sandbox, and prove's question about modules too.
"$PY" -m venv --without-pip pv || fail "python -m venv"
sed -i "s|^executable = .*|executable = $T/fakepy|; s|^home = .*|home = $T|" pv/pyvenv.cfg
ln -sf "$T/fakepy" pv/bin/python3
rm -rf "${XDG_CACHE_HOME:?}/vrun/interp"
expect_status 0 "$VRUN" pv true
vrun_rc prove pv
_checks=$((_checks + 1))
if [ -e "$outside" ]; then
        fail "the first use of an env ran its interpreter on the host"
        rm -f "$outside"
fi

done_testing
