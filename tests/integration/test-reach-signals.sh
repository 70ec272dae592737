#!/bin/bash
# Signals stay inside (issue 11, docs/security.md "Reach"): a program run by
# vrun shares the caller's process group; whatever it does with kill(), a
# sibling process that the caller started beside vrun, and the caller itself,
# must survive. Tried under every profile with kill(0, SIGTERM),
# kill(0, SIGKILL), killpg(getpgrp()), kill(-1, SIGKILL) and kill(0, SIGSTOP).
# Each attack runs in a session of its own, so only this test's processes are
# at stake.
. "$TESTS/lib.sh"

make_env "$T/env" --without-pip

# attack NAME PROFILE CODE: runs CODE in the sandbox from a script that
# started a sibling (sleep) first; the sibling and the script must survive.
attack() {
        local name=$1 profile=$2 code=$3 i stops=0
        case "$code" in *SIGSTOP*) stops=1 ;; esac
        rm -f "$T/sib.pid" "$T/done"
        setsid -w bash -c 'sleep 300 & echo $! >"$1/sib.pid"
                "$2" --profile "$3" "$1/env" python -c "$4" >"$1/out" 2>&1
                echo "$?" >"$1/done"' _ "$T" "$VRUN" "$profile" "$code" &
        local wrapper=$!
        # A stopped group never finishes by itself: give it 10 s (2 s when
        # the program stops itself on purpose).
        for ((i = 0; i < (stops ? 20 : 100); i++)); do
                [ -e "$T/done" ] && break
                kill -0 "$wrapper" 2>/dev/null || break
                sleep 0.1
        done
        local sib state
        sib=$(cat "$T/sib.pid" 2>/dev/null)
        state=$(awk '{print $3}' "/proc/$sib/stat" 2>/dev/null)
        _checks=$((_checks + 1))
        case "$state" in
        "") fail "$name ($profile): the sibling outside the sandbox was killed" ;;
        T | t) fail "$name ($profile): the sibling outside the sandbox was stopped" ;;
        esac
        _checks=$((_checks + 1))
        if [ "$stops" = 1 ]; then
                # The program may stop itself (vrun then waits for it); the
                # script that ran vrun must not be stopped with it.
                state=$(awk '{print $3}' "/proc/$wrapper/stat" 2>/dev/null)
                case "$state" in
                "" | T | t) fail "$name ($profile): the script that ran vrun was stopped or killed ($state)" ;;
                esac
        else
                [ -e "$T/done" ] || fail "$name ($profile): the script that ran vrun did not get to its end"
        fi
        # Clean up whatever state the attack left (a stopped group included).
        kill -CONT -- -"$wrapper" 2>/dev/null
        kill -KILL -- -"$wrapper" 2>/dev/null
        [ -n "$sib" ] && kill -KILL "$sib" 2>/dev/null
        wait "$wrapper" 2>/dev/null
}

for profile in default install untrusted; do
        attack "kill(0, SIGTERM)" "$profile" 'import os, signal; os.kill(0, signal.SIGTERM)'
        attack "kill(0, SIGKILL)" "$profile" 'import os, signal; os.kill(0, signal.SIGKILL)'
        attack "killpg(getpgrp(), SIGTERM)" "$profile" 'import os, signal; os.killpg(os.getpgrp(), signal.SIGTERM)'
        attack "kill(-1, SIGKILL)" "$profile" 'import os, signal; os.kill(-1, signal.SIGKILL)'
        attack "kill(0, SIGSTOP)" "$profile" 'import os, signal; os.kill(0, signal.SIGSTOP)'
done

# The program still signals what is its own: a child it started, and itself.
expect_run 0 "child got SIGTERM" "signals inside still work" "$T/env" python -c '
import os, signal, subprocess, sys
c = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
os.kill(c.pid, signal.SIGTERM)
c.wait()
print("child got SIGTERM" if c.returncode == -signal.SIGTERM else "child: %d" % c.returncode)'

# Signals from outside still come in: vrun forwards SIGTERM to the program.
"$VRUN" "$T/env" python -c 'import signal, sys, time
signal.signal(signal.SIGTERM, lambda *a: (print("got SIGTERM", flush=True), sys.exit(3)))
open(sys.argv[1], "w").close()
time.sleep(60)' "$T/ready" >"$T/fwd.out" 2>&1 &
vpid=$!
wait_for_file "$T/ready" || fail "the program did not start"
kill -TERM "$vpid"
wait "$vpid"
assert_eq "$?" 3 "SIGTERM sent to vrun reaches the program"
assert_eq "$(cat "$T/fwd.out")" "got SIGTERM" "the program saw SIGTERM"

done_testing
