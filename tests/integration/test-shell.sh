#!/bin/bash
# `vrun shell ENV` driven through a real terminal (tmux), for each of bash,
# zsh, fish and sh that is installed: the prompt shows "(ENV) " after the
# user's own startup files ran; python is the env's and cannot import the
# host's bcrypt (which works again after exit); line editing, the Python
# REPL and less work; Ctrl-C stops `sleep 100`, not vrun; Ctrl-Z and fg;
# a resize reaches the program in the foreground; TIOCSTI, TIOCLINUX and
# TIOCSTI with high bits set fail with EPERM and nothing reaches the outer
# shell; `exit 7` and `deactivate` hand the status back; a prompt full of
# shell syntax is shown, never run. Without a terminal, `vrun shell` is
# `vrun run ENV $SHELL`.
. "$TESTS/lib.sh"

command -v tmux >/dev/null 2>&1 || skip "tmux is not installed (apt-get install tmux)"
need_bcrypt

make_env "$T/env" --without-pip
make_env "$T/envp" --without-pip --prompt "p\$(touch PWNED)\`touch PWNED\`'\"\\%!x"
tricky_prefix="(p\$(touch PWNED)\`touch PWNED\`'\"\\%!x) "

# The user's startup files: a prompt of their own and a PATH that puts a
# "python" of theirs first, both of which the env must come before.
mkdir -p "$HOME/bin" "$HOME/.config/fish" "$T/tmpdir"
printf '#!/bin/sh\necho not the env python\n' >"$HOME/bin/python"
chmod +x "$HOME/bin/python"
printf '%s\n' 'PS1="rc> "' 'PATH="$HOME/bin:$PATH"' >"$HOME/.bashrc"
printf '%s\n' 'setopt promptsubst' 'PS1="rc> "' 'PATH="$HOME/bin:$PATH"' >"$HOME/.zshrc"
printf '%s\n' 'set -g fish_greeting' 'function fish_prompt; printf "rc> "; end' \
        'set -gx PATH $HOME/bin $PATH' >"$HOME/.config/fish/config.fish"

# Python run inside: every way to push input into the terminal, each
# result; then what the outer shell would run if one of them got through.
cat >"$T/inject.py" <<'PYEOF'
import ctypes, errno, fcntl, termios
libc = ctypes.CDLL(None, use_errno=True)
seen = set()
for c in b"touch INJECTED\n":
    try:
        fcntl.ioctl(0, termios.TIOCSTI, bytes([c]))
        seen.add("ok")
    except OSError as e:
        seen.add(errno.errorcode[e.errno])
def raw(request, arg):
    a = ctypes.c_char(arg)
    if libc.ioctl(0, ctypes.c_ulong(request), ctypes.byref(a)) == 0:
        return "ok"
    return errno.errorcode[ctypes.get_errno()]
seen.add(raw(termios.TIOCSTI | (1 << 32), b"x"))
seen.add(raw(0x541C, b"\x03"))  # TIOCLINUX, TIOCL_PASTESEL
seen.add(raw(0x541C | (1 << 32), b"\x03"))
print("STI:" + ",".join(sorted(seen)))
PYEOF
cat >"$T/winch.py" <<'PYEOF'
import os, signal
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGWINCH])
print("WINCH-WAIT", flush=True)
signal.sigwait([signal.SIGWINCH])
s = os.get_terminal_size()
print("WINCH:%dx%d" % (s.columns, s.lines), flush=True)
PYEOF

# One tmux server per session: a new one on a socket that a server being
# killed still holds fails to start.
sessions=0
sock=
tm() { tmux -f /dev/null -S "$sock" "$@"; }
screen() { tm capture-pane -p -J 2>/dev/null; }

# wait_screen TEXT [TENTHS]: until a line of the pane holds TEXT (default 10 s).
wait_screen() {
        local i n=${2:-100}
        for ((i = 0; i < n; i++)); do
                screen | grep -qF -- "$1" && return 0
                sleep 0.1
        done
        return 1
}

# type_line TEXT: types TEXT and Enter, as a user would.
type_line() {
        tm send-keys -l -- "$1"
        tm send-keys Enter
}

# expect_screen TEXT MESSAGE: the pane shows TEXT within 10 s; on failure the
# screen is shown and the session is given up (return 1).
expect_screen() {
        _checks=$((_checks + 1))
        wait_screen "$1" && return 0
        fail "$sh: $2: '$1' not shown; the screen:
$(screen | grep -v '^$')"
        return 1
}

# procs NAME: pids of the processes called NAME on the pane's terminal.
procs() { pgrep -t "$tty" -x "$1" 2>/dev/null; }

# wait_proc NAME STATE: until a process NAME on the terminal is in STATE
# (ps's first letter: S sleeping, T stopped); its pid is left in $pid.
wait_proc() {
        local i s
        for ((i = 0; i < 100; i++)); do
                pid=$(procs "$1" | head -n 1)
                if [ -n "$pid" ]; then
                        s=$(ps -o stat= -p "$pid" 2>/dev/null)
                        [ "${s:0:1}" = "$2" ] && return 0
                fi
                sleep 0.1
        done
        return 1
}

# start SHELL ENV [COMMAND]: a tmux session whose outer shell (bash, prompt
# "outer$ ") runs COMMAND, by default `vrun shell ENV`, with SHELL as $SHELL;
# sets $tty.
start() {
        [ -n "$sock" ] && tm kill-server 2>/dev/null
        sessions=$((sessions + 1))
        sock="$T/tmux.$sessions.sock"
        tm new-session -d -x 120 -y 40 -c "$T" env SHELL="$1" PS1='outer$ ' TMPDIR="$T/tmpdir" \
                bash --norc --noprofile -i
        tty=$(tm display-message -p '#{pane_tty}')
        tty=${tty#/dev/}
        wait_screen 'outer$' || { fail "$1: the outer shell did not start: $(screen)"; return 1; }
        type_line "${3:-\"\$VRUN\" shell $2}"
}

# The "$?" of the shell under test.
status_of() { [ "$sh" = fish ] && echo '$status' || echo '$?'; }

session_main() {
        local st prompt
        st=$(status_of)
        start "$shell_path" "$T/env" || return 1
        # dash has no startup file of the user's: its own prompt follows.
        if [ "$sh" = sh ]; then prompt="(env) "; else prompt="(env) rc> "; fi
        expect_screen "$prompt" "the prompt" || return 1
        _checks=$((_checks + 1))
        screen | grep -q '^(env) ' || fail "$sh: the prompt does not start with '(env) ': $(screen)"

        type_line "python -c 'import bcrypt'; printf 'BC%s\\n' \":$st\""
        expect_screen "BC:1" "python -c 'import bcrypt' fails inside" || return 1
        type_line "printf 'PY%s\\n' \":\$(command -v python)\""
        expect_screen "PY:$T/env/bin/python" "python is the env's, first on PATH" || return 1

        # Line editing: the backspace takes the X back.
        tm send-keys -l -- "printf 'LE%s\\n' :abcX"
        tm send-keys BSpace Enter
        expect_screen "LE:abc" "line editing" || return 1

        # Programs that read the terminal.
        type_line "python"
        expect_screen ">>> " "the Python REPL starts" || return 1
        type_line 'print("RE" + "PL:%d" % (6 * 7))'
        expect_screen "REPL:42" "the Python REPL reads the terminal" || return 1
        tm send-keys C-d
        type_line "printf 'PX%s\\n' \":\$VIRTUAL_ENV\""
        expect_screen "PX:$T/env" "Ctrl-D leaves the REPL" || return 1
        type_line "seq 1001 1100 | less"
        expect_screen "1039" "less shows its first page" || return 1
        tm send-keys q
        type_line "printf 'LQ%s\\n' \":\$VIRTUAL_ENV\""
        expect_screen "LQ:$T/env" "q leaves less" || return 1

        # Ctrl-C goes to the program in the foreground, not to vrun.
        type_line "sleep 100"
        _checks=$((_checks + 1))
        wait_proc sleep S || { fail "$sh: sleep 100 did not start: $(screen)"; return 1; }
        tm send-keys C-c
        type_line "printf 'CC%s\\n' \":\$VIRTUAL_ENV\""
        expect_screen "CC:$T/env" "Ctrl-C returns to the shell inside" || return 1
        _checks=$((_checks + 1))
        [ -z "$(procs sleep)" ] || fail "$sh: sleep survived Ctrl-C"
        _checks=$((_checks + 1))
        [ -n "$(procs vrun)" ] || fail "$sh: vrun did not survive Ctrl-C"

        # Ctrl-Z stops it, fg resumes it.
        type_line "sleep 100"
        _checks=$((_checks + 1))
        wait_proc sleep S || { fail "$sh: sleep 100 did not start: $(screen)"; return 1; }
        tm send-keys C-z
        _checks=$((_checks + 1))
        wait_proc sleep T || { fail "$sh: Ctrl-Z did not stop sleep: $(screen)"; return 1; }
        _checks=$((_checks + 1))
        for v in $(procs vrun); do
                case $(ps -o stat= -p "$v") in
                T*) fail "$sh: Ctrl-Z stopped vrun" ;;
                esac
        done
        type_line "fg"
        _checks=$((_checks + 1))
        wait_proc sleep S || { fail "$sh: fg did not resume sleep: $(screen)"; return 1; }
        tm send-keys C-c
        type_line "printf 'FG%s\\n' \":\$VIRTUAL_ENV\""
        expect_screen "FG:$T/env" "back in the shell after fg and Ctrl-C" || return 1

        # A resize: the size changes and the program in the foreground gets SIGWINCH.
        type_line "printf 'SZ%s\\n' \":\$(stty size)\""
        expect_screen "SZ:40 120" "stty size" || return 1
        type_line "python $T/winch.py"
        expect_screen "WINCH-WAIT" "the SIGWINCH waiter starts" || return 1
        tm resize-window -x 100 -y 30
        expect_screen "WINCH:100x30" "SIGWINCH reaches the program inside" || return 1
        type_line "printf 'SZ%s\\n' \":\$(stty size)\""
        expect_screen "SZ:30 100" "stty size after the resize" || return 1

        # Terminal injection, right before the shell exits: whatever got
        # into the input queue would be read by the outer shell.
        type_line "python $T/inject.py; exit 7"
        expect_screen "STI:EPERM" "TIOCSTI and TIOCLINUX fail with EPERM" || return 1
        _checks=$((_checks + 1))
        screen | grep -q '^STI:EPERM$' || fail "$sh: an injection ioctl did not fail with EPERM: $(screen | grep STI)"
        # The outer prompt first: a line typed while the shell under test is
        # still exiting is echoed before that prompt, and would look like
        # text typed into the outer shell. (Text injected into the input
        # queue would be run by the outer shell: the INJECTED check below
        # catches that.)
        local i
        for ((i = 0; i < 100; i++)); do
                [ "$(screen | grep -v '^$' | tail -n 1)" = 'outer$' ] && break
                sleep 0.1
        done
        type_line "printf 'ST%s\\n' \":\$?\""
        expect_screen "ST:7" "exit 7 comes back as 7" || return 1
        _checks=$((_checks + 1))
        screen | grep -qxF "outer\$ printf 'ST%s\\n' \":\$?\"" ||
                fail "$sh: something was typed into the outer shell: $(screen | tail -n 5)"
        _checks=$((_checks + 1))
        if [ -e "$T/INJECTED" ]; then
                fail "$sh: the sandbox typed a command into the outer shell"
                rm -f "$T/INJECTED"
        fi
        type_line "$PY -c 'import bcrypt'; printf 'HB%s\\n' \":\$?\""
        expect_screen "HB:0" "bcrypt imports again after exit" || return 1
        _checks=$((_checks + 1))
        [ -z "$(ls -A "$T/tmpdir")" ] || fail "$sh: startup files left behind: $(ls -A "$T/tmpdir")"
        return 0
}

# An env whose prompt is shell syntax; deactivate leaves with the status of
# the last command. vrun runs under a script, which has no job control to
# take the terminal back: vrun must, or the script can no longer read it.
session_tricky() {
        start "$shell_path" "$T/envp" \
                "bash -c '\"\$VRUN\" shell \"\$1\"; echo \"DE:\$?\"; read -r x; echo \"RD:\$x\"' _ $T/envp" || return 1
        expect_screen "$tricky_prefix" "the prompt is shown as written" || return 1
        type_line "false"
        type_line "deactivate"
        expect_screen "DE:1" "deactivate leaves with the last status" || return 1
        type_line "typed"
        expect_screen "RD:typed" "the script that ran vrun reads the terminal after it" || return 1
        _checks=$((_checks + 1))
        if [ -e "$T/PWNED" ]; then
                fail "$sh: the prompt was run as code"
                rm -f "$T/PWNED"
        fi
        return 0
}

for shell_path in /bin/bash /usr/bin/zsh /usr/bin/fish /bin/sh; do
        sh=${shell_path##*/}
        if [ ! -x "$shell_path" ]; then
                if [ "${VRUN_TESTS_MUST_WORK:-0}" = 1 ]; then
                        fail "$sh is not installed"
                else
                        echo "note: $sh is not installed, not tested" >&2
                fi
                continue
        fi
        session_main
        session_tricky

        # Without a terminal: `vrun run ENV $SHELL`. (stderr may hold fish's
        # complaints about a read-only home.)
        out=$(echo 'echo hi; exit 3' | SHELL=$shell_path "$VRUN" shell "$T/env" 2>"$T/stderr")
        assert_eq "$?:$out" "3:hi" "$sh: vrun shell with stdin not a terminal (stderr: $(cat "$T/stderr"))"
done
tm kill-server 2>/dev/null

out=$(echo 'echo hi; exit 3' | SHELL=/bin/sh "$VRUN" "$T/env" 2>"$T/stderr")
assert_eq "$?:$out" "3:hi" "vrun ENV with no command and stdin not a terminal (stderr: $(cat "$T/stderr"))"

done_testing
