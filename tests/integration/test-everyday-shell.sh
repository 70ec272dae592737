#!/bin/bash
# `vrun shell` as a new user meets it (issue 14, item 15), on a real
# terminal (pty-drive.py): a Ctrl-C while a slow ~/.bashrc runs does not skip
# the activation; VIRTUAL_ENV_PROMPT is what venv's activate of the env's
# Python sets ("(ENV) " for 3.10-3.12, "ENV" from 3.13, unset before 3.10);
# tcsh gets the "(ENV) " prompt after its ~/.tcshrc, and deactivate leaves.
. "$TESTS/lib.sh"

drive() { "$PY" "$TESTS/pty-drive.py" "$@" 2>&1 | tr -d '\r'; }
make_env "$T/env" --without-pip

# ---- Ctrl-C during a slow .bashrc --------------------------------------------------------------
printf '%s\n' 'sleep 4' 'PS1="rc> "' >"$HOME/.bashrc"
out=$(DRIVE_INT=1.5 DRIVE_INPUT=$'echo "VE=[$VIRTUAL_ENV]"; type deactivate | head -n 1\nexit' SHELL=/bin/bash \
        drive "$VRUN" shell "$T/env")
assert_contains "$out" "VE=[$T/env]" "Ctrl-C during .bashrc: VIRTUAL_ENV set"
assert_contains "$out" "deactivate is a function" "Ctrl-C during .bashrc: deactivate defined"
assert_contains "$out" "(env) " "Ctrl-C during .bashrc: the prompt shows the env"

# ---- VIRTUAL_ENV_PROMPT as venv's activate of that Python sets it --------------------------------
printf '%s\n' 'PS1="rc> "' >"$HOME/.bashrc"
vep() { # ENV: VIRTUAL_ENV_PROMPT inside `vrun shell ENV` under bash
        DRIVE_INPUT=$'echo "VEP=[${VIRTUAL_ENV_PROMPT-unset}]"\nexit' SHELL=/bin/bash drive "$VRUN" shell "$1" |
                grep -o 'VEP=\[[^]]*\]' | tail -n 1
}
venv_vep() { # PYTHON: what `python -m venv` + activate set, for comparison
        rm -rf "$T/venv-ref"
        "$1" -m venv --without-pip --prompt env "$T/venv-ref" >/dev/null 2>&1 || return 1
        bash -c 'PS1="> "; . "$1/bin/activate"; echo "VEP=[${VIRTUAL_ENV_PROMPT-unset}]"' bash "$T/venv-ref"
}
want=$(venv_vep "$PY")
assert_eq "$(vep "$T/env")" "$want" "VIRTUAL_ENV_PROMPT of a $("$PY" -V) env is venv's"
for py in $(pyenv_pythons 3.9 3.13); do
        make_env "$T/env$("$py" -c 'import sys; print(sys.version_info[1])')" --without-pip --python "$py" --prompt env
done
for e in "$T"/env9 "$T"/env13; do
        [ -d "$e" ] || continue
        py=$(sed -n 's/^executable *= *//p' "$e/pyvenv.cfg")
        want=$(venv_vep "$py")
        assert_eq "$(vep "$e")" "$want" "VIRTUAL_ENV_PROMPT of a $("$py" -V) env is venv's"
done

# ---- tcsh --------------------------------------------------------------------------------------
if command -v tcsh >/dev/null 2>&1; then
        printf '%s\n' 'set prompt = "tc> "' >"$HOME/.tcshrc"
        out=$(DRIVE_INPUT=$'echo "VE=[$VIRTUAL_ENV] H=[$HOME]"\ndeactivate' SHELL=$(command -v tcsh) \
                drive "$VRUN" shell "$T/env")
        assert_contains "$out" "(env) tc> " "tcsh: the prompt shows the env after ~/.tcshrc"
        assert_contains "$out" "VE=[$T/env] H=[$HOME]" "tcsh: VIRTUAL_ENV set, HOME the user's"
fi

done_testing
