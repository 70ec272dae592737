#!/bin/bash
# Creating where something already is: --clear replaces a venv, --upgrade
# refreshes one, and without them the venv is refreshed as venv does it.
. "$TESTS/lib.sh"

P="$T/ex"
mkdir -p "$P"
E="$P/env"

create --without-pip "$E" || done_testing
echo old >"$E/marker"

# Without --clear/--upgrade, as with venv and uv: a refresh that keeps
# what is in the env (test-everyday.sh checks the details).
create --without-pip "$E"
assert_eq "$(cat "$E/marker" 2>/dev/null)" old "create over an existing venv: content kept"
assert_eq "$(find "$P" -maxdepth 1 -name '.vrun-*')" "" "create over an existing venv: temporary dir left"

# A failing --clear (bad interpreter) keeps the old env.
expect_error 1 "$VRUN" create --clear --python "$P/no-such-python" "$E"
assert_eq "$(cat "$E/marker" 2>/dev/null)" old "failed --clear: old env kept"
assert_true "failed --clear: old env still works" "$E/bin/python" -c 'import sys; assert sys.prefix != sys.base_prefix'

# --clear replaces it: the old content is gone, the new env works.
create --clear --without-pip --prompt cleared "$E"
assert_false "--clear: old marker file still there" test -e "$E/marker"
assert_eq "$("$E/bin/python" -c 'import sys; print(sys.prefix)' 2>&1)" "$E" "--clear: new env works"
assert_eq "$(cfg_get "$E" prompt)" "'cleared'" "--clear: new pyvenv.cfg"
assert_eq "$(find "$P" -mindepth 1 -maxdepth 1 | sort)" "$E" "--clear: only the env is left in its parent"

# --clear of an env with pip gives a fresh pip.
create "$P/withpip" || done_testing
echo junk >"$P/withpip/lib/python3.11/site-packages/junk.py"
create --clear "$P/withpip"
assert_false "--clear: old site-packages content survived" test -e "$P/withpip/lib/python3.11/site-packages/junk.py"
out=$("$P/withpip/bin/pip" --version 2>&1)
assert_contains "$out" "$P/withpip/lib/python3.11/site-packages" "--clear: pip works in the new env"

# A non-empty directory that is not a venv is never replaced, with or
# without --clear.
mkdir -p "$P/project/src"
echo 'print(1)' >"$P/project/src/app.py"
echo notes >"$P/project/README"
before=$(cd "$P/project" && find . -printf '%y %p %s\n' | sort; cat src/app.py README)
for opt in "" --clear --upgrade; do
        expect_error 1 "$VRUN" create --without-pip $opt "$P/project"
        after=$(cd "$P/project" && find . -printf '%y %p %s\n' | sort; cat src/app.py README)
        assert_eq "$after" "$before" "create ${opt:-(plain)} over a non-venv dir leaves it untouched"
        assert_eq "$(find "$P" -maxdepth 1 -name '.vrun-*')" "" "create $opt over a non-venv dir: temporary dir left"
done
assert_contains "$err" "not a venv" "--upgrade of a non-venv dir: message"

# An empty directory is fine, as with venv.
mkdir "$P/empty"
create --without-pip "$P/empty"
assert_true "create into an empty dir" test -f "$P/empty/pyvenv.cfg"

# `mkdir env && cd env && vrun create .`: the env is built in that
# directory, so the shell standing in it sees it (as with venv) and the
# directory keeps its mode.
mkdir "$P/here"
chmod 2775 "$P/here"
res=$( (cd "$P/here" && "$VRUN" create --without-pip . && ls bin/python && ./bin/python -c 'import sys; print(sys.prefix)') 2>&1)
assert_eq "$res" "bin/python
$P/here" "create . in an empty working directory: the env is there"
assert_eq "$(stat -c %a "$P/here")" 2775 "create into an empty dir keeps the dir's mode"

# An empty mount point (a container volume, a tmpfs) as ENV.
mkdir -p "$P/volume"
if [ "$(id -u)" = 0 ]; then ns=(unshare -m --propagation private); else ns=(unshare -Urm --propagation private); fi
if "${ns[@]}" true 2>/dev/null; then
        res=$("${ns[@]}" bash -c 'mount -t tmpfs tmpfs "$2" && "$1" create --without-pip "$2" 2>&1 && "$2/bin/python" -c "import sys; print(sys.prefix)"' \
                bash "$VRUN" "$P/volume" 2>&1)
        assert_eq "$res" "$P/volume" "create into an empty mount point"
fi
rmdir "$P/volume"

# --upgrade of something that does not exist.
expect_error 1 "$VRUN" create --upgrade --without-pip "$P/none"
assert_nothing_left "$P" none

# --upgrade repairs a broken interpreter link and keeps the env's content.
U="$P/up"
create "$U" || done_testing
echo keep >"$U/marker"
ln -sfn "$P/gone/python3" "$U/bin/python3"
assert_false "the broken link should break the env (test setup)" "$U/bin/python" -c pass
create --upgrade "$U"
assert_eq "$(readlink -f "$U/bin/python3")" "$(readlink -f "$PY")" "--upgrade: bin/python3 repaired"
assert_eq "$("$U/bin/python" -c 'import sys; print(sys.prefix)' 2>&1)" "$U" "--upgrade: env works again"
assert_eq "$(cat "$U/marker" 2>/dev/null)" keep "--upgrade keeps the env's content"
out=$("$U/bin/pip" --version 2>&1)
assert_contains "$out" "$U/lib/python3.11/site-packages" "--upgrade: pip still works"

# --upgrade rewrites pyvenv.cfg from the interpreter's facts.
sed -i -e 's/^version *=.*/version = 3.0.0/' -e 's|^home *=.*|home = /nonexistent|' \
        -e 's/^include-system-site-packages *=.*/include-system-site-packages = false/' "$U/pyvenv.cfg"
create --upgrade --system-site-packages --prompt upgraded "$U"
assert_eq "$(cfg_get "$U" version)" "$("$PY" -c 'import platform; print(platform.python_version())')" "--upgrade: version"
assert_eq "$(cfg_get "$U" home)" "$(dirname "$(readlink -f "$PY")")" "--upgrade: home"
assert_eq "$(cfg_get "$U" include-system-site-packages)" true "--upgrade --system-site-packages"
assert_eq "$(cfg_get "$U" prompt)" "'upgraded'" "--upgrade --prompt"
assert_true "--upgrade --system-site-packages: bcrypt imports" "$U/bin/python" -c 'import bcrypt'
res=$(bash -c 'PS1="> "; source "$1/bin/activate"; echo "$PS1"' bash "$U" 2>&1)
assert_contains "$res" "(upgraded) " "--upgrade --prompt: activate shows the new prompt"

# The base named in pyvenv.cfg is gone: --upgrade says to use --python, and
# --upgrade --python fixes it. (vrun's record would restore the recorded
# base: forget it, as for an env vrun never saw.)
rm -rf "${XDG_STATE_HOME:-$HOME/.local/state}/vrun"
sed -i -e "s|^executable *=.*|executable = $P/gone/python3.11|" -e "s|^home *=.*|home = $P/gone|" "$U/pyvenv.cfg"
ln -sfn "$P/gone/python3.11" "$U/bin/python3"
expect_error 1 "$VRUN" create --upgrade "$U"
assert_contains "$err" "--python" "--upgrade with the base gone: message names --python"
assert_contains "$err" "is gone" "--upgrade with the base gone: says it is gone"
# There, but not executable: said so, not "gone".
mkdir -p "$P/noexec"
printf 'not a program\n' >"$P/noexec/python3.11"
sed -i -e "s|^executable *=.*|executable = $P/noexec/python3.11|" -e "s|^home *=.*|home = $P/noexec|" "$U/pyvenv.cfg"
ln -sfn "$P/noexec/python3.11" "$U/bin/python3"
expect_error 1 "$VRUN" create --upgrade "$U"
assert_contains "$err" "cannot be used: Permission denied" "--upgrade with a base that cannot run: says why"
assert_contains "$err" "--python" "--upgrade with a base that cannot run: message names --python"
create --upgrade --python "$PY" "$U"
assert_eq "$("$U/bin/python" -c 'import sys; print(sys.prefix)' 2>&1)" "$U" "--upgrade --python: env works again"
assert_eq "$(cfg_get "$U" executable)" "$(readlink -f "$PY")" "--upgrade --python: executable"

# As root, move an env to another base: pyenv's 3.12 to 3.13 keeps working.
for py in $(pyenv_pythons 3.12); do
        for py13 in $(pyenv_pythons 3.13); do
                create --without-pip --python "$py" "$P/move"
                create --upgrade --without-pip --python "$py13" "$P/move"
                assert_eq "$("$P/move/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2], sys.prefix)' 2>&1)" \
                        "3.13 $P/move" "--upgrade --python 3.13 of a 3.12 env"
                assert_eq "$(cfg_get "$P/move" version)" "$("$py13" -c 'import platform; print(platform.python_version())')" \
                        "--upgrade to 3.13: version"
                assert_true "--upgrade to 3.13: lib/python3.13/site-packages" test -d "$P/move/lib/python3.13/site-packages"
        done
done

done_testing
