#!/bin/bash
# 200 runs of `vrun ENV CMD` (succeeding, failing, killed, failing to set up,
# leaving background processes behind) leave nothing on the host: no mount,
# no process, no temporary file or dir beside the env, in the temp dir or in
# the cache.
#
# Other tests run beside this one, so it looks only at what it owns: its
# own scratch dir $T (the env's parent, the cache, the state dir, and the
# TMPDIR its runs get), the mounts on its own paths, and the processes of its
# own copy of the binary or carrying its marker.
. "$TESTS/lib.sh"

marker="vrun-leaks-$$-$RANDOM"
# Runs go through a link whose name carries the marker: every process of
# vrun this test starts (pid 1 is a clone of it) is found by name.
mkdir -p "$T/bin" "$T/proj" "$T/tmp"
ln -s "$VRUN" "$T/bin/vrun-$marker"
VRUN=$T/bin/vrun-$marker
export TMPDIR=$T/tmp
make_env "$T/proj/env" --without-pip
cd "$T/proj" || exit 1

# The mounts on this test's paths: under $T, or where its runs mount inside.
own_mounts() {
        awk -v t="$T/" '$5 == "/tmp/x" || $5 == "/tmp/p" || index($5 "/", t) == 1 || index($4 "/", t) == 1' \
                /proc/self/mountinfo
}

snapshot() {
        echo "mounts:"
        own_mounts
        echo "vrun processes: $(marker_procs "$VRUN")"
        echo "marker processes: $(marker_procs "$marker")"
        echo "env parent:"
        ls -A "$T/proj"
        echo "temp dir:"
        ls -A "$TMPDIR"
        echo "temporaries under $T:"
        find "$T" -name '*.vrun-*' ! -name .vrun-complete 2>/dev/null || true
        echo "zombies of ours:"
        ps -o pid=,stat= --ppid $$ 2>/dev/null | awk '$2 ~ /Z/' || true
}

"$VRUN" env true # the interpreter facts are cached before the snapshot
before=$(snapshot)

fails=0
for i in $(seq 1 200); do
        case $((i % 8)) in
        0) "$VRUN" env true ;;
        1) "$VRUN" env python -c 'pass' ;;
        2) "$VRUN" env sh -c 'exit 7' ;;
        3) "$VRUN" env sh -c 'kill -KILL $$' ;;
        4) "$VRUN" env nonexistent-cmd-$$ 2>/dev/null ;;
        5) "$VRUN" --bind "$T/missing-$$" env true 2>/dev/null ;;
        # a background process left behind when the program exits
        6) "$VRUN" env sh -c "python -c 'import time; time.sleep(60)' $marker & exit 0" ;;
        7) "$VRUN" --tmpfs /tmp/x --bind "$T/proj:/tmp/p" --unshare-net env sh -c 'echo x > /tmp/x/f' ;;
        esac
        rc=$?
        case $((i % 8)) in
        0 | 1 | 6 | 7) want=0 ;;
        2) want=7 ;;
        3) want=137 ;;
        4) want=127 ;;
        5) want=125 ;;
        esac
        [ "$rc" = "$want" ] || { fails=$((fails + 1)); [ "$fails" -le 5 ] && fail "run $i (kind $((i % 8))) exited $rc, expected $want"; }
done
assert_eq "$fails" 0 "runs with an unexpected exit status"

# Background processes die with the sandbox, promptly.
assert_true "processes left inside by the programs are gone within 2 s" wait_marker_gone "$marker" 20
after=$(snapshot)
assert_eq "$after" "$before" "host state after 200 runs"
pkill -9 -f -- "$marker" 2>/dev/null

# Runs that are killed from outside leave nothing either.
before=$(snapshot)
for i in 1 2 3 4 5; do
        "$VRUN" env sh -c "python -c 'import time; time.sleep(60)' $marker" &
        pid=$!
        sleep 0.3
        case $i in
        1 | 2) kill -9 "$pid" ;;
        *) kill -TERM "$pid" ;;
        esac
        wait "$pid" 2>/dev/null
done
assert_true "after vrun was killed, its payloads are gone within 2 s" wait_marker_gone "$marker" 20
assert_eq "$(snapshot)" "$before" "host state after killed runs"
pkill -9 -f -- "$marker" 2>/dev/null

done_testing
