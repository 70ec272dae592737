#!/bin/bash
# What a new user hits in the sandbox (issue 14, group B): the working
# directory is ephemeral under install and untrusted (writes succeed inside,
# vanish at exit, the host tree stays byte-for-byte as it was, and the
# upper layer is size-limited), and the profile key cwd chooses rw, ro,
# ephemeral or hidden; --system-site-packages is honoured inside and said by
# info and prove; --chdir DIR is the working directory and the caller's is
# not exposed; untrusted --share-net allows inet sockets, saying so; pip gets
# a writable cache of the env's own; --home ro|tmpfs|rw; proxy and CA
# variables pass under default and install; inside a terminal run tty names
# the terminal, and the hostname resolves.
. "$TESTS/lib.sh"

need_bcrypt
P="$T/sb"
mkdir -p "$P/proj/src" "$P/elsewhere"
make_env "$P/env"
cd "$P/proj" || exit 1
echo 'print("hi")' >src/app.py
echo notes >README
chmod 640 README

# ---- the working directory: ephemeral under install and untrusted -----------------------------
for prof in install untrusted; do
        tree_state "$P/proj" >"$P/before"
        stat -c '%n %a %s %Y' "$P/proj" "$P/proj/README" "$P/proj/src/app.py" >>"$P/before"
        expect_run 0 "notes
new
build/x" "$prof: writes in the working directory succeed inside" --profile "$prof" "$P/env" \
                sh -c 'echo new >>README && mkdir build && echo y >build/x && rm src/app.py && cat README && ls build/* '
        tree_state "$P/proj" >"$P/after"
        stat -c '%n %a %s %Y' "$P/proj" "$P/proj/README" "$P/proj/src/app.py" >>"$P/after"
        assert_same_state "$P/before" "$P/after" "$prof: the host's working directory is unchanged afterwards"
done
# the upper layer is limited like the other tmpfs
printf '{"extends": "install", "tmp_size": "4M"}' >"$P/small.json"
vrun_rc --profile "$P/small.json" "$P/env" sh -c 'head -c 8000000 /dev/zero >big'
assert_eq "$rc" 1 "an ephemeral working directory is size-limited (stderr: $err)"
assert_false "the big file did not reach the host" test -e "$P/proj/big"
# the profile key chooses
for mode in rw ro ephemeral hidden; do
        printf '{"extends": "default", "cwd": "%s"}' "$mode" >"$P/cwd-$mode.json"
done
expect_run 0 "ok" "cwd rw: a write lands" --profile "$P/cwd-rw.json" "$P/env" sh -c 'echo x >rw-file && echo ok'
assert_true "cwd rw: the file is on the host" test -f "$P/proj/rw-file"
rm -f "$P/proj/rw-file"
vrun_rc --profile "$P/cwd-ro.json" "$P/env" sh -c 'echo x >ro-file'
assert_false "cwd ro: a write fails (status $rc)" test "$rc" = 0
assert_false "cwd ro: nothing on the host" test -e "$P/proj/ro-file"
expect_run 0 "x" "cwd ephemeral: a write is read back" --profile "$P/cwd-ephemeral.json" "$P/env" \
        sh -c 'echo x >e-file && cat e-file'
assert_false "cwd ephemeral: nothing on the host" test -e "$P/proj/e-file"
expect_run 0 "0" "cwd hidden: the directory is empty inside" --profile "$P/cwd-hidden.json" "$P/env" \
        sh -c "ls -A '$P/proj' | wc -l"
out=$("$VRUN" profiles --json install)
assert_contains "$out" '"cwd": "ephemeral"' "install's cwd is ephemeral"

# ---- 5: --system-site-packages -----------------------------------------------------------------
make_env "$P/ssp" --without-pip --system-site-packages
expect_run 0 "/usr/lib/python3/dist-packages/bcrypt" "--system-site-packages: the base's packages import inside" \
        "$P/ssp" python -c 'import bcrypt, os; print(os.path.dirname(bcrypt.__file__))'
out=$("$VRUN" info "$P/ssp" 2>&1)
assert_contains "$out" "include-system-site-packages = true" "info says the env sees the system's packages"
vrun_rc prove "$P/ssp"
assert_eq "$rc" 0 "prove of a --system-site-packages env holds (stderr: $err)"
assert_contains "$out" "system site packages: visible, as the env asks" "prove says the env sees the system's packages"
vrun_rc "$P/env" python -c 'import bcrypt'
assert_eq "$rc" 1 "without --system-site-packages bcrypt stays hidden"

# ---- 6: --chdir ---------------------------------------------------------------------------------
expect_run 0 "$P/elsewhere" "--chdir DIR is the working directory" --chdir "$P/elsewhere" "$P/env" \
        sh -c 'echo x >made-here && pwd'
assert_true "--chdir DIR: writes land in DIR" test -f "$P/elsewhere/made-here"
vrun_rc --chdir "$P/elsewhere" "$P/env" sh -c "echo x >'$P/proj/leak'"
assert_false "--chdir DIR: the caller's working directory is not writable" test -e "$P/proj/leak"

# ---- 8: untrusted --share-net ---------------------------------------------------------------------
# Honoured, saying so: the inet families come with the network.
vrun_rc --profile untrusted --share-net "$P/env" python -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
print("inet ok")'
assert_eq "$rc" 0 "untrusted --share-net: an inet socket opens (stderr: $err)"
assert_eq "$out" "inet ok" "untrusted --share-net: the socket"
assert_contains "$err" "inet and inet6 sockets are allowed too" "untrusted --share-net: a clear line says so"
vrun_rc --profile untrusted "$P/env" python -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM)'
assert_false "untrusted without --share-net: no inet socket" test "$rc" = 0

# ---- 9: a cache of the env's own, --home -------------------------------------------------------
expect_run 0 "$P/env/.cache/pip" "pip's cache is the env's own" "$P/env" pip cache dir
vrun_rc "$P/env" pip --version
assert_not_contains "$err" "sudo -H" "pip does not warn about its cache"
expect_run 0 "ok" "the cache is writable" "$P/env" python -c \
        'import os; d = os.environ["XDG_CACHE_HOME"]; os.makedirs(d, exist_ok=True); open(d + "/t", "w").write("x"); print("ok")'
expect_run 0 "ok" "--home rw: the home is writable" --home rw "$P/env" sh -c 'echo x >"$HOME/home-file" && echo ok'
assert_true "--home rw: the write is on the host" test -f "$HOME/home-file"
vrun_rc --home ro "$P/env" sh -c 'echo x >"$HOME/home-ro"'
assert_false "--home ro: a write fails (status $rc)" test "$rc" = 0
assert_false "--home ro: nothing on the host" test -e "$HOME/home-ro"
expect_run 0 "0" "--home tmpfs: an empty home" --home tmpfs "$P/env" sh -c 'ls -A "$HOME" | wc -l'
expect_error 2 "$VRUN" --home nope "$P/env" true

# ---- 10: proxy and CA variables ------------------------------------------------------------------
vars='https_proxy=http://proxy.example:3128 HTTP_PROXY=http://proxy.example:3128 no_proxy=localhost SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt SSL_CERT_DIR=/etc/ssl/certs'
show='echo "$https_proxy|$HTTP_PROXY|$no_proxy|$SSL_CERT_FILE|$REQUESTS_CA_BUNDLE|$SSL_CERT_DIR"'
want="http://proxy.example:3128|http://proxy.example:3128|localhost|/etc/ssl/certs/ca-certificates.crt|/etc/ssl/certs/ca-certificates.crt|/etc/ssl/certs"
for prof in default install; do
        out=$(env $vars "$VRUN" --profile "$prof" "$P/env" sh -c "$show" 2>&1)
        assert_eq "$out" "$want" "$prof passes proxy and CA variables"
done

# ---- 11: the terminal's name, the hostname ---------------------------------------------------------
out=$("$PY" "$TESTS/pty-drive.py" "$VRUN" "$P/env" sh -c 'tty; python -c "import os; print(os.ttyname(0))"' 2>&1 | tr -d '\r')
assert_not_contains "$out" "not a tty" "tty inside a terminal run names the terminal"
assert_contains "$out" "/dev/" "os.ttyname(0) inside a terminal run"
for prof in default untrusted; do
        expect_run 0 "ok" "$prof: the hostname resolves" --profile "$prof" "$P/env" python -c \
                'import socket; socket.gethostbyname(socket.gethostname()); print("ok")'
done

done_testing
