#!/bin/bash
# pip seeded by `vrun create`: it runs, installs into the env, can remove
# itself cleanly, matches what venv seeds, and is shared through the cache.
. "$TESTS/lib.sh"

mkdir -p "$T/pip"
E="$T/pip/env"
create "$E" || done_testing
xy=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
SP="$E/lib/python$xy/site-packages"

# The compiled modules are seeded too (RECORD lists them, see below): the
# first pip run in a fresh env compiles nothing, even where it may not write
# bytecode (PYTHONDONTWRITEBYTECODE=1, a read-only or ephemeral env).
assert_true "pip/__pycache__/__init__.*.pyc is missing" test -f "$SP/pip/__pycache__/__init__.cpython-${xy/./}.pyc"
out=$(PYTHONDONTWRITEBYTECODE=1 "$E/bin/python" -v -m pip --version 2>&1 | grep "code object from '\?$SP/.*\.py'\?$")
assert_eq "$out" "" "modules of pip compiled from source on the first run"

for f in pip pip3 "pip$xy"; do
        assert_true "bin/$f is missing or not executable" test -x "$E/bin/$f"
        out=$("$E/bin/$f" --version 2>&1)
        assert_contains "$out" "from $SP/pip (python $xy)" "bin/$f --version reports the env"
done
out=$("$E/bin/python" -m pip --version 2>&1)
assert_contains "$out" "from $SP/pip (python $xy)" "python -m pip --version"

# The same distributions, at the same versions, as `python3 -m venv` seeds.
if "$PY" -m venv "$T/pip/venv" >/dev/null 2>&1; then
        assert_eq "$("$E/bin/pip" list --format=freeze --disable-pip-version-check 2>&1)" \
                "$("$T/pip/venv/bin/pip" list --format=freeze --disable-pip-version-check 2>&1)" "pip list (vrun vs venv)"
else
        fail "$PY -m venv with pip failed (python3-venv and python3-pip-whl are needed)"
fi
out=$("$E/bin/pip" check 2>&1)
assert_eq "$?" 0 "pip check: $out"

# Every RECORD lists files that exist with the hash and size it says, and
# every file of the distribution is listed (so uninstall removes them all).
res=$("$E/bin/python" - "$SP" 2>&1 <<'PYEOF'
import base64, csv, hashlib, os, sys
sp = sys.argv[1]
bad = []
for d in sorted(os.listdir(sp)):
    if not d.endswith(".dist-info"):
        continue
    listed = set()
    with open(os.path.join(sp, d, "RECORD"), newline="") as f:
        for row in csv.reader(f):
            path, h, size = (row + ["", ""])[:3]
            full = os.path.normpath(os.path.join(sp, path))
            listed.add(full)
            if not os.path.lexists(full):
                bad.append("%s: %s listed but missing" % (d, path))
                continue
            if h:
                algo, _, want = h.partition("=")
                got = base64.urlsafe_b64encode(hashlib.new(algo, open(full, "rb").read()).digest()).rstrip(b"=").decode()
                if got != want:
                    bad.append("%s: %s hash differs" % (d, path))
                if size and int(size) != os.path.getsize(full):
                    bad.append("%s: %s size differs" % (d, path))
    top = open(os.path.join(sp, d, "top_level.txt")).read().split() if os.path.exists(os.path.join(sp, d, "top_level.txt")) else []
    for t in top:
        for root, dirs, files in os.walk(os.path.join(sp, t)):
            for fn in files:
                if os.path.join(root, fn) not in listed:
                    bad.append("%s: %s not in RECORD" % (d, os.path.relpath(os.path.join(root, fn), sp)))
print("\n".join(bad[:20]) if bad else "OK")
PYEOF
)
assert_eq "$res" OK "RECORD files of the seeded distributions"

# Installing a local wheel, offline, lands in the env and imports.
mkdir -p "$T/pip/wheels"
make_wheel "$T/pip/wheels" vrunprobe 1.2.3
out=$("$E/bin/pip" install --no-index --find-links "$T/pip/wheels" vrunprobe 2>&1)
assert_eq "$?" 0 "pip install of a local wheel: $out"
assert_eq "$("$E/bin/python" -c 'import vrunprobe; print(vrunprobe.__version__, vrunprobe.__file__)' 2>&1)" \
        "1.2.3 $SP/vrunprobe/__init__.py" "the installed package imports from the env"
assert_false "the package leaked into the base interpreter" "$PY" -c 'import vrunprobe'
out=$("$E/bin/pip" uninstall -y vrunprobe 2>&1)
assert_eq "$?" 0 "pip uninstall vrunprobe: $out"
assert_false "vrunprobe still importable after uninstall" "$E/bin/python" -c 'import vrunprobe'

# pip removes itself cleanly.
E2="$T/pip/env2"
create "$E2" || done_testing
SP2="$E2/lib/python$xy/site-packages"
ino1=$(stat -c %i "$SP/pip/__init__.py")
ino2=$(stat -c %i "$SP2/pip/__init__.py")
# Each env has its own copy of every file (test-create-seed-integrity.sh
# attacks this): no inode shared with the other env or the cache.
assert_true "pip/__init__.py shared between two envs" test "$ino2" != "$ino1"
assert_eq "$(find "$E" "$E2" -type f -links +1 | head -n 3)" "" "seeded files with more than one name"
out=$("$E2/bin/pip" uninstall -y pip 2>&1)
assert_eq "$?" 0 "pip uninstall -y pip: $out"
assert_eq "$(cd "$SP2" && ls -d pip pip-*.dist-info 2>/dev/null)" "" "pip uninstall -y pip: left in site-packages"
assert_eq "$(cd "$E2/bin" && ls pip* 2>/dev/null)" "" "pip uninstall -y pip: bin/pip* left"
assert_true "uninstalling pip from one env broke another" "$E/bin/pip" --version
assert_true "uninstalling pip from one env removed the cache's copy" test -f "$SP/pip/__init__.py"

# A path full of shell metacharacters: pip's scripts and activate work, and
# nothing in the path is run.
N="$T/pip/a b'c\"d\$(touch PWNED)\`touch PWNED\`;f/env"
mkdir -p "$(dirname "$N")"
create "$N"
out=$(cd "$T" && "$N/bin/pip" --version 2>&1)
assert_contains "$out" "$N/lib/python$xy/site-packages/pip" "pip --version in a path with metacharacters"
out=$(cd "$T" && "$N/bin/pip" install --no-index --find-links "$T/pip/wheels" vrunprobe 2>&1)
assert_eq "$?" 0 "pip install in a path with metacharacters: $out"
res=$(cd "$T" && bash -c '
set -euo pipefail
PS1="> "
old=$PATH
source "$1/bin/activate"
[ "$VIRTUAL_ENV" = "$1" ] || echo "VIRTUAL_ENV=$VIRTUAL_ENV"
[ "$(command -v pip)" = "$1/bin/pip" ] || echo "pip is $(command -v pip)"
python -c "import vrunprobe"
pip --version >/dev/null
deactivate
[ "$PATH" = "$old" ] || echo "PATH not restored"
echo done
' bash "$N" 2>&1)
assert_eq "$res" done "bash activate in a path with metacharacters"
assert_eq "$(find "$T" -name PWNED 2>/dev/null)" "" "a PWNED file was created"
assert_false "a PWNED file was created in /" test -e /PWNED

done_testing
