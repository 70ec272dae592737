#!/bin/bash
# Benchmark of `vrun export --oci` against its floor: `tar --sort=name
# --mtime=@0 | gzip` of the same files (the rootfs a --bundle export of the
# same env holds), in one hyperfine run: the export with the base layer built
# (its cache emptied before each run), the export with the base layer cached
# (only the env layer written), and the --bundle export (a copy of the files).
# A benchmark, never a test: it prints figures and asserts nothing. The
# target is a cold export within 1.3x the floor.
#
# usage: tests/bench/bench-export.sh [VRUN] [OUTDIR]
#   VRUN    the binary (default: build/src/vrun)
#   OUTDIR  where hyperfine's JSON and Markdown go (default: a temp dir)
# Environment: PYTHON (default /usr/bin/python3), MIN_RUNS (default 5),
#   BENCH_DIR: where the env, image and bundle are made (default /tmp).
# Needs hyperfine, GNU tar, gzip.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

py=${PYTHON:-/usr/bin/python3}
min_runs=${MIN_RUNS:-5}

bench_need hyperfine tar gzip "$py"
bench_vrun "${1:-}"

bench_out "${2:-}"
bench_work vrun-bench-export
unset SOURCE_DATE_EPOCH

# An env with pip in it (pip and setuptools are most of an env's files).
"$vrun" create --python "$py" "$work/env" >/dev/null
# The floor's input: exactly the files the image holds, as a directory.
"$vrun" export --bundle "$work/files" "$work/env" >/dev/null 2>&1
files=$(find "$work/files/rootfs" | wc -l)
size=$(du -sm "$work/files/rootfs" | cut -f1)
echo "bench-export: $files entries, $size MiB ($("$py" -V 2>&1), $(nproc) CPUs)"

floor="tar -C '$work/files/rootfs' --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - . | gzip >'$work/floor.tar.gz'"
export_cmd="'$vrun' export --oci '$work/img' '$work/env' >/dev/null"
hyperfine --warmup 1 --min-runs "$min_runs" \
        --export-json "$out/bench-export.json" --export-markdown "$out/bench-export.md" \
        --command-name "floor: tar --sort=name --mtime=@0 | gzip" \
        --prepare "rm -f '$work/floor.tar.gz'" "$floor" \
        --command-name "vrun export --oci (base layer built)" \
        --prepare "rm -rf '$work/img' '$XDG_CACHE_HOME/vrun/export-layers'" "$export_cmd" \
        --command-name "vrun export --oci (base layer cached)" \
        --prepare "rm -rf '$work/img'" "$export_cmd" \
        --command-name "vrun export --bundle" \
        --prepare "rm -rf '$work/bundle'" "'$vrun' export --bundle '$work/bundle' '$work/env' >/dev/null 2>&1"

"$py" - "$out/bench-export.json" "$work/floor.tar.gz" "$work/img" <<'EOF'
import json, os, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
floor = r["floor: tar --sort=name --mtime=@0 | gzip"]
def cpu(x):
    return x["user"] + x["system"]
print("\n%-40s %10s %10s %8s" % ("", "wall (s)", "CPU (s)", "x floor"))
for name, x in r.items():
    print("%-40s %10.3f %10.3f %8.2f" % (name, x["mean"], cpu(x), x["mean"] / floor["mean"]))
blobs = os.path.join(sys.argv[3], "blobs", "sha256")
layers = sorted((os.path.getsize(os.path.join(blobs, b)) for b in os.listdir(blobs)), reverse=True)[:2]
print("\nfloor output %.1f MiB; vrun's layers %s MiB" % (os.path.getsize(sys.argv[2]) / 2**20,
      " + ".join("%.2f" % (l / 2**20) for l in layers)))
EOF
echo "bench-export: hyperfine's results in $out"
