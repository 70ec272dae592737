#!/bin/bash
# Benchmark of `vrun create` against `python3 -m venv` and virtualenv, in one
# hyperfine run: without pip, then with pip (vrun's cache warm, as it is after
# the first create on a machine). A benchmark, never a test: it prints
# figures and asserts nothing.
#
# usage: tests/bench/bench-create.sh [VRUN] [OUTDIR]
#   VRUN    the binary (default: build/src/vrun)
#   OUTDIR  where hyperfine's JSON and Markdown go (default: a temp dir)
# Environment: PYTHON (default /usr/bin/python3), MIN_RUNS (default 20),
#   BENCH_DIR: where the envs are made (default /tmp). Creating an env is
#   mostly mkdir/link/symlink, so the filesystem there decides much of the
#   result: compare a disk with a tmpfs (BENCH_DIR=/dev/shm).
# Needs hyperfine, python3-venv, python3-pip-whl, python3-virtualenv.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
vrun=$(readlink -f "${1:-$here/build/src/vrun}")
out=${2:-$(mktemp -d /tmp/vrun-bench.XXXXXX)}
py=${PYTHON:-/usr/bin/python3}
min_runs=${MIN_RUNS:-20}

for need in hyperfine "$py"; do
        command -v "$need" >/dev/null || { echo "bench-create: $need is missing" >&2; exit 1; }
done
[ -x "$vrun" ] || { echo "bench-create: no vrun binary at $vrun (build first)" >&2; exit 1; }
"$py" -m venv --help >/dev/null 2>&1 || { echo "bench-create: $py -m venv is missing (python3-venv)" >&2; exit 1; }
"$py" -m virtualenv --version >/dev/null 2>&1 || { echo "bench-create: virtualenv is missing (python3-virtualenv)" >&2; exit 1; }

mkdir -p "$out"
work=$(mktemp -d "${BENCH_DIR:-/tmp}/vrun-bench-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
env_dir="$work/env"

# A private HOME and caches: vrun's cache and virtualenv's app-data are warmed
# once here, and nothing of the user's is read or written.
export HOME="$work/home" XDG_CACHE_HOME="$work/cache" XDG_DATA_HOME="$work/data"
export PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8
mkdir -p "$HOME"
"$vrun" create --python "$py" "$env_dir" >/dev/null
"$py" -m virtualenv "$work/warm" >/dev/null
rm -rf "$env_dir" "$work/warm"

cmd=(
        hyperfine -N --style basic --min-runs "$min_runs" --warmup 3
        --prepare "rm -rf $env_dir"
        --export-json "$out/bench-create.json" --export-markdown "$out/bench-create.md"
        -n "vrun create --without-pip" "$vrun create --python $py --without-pip $env_dir"
        -n "python3 -m venv --without-pip" "$py -m venv --without-pip $env_dir"
        -n "virtualenv --no-seed" "$py -m virtualenv --no-seed $env_dir"
        -n "vrun create (pip, warm cache)" "$vrun create --python $py $env_dir"
        -n "python3 -m venv (pip)" "$py -m venv $env_dir"
        -n "virtualenv (pip)" "$py -m virtualenv $env_dir"
)
echo "machine: $(nproc) CPUs, $(uname -srm), $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "fs:      $(findmnt -n -o FSTYPE,SOURCE,OPTIONS --target "$work" | head -n 1) at $work"
echo "python:  $("$py" -c 'import sys; print(sys.version.split()[0])') ($py)"
echo "command: $(printf '%q ' "${cmd[@]}")"
"${cmd[@]}"

"$py" - "$out/bench-create.json" <<'PYEOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = lambda name: r[name]["median"] * 1000
print("\n%-32s %10s %10s %10s %6s" % ("", "median ms", "mean ms", "stddev ms", "runs"))
for name, x in r.items():
    print("%-32s %10.2f %10.2f %10.2f %6d" % (name, x["median"] * 1e3, x["mean"] * 1e3, x["stddev"] * 1e3, len(x["times"])))
def ratio(a, b):
    return med(b) / med(a)
v0, v1 = med("vrun create --without-pip"), med("vrun create (pip, warm cache)")
print("\nwithout pip: vrun %.2f ms; %.1fx faster than venv, %.1fx faster than virtualenv"
      % (v0, ratio("vrun create --without-pip", "python3 -m venv --without-pip"),
         ratio("vrun create --without-pip", "virtualenv --no-seed")))
print("with pip:    vrun %.2f ms; %.1fx faster than venv, %.1fx faster than virtualenv"
      % (v1, ratio("vrun create (pip, warm cache)", "python3 -m venv (pip)"),
         ratio("vrun create (pip, warm cache)", "virtualenv (pip)")))
ok0 = v0 <= 2 and ratio("vrun create --without-pip", "python3 -m venv --without-pip") >= 15
ok1 = v1 <= 30 and ratio("vrun create (pip, warm cache)", "python3 -m venv (pip)") >= 90
print("targets:     --without-pip <= 2 ms and >= 15x venv: %s; with pip <= 30 ms and >= 90x venv: %s"
      % ("met" if ok0 else "MISSED", "met" if ok1 else "MISSED"))
PYEOF
echo "results: $out/bench-create.json, $out/bench-create.md"
