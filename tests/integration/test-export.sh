#!/bin/bash
# vrun export: an env holding a locally built wheel (with a native library that
# loads libzstd, which the base interpreter does not need) goes out as an OCI
# runtime bundle and as an OCI image layout. crun runs the bundle, and the image
# unpacked by umoci, under the exported sandbox: the package imports, the host's
# bcrypt does not, the payload is uid 1000 with no capabilities, no_new_privs
# and vrun's seccomp filter, and the root is read-only. skopeo reads the layout;
# exports are reproducible and envs on one base share the base layer. Export
# itself needs no privilege (the user phase runs it, and crun, rootless).
. "$TESTS/lib.sh"

for tool in crun skopeo umoci gcc unshare; do
        command -v "$tool" >/dev/null || skip "$tool is not installed (apt-get install crun skopeo umoci)"
done
need_bcrypt
zstd=$(ls /usr/lib/*-linux-gnu/libzstd.so.1 /usr/lib64/libzstd.so.1 2>/dev/null | head -n 1)
[ -n "$zstd" ] || skip "no libzstd.so.1 to link the test's native library with"

# ---- the env: falconc 1.2.3, pure Python around a native library (ctypes) ----------------
mkdir -p "$T/build/falconc" "$T/wheels"
cat >"$T/build/native.c" <<'EOF2'
unsigned ZSTD_versionNumber(void);
int answer(void) {
        return ZSTD_versionNumber() > 0 ? 42 : 0;
}
EOF2
gcc -shared -fPIC -o "$T/build/falconc/native.so" "$T/build/native.c" "$zstd" ||
        { fail "cannot build the native library"; done_testing; }
"$PY" - "$T/build" "$T/wheels" <<'EOF2'
import base64, hashlib, os, sys, zipfile
src, out = sys.argv[1:3]
files = {
    "falconc/__init__.py": b"import ctypes, os\n__version__ = '1.2.3'\n"
    b"_lib = ctypes.CDLL(os.path.join(os.path.dirname(__file__), 'native.so'))\n"
    b"def answer():\n    return _lib.answer()\n",
    "falconc/native.so": open(os.path.join(src, "falconc", "native.so"), "rb").read(),
    "falconc-1.2.3.dist-info/METADATA": b"Metadata-Version: 2.1\nName: falconc\nVersion: 1.2.3\n",
    "falconc-1.2.3.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: vrun-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = ["%s,sha256=%s,%d" % (f, base64.urlsafe_b64encode(hashlib.sha256(c).digest()).rstrip(b"=").decode(), len(c))
          for f, c in files.items()]
files["falconc-1.2.3.dist-info/RECORD"] = ("\n".join(record + ["falconc-1.2.3.dist-info/RECORD,,"]) + "\n").encode()
with zipfile.ZipFile(os.path.join(out, "falconc-1.2.3-py3-none-any.whl"), "w") as z:
    for f, c in files.items():
        z.writestr(f, c)
EOF2
cd "$T" || exit 1
make_env env
vrun_rc env pip install --no-index --find-links wheels falconc
assert_eq "$rc" 0 "pip install falconc into the env (stderr: $err)"
make_env env2 --without-pip
# Whatever ran in the env could plant links to the host's files: export keeps them as links and
# never copies what they name (here a secret beside the env, and a directory of the host).
echo TOPSECRET-EXPORT >"$T/secret"
ln -s "$T/secret" "$T/env/lib/leak"
ln -s /etc "$T/env/lib/leakdir"
# A run's state is not the env: what a program wrote to its cache (XDG_CACHE_HOME, the env's
# .cache: pip's downloads, anything it chose to leave there) stays out of every export.
vrun_rc env /bin/sh -c 'mkdir -p "$XDG_CACHE_HOME/pip" && echo RUNTIME-CACHE-SECRET >"$XDG_CACHE_HOME/pip/planted"'
assert_eq "$rc" 0 "a run writes to its cache (stderr: $err)"
assert_true "the run's cache is the env's .cache" test -f "$T/env/.cache/pip/planted"

# What the payload reports about itself, one key=value per fact.
cat >"$T/probe.py" <<'EOF2'
import ctypes, errno, os, tempfile
out = {}
try:
    import falconc
    out["falconc"] = falconc.answer()
except Exception as e:
    out["falconc"] = type(e).__name__
try:
    import bcrypt
    out["bcrypt"] = "imported"
except ImportError:
    out["bcrypt"] = "missing"
out["uid"] = os.getuid()
st = dict(l.split(":\t", 1) for l in open("/proc/self/status").read().splitlines() if ":\t" in l)
out["caps"] = ",".join(st[k].strip() for k in ("CapEff", "CapPrm", "CapInh", "CapAmb", "CapBnd"))
out["nnp"] = st["NoNewPrivs"].strip()
out["seccomp"] = st["Seccomp"].strip()
libc = ctypes.CDLL(None, use_errno=True)
# vrun's filter answers clone3 with ENOSYS; the kernel itself would say EINVAL.
out["clone3"] = errno.errorcode.get(ctypes.get_errno(), "?") if libc.syscall(435, None, 0) < 0 else "ok"
for key, path in (("root", "/probe"), ("env", os.environ["VIRTUAL_ENV"] + "/probe")):
    try:
        open(path, "w")
        out[key] = "writable"
    except OSError as e:
        out[key] = errno.errorcode[e.errno]
tempfile.TemporaryFile().close()
out["tmp"] = "ok"
print(" ".join("%s=%s" % (k, out[k]) for k in sorted(out)))
EOF2
want="bcrypt=missing caps=0000000000000000,0000000000000000,0000000000000000,0000000000000000,0000000000000000"
want="$want clone3=ENOSYS env=EROFS falconc=42 nnp=1 root=EROFS seccomp=2 tmp=ok uid=1000"
probe=$(cat "$T/probe.py")

# crun on this machine: a hybrid cgroup layout (an empty cgroup2 at /sys/fs/cgroup/unified)
# is refused, so it runs in a private mount namespace with a tmpfs there and no cgroup
# manager. As a plain user, that mount namespace needs a user namespace where we are root;
# crun itself then runs (rootless) in a nested one where we have our own uid again, so that
# the bundle's mapping of uid 1000 to that uid holds.
run_crun() { # BUNDLE ID: output in $out, status in $rc
        local cg=true
        [ -d /sys/fs/cgroup/unified ] || cg=false
        if [ "$(id -u)" = 0 ]; then
                out=$(unshare -m sh -c '[ "$4" = false ] || mount -t tmpfs tmpfs /sys/fs/cgroup/unified || exit 99
                        exec crun --root "$1" --cgroup-manager=disabled run -b "$2" "$3"' sh \
                        "$T/crun" "$1" "$2" "$cg" </dev/null 2>&1)
        else
                out=$(unshare -Urm sh -c '[ "$4" = false ] || mount -t tmpfs tmpfs /sys/fs/cgroup/unified || exit 99
                        exec unshare -U --map-user="$5" --map-group="$6" \
                                crun --root "$1" --cgroup-manager=disabled run -b "$2" "$3"' sh \
                        "$T/crun" "$1" "$2" "$cg" "$(id -u)" "$(id -g)" </dev/null 2>&1)
        fi
        rc=$?
}

# ---- the runtime bundle -------------------------------------------------------------------
vrun_rc export --bundle "$T/bundle" --seccomp-json "$T/seccomp.json" env python -c "$probe"
assert_eq "$rc" 0 "export --bundle (stderr: $err)"
assert_true "the bundle has config.json" test -f "$T/bundle/config.json"
assert_true "the env is at its own path in the rootfs" test -f "$T/bundle/rootfs$T/env/pyvenv.cfg"
assert_true "the env's native library's libzstd is in the rootfs" \
        sh -c "ls '$T/bundle/rootfs'/usr/lib/*/libzstd.so.1* '$T/bundle/rootfs'/lib/*/libzstd.so.1* 2>/dev/null | grep -q ."
assert_eq "$(readlink "$T/bundle/rootfs$T/env/lib/leak")" "$T/secret" "a link in the env stays a link"
assert_false "what an env's link names is not copied" test -e "$T/bundle/rootfs$T/secret"
assert_false "nor a directory it names" test -e "$T/bundle/rootfs/etc/shadow"
assert_false "the env's run-time cache is not in the rootfs" test -e "$T/bundle/rootfs$T/env/.cache"
assert_false "no global dist-packages in the rootfs" test -e "$T/bundle/rootfs/usr/lib/python3/dist-packages/bcrypt"
assert_true "--seccomp-json is the bundle's linux.seccomp" "$PY" -c '
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))["linux"]["seccomp"]
sys.exit(0 if a == b and a["defaultAction"] == "SCMP_ACT_ALLOW" and a["syscalls"] else 1)' \
        "$T/seccomp.json" "$T/bundle/config.json"
run_crun "$T/bundle" "vrun-export-$$-a"
assert_eq "$rc" 0 "crun runs the bundle (output: $out)"
assert_eq "$out" "$want" "the bundle's payload"

# The untrusted profile: its socket rules (64-bit masks), rlimits and no network travel along.
sock='import errno, resource, socket
def try_(f):
    try:
        socket.socket(f).close()
        return "ok"
    except OSError as e:
        return errno.errorcode[e.errno]
print(try_(socket.AF_UNIX), try_(socket.AF_INET), resource.getrlimit(resource.RLIMIT_NPROC)[0], len(open("/proc/net/dev").read().splitlines()) - 2)'
vrun_rc export --profile untrusted --bundle "$T/bundle-untrusted" env python -c "$sock"
assert_eq "$rc" 0 "export --profile untrusted --bundle (stderr: $err)"
assert_eq "$("$PY" -c '
import json, sys
c = json.load(open(sys.argv[1]))
ns = sorted(n["type"] for n in c["linux"]["namespaces"])
print(c["annotations"].get("io.vrun.timeout-seconds"), "network" in ns, c["hostname"], c["root"]["readonly"],
      "/proc/kcore" in c["linux"]["maskedPaths"], "/proc/sys" in c["linux"]["readonlyPaths"])' \
        "$T/bundle-untrusted/config.json" 2>&1)" "600 True vrun True True True" \
        "the untrusted bundle's config.json: timeout, network namespace, hostname, read-only root, /proc locked"
assert_contains "$("$PY" -c 'import json, sys; print([n["type"] for n in json.load(open(sys.argv[1]))["linux"]["namespaces"]])' \
        "$T/bundle/config.json")" "'mount'" "the default bundle has a mount namespace"
assert_not_contains "$(cat "$T/bundle/config.json")" '"network"' "the default profile keeps the host network"
run_crun "$T/bundle-untrusted" "vrun-export-$$-u"
assert_eq "$rc" 0 "crun runs the untrusted bundle (output: $out)"
assert_eq "$out" "ok EAFNOSUPPORT 256 1" "untrusted: unix sockets only, nproc 256, loopback only"

# ---- the image layout ---------------------------------------------------------------------
vrun_rc export --oci "$T/img" --tag falconc:1.0 env python -c "$probe"
assert_eq "$rc" 0 "export --oci (stderr: $err)"
manifest=$(awk '{print $3}' <<<"$out")
info=$(skopeo inspect "oci:$T/img:1.0" 2>&1)
assert_contains "$info" "\"Digest\": \"$manifest\"" "skopeo reads the layout and finds the manifest"
assert_contains "$info" "falconc==1.2.3" "the image's labels name the env's distributions"
layers=$("$PY" -c 'import json, sys; print(" ".join(json.loads(sys.stdin.read())["Layers"]))' <<<"$info")
assert_eq "$(wc -w <<<"$layers")" 2 "two layers, base and env"
config=$(skopeo inspect --config "oci:$T/img:1.0" 2>&1)
assert_contains "$config" '"User": "1000:1000"' "the image runs as uid 1000"
assert_contains "$config" "\"$T/env/bin/python\"" "the entrypoint is the env's python"
leaked=$(for b in "$T"/img/blobs/sha256/*; do gzip -dc "$b" 2>/dev/null; done | grep -c TOPSECRET-EXPORT)
assert_eq "$leaked" 0 "no layer holds the file an env's link names"
leaked=$(for b in "$T"/img/blobs/sha256/*; do gzip -dc "$b" 2>/dev/null; done | grep -c RUNTIME-CACHE-SECRET)
assert_eq "$leaked" 0 "no layer holds what a run wrote to the env's cache"
env_layer=$("$PY" -c 'import json, sys
b = sys.argv[1] + "/blobs/sha256/"
m = json.load(open(sys.argv[1] + "/index.json"))["manifests"][0]["digest"].split(":")[1]
print(json.load(open(b + m))["layers"][1]["digest"].split(":")[1])' "$T/img")
assert_eq "$(tar -tzf "$T/img/blobs/sha256/$env_layer" | grep -c "env/\.cache")" 0 "the env layer has no .cache"
assert_true "the env layer has the env" sh -c "tar -tzf '$T/img/blobs/sha256/$env_layer' | grep -q 'env/pyvenv.cfg'"

# The same env exports to the same bytes; another env on the same base shares the base layer.
vrun_rc export --oci "$T/img2" --tag falconc:1.0 env python -c "$probe"
assert_eq "$(awk '{print $3}' <<<"$out")" "$manifest" "a second export has the same manifest digest"
assert_eq "$(cat "$T/img2/index.json")" "$(cat "$T/img/index.json")" "and the same index.json"
vrun_rc export --oci "$T/img3" env2
assert_eq "$rc" 0 "export of a second env (stderr: $err)"
assert_contains "$out" "base layer ${layers%% *} cached" "the second env's first layer is the same base layer, from the cache"
vrun_rc export --oci "$T/img" --tag other:2 env2
assert_eq "$rc" 0 "a second image into the same layout (stderr: $err)"
assert_eq "$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["manifests"]))' "$T/img/index.json")" 2 \
        "index.json keeps both references"
assert_contains "$(skopeo inspect "oci:$T/img:1.0" 2>&1)" "\"Digest\": \"$manifest\"" "the first reference is unchanged"

# Exports running at once into one new layout: each keeps the others' references.
for i in 1 2 3; do
        "$VRUN" export --oci "$T/shared" --tag "app:v$i" env2 >"$T/par$i.out" 2>&1 &
done
wait
assert_eq "$("$PY" -c 'import json, sys
print(" ".join(sorted(m["annotations"]["org.opencontainers.image.ref.name"] for m in json.load(open(sys.argv[1]))["manifests"])))' \
        "$T/shared/index.json" 2>&1)" "v1 v2 v3" "three exports at once into one layout ($(cat "$T"/par*.out))"

# The base layer cache is bounded: an export keeps the 8 records used last (its own among them)
# and the layers they name, and drops the rest and every layer no record names.
cache="$XDG_CACHE_HOME/vrun/export-layers"
for i in $(seq 1 12); do
        key=$(printf '%064x' "$i") blob=$(printf 'f%063x' "$i")
        printf x >"$cache/$blob"
        printf '{"digest":"sha256:%s","diff_id":"sha256:%s","size":1}' "$blob" "$blob" >"$cache/$key.json"
        touch -d "2020-01-01 00:00:$((10 + i))" "$cache/$key.json" "$cache/$blob"
done
orphan=$(printf 'e%063x' 1)
printf y >"$cache/$orphan"
touch -d "2020-01-01" "$cache/$orphan"
vrun_rc export --oci "$T/img4" env2
assert_eq "$rc" 0 "export with a full cache (stderr: $err)"
assert_contains "$out" "base layer ${layers%% *} cached" "the base layer still comes from the cache"
assert_eq "$(find "$cache" -name '*.json' | wc -l)" 8 "the cache keeps 8 records"
assert_eq "$(find "$cache" -type f ! -name '*.json' | wc -l)" 8 "and the 8 layers they name"
assert_false "the record used longest ago is gone" test -e "$cache/$(printf '%064x' 1).json"
assert_false "with its layer" test -e "$cache/$(printf 'f%063x' 1)"
assert_true "the record used last but one is kept" test -e "$cache/$(printf '%064x' 12).json"
assert_false "a layer no record names is gone" test -e "$cache/$orphan"
vrun_rc export --oci "$T/img5" env2
assert_contains "$out" "base layer ${layers%% *} cached" "the export's own record survives its pruning"

# umoci unpacks the image; crun runs its root filesystem under the exported sandbox.
if [ "$(id -u)" = 0 ]; then
        umoci_out=$(umoci unpack --image "$T/img:1.0" "$T/unpacked" 2>&1)
else
        umoci_out=$(umoci unpack --rootless --image "$T/img:1.0" "$T/unpacked" 2>&1)
fi
assert_eq "$?" 0 "umoci unpacks the image ($umoci_out)"
assert_contains "$(cat "$T/unpacked/config.json")" "\"$T/env/bin/python\"" "umoci's runtime config runs the entrypoint"
cp "$T/bundle/config.json" "$T/unpacked/config.json"
run_crun "$T/unpacked" "vrun-export-$$-b"
assert_eq "$rc" 0 "crun runs the unpacked image (output: $out)"
assert_eq "$out" "$want" "the unpacked image's payload"

# Usage errors.
expect_status 2 "$VRUN" export env
assert_contains "$out" "nothing to export" "export without a target"
expect_status 1 "$VRUN" export --bundle "$T/bundle" env
assert_contains "$out" "not empty" "a bundle is never written into a non-empty directory"
expect_status 1 "$VRUN" export --bundle "$T/b-missing" env no-such-command
assert_contains "$out" "no such command in the image" "a command the image does not hold"

# A failed bundle export leaves no half bundle behind (a file the user cannot read; root can).
if [ "$(id -u)" != 0 ]; then
        echo unreadable >"$T/env2/unreadable" && chmod 000 "$T/env2/unreadable"
        expect_status 1 "$VRUN" export --bundle "$T/b-failed" env2
        assert_contains "$out" "Permission denied" "the export names the failure"
        assert_eq "$(ls -A "$T/b-failed")" "" "and leaves the bundle directory empty"
        rm -f "$T/env2/unreadable"
fi

done_testing
