#!/bin/bash
# vrun info: the env's path, its base interpreter, pip and the packages
# installed (from their dist-info), the directories a run hides (the same as
# the plan's), the profile, and whether the interpreter cache entry is
# fresh; JSON too. A missing env is an error and is not created.
. "$TESTS/lib.sh"

make_env "$T/env"
cd "$T" || exit 1
mkdir -p "$T/wheels"
make_wheel "$T/wheels" falconc 1.0.0
vrun_rc env pip install --quiet --no-index --find-links "$T/wheels" falconc
assert_eq "$rc" 0 "pip install falconc inside (stderr: $err)"

pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
site="$T/env/lib/python$pyver/site-packages"
pyreal=$(readlink -f "$PY")
pyversion=$("$PY" -c 'import platform; print(platform.python_version())')
pip_version=$(ls -d "$site"/pip-*.dist-info | sed 's/.*pip-\(.*\)\.dist-info/\1/')

json_get() {
        "$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- text --------------------------------------------------------------------------------------
vrun_rc info env
assert_eq "$rc" 0 "vrun info env (stderr: $err)"
assert_eq "$err" "" "vrun info: nothing on stderr"
assert_contains "$out" "env:               $T/env" "info: the env's absolute path"
assert_contains "$out" "base interpreter:  $pyreal (cpython $pyversion)" "info: the base interpreter"
assert_contains "$out" "pip:               $pip_version" "info: pip's version"
assert_contains "$out" "                   falconc 1.0.0" "info: falconc is listed"
assert_contains "$out" "                   pip $pip_version" "info: pip is listed"
assert_contains "$out" "                   /usr/lib/python3/dist-packages" "info: Debian's dist-packages is hidden"
assert_contains "$out" "profile:           default: " "info: the default profile applies"
assert_contains "$out" "interpreter cache: fresh: " "info: the cache entry written by create is fresh"

# ---- JSON --------------------------------------------------------------------------------------
"$VRUN" info --json env >"$T/info.json"
assert_eq "$?" 0 "vrun info --json env"
assert_true "info --json is valid JSON" json_ok "$T/info.json"
assert_eq "$(json_get "$T/info.json" 'sorted(j)')" \
        "['env', 'hidden', 'interpreter_cache', 'overlay', 'packages', 'pip', 'profile', 'python', 'system_site_packages']" "JSON: the keys"
assert_eq "$(json_get "$T/info.json" 'j["env"]')" "$T/env" "JSON: env"
assert_eq "$(json_get "$T/info.json" 'j["python"]["executable"]')" "$pyreal" "JSON: python.executable"
assert_eq "$(json_get "$T/info.json" 'j["python"]["version"]')" "$pyversion" "JSON: python.version"
assert_eq "$(json_get "$T/info.json" 'j["pip"]')" "$pip_version" "JSON: pip"
assert_eq "$(json_get "$T/info.json" '[p for p in j["packages"] if p["name"] == "falconc"]')" \
        "[{'name': 'falconc', 'version': '1.0.0'}]" "JSON: falconc from its dist-info METADATA"
want=$(cd "$site" && ls -d *.dist-info | wc -l)
assert_eq "$(json_get "$T/info.json" 'len(j["packages"])')" "$want" "JSON: one package per dist-info"
assert_eq "$(json_get "$T/info.json" 'j["profile"]["name"]')" default "JSON: profile"
assert_eq "$(json_get "$T/info.json" 'j["interpreter_cache"]["fresh"]')" True "JSON: the cache entry is fresh"
cache_file=$(json_get "$T/info.json" 'j["interpreter_cache"]["path"]')
assert_true "JSON: the cache entry exists" test -f "$cache_file"
# The hidden dirs are those of the plan `vrun run` would execute.
plan_hides=$("$VRUN" run --dry-run env true | sed -n 's/^mount: empty ro tmpfs on \([^ ]*\).*/\1/p' | LC_ALL=C sort)
info_hides=$(json_get "$T/info.json" '"\n".join(sorted(h["path"] for h in j["hidden"]))' | LC_ALL=C sort)
assert_eq "$info_hides" "$plan_hides" "JSON: hidden = the plan's hides"
assert_contains "$info_hides" "/usr/lib/python3/dist-packages" "JSON: dist-packages is hidden"
overlay=$(json_get "$T/info.json" 'j["overlay"]')
assert_true "JSON: the overlay dir exists on the host ($overlay)" test -d "$overlay"

# A stale cache entry: info says so, and the entry is fresh again afterwards.
rm -f "$cache_file"
"$VRUN" info --json env >"$T/info2.json"
assert_eq "$(json_get "$T/info2.json" 'j["interpreter_cache"]["fresh"]')" False "JSON: a missing entry is not fresh"
rm -f "$cache_file"
vrun_rc info env
assert_contains "$out" "interpreter cache: was missing or stale" "info: a re-queried interpreter is reported"
vrun_rc info env
assert_contains "$out" "interpreter cache: fresh: " "info: the entry is fresh again"

# Without pip.
make_env "$T/bare" --without-pip
vrun_rc info bare
assert_eq "$rc" 0 "vrun info bare"
assert_contains "$out" "pip:               not installed" "info: no pip"
assert_contains "$out" "packages:          0 installed" "info: no packages"
"$VRUN" info --json bare >"$T/bare.json"
assert_eq "$(json_get "$T/bare.json" 'j["pip"], j["packages"]')" "(None, [])" "JSON: no pip, no packages"

# ---- errors -----------------------------------------------------------------------------------
expect_error 1 "$VRUN" info "$T/missing"
assert_contains "$err" "does not exist" "info of a missing env says so"
assert_false "info does not create the env" test -e "$T/missing"
mkdir "$T/notavenv"
expect_error 1 "$VRUN" info "$T/notavenv"
assert_contains "$err" "not a venv" "info of a plain directory"
expect_error 2 "$VRUN" info
expect_error 2 "$VRUN" info env extra

done_testing
