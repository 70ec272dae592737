#!/bin/bash
# A `vrun create` killed midway leaves either nothing or a complete env —
# never a half env or a temporary dir — and the cache it was filling still
# serves the next create.
. "$TESTS/lib.sh"

A="$T/atomic"
mkdir -p "$A"

# state: "none" (no env, no temporary dir), "complete" (env with pyvenv.cfg
# and pip, no temporary dir) or "partial: ..." (anything else).
state() {
        local tmp
        tmp=$(find "$A" -mindepth 1 -maxdepth 1 -name '.vrun-*' 2>/dev/null)
        if [ -n "$tmp" ]; then
                echo "partial: temporary dir $tmp"
        elif [ ! -e "$A/env" ] && [ ! -L "$A/env" ]; then
                echo none
        elif [ -f "$A/env/pyvenv.cfg" ] && [ -x "$A/env/bin/pip" ] && [ -x "$A/env/bin/python" ]; then
                echo complete
        else
                echo "partial: $(cd "$A/env" && find . | head -n 20 | tr '\n' ' ')"
        fi
}

mid_build=0
# kill_after MS SIGNAL CACHE: starts a create with pip using CACHE as
# XDG_CACHE_HOME, sends SIGNAL after MS milliseconds (to its whole process
# group for INT, as a terminal's Ctrl-C does), then checks what is left
# within 2 s, and that a new create with the same cache works.
kill_after() {
        local ms=$1 sig=$2 cache=$3 pid s
        rm -rf "$A/env"
        XDG_CACHE_HOME=$cache setsid "$VRUN" create --python "$PY" "$A/env" >/dev/null 2>&1 &
        pid=$!
        sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
        if [ -n "$(find "$A" -mindepth 1 -maxdepth 1 -name '.vrun-*' 2>/dev/null)" ]; then
                mid_build=$((mid_build + 1))
        fi
        if [ "$sig" = INT ]; then
                kill -INT -- "-$pid" 2>/dev/null
        else
                kill "-$sig" "$pid" 2>/dev/null
        fi
        wait "$pid" 2>/dev/null
        for _ in $(seq 1 20); do
                s=$(state)
                [ "${s%%:*}" != partial ] && break
                sleep 0.1
        done
        _checks=$((_checks + 1))
        case "$s" in
        none | complete) ;;
        *) fail "SIG$sig after $ms ms: after 2 s, $s" ;;
        esac
        # Nothing it started outlives it (a sandboxed helper left writing to
        # a pipe nobody reads would wait for ever).
        assert_true "SIG$sig after $ms ms: no process of the killed create is left within 2 s" \
                wait_marker_gone "$A/env" 20
        # The cache the killed create was filling must serve the next one.
        rm -rf "$A/env"
        out=$(XDG_CACHE_HOME=$cache "$VRUN" create --python "$PY" "$A/env" 2>&1)
        assert_eq "$?" 0 "create after SIG$sig at $ms ms, same cache: $out"
        out=$("$A/env/bin/pip" --version 2>&1)
        assert_contains "$out" "$A/env/lib/" "pip after SIG$sig at $ms ms, same cache"
        rm -rf "$A/env"
}

# How long a create with a cold cache takes here, so some kills land while
# the env is being built whatever the machine's speed.
start=$(date +%s%N)
XDG_CACHE_HOME="$A/cache-probe" "$VRUN" create --python "$PY" "$A/env" >/dev/null 2>&1
cold_ms=$((($(date +%s%N) - start) / 1000000))
rm -rf "$A/env" "$A/cache-probe"

n=0
for ms in 5 10 20 40 $((cold_ms / 5)) $((cold_ms * 2 / 5)) $((cold_ms * 3 / 5)) $((cold_ms * 4 / 5)); do
        n=$((n + 1))
        # A cold cache: the interpreter is asked, the wheels are unpacked.
        kill_after "$ms" KILL "$A/cache-cold-$n"
        rm -rf "$A/cache-cold-$n"
done

# A warm interpreter cache but cold wheels: the kills land in the unpacking.
XDG_CACHE_HOME="$A/cache-interp" "$VRUN" create --without-pip --python "$PY" "$A/env" >/dev/null 2>&1
rm -rf "$A/env"
for ms in 5 20 $((cold_ms / 4)) $((cold_ms / 2)); do
        n=$((n + 1))
        rm -rf "$A/cache-$n"
        cp -a "$A/cache-interp" "$A/cache-$n"
        kill_after "$ms" KILL "$A/cache-$n"
        rm -rf "$A/cache-$n"
done

# A warm cache: the kills land in linking the tree.
XDG_CACHE_HOME="$A/cache-warm" "$VRUN" create --python "$PY" "$A/env" >/dev/null 2>&1
rm -rf "$A/env"
for ms in 1 3 5 10 20; do
        kill_after "$ms" KILL "$A/cache-warm"
done

# Ctrl-C and a plain kill behave the same.
kill_after $((cold_ms / 3)) INT "$A/cache-int"
kill_after $((cold_ms / 3)) TERM "$A/cache-term"

# SIGKILL of the whole process group (`timeout -s KILL`, a CI job cancelled,
# a cgroup killed) while the temporary tree exists: nothing of vrun survives
# to clean up at once, but the next create in the same directory must not
# leave the old temporary tree behind.
for round in 1 2; do
        rm -rf "$A/cache-group"
        XDG_CACHE_HOME="$A/cache-group" setsid "$VRUN" create --python "$PY" "$A/env" >/dev/null 2>&1 &
        pid=$!
        caught=
        for _ in $(seq 1 1000); do
                caught=$(find "$A" -mindepth 1 -maxdepth 1 -name '.vrun-*' 2>/dev/null)
                [ -n "$caught" ] && break
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.005
        done
        kill -KILL -- "-$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        _checks=$((_checks + 1))
        [ -n "$caught" ] || fail "round $round: the create ended before its temporary tree could be seen"
        rm -rf "$A/env"
        out=$(XDG_CACHE_HOME="$A/cache-group" "$VRUN" create --python "$PY" "$A/env2" 2>&1)
        assert_eq "$?" 0 "create after a process-group SIGKILL: $out"
        sleep 0.5
        assert_eq "$(find "$A" -mindepth 1 -maxdepth 1 -name '.vrun-*' 2>/dev/null)" "" \
                "temporary tree of a create whose process group was SIGKILLed, after the next create in the same dir"
        rm -rf "$A/env2" "$A"/.vrun-*
done

# Some of those kills must have caught vrun with its temporary tree in
# place, or this test proved nothing.
_checks=$((_checks + 1))
[ "$mid_build" -gt 0 ] || fail "no kill landed while the env was being built (cold create took $cold_ms ms)"
echo "$mid_build kills landed while a temporary tree existed (cold create: $cold_ms ms)"

done_testing
