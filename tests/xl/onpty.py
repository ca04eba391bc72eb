#!/usr/bin/python3
"""onpty.py KEYS CMD...: runs CMD on a pseudo-terminal of its own (TERM=xterm),
waits for pygrub's menu ("Will boot selected entry"), types KEYS (Python
escapes, e.g. '\\x1bOB\\r' for Down then Enter), and exits with CMD's status
after printing 'menu shown' if the menu was seen.  30 s at most."""
import os
import pty
import select
import sys
import time

keys = sys.argv[1].encode().decode('unicode_escape').encode('latin-1')
pid, fd = pty.fork()
if pid == 0:
    os.environ['TERM'] = 'xterm'
    os.execv(sys.argv[2], sys.argv[2:])
seen = b''
sent = False
deadline = time.time() + 30
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        seen = (seen + d)[-65536:]
    if not sent and b'Will boot selected entry' in seen:
        for k in keys:
            os.write(fd, bytes([k]))
            time.sleep(0.2)
        sent = True
else:
    os.kill(pid, 9)
_, st = os.waitpid(pid, 0)
if sent:
    print('menu shown')
sys.exit(os.waitstatus_to_exitcode(st))
