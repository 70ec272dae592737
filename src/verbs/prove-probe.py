# vrun prove's probe, embedded in the binary. Two modes, one JSON argument:
#
#   BASE -I -c PROBE host JSON
#       on the host, with the env's base interpreter: where each module is
#       found (or which modules to sample), and which ones the env provides.
#   ENV/bin/python -I -S -c PROBE sandbox JSON
#       inside the sandbox, under the plan `vrun run` would use. Phase 1 runs
#       before any code of the env does (-S: no site, so no .pth file of the
#       env has run) and writes its checks as one JSON line; phase 2 then
#       runs site.main() as a normal start would, and checks imports.
#
# Output: JSON on stdout, one object a line. Must parse on Python 3.8.
import errno, json, os, re, sys

MAX_LIST = 12   # names shown from a directory that should be empty


def write_line(fd, obj):
    data = (json.dumps(obj) + "\n").encode()
    while data:
        n = os.write(fd, data)
        data = data[n:]


def norm(p):
    return os.path.normpath(os.path.abspath(p))


def under(p, d):
    p, d = norm(p), norm(d)
    return p == d or p.startswith(d.rstrip("/") + "/")


def top_level_modules(dirs):
    """Names importable from dirs, by listing them: nothing is imported."""
    import pkgutil
    names = set()
    for info in pkgutil.iter_modules([d for d in dirs if os.path.isdir(d)]):
        names.add(info.name)
    return names


def err_name(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if getattr(e, "errno", None) else type(e).__name__


# ---- on the host ------------------------------------------------------------------------------

def host(inp):
    import importlib.util
    stdlib = [norm(p) for p in inp["stdlib"]]
    env_site = inp["env_site"]
    env_mods = top_level_modules([env_site])
    # Where the base finds third-party code: sys.path under -I without the
    # stdlib (the global site dirs, and what .pth files add).
    gdirs = []
    for p in sys.path:
        if p and os.path.isabs(p) and not any(norm(p) == s for s in stdlib) and norm(p) not in gdirs:
            gdirs.append(norm(p))

    def where(name):
        m = {"name": name, "env_provides": name.split(".")[0] in env_mods}
        try:
            spec = importlib.util.find_spec(name)
        except BaseException as e:  # a parent package that fails to import
            m.update(status="missing", error="%s: %s" % (type(e).__name__, e))
            return m
        if spec is None:
            m["status"] = "missing"
            return m
        origin = spec.origin if spec.has_location and spec.origin else None
        locs = [norm(p) for p in (spec.submodule_search_locations or [])]
        paths = ([norm(origin)] if origin else []) + locs
        m["origin"] = norm(origin) if origin else None
        m["locations"] = locs
        if not paths:
            m["status"] = "stdlib"  # built-in or frozen
            return m
        # The sys.path entry it was found in: the longest that holds it. pyenv's
        # and python.org's site-packages sit inside the stdlib dir, so a module
        # is the stdlib's only when no global dir holds it more closely.
        holders = [d for d in gdirs if under(paths[0], d)]
        in_std = [s for s in stdlib if under(paths[0], s)]
        if in_std and (not holders or max(map(len, in_std)) >= max(map(len, holders))):
            m["status"] = "stdlib"
            return m
        m["dir"] = max(holders, key=len) if holders else os.path.dirname(locs[0] if locs else origin)
        m["status"] = "found"
        return m

    out = {"global_dirs": gdirs, "env_modules": sorted(env_mods)}
    if inp["modules"]:
        out["sampled"] = False
        out["modules"] = [where(n) for n in inp["modules"]]
    else:
        # The sample: public top-level modules of the global dirs that the
        # env does not provide and that the base really finds there (not
        # shadowed by the stdlib); bcrypt first, the rest spread evenly.
        names = sorted((n for n in top_level_modules(gdirs) if not n.startswith("_") and n not in env_mods),
                       key=str.lower)
        found = []
        for n in names:
            m = where(n)
            if m["status"] == "found":
                found.append(m)
        pick = [m for m in found if m["name"] == "bcrypt"]
        rest = [m for m in found if m["name"] != "bcrypt"]
        k = max(0, inp["sample_max"] - len(pick))
        if len(rest) > k:
            rest = [rest[(i * len(rest)) // k] for i in range(k)] if k else []
        out["sampled"] = True
        out["candidates"] = len(found)
        out["modules"] = pick + rest
    return out


# ---- inside the sandbox -------------------------------------------------------------------------

def mounts():
    """Mount point -> [(device, fstype, ro)] of the mounts stacked there."""
    res = {}
    try:
        with open("/proc/self/mountinfo") as f:
            for line in f:
                a = line.split()
                sep = a.index("-")
                point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), a[4])
                major, minor = a[2].split(":")
                dev = os.makedev(int(major), int(minor))
                res.setdefault(point, []).append((dev, a[sep + 1], "ro" in a[5].split(",")))
    except (OSError, ValueError, IndexError):
        pass
    return res


class Inside:
    def __init__(self, inp):
        self.inp = inp
        self.checks = []
        self.env_site = inp["env_site"]
        self.mounts = mounts()
        try:
            self.env_listing = sorted(os.listdir(self.env_site))
        except OSError:
            self.env_listing = None

    def add(self, id, what, ok, evidence, leak=True, **extra):
        c = {"id": id, "what": what, "ok": bool(ok), "evidence": evidence, "leak": leak}
        c.update(extra)
        self.checks.append(c)

    def mount_note(self, d):
        """What is mounted on d, when something is: the mount whose device
        d is on (mountinfo's order does not tell which one is on top)."""
        try:
            dev = os.stat(d).st_dev
        except OSError:
            return ""
        for mdev, fstype, ro in self.mounts.get(d, []):
            if mdev == dev:
                return " (%s %s)" % ("ro" if ro else "rw", fstype)
        return ""

    def env_twin(self, path):
        """True when path is the env's own file, seen through the overlay of
        the env's site-packages on a global dir."""
        for g in self.inp["global_dirs"]:
            if under(path, g) and path != g:
                twin = os.path.join(self.env_site, os.path.relpath(path, g))
                try:
                    return os.path.samefile(path, twin)
                except OSError:
                    return False
        return False

    def dir_state(self, d, brief=False):
        """(ok, evidence) for a global package dir: it must show nothing of
        the host's: absent, empty, or exactly the env's site-packages."""
        try:
            names = sorted(os.listdir(d))
        except FileNotFoundError:
            return True, "absent (ENOENT)"
        except NotADirectoryError:
            return True, "not a directory (ENOTDIR)"
        except PermissionError:
            return True, "not accessible (EACCES)"
        except OSError as e:
            return False, "listing fails with %s" % err_name(e)
        note = self.mount_note(d)
        if not names:
            return True, "empty%s" % note
        if self.env_listing is not None and names == self.env_listing:
            try:
                same = ", the same directory" if os.path.samefile(d, self.env_site) else ""
            except OSError:
                same = ""
            return True, "the env's site-packages (%d entries%s)%s" % (len(names), same, note)
        if brief:
            return False, "%d entries visible%s" % (len(names), note)
        # The modules asked about first: they are what leaks.
        asked = set(m["name"].split(".")[0] for m in self.inp["modules"])
        first = [n for n in names if n.split(".")[0] in asked]
        names = first + [n for n in names if n not in first]
        shown = ", ".join(names[:MAX_LIST]) + (", ..." if len(names) > MAX_LIST else "")
        return False, "%d entries visible: %s%s" % (len(names), shown, note)

    def path_visible(self, p):
        """None when p cannot be reached inside, else how it can."""
        try:
            st = os.stat(p)
        except OSError as e:
            return None, err_name(e)
        if self.env_twin(p):
            return None, "the env's own copy"
        import stat
        try:
            if stat.S_ISDIR(st.st_mode):
                os.listdir(p)
                return "listable", None
            with open(p, "rb") as f:
                f.read(1)
            return "readable", None
        except OSError as e:
            return "exists (%s)" % err_name(e), None

    # -- checks ---------------------------------------------------------------------------------

    def modules(self):
        mods = self.inp["modules"]
        if self.inp.get("system_site"):
            self.add("modules", "global modules are visible, as the env asks", True,
                     "pyvenv.cfg: include-system-site-packages = true (created with --system-site-packages)")
            return
        if not mods:
            self.add("modules", "global modules", True,
                     "the base interpreter finds no third-party module outside the env: nothing to sample")
        for m in mods:
            name, st = m["name"], m["status"]
            id = "module:" + name
            if st == "stdlib":
                where = m.get("origin") or (m.get("locations") or ["built in"])[0]
                self.add(id, "%s is part of the standard library" % name, True,
                         "host: %s; visible inside by design" % where, module=name)
                continue
            if st != "found":
                host = "host: the base interpreter does not find it" + (" (%s)" % m["error"] if m.get("error") else "")
                what = "%s is the env's own" % name if m["env_provides"] else "%s is not importable" % name
                self.add(id, what, True, host, module=name)
                continue
            paths = []
            for p in ([m["origin"]] if m.get("origin") else []) + m.get("locations", []):
                if p not in paths:
                    paths.append(p)
            shown = m["locations"][0] if m.get("locations") else m["origin"]
            problems, errs = [], set()
            for p in paths:
                how, e = self.path_visible(p)
                if how:
                    problems.append("%s %s" % (p, how))
                elif e:
                    errs.add(e)
            dok, dev = self.dir_state(m["dir"], brief=True)
            ok = not problems and dok
            parts = ["host: %s" % shown]
            if problems:
                parts.append("inside: " + ", ".join(problems))
            else:
                parts.append("inside: not at that path (%s)" % ", ".join(sorted(errs)))
            parts.append("%s %s" % (m["dir"], dev))
            what = ("%s is the env's own; the host's copy is hidden" % name if m["env_provides"]
                    else "%s is hidden" % name)
            self.add(id, what, ok, "; ".join(parts), module=name, path=m["dir"])

    def global_dirs(self):
        if self.inp.get("system_site"):
            return
        for d in self.inp["global_dirs"]:
            ok, ev = self.dir_state(d)
            self.add("dir:" + d, "%s shows nothing of the host's" % d, ok, ev, path=d)

    def readonly(self):
        writable = self.inp["writable"]

        def attempt(d):
            if not os.path.isdir(d):
                return True, "%s absent" % d
            name = os.path.join(d, ".vrun-prove-%s" % os.urandom(6).hex())
            try:
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            except OSError as e:
                ok = e.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
                try:
                    ro = " (mount ro)" if os.statvfs(d).f_flag & os.ST_RDONLY else ""
                except OSError:
                    ro = ""
                return ok, "%s %s%s" % (d, err_name(e), ro)
            os.close(fd)
            os.unlink(name)
            return False, "%s WRITABLE (created and removed %s)" % (d, name)

        for id, what, paths, skip in (("ro:host", "the host is read-only", self.inp["host_paths"], True),
                                      ("ro:base", "the base interpreter is read-only", self.inp["base_paths"], False)):
            ok, ev, seen = True, [], set()
            for p in paths:
                if p in seen:
                    continue
                seen.add(p)
                by = sorted((w for w in writable if under(p, w[0])), key=lambda w: -len(w[0]))
                if skip and by:
                    ev.append("%s writable by design (%s %s)" % (p, by[0][1], by[0][0]))
                    continue
                pok, pev = attempt(p)
                ok = ok and pok
                ev.append(pev)
            self.add(id, what, ok, ", ".join(ev))

    def status(self):
        st = {}
        with open("/proc/self/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                st[k] = v.strip()
        caps = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]
        bad = [c for c in caps if int(st.get(c, "1"), 16) != 0]
        self.add("caps", "no capabilities", not bad, " ".join("%s %s" % (c, st.get(c, "?")) for c in caps))
        try:
            with open("/proc/self/uid_map") as f:
                m = f.read().split()
            # Only the host's root is mapped away; root of a container's
            # user namespace runs as itself, like any user.
            self.add("uid", "the program is not the host's root", m[1] != "0" or not self.inp.get("host_root"),
                     "uid %s inside is host uid %s" % (m[0], m[1]) if self.inp.get("host_root") or m[1] != "0"
                     else "uid %s inside is uid %s of vrun's own user namespace" % (m[0], m[1]))
        except (OSError, IndexError, ValueError) as e:
            self.add("uid", "the program is not the host's root", False, "/proc/self/uid_map: %s" % err_name(e))
        self.add("no_new_privs", "no_new_privs is set", st.get("NoNewPrivs") == "1",
                 "NoNewPrivs: %s" % st.get("NoNewPrivs", "missing"))
        self.add("seccomp", "a seccomp filter is on", st.get("Seccomp") == "2",
                 "Seccomp: %s%s" % (st.get("Seccomp", "missing"),
                                     ", Seccomp_filters: %s" % st["Seccomp_filters"] if "Seccomp_filters" in st else ""))

    def namespaces(self):
        host_ns = self.inp["host_ns"]
        net = self.inp["net"]
        inside = {}
        for ns in ("user", "mnt", "pid", "ipc", "uts", "net"):
            try:
                inside[ns] = os.stat("/proc/self/ns/" + ns).st_ino
            except OSError as e:
                inside[ns] = None
                inside[ns + "_err"] = err_name(e)
        for ns in ("user", "mnt", "pid", "ipc", "uts") + (("net",) if net == "none" else ()):
            i, h = inside[ns], host_ns.get(ns)
            ok = i is not None and h is not None and i != h
            ev = "inside %s:[%s], host %s:[%s]" % (ns, i if i is not None else inside.get(ns + "_err"), ns, h)
            self.add("ns:" + ns, "the %s namespace is not the host's" % ns, ok, ev)
        ifaces = []
        try:
            with open("/proc/self/net/dev") as f:
                for line in f.readlines()[2:]:
                    ifaces.append(line.split(":")[0].strip())
        except OSError as e:
            ifaces = None
            iferr = err_name(e)
        shown = " ".join(ifaces) if ifaces is not None else "unknown (%s)" % iferr
        if net == "none":
            ok = ifaces == ["lo"] and inside["net"] != host_ns.get("net")
            self.add("net", "network: loopback only, as configured", ok, "interfaces: %s" % shown)
        else:
            ok = inside["net"] == host_ns.get("net")
            self.add("net", "network: the host's, as configured", ok,
                     "the host's net namespace net:[%s]; interfaces: %s" % (inside["net"], shown))

    def reach(self):
        """What the program reaches outside: signals (vrun, outside, tells
        whether this SIGURG got to it) and the host's unix sockets."""
        import signal, socket, stat
        os.kill(0, signal.SIGURG)
        self.add("signals", "signals stay inside (%s)" % self.inp.get("signal_scope", "?"), True,
                 "kill(0, SIGURG) sent from inside")
        hidden = self.inp.get("host_sockets") == "hidden"
        roots = ["/run", "/var/run"] + ([self.inp["runtime_dir"]] if self.inp.get("runtime_dir") else [])
        paths, visited = [], 0
        for r in roots:
            for root, dirs, files in os.walk(r):
                if root[len(r):].count("/") >= 4:
                    dirs[:] = []
                for n in files:
                    p = os.path.join(root, n)
                    try:
                        if stat.S_ISSOCK(os.lstat(p).st_mode) and os.path.realpath(p) not in paths:
                            paths.append(os.path.realpath(p))
                    except OSError:
                        pass
                visited += 1 + len(files)
                if visited > 5000 or len(paths) >= 200:
                    dirs[:] = []
        abstract = []
        try:
            with open("/proc/net/unix") as f:
                for line in f.readlines()[1:]:
                    a = line.split()
                    # listening (__SO_ACCEPTCON), with an abstract name
                    if len(a) >= 8 and a[7].startswith("@") and int(a[3], 16) & 0x10000:
                        abstract.append(a[7])
        except (OSError, ValueError):
            pass
        reached, refused = [], {}
        for name in paths + sorted(set(abstract))[:100]:
            addr = "\0" + name[1:] if name.startswith("@") else name
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(0.5)
            try:
                s.connect(addr)
                reached.append(name)
            except OSError as e:
                if e.errno == errno.EPROTOTYPE:
                    reached.append(name)  # a datagram socket: connectable all the same
                else:
                    refused[err_name(e)] = refused.get(err_name(e), 0) + 1
            finally:
                s.close()
        ev = "reachable: %s%s" % (", ".join(reached[:MAX_LIST]) or "none",
                                  " and %d more" % (len(reached) - MAX_LIST) if len(reached) > MAX_LIST else "")
        ev += "; tried %d path and %d abstract sockets%s" % (
            len(paths), len(set(abstract)),
            " (%s)" % ", ".join("%s %d" % kv for kv in sorted(refused.items())) if refused else "")
        if hidden:
            self.add("sockets", "host sockets: none reachable", not reached, ev)
        else:
            self.add("sockets", "host sockets: reachable, as this profile keeps them (docs/security.md)", True, ev,
                     leak=False)

    # -- phase 2: after site.main() ---------------------------------------------------------------

    def import_alone(self, name):
        import subprocess
        try:
            return subprocess.run([sys.executable, "-I", "-c", "import " + name], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  timeout=120).returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False

    def imports(self):
        import importlib, importlib.util
        if self.inp.get("system_site"):
            return
        mods = [m for m in self.inp["modules"] if m["status"] != "stdlib"]
        for m in mods:
            name = m["name"]
            try:
                spec = importlib.util.find_spec(name)
            except ModuleNotFoundError:
                spec = None
            except BaseException as e:
                self.add("module:" + name, "", False, "import: %s: %s" % (type(e).__name__, e), module=name)
                continue
            if spec is None:
                self.add("module:" + name, "", not m["env_provides"],
                         "import: ModuleNotFoundError" if not m["env_provides"]
                         else "import: ModuleNotFoundError, but the env provides it", module=name)
                continue
            origin = spec.origin if spec.has_location and spec.origin else None
            where = origin or (list(spec.submodule_search_locations or []) or ["?"])[0]
            mine = under(os.path.realpath(where), os.path.realpath(self.inp["env"]))
            self.add("module:" + name, "", mine,
                     "import: from %s%s" % (where, "" if mine else " (NOT the env's)"), module=name)

        env_site = os.path.realpath(self.env_site)
        on_path = any(os.path.realpath(p) == env_site for p in sys.path if p)
        names = sorted(top_level_modules([self.env_site]))
        failed, done = [], []
        for n in names:
            try:
                importlib.import_module(n)
                done.append(n)
            except BaseException as e:
                # Packages can get in each other's way in one process
                # (setuptools after something imported distutils): what
                # counts is whether a fresh interpreter imports it.
                if self.import_alone(n):
                    done.append(n)
                else:
                    failed.append("%s (%s: %s)" % (n, type(e).__name__, str(e)[:200]))
        ev = "%s %s on sys.path" % (self.env_site, "is" if on_path else "is NOT")
        if failed:
            ev += "; failed: " + ", ".join(failed)
        ev += "; imported: " + (", ".join(done) if done else "(nothing installed)")
        self.add("env", "the env's own packages import", on_path and not failed, ev, leak=False)


def sandbox(inp):
    p = Inside(inp)
    for step in (p.modules, p.global_dirs, p.readonly, p.status, p.namespaces, p.reach):
        try:
            step()
        except Exception as e:
            p.add("probe:" + step.__name__, "the probe's %s step ran" % step.__name__, False,
                  "%s: %s" % (type(e).__name__, e), leak=False)
    write_line(1, {"phase": 1, "checks": p.checks})

    # Phase 2 runs the env's code (.pth files, its packages): their output
    # must not mix with ours, and nothing they print reaches the report.
    out = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    p.checks = []
    try:
        import site
        site.main()
        p.imports()
    except BaseException as e:
        p.add("env", "the env's own packages import", False, "site.main(): %s: %s" % (type(e).__name__, e),
              leak=False)
    write_line(out, {"phase": 2, "checks": p.checks})
    # No atexit handler of the env's code runs after the report.
    os._exit(0)


def main():
    mode, inp = sys.argv[1], json.loads(sys.argv[2])
    if mode == "host":
        write_line(1, host(inp))
    elif mode == "sandbox":
        sandbox(inp)
    else:
        sys.exit("unknown mode " + mode)


main()
