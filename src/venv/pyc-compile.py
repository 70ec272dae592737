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
import sys

out = sys.stdout
tag = sys.implementation.cache_tag
out.write("%s %s\n" % (tag or "-", importlib.util.MAGIC_NUMBER.hex()))
data = sys.stdin.buffer.read()
pos = 0
while tag and pos < len(data):
    nl = data.index(b"\n", pos)
    size, name = data[pos:nl].split(b" ", 1)
    start = nl + 1
    end = start + int(size)
    pos = end
    try:
        code = compile(data[start:end], name.decode("utf-8", "replace"), "exec", dont_inherit=True, optimize=0)
    except (SyntaxError, ValueError):
        out.write("-\n")
        continue
    out.write(base64.b64encode(marshal.dumps(code)).decode("ascii"))
    out.write("\n")
