#!/bin/bash
# Issue 10, repro 3: no inode is shared between an env and anything outside
# it. A payload that makes a seeded pip file writable and rewrites it in
# place (under default and install) must change that env only: the next
# create seeds pristine pip from a cache that is unchanged.
. "$TESTS/lib.sh"

cache=$XDG_CACHE_HOME/vrun
xy=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# cache_state: every file of the wheel cache with its sha256.
cache_state() {
        (cd "$cache/wheels" && find . -type f -print0 | xargs -0r sha256sum | LC_ALL=C sort -k 2)
}

for prof in default install; do
        A="$T/$prof/a" B="$T/$prof/b"
        mkdir -p "$T/$prof"
        make_env "$A"
        SPA="$A/lib/python$xy/site-packages"
        cache_state >"$T/$prof/cache.before"

        # Step 1, inside: rewrite pip/__init__.py in place (same inode).
        expect_status 0 "$VRUN" --profile "$prof" "$A" sh -c '
                f=$1/pip/__init__.py
                chmod u+w "$f" && printf "raise SystemExit(\"POISONED\")\n" >"$f" && echo rewritten' sh "$SPA"
        assert_contains "$out" rewritten "$prof: the payload rewrote its own env's pip"
        out=$("$A/bin/pip" --version 2>&1)
        assert_contains "$out" POISONED "$prof: the rewrite took effect in env a"

        # Step 2, outside: a new env, and the cache it was seeded from.
        make_env "$B"
        SPB="$B/lib/python$xy/site-packages"
        out=$("$B/bin/pip" --version 2>&1)
        assert_contains "$out" "from $SPB/pip (python $xy)" "$prof: env b's pip runs (not the poisoned one)"
        assert_not_contains "$(cat "$SPB/pip/__init__.py")" POISONED "$prof: env b's pip/__init__.py"
        cache_state >"$T/$prof/cache.after"
        assert_same_state "$T/$prof/cache.before" "$T/$prof/cache.after" "$prof: the wheel cache changed"
        assert_eq "$(grep -rl POISONED "$cache" 2>/dev/null)" "" "$prof: the poison reached the cache"

        # No seeded file is a hard link (to the cache, to env a, to anything).
        assert_eq "$(find "$A" "$B" -type f -links +1 | head -n 5)" "" "$prof: seeded files with other names"
done

done_testing
