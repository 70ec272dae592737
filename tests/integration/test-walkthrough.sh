#!/bin/bash
# docs/walkthrough.md cannot drift from the program: every ```sh block in it
# is run, in order, in one scratch directory (a `cd` carries over to the
# next block), with `vrun` on PATH. A block must exit 0, or N when its info
# string says `status=N`. A ```text block right after it is the expected
# output (stdout and stderr together): `...` matches any text within a line,
# and a line that is only `...` any number of lines.
. "$TESTS/lib.sh"

need_bcrypt
# runner.sh stages the source tree in $SRC (meson passes VRUN_SOURCE_ROOT).
doc=${SRC:-/nonexistent}/docs/walkthrough.md
[ -f "$doc" ] || { fail "cannot find docs/walkthrough.md (SRC=${SRC:-unset})"; done_testing; }

mkdir -p "$T/bin" "$T/walk"
ln -sf "$VRUN" "$T/bin/vrun"

report=$("$PY" - "$doc" "$T/walk" "$T/bin" <<'PYEOF'
import os, re, subprocess, sys

doc, walk, bindir = sys.argv[1:4]

# (info, body, line) for each fenced block; the expected output of an sh
# block is the text block that follows it with only blank lines between.
blocks, cur, text = [], None, open(doc, encoding="utf-8").read().split("\n")
gap = True
for n, line in enumerate(text, 1):
    if cur is None:
        m = re.match(r"^```(\S*)(.*)$", line)
        if m:
            cur = (m.group(1), m.group(2).strip(), n, [], gap)
        elif line.strip():
            gap = False
    elif line.startswith("```"):
        blocks.append(cur)
        cur, gap = None, True
    else:
        cur[3].append(line)

steps = []
for i, (lang, info, n, body, after_gap) in enumerate(blocks):
    if lang != "sh":
        continue
    status = 0
    m = re.search(r"\bstatus=(\d+)", info)
    if m:
        status = int(m.group(1))
    expect = None
    if i + 1 < len(blocks) and blocks[i + 1][0] == "text" and blocks[i + 1][4]:
        expect = blocks[i + 1][3]
    steps.append((n, "\n".join(body) + "\n", status, expect))


def pattern(lines):
    parts = []
    for l in lines:
        if l == "...":
            parts.append("(?:[^\n]*\n)*?")
        else:
            parts.append("[^\n]*?".join(re.escape(p) for p in l.split("...")) + "\n")
    return re.compile("".join(parts))


env = dict(os.environ, PATH=bindir + ":" + os.environ["PATH"])
cwd, failures = walk, 0
state = os.path.join(os.path.dirname(walk), ".walk-cwd")
for n, body, status, expect in steps:
    script = 'set -e -o pipefail\ncd "$1"\n' + body + '\npwd > "$2"\n'
    p = subprocess.run(["bash", "-c", script, "walkthrough", cwd, state], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode == 0 and os.path.exists(state):
        cwd = open(state).read().strip()
    where = "docs/walkthrough.md:%d" % n
    if p.returncode != status:
        print("FAIL %s: exited %d, expected %d; output:\n%s" % (where, p.returncode, status, out))
        failures += 1
        continue
    if expect is not None:
        got = out if out.endswith("\n") or not out else out + "\n"
        if not pattern(expect).fullmatch(got):
            print("FAIL %s: output does not match the doc.\n--- doc:\n%s\n--- got:\n%s" %
                  (where, "\n".join(expect), got))
            failures += 1
            continue
    print("ok %s" % where)
print("steps %d" % len(steps))
sys.exit(1 if failures else 0)
PYEOF
)
rc=$?
_checks=$((_checks + 1))
if [ "$rc" != 0 ]; then
        fail "the walkthrough does not do what docs/walkthrough.md says:
$report"
fi
steps=$(printf '%s\n' "$report" | sed -n 's/^steps //p')
_checks=$((_checks + 1))
[ "${steps:-0}" -ge 10 ] || fail "too few commands found in docs/walkthrough.md (${steps:-0}): $report"
done_testing
