#!/bin/bash
# Run overhead of `vrun ENV CMD` (issue 13), as an unprivileged user, side by
# side with: bare CMD, vrun with the untrusted profile, bubblewrap with the
# isolation of vrun's default profile, and the physical floor
# (../shared/bench/floor.c: new user+mount+pid+net+ipc+uts namespaces, id
# maps, a fresh /proc, tmpfs over the global site dirs, the tree read-only in
# one mount_setattr, the env writable, execve).
#
# Scenarios: `/bin/true` and `ENV/bin/python -c pass`; the same with 1,000
# extra tmpfs mounts on the host; 50 concurrent runs against 50 bare runs.
# Every scenario is one hyperfine invocation per round with all its commands,
# repeated ROUNDS times (the commands alternate between rounds); medians are
# over all rounds, so a machine growing busier weighs on every command alike.
# It prints the ratios the issue's targets use. Never a pass/fail test.
#
# Usage (as root, from the source tree, after building):
#   tests/bench/bench-run.sh [VRUN [FLOOR]]
#   VRUN   the vrun binary (default build/src/vrun)
#   FLOOR  floor.c or a built floor (default ../shared/bench/floor.c next to
#          the repository)
# Environment: RUNS (runs per command per round, default 60), ROUNDS (3),
#   MOUNTS (extra host mounts, default 1000), CONC (concurrent runs, 50),
#   SKIP (space-separated scenario names to skip: base cpu mounts conc
#   mem), PERF_RUNS (perf stat runs per command per round, default 20).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
bench_vrun "${1:-}"
floor_src=${2:-$here/../shared/bench/floor.c}
user="vrun-bench"
runs=${RUNS:-60}
rounds=${ROUNDS:-3}
nmounts=${MOUNTS:-1000}
conc=${CONC:-50}
skip=" ${SKIP:-} "
bench_need hyperfine bwrap cc python3
[ -e "$floor_src" ] || bench_die "no floor at $floor_src (give its path as the second argument)"
id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
home=$(getent passwd "$user" | cut -d: -f6)
work=$home/bench
rm -rf "$work"
mkdir -p "$work/out"
cp "$vrun" "$work/vrun"
case $floor_src in
*.c) cc -O2 -o "$work/floor" "$floor_src" ;;
*) cp "$floor_src" "$work/floor" ;;
esac
chown -R "$user:" "$work"
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 bash -c "cd $work && $1"; }

as_user "./vrun create --python /usr/bin/python3 --without-pip env >/dev/null && ./vrun env python -c pass"
hidden=$(as_user "./vrun --dry-run env python | sed -n 's/^mount: empty ro tmpfs on \(.*\) (if present).*/\1/p'")
bwrap_tmpfs="" floor_tmpfs=""
for d in $hidden; do
        [ -d "$d" ] || continue
        bwrap_tmpfs="$bwrap_tmpfs --tmpfs $d"
        case $d in */python*) floor_tmpfs="$floor_tmpfs -t $d" ;; esac
done
bwrap="bwrap --unshare-user --unshare-pid --unshare-ipc --unshare-uts --die-with-parent --ro-bind / / $bwrap_tmpfs --bind $work $work --proc /proc --dev /dev --tmpfs /tmp"
floor="./floor -p -N $floor_tmpfs -w $work/env"

# The commands of one workload: name<TAB>command lines.
cmds() { # $1: payload as run bare, $2: as vrun runs it
        printf 'bare\t%s\n' "$1"
        printf 'vrun\t./vrun env %s\n' "$2"
        printf 'vrun untrusted\t./vrun --profile untrusted env %s\n' "$2"
        printf 'bwrap\t%s %s\n' "$bwrap" "$1"
        printf 'floor\t%s %s\n' "$floor" "$1"
}
true_cmds=$(cmds /bin/true /bin/true)
py_cmds=$(cmds "env/bin/python -c pass" "python -c pass")

# bench NAME RUNS WARMUP CMDS: ROUNDS hyperfine runs, the command order
# reversed every other round; JSON in out/NAME-ROUND.json.
bench() {
        local name=$1 n=$2 warm=$3 list r args
        for r in $(seq 1 "$rounds"); do
                list=$4
                if [ $((r % 2)) = 0 ]; then list=$(tac <<<"$4"); fi
                args=""
                while IFS=$'\t' read -r label cmd; do
                        args="$args -n '$label' '$cmd'"
                done <<<"$list"
                as_user "hyperfine -N --style none -w $warm -r $n --export-json out/$name-$r.json $args >/dev/null 2>&1"
        done
}

# report NAME...: medians over every round of the named scenarios.
report() {
        python3 - "$work/out" "$@" <<'PY'
import glob, json, statistics, sys
out, names = sys.argv[1], sys.argv[2:]
for name in names:
    t = {}
    order = []
    for f in sorted(glob.glob("%s/%s-*.json" % (out, name))):
        for x in json.load(open(f))["results"]:
            if x["command"] not in t:
                order.append(x["command"])
            t.setdefault(x["command"], []).extend(x["times"])
    order = [c for c in ["bare", "vrun", "vrun untrusted", "bwrap", "floor"] if c in t]
    med = {c: statistics.median(t[c]) * 1000 for c in order}
    print("\n### %s (%d runs per command)\n" % (name, len(t["bare"])))
    print("| command | median | overhead | min |")
    print("|:---|---:|---:|---:|")
    for c in order:
        print("| %s | %.2f ms | %s | %.2f ms |" % (c, med[c], "" if c == "bare" else "+%.2f ms" % (med[c] - med["bare"]),
                                               min(t[c]) * 1000))
    print()
    for what, v in (("medians", med), ("minimums", {c: min(t[c]) * 1000 for c in order})):
        ovh = {c: v[c] - v["bare"] for c in order}
        for c in ["vrun", "vrun untrusted"]:
            if c in ovh:
                print("- %s overhead (%s): %.2fx the floor's (target <= 1.2x), %.2fx bubblewrap's (target <= 0.6x)"
                      % (c, what, ovh[c] / ovh["floor"], ovh[c] / ovh["bwrap"]))
PY
}

echo "## vrun run overhead"
echo
echo "$(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start;"
echo "$(hyperfine --version), $(bwrap --version), $(/usr/bin/python3 --version); $rounds rounds of $runs runs."
echo
echo "    bubblewrap: $bwrap CMD"
echo "    floor:      $floor CMD"
if [[ $skip != *" base "* ]]; then
        bench true "$runs" 10 "$true_cmds"
        bench python "$runs" 10 "$py_cmds"
        report true python
fi

# CPU time and page faults of the whole process tree (perf stat follows every
# child into the namespaces): what a run costs, whatever the load does to
# its wall time. The commands alternate; PERF_RUNS runs each per round.
if [[ $skip != *" cpu "* ]] && command -v perf >/dev/null; then
        echo
        echo "## CPU time and page faults (perf stat, every process of the run)"
        for r in $(seq 1 "$rounds"); do
                while IFS=$'\t' read -r label cmd; do
                        printf '%s\t%s\t' "$label" "$r"
                        as_user "perf stat -x, -r ${PERF_RUNS:-20} -e task-clock,page-faults $cmd 2>&1 >/dev/null" |
                                cut -d, -f1 | tr '\n' '\t'
                        echo
                done <<<"$(sed 's/^/true /' <<<"$true_cmds"; sed 's/^/python /' <<<"$py_cmds")"
        done >"$work/out/cpu.tsv"
        python3 - "$work/out/cpu.tsv" <<'PY'
import statistics, sys
ms, pf = {}, {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    ms.setdefault(f[0], []).append(float(f[2]))
    pf.setdefault(f[0], []).append(float(f[3]))
print("\n| command | CPU ms (median of rounds) | page faults |\n|:---|---:|---:|")
for c in ms:
    print("| %s | %.2f | %.0f |" % (c, statistics.median(ms[c]), statistics.median(pf[c])))
m = {c: statistics.median(v) for c, v in ms.items()}
print()
for w in ("true", "python"):
    o = {c: m["%s %s" % (w, c)] - m["%s bare" % w] for c in ("vrun", "vrun untrusted", "bwrap", "floor")}
    print("- %s, CPU overhead: vrun %.2fx the floor's, %.2fx bubblewrap's; untrusted %.2fx the floor's"
          % (w, o["vrun"] / o["floor"], o["vrun"] / o["bwrap"], o["vrun untrusted"] / o["floor"]))
print("- the payload's own cost, python minus true: vrun %.2f ms, floor %.2f ms, bubblewrap %.2f ms, bare %.2f ms"
      % tuple(m["python " + c] - m["true " + c] for c in ("vrun", "floor", "bwrap", "bare")))
PY
fi

if [[ $skip != *" mounts "* ]]; then
        mdir=/tmp/vrun-bench-mounts
        cleanup() {
                for i in $(seq 1 "$nmounts"); do umount "$mdir/m$i" 2>/dev/null || true; done
                rm -rf "$mdir"
        }
        trap cleanup EXIT
        for i in $(seq 1 "$nmounts"); do
                mkdir -p "$mdir/m$i"
                mount -t tmpfs -o size=4k tmpfs "$mdir/m$i"
        done
        echo
        echo "## with $nmounts extra mounts on the host"
        bench mounts-true $((runs / 3)) 3 "$true_cmds"
        bench mounts-python $((runs / 3)) 3 "$py_cmds"
        report mounts-true mounts-python
        cleanup
        trap - EXIT
fi

if [[ $skip != *" conc "* ]]; then
        echo
        echo "## $conc concurrent runs of python -c pass"
        loop() { # $1: name, $2: command; a script per command keeps the quoting simple
                printf 'for i in $(seq %s); do %s & done; wait\n' "$conc" "$2" >"$work/conc-$1.sh"
                printf '%s\tbash conc-%s.sh\n' "$1" "$1"
        }
        bench conc 10 2 "$(loop bare 'env/bin/python -c pass' && loop vrun './vrun env python -c pass' &&
                loop bwrap "$bwrap env/bin/python -c pass" && loop floor "$floor env/bin/python -c pass")"
        python3 - "$work/out" <<'PY'
import glob, json, statistics, sys
t = {}
for f in glob.glob(sys.argv[1] + "/conc-*.json"):
    for x in json.load(open(f))["results"]:
        t.setdefault(x["command"], []).extend(x["times"])
med = {c: statistics.median(v) * 1000 for c, v in t.items()}
print("\n| command | median wall time | x bare |\n|:---|---:|---:|")
for c in ["bare", "vrun", "bwrap", "floor"]:
    print("| %s | %.1f ms | %.2fx |" % (c, med[c], med[c] / med["bare"]))
print("\n- vrun: %.2fx the bare runs' wall time (target <= 1.15x); the floor %.2fx"
      % (med["vrun"] / med["bare"], med["floor"] / med["bare"]))
PY
fi

if [[ $skip != *" mem "* ]]; then
        echo
        echo "## processes and memory beside the payload"
        as_user "./vrun env python -c 'import time; time.sleep(3)' & sleep 1.5
  for p in \$(pgrep -u $user -f '[.]/vrun env python'); do
    printf 'pid %s: %s\n' \"\$p\" \"\$(grep -E '^(Rss|Pss|Private_Clean|Private_Dirty)' /proc/\$p/smaps_rollup | tr -s ' ' | tr '\n' ' ')\"
  done; wait"
fi
echo
echo "raw hyperfine JSON: $work/out"
