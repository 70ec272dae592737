#!/bin/bash
# Root runs nothing as root (issue 11, docs/security.md "Reach"): started by
# root, the program is an unprivileged host uid. /etc/shadow, /root and a
# 0600 file of root's stay out of reach under every profile (and with
# --ephemeral), while `pip install` into the env, writes to the working
# directory and to a --bind keep working, and what they write is root's on
# the host. Run by a user, nothing changes: the program is that user, inside
# and on the host.
. "$TESTS/lib.sh"

make_env "$T/env"
mkdir -p "$T/work/wheels" "$T/data"
make_wheel "$T/work/wheels" reachpkg 1.0
me=$(id -u)

# A secret of the account that runs the test, outside anything vrun binds.
secret_dir=$(mktemp -d /var/tmp/vrun-reach.XXXXXX)
trap 'rm -rf "$secret_dir"' EXIT
echo "top secret" >"$secret_dir/secret"
chmod 600 "$secret_dir/secret"
chmod 711 "$secret_dir"

cat >"$T/work/peek.py" <<'PYEOF'
import os, sys
def read(p):
    try:
        with open(p) as f:
            f.read()
        return "READ"
    except OSError as e:
        import errno
        return errno.errorcode[e.errno]
with open("/proc/self/uid_map") as f:
    inside, outside, _ = f.read().split()[:3]
res = ["host-uid:%s" % outside, "shadow:" + read("/etc/shadow"), "secret:" + read(sys.argv[1])]
try:
    res.append("root-home:%d" % len([n for n in os.listdir("/root") if n != ".pyenv"]))
except OSError as e:
    import errno
    res.append("root-home:" + errno.errorcode[e.errno])
print(" ".join(res))
PYEOF

cd "$T/work" || exit 1
for how in "default" "install" "untrusted" "ephemeral"; do
        case "$how" in
        ephemeral) args=(--ephemeral) ;;
        *) args=(--profile "$how") ;;
        esac
        vrun_rc "${args[@]}" "$T/env" python "$T/work/peek.py" "$secret_dir/secret"
        assert_eq "$rc" 0 "$how: the probe ran (stderr: $err)"
        if [ "$VRUN_TEST_MODE" = root ]; then
                assert_not_contains "$out" "host-uid:0 " "$how: the program is not the host's root ($out)"
                assert_not_contains "$out" "shadow:READ" "$how: /etc/shadow is out of reach"
                assert_not_contains "$out" "secret:READ" "$how: root's 0600 file is out of reach"
                assert_contains "$out" "root-home:" "$how: /root was looked at"
                case "$out" in
                *root-home:0* | *root-home:E*) ok ;;
                *) fail "$how: /root shows root's files: $out" ;;
                esac
        else
                assert_contains "$out" "host-uid:$me " "$how: a user's program is that user on the host"
                # (a minimal root has no /var/tmp)
                [ "$how" = untrusted ] ||
                        assert_contains "$out" "secret:READ" "$how: a user's program reads the user's own 0600 file"
        fi
done

# The env and the working directory are the program's; on the host, they stay
# the caller's.
vrun_rc "$T/env" pip install --no-index --find-links "$T/work/wheels" --no-cache-dir -q reachpkg
assert_eq "$rc" 0 "pip install into the env works (stderr: ${err:0:2000})"
expect_run 0 "1.0" "the installed package imports" "$T/env" python -c 'import reachpkg; print(reachpkg.__version__)'
owners=$(find "$T/env/lib" -path '*reachpkg*' -printf '%u\n' | sort -u)
assert_eq "$owners" "$(id -un)" "the installed files belong to the caller on the host"

expect_run 0 "" "writing the working directory works" "$T/env" sh -c 'echo hi >written && mkdir made && echo x >made/f'
assert_eq "$(stat -c %U "$T/work/written" "$T/work/made" "$T/work/made/f" | sort -u)" "$(id -un)" \
        "files written in the working directory belong to the caller on the host"
expect_run 0 "" "writing a --bind works" --bind "$T/data" "$T/env" sh -c "echo hi >'$T/data/w'"
assert_eq "$(stat -c %U "$T/data/w")" "$(id -un)" "a file written to a --bind belongs to the caller on the host"
expect_run 0 "$(id -un)" "inside, the program owns what it wrote" "$T/env" python -c '
import os, pwd
print(pwd.getpwuid(os.stat("written").st_uid).pw_name if os.stat("written").st_uid == os.getuid() else "someone else")'

# --ephemeral: pip installs into the overlay, the env on the host is unchanged.
env_state "$T/env" >"$T/before"
vrun_rc --ephemeral "$T/env" sh -c "pip uninstall -y -q reachpkg && python -c 'import reachpkg' 2>/dev/null || echo gone"
assert_eq "$out" "gone" "--ephemeral: pip uninstall works inside (stderr: ${err:0:1000})"
env_state "$T/env" >"$T/after"
assert_same_state "$T/before" "$T/after" "--ephemeral: the env on the host is unchanged"

done_testing
