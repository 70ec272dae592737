#!/bin/bash
# Exit status, signals and stdio of `vrun ENV CMD`: the program's status;
# 128+N when it died of signal N; 127 not found; 126 not executable; 125 when
# vrun failed (naming the step and the errno). SIGINT, SIGTERM, SIGHUP,
# SIGQUIT, SIGUSR1 and SIGUSR2 sent to vrun reach the program; kill -9 of vrun
# ends the sandbox; pid 1 reaps orphans; stdin, stdout and stderr pass through
# untouched.
. "$TESTS/lib.sh"

mkdir -p "$T/proj"
make_env "$T/proj/env" --without-pip
cd "$T/proj" || exit 1

# ---- the program's own status -------------------------------------------------------------
for s in 0 1 3 42 255; do
        expect_status "$s" "$VRUN" env sh -c "exit $s"
done
expect_status 3 "$VRUN" run env python -c 'import sys; sys.exit(3)'
expect_status 137 "$VRUN" env sh -c 'kill -KILL $$'
expect_status 143 "$VRUN" env sh -c 'kill -TERM $$'
expect_status 134 "$VRUN" env python -c 'import os; os.abort()'
expect_status 139 "$VRUN" env python -c 'import os, signal; os.kill(os.getpid(), signal.SIGSEGV)'

# ---- 127, 126 -----------------------------------------------------------------------------
expect_error 127 "$VRUN" env nonexistent-cmd-$$ arg
assert_contains "$err" "nonexistent-cmd-$$" "127 message names the command"
expect_error 127 "$VRUN" env ./missing-script-$$
assert_contains "$err" "missing-script-$$" "127 message names the path"
case "$err" in
*"not found"* | *"No such file"*) ok ;;
*) fail "127 for a missing path should say it is not found: $err" ;;
esac
printf '#!/bin/sh\necho hi\n' >notexec.sh
chmod 644 notexec.sh
expect_error 126 "$VRUN" env ./notexec.sh
assert_contains "$err" "Permission denied" "126 for a non-executable file names the errno"
mkdir -p adir
expect_error 126 "$VRUN" env ./adir
head -c 64 /dev/urandom >garbage.bin
printf '\177ELF' | dd of=garbage.bin conv=notrunc status=none
chmod 755 garbage.bin
expect_error 126 "$VRUN" env ./garbage.bin
printf '#!/nonexistent/interpreter-%s\n' $$ >badshebang.sh
chmod 755 badshebang.sh
# The file exists but cannot be executed (its interpreter is missing): 126,
# as the shells say ("bad interpreter").
expect_error 126 "$VRUN" env ./badshebang.sh

# ---- 125: vrun itself failed, and says which step and which errno -----------------------
expect_error 125 "$VRUN" --bind "$T/missing-$$" env true
assert_contains "$err" "$T/missing-$$" "125 message names the path"
assert_contains "$err" "No such file or directory" "125 message names the errno"
expect_error 125 "$VRUN" --bind "$T/missing-$$:/tmp/x" env true
assert_contains "$err" "No such file or directory" "125 message (SRC:DST) names the errno"
expect_error 125 "$VRUN" --chdir "$T/proj/no-such-dir-$$" env true
assert_contains "$err" "chdir" "125 message names the step (chdir)"
assert_contains "$err" "No such file or directory" "125 message (chdir) names the errno"

# ---- signals sent to vrun reach the program ---------------------------------------------
cat >sig.py <<'PYEOF'
import os, signal, sys, time
base = sys.argv[1]
sigs = {"TERM": 40, "INT": 41, "HUP": 42, "QUIT": 43, "USR1": 44, "USR2": 45}
def handler(num, frame):
    name = signal.Signals(num).name[3:]
    with open(base + ".got", "a") as f:
        f.write(name + "\n")
    os._exit(sigs[name])
for name in sigs:
    signal.signal(getattr(signal, "SIG" + name), handler)
open(base + ".ready", "w").close()
for _ in range(300):
    time.sleep(0.1)
os._exit(99)
PYEOF
declare -A code=([TERM]=40 [INT]=41 [HUP]=42 [QUIT]=43 [USR1]=44 [USR2]=45)
for sig in TERM INT HUP QUIT USR1 USR2; do
        base="$T/proj/sig-$sig"
        "$VRUN" env python sig.py "$base" &
        pid=$!
        if ! wait_for_file "$base.ready"; then
                fail "SIG$sig: the payload never started"
                kill -9 "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
                continue
        fi
        kill -s "$sig" "$pid"
        wait "$pid"
        rc=$?
        assert_eq "$rc" "${code[$sig]}" "SIG$sig sent to vrun: the program's handler ran and vrun returned its status"
        assert_eq "$(cat "$base.got" 2>/dev/null)" "$sig" "SIG$sig sent to vrun reached the program once"
done

# A program without handlers dies of the signal, and vrun says so (bash
# starts background jobs with SIGINT ignored: the program must not inherit that).
for s in TERM:143 INT:130 HUP:129 USR1:138; do
        sig=${s%%:*} want=${s#*:}
        ready="$T/proj/plain-$sig.ready"
        "$VRUN" env sh -c "touch '$ready'; exec sleep 30" &
        pid=$!
        if wait_for_file "$ready"; then
                sleep 0.2
                kill -s "$sig" "$pid"
        else
                fail "SIG$sig: sleep payload never started"
                kill -9 "$pid"
        fi
        wait "$pid"
        assert_eq "$?" "$want" "SIG$sig sent to vrun kills a plain 'sleep' and vrun exits 128+N"
done

# ---- kill -9 of vrun ends the sandbox ----------------------------------------------------
marker="vrun-status-kill9-$$-$RANDOM"
"$VRUN" env sh -c "touch '$T/proj/k9.ready'; exec python -c 'import time; time.sleep(60)' $marker" &
pid=$!
if wait_for_file "$T/proj/k9.ready"; then
        sleep 0.2
        assert_true "before kill -9, the payload runs ($marker)" test "$(marker_procs "$marker")" -ge 1
        kill -9 "$pid"
        wait "$pid" 2>/dev/null
        assert_true "kill -9 of vrun: the payload is gone within 2 s" wait_marker_gone "$marker" 20
else
        fail "kill -9: payload never started"
        kill -9 "$pid"
fi
pkill -9 -f -- "$marker" 2>/dev/null

# And kill -9 of the sandbox's pid 1 ends the payload; vrun reports 137.
marker="vrun-status-pid1-$$-$RANDOM"
"$VRUN" env sh -c "touch '$T/proj/p1.ready'; exec python -c 'import time; time.sleep(60)' $marker" &
pid=$!
if wait_for_file "$T/proj/p1.ready"; then
        sleep 0.2
        init=$(pgrep -P "$pid" | head -n 1)
        kill -9 "$init"
        wait "$pid"
        assert_eq "$?" 137 "kill -9 of the sandbox's pid 1: vrun exits 137"
        assert_true "kill -9 of pid 1: the payload is gone within 2 s" wait_marker_gone "$marker" 20
else
        fail "pid 1 kill: payload never started"
        kill -9 "$pid"
fi
pkill -9 -f -- "$marker" 2>/dev/null

# ---- pid 1 reaps orphans --------------------------------------------------------------------
expect_run 0 "orphan gone: True
zombies: []" "pid 1 reaps an orphaned grandchild" env python -c '
import os, time
child = os.fork()
if child == 0:
    grandchild = os.fork()
    if grandchild == 0:
        time.sleep(0.3)
        os._exit(0)
    open("orphan.pid", "w").write(str(grandchild))
    os._exit(0)
os.waitpid(child, 0)
time.sleep(1.2)
orphan = open("orphan.pid").read()
zombies = []
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            state = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z":
            zombies.append(p)
print("orphan gone:", not os.path.exists("/proc/" + orphan))
print("zombies:", zombies)'
expect_run 0 "" "ps inside shows no zombie" env sh -c 'sh -c "sleep 0.2 & exit 0"; sleep 0.8; ! ps -eo stat= | grep Z'

# ---- stdio passes through --------------------------------------------------------------------
head -c 1048576 /dev/urandom >in.bin
"$VRUN" env python -c 'import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())' <in.bin >out.bin 2>err.txt
assert_eq "$?" 0 "1 MiB through stdin/stdout: exit status"
assert_true "1 MiB of random bytes come out identical (files)" cmp in.bin out.bin
assert_eq "$(cat err.txt)" "" "nothing on stderr"
cat in.bin | "$VRUN" env python -c 'import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())' 2>err.txt | cat >out2.bin
assert_true "1 MiB of random bytes come out identical (pipes)" cmp in.bin out2.bin
"$VRUN" env cat <in.bin >out3.bin
assert_true "1 MiB through cat inside" cmp in.bin out3.bin
"$VRUN" env python -c 'import sys; sys.stdout.write("to-out\n"); sys.stdout.flush(); sys.stderr.write("to-err\n")' >o.txt 2>e.txt
assert_eq "$(cat o.txt)" to-out "stdout stays stdout"
assert_eq "$(cat e.txt)" to-err "stderr stays stderr"
"$VRUN" env python -c 'import sys; sys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])' <in.bin 2>&1 >/dev/null | cat >e2.txt
assert_eq "$(wc -c <e2.txt)" 0 "stderr gets nothing of stdout's 1 MiB"
expect_run 0 "" "stdin from /dev/null reads empty" env python -c 'import sys; print(sys.stdin.read(), end="")' </dev/null
"$VRUN" env sh -c 'echo appended' >>o.txt
assert_eq "$(cat o.txt)" "to-out
appended" "stdout opened for append keeps appending"

# A reader that goes away: the program dies of SIGPIPE as it would outside.
plain=$( (yes | head -n 1 >/dev/null; echo "${PIPESTATUS[0]}") 2>/dev/null)
inside=$( ("$VRUN" env yes | head -n 1 >/dev/null; echo "${PIPESTATUS[0]}") 2>/dev/null)
assert_eq "$inside" "$plain" "'vrun env yes | head -n 1': vrun's status matches plain yes's"

done_testing
