#!/bin/bash
# One budget for the whole sandbox (issue 11, docs/security.md "Reach"):
# under `untrusted`, 3 GiB of memfds are refused, so is 3 GiB of ordinary
# memory spread over processes (each under its 2G RLIMIT_AS) where a memory
# cgroup can be had, 300,000 files in /tmp (nr_inodes), 300 processes, and
# more than one CPU's worth of time. Where no cgroup can be had (a user
# without a delegated cgroup v2 subtree), vrun says so once with -v and in
# `vrun doctor`. A run killed with SIGKILL leaves its cgroup behind, empty;
# the next run removes it.
. "$TESTS/lib.sh"

make_env "$T/env" --without-pip

# Whether this account gets a memory cgroup: doctor says.
vrun_rc doctor --json
cg_status=$(printf '%s' "$out" | "$PY" -c '
import json, sys
print([c["status"] for c in json.load(sys.stdin)["checks"] if c["id"] == "cgroup"][0])')
if [ "$VRUN_TEST_MODE" = root ]; then
        assert_eq "$cg_status" ok "root gets a cgroup budget on this machine"
        cg_status=ok
fi

# ---- memory: memfds, SysV shm, anonymous memory over several processes ----------------------
expect_run 0 "memfd: EPERM" "untrusted: memfds are refused" --profile untrusted "$T/env" python -c '
import os
held = 0
try:
    while held < 3 << 30:
        fd = os.memfd_create("x")
        os.ftruncate(fd, 256 << 20)
        os.pwrite(fd, b"x" * (1 << 20), (256 << 20) - (1 << 20))
        for off in range(0, 256 << 20, 1 << 20):
            os.pwrite(fd, b"x" * (1 << 20), off)
        held += 256 << 20
    print("memfd: held %d MiB" % (held >> 20))
except OSError as e:
    import errno
    print("memfd: " + errno.errorcode[e.errno])'

cat >"$T/spread.py" <<'PYEOF'
# 6 processes of 512 MiB each, every page touched: 3 GiB in all.
import os, sys, time
r, w = os.pipe()
kids = []
for i in range(6):
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            b = bytearray(b"\x01") * (512 << 20)
            os.write(w, b"1")
            time.sleep(30)
        finally:
            os._exit(0)
    kids.append(pid)
os.close(w)
held = 0
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    c = os.read(r, 1)
    if not c:
        break
    held += 512
    if held >= 3072:
        break
# What counts is what is held at once: a child the OOM killer took after it
# said "1" holds nothing any more (its 512 MiB were counted all the same).
time.sleep(0.5)
alive = sum(1 for k in kids if os.waitpid(k, os.WNOHANG) == (0, 0))
held = min(held, 512 * alive)
print("spread: held %d MiB" % held)
for k in kids:
    try:
        os.kill(k, 9)
    except OSError:
        pass
PYEOF
vrun_rc -v --profile untrusted "$T/env" python "$T/spread.py"
if [ "$cg_status" = ok ]; then
        assert_contains "$out" "spread: held" "untrusted: the six-process program ran"
        assert_not_contains "$out" "held 3072 MiB" "untrusted: 3 GiB over six processes is refused (the memory cgroup)"
        assert_not_contains "$err" "no cgroup" "-v says nothing is missing"
else
        # No cgroup: said once, with -v, and in doctor.
        assert_eq "$(printf '%s\n' "$err" | grep -c 'no cgroup for')" 1 "-v says once that there is no cgroup"
        assert_contains "$(printf '%s' "$err" | grep 'no cgroup for')" "memory" "-v names memory"
        vrun_rc doctor
        assert_contains "$out" "note cgroup budget" "doctor notes that there is no cgroup budget"
fi

# ---- inodes: every tmpfs has nr_inodes --------------------------------------------------------
for profile in untrusted install; do
        expect_run 0 "files: ENOSPC" "$profile: 300,000 files in /tmp are refused" --profile "$profile" "$T/env" python -c '
import errno, os
n = 0
try:
    for n in range(300000):
        os.close(os.open("/tmp/f%d" % n, os.O_CREAT | os.O_WRONLY, 0o600))
    print("files: all 300000")
except OSError as e:
    print("files: " + errno.errorcode[e.errno])'
done
expect_run 0 "files: ENOSPC" "untrusted: 300,000 files in \$HOME are refused" --profile untrusted "$T/env" python -c '
import errno, os
try:
    for n in range(300000):
        os.close(os.open(os.path.expanduser("~/f%d" % n), os.O_CREAT | os.O_WRONLY, 0o600))
    print("files: all 300000")
except OSError as e:
    print("files: " + errno.errorcode[e.errno])'

# ---- processes ---------------------------------------------------------------------------------
expect_run 0 "procs: refused" "untrusted: 300 processes are refused" --profile untrusted "$T/env" python -c '
import os, time
kids = []
try:
    for i in range(300):
        pid = os.fork()
        if pid == 0:
            time.sleep(20)
            os._exit(0)
        kids.append(pid)
    print("procs: all 300")
except OSError:
    print("procs: refused")
for k in kids:
    os.kill(k, 9)'

# ---- CPU: two busy processes get one CPU between them ----------------------------------------
if [ "$cg_status" = ok ]; then
        vrun_rc --profile untrusted "$T/env" python -c '
import os, time
t0 = time.monotonic()
kids = []
for i in range(2):
    pid = os.fork()
    if pid == 0:
        while time.monotonic() - t0 < 2:
            pass
        os._exit(0)
    kids.append(pid)
for k in kids:
    os.waitpid(k, 0)
c = os.times()
print("%.2f" % ((c.children_user + c.children_system) / (time.monotonic() - t0)))'
        assert_eq "$rc" 0 "the CPU test ran ($err)"
        assert_eq "$("$PY" -c "print(float('$out') <= 1.3)")" True "untrusted: two busy processes use at most one CPU (got $out CPUs)"
fi

# ---- a run killed with SIGKILL: its cgroup goes with the next run -----------------------------
if [ "$cg_status" = ok ]; then
        "$VRUN" --profile untrusted "$T/env" python -c 'import time; time.sleep(60)' &
        vpid=$!
        dirs=
        for ((i = 0; i < 100; i++)); do
                dirs=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "vrun-$vpid-*" 2>/dev/null)
                [ -n "$dirs" ] && break
                sleep 0.1
        done
        _checks=$((_checks + 1))
        [ -n "$dirs" ] || fail "no cgroup named vrun-$vpid-* while the run is on"
        kill -KILL "$vpid"
        wait "$vpid" 2>/dev/null
        sleep 0.5
        expect_run 0 "next" "the next run works" --profile untrusted "$T/env" python -c 'print("next")'
        left=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "vrun-$vpid-*" 2>/dev/null)
        assert_eq "$left" "" "the killed run's cgroup is gone after the next run"
fi

done_testing
