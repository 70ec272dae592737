#!/bin/bash
# Which interpreter `vrun create --python SPEC` picks, and the facts vrun
# caches about it: found by every spec form, cached once, rebuilt when the
# cache is stale or damaged, and right about what the interpreter can import.
. "$TESTS/lib.sh"

P="$T/interp"
mkdir -p "$P"
real311=$(readlink -f /usr/bin/python3.11)

# picks NAME WANT_EXE WANT_VERSION [ENV=VALUE...] -- SPEC: `vrun create
# --python SPEC` makes an env on WANT_EXE, whose python is WANT_VERSION (X.Y).
picks() {
        local name=$1 want=$2 ver=$3
        shift 3
        local envs=()
        while [ "$1" != -- ]; do
                envs+=("$1")
                shift
        done
        local spec=$2
        out=$(env "${envs[@]}" "$VRUN" create --without-pip --python "$spec" "$P/$name" 2>&1)
        assert_eq "$?" 0 "--python $spec ($name): $out"
        assert_eq "$(cfg_get "$P/$name" executable)" "$want" "--python $spec ($name): executable"
        assert_eq "$("$P/$name/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>&1)" "$ver" \
                "--python $spec ($name): the env's python"
}

picks path "$real311" 3.11 -- /usr/bin/python3.11
picks command "$(readlink -f "$(command -v python3)")" 3.11 -- python3
picks version "$real311" 3.11 -- 3.11
mkdir -p "$P/links/sub"
ln -s /usr/bin/python3 "$P/links/py-abs"
ln -s ../py-abs "$P/links/sub/py-rel"
picks symlink "$real311" 3.11 -- "$P/links/py-abs"
picks symlink-chain "$real311" 3.11 -- "$P/links/sub/py-rel"
(cd "$P/links" && "$VRUN" create --without-pip --python ./sub/py-rel "$P/relative" >/dev/null 2>&1)
assert_eq "$(cfg_get "$P/relative" executable)" "$real311" "--python ./relative/symlink"
picks on-my-path "$real311" 3.11 "PATH=$P/links:$PATH" -- py-abs

# As root, pyenv: a shim (a bash script) resolves to the version pyenv would
# run, and a bare version is found among pyenv's versions.
root=${PYENV_ROOT:-$HOME/.pyenv}
for py in $(pyenv_pythons 3.12); do
        v=$(basename "$(dirname "$(dirname "$py")")")
        picks shim "$py" 3.12 "PYENV_VERSION=$v" -- "$root/shims/python3.12"
        picks shim-python3 "$py" 3.12 "PYENV_VERSION=$v" -- "$root/shims/python3"
        picks pyenv-version "$py" 3.12 -- 3.12
        picks shim-system "$real311" 3.11 "PYENV_VERSION=system" -- "$root/shims/python3"
done
for py in $(pyenv_pythons 3.13); do
        mkdir -p "$P/proj13"
        basename "$(dirname "$(dirname "$py")")" >"$P/proj13/.python-version"
        (cd "$P/proj13" && "$VRUN" create --without-pip --python "$root/shims/python3" "$P/proj13/.venv" >/dev/null 2>&1)
        assert_eq "$(cfg_get "$P/proj13/.venv" executable)" "$py" "shim with a .python-version file"
done
for py in $(pyenv_pythons 3.8); do
        picks pyenv-3.8 "$py" 3.8 -- 3.8
done

# ---- the cache ---------------------------------------------------------------------------
# cache_entry EXE: the cache file whose facts are about EXE.
cache_entry() {
        local f
        for f in $(interp_cache_files); do
                if "$PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
j = j.get("facts", j)
sys.exit(j.get("executable") != sys.argv[2])' "$f" "$1" 2>/dev/null; then
                        echo "$f"
                        return
                fi
        done
}

c=$(cache_entry "$real311")
assert_true "no interpreter cache entry for $real311 under $XDG_CACHE_HOME/vrun/interp" test -f "$c"
for f in $(interp_cache_files); do
        assert_true "cache entry $f is not valid JSON" json_ok "$f"
done

# A second create in the same place reuses the entry. Creating an env
# changes the working directory, which must not make the entry stale.
mkdir -p "$P/work"
cd "$P/work" || exit 1
rm -f "$(cache_entry "$real311")"
"$VRUN" create --without-pip .venv1 >/dev/null 2>&1
c=$(cache_entry "$real311")
ino=$(stat -c %i:%Y "$c" 2>/dev/null)
"$VRUN" create --without-pip .venv2 >/dev/null 2>&1
mkdir -p sub && cd sub && "$VRUN" create --without-pip ../.venv3 >/dev/null 2>&1
assert_eq "$(stat -c %i:%Y "$c" 2>/dev/null)" "$ino" "the cache entry was rebuilt by a create that should have reused it"
cd "$T" || exit 1

# recreates WHAT: after damaging the entry, create works and rebuilds it.
recreates() {
        rm -rf "$P/again"
        create --without-pip --python /usr/bin/python3 "$P/again"
        assert_true "$1: env does not work" "$P/again/bin/python" -c pass
        local n
        n=$(cache_entry "$real311")
        assert_true "$1: no cache entry afterwards" test -n "$n"
        assert_true "$1: cache entry not valid JSON afterwards" json_ok "$n"
}

printf 'garbage \x00\xff{{{' >"$c"
recreates "garbage cache entry"
c=$(cache_entry "$real311")
head -c "$(($(stat -c %s "$c") / 2))" "$c" >"$c.half" && mv "$c.half" "$c"
recreates "truncated cache entry"
c=$(cache_entry "$real311")
: >"$c"
recreates "empty cache entry"
c=$(cache_entry "$real311")
echo '{"key": {}, "facts": {"executable": 7}}' >"$c"
recreates "cache entry of the wrong shape"
c=$(cache_entry "$real311")
# An entry written by another format of vrun's cache is not believed.
"$PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
j["key"]["format"] = 1
j["facts"]["version"] = "3.99.0"
j["facts"]["minor"] = 99
json.dump(j, open(sys.argv[1], "w"))' "$c"
recreates "cache entry of another format"
assert_eq "$(cfg_get "$P/again" version)" "$("$PY" -c 'import platform; print(platform.python_version())')" \
        "an entry of another cache format was believed"
if [ "$VRUN_TEST_MODE" = user ]; then
        # Root reads mode 000 files anyway, so only the user phase can check it.
        c=$(cache_entry "$real311")
        chmod 000 "$c"
        recreates "unreadable cache entry"
        c=$(cache_entry "$real311")
        assert_true "unreadable cache entry was not replaced by a readable one" test -r "$c"
        # A cache directory that cannot be written costs speed, not the env.
        rm -f "$(cache_entry "$real311")"
        chmod 500 "$XDG_CACHE_HOME/vrun/interp"
        rm -rf "$P/again"
        create --without-pip --python /usr/bin/python3 "$P/again"
        assert_true "read-only cache directory: env does not work" "$P/again/bin/python" -c pass
        chmod 700 "$XDG_CACHE_HOME/vrun/interp"
fi

# A changed interpreter (same path, new mtime) is asked again.
mkdir -p "$P/copy/bin"
cp "$real311" "$P/copy/bin/python3.11"
create --without-pip --python "$P/copy/bin/python3.11" "$P/copy-env"
c=$(cache_entry "$P/copy/bin/python3.11")
assert_true "no cache entry for a copied interpreter" test -n "$c"
before=$(stat -c %i "$c" 2>/dev/null)
touch -d '2001-01-01' "$P/copy/bin/python3.11"
create --without-pip --python "$P/copy/bin/python3.11" "$P/copy-env2"
assert_false "the entry of an interpreter whose mtime changed was not rebuilt" test "$(stat -c %i "$c" 2>/dev/null)" = "$before"

# ---- the facts ---------------------------------------------------------------------------
# A .pth file in the user site adds a directory: the next create sees it.
usersite=$("$PY" -I -S -c 'import site; print(site.getusersitepackages())')
mkdir -p "$usersite" "$P/pth-extra"
echo "$P/pth-extra" >"$usersite/vrun-test.pth"
create --without-pip --python /usr/bin/python3 "$P/after-pth"

# check_facts PY: the cached facts about PY against what PY itself says.
check_facts() {
        local py=$1 exe c res
        exe=$(readlink -f "$py")
        create --without-pip --python "$py" "$P/facts-$(basename "$exe")" || return
        c=$(cache_entry "$exe")
        assert_true "no cache entry for $exe" test -n "$c"
        [ -n "$c" ] || return
        # What PY says under -I -S (the keep set) and -I (what .pth files add).
        local isp ip
        isp=$(cd / && "$py" -I -S -c 'import json, os, sys; print(json.dumps([os.path.normpath(p) for p in sys.path if p]))')
        ip=$(cd / && "$py" -I -c 'import json, os, sys; print(json.dumps([os.path.normpath(p) for p in sys.path if p]))')
        res=$(cd / && "$py" -I -S - "$c" "$isp" "$ip" "$T" "$P/pth-extra" 2>&1 <<'PYEOF'
import json, os, site, sys, sysconfig
entry, keep, with_site, cwd, pth_extra = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4], sys.argv[5]
j = json.load(open(entry))
facts = j.get("facts", j)
norm = lambda p: os.path.normpath(os.path.abspath(p))
hide = [norm(p) for p in facts["hide"]]
stdlib = [norm(p) for p in facts["stdlib"]]
bad = []
if stdlib != keep:
    bad.append("stdlib %r != sys.path under -I -S %r" % (stdlib, keep))
def is_keep_or_ancestor(p):
    return p in keep or any(k.startswith(p + os.sep) for k in keep)
want = []
for scheme in sysconfig.get_scheme_names():
    if not scheme.startswith(("posix_", "deb_", "venv")):
        continue
    for key in ("purelib", "platlib"):
        try:
            p = norm(sysconfig.get_path(key, scheme))
        except KeyError:
            continue
        if not is_keep_or_ancestor(p):
            want.append(p)
want += [norm(p) for p in site.getsitepackages()]
want.append(norm(site.getusersitepackages()))
want += [norm(p) for p in with_site if norm(p) not in keep]
missing = [p for p in dict.fromkeys(want) if p not in hide]
if missing:
    bad.append("hide lacks %r" % missing)
if os.path.isdir(site.getusersitepackages()) and os.path.exists(os.path.join(site.getusersitepackages(), "vrun-test.pth")) \
        and norm(pth_extra) not in hide:
    bad.append("hide lacks %s, added by a .pth file in the user site" % pth_extra)
for p in hide:
    if is_keep_or_ancestor(p):
        bad.append("hide has %s, which would hide the stdlib" % p)
    if p in (norm(cwd), "/", norm(os.path.expanduser("~"))):
        bad.append("hide has %s (the working directory, /, or HOME)" % p)
# Anything else must still be a global package dir: of a scheme, a .pth
# addition, or another system Python's dist-/site-packages.
other = lambda p: os.path.basename(p) in ("dist-packages", "site-packages") and p.startswith(("/usr/lib/python", "/usr/local/lib/python"))
extra = [p for p in hide if p not in want and p != norm(pth_extra) and not other(p)]
if extra:
    bad.append("hide has unexpected %r" % extra)
print("\n".join(bad) if bad else "OK")
PYEOF
)
        assert_eq "$res" OK "facts about $exe"
}

for py in "$PY" $(pyenv_pythons 3.8 3.12 3.13); do
        check_facts "$py"
done
rm -f "$usersite/vrun-test.pth"

done_testing
