#!/bin/bash
# Benchmark of `vrun create` and of the first pip command in a fresh env,
# against `python3 -m venv`, virtualenv and the floor of native venv creation
# (../shared/bench/mkvenv.c), side by side. Each round runs every command of a
# group in one hyperfine run; ROUNDS rounds alternate the groups, and the
# medians are taken over all rounds, so a machine that gets busier meanwhile
# weighs on every command alike. A benchmark, never a test: it prints figures
# and asserts nothing.
#
# usage: tests/bench/bench-create.sh [VRUN] [OUTDIR]
#   VRUN    the binary (default: build/src/vrun)
#   OUTDIR  where hyperfine's JSON and Markdown go (default: a temp dir)
# Environment: PYTHON (default /usr/bin/python3), ROUNDS (default 3),
#   CREATE_RUNS (default 10) and PIP_RUNS (default 5): runs per command and
#   round; MKVENV: the floor's source (default ../shared/bench/mkvenv.c beside
#   the source tree, built with cc -O2); BENCH_DIR: where the envs are made
#   (default /tmp). Creating an env is mostly mkdir/open(O_CREAT)/symlink, so
#   the filesystem there decides much of the result: compare a disk with a
#   tmpfs (BENCH_DIR=/dev/shm). An env is never deleted between runs: the
#   previous one is moved aside (ext4 allocates inodes slowly right after a
#   mass delete, which no user's create follows) and all are removed at the end.
# Needs hyperfine, cc, python3-venv, python3-pip-whl, python3-virtualenv.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

py=${PYTHON:-/usr/bin/python3}
rounds=${ROUNDS:-3}
create_runs=${CREATE_RUNS:-10}
pip_runs=${PIP_RUNS:-5}
mkvenv_src=${MKVENV:-$here/../shared/bench/mkvenv.c}

bench_need hyperfine cc "$py"
bench_vrun "${1:-}"
[ -f "$mkvenv_src" ] || bench_die "no $mkvenv_src (set MKVENV)"
"$py" -m venv --help >/dev/null 2>&1 || bench_die "$py -m venv is missing (python3-venv)"
"$py" -m virtualenv --version >/dev/null 2>&1 || bench_die "virtualenv is missing (python3-virtualenv)"

bench_out "${2:-}"
# A private HOME and caches: vrun's cache (its .pyc files compiled) and
# virtualenv's app-data are warmed once below, and nothing of the user's is
# read or written.
bench_work vrun-bench-work
env_dir="$work/env"
mkdir -p "$work/old" "$work/bin"
cc -O2 -o "$work/bin/mkvenv" "$mkvenv_src"
# --prepare: moves the env of the previous run aside, without deleting it.
cat >"$work/bin/set-aside" <<EOF
#!/bin/sh
[ -e "$env_dir" ] && exec mv "$env_dir" "\$(mktemp -d "$work/old/XXXXXXXX")/"
exit 0
EOF
chmod +x "$work/bin/set-aside"

"$vrun" create --python "$py" "$env_dir" >/dev/null
"$py" -m virtualenv "$work/warm" >/dev/null
rm -rf "$env_dir" "$work/warm"
# Ready envs for the pip commands: as vrun and venv leave them, never run
# before (PYTHONDONTWRITEBYTECODE=1 below keeps them so: nothing is compiled
# into them by the runs themselves).
"$vrun" create --python "$py" "$work/vrun-env" >/dev/null
"$py" -m venv "$work/venv-env"

create_cmd=(
        hyperfine -N --style basic --runs "$create_runs" --warmup 2 --prepare "$work/bin/set-aside"
        -n "mkvenv (floor)" "$work/bin/mkvenv $env_dir $py"
        -n "vrun create --without-pip" "$vrun create --python $py --without-pip $env_dir"
        -n "python3 -m venv --without-pip" "$py -m venv --without-pip $env_dir"
        -n "virtualenv --no-seed" "$py -m virtualenv --no-seed $env_dir"
        -n "vrun create (pip, warm cache)" "$vrun create --python $py $env_dir"
        -n "python3 -m venv (pip)" "$py -m venv $env_dir"
        -n "virtualenv (pip)" "$py -m virtualenv $env_dir"
)
pip_cmd=(
        hyperfine -N --style basic --runs "$pip_runs" --warmup 1 --prepare "$work/bin/set-aside"
        -n "pip --version, venv env" "$work/venv-env/bin/python -m pip --version"
        -n "pip --version, fresh vrun env" "$work/vrun-env/bin/python -m pip --version"
        -n "vrun ENV pip --version (sandboxed)" "$vrun $work/vrun-env python -m pip --version"
        -n "vrun create + vrun ENV pip --version" "sh -c '$vrun create --python $py $env_dir >/dev/null && $vrun $env_dir python -m pip --version'"
        -n "python3 -m venv + pip --version" "sh -c '$py -m venv $env_dir && $env_dir/bin/python -m pip --version'"
)
echo "machine: $(nproc) CPUs, $(uname -srm), $(. /etc/os-release && echo "$PRETTY_NAME"), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fs:      $(findmnt -n -o FSTYPE,SOURCE,OPTIONS --target "$work" | head -n 1) at $work"
echo "python:  $("$py" -c 'import sys; print(sys.version.split()[0])') ($py), $("$work/venv-env/bin/python" -m pip --version | cut -d' ' -f1-2)"
echo "rounds:  $rounds, each: $(printf '%q ' "${create_cmd[@]}")"
echo "         then PYTHONDONTWRITEBYTECODE=1 $(printf '%q ' "${pip_cmd[@]}")"
for ((i = 1; i <= rounds; i++)); do
        echo "::: round $i/$rounds"
        "${create_cmd[@]}" --export-json "$out/create-$i.json" --export-markdown "$out/create-$i.md" >/dev/null
        PYTHONDONTWRITEBYTECODE=1 "${pip_cmd[@]}" --export-json "$out/pip-$i.json" --export-markdown "$out/pip-$i.md" >/dev/null
done

"$py" - "$out" "$rounds" <<'PYEOF'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
times, user, system = {}, {}, {}
for i in range(1, rounds + 1):
    for group in ("create", "pip"):
        for x in json.load(open("%s/%s-%d.json" % (out, group, i)))["results"]:
            times.setdefault(x["command"], []).extend(x["times"])
            user.setdefault(x["command"], []).append(x["user"])
            system.setdefault(x["command"], []).append(x["system"])
med = {k: statistics.median(v) * 1000 for k, v in times.items()}
print("\n%-38s %10s %10s %10s %8s %8s %5s" % ("", "median ms", "min ms", "max ms", "user ms", "sys ms", "runs"))
for k, v in times.items():
    print("%-38s %10.2f %10.2f %10.2f %8.2f %8.2f %5d" % (k, med[k], min(v) * 1e3, max(v) * 1e3,
          statistics.mean(user[k]) * 1e3, statistics.mean(system[k]) * 1e3, len(v)))

def line(what, value, target, fmt="%.2fx"):
    print("%-58s %8s  target %s: %s" % (what, fmt % value, target, "met" if eval("value " + target) else "MISSED"))

print()
pip_venv = med["pip --version, venv env"]
line("pip --version: fresh vrun env / venv env", med["pip --version, fresh vrun env"] / pip_venv, "<= 1.10")
line("vrun create + first vrun ENV pip / pip in a ready venv env",
     med["vrun create + vrun ENV pip --version"] / pip_venv, "<= 1.15")
line("vrun create --without-pip / mkvenv", med["vrun create --without-pip"] / med["mkvenv (floor)"], "<= 1.3")
print("%-58s %8.1fx" % ("(venv + pip) / (vrun create + vrun ENV pip)",
      med["python3 -m venv + pip --version"] / med["vrun create + vrun ENV pip --version"]))
print("%-58s %8.1fx" % ("venv / vrun create, with pip", med["python3 -m venv (pip)"] / med["vrun create (pip, warm cache)"]))
print("%-58s %8.1fx" % ("venv / vrun create, without pip",
      med["python3 -m venv --without-pip"] / med["vrun create --without-pip"]))
print("%-58s %8.2f ms" % ("vrun ENV pip (sandboxed) - fresh env's own python",
      med["vrun ENV pip --version (sandboxed)"] - med["pip --version, fresh vrun env"]))
PYEOF
echo "results: $out/{create,pip}-ROUND.{json,md}"
