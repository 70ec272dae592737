#!/usr/bin/python3
# drive2.py CMD...: runs CMD on a pty; env DRIVE_INT=secs sends Ctrl-C after secs;
# then types the lines of $DRIVE_INPUT; prints everything the terminal showed.
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b""
def pump(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                b = os.read(fd, 4096)
            except OSError:
                return False
            if not b:
                return False
            out += b
    return True
if os.environ.get("DRIVE_INT"):
    pump(float(os.environ["DRIVE_INT"]))
    os.write(fd, b"\x03")
pump(1.5)
for line in os.environ.get("DRIVE_INPUT", "").split("\n"):
    if line:
        os.write(fd, line.encode() + b"\n")
        pump(0.5)
pump(2)
sys.stdout.write(out.decode(errors="replace"))
