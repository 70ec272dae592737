"""vrun's demo: run me with `vrun ENV python docs/examples/app.py`.

Outside, Debian's python3-bcrypt is importable by /usr/bin/python3. Inside
vrun's sandbox the global site-packages directories are hidden by mounts, so
the import fails however it is attempted.
"""
import importlib.util
import os
import sys

print("python      :", sys.version.split()[0], "at", sys.executable)
print("venv        :", sys.prefix)
print("hostname    :", os.uname().nodename, "| pid", os.getpid())

try:
    import bcrypt  # noqa: F401
    print("bcrypt      : IMPORTABLE from", bcrypt.__file__, "- isolation is broken")
    sys.exit(1)
except ModuleNotFoundError:
    print("bcrypt      : not importable (hidden by vrun)")

host_dir = "/usr/lib/python3/dist-packages/bcrypt/__init__.py"
spec = importlib.util.spec_from_file_location("bcrypt", host_dir)
try:
    spec.loader.exec_module(importlib.util.module_from_spec(spec))
    print("by path     : loaded", host_dir, "- isolation is broken")
    sys.exit(1)
except OSError as e:
    print("by path     :", host_dir, "->", e.strerror)

try:
    open("/usr/vrun-demo", "w")
    print("write /usr  : allowed - isolation is broken")
    sys.exit(1)
except OSError as e:
    print("write /usr  :", e.strerror)
