#!/bin/bash
# The Debian 12 guest disk (lab/image, docs/image.md) as a domain: a sparse
# copy of the cached image is /dev/xvda; the kernel and initramfs are the
# image's own (read out with debugfs, as pygrub would), its command line the
# one grub.cfg gives.
#   1. the initramfs finds /dev/xvda1 on xen-blkfront, systemd boots, and the
#      getty on hvc0 prints "domus-guest login:" on the console;
#   2. through xl console, root logs in without a password: systemd says
#      running, eth0 (xen-netfront, kernel name) has an address by DHCP
#      from dnsmasq on xenbr0 and pings the bridge;
#   3. poweroff typed on the console ends the domain, nothing left; e2fsck
#      of the copy is clean and its journal was replayed (a clean unmount);
#   4. with "pygrub" as the second argument, only this: bootloader =
#      "pygrub" boots the same image to its login prompt with grub.cfg's
#      command line (make check-slow: a second Debian boot is minutes in
#      the lab; domain-pygrub.sh covers the boot loader in make check).
# Skipped (77) when no image is cached: lab/image build makes one on the host.
BUILD=$1 PART=${2:-}; . "$(dirname "$0")/domlib.sh"
IMAGE_TOOL=$(cd "$(dirname "$0")/../../lab" && pwd)/image
BR=xenbr0 NET=10.99.0
img=$("$IMAGE_TOOL" path) || { echo "SKIP: no Debian image cached (run lab/image build on the host)"; exit 77; }
for c in dnsmasq debugfs e2fsck; do command -v $c >/dev/null || fail "$c missing (make deps installs it)"; done
kver=$(cat "$(dirname "$img")/kernel-version") || fail "no kernel-version beside $img"
args=$(cat "$(dirname "$img")/cmdline") || fail "no cmdline beside $img"
# The lab's nested guests run some 50 times slower than on hardware: udev's
# coldplug takes minutes there, and systemd's 90 s wait for /dev/hvc0 ran
# out (no getty on the console) on a slower machine.  Xen users' hosts
# need no such line; it is a property of the lab, not of domus.
slow="systemd.default_timeout_start_sec=900"

bridge_dhcp $BR $NET

cp --sparse=always "$img" "$T/disk.img" || fail "cannot copy $img"
fs="$T/disk.img?offset=$((2048 * 512))"
debugfs -R "dump /boot/vmlinuz-$kver $T/vmlinuz" "$fs" >/dev/null 2>&1
debugfs -R "dump /boot/initrd.img-$kver $T/initrd.img" "$fs" >/dev/null 2>&1
[ -s "$T/vmlinuz" ] && [ -s "$T/initrd.img" ] || fail "no kernel $kver or initramfs in the image"

# imgcfg NAME [lines...]: a config booting the copy (not the fixture's mkcfg).
imgcfg() {
	local name=$1 f="$T/$1.cfg"
	shift
	rm -f "$(conlog "$name")"
	{
		echo "name = \"$name\""
		echo "memory = 512"
		echo "disk = [ 'format=raw, vdev=xvda, access=rw, target=$T/disk.img' ]"
		echo "vif = [ 'mac=00:16:3e:0d:0e:01,bridge=$BR' ]"
		for l in "$@"; do echo "$l"; done
	} >"$f"
	echo "$f"
}

# console_text NAME: the console log without CRs and terminal escapes (bash
# turns bracketed paste off before each command's output).
console_text() { tr -d '\r' <"$(conlog "$1")" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g'; }

# 4. pygrub
if [ "$PART" = pygrub ]; then
	t0=$(date +%s)
	out=$("$XL" create "$(imgcfg img2 'bootloader = "pygrub"' "extra = \"$slow\"")" 2>&1)
	id=$(domid_of img2)
	[ -n "$id" ] || fail "xl create with bootloader = pygrub failed: $out"
	wait_log img2 "domus-guest login:" 1200 || fail "pygrub: no login prompt on hvc0 within 1200 s; the console's last lines:
$(console_text img2 | tail -15)"
	console_text img2 | grep -q "Command line: $args" || fail "pygrub: the kernel's command line is not grub.cfg's"
	"$XL" destroy img2
	leftovers "$id"
	ok "bootloader = pygrub booted the image to its login prompt in $(( $(date +%s) - t0 )) s with grub.cfg's command line"
	exit 0
fi

# 1. boot to the getty on hvc0
t0=$(date +%s)
"$XL" create "$(imgcfg img1 "kernel = \"$T/vmlinuz\"" "ramdisk = \"$T/initrd.img\"" "extra = \"$args $slow\"")" ||
	fail "xl create of the image failed"
id=$(domid_of img1)
wait_log img1 "domus-guest login:" 1200 || fail "no login prompt on hvc0 within 1200 s; the console's last lines:
$(console_text img1 | tail -15)"
console_text img1 | grep -q "EXT4-fs (xvda1): mounted" || fail "the root is not ext4 on xvda1"
ok "Debian booted from /dev/xvda1 to a getty on hvc0 in $(( $(date +%s) - t0 )) s"

# 2. root on the console; systemd, DHCP, ping (the answers land in the
# console log, which wait_log reads)
(sleep 2; echo root; sleep 5
	echo 'echo STATE=$(systemctl is-system-running --wait)'
	echo 'for i in $(seq 60); do ip -4 -o addr show eth0 | grep -q inet && break; sleep 1; done'
	echo 'echo ADDR=$(ip -4 -o addr show eth0 | awk "{print \$4}")'
	echo "ping -c 3 -W 5 $NET.1 >/dev/null && echo PING=ok"
	echo 'echo "END-OF-""CHECKS"'    # the typed line, echoed, does not match
	sleep 600) | "$XL" console img1 >/dev/null 2>&1 &
con=$!
wait_log img1 "END-OF-CHECKS" 900 >/dev/null; kill $con 2>/dev/null; wait $con 2>/dev/null
out=$(console_text img1)
echo "$out" | grep -q "^END-OF-CHECKS" || fail "root's shell on hvc0 did not answer: $(echo "$out" | tail -5)"
echo "$out" | grep -q "^STATE=running" ||
	fail "systemd is not running cleanly: $(echo "$out" | grep -E '^STATE=')"
addr=$(echo "$out" | sed -n 's/^ADDR=\([0-9.]*\)\/24$/\1/p')
[ -n "$addr" ] || { cat "$T/dnsmasq.log"; fail "eth0 got no address by DHCP: $(echo "$out" | grep ^ADDR=)"; }
grep -q "00:16:3e:0d:0e:01 $addr" "$T/leases" || fail "dnsmasq's leases have no 00:16:3e:0d:0e:01 $addr"
echo "$out" | grep -q "^PING=ok" || fail "the guest cannot ping $NET.1"
ok "root logged in without a password; systemd running; eth0 $addr by DHCP; pings $NET.1"

# 3. poweroff, a clean file system
(sleep 2; echo poweroff; sleep 20) | timeout 30 "$XL" console img1 >/dev/null 2>&1
wait_gone img1 600 ||
	fail "poweroff did not end the domain within 600 s; the console's last lines:
$(console_text img1 | tail -25)"
leftovers "$id"
e2fsck -fn "$fs" >/dev/null 2>&1 || fail "e2fsck of the copy after poweroff is not clean"
ok "poweroff ended the domain; the copy's ext4 is clean"

