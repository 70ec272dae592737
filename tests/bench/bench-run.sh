#!/bin/bash
# Benchmarks `vrun ENV python -c pass` against bare python and bubblewrap with
# the equivalent isolation, as an unprivileged user, in one hyperfine run per
# scenario. Never part of the pass/fail suite: machines here are noisy, read
# the ratios. Usage (as root, from the source tree, after building):
#   tests/bench/bench-run.sh [build/src/vrun]
# Writes its figures to stdout as Markdown; docs/performance.md quotes them.
set -euo pipefail
vrun=$(readlink -f "${1:-build/src/vrun}")
user=vrun-bench
runs=${RUNS:-300}
id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
home=$(getent passwd "$user" | cut -d: -f6)
work=$home/bench
rm -rf "$work"
mkdir -p "$work"
cp "$vrun" "$work/vrun"
chown -R "$user:" "$work"
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 bash -c "cd $work && $1"; }

as_user "./vrun create --python /usr/bin/python3 --without-pip env >/dev/null && ./vrun env python -c pass"
hidden=$(as_user "./vrun --dry-run env python | sed -n 's/^mount: empty ro tmpfs on \(.*\) (if present).*/\1/p'")
tmpfs_args=""
for d in $hidden; do
        [ -d "$d" ] && tmpfs_args="$tmpfs_args --tmpfs $d"
done
bwrap_cmd="bwrap --unshare-user --unshare-pid --unshare-ipc --unshare-uts --die-with-parent --ro-bind / / $tmpfs_args --bind $work/env $work/env --proc /proc --dev /dev env/bin/python -c pass"

echo "## vrun run: startup overhead ($(nproc) cores, $(uname -r), $runs runs)"
echo
as_user "hyperfine -N -w 20 -r $runs --export-markdown $work/run.md 'env/bin/python -c pass' './vrun env python -c pass' '$bwrap_cmd' >/dev/null 2>&1"
cat "$work/run.md"
as_user "hyperfine -N -w 20 -r $runs --export-json $work/run.json 'env/bin/python -c pass' './vrun env python -c pass' '$bwrap_cmd' >/dev/null 2>&1"
python3 - "$work/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
bare, vrun, bwrap = (x["median"] * 1000 for x in r)
print()
print("medians: bare %.2f ms, vrun %.2f ms (+%.2f ms), bwrap %.2f ms (+%.2f ms); vrun overhead = %.2f x bwrap's"
      % (bare, vrun, vrun - bare, bwrap, bwrap - bare, (vrun - bare) / (bwrap - bare)))
PY

echo
echo "## with 1,000 extra mounts on the host"
mkdir -p /tmp/vrun-bench-mounts
for i in $(seq 1 1000); do
        mkdir -p /tmp/vrun-bench-mounts/m$i
        mount -t tmpfs -o size=4k tmpfs /tmp/vrun-bench-mounts/m$i
done
trap 'for i in $(seq 1 1000); do umount /tmp/vrun-bench-mounts/m$i 2>/dev/null; done; rm -rf /tmp/vrun-bench-mounts' EXIT
as_user "hyperfine -N -w 10 -r $((runs / 3)) --export-json $work/mounts.json 'env/bin/python -c pass' './vrun env python -c pass' '$bwrap_cmd' >/dev/null 2>&1"
python3 - "$work/mounts.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
bare, vrun, bwrap = (x["median"] * 1000 for x in r)
print("medians: bare %.2f ms, vrun %.2f ms (+%.2f ms), bwrap %.2f ms (+%.2f ms)" % (bare, vrun, vrun - bare, bwrap, bwrap - bare))
PY
for i in $(seq 1 1000); do umount /tmp/vrun-bench-mounts/m$i; done
rm -rf /tmp/vrun-bench-mounts
trap - EXIT

echo
echo "## 50 concurrent runs"
as_user "hyperfine -w 3 -r 20 --export-json $work/conc.json \
  'for i in \$(seq 50); do env/bin/python -c pass & done; wait' \
  'for i in \$(seq 50); do ./vrun env python -c pass & done; wait' \
  'for i in \$(seq 50); do $bwrap_cmd & done; wait' >/dev/null 2>&1"
python3 - "$work/conc.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
bare, vrun, bwrap = (x["median"] * 1000 for x in r)
print("medians: bare %.1f ms, vrun %.1f ms (x%.2f), bwrap %.1f ms (x%.2f)" % (bare, vrun, vrun / bare, bwrap, bwrap / bare))
PY

echo
echo "## processes and memory beside the payload"
as_user "./vrun env python -c 'import time; time.sleep(3)' & sleep 1.5
  for p in \$(pgrep -u $user -f '[.]/vrun env python'); do
    printf 'pid %s: %s\n' \"\$p\" \"\$(grep -E '^(Rss|Pss|Private_Clean|Private_Dirty)' /proc/\$p/smaps_rollup | tr -s ' ' | tr '\n' ' ')\"
  done; wait"
