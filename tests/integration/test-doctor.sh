#!/bin/bash
# vrun doctor: on this machine everything vrun needs is there, so it exits 0
# and says "ok" for every check (text and --json). Then real failures, made
# without privileges in an outer user namespace the test sets up itself:
# user.max_user_namespaces=0 (as a host admin or a container would set it),
# a uid that is not mapped, and a /proc partly covered by a mount (what
# container runtimes do). Each must exit 1 and say what breaks and the fix.
. "$TESTS/lib.sh"

checks="max-user-namespaces unprivileged-userns-clone apparmor-restrict-userns user-namespace namespaces network-namespace tmpfs proc devpts overlayfs mount-api seccomp landlock idmap cgroup"
whats=("user.max_user_namespaces" "kernel.unprivileged_userns_clone"
        "kernel.apparmor_restrict_unprivileged_userns" "user namespace" "pid, ipc and uts namespaces"
        "network namespace" "tmpfs in a user namespace" "proc in a new pid namespace"
        "devpts in a user namespace" "overlayfs in a user namespace" "new mount API" "seccomp"
        "Landlock scopes" "unprivileged root" "cgroup budget")

# ---- everything works here ------------------------------------------------------------
vrun_rc doctor
assert_eq "$rc" 0 "vrun doctor exits 0 where vrun works (output: $out; stderr: $err)"
assert_eq "$err" "" "vrun doctor prints nothing on stderr"
assert_eq "$(printf '%s\n' "$out" | grep -c '')" "${#whats[@]}" "one line per check"
# The cgroup budget is a note, not a failure, where this account has none.
assert_eq "$(printf '%s\n' "$out" | grep -v '^note cgroup budget: ' | grep -vc '^ok   ')" 0 "every line starts with 'ok   '"
for w in "${whats[@]}"; do
        assert_contains "$out" " $w" "the report lists '$w'"
done

vrun_rc doctor --json
assert_eq "$rc" 0 "vrun doctor --json exits 0"
summary=$(printf '%s' "$out" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
print(d["ok"], " ".join(c["id"] for c in d["checks"]), sorted(set(c["status"] for c in d["checks"] if c["id"] != "cgroup")))
' 2>&1)
assert_eq "$summary" "True $checks ['ok']" "--json: ok, every check by id, all ok"

# ---- usage ------------------------------------------------------------------------------
expect_error 2 "$VRUN" doctor extra
assert_contains "$err" "unexpected argument 'extra'" "doctor takes no ENV"
expect_status 0 "$VRUN" doctor --help
assert_contains "$out" "Usage: vrun doctor" "doctor --help"

# ---- failures, simulated honestly -----------------------------------------------------
if ! unshare -Ur true 2>/dev/null; then
        fail "unshare -Ur fails although doctor said user namespaces work"
        done_testing
fi

# An outer user namespace whose limit for nested namespaces is 0.
vrun_rc_in() { # SHELL-SNIPPET: runs it in `unshare -Urm`, "$VRUN" doctor ... last
        local ef
        ef=$(mktemp "$T/.stderr.XXXXXX")
        out=$(unshare -Urm sh -c "$1" sh "$VRUN" 2>"$ef")
        rc=$?
        err=$(cat "$ef")
        rm -f "$ef"
}
vrun_rc_in 'echo 0 >/proc/sys/user/max_user_namespaces && exec "$1" doctor'
assert_eq "$rc" 1 "max_user_namespaces=0: doctor exits 1 (stderr: $err)"
assert_contains "$out" "FAIL user.max_user_namespaces: is 0" "max_user_namespaces=0 is named"
line=$(printf '%s\n' "$out" | grep '^FAIL user namespace:')
assert_contains "$line" "No space left on device" "the namespace probe fails with the kernel's errno"
assert_contains "$line" "breaks vrun run, shell and prove" "the failure says what it breaks"
assert_contains "$line" "fix: as root: sysctl -w user.max_user_namespaces=" "the failure says how to fix it"
assert_contains "$out" "skip overlayfs in a user namespace: not tried" "probes that need a user namespace are skipped"
assert_contains "$out" "ok   seccomp" "seccomp still checks out"
vrun_rc_in 'echo 0 >/proc/sys/user/max_user_namespaces && exec "$1" doctor --json'
assert_eq "$rc" 1 "max_user_namespaces=0: doctor --json exits 1"
summary=$(printf '%s' "$out" | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
c = {c["id"]: c for c in d["checks"]}
u = c["user-namespace"]
print(d["ok"], u["status"], bool(u["fix"]), bool(u["breaks"]), c["tmpfs"]["status"], c["seccomp"]["status"])
' 2>&1)
assert_eq "$summary" "False fail True True skip ok" "--json: the failure, its fix and what it breaks"

# A user namespace where our uid is not mapped cannot nest another one.
out=$(unshare -U "$VRUN" doctor 2>&1)
rc=$?
assert_eq "$rc" 1 "unmapped uid: doctor exits 1"
assert_contains "$out" "own uid is not mapped" "unmapped uid: the cause is named"

# A /proc partly covered by a mount, as container runtimes leave it: the
# kernel refuses a new proc, and vrun with it.
vrun_rc_in 'mount -t tmpfs none /proc/sys && exec "$1" doctor'
assert_eq "$rc" 1 "covered /proc: doctor exits 1 (stderr: $err)"
line=$(printf '%s\n' "$out" | grep '^FAIL proc in a new pid namespace:')
# (the probe runs the executor's own step, whose message names the mountpoint)
assert_contains "$line" "mount proc on /tmp/proc: Operation not permitted" "covered /proc: the proc probe fails"
assert_contains "$line" "/proc/sys" "covered /proc: the covering mount is named"
assert_contains "$line" "systempaths=unconfined" "covered /proc: the fix for a container"
assert_eq "$(printf '%s\n' "$out" | grep -c '^FAIL')" 1 "covered /proc: only the proc check fails"

done_testing
