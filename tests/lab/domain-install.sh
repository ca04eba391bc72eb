#!/bin/bash
# The seed's closing scene (issue 15 item 4), automated: Debian's netboot
# installer (debian-installer-12-netboot-amd64: its kernel and initrd, with
# tests/lab/install-preseed.cfg added to the initrd) installs Debian 12 onto
# /dev/xvda, a sparse `truncate -s 10G` file, with eth0 on xenbr0 (DHCP from
# dnsmasq) and its packages from the lab's local source: lab/debian-cache
# on the host (Debian's own files, signatures intact), which the lab reaches
# through its user-mode NIC and relays to the guests at 10.99.0.1:8080.
# Then, as the seed says, kernel and ramdisk give way to bootloader =
# "pygrub", and the installed system boots by itself:
#   1. the installer runs on hvc0, finds xvda and eth0, installs, powers off;
#   2. pygrub boots the installed system to "domus-inst login:"; root logs
#      in on the console: / is /dev/xvda1, eth0 has an address by DHCP,
#      Debian 12; poweroff ends the domain, the file system is clean.
# Run by make check-slow (tests/check --slow starts the host's cache and the
# lab's NIC); skipped (77) without them or without the netboot installer
# (lab/image netboot).
BUILD=$1; . "$(dirname "$0")/domlib.sh"
LABTOOL=$(cd "$(dirname "$0")/../../lab" && pwd)
PRESEED=$(cd "$(dirname "$0")" && pwd)/install-preseed.cfg
BR=xenbr0 NET=10.99.0
NAME=My-DomU
nb=$("$LABTOOL/image" netboot-path) ||
	{ echo "SKIP: the netboot installer is not fetched (lab/image netboot on the host)"; exit 77; }
port=$(cat "$BUILD/debian-cache.port" 2>/dev/null) ||
	{ echo "SKIP: no package source (make check-slow starts lab/debian-cache on the host)"; exit 77; }
nic=""
for d in /sys/class/net/*; do
	[ "$(basename "$(readlink -f "$d/device/driver" 2>/dev/null)")" = virtio_net ] && nic=$(basename "$d")
done
[ -n "$nic" ] || { echo "SKIP: the lab has no user-mode NIC (tests/check --slow gives it one)"; exit 77; }
for c in socat dnsmasq e2fsck cpio; do command -v $c >/dev/null || fail "$c missing (make deps installs it)"; done

bridge_dhcp $BR $NET
# The lab's way out: QEMU's user-mode network, the host at 10.0.2.2.
ip addr add 10.0.2.15/24 dev "$nic" && ip link set "$nic" up || fail "cannot configure the lab's $nic"
DISKDIR="$BUILD/install-test"
trap 'kill "$(cat "$T/socat.pid" 2>/dev/null)" 2>/dev/null; ip addr flush dev "$nic"; ip link set "$nic" down
	kill "$(cat "$T/dnsmasq.pid" 2>/dev/null)" 2>/dev/null; ip link del $BR 2>/dev/null; cleanup_all
	rm -rf "$DISKDIR"' EXIT
for i in $(seq 20); do
	busybox wget -q -O /dev/null "http://10.0.2.2:$port/debian/dists/bookworm/InRelease" 2>/dev/null && break
	[ "$i" = 20 ] && fail "the host's lab/debian-cache does not answer at 10.0.2.2:$port"
	sleep 1
done
socat "TCP-LISTEN:8080,bind=$NET.1,fork,reuseaddr" "TCP:10.0.2.2:$port" &
echo $! >"$T/socat.pid"
# The installer loads most of itself from the mirror as udebs (anna): a
# package source without them cannot serve an install, whatever domus does.
# Some package registries carry Debian's .debs but not its udebs (this
# project's own machines: the .deb of a source is served, its -udeb 404).
missing=$(python3 - "http://10.0.2.2:$port/debian" <<'PY'
import lzma, sys, urllib.request, urllib.error
base = sys.argv[1]
idx = lzma.decompress(urllib.request.urlopen(base + "/dists/bookworm/main/debian-installer/binary-amd64/Packages.xz", timeout=120).read()).decode()
files = {}
for para in idx.split("\n\n"):
    f = dict(l.split(": ", 1) for l in para.splitlines() if ": " in l and not l.startswith(" "))
    if "Package" in f:
        files[f["Package"]] = f.get("Filename")
for pkg in ("apt-mirror-setup", "base-installer", "partman-ext3", "grub-installer", "finish-install"):
    try:
        urllib.request.urlopen(urllib.request.Request(base + "/" + files[pkg], method="HEAD"), timeout=120)
    except (KeyError, urllib.error.HTTPError) as e:
        print("%s (%s)" % (files.get(pkg, pkg), getattr(e, "code", "not in the index")))
PY
) || fail "cannot read the installer's package index through the package source"
if [ -n "$missing" ]; then
	echo "SKIP: the package source has no udebs the installer needs: $(echo $missing)"
	exit 77
fi

# The seed's disk and its first config, the installer's answers in its initrd.
mkdir -p "$DISKDIR" && rm -f "$DISKDIR/domU.img"
truncate -s 10G "$DISKDIR/domU.img" || fail "cannot make the sparse disk"
mkdir -p "$T/pre" && cp "$PRESEED" "$T/pre/preseed.cfg"
(cd "$T/pre" && echo preseed.cfg | cpio -o -H newc --quiet | gzip -1) >"$T/preseed.cpio.gz"
cat "$nb/initrd.gz" "$T/preseed.cpio.gz" >"$T/initrd.gz"
cat >"$T/domU.pv" <<EOF
name = "$NAME"
vcpus = 1
maxvcpus = 1
kernel = "$nb/linux"
ramdisk = "$T/initrd.gz"
extra = "console=hvc0 priority=critical DEBIAN_FRONTEND=text net.ifnames=0"
memory = 1024
disk = [ 'file:$DISKDIR/domU.img,xvda,w' ]
vif = [ 'mac=00:16:3e:12:34:56,bridge=$BR' ]
on_reboot = "destroy"
EOF
rm -f "$(conlog "$NAME")"
console_text() { tr -d '\r' <"$(conlog "$1")" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g'; }

# 1. the install
t0=$(date +%s)
"$XL" create "$T/domU.pv" || fail "xl create of the installer failed"
id=$(domid_of "$NAME")
last=""
while [ -n "$(domid_of "$NAME")" ]; do
	if [ $(( $(date +%s) - t0 )) -gt 6000 ]; then
		console_text "$NAME" | tail -30
		fail "the install did not end in 6000 s"
	fi
	sleep 60
	if console_text "$NAME" | grep -q "The installer failed to download a file from the mirror"; then
		grep -E ' (upstream-[0-9]+|missing) ' "$HOME/.cache/domus/debian-cache/requests.log" 2>/dev/null | tail -5
		fail "the installer could not download its components from the package source"
	fi
	now=$(console_text "$NAME" | grep -v '^[[:space:]]*$' | grep -v '(1\*installer)' | tail -n 1 | cut -c1-120)
	[ "$now" = "$last" ] || echo "install: $(( $(date +%s) - t0 )) s: $now"
	last=$now
done
t_install=$(( $(date +%s) - t0 ))
leftovers "$id"
out=$(console_text "$NAME")
di=$(echo "$out" | grep -a '^DOMUS-DI:' | tail -n 1)
[ -n "$di" ] || { echo "$out" | tail -40; fail "the installer ended without its late command (no DOMUS-DI line)"; }
echo "$di" | grep -q ' disks xvda ' || fail "the installer did not see xvda: $di"
echo "$di" | grep -qw eth0 || fail "the installer had no eth0: $di"
echo "$di" | grep -q 'root /dev/xvda1' || fail "the target root is not /dev/xvda1: $di"
grep -q "00:16:3e:12:34:56" "$T/leases" || fail "eth0 took no DHCP lease from dnsmasq"
echo "packages: $(grep -c ' fetched \| hit ' "$HOME/.cache/domus/debian-cache/requests.log" 2>/dev/null || echo ?) requests logged by the cache so far"
ok "the installer on hvc0 found xvda and eth0 and installed Debian onto /dev/xvda1 in $t_install s ($(du -m "$DISKDIR/domU.img" | cut -f1) MiB of the 10 GiB file used)"

# 2. as the seed says: no kernel or ramdisk, bootloader = "pygrub"
sed -i -e '/^kernel/d' -e '/^ramdisk/d' -e '/^extra/d' "$T/domU.pv"
echo 'bootloader = "pygrub"' >>"$T/domU.pv"
rm -f "$(conlog "$NAME")"
t0=$(date +%s)
"$XL" create "$T/domU.pv" || fail "xl create with bootloader = pygrub failed"
id=$(domid_of "$NAME")
wait_log "$NAME" "domus-inst login:" 900 >/dev/null || { console_text "$NAME" | tail -30; fail "the installed system gave no login prompt on hvc0"; }
ok "pygrub booted the installed system to a login prompt in $(( $(date +%s) - t0 )) s"
(sleep 2; echo root; sleep 4; echo domus; sleep 6
	echo 'for i in $(seq 60); do ip -4 -o addr show eth0 | grep -q inet && break; sleep 1; done'
	echo 'echo "ROOT=$(findmnt -n -o SOURCE /) DEB=$(cat /etc/debian_version) ADDR=$(ip -4 -o addr show eth0 | awk "{print \$4}")"'
	echo 'echo "END-OF-""CHECKS"'
	sleep 600) | "$XL" console "$NAME" >/dev/null 2>&1 &
con=$!
wait_log "$NAME" "END-OF-CHECKS" 420 >/dev/null; kill $con 2>/dev/null; wait $con 2>/dev/null
line=$(console_text "$NAME" | grep -a '^ROOT=' | tail -n 1)
echo "$line" | grep -q '^ROOT=/dev/xvda1 DEB=12' || fail "root's shell: $line"
echo "$line" | grep -q "ADDR=$NET\." || fail "eth0 has no address from dnsmasq: $line"
ok "root logged in on hvc0: $line"
(sleep 2; echo poweroff; sleep 20) | timeout 30 "$XL" console "$NAME" >/dev/null 2>&1
wait_gone "$NAME" 300 || fail "poweroff did not end the domain"
leftovers "$id"
start=$(sfdisk -d "$DISKDIR/domU.img" 2>/dev/null | sed -n 's/.*start= *\([0-9]*\).*/\1/p' | head -n 1)
[ -n "$start" ] || fail "no partition table on the installed disk"
e2fsck -fn "$DISKDIR/domU.img?offset=$((start * 512))" >/dev/null 2>&1 || fail "e2fsck of xvda1 after poweroff is not clean"
ok "poweroff ended the installed domain; xvda1's ext4 is clean"
