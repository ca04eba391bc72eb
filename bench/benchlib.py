"""What bench/disk.inner, bench/net.inner and bench/save.inner share inside
the lab: running a command, waiting for a guest's console line while
watching that the guest is still there, and the reasons a row gives."""
import re
import subprocess
import time

# gone() runs xl list, a process start in the lab: twice a second it took
# ~10 % of the lab's one CPU from the guest being measured (perf in the
# lab, 2026-12-07), so wait_for asks it every GONE_EVERY s only.
GONE_EVERY = 5.0


def one_line(text, n=200):
    """text as a row's reason: one line, at most n characters."""
    return " ".join(str(text).split())[:n]


def run(*cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), p.stderr.strip()[-200:]))
    return p.stdout.strip()


def tail(path, n=3):
    """The last n non-empty lines of a console log, as one line."""
    try:
        with open(path, errors="replace") as f:
            lines = [line.strip() for line in f.read().replace("\r", "").splitlines() if line.strip()]
        return " / ".join(lines[-n:]) or "an empty console"
    except FileNotFoundError:
        return "no console log"


def wait_for(path, pattern, timeout, gone=None, poll=0.5):
    """The first match of pattern in file path, within timeout seconds,
    looked for every poll s; gone() (every GONE_EVERY s) names why the
    guest can no longer print it, or is None."""
    end = time.monotonic() + timeout
    rx = re.compile(pattern)
    next_gone = 0.0
    while time.monotonic() < end:
        try:
            with open(path, errors="replace") as f:
                m = rx.search(f.read())
            if m:
                return m
        except FileNotFoundError:
            pass
        if gone is not None and time.monotonic() >= next_gone:
            why = gone()
            if why:
                raise RuntimeError(why)
            next_gone = time.monotonic() + GONE_EVERY
        time.sleep(poll)
    raise RuntimeError("no %r in %s after %d s: %s" % (pattern, path, timeout, tail(path)))


def domus_listed(xl, name):
    out = subprocess.run([xl, "list"], capture_output=True, text=True).stdout
    return any(line.split()[:1] == [name] for line in out.splitlines())


def domus_gone(xl, name, log, done):
    """gone() for a domain: not listed, and its console does not show the
    pattern done (a result printed as it went)."""
    def gone():
        if domus_listed(xl, name):
            return None
        try:
            with open(log, errors="replace") as f:
                if re.search(done, f.read()):
                    return None
        except FileNotFoundError:
            pass
        return "the domain %s is gone: %s" % (name, tail(log))
    return gone


def qemu_gone(proc, err_path):
    """gone() for a QEMU process writing its errors to err_path."""
    def gone():
        with open(err_path, errors="replace") as f:
            err = f.read()
        if proc.poll() is not None:
            return "QEMU exited with %d: %s" % (proc.returncode, err[-300:].strip())
        # KVM's "internal error" leaves QEMU paused, not gone.
        if "internal error" in err:
            return "QEMU: %s" % err.strip().splitlines()[0]
        return None
    return gone
