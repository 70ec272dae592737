# Run by vrun as `PYTHON -E -s -S -c <this>` (-I where it exists): prints the interpreter's facts as
# one JSON object. Must parse on Python 2 too, so vrun can say "too old"
# instead of failing on a syntax error.
import sys, os, json
info = {"version": "%d.%d.%d" % tuple(sys.version_info[:3]),
        "major": sys.version_info[0], "minor": sys.version_info[1]}
if sys.version_info >= (3, 8):
    import sysconfig, site
    # -c puts the working directory first; it is not the interpreter's.
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    norm = lambda p: os.path.normpath(os.path.abspath(p))
    keep = []
    for p in sys.path:
        if p and norm(p) not in keep:
            keep.append(norm(p))
    info["implementation"] = sys.implementation.name
    info["executable"] = os.path.realpath(sys.executable)
    info["prefix"] = sys.base_prefix
    info["exec_prefix"] = sys.base_exec_prefix
    info["is_64bit"] = sys.maxsize > 2 ** 32
    hide = []
    def add(p):
        if not p:
            return
        p = norm(p)
        if p in keep or p in hide:
            return
        # Hiding an ancestor of the stdlib would hide the stdlib itself.
        if any(k.startswith(p + os.sep) for k in keep) or p == "/":
            return
        hide.append(p)
    sv = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix,
          "installed_base": sys.base_prefix, "installed_platbase": sys.base_exec_prefix,
          "userbase": site.getuserbase()}
    for scheme in sysconfig.get_scheme_names():
        if scheme.startswith(("nt", "osx")):
            continue
        for key in ("purelib", "platlib"):
            try:
                add(sysconfig.get_path(key, scheme, vars=sv))
            except Exception:
                pass
    sp = [norm(p) for p in site.getsitepackages()]
    for p in sp:
        add(p)
    user = site.getusersitepackages()
    add(user)
    # What .pth files add: run site's own processing and diff sys.path.
    try:
        site.main()
        if os.path.isdir(user):
            site.addsitedir(user)
    except Exception:
        pass
    for p in sys.path:
        add(p)
    # Other Pythons' global dirs on this machine (Debian's dist-packages when
    # the base is a pyenv build, say): importable by absolute path, so hidden too.
    import glob
    for pat in ("/usr/lib/python3*/dist-packages", "/usr/lib/python3*/site-packages",
                "/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages"):
        for p in sorted(glob.glob(pat)):
            add(p)
    info["stdlib"] = keep
    info["site_packages"] = sp
    info["hide"] = hide
    wheels = []
    try:
        import ensurepip
        here = os.path.join(os.path.dirname(ensurepip.__file__), "_bundled")
        if hasattr(ensurepip, "_get_packages"):
            pk = ensurepip._get_packages()
            for name in ("setuptools", "pip"):
                if name in pk:
                    w = pk[name]
                    wheels.append(str(w.wheel_path or os.path.join(here, w.wheel_name)))
        elif hasattr(ensurepip, "_get_pip_whl_path_ctx"):
            with ensurepip._get_pip_whl_path_ctx() as w:
                wheels.append(str(w))
        elif hasattr(ensurepip, "_PROJECTS"):
            for name, ver, tag in ensurepip._PROJECTS:
                wheels.append(os.path.join(here, "%s-%s-%s-none-any.whl" % (name, ver, tag)))
    except Exception:
        pass
    info["seed_wheels"] = [os.path.realpath(w) for w in wheels if os.path.isfile(w)]
sys.stdout.write(json.dumps(info))
