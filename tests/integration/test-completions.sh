#!/bin/bash
# Shell completions: the bash one, loaded into this bash, offers the verbs
# after "vrun ", each verb's options after "--", the profiles vrun lists after
# "--profile " and env dirs (directories with a pyvenv.cfg) where ENV goes;
# zsh and fish accept their files (zsh -n, fish -n), and fish completes the
# same basics when asked (complete -C).
. "$TESTS/lib.sh"
: "${SRC:?SRC must name a copy of the source tree (runner.sh with VRUN_SOURCE_ROOT)}"

comp=$SRC/completions
for f in vrun.bash _vrun vrun.fish; do
        assert_true "completions/$f exists" test -f "$comp/$f"
done

# complete WORDS...: runs the bash completion function for the command line
# WORDS (the last word is the one being completed) and leaves the sorted
# candidates, space-separated, in $got.
. "$comp/vrun.bash"
complete_line() {
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _vrun
        got=$(printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ')
        got=${got% }
}

assert_eq "$(complete -p vrun 2>&1)" "complete -F _vrun vrun" "vrun.bash registers _vrun for vrun"

mkdir -p "$T/w/sub" && cd "$T/w" || exit 1
make_env "$T/w/myenv" --without-pip
mkdir -p plain

# ---- verbs ------------------------------------------------------------------------------
complete_line vrun ""
for v in create run shell prove info verify profiles doctor export help myenv; do
        assert_contains " $got " " $v " "'vrun <TAB>' offers $v"
done
assert_contains "$got" "plain/" "'vrun <TAB>' offers directories to walk into"
complete_line vrun pr
assert_eq "$got" "profiles prove" "'vrun pr<TAB>'"
complete_line vrun d
assert_eq "$got" "doctor" "'vrun d<TAB>'"
complete_line vrun help ""
assert_eq "$got" "create doctor export help info profiles prove run shell verify" "'vrun help <TAB>'"

# ---- options per verb -------------------------------------------------------------------
complete_line vrun create --
assert_eq "$got" "--clear --copies --help --prompt --python --system-site-packages --upgrade --without-pip" \
        "'vrun create --<TAB>'"
complete_line vrun run --
for o in --bind --ro-bind --tmpfs --setenv --unsetenv --chdir --share-net --unshare-net --profile --ephemeral \
        --verbose --dry-run --python --help; do
        assert_contains " $got " " $o " "'vrun run --<TAB>' offers $o"
done
assert_not_contains " $got " " --clear " "'vrun run --<TAB>' does not offer create's --clear"
assert_not_contains " $got " " --module " "'vrun run --<TAB>' does not offer prove's --module"
complete_line vrun prove --mo
assert_eq "$got" "--module" "'vrun prove --mo<TAB>'"
complete_line vrun prove --module bcrypt my
assert_eq "$got" "myenv" "ENV after 'prove --module NAME'"
complete_line vrun export --
for o in --bundle --oci --tag --seccomp-json --profile --setenv; do
        assert_contains " $got " " $o " "'vrun export --<TAB>' offers $o"
done
complete_line vrun run --
assert_not_contains " $got " " --bundle " "'vrun run --<TAB>' does not offer export's --bundle"
complete_line vrun export --oci img --tag t:1 my
assert_eq "$got" "myenv" "ENV after 'export --oci DIR --tag T'"
complete_line vrun shell --un
assert_eq "$got" "--unsetenv --unshare-net" "'vrun shell --un<TAB>'"
complete_line vrun doctor --
assert_eq "$got" "--help --json" "'vrun doctor --<TAB>'"
complete_line vrun info --j
assert_eq "$got" "--json" "'vrun info --j<TAB>'"
complete_line vrun --eph
assert_eq "$got" "--ephemeral" "'vrun --eph<TAB>': run's options before an implicit ENV"
# After ENV, run completes a command; shell and prove take nothing more.
complete_line vrun shell myenv ""
assert_eq "$got" "" "'vrun shell myenv <TAB>': nothing"
complete_line vrun myenv activ
assert_contains "$got" "activate" "'vrun myenv activ<TAB>': commands in ENV/bin"

# ---- profiles ---------------------------------------------------------------------------
want_profiles=$("$VRUN" profiles | while read -r n _; do echo "$n"; done | LC_ALL=C sort | tr '\n' ' ')
want_profiles=${want_profiles% }
assert_eq "$want_profiles" "default install untrusted" "vrun profiles lists the built-in profiles"
complete_line "$VRUN" run --profile ""
assert_eq "$got" "$want_profiles" "'vrun run --profile <TAB>' asks vrun for its profiles"
complete_line "$VRUN" --profile un
assert_eq "$got" "untrusted" "'vrun --profile un<TAB>'"
complete_line "$VRUN" profiles ""
assert_eq "$got" "$want_profiles" "'vrun profiles <TAB>'"
# A vrun that cannot be asked: the fixed list.
complete_line /nonexistent/vrun run --profile ""
assert_eq "$got" "default install untrusted" "'--profile <TAB>' without a vrun to ask"
echo '{}' >ci.json
complete_line vrun run --profile ./
assert_contains "$got" "./ci.json" "'--profile ./<TAB>' offers profile files"

# ---- env dirs ---------------------------------------------------------------------------
complete_line vrun run ""
assert_eq "$got" "myenv plain/ sub/" "'vrun run <TAB>': envs, then directories to walk into"
complete_line vrun run my
assert_eq "$got" "myenv" "'vrun run my<TAB>'"
complete_line vrun --profile untrusted my
assert_eq "$got" "myenv" "'vrun --profile untrusted my<TAB>': ENV after options"
complete_line vrun info ""
assert_contains "$got" "myenv" "'vrun info <TAB>' offers envs"
complete_line vrun verify ""
assert_contains "$got" "myenv" "'vrun verify <TAB>' offers envs"
complete_line vrun run --setenv FOO ""
assert_eq "$got" "" "'--setenv FOO <TAB>': no completion for the value"
complete_line vrun run --setenv FOO bar my
assert_eq "$got" "myenv" "ENV after '--setenv VAR VALUE'"
complete_line vrun run --bind "$T/w/su"
assert_eq "$got" "$T/w/sub" "'--bind <TAB>' completes paths"

# ---- zsh and fish -----------------------------------------------------------------------
if command -v zsh >/dev/null; then
        expect_status 0 zsh -n "$comp/_vrun"
        assert_eq "$(head -n 1 "$comp/_vrun")" "#compdef vrun" "_vrun starts with #compdef vrun"
else
        skip "zsh is not installed (apt-get install zsh)"
fi
if command -v fish >/dev/null; then
        expect_status 0 fish -n "$comp/vrun.fish"
        # fish can be asked without a terminal.
        out=$(cd "$T/w" && HOME=$T/home fish --no-config -c "source $comp/vrun.fish; complete -C 'vrun create --w'; complete -C 'vrun run my'; complete -C 'vrun d'" 2>&1)
        assert_contains "$out" "--without-pip" "fish: 'vrun create --w<TAB>'"
        assert_contains "$out" "myenv" "fish: 'vrun run my<TAB>' offers the env"
        assert_contains "$out" "doctor" "fish: 'vrun d<TAB>'"
else
        skip "fish is not installed (apt-get install fish)"
fi

done_testing
