#!/bin/bash
# An env that `vrun create` made at a path full of shell metacharacters: in
# every installed shell, activate puts the env's python first on PATH, shows
# "(name) " before the prompt, runs nothing from the path or the prompt, and
# deactivate gives the shell back as it was.
. "$TESTS/lib.sh"

env="$T/a b'c\"d\$(touch PWNED)\`touch PWNED\`;f!g"
create --without-pip "$env" || done_testing
# What the env's own python says; "python" after activation must say the same.
want_prefix=$("$env/bin/python" -c 'import sys; print(sys.prefix)')
name=${env##*/}

# have SHELL: the shell is installed; CI installs them all, so there a missing
# one is a failure.
have() {
        command -v "$1" >/dev/null 2>&1 && return 0
        if [ "${VRUN_TESTS_MUST_WORK:-0}" = 1 ]; then
                fail "$1 is not installed"
        else
                echo "note: $1 is not installed, not tested" >&2
        fi
        return 1
}

# Every driver prints: sys.prefix of "python", the prompt as shown, then
# "deactivated" when VIRTUAL_ENV is gone and the prompt is back.
check() { # shell output
        local lines
        mapfile -t lines <<<"$2"
        assert_eq "${lines[0]:-}" "$want_prefix" "$1: python after activate is the env's"
        assert_eq "${lines[1]:-}" "($name) old> " "$1: prompt after activate"
        assert_eq "${lines[2]:-}" "deactivated" "$1: deactivate"
        if [ -e "$T/PWNED" ]; then
                fail "$1: the env path or prompt was run as code"
                rm -f "$T/PWNED"
        fi
}

export VRUN_T_ENV="$env"

out=$(cd "$T" && bash --norc --noprofile -c '
        set -euo pipefail
        PS1="old> "
        . "$VRUN_T_ENV/bin/activate"
        python -c "import sys; print(sys.prefix)"
        printf "%s\n" "${PS1@P}"
        deactivate
        if [ -z "${VIRTUAL_ENV:-}" ] && [ "$PS1" = "old> " ]; then echo deactivated; fi
' 2>&1)
check bash "$out"

if have zsh; then
        out=$(cd "$T" && zsh -f -c '
                set -euo pipefail
                PS1="old> "
                . "$VRUN_T_ENV/bin/activate"
                python -c "import sys; print(sys.prefix)"
                printf "%s\n" "${(%%)PS1}"
                deactivate
                if [ -z "${VIRTUAL_ENV:-}" ] && [ "$PS1" = "old> " ]; then echo deactivated; fi
        ' 2>&1)
        check zsh "$out"
fi

if have tcsh; then
        # Only an interactive tcsh expands its prompt, once per read of its
        # input: the last one is printed after everything before it ran.
        out=$(cd "$T" && printf '%s\n' 'set prompt = "old> "' 'source "$VRUN_T_ENV/bin/activate.csh"' \
                'python -c "import sys; print(sys.prefix)"' | tcsh -f -i 2>/dev/null)
        assert_contains "$out" "$want_prefix" "tcsh: python after activate is the env's"
        assert_contains "$out" "($name) old> " "tcsh: prompt after activate"
        # csh expands aliases a line at a time: deactivate needs a line of its own.
        out=$(cd "$T" && printf '%s\n' 'set prompt = "old> "' 'source "$VRUN_T_ENV/bin/activate.csh"' \
                'deactivate' 'if (! $?VIRTUAL_ENV) echo "$prompt"' | tcsh -f 2>&1)
        assert_eq "$out" "old> " "tcsh: deactivate"
        if [ -e "$T/PWNED" ]; then
                fail "tcsh: the env path or prompt was run as code"
                rm -f "$T/PWNED"
        fi
fi

if have fish; then
        out=$(cd "$T" && fish --no-config -c '
                function fish_prompt; printf "old> "; end
                source "$VRUN_T_ENV/bin/activate.fish"
                python -c "import sys; print(sys.prefix)"
                printf "%s\n" (fish_prompt)
                deactivate
                if not set -q VIRTUAL_ENV; and test (fish_prompt) = "old> "; echo deactivated; end
        ' 2>&1)
        check fish "$out"
fi

done_testing
