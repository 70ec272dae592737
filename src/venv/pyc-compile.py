# Run by vrun (python -I -c THIS) to compile a wheel's Python files once,
# into its cache entry, the way ensurepip's pip install would. It reads
# nothing but its stdin and writes nothing but its stdout, so it can run with
# no view of the filesystem at all. vrun writes the .pyc files itself.
#
# stdin: for each file, "SIZE NAME\n" and SIZE bytes of source.
# stdout: "CACHE_TAG MAGIC_HEX\n", then one line per file: the base64 of
# marshal.dumps(code), or "-" when it does not compile (pip skips those too).
import base64
import importlib.util
import marshal
import os
import sys


def compile_one(item):
    name, source = item
    try:
        code = compile(source, name.decode("utf-8", "replace"), "exec", dont_inherit=True, optimize=0)
    except (SyntaxError, ValueError):
        return "-\n"
    return base64.b64encode(marshal.dumps(code)).decode("ascii") + "\n"


tag = sys.implementation.cache_tag
sys.stdout.write("%s %s\n" % (tag or "-", importlib.util.MAGIC_NUMBER.hex()))
data = sys.stdin.buffer.read()
items = []
pos = 0
while tag and pos < len(data):
    nl = data.index(b"\n", pos)
    size, name = data[pos:nl].split(b" ", 1)
    pos = nl + 1 + int(size)
    items.append((name, data[nl + 1 : pos]))

# Compiling is all CPU: one process per CPU, file i in process i % n.
n = min(len(os.sched_getaffinity(0)), 8) if len(items) >= 64 else 1
children = []
for k in range(1, n):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        with os.fdopen(w, "w") as f:
            f.write("".join(compile_one(x) for x in items[k::n]))
        os._exit(0)
    os.close(w)
    children.append((pid, r))
parts = [[compile_one(x) for x in items[0::n]]]
for pid, r in children:
    with os.fdopen(r) as f:
        parts.append(f.read().splitlines(keepends=True))
    if os.waitpid(pid, 0)[1] != 0:
        sys.exit("a compiling process failed")
for i in range(len(items)):
    sys.stdout.write(parts[i % n][i // n])
