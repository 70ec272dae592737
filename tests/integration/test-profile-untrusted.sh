#!/bin/bash
# What a program sees under the `untrusted` profile: an empty home, a
# read-only working directory, a root with only a few entries, a /tmp of
# 256 MiB, resource limits, loopback only and no sockets but AF_UNIX, an env
# whose writes vanish, and a timeout that stops it. And `--ephemeral`, which
# gives the default profile such an env. The harness puts $HOME ($T/home)
# under the working directory ($T): the home must stay empty all the same.
. "$TESTS/lib.sh"

make_env "$T/env"
pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
site=$T/env/lib/python$pyver/site-packages

mkdir -p "$HOME/.ssh"
echo "vrun-untrusted-secret-$$" >"$HOME/.ssh/id_rsa"
echo 'export EDITOR=vi' >"$HOME/.bashrc"
echo "data in the working directory" >"$T/data.txt"

# ---- home, working directory, root ------------------------------------------------------------
expect_run 0 "$HOME
[]
wrote" "untrusted: \$HOME is an empty tmpfs, writable inside" --profile untrusted "$T/env" python -c '
import os
h = os.environ["HOME"]
print(h)
print(sorted(os.listdir(h)))
with open(os.path.join(h, ".bashrc"), "w") as f:
    f.write("evil\n")
print("wrote")'
assert_eq "$(cat "$HOME/.bashrc")" "export EDITOR=vi" "untrusted: the host's ~/.bashrc is unchanged"
assert_eq "$(ls -A "$HOME" | LC_ALL=C sort | tr '\n' ' ')" ".bashrc .ssh " "untrusted: nothing new in the host's home"

expect_run 0 "$T
data in the working directory
wrote new.txt
wrote data.txt" "untrusted: the working directory is ephemeral: writes succeed inside" --profile untrusted "$T/env" python -c '
import errno, os
print(os.getcwd())
print(open("data.txt").read().strip())
for p in ("new.txt", "data.txt"):
    try:
        open(p, "a").close()
        print("wrote", p)
    except OSError as e:
        print(errno.errorcode[e.errno])'
assert_false "untrusted: nothing was created in the working directory" test -e "$T/new.txt"
assert_eq "$(cat "$T/data.txt")" "data in the working directory" "untrusted: the working directory's file is unchanged"

# The root: the system directories the host has, /etc, /tmp, /dev, /proc,
# and the first component of the env, the working directory and the home
# (all under /tmp here).
want_root="dev etc proc tmp"
for d in usr bin sbin lib lib32 lib64 libx32; do
        if [ -e "/$d" ] || [ -L "/$d" ]; then
                want_root="$want_root $d"
        fi
done
for p in "$T/env" "$T" "$HOME"; do
        p=${p#/}
        want_root="$want_root ${p%%/*}"
done
want_root=$(tr ' ' '\n' <<<"$want_root" | LC_ALL=C sort -u | tr '\n' ' ')
vrun_rc --profile untrusted "$T/env" python -c '
import os
print(" ".join(sorted(os.listdir("/"))) + " ")
print(" ".join(sorted(os.listdir("/etc"))))
for p in ("/home", "/root", "/var", "/opt", "/srv", "/etc/shadow", "/etc/cron.d", "/etc/ssh", "/run"):
    print(p, "present" if os.path.lexists(p) else "absent")'
assert_eq "$rc" 0 "untrusted: listing / ran (stderr: $err)"
assert_eq "$(sed -n 1p <<<"$out")" "$want_root" "untrusted: the entries of /"
etc_allowed=" passwd group hosts nsswitch.conf resolv.conf host.conf ld.so.cache ld.so.conf ld.so.conf.d localtime ssl "
for e in $(sed -n 2p <<<"$out"); do
        assert_contains "$etc_allowed" " $e " "untrusted: /etc/$e is one of the few /etc files bound in"
done
assert_contains " $(sed -n 2p <<<"$out") " " passwd " "untrusted: /etc/passwd is there"
for p in /home /root /var /opt /srv /etc/shadow /etc/cron.d /etc/ssh /run; do
        assert_contains "$out" "$p absent" "untrusted: $p is not there"
done

# The base interpreter still works: its stdlib, its extension modules, pip.
expect_run 0 "ok" "untrusted: the stdlib and its extension modules load" --profile untrusted "$T/env" python -c '
import ctypes, hashlib, json, sqlite3, ssl, zlib
print("ok")'
vrun_rc --profile untrusted "$T/env" pip --version
assert_eq "$rc" 0 "untrusted: pip runs (stderr: $err)"

# ---- /tmp, rlimits ------------------------------------------------------------------------------
# Empty but for the way to the env, the working directory and the home when
# they lie under /tmp (as here).
want_tmp=$(for p in "$T/env" "$T" "$HOME"; do
        case "$p" in /tmp/*) p=${p#/tmp/} && echo "${p%%/*}" ;; esac
done | LC_ALL=C sort -u | tr '\n' ' ')
want_tmp=${want_tmp% }
expect_run 0 "268435456
$want_tmp" "untrusted: /tmp is a 256 MiB tmpfs of its own" --profile untrusted "$T/env" python -c '
import os
s = os.statvfs("/tmp")
print(s.f_blocks * s.f_frsize)
print(" ".join(sorted(os.listdir("/tmp"))))'

vrun_rc --profile untrusted "$T/env" cat /proc/self/limits
assert_eq "$rc" 0 "untrusted: /proc/self/limits readable (stderr: $err)"
limit() { # NAME: "soft hard" of one line of /proc/self/limits in $out
        sed -n "s/^$1[[:space:]]\\+\\([^[:space:]]\\+\\)[[:space:]]\\+\\([^[:space:]]\\+\\).*/\\1 \\2/p" <<<"$out"
}
assert_eq "$(limit 'Max processes')" "256 256" "untrusted: nproc"
assert_eq "$(limit 'Max address space')" "2147483648 2147483648" "untrusted: address space"
assert_eq "$(limit 'Max file size')" "536870912 536870912" "untrusted: file size"
assert_eq "$(limit 'Max open files')" "1024 1024" "untrusted: open files"
assert_eq "$(limit 'Max core file size')" "0 0" "untrusted: core size"

expect_run 0 "MemoryError
EMFILE" "untrusted: the limits bite" --profile untrusted "$T/env" python -c '
import errno, os
try:
    b = bytearray(3 << 30)
    print("allocated 3 GiB")
except MemoryError:
    print("MemoryError")
fds = []
try:
    for _ in range(1100):
        fds.append(os.open("/dev/null", os.O_RDONLY))
    print("opened", len(fds))
except OSError as e:
    print(errno.errorcode[e.errno])'

# ---- network --------------------------------------------------------------------------------------
expect_run 0 "['lo']
unix: ok
inet: EAFNOSUPPORT
inet6: EAFNOSUPPORT
netlink: EAFNOSUPPORT
packet: EAFNOSUPPORT" "untrusted: loopback only, no socket but AF_UNIX" --profile untrusted "$T/env" python -c '
import errno, socket
print(sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]))
for name, fam, typ in (("unix", socket.AF_UNIX, socket.SOCK_STREAM), ("inet", socket.AF_INET, socket.SOCK_STREAM),
                       ("inet6", socket.AF_INET6, socket.SOCK_DGRAM), ("netlink", 16, socket.SOCK_RAW),
                       ("packet", 17, socket.SOCK_RAW)):
    try:
        socket.socket(fam, typ).close()
        print(name + ": ok")
    except OSError as e:
        print(name + ": " + errno.errorcode.get(e.errno, str(e.errno)))'

# ---- the env is ephemeral ------------------------------------------------------------------------
make_wheel "$T" ephem 1.0
env_state "$T/env" >"$T/env.before"
expect_run 0 "1.0
changed" "untrusted: pip install and writes into the env work inside" --profile untrusted "$T/env" sh -c "
pip install -q --no-index --no-cache-dir --find-links '$T' ephem >/dev/null &&
python -c 'import ephem; print(ephem.__version__)' &&
echo '# changed' >>'$T/env/pyvenv.cfg' && rm '$T/env/bin/activate' && echo changed"
env_state "$T/env" >"$T/env.after"
assert_same_state "$T/env.before" "$T/env.after" "untrusted: the env is unchanged after the run"
assert_false "untrusted: the installed package is gone" test -e "$site/ephem"

# ---- --ephemeral gives the default profile the same env ------------------------------------------
expect_run 0 "1.0" "--ephemeral: pip install works inside" --ephemeral "$T/env" sh -c "
pip install -q --no-index --no-cache-dir --find-links '$T' ephem >/dev/null &&
echo '# changed' >>'$T/env/pyvenv.cfg' && echo written >'$T/cwd-file' &&
python -c 'import ephem; print(ephem.__version__)'"
env_state "$T/env" >"$T/env.after"
assert_same_state "$T/env.before" "$T/env.after" "--ephemeral: the env is unchanged after the run"
expect_run 1 "" "--ephemeral: the package is not importable afterwards" "$T/env" python -c 'import ephem'
assert_eq "$(cat "$T/cwd-file" 2>/dev/null)" written "--ephemeral: the working directory is still writable (default)"
# Control: without --ephemeral the same install stays.
expect_run 0 "" "default: pip install" "$T/env" pip install -q --no-index --no-cache-dir --find-links "$T" ephem
assert_true "default: without --ephemeral the package stays in the env" test -d "$site/ephem"

# ---- command-line options override the profile ------------------------------------------------------
mkdir -p "$T/out"
expect_run 0 "written" "untrusted + --bind: a writable directory inside the read-only cwd" \
        --profile untrusted --bind "$T/out" "$T/env" sh -c "echo x >'$T/out/f' && echo written"
assert_eq "$(cat "$T/out/f" 2>/dev/null)" x "untrusted + --bind: the write reached the host"
host_ifs=$("$PY" -c 'print(sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]))')
expect_run 0 "$host_ifs" "untrusted + --share-net: the host's interfaces" --profile untrusted --share-net "$T/env" \
        python -c 'print(sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").readlines()[2:]))'

# ---- the timeout -------------------------------------------------------------------------------------
printf '{\n  "extends": "untrusted",\n  "timeout": 2\n}\n' >"$T/short.json"
marker="30.$$"
start=$(date +%s%N)
vrun_rc --profile "$T/short.json" "$T/env" sleep "$marker"
elapsed=$((($(date +%s%N) - start) / 1000000))
assert_eq "$rc" 124 "timeout: exit status 124 (stderr: $err)"
assert_true "timeout: stopped after about 2 s (took $elapsed ms)" test "$elapsed" -ge 1800 -a "$elapsed" -lt 5000
assert_contains "$err" "vrun: " "timeout: a vrun: message"
assert_contains "$err" "timeout" "timeout: the message says it was the timeout"
assert_true "timeout: sleep $marker is gone" wait_marker_gone "sleep $marker"

# A program that ignores SIGTERM and leaves a child behind is stopped too.
marker2="31.$$"
start=$(date +%s%N)
vrun_rc --profile "$T/short.json" "$T/env" sh -c "trap '' TERM INT HUP; sleep $marker2 & wait; wait"
elapsed=$((($(date +%s%N) - start) / 1000000))
assert_eq "$rc" 124 "timeout, SIGTERM ignored: exit status 124 (stderr: $err)"
assert_true "timeout, SIGTERM ignored: stopped within 5 s (took $elapsed ms)" test "$elapsed" -lt 5000
assert_true "timeout, SIGTERM ignored: its child is gone too" wait_marker_gone "sleep $marker2"

# A run that ends in time is not disturbed.
expect_run 0 "done" "timeout: a quick run is unaffected" --profile "$T/short.json" "$T/env" sh -c 'echo done'

done_testing
