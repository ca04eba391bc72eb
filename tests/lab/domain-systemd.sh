#!/bin/bash
# domus installed on a Debian 12 system run by systemd (issue 17 item 5,
# docs/install.md): a copy of lab/image's root gets `meson install` of this
# build (prefix /usr/local, as `make install`), the libraries its programs
# need that the image lacks, xenstored.service and xendomains.service
# enabled with systemctl, and one domain config in /etc/xen/auto; then the
# copy boots under systemd-nspawn (its own systemd as PID 1, /dev/kvm bound
# in, a private network), in the lab:
#   1. at boot systemd starts xenstored.service and then xendomains.service,
#      which starts the /etc/xen/auto domain: `xl list` in the container
#      shows it, and its console log shows the guest's /init;
#   2. `systemctl poweroff` in the container: xendomains' stop shuts the
#      domain down (the guest's own poweroff, not a destroy), xenstored
#      stops, the container ends, and no monitor is left in the lab.
# The Debian package's install into a fresh Debian 12 (apt, its
# dependencies, diversions) is tests/install/deb.sh's; this test is about
# the units under a real systemd.  Skipped (77) without a cached image.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
IMAGE_TOOL=$(cd "$(dirname "$0")/../../lab" && pwd)/image
img=$("$IMAGE_TOOL" path) || { echo "SKIP: no Debian image cached (run lab/image build on the host)"; exit 77; }
for c in systemd-nspawn nsenter systemctl losetup meson; do
	command -v $c >/dev/null || fail "$c missing (make deps installs systemd-container, util-linux, meson)"
done
R=$T/root
NSPAWN_LOG=$T/nspawn.log

# The container's PID 1 (systemd), once nspawn has started it: pid 1 of a
# namespace below the lab's (NSpid: N 1) whose root is this test's root (a
# container left by an earlier run is another's).
leader() {
	local p
	for p in $(awk '$1 == "NSpid:" && NF == 3 && $3 == 1 { print $2 }' /proc/[0-9]*/status 2>/dev/null); do
		# The same file through its root (a pivoted root's path does
		# not read as ours in /proc/PID/root).
		[ "/proc/$p/root/etc/xen/auto/auto1.cfg" -ef "$R/etc/xen/auto/auto1.cfg" ] && { echo "$p"; return 0; }
	done
	return 1
}
alive() { local p; p=$(cat "$T/nspawn.pid" 2>/dev/null) && [ -e "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null; }
# -r -w: the container's root and directory (the lab's jobs run chrooted).
inside() { local p; p=$(leader) && nsenter --target "$p" --all -r -w -- "$@"; }
stop_all() {
	local p
	p=$(leader) && kill -9 "$p" 2>/dev/null
	p=$(cat "$T/nspawn.pid" 2>/dev/null) && kill -9 "$p" 2>/dev/null
	pkill -9 -f "domus-vmm .*--name auto1" 2>/dev/null
	sleep 1
	umount -R "$R" 2>/dev/null
	[ -n "${LOOP:-}" ] && losetup -d "$LOOP" 2>/dev/null
	rm -rf "$T"
}
trap stop_all EXIT
# The console's and the container's last words on a failure.
why() {
	echo "--- the container's console (last lines):"; tail -n 40 "$NSPAWN_LOG" 2>/dev/null
	echo "--- the guest's console (last lines):"; tail -n 10 "$R/var/log/xen/console/guest-auto1.log" 2>/dev/null
	return 0
}

# The root: a sparse copy of the image, its first partition mounted.
cp --sparse=always "$img" "$T/disk.img" || fail "cannot copy $img"
LOOP=$(losetup --find --show --offset $((2048 * 512)) "$T/disk.img") || fail "losetup of the copy failed"
mkdir -p "$R" && mount "$LOOP" "$R" || fail "cannot mount the copy's root"

# domus as make install puts it (the build's prefix), and the shared
# libraries its programs need that the image has not (the package's
# Depends bring them on a real host).
meson install -C "$BUILD" --no-rebuild --destdir "$R" >"$T/install.log" 2>&1 ||
	fail "meson install into the root failed: $(tail -5 "$T/install.log")"
prefix=$(meson introspect "$BUILD" --buildoptions | python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')
XL_IN=$prefix/sbin/xl
[ -x "$R$XL_IN" ] || fail "no $XL_IN in the root after meson install"
for b in "$R$XL_IN" "$R$prefix/sbin/xenstored" "$R$prefix/lib/domus/domus-vmm"; do
	ldd "$b" | awk '$3 ~ /^\// { print $1, $3 }'
done | sort -u | while read -r name path; do
	[ -e "$R/lib/x86_64-linux-gnu/$name" ] || [ -e "$R/usr/lib/x86_64-linux-gnu/$name" ] ||
		cp -L "$path" "$R/usr/local/lib/$name"
done
chroot "$R" ldconfig || fail "ldconfig in the root failed"
chroot "$R" "$XL_IN" help >/dev/null 2>&1 || fail "the installed xl does not run in the root"

# The autostarted domain: the fixture without a test (it waits on its
# console; busybox's init powers off on the kernel's orderly poweroff).
mkdir -p "$R/var/lib/domus-test" "$R/etc/xen/auto"
cp "$FX/vmlinuz" "$FX/initrd.img" "$R/var/lib/domus-test/"
cat >"$R/etc/xen/auto/auto1.cfg" <<EOF
name = "auto1"
kernel = "/var/lib/domus-test/vmlinuz"
ramdisk = "/var/lib/domus-test/initrd.img"
memory = 256
extra = "console=hvc0 quiet"
EOF
# xendomains' words on the container's console as well as in its journal.
mkdir -p "$R/etc/systemd/system/xendomains.service.d"
printf '[Service]\nStandardOutput=journal+console\nStandardError=journal+console\n' \
	>"$R/etc/systemd/system/xendomains.service.d/test-console.conf"
systemctl --root="$R" enable xenstored.service xendomains.service >"$T/enable.log" 2>&1 ||
	fail "systemctl enable of the units failed: $(cat "$T/enable.log")"
# The image's getty on hvc0 has no place in a container, nor a wait for a
# network it has not (--private-network: a loopback only); xendomains.service
# is After=network-online.target, as Xen's is.
systemctl --root="$R" mask serial-getty@hvc0.service systemd-networkd-wait-online.service >/dev/null 2>&1

# Boot it: systemd-nspawn wants a cgroup2 tree, which the lab does not
# mount; a mount namespace of the test's own keeps the lab's /sys as it is.
# --register=no --keep-unit: no machined and no systemd (nor its bus) in the
# lab to make a scope for it.
unshare --mount --propagation private bash -c '
	mount -t cgroup2 none /sys/fs/cgroup || exit 90
	exec systemd-nspawn --quiet --register=no --keep-unit --private-network --directory="$1" \
		--bind=/dev/kvm --boot' sh "$R" \
	</dev/null >"$NSPAWN_LOG" 2>&1 &
# unshare and bash exec: $! is nspawn's pid.
echo $! >"$T/nspawn.pid"
t0=$(date +%s)

# 1. xenstored, then xendomains, then the domain
end=$(( t0 + 600 ))
state=""
while [ "$(date +%s)" -le "$end" ]; do
	alive || { why; fail "the container ended during its boot"; }
	state=$(inside systemctl is-active xenstored.service xendomains.service 2>/dev/null | tr '\n' ' ')
	[ "$state" = "active active " ] && break
	sleep 2
done
[ "$state" = "active active " ] || { why; fail "xenstored.service and xendomains.service not both active within 600 s: $state"; }
inside "$XL_IN" list 2>&1 | awk '$1 == "auto1"' | grep -q . ||
	{ why; fail "xendomains started, but xl list in the container has no auto1: $(inside "$XL_IN" list 2>&1)"; }
con="$R/var/log/xen/console/guest-auto1.log"
end=$(( $(date +%s) + 300 ))
until grep -q "DOMUS-INIT" "$con" 2>/dev/null; do
	[ "$(date +%s)" -le "$end" ] || { why; fail "auto1 did not reach its /init within 300 s"; }
	sleep 1
done
xs_t=$(inside systemctl show -p ActiveEnterTimestampMonotonic --value xenstored.service 2>/dev/null)
xd_t=$(inside systemctl show -p ActiveEnterTimestampMonotonic --value xendomains.service 2>/dev/null)
[ -n "$xs_t" ] && [ -n "$xd_t" ] && [ "$xs_t" -le "$xd_t" ] || fail "xendomains was active before xenstored ($xs_t, $xd_t)"
ok "systemd started xenstored.service, then xendomains.service, which started /etc/xen/auto/auto1.cfg: auto1 runs and reached its /init ($(( $(date +%s) - t0 )) s after the container's start)"
# Where the boot's time went (84 s in one run, 482 s in another): the
# chain systemd waited on before xendomains, and the slowest units.
echo "--- systemd-analyze critical-chain xendomains.service (in the container):"
inside systemd-analyze critical-chain --no-pager xendomains.service 2>&1 | tail -n 12
echo "--- systemd-analyze blame (the 8 slowest units):"
inside systemd-analyze blame --no-pager 2>&1 | head -n 8

# 2. poweroff: xendomains shuts the domain down, the container ends
inside systemctl poweroff --no-block >/dev/null 2>&1 || fail "systemctl poweroff in the container failed"
end=$(( $(date +%s) + 420 ))
while alive; do
	[ "$(date +%s)" -le "$end" ] || { why; fail "the container did not end within 420 s of its poweroff"; }
	sleep 1
done
grep -q "DOMUS-POWEROFF" "$con" ||
	{ why; fail "auto1 was not shut down by its own poweroff (no DOMUS-POWEROFF on its console)"; }
grep -q "xendomains: shutting down auto1" "$NSPAWN_LOG" ||
	{ why; fail "xendomains did not say it shut auto1 down on the container's console"; }
grep -q "still running after" "$NSPAWN_LOG" && { why; fail "xendomains had to destroy auto1"; }
pgrep -f "domus-vmm .*--name auto1" >/dev/null && fail "a monitor of auto1 is left in the lab after the container's end"
ok "systemctl poweroff: xendomains shut auto1 down (its own poweroff), the container ended, no monitor left"
