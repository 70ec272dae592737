#!/bin/bash
# `vrun profiles [--json] [NAME]` and how `--profile` reports a bad profile:
# the built-in profiles are listed, one resolves to valid JSON with the
# documented values and loads back to the same result; a profile file with
# an error stops vrun with exit 2 and one `vrun: FILE:LINE:COL: …` line
# before anything runs or is created.
. "$TESTS/lib.sh"

make_env "$T/env" --without-pip

# ---- listing ----------------------------------------------------------------------------------
vrun_rc profiles
assert_eq "$rc" 0 "vrun profiles: exit status (stderr: $err)"
assert_eq "$(awk '{print $1}' <<<"$out" | tr '\n' ' ')" "default untrusted install " "vrun profiles: the names"
while read -r name desc; do
        assert_true "vrun profiles: $name has a description" test -n "$desc"
done <<<"$out"

vrun_rc profiles --json
assert_eq "$rc" 0 "vrun profiles --json: exit status (stderr: $err)"
assert_eq "$("$PY" -c 'import json, sys; print(" ".join(p["name"] for p in json.loads(sys.stdin.read())))' \
        <<<"$out" 2>&1)" "default untrusted install" "vrun profiles --json: valid JSON naming the profiles"

# ---- one profile, resolved ------------------------------------------------------------------------
# json_get JSON KEY...: the value at KEY/KEY/… as JSON, or an error text.
json_get() {
        "$PY" -c '
import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2:]:
    v = v[k]
print(json.dumps(v))' "$@" 2>&1
}

vrun_rc profiles --json untrusted
assert_eq "$rc" 0 "profiles --json untrusted: exit status (stderr: $err)"
untrusted_json=$out
printf '%s\n' "$out" >"$T/untrusted.out"
assert_true "profiles --json untrusted: valid JSON" json_ok "$T/untrusted.out"
for kv in 'filesystem="minimal"' 'env="ephemeral"' 'cwd="ephemeral"' 'home="tmpfs"' 'network="none"' \
        'timeout=600' 'tmp_size=268435456' 'rlimits nproc=256' 'rlimits as=2147483648' \
        'rlimits fsize=536870912' 'rlimits nofile=1024' 'rlimits core=0' 'seccomp sets=["default", "strict"]' \
        'seccomp socket_families=["unix"]'; do
        # shellcheck disable=SC2086
        assert_eq "$(json_get "$out" ${kv%%=*})" "${kv#*=}" "profiles --json untrusted: ${kv%%=*}"
done
vrun_rc profiles untrusted --json
assert_eq "$out" "$untrusted_json" "profiles untrusted --json (options after the name): the same"

for kv in 'default filesystem="host-ro"' 'default env="rw"' 'default network="host"' 'default home="host"' \
        'install network="host"' 'install env="rw"' 'install cwd="ephemeral"' 'install home="tmpfs"' \
        'install tmp_size=1073741824' 'install timeout=1800'; do
        name=${kv%% *}
        kv=${kv#* }
        vrun_rc profiles --json "$name"
        assert_eq "$(json_get "$out" "${kv%%=*}")" "${kv#*=}" "profiles --json $name: ${kv%%=*}"
done

# The output is itself a profile that loads to the same result (docs/profiles.md).
for name in default untrusted install; do
        "$VRUN" profiles --json "$name" >"$T/rt-$name.json" 2>/dev/null
        vrun_rc profiles --json "$T/rt-$name.json"
        assert_eq "$rc" 0 "profiles --json $name, saved and loaded again: exit status (stderr: $err)"
        [ "$rc" = 0 ] || continue
        strip_name='import json, sys; d = json.load(sys.stdin); d.pop("name", None); print(json.dumps(d, sort_keys=True))'
        assert_eq "$("$PY" -c "$strip_name" <<<"$out" 2>&1)" "$("$PY" -c "$strip_name" <"$T/rt-$name.json" 2>&1)" \
                "profiles --json $name, saved and loaded again: the same profile"
done
vrun_rc --profile "$T/rt-untrusted.json" "$T/env" true
assert_eq "$rc" 0 "--profile with the saved output of profiles --json untrusted runs (stderr: $err)"

# A user profile extending a built-in one.
printf '{\n  "extends": "untrusted",\n  "timeout": "90s",\n  "rlimits": { "nproc": 64 }\n}\n' >"$T/mine.json"
vrun_rc profiles --json "$T/mine.json"
assert_eq "$rc" 0 "profiles --json FILE: exit status (stderr: $err)"
assert_eq "$(json_get "$out" timeout)" 90 "profiles --json FILE: its own timeout"
assert_eq "$(json_get "$out" rlimits nproc)" 64 "profiles --json FILE: its own nproc"
assert_eq "$(json_get "$out" rlimits as)" 2147483648 "profiles --json FILE: the rest from untrusted"
assert_eq "$(json_get "$out" filesystem)" '"minimal"' "profiles --json FILE: filesystem from untrusted"
# A name ending in .json is a file in the current directory.
expect_run 0 "64" "--profile mine.json reads ./mine.json" --profile mine.json "$T/env" \
        python -c 'import resource; print(resource.getrlimit(resource.RLIMIT_NPROC)[0])'

# ---- errors -----------------------------------------------------------------------------------
printf '{\n  "extends": "untrusted",\n  "timeout": 2,\n}\n' >"$T/bad.json"
want="vrun: bad.json:4:1: string or '}' expected near '}'"
expect_error 2 "$VRUN" --profile bad.json "$T/env" true
assert_eq "$err" "$want" "--profile with a syntax error: the message"
expect_error 2 "$VRUN" profiles bad.json
assert_eq "$err" "$want" "profiles FILE with a syntax error: the message"
mkdir -p "$T/sub"
cp "$T/bad.json" "$T/sub/bad.json"
expect_error 2 "$VRUN" --profile sub/bad.json "$T/env" true
assert_eq "$err" "vrun: sub/bad.json:4:1: string or '}' expected near '}'" \
        "--profile sub/bad.json: the file named as given"
# Checked before anything runs: a missing ENV is not created, CMD not run.
expect_error 2 "$VRUN" --profile bad.json "$T/new-env" sh -c "touch '$T/ran'"
assert_false "a bad profile: ENV was not created" test -e "$T/new-env"
assert_false "a bad profile: CMD did not run" test -e "$T/ran"

printf '{\n  "extends": "untrusted",\n  "netwrk": "none"\n}\n' >"$T/typo.json"
expect_error 2 "$VRUN" --profile "$T/typo.json" "$T/env" true
assert_eq "$err" "vrun: $T/typo.json:3:3: unknown key \"netwrk\" (did you mean \"network\"?)" \
        "--profile with an unknown key: the message"

expect_error 2 "$VRUN" --profile nosuch "$T/env" true
assert_contains "$err" '"nosuch"' "--profile nosuch: names the profile"
assert_contains "$err" "default, untrusted, install" "--profile nosuch: lists the built-in profiles"
# Like `--profile nosuch`, a usage error.
expect_error 2 "$VRUN" profiles nosuch
assert_contains "$err" '"nosuch"' "profiles nosuch: names the profile"
# The same errors exit 2 from `vrun profiles` as from `vrun --profile`.
for args in "--profile ./nope.json $T/env true" "profiles ./nope.json"; do
        # shellcheck disable=SC2086
        expect_error 2 "$VRUN" $args
        assert_contains "$err" "nope.json" "$args: names the file"
done

done_testing
