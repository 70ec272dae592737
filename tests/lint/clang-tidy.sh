#!/bin/bash
# Fails when clang-tidy (configuration: .clang-tidy) reports anything in a C file of vrun's
# compile database (the build directory's compile_commands.json); prints the findings.
# By hand: clang-tidy -p build src/FILE.c
set -u
cd "${MESON_SOURCE_ROOT:?}" || exit 1
command -v clang-tidy >/dev/null || { echo "clang-tidy not installed" >&2; exit 77; }
build=$(cd "${VRUN_BUILD_ROOT:?}" && pwd) || exit 1
[ -f "$build/compile_commands.json" ] || { echo "no $build/compile_commands.json" >&2; exit 1; }

# Each source file once (a file shared by several targets is listed for each), and only
# those of the source tree: not what the build generates (embedded.c).
mapfile -t files < <(python3 - "$build" "$PWD" <<'PY'
import json, os, sys
build, src = sys.argv[1], sys.argv[2]
seen = set()
for e in json.load(open(os.path.join(build, "compile_commands.json"))):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    if f.startswith(src + "/") and not f.startswith(build + "/") and f not in seen:
        seen.add(f)
        print(os.path.relpath(f, src))
PY
)
[ "${#files[@]}" -gt 0 ] || { echo "no source files in $build/compile_commands.json" >&2; exit 1; }

# One clang-tidy per file, as many at once as there are CPUs; each file's output is kept
# apart so that findings do not interleave.
out=$(mktemp -d) || exit 1
trap 'rm -rf "$out"' EXIT
printf '%s\0' "${files[@]}" | xargs -0 -P "$(nproc)" -I{} sh -c '
        log="$2/$(printf %s "$1" | tr / _).log"
        clang-tidy -p "$3" --quiet "$1" >"$log" 2>&1 || echo "$1" >>"$2/failed"' sh {} "$out" "$build"

bad=0
if [ -f "$out/failed" ]; then
        mapfile -t failed < <(sort "$out/failed")
        bad=${#failed[@]}
        for f in "${failed[@]}"; do
                cat "$out/$(printf %s "$f" | tr / _).log"
        done
fi
echo "${#files[@]} files checked, $bad with findings"
[ "$bad" = 0 ]
