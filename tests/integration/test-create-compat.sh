#!/bin/bash
# What Python and the shell see in a vrun env is what they see in a
# `python3 -m venv` env. Every check runs on both kinds, so a failure on the
# venv env means the test is wrong, not vrun.
. "$TESTS/lib.sh"

mkdir -p "$T/compat"

# check_env KIND ENV PY: Python-level checks of ENV, built from base PY.
check_env() {
        local kind=$1 e=$2 py=$3 base res
        base=$("$py" -c 'import sys; print(sys.base_prefix)')
        res=$("$e/bin/python" - "$e" "$base" 2>&1 <<'PYEOF'
import os, site, sys, sysconfig
env, base = sys.argv[1], sys.argv[2]
bad = []
def check(what, ok, got):
    if not ok:
        bad.append("%s: %r" % (what, got))
check("sys.prefix is the env", sys.prefix == env, sys.prefix)
check("sys.exec_prefix is the env", sys.exec_prefix == env, sys.exec_prefix)
check("sys.base_prefix is the base", sys.base_prefix == base, sys.base_prefix)
check("sys.executable is ENV/bin/python", sys.executable == os.path.join(env, "bin", "python"), sys.executable)
paths = sysconfig.get_paths()
for key in ("purelib", "platlib", "scripts", "data"):
    check("sysconfig %s is in the env" % key, paths[key] == env or paths[key].startswith(env + "/"), paths[key])
sp = os.path.join(env, "lib", "python%d.%d" % sys.version_info[:2], "site-packages")
check("purelib is ENV/lib/python3.X/site-packages", paths["purelib"] == sp, paths["purelib"])
gsp = site.getsitepackages()
check("site.getsitepackages() lists only the env's", all(p.startswith(env + "/") for p in gsp), gsp)
check("site.getsitepackages() lists site-packages", sp in gsp, gsp)
check("sys.path has the env's site-packages", sp in sys.path, sys.path)
check("no global package dir on sys.path",
      not [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and not p.startswith(env + "/")],
      sys.path)
check("user site disabled", not site.ENABLE_USER_SITE, site.ENABLE_USER_SITE)
print("\n".join(bad) if bad else "OK")
PYEOF
)
        assert_eq "$res" OK "$kind $e: python sees the venv"

        # multiprocessing's spawn method starts a fresh ENV/bin/python.
        res=$(cd "$T" && timeout 120 "$e/bin/python" "$T/compat/spawn.py" 2>&1)
        assert_eq "$res" "42 True" "$kind $e: multiprocessing spawn"
}

# check_activate KIND ENV: bash, strict mode, source activate then deactivate.
check_activate() {
        local kind=$1 e=$2 res
        res=$(env -i HOME="$HOME" PATH=/usr/local/bin:/usr/bin:/bin bash -c '
set -euo pipefail
e=$1
PS1="base> "
old_path=$PATH
old_ps1=$PS1
source "$e/bin/activate"
[ "${VIRTUAL_ENV:-}" = "$e" ] || { echo "VIRTUAL_ENV=${VIRTUAL_ENV:-unset}"; exit 1; }
[ "$(command -v python)" = "$e/bin/python" ] || { echo "python is $(command -v python)"; exit 1; }
case "$PATH" in "$e/bin:"*) ;; *) echo "PATH=$PATH"; exit 1 ;; esac
case "$PS1" in *"($(basename "$e")) "*) ;; *) echo "activated PS1=$PS1"; exit 1 ;; esac
[ "$(python -c "import sys; print(sys.prefix)")" = "$e" ] || { echo "python prefix"; exit 1; }
hash -r
deactivate
[ "$PATH" = "$old_path" ] || { echo "restored PATH=$PATH"; exit 1; }
[ "$PS1" = "$old_ps1" ] || { echo "restored PS1=$PS1"; exit 1; }
[ -z "${VIRTUAL_ENV:-}" ] || { echo "VIRTUAL_ENV still set"; exit 1; }
! type deactivate >/dev/null 2>&1 || { echo "deactivate still defined"; exit 1; }
echo OK
' bash "$e" 2>&1)
        assert_eq "$res" OK "$kind $e: bash activate/deactivate under set -euo pipefail"
}

cat >"$T/compat/spawn.py" <<'PYEOF'
import multiprocessing as mp, sys
def child(x):
    return (x * 7, sys.prefix)
if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as p:
        v, prefix = p.apply(child, (6,))
    print(v, prefix == sys.prefix)
PYEOF

pythons="$PY $(pyenv_pythons 3.8 3.12 3.13)"
n=0
for py in $pythons; do
        n=$((n + 1))
        v="$T/compat/venv-$n"
        r="$T/compat/vrun-$n"
        if ! "$py" -m venv --without-pip "$v" >/dev/null 2>&1; then
                fail "$py -m venv failed (is python3-venv installed?)"
                continue
        fi
        create --without-pip --python "$py" "$r" || continue
        for kind in venv vrun; do
                [ $kind = venv ] && e=$v || e=$r
                check_env "$kind" "$e" "$py"
                check_activate "$kind" "$e"
        done

        # venv itself accepts a vrun env for --upgrade, and the env still works.
        out=$("$py" -m venv --without-pip --upgrade "$r" 2>&1)
        assert_eq "$?" 0 "$py -m venv --upgrade of a vrun env: $out"
        check_env "vrun (after venv --upgrade)" "$r" "$py"
done

# --system-site-packages lets the env see Debian's python3-bcrypt; the
# default hides it. The host's python3 sees it in any case.
assert_true "python3-bcrypt is not importable by $PY (install python3-bcrypt)" "$PY" -c 'import bcrypt'
create --without-pip --system-site-packages "$T/compat/ssp"
create --without-pip "$T/compat/nossp"
"$PY" -m venv --without-pip --system-site-packages "$T/compat/venv-ssp" >/dev/null 2>&1
"$PY" -m venv --without-pip "$T/compat/venv-nossp" >/dev/null 2>&1
for kind in vrun venv; do
        ssp="$T/compat/$([ $kind = vrun ] && echo ssp || echo venv-ssp)"
        nossp="$T/compat/$([ $kind = vrun ] && echo nossp || echo venv-nossp)"
        assert_true "$kind --system-site-packages: bcrypt does not import" "$ssp/bin/python" -c 'import bcrypt'
        res=$("$nossp/bin/python" -c 'import bcrypt' 2>&1)
        assert_contains "$res" "ModuleNotFoundError" "$kind without --system-site-packages: bcrypt must not import"
done
# With --system-site-packages the env's own site-packages still comes first.
res=$("$T/compat/ssp/bin/python" -c 'import site, sys; print(site.getsitepackages()[0] == sys.prefix + "/lib/python%d.%d/site-packages" % sys.version_info[:2])' 2>&1)
assert_eq "$res" True "--system-site-packages: the env's site-packages comes first"

done_testing
