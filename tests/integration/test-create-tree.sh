#!/bin/bash
# `vrun create` makes the same tree as `python3 -m venv` for the same
# interpreter, and a pyvenv.cfg with the same facts.
. "$TESTS/lib.sh"

# compare_with_venv PY NAME [OPTIONS...]: builds NAME with venv and with vrun
# from PY and compares the two trees and pyvenv.cfg files.
compare_with_venv() {
        local py=$1 name=$2
        shift 2
        local v="$T/tree/venv-$name" r="$T/tree/vrun-$name"
        if ! "$py" -m venv --without-pip "$@" "$v" >/dev/null 2>&1; then
                fail "$py -m venv $* failed (is python3-venv installed?)"
                return
        fi
        create --without-pip --python "$py" "$@" "$r" || return

        assert_eq "$(tree_listing "$r")" "$(tree_listing "$v")" "$name: paths and file types (vrun vs venv)"

        # The interpreter in the env is the same one venv links to.
        local f
        for f in python python3 "python$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"; do
                if [ -L "$v/bin/$f" ]; then
                        assert_eq "$(readlink -f "$r/bin/$f")" "$(readlink -f "$v/bin/$f")" "$name: bin/$f resolves to"
                elif [ -f "$v/bin/$f" ]; then
                        assert_true "$name: bin/$f is not a copy of $py" cmp -s "$r/bin/$f" "$(readlink -f "$py")"
                fi
        done

        # pyvenv.cfg: vrun always writes these keys; venv's keys (3.8 writes
        # fewer) are a subset of vrun's; the facts agree.
        local keys k
        keys=$(cfg_keys "$r")
        for k in home include-system-site-packages version executable command; do
                assert_contains "$keys" "$k" "$name: pyvenv.cfg key"
        done
        for k in $(cfg_keys "$v"); do
                assert_contains "$keys" "$k" "$name: key written by venv, missing from vrun's pyvenv.cfg"
        done
        for k in home include-system-site-packages version; do
                assert_eq "$(cfg_get "$r" "$k")" "$(cfg_get "$v" "$k")" "$name: pyvenv.cfg $k"
        done
        if [ -n "$(cfg_get "$v" executable)" ]; then
                assert_eq "$(cfg_get "$r" executable)" "$(readlink -f "$(cfg_get "$v" executable)")" \
                        "$name: pyvenv.cfg executable"
        fi
        assert_eq "$(cfg_get "$r" executable)" "$(readlink -f "$py")" "$name: executable is the real interpreter"
        assert_contains "$(cfg_get "$r" command)" "create" "$name: command says how the env was made"
        assert_contains "$(cfg_get "$r" command)" "$r" "$name: command names the env"

        # The env works: its python runs and knows it is in a venv.
        assert_eq "$("$r/bin/python" -c 'import sys; print(sys.prefix != sys.base_prefix)' 2>&1)" True \
                "$name: bin/python runs in the env"
}

mkdir -p "$T/tree"
compare_with_venv "$PY" debian
for py in $(pyenv_pythons 3.8 3.12 3.13); do
        compare_with_venv "$py" "pyenv-$(basename "$py")"
done

# Options that change the tree or pyvenv.cfg, against venv with the same ones.
compare_with_venv "$PY" copies --copies
for f in python python3 python3.11; do
        assert_false "--copies: bin/$f is a symlink" test -L "$T/tree/vrun-copies/bin/$f"
        assert_true "--copies: bin/$f is not a regular file" test -f "$T/tree/vrun-copies/bin/$f"
done
compare_with_venv "$PY" prompt --prompt 'my p'
assert_eq "$(cfg_get "$T/tree/vrun-prompt" prompt)" "$(cfg_get "$T/tree/venv-prompt" prompt)" "pyvenv.cfg prompt"
compare_with_venv "$PY" ssp --system-site-packages

# include-system-site-packages is always written: a missing key means true.
assert_eq "$(cfg_get "$T/tree/vrun-debian" include-system-site-packages)" false "default include-system-site-packages"
assert_eq "$(cfg_get "$T/tree/vrun-ssp" include-system-site-packages)" true "--system-site-packages"
assert_eq "$(cfg_get "$T/tree/vrun-debian" prompt)" "" "no prompt key without --prompt"
assert_eq "$(grep -c '^prompt' "$T/tree/vrun-prompt/pyvenv.cfg")" 1 "one prompt line with --prompt"

# A relative ENV is made relative to the current directory, and the default
# interpreter is python3 on PATH.
cd "$T/tree" || exit 1
create --without-pip rel
# --prompt . means the current directory's name, as with venv.
compare_with_venv "$PY" dot --prompt .
assert_eq "$(cfg_get "$T/tree/vrun-dot" prompt)" "$(cfg_get "$T/tree/venv-dot" prompt)" "pyvenv.cfg prompt with --prompt ."
assert_eq "$(cfg_get "$T/tree/vrun-dot" prompt)" "'tree'" "--prompt . is the working directory's name"
assert_eq "$(cfg_get "$T/tree/rel" executable)" "$(readlink -f "$(command -v python3)")" "default interpreter is python3 on PATH"
assert_eq "$("$T/tree/rel/bin/python" -c 'import sys; print(sys.prefix)')" "$T/tree/rel" "relative ENV: sys.prefix"
cd "$T" || exit 1

done_testing
