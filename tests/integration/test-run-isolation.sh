#!/bin/bash
# The seed's proof: Debian's python3-bcrypt imports on the host, and inside
# `vrun ENV` it is out of reach however the payload tries: every global
# package directory of the base shows nothing of the host's, and each known
# way around a mask (paths, importlib, walking /, /proc/PID/root, umount,
# mount --move, a new user namespace, open_tree, chroot, the raw disk, an
# inherited fd) fails.
. "$TESTS/lib.sh"

need_bcrypt
host_dir=$("$PY" -c 'import bcrypt, os; print(os.path.dirname(os.path.dirname(os.path.abspath(bcrypt.__file__))))')
assert_true "host: $PY imports bcrypt from $host_dir" test -f "$host_dir/bcrypt/__init__.py"

# The user site and a directory that a .pth file in it adds are global
# package dirs too. $T is the working directory below, so both are visible
# inside unless vrun hides them. They exist before the interpreter is first
# queried.
pyver=$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
usersite="$HOME/.local/lib/python$pyver/site-packages"
mkdir -p "$usersite/usersite_probe" "$T/pthdir/pth_probe"
touch "$usersite/usersite_probe/__init__.py" "$T/pthdir/pth_probe/__init__.py"
echo "$T/pthdir" >"$usersite/vrun_probe.pth"
assert_true "host: $PY imports usersite_probe and pth_probe (the fixture works)" \
        "$PY" -c 'import usersite_probe, pth_probe'

make_env "$T/env" --without-pip
site="$T/env/lib/python$pyver/site-packages"
echo 'left = "env"' >"$site/env_probe.py"

# ---- the headline -------------------------------------------------------------------------
vrun_rc env python -c 'import bcrypt'
assert_eq "$rc" 1 "vrun env python -c 'import bcrypt': exit status"
assert_contains "$err" "ModuleNotFoundError: No module named 'bcrypt'" "vrun env python -c 'import bcrypt'"
vrun_rc env /usr/bin/python3 -c 'import bcrypt'
assert_contains "$err" "ModuleNotFoundError: No module named 'bcrypt'" "inside, $PY itself cannot import bcrypt"
expect_run 0 env "the env's own packages import" env python -c 'import env_probe; print(env_probe.left)'
for m in usersite_probe pth_probe; do
        vrun_rc env /usr/bin/python3 -c "import $m"
        assert_contains "$err" "ModuleNotFoundError: No module named '$m'" \
                "inside, $PY cannot import $m (user site / .pth dir)"
done

# PYTHONPATH and friends do not cross into the sandbox.
echo 'import sys; sys.path.append("'"$host_dir"'")' >"$T/startup.py"
out=$(PYTHONPATH="$host_dir" PYTHONHOME=/usr PYTHONUSERBASE="$HOME/.local" PYTHONSTARTUP="$T/startup.py" \
        "$VRUN" env python -c 'import os
print(sorted(k for k in ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONSTARTUP") if k in os.environ))
try:
    import bcrypt
    print("imported", bcrypt.__file__)
except ImportError:
    print("no bcrypt")' 2>&1)
assert_eq "$out" "[]
no bcrypt" "PYTHONPATH/PYTHONHOME/PYTHONUSERBASE/PYTHONSTARTUP are removed"

# ---- every global package dir of the base shows nothing of the host's -------------------
# Host side: site.getsitepackages(), the user site, sysconfig's purelib and
# platlib of every POSIX scheme, and the .pth dir. The first existing one in
# site.getsitepackages() order carries the env's site-packages.
mapfile -t dirs < <("$PY" - <<'PYEOF'
import os, site, sysconfig
out = []
def add(p):
    p = os.path.normpath(p)
    if p not in out:
        out.append(p)
for p in site.getsitepackages():
    add(p)
add(site.getusersitepackages())
for s in sysconfig.get_scheme_names():
    if s.startswith(("nt", "osx")):
        continue
    for k in ("purelib", "platlib"):
        try:
            add(sysconfig.get_path(k, s))
        except Exception:
            pass
for p in out:
    print(p)
PYEOF
)
dirs+=("$T/pthdir")
overlaid=$("$PY" -c 'import os, site; print(next((p for p in site.getsitepackages() if os.path.isdir(p)), ""))')
env_listing=$(ls -A "$site")
checked=0
for d in "${dirs[@]}"; do
        [ -d "$d" ] || continue
        checked=$((checked + 1))
        inside=$("$VRUN" env ls -A "$d" 2>/dev/null)
        if [ "$d" = "$overlaid" ]; then
                assert_eq "$inside" "$env_listing" "inside, $d (overlaid) lists exactly the env's site-packages"
        else
                assert_eq "$inside" "" "inside, global package dir $d is empty"
        fi
done
assert_true "host: at least 3 global package dirs exist to check (found $checked)" test "$checked" -ge 3
# The env's interpreter sees only the stdlib (the base's sys.path under -I -S)
# and the env.
stdlib_path=$("$PY" -I -S -c 'import sys; print("\n".join(p for p in sys.path if p))')
out=$("$VRUN" env python -c 'import sys; print("\n".join(p for p in sys.path if p))' 2>&1)
while IFS= read -r p; do
        case "$p" in
        "$T/env"/*) ;;
        *) grep -qxF -- "$p" <<<"$stdlib_path" || fail "unexpected sys.path entry inside: $p" ;;
        esac
done <<<"$out"
assert_contains "$out" "$site" "inside, the env's site-packages is on sys.path"

# ---- the attacks --------------------------------------------------------------------------
# attack.py NAME HOSTDIR: tries one way to reach HOSTDIR/bcrypt and prints
# "SAFE: ..." (exit 0) or "LEAK: ..." (exit 3). Whatever the attack did, it
# ends by checking that bcrypt can neither be imported nor seen.
cat >"$T/attack.py" <<'PYEOF'
import ctypes, errno, importlib, importlib.util, os, stat, subprocess, sys

name, host_dir = sys.argv[1], sys.argv[2]
target = os.path.join(host_dir, "bcrypt")
init = os.path.join(target, "__init__.py")
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
notes, leaks = [], []
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
AT_FDCWD = -100
OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC, AT_RECURSIVE = 1, 0o2000000, 0x8000
MNT_DETACH = 2
NR = {"x86_64": {"clone": 56, "pivot_root": 155, "open_tree": 428, "fspick": 433, "fsmount": 432},
      "aarch64": {"clone": 220, "pivot_root": 41, "open_tree": 428, "fspick": 433, "fsmount": 432}}
nr = NR.get(os.uname().machine, NR["x86_64"])

def err():
    return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))

def try_import():
    sys.modules.pop("bcrypt", None)
    importlib.invalidate_caches()
    try:
        import bcrypt
        return getattr(bcrypt, "__file__", "?")
    except ImportError:
        return None

def visible(root=""):
    """Paths under which bcrypt's package can be seen from here."""
    found = []
    for p in (root + init, root + "/proc/1/root" + init, root + "/proc/self/root" + init):
        try:
            if os.path.exists(p):
                found.append(p)
        except OSError:
            pass
    return found

def run(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        return p.returncode, p.stdout.decode(errors="replace").strip()
    except OSError as e:
        return None, str(e)

def a_sys_path():
    sys.path.append(host_dir)
    f = try_import()
    if f:
        leaks.append("import bcrypt after sys.path.append: " + f)

def a_importlib():
    spec = importlib.util.spec_from_file_location("bcrypt", init, submodule_search_locations=[target])
    m = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(m)
        leaks.append("exec_module of " + init + " worked")
    except OSError as e:
        notes.append("exec_module: %s" % e)

def a_walk():
    n = 0
    for dirpath, dirnames, filenames in os.walk("/", onerror=lambda e: None):
        if dirpath == "/":
            dirnames[:] = [d for d in dirnames if d not in ("proc", "sys")]
        if dirpath == "/mnt":
            dirnames[:] = [d for d in dirnames if d != "sandboxing"]  # the test machinery's own
        n += 1
        if "bcrypt" in dirnames and os.path.isfile(os.path.join(dirpath, "bcrypt", "__init__.py")):
            leaks.append("found " + os.path.join(dirpath, "bcrypt"))
    notes.append("walked %d dirs" % n)
    if n < 1000:
        leaks.append("walked only %d dirs: the walk did not work" % n)

def a_proc_root():
    pids = [p for p in os.listdir("/proc") if p.isdigit()] + ["self", "thread-self"]
    for p in pids:
        for sub in ("root", "cwd"):
            base = "/proc/%s/%s" % (p, sub)
            for path in (base + init, base + "/" + host_dir):
                try:
                    if os.path.isfile(path) or (os.path.isdir(path) and os.listdir(path)):
                        leaks.append("via " + path)
                except OSError:
                    pass
    notes.append("pids: %s" % " ".join(pids))

def a_umount():
    for p in (host_dir, target, os.path.dirname(host_dir), "/"):
        for flags in (0, MNT_DETACH):
            if libc.umount2(p.encode(), flags) == 0:
                leaks.append("umount2(%s, %d) worked" % (p, flags))
            else:
                notes.append("umount2(%s, %d): %s" % (p, flags, err()))

def a_mount_cmd():
    os.makedirs("/tmp/mv", exist_ok=True)
    os.makedirs("/tmp/parent", exist_ok=True)
    for cmd in (["mount", "--move", host_dir, "/tmp/mv"],
                ["mount", "--make-private", "--move", host_dir, "/tmp/mv"],
                ["umount", host_dir], ["umount", "-l", host_dir],
                ["mount", "--bind", os.path.dirname(host_dir), "/tmp/parent"]):
        rc, out = run(cmd)
        notes.append("%s: %s %s" % (" ".join(cmd), rc, out))
        if rc == 0:
            leaks.append(" ".join(cmd) + " worked")
    for p in ("/tmp/mv/bcrypt/__init__.py", "/tmp/parent/dist-packages/bcrypt/__init__.py"):
        if os.path.exists(p):
            leaks.append("visible at " + p)

def a_unshare():
    r = libc.unshare(CLONE_NEWUSER | CLONE_NEWNS)
    if r == 0:
        leaks.append("unshare(CLONE_NEWUSER|CLONE_NEWNS) worked")
        if libc.umount2(host_dir.encode(), MNT_DETACH) == 0:
            leaks.append("umount2 in the new namespaces worked")
    else:
        notes.append("unshare: %s" % err())
    if libc.unshare(CLONE_NEWNS) == 0:
        leaks.append("unshare(CLONE_NEWNS) worked")
    rc, out = run(["unshare", "-Urm", "sh", "-c", "umount -l '%s' && ls '%s'" % (host_dir, target)])
    notes.append("unshare -Urm: %s %s" % (rc, out))
    if rc == 0:
        leaks.append("unshare -Urm umount worked: " + out)
    # clone(2) with namespace flags, fork-like (no new stack).
    pid = libc.syscall(nr["clone"], 17 | CLONE_NEWUSER | CLONE_NEWNS, 0, 0, 0, 0)  # 17 = SIGCHLD
    if pid == 0:
        libc.umount2(host_dir.encode(), MNT_DETACH)
        os._exit(3 if os.path.exists(init) else 4)
    if pid > 0:
        _, st = os.waitpid(pid, 0)
        leaks.append("clone(CLONE_NEWUSER|CLONE_NEWNS) worked (child status %d)" % st)
    else:
        notes.append("clone: %s" % err())

def a_open_tree():
    for src, rel in ((os.path.dirname(host_dir), os.path.basename(host_dir)),
                     ("/", host_dir.lstrip("/")), (host_dir, "")):
        fd = libc.syscall(nr["open_tree"], AT_FDCWD, src.encode(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)
        if fd < 0:
            notes.append("open_tree(%s): %s" % (src, err()))
            continue
        leaks.append("open_tree(%s, OPEN_TREE_CLONE) worked" % src)
        p = os.path.join("/proc/self/fd/%d" % fd, rel, "bcrypt")
        if os.path.exists(p):
            leaks.append("bcrypt visible through the detached tree at " + p)
    fd = libc.syscall(nr["fspick"], AT_FDCWD, host_dir.encode(), 1)
    if fd >= 0:
        leaks.append("fspick worked")
    else:
        notes.append("fspick: %s" % err())

def a_chroot():
    for root in ("/proc/1/root", "/proc/self/root", "/", "."):
        try:
            os.chroot(root)
            leaks.append("chroot(%s) worked" % root)
        except OSError as e:
            notes.append("chroot(%s): %s" % (root, e))
    # The classic escape: chroot into a subdir, then climb.
    os.makedirs("/tmp/jail", exist_ok=True)
    try:
        os.chroot("/tmp/jail")
        for _ in range(64):
            os.chdir("..")
        os.chroot(".")
        leaks.append("chroot escape worked")
    except OSError as e:
        notes.append("chroot escape: %s" % e)
    if libc.syscall(nr["pivot_root"], b"/tmp", b"/tmp/jail") == 0:
        leaks.append("pivot_root worked")
    else:
        notes.append("pivot_root: %s" % err())
    rc, out = run(["chroot", "/proc/1/root", "ls", target])
    notes.append("chroot command: %s %s" % (rc, out))
    if rc == 0:
        leaks.append("chroot /proc/1/root ls worked: " + out)

def a_raw_disk():
    # The filesystem under the mask, read as a block device.
    for d, _, files in os.walk("/dev"):
        for f in files:
            p = os.path.join(d, f)
            try:
                if stat.S_ISBLK(os.lstat(p).st_mode):
                    leaks.append("block device inside: " + p)
            except OSError:
                pass
    dev = os.stat("/usr").st_dev
    for where in ("/tmp/blk", os.path.join(os.getcwd(), "blk")):
        try:
            os.mknod(where, stat.S_IFBLK | 0o600, dev)
        except OSError as e:
            notes.append("mknod %s: %s" % (where, e))
            continue
        try:
            fd = os.open(where, os.O_RDONLY)
            os.close(fd)
            leaks.append("opened the disk through " + where)
        except OSError as e:
            notes.append("open %s: %s" % (where, e))
        finally:
            os.unlink(where)

def a_fd():
    # The shell that started vrun left fd 5 open on the host's dist-packages.
    for p in ("/proc/self/fd/5", "/dev/fd/5"):
        try:
            if "bcrypt" in os.listdir(p):
                leaks.append("bcrypt listed through inherited " + p)
        except OSError as e:
            notes.append("%s: %s" % (p, e))
    try:
        if "bcrypt" in os.listdir(5):
            leaks.append("bcrypt listed through inherited fd 5")
    except OSError as e:
        notes.append("fd 5: %s" % e)
    sys.path.append("/proc/self/fd/5")

try:
    globals()["a_" + name]()
except Exception as e:
    notes.append("attack raised %r" % e)
f = try_import()
if f:
    leaks.append("afterwards, import bcrypt gives " + f)
for p in visible():
    leaks.append("afterwards, visible at " + p)
if leaks:
    print("LEAK: %s: %s\n  notes: %s" % (name, "; ".join(leaks), "; ".join(notes)))
    sys.exit(3)
print("SAFE: %s: %s" % (name, "; ".join(notes)))
PYEOF

host_tmp_before=$(ls -d /tmp/mv /tmp/parent /tmp/jail /tmp/blk 2>/dev/null)
for attack in sys_path importlib walk proc_root umount mount_cmd unshare open_tree chroot raw_disk; do
        vrun_rc env python "$T/attack.py" "$attack" "$host_dir"
        assert_eq "$rc" 0 "attack '$attack' (stdout: $out; stderr: ${err:0:1500})"
        assert_contains "$out" "SAFE: $attack" "attack '$attack'"
done
vrun_rc env python "$T/attack.py" fd "$host_dir" 5<"$host_dir"
assert_eq "$rc" 0 "attack 'fd' (stdout: $out; stderr: ${err:0:1500})"
assert_contains "$out" "SAFE: fd" "attack 'fd'"
# The same attacks from the base interpreter, which the env is overlaid on.
for attack in sys_path importlib umount open_tree; do
        vrun_rc env /usr/bin/python3 "$T/attack.py" "$attack" "$host_dir"
        assert_eq "$rc" 0 "attack '$attack' from /usr/bin/python3 (stdout: $out; stderr: ${err:0:1500})"
done

# ---- the user site of the HOME a run has, not of the one the cache was made with -----------
home2="$T/home2"
mkdir -p "$home2/.local/lib/python$pyver/site-packages/usersite_probe2"
touch "$home2/.local/lib/python$pyver/site-packages/usersite_probe2/__init__.py"
assert_true "host: with HOME=$home2, $PY imports usersite_probe2 (the fixture works)" \
        env HOME="$home2" "$PY" -c 'import usersite_probe2'
out=$(HOME="$home2" "$VRUN" env /usr/bin/python3 -c 'import usersite_probe2; print("LEAK", usersite_probe2.__file__)' 2>&1)
assert_contains "$out" "ModuleNotFoundError: No module named 'usersite_probe2'" \
        "inside, with HOME changed since the interpreter facts were cached, the user site of the new HOME is hidden"

# Nothing the attacks tried changed the host.
assert_true "host: $PY still imports bcrypt" "$PY" -c 'import bcrypt'
assert_eq "$(ls -d /tmp/mv /tmp/parent /tmp/jail /tmp/blk 2>/dev/null)" "$host_tmp_before" \
        "host: the attacks' /tmp/mv, /tmp/parent, /tmp/jail, /tmp/blk stayed inside"

done_testing
