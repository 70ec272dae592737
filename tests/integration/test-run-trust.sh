# Promise 13 of docs/security.md: a payload cannot change what the next run
# does. vrun's cache (whose interpreter facts decide what is hidden) is masked
# inside, and an env that names an interpreter inside itself as its base is
# refused rather than run outside the sandbox.
. "$TESTS/lib.sh"

"$VRUN" create --python /usr/bin/python3 --without-pip env >/dev/null 2>&1 || fail "create env"
cache=$XDG_CACHE_HOME/vrun
[ -d "$cache/interp" ] || fail "the interpreter cache exists on the host after a create"

# Inside: the cache dir is empty and cannot be written.
assert_masked_inside env "$cache" "vrun's cache"

# Rewriting the facts on the host side is what a payload would want: the
# run after a payload that could write the cache must still hide bcrypt.
expect_status 0 "$VRUN" env python -c '
import glob, json, sys
for f in glob.glob(sys.argv[1] + "/interp/*.json"):
    try:
        j = json.load(open(f))
        j["facts"]["hide"] = []
        json.dump(j, open(f, "w"))
        print("rewrote", f)
    except OSError as e:
        print("cannot rewrite:", e.strerror)
' "$cache"
assert_not_contains "$out" "rewrote" "the payload could not rewrite the facts"

# An env whose pyvenv.cfg names an interpreter inside the env: vrun would run
# it outside the sandbox to learn its facts. It must refuse.
mkdir -p "$T/planted"
cat > env/bin/fakepython <<EOS
#!/bin/sh
touch "$T/planted/ran-outside"
exec /usr/bin/python3 "\$@"
EOS
chmod +x env/bin/fakepython
sed -i "s|^executable = .*|executable = $T/env/bin/fakepython|" env/pyvenv.cfg
expect_status 125 "$VRUN" env true
assert_contains "$out" "refusing venv 'env'" "an in-env base interpreter is refused"
assert_contains "$out" "pyvenv.cfg names executable $T/env/bin/fakepython" "the refusal names the change"
[ ! -e "$T/planted/ran-outside" ] || fail "vrun ran the env's own interpreter outside the sandbox"

done_testing
