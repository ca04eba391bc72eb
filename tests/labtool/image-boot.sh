#!/bin/bash
# The Debian guest disk's user space, booted without Xen: a copy of the image
# under plain QEMU (TCG, virtio disk and NIC, root=/dev/vda1, console ttyS0)
# reaches a login prompt, root logs in without a password, systemd says
# "running" (no failed unit), eth0 gets an address by DHCP (QEMU's user
# network), the hostname is domus-guest, and poweroff ends it.  What is
# Xen's (xen-blkfront, hvc0, pygrub) is tested in the lab and by image.sh.
# About 40 s of TCG.
#
#   tests/labtool/image-boot.sh          skips (77) when no image is cached
#   tests/labtool/image-boot.sh --build  builds the image first (host-slow)
set -uo pipefail
IMAGE_TOOL=$(cd "$(dirname "$0")/../../lab" && pwd)/image
QEMU=${DOMUS_LAB_QEMU:-qemu-system-x86_64}
fail() { echo "FAIL: $*"; [ -f "$T/console.log" ] && tail -c 2000 "$T/console.log" | tr -d '\r'; exit 1; }

command -v "$QEMU" >/dev/null || { echo "SKIP: $QEMU is missing"; exit 77; }
if [ "${1:-}" = --build ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: building the image needs root"; exit 77; }
	img=$("$IMAGE_TOOL" build) || fail "lab/image build failed"
else
	img=$("$IMAGE_TOOL" path) || { echo "SKIP: no image cached ($img); make check-slow or lab/image build makes one"; exit 77; }
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
kver=$(cat "$(dirname "$img")/kernel-version") || fail "no kernel-version beside the image"
cp --sparse=always "$img" "$T/disk.img"
fs="$T/disk.img?offset=$((2048 * 512))"
debugfs -R "dump /boot/vmlinuz-$kver $T/vmlinuz" "$fs" >/dev/null 2>&1
debugfs -R "dump /boot/initrd.img-$kver $T/initrd" "$fs" >/dev/null 2>&1
[ -s "$T/vmlinuz" ] && [ -s "$T/initrd" ] || fail "kernel or initramfs not found in the image"

cd "$T" || exit 1
timeout 900 python3 - "$QEMU" <<'PY' >"$T/result" 2>&1
import os, re, select, subprocess, sys, time
qemu = sys.argv[1]
p = subprocess.Popen(["nice", "-n", "19", qemu, "-accel", "tcg", "-m", "768", "-smp", "1",
    "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
    "-kernel", "vmlinuz", "-initrd", "initrd",
    # No hvc0 without Xen: its getty would wait 90 s for the device.
    "-append", "root=/dev/vda1 ro console=ttyS0 net.ifnames=0 systemd.mask=serial-getty@hvc0.service",
    "-drive", "file=disk.img,if=virtio,format=raw", "-nic", "user,model=virtio-net-pci"],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
log = open("console.log", "wb")
buf = b""
def wait_for(pat, secs):
    global buf
    end = time.time() + secs
    while time.time() < end:
        if pat in buf:
            i = buf.index(pat) + len(pat)
            seen, buf = buf[:i], buf[i:]
            return seen
        r, _, _ = select.select([p.stdout], [], [], 1)
        if r:
            d = os.read(p.stdout.fileno(), 4096)
            if not d:
                break
            log.write(d); log.flush(); buf += d
    return None
def send(s):
    p.stdin.write(s.encode()); p.stdin.flush()
t0 = time.time()
try:
    if wait_for(b"domus-guest login:", 600) is None:
        sys.exit("no login prompt")
    print("login prompt after %d s" % (time.time() - t0))
    send("root\n")
    if wait_for(b"root@domus-guest:~# ", 60) is None:
        sys.exit("root did not get a shell without a password")
    send("echo STATE=$(systemctl is-system-running --wait); systemctl --failed --no-legend --plain | sed 's/^/FAILED=/'; "
         "echo ADDR=$(ip -4 -o addr show eth0 | awk '{print $4}'); echo HOST=$(hostname); echo END-OF-CHECKS\n")
    out = wait_for(b"\nEND-OF-CHECKS", 300)
    if out is None:
        sys.exit("the checks did not finish")
    print("checks done after %d s" % (time.time() - t0))
    # Without the terminal's escapes (bash's bracketed-paste mode).
    print(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode(errors="replace").replace("\r", "")))
    send("poweroff\n")
    if wait_for(b"reboot: Power down", 120) is None:
        sys.exit("poweroff did not power the guest down")
    print("powered off after %d s" % (time.time() - t0))
finally:
    p.kill()
PY
rc=$?
[ -z "${DOMUS_IMAGE_BOOT_LOG:-}" ] || cp "$T/console.log" "$DOMUS_IMAGE_BOOT_LOG"
cat "$T/result"
[ "$rc" = 0 ] || fail "the boot failed"
grep -q '^STATE=running$' "$T/result" || fail "systemd is not running cleanly: $(grep -E '^(STATE|FAILED)=' "$T/result" | tr '\n' ' ')"
grep -q '^ADDR=10\.0\.2\.[0-9]*/24$' "$T/result" || fail "eth0 got no address by DHCP"
grep -q '^HOST=domus-guest$' "$T/result" || fail "the hostname is not domus-guest"
echo PASS
