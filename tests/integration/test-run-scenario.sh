#!/bin/bash
# The seed's scenario: project A's env gets falconc 1.0.0 and project B's env
# gets 2.0.0, installed by pip inside the sandbox from local wheels; each env
# imports its own version, through its own python, through the base
# interpreter it is overlaid on, and through a #!/usr/bin/python3 script.
. "$TESTS/lib.sh"

mkdir -p "$T/A/wheels" "$T/B/wheels"
make_wheel "$T/A/wheels" falconc 1.0.0
make_wheel "$T/B/wheels" falconc 1.0.0
make_wheel "$T/B/wheels" falconc 2.0.0
cat >"$T/version.py" <<'EOF'
#!/usr/bin/python3
import falconc
print(falconc.__version__)
EOF
chmod 755 "$T/version.py"

pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
for p in A:1.0.0 B:2.0.0; do
        proj=${p%%:*} want=${p#*:}
        cd "$T/$proj" || exit 1
        make_env env
        # pip itself runs inside the sandbox; the wheels dir is in the project.
        vrun_rc env pip install --no-index --find-links wheels falconc
        assert_eq "$rc" 0 "$proj: vrun env pip install falconc (stdout: $out; stderr: $err)"
        assert_contains "$out" "Successfully installed falconc-$want" "$proj: pip's report"
        assert_true "$proj: falconc landed in the env's site-packages" \
                test -f "$T/$proj/env/lib/python$pyver/site-packages/falconc/__init__.py"
        assert_true "$proj: falconc's dist-info landed in the env" \
                test -f "$T/$proj/env/lib/python$pyver/site-packages/falconc-$want.dist-info/RECORD"

        expect_run 0 "$want" "$proj: env python imports its own falconc" \
                env python -c 'import falconc; print(falconc.__version__)'
        expect_run 0 "$want" "$proj: python3 from PATH" env python3 -c 'import falconc; print(falconc.__version__)'
        expect_run 0 "$want" "$proj: the base interpreter /usr/bin/python3 sees the env's falconc (overlay)" \
                env /usr/bin/python3 -c 'import falconc; print(falconc.__version__)'
        cp "$T/version.py" ./run-me.py
        expect_run 0 "$want" "$proj: a #!/usr/bin/python3 script sees the env's falconc" env "$T/$proj/run-me.py"
        expect_run 0 "$want" "$proj: the same script run by a relative path" env ./run-me.py
        vrun_rc env pip show falconc
        assert_contains "$out" "Version: $want" "$proj: pip show falconc inside"
        # And pip put nothing on the host.
        assert_false "$proj: the host's $PY does not import falconc" "$PY" -c 'import falconc'
done

# An env works from any directory: A's env run from B is still 1.0.0.
cd "$T/B" || exit 1
expect_run 0 1.0.0 "A's env used from project B" ../A/env python -c 'import falconc; print(falconc.__version__)'
expect_run 0 2.0.0 "B's env again" "$T/B/env" python -c 'import falconc; print(falconc.__version__)'

# Upgrading and uninstalling inside work on the env.
cd "$T/A" || exit 1
cp "$T/B/wheels/falconc-2.0.0-py3-none-any.whl" wheels/
vrun_rc env pip install --no-index --find-links wheels --upgrade falconc
assert_eq "$rc" 0 "A: pip install --upgrade inside (stderr: $err)"
expect_run 0 2.0.0 "A after the upgrade" env python -c 'import falconc; print(falconc.__version__)'
vrun_rc env pip uninstall -y falconc
assert_eq "$rc" 0 "A: pip uninstall inside (stderr: $err)"
assert_false "A: falconc is gone from the env after uninstall" \
        test -e "$T/A/env/lib/python$pyver/site-packages/falconc"
vrun_rc env python -c 'import falconc'
assert_contains "$err" "ModuleNotFoundError" "A: falconc no longer imports"
expect_run 0 2.0.0 "B is untouched by A's uninstall" "$T/B/env" python -c 'import falconc; print(falconc.__version__)'

# `vrun ENV CMD` creates ENV when it is missing, as `vrun create ENV` would.
mkdir -p "$T/C"
cd "$T/C" || exit 1
make_wheel "$T/C" falconc 3.0.0
vrun_rc --python "$PY" newenv python -c 'import sys; print(sys.prefix)'
assert_eq "$rc" 0 "vrun newenv creates the missing env (stderr: $err)"
assert_eq "$out" "$T/C/newenv" "the new env is the one in use"
assert_true "newenv has a pyvenv.cfg" test -f "$T/C/newenv/pyvenv.cfg"
vrun_rc newenv pip install --no-index --find-links . falconc
assert_eq "$rc" 0 "pip works in the created env (stderr: $err)"
expect_run 0 3.0.0 "the created env imports its falconc" newenv python -c 'import falconc; print(falconc.__version__)'

# Envs made by `python3 -m venv` work too.
if "$PY" -m venv "$T/C/stdvenv" >/dev/null 2>&1; then
        vrun_rc stdvenv pip install --no-index --find-links . falconc
        assert_eq "$rc" 0 "python3 -m venv env: pip install inside (stderr: $err)"
        expect_run 0 "3.0.0 $T/C/stdvenv" "python3 -m venv env" \
                stdvenv python -c 'import falconc, sys; print(falconc.__version__, sys.prefix)'
        expect_run 0 3.0.0 "python3 -m venv env: the base interpreter sees its falconc" \
                stdvenv /usr/bin/python3 -c 'import falconc; print(falconc.__version__)'
else
        fail "$PY -m venv failed (is python3-venv installed?)"
fi

# And envs made by virtualenv, where it is installed.
if "$PY" -m virtualenv --version >/dev/null 2>&1; then
        if "$PY" -m virtualenv --no-download -p "$PY" "$T/C/virtenv" >/dev/null 2>&1; then
                vrun_rc virtenv pip install --no-index --find-links . falconc
                assert_eq "$rc" 0 "virtualenv env: pip install inside (stderr: $err)"
                expect_run 0 "3.0.0 $T/C/virtenv" "virtualenv env" \
                        virtenv python -c 'import falconc, sys; print(falconc.__version__, sys.prefix)'
                vrun_rc virtenv python -c 'import bcrypt'
                assert_contains "$err" "ModuleNotFoundError" "virtualenv env: no global packages"
        else
                fail "$PY -m virtualenv failed"
        fi
else
        echo "note: virtualenv is not installed; its env is not checked"
fi

done_testing
