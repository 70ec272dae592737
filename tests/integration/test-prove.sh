#!/bin/bash
# vrun prove: on a normal env every check holds (exit 0, text and JSON); a
# deliberately leaky configuration exits 1 and names the module and the dir;
# a module the env provides is the env's own, not a leak; the probe runs
# under the plan `vrun run` builds for the same options; code in the env
# cannot doctor the filesystem evidence.
. "$TESTS/lib.sh"

need_bcrypt
make_env "$T/env"
cd "$T" || exit 1
pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
site="$T/env/lib/python$pyver/site-packages"
dist=/usr/lib/python3/dist-packages

# json_get FILE EXPR: EXPR evaluated with j = the JSON in FILE.
json_get() {
        "$PY" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- a normal env: everything holds -----------------------------------------------------
vrun_rc prove env
assert_eq "$rc" 0 "vrun prove env: exit status (stderr: $err; stdout: $out)"
assert_eq "$err" "" "vrun prove env: nothing on stderr"
last=$(printf '%s\n' "$out" | tail -n 1)
assert_contains "$last" "ok: all " "vrun prove env: the summary"
assert_contains "$out" "[ok] bcrypt is hidden -- host: $dist/bcrypt; inside: not at that path (ENOENT); $dist empty" \
        "bcrypt is always in the sample, found on the host and hidden inside"
assert_contains "$out" "import: ModuleNotFoundError" "the import attempt's evidence"
assert_contains "$out" "[ok] $dist shows nothing of the host's -- empty (ro tmpfs)" "the global dir is an empty ro tmpfs"
assert_contains "$out" "[ok] the host is read-only -- / EROFS" "the host is read-only"
assert_contains "$out" "[ok] the base interpreter is read-only -- /usr EROFS" "the base prefix is read-only"
assert_contains "$out" "[ok] no capabilities -- CapInh 0000000000000000 CapPrm 0000000000000000 CapEff 0000000000000000 CapBnd 0000000000000000 CapAmb 0000000000000000" \
        "all capability sets are empty"
assert_contains "$out" "[ok] no_new_privs is set -- NoNewPrivs: 1" "no_new_privs"
assert_contains "$out" "[ok] a seccomp filter is on -- Seccomp: 2" "seccomp"
for ns in user mnt pid ipc uts; do
        assert_contains "$out" "[ok] the $ns namespace is not the host's -- inside $ns:[" "namespace $ns"
done
assert_contains "$out" "[ok] network: the host's, as configured" "the default profile shares the network"
assert_not_contains "$out" "the net namespace is not the host's" "net is not checked as new when it is shared"
assert_contains "$out" "[ok] the env's own packages import -- $site is on sys.path; imported: " "the env's packages"
assert_contains "$out" "pip" "pip is among the env's packages that import"
assert_not_contains "$out" "[LEAK]" "no leak on a normal env"
assert_not_contains "$out" "[FAIL]" "no failure on a normal env"
n_sample=$(printf '%s\n' "$out" | grep -c ' is hidden -- host: ')
_checks=$((_checks + 1))
[ "$n_sample" -ge 1 ] && [ "$n_sample" -le 20 ] || fail "the default sample has $n_sample modules (1..20 expected)"
# Plain output off a terminal: no escape sequences, no ✓.
assert_not_contains "$out" $'\033' "no colors when stdout is not a terminal"

# On a UTF-8 terminal: a green check mark and an em dash; NO_COLOR makes it plain.
if command -v script >/dev/null; then
        tty_out=$(LANG=C.UTF-8 script -qec "$VRUN prove --module bcrypt env" /dev/null)
        assert_contains "$tty_out" $'\033[32m\u2713\033[0m bcrypt is hidden \u2014 host: ' "a terminal gets a colored check mark"
        tty_out=$(NO_COLOR=1 LANG=C.UTF-8 script -qec "$VRUN prove --module bcrypt env" /dev/null)
        assert_contains "$tty_out" "[ok] bcrypt is hidden -- host: " "NO_COLOR: plain marks on a terminal"
        assert_not_contains "$tty_out" $'\033' "NO_COLOR: no escape sequences"
fi

# ---- JSON -------------------------------------------------------------------------------
"$VRUN" prove --json env >"$T/proof.json" 2>"$T/proof.err"
assert_eq "$?" 0 "vrun prove --json env: exit status ($(cat "$T/proof.err"))"
assert_true "vrun prove --json prints valid JSON" json_ok "$T/proof.json"
assert_eq "$(json_get "$T/proof.json" 'j["ok"]')" True "JSON: ok is true"
assert_eq "$(json_get "$T/proof.json" 'j["leaks"]')" "[]" "JSON: no leaks"
assert_eq "$(json_get "$T/proof.json" 'sorted(j)')" \
        "['checks', 'env', 'interpreter', 'leaks', 'modules', 'ok', 'profile']" "JSON: the top-level keys"
assert_eq "$(json_get "$T/proof.json" 'j["env"]')" "$T/env" "JSON: env is the absolute path"
assert_eq "$(json_get "$T/proof.json" 'j["profile"]')" default "JSON: profile"
assert_eq "$(json_get "$T/proof.json" 'j["interpreter"]["version"]')" \
        "$("$PY" -c 'import platform; print(platform.python_version())')" "JSON: the interpreter's version"
assert_eq "$(json_get "$T/proof.json" 'all(set(c) >= {"id", "what", "ok", "evidence"} and c["ok"] is True for c in j["checks"])')" \
        True "JSON: every check has id, what, ok, evidence and holds"
assert_eq "$(json_get "$T/proof.json" '"bcrypt" in j["modules"]["names"] and j["modules"]["sampled"]')" True \
        "JSON: bcrypt is in the sample"
assert_eq "$(json_get "$T/proof.json" 'len(j["modules"]["names"]) <= 20')" True "JSON: at most 20 sampled modules"
assert_eq "$(json_get "$T/proof.json" 'sorted(c["id"] for c in j["checks"] if c["id"].startswith("ns:"))')" \
        "['ns:ipc', 'ns:mnt', 'ns:pid', 'ns:user', 'ns:uts']" "JSON: the namespace checks"

# ---- a deliberately leaky configuration ----------------------------------------------------
vrun_rc prove --ro-bind "$dist" --module bcrypt env
assert_eq "$rc" 1 "the leaky configuration exits 1 (stderr: $err)"
assert_contains "$out" "[LEAK] bcrypt is hidden -- host: $dist/bcrypt; inside: $dist/bcrypt/__init__.py readable" \
        "the leak names bcrypt and where it is readable"
assert_contains "$out" "[LEAK] $dist shows nothing of the host's -- " "the leak names the dir"
assert_contains "$(printf '%s\n' "$out" | tail -n 1)" "LEAK: 2 of " "the summary counts the leaks"
assert_contains "$(printf '%s\n' "$out" | tail -n 1)" "bcrypt (in $dist), $dist" "the summary names bcrypt and the dir"
"$VRUN" prove --json --ro-bind "$dist" --module bcrypt env >"$T/leak.json" 2>/dev/null
assert_eq "$?" 1 "the leaky configuration with --json exits 1"
assert_eq "$(json_get "$T/leak.json" 'j["ok"]')" False "JSON: ok is false"
assert_eq "$(json_get "$T/leak.json" '[(l.get("module"), l.get("path")) for l in j["leaks"]]')" \
        "[('bcrypt', '$dist'), (None, '$dist')]" "JSON: the leaks name bcrypt and the dir"
assert_eq "$(json_get "$T/leak.json" 'j["modules"]')" "{'sampled': False, 'names': ['bcrypt']}" \
        "JSON: --module replaces the sample"

# Code in the env runs only after the filesystem checks: a .pth file that
# blinds os.stat and os.listdir does not turn the leak into a pass, and what
# it prints does not reach the report.
cat >"$site/zz_blind.pth" <<'EOF'
import os, sys; os.stat = os.lstat = (lambda *a, **k: (_ for _ in ()).throw(FileNotFoundError(2, "blinded"))); os.listdir = lambda *a: []; print('{"phase": 2, "checks": []}'); sys.stdout.flush()
EOF
vrun_rc prove --ro-bind "$dist" --module bcrypt env
assert_eq "$rc" 1 "a blinding .pth in the env does not hide the leak"
assert_contains "$out" "[LEAK] bcrypt is hidden -- host: $dist/bcrypt; inside: $dist/bcrypt/__init__.py readable" \
        "phase 1 evidence is gathered before the env's code runs"
assert_not_contains "$out" "phase" "the .pth file's output is not in the report"
rm -f "$site/zz_blind.pth"

# ---- modules the env provides are the env's own ---------------------------------------------
mkdir -p "$T/wheels"
make_wheel "$T/wheels" falconc 1.0.0
make_wheel "$T/wheels" bcrypt 99.0
vrun_rc env pip install --quiet --no-index --find-links "$T/wheels" falconc bcrypt
assert_eq "$rc" 0 "pip install falconc bcrypt inside (stderr: $err)"
vrun_rc prove --module bcrypt --module falconc --module json --module no_such_module_xyz env
assert_eq "$rc" 0 "prove of modules the env provides: exit status (stdout: $out; stderr: $err)"
assert_contains "$out" "[ok] bcrypt is the env's own; the host's copy is hidden -- host: $dist/bcrypt; inside: not at that path (ENOENT)" \
        "bcrypt: the env's own, the host's copy hidden"
assert_contains "$out" "import: from $site/bcrypt/__init__.py" "bcrypt imports from the env"
assert_contains "$out" "[ok] falconc is the env's own -- host: the base interpreter does not find it; import: from $site/falconc/__init__.py" \
        "falconc: the env's own"
assert_contains "$out" "[ok] json is part of the standard library" "a stdlib module is visible by design"
assert_contains "$out" "[ok] no_such_module_xyz is not importable -- host: the base interpreter does not find it; import: ModuleNotFoundError" \
        "a module nobody has"
assert_not_contains "$out" "LEAK" "no leak reported for the env's own modules"
"$VRUN" prove --json env >"$T/own.json" 2>/dev/null
assert_eq "$(json_get "$T/own.json" '"bcrypt" in j["modules"]["names"] or "falconc" in j["modules"]["names"]')" False \
        "the default sample leaves out modules the env provides"

# ---- other configurations hold too ------------------------------------------------------------
vrun_rc prove --unshare-net --module bcrypt env
assert_eq "$rc" 0 "prove --unshare-net (stdout: $out; stderr: $err)"
assert_contains "$out" "[ok] the net namespace is not the host's" "--unshare-net: a new net namespace"
assert_contains "$out" "[ok] network: loopback only, as configured -- interfaces: lo" "--unshare-net: only lo"
vrun_rc prove --profile untrusted --module bcrypt env
assert_eq "$rc" 0 "prove --profile untrusted (stdout: $out; stderr: $err)"
assert_contains "$out" "(profile untrusted;" "the profile is named"
assert_contains "$out" "[ok] network: loopback only, as configured" "untrusted: no network"

# ---- the probe runs under run's plan ------------------------------------------------------------
# Same options, same plan: only the command differs.
for opts in "" "--unshare-net --ro-bind $T/wheels --setenv X 1" "--profile untrusted"; do
        # shellcheck disable=SC2086
        a=$("$VRUN" run --dry-run $opts env python 2>&1 | grep -v '^exec:')
        # shellcheck disable=SC2086
        b=$("$VRUN" prove --dry-run $opts env 2>&1 | grep -v '^exec:')
        assert_eq "$b" "$a" "prove --dry-run $opts prints run's plan"
done
vrun_rc prove --dry-run env
assert_contains "$out" "exec: $T/env/bin/python -I -S -c <vrun's probe, " "the probe is the env's python with -I -S"

# ---- errors -----------------------------------------------------------------------------------------
expect_error 2 "$VRUN" prove --module 'not a name' env
assert_contains "$err" "--module: 'not a name' is not a module name" "a bad --module"
expect_error 2 "$VRUN" run --module bcrypt env python -c pass
expect_error 2 "$VRUN" prove
expect_error 125 "$VRUN" prove "$T/missing"
assert_contains "$err" "does not exist" "prove of a missing env says so"
assert_false "prove does not create a missing env" test -e "$T/missing"

done_testing
