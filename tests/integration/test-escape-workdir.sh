#!/bin/bash
# A writable working directory hands nothing to the user's next login or git
# command (docs/security.md 30). Under `default` the working directory is
# writable; a program run from the home, or from a directory that holds it,
# must not be able to plant startup files there (~/.bashrc, ~/.profile,
# ~/.ssh/authorized_keys, ~/.local/bin, pip.conf), and a program run in a
# repository must not be able to plant hooks or config in its .git or .hg,
# which the user's next git or hg command would run outside any sandbox.
# What the working directory is for, writing files, still works. Each attack
# has its second step: what the plant was for (a login shell, `git status`,
# the other env's python) is run outside the sandbox, and its marker must
# not appear.
. "$TESTS/lib.sh"

make_env "$T/env" --without-pip
home=$T/top/home
mkdir -p "$home/.ssh" "$home/.config/pip" "$T/top/other"
printf 'original\n' >"$home/.bashrc"
printf 'original\n' >"$home/.ssh/authorized_keys"

# The program's attack: every write it tries, one line per result.
mark=$T/login-ran
attack='for f in .bashrc .profile .ssh/authorized_keys .config/pip/pip.conf .local/bin/ls; do
        mkdir -p "$(dirname "$HOME/$f")" 2>/dev/null
        if echo "touch '"$mark"'" >>"$HOME/$f" 2>/dev/null; then echo "WROTE $f"; fi
done'

# run_in DIR ARGS...: runs the attack from DIR with HOME set to $home.
run_in() {
        local dir=$1
        shift
        (cd "$dir" && HOME=$home "$VRUN" "$@" "$T/env" sh -c "$attack" 2>"$T/stderr")
}

# 1. Started in the home.
out=$(run_in "$home")
assert_not_contains "$out" "WROTE" "started in the home, the program wrote a startup file"
assert_eq "$(cat "$home/.bashrc")" "original" "~/.bashrc unchanged"
assert_eq "$(cat "$home/.ssh/authorized_keys")" "original" "~/.ssh/authorized_keys unchanged"
assert_false "no ~/.profile planted" test -e "$home/.profile"
assert_false "no ~/.local/bin/ls planted" test -e "$home/.local/bin/ls"
assert_contains "$(cat "$T/stderr")" "working directory is your home, which stays read-only" \
        "the run says once why the working directory is read-only"
# The second step: the user's next interactive shell and login shell.
HOME=$home bash -ic true </dev/null >/dev/null 2>&1
HOME=$home bash -lc true </dev/null >/dev/null 2>&1
assert_false "the next login ran nothing the program planted" test -e "$mark"

# 1b. $HOME named through a symlink (as with /home -> /var/home): the
#     working directory is a resolved path, and the home is found in it all
#     the same; the run (and the interpreter query it needs, since the
#     interpreter's facts depend on $HOME) must work. The link lives in the
#     working directory, where the sandbox sees it.
ln -s home "$T/top/home-link"
out=$(cd "$T/top" && HOME=$T/top/home-link "$VRUN" "$T/env" sh -c "$attack; echo data >other/out2 && echo OTHER-OK" 2>&1)
assert_contains "$out" "OTHER-OK" "HOME through a symlink: the run works"
assert_not_contains "$out" "WROTE" "HOME through a symlink: the program wrote a startup file"
assert_eq "$(cat "$home/.bashrc")" "original" "~/.bashrc unchanged (HOME through a symlink)"

# 2. Started above the home: the rest of the working directory stays writable.
out=$(cd "$T/top" && HOME=$home "$VRUN" "$T/env" sh -c "$attack; echo data >other/out && echo OTHER-OK" 2>"$T/stderr")
assert_not_contains "$out" "WROTE" "started above the home, the program wrote a startup file"
assert_contains "$out" "OTHER-OK" "started above the home, the rest of the working directory is writable"
assert_eq "$(cat "$home/.bashrc")" "original" "~/.bashrc unchanged (started above the home)"
assert_not_contains "$(cat "$T/stderr")" "vrun:" "started above the home, vrun has nothing to say: the working directory is writable"

# 3. --home rw is the user's explicit choice, and is honoured.
out=$(run_in "$home" --home rw)
assert_contains "$out" "WROTE .bashrc" "--home rw lets the program write the home"
printf 'original\n' >"$home/.bashrc"
rm -rf "$home/.profile" "$home/.local"

# 4. Under install and untrusted the working directory is ephemeral: nothing
#    reaches the home either way.
for profile in install untrusted; do
        run_in "$home" --profile "$profile" >/dev/null
        assert_eq "$(cat "$home/.bashrc")" "original" "~/.bashrc unchanged under $profile"
done

# 5. A repository in the working directory: its metadata stays read-only,
#    the work tree does not.
repo=$T/repo
git init -q "$repo"
mkdir -p "$repo/.hg"
git_config=$(cat "$repo/.git/config")
printf '[hooks]\n' >"$repo/.hg/hgrc"
out=$(cd "$repo" && "$VRUN" "$T/env" sh -c '
        printf "#!/bin/sh\ntouch %s/git-ran\n" "$1" >.git/hooks/pre-commit 2>/dev/null && echo "WROTE hook"
        printf "[core]\n\tfsmonitor = touch %s/git-ran\n" "$1" >>.git/config 2>/dev/null && echo "WROTE git config"
        echo "precommit = /tmp/evil" >>.hg/hgrc 2>/dev/null && echo "WROTE hgrc"
        mv .git .git-old 2>/dev/null && echo "MOVED .git"
        echo data >src.txt && echo TREE-OK' _ "$T" 2>&1)
assert_not_contains "$out" "WROTE" "a program wrote repository metadata"
assert_not_contains "$out" "MOVED" "a program moved .git away"
assert_contains "$out" "TREE-OK" "the work tree stays writable"
assert_false "no hook planted" test -e "$repo/.git/hooks/pre-commit"
assert_eq "$(cat "$repo/.git/config")" "$git_config" ".git/config unchanged"
# The second step: the user's next git command there.
(cd "$repo" && git status >/dev/null 2>&1)
assert_false "the next git status ran nothing the program planted" test -e "$T/git-ran"
assert_eq "$(cat "$repo/.hg/hgrc")" "[hooks]" ".hg/hgrc unchanged"

# 6. A worktree's .git is a file naming the real git dir: it stays as it is.
wt=$T/worktree
mkdir -p "$wt"
printf 'gitdir: %s/.git\n' "$repo" >"$wt/.git"
out=$(cd "$wt" && "$VRUN" "$T/env" sh -c 'echo "gitdir: /tmp/evil" >.git 2>/dev/null && echo WROTE' 2>&1)
assert_not_contains "$out" "WROTE" "a program rewrote a worktree's .git file"
assert_eq "$(cat "$wt/.git")" "gitdir: $repo/.git" "the .git file unchanged"

# 7. Another env in the working directory (the .venv an editor uses): a run
#    in a different env must not plant anything in it; the run's own env,
#    also in the working directory, stays writable.
proj=$T/proj
mkdir -p "$proj"
"$PY" -m venv --without-pip "$proj/.venv"
make_env "$proj/run-env" --without-pip
site=$(cd "$proj/.venv/lib" && echo python3*/site-packages)
out=$(cd "$proj" && "$VRUN" "$proj/run-env" sh -c "
        echo 'import os; open(\"$T/venv-ran\", \"w\")' >.venv/lib/$site/evil.pth 2>/dev/null && echo 'WROTE pth'
        echo 'echo pwned' >>.venv/bin/activate 2>/dev/null && echo 'WROTE activate'
        echo x >run-env/mine && echo RUN-ENV-OK
        echo data >work.txt && echo TREE-OK" 2>&1)
assert_not_contains "$out" "WROTE" "a program wrote into another env in the working directory"
assert_contains "$out" "RUN-ENV-OK" "the run's own env stays writable"
assert_contains "$out" "TREE-OK" "the work tree stays writable"
assert_false "no .pth planted in the other env" test -e "$proj/.venv/lib/$site/evil.pth"
assert_not_contains "$(cat "$proj/.venv/bin/activate")" "pwned" "the other env's activate unchanged"
# The second step: the other env's next use, outside vrun.
"$proj/.venv/bin/python" -c pass
assert_false "the other env's next python ran nothing the program planted" test -e "$T/venv-ran"
# A .venv that is a link (to a cache outside) is left to what it leads to.
ln -s "$T/env" "$proj/venv"
expect_status 0 sh -c "cd '$proj' && '$VRUN' '$proj/run-env' true"

done_testing
