#!/bin/bash
# The xenstore nodes of a domain's disks (xl/ts_disk.c) and vifs
# (xl/ts_vif.c) against the layout libxl 4.17 writes
# (tests/xl/xs-layout/*.expected, written from tools/libs/light/libxl_disk.c
# device_disk_add, libxl_nic.c libxl__set_xenstore_nic and libxl_device.c
# libxl__device_add_async / libxl__device_generic_add), read back with
# xenstore-ls from a private xenstored; and the --disk and --nic values
# domus-vmm is given, which it must take.
# Usage: xs-layout.sh XENSTORED XS-LAYOUT DIR DOMUS-VMM
set -u
. "$(dirname "$0")/../xenstored/lib.sh"
XSD=$1 LAYOUT=$2 DIR=$3 VMM=$4
command -v xenstore-ls >/dev/null || { echo "xenstore-utils is not installed"; exit 77; }
start_xenstored "$XSD"

# The images the configurations name live under $IMG (printed as @IMG@).
IMG=$XS_TMP/img
mkdir -p "$IMG"
for f in domU.img data.img cd.iso ro.img; do truncate -s 1M "$IMG/$f"; done
chmod 0444 "$IMG/ro.img"
# qcow2 and vhd by their headers (what xl checks): a qcow2 v3 header, a
# dynamic vhd's leading footer, a fixed vhd's trailing one
{ printf 'QFI\373\0\0\0\3'; head -c 1016 /dev/zero; } >"$IMG/d.qcow2"
{ printf 'conectix'; head -c 1016 /dev/zero; } >"$IMG/d.vhd"
{ head -c 4096 /dev/zero; printf 'conectix'; head -c 504 /dev/zero; } >"$IMG/fixed.vhd"

# The vifs' scripts and bridges are this host's business: a script
# directory and a /sys/class/net of our own, printed as libxl's.
SCRIPTS=$XS_TMP/scripts NET=$XS_TMP/net
mkdir -p "$SCRIPTS" "$NET/xenbr0/bridge" "$NET/xenbr1/bridge" "$NET/eth0"
for s in vif-bridge vif-route; do printf '#!/bin/sh\nexit 0\n' >"$SCRIPTS/$s"; chmod +x "$SCRIPTS/$s"; done
export DOMUS_XEN_SCRIPT_DIR=$SCRIPTS DOMUS_SYS_CLASS_NET=$NET

# dump <domid>: every node the domain's disks own, paths made stable
dump() {
	for p in /local/domain/$1/device/vbd /local/domain/$1/device/vif /local/domain/0/backend \
		/libxl/$1/device /local/domain/0/error; do
		xenstore-exists "$p" 2>/dev/null && xenstore-ls -f -p "$p"
	done | sed "s#$IMG#@IMG@#g; s#$SCRIPTS/#/etc/xen/scripts/#g"
}

check() { # check <name> <domid>
	local name=$1 domid=$2
	sed "s#@IMG@#$IMG#g" "$DIR/$name.cfg" >"$XS_TMP/$name.cfg"
	"$LAYOUT" write "$XS_TMP/$name.cfg" "$domid" >"$XS_TMP/out" 2>&1 ||
		fail "$name: xs-layout write: $(cat "$XS_TMP/out")"
	dump "$domid" >"$XS_TMP/$name.got"
	diff -u "$DIR/$name.expected" "$XS_TMP/$name.got" || fail "$name: the layout differs from libxl's"
	"$LAYOUT" remove "$domid" || fail "$name: remove"
	left=$(dump "$domid")
	[ -z "$left" ] || fail "$name: left after destroy: $left"
	for p in /local/domain/$domid /libxl/$domid; do
		xenstore-exists "$p" 2>/dev/null && fail "$name: $p left after destroy"
	done
	echo "ok $name"
}

check xvda 7      # disk = ['file:/path/domU.img,xvda,w']
check seed 8      # the seed's 'file:/disks/domU.img,sda,w' (at @IMG@)
check phy-cdrom 9 # phy:, a read-only cdrom with a target, an empty cdrom drive
check pv 10       # type = "pv": libxl also writes the frontend's protocol
check vif 14      # vif = [ 'mac=00:16:3e:12:34:56,bridge=xenbr0' ]
check vif-full 15 # every key of a vif, and a second vif with the defaults

# No mac=: 00:16:3e and three random bytes, the fourth octet below 0x80
# (libxl__device_nic_setdefault), the same in the frontend and backend.
printf 'name = "r"\ntype = "pvh"\nkernel = "/boot/vmlinuz"\nvif = [ "" ]\n' >"$XS_TMP/r0.cfg"
"$LAYOUT" write "$XS_TMP/r0.cfg" 16 || fail "random MAC: write"
mac=$(xenstore-read /local/domain/16/device/vif/0/mac)
[[ $mac =~ ^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$ ]] || fail "random MAC: $mac"
[ "$(xenstore-read /local/domain/0/backend/vif/16/0/mac)" = "$mac" ] || fail "random MAC: backend differs"
"$LAYOUT" remove 16
"$LAYOUT" write "$XS_TMP/r0.cfg" 16 || fail "random MAC: second write"
[ "$(xenstore-read /local/domain/16/device/vif/0/mac)" != "$mac" ] || fail "random MAC: the same twice"
"$LAYOUT" remove 16
echo "ok random MAC"

# xl restore of a domain with a vif: the guest keeps the MAC its frontend
# came back with, whatever the configuration's (random) one is now.
"$LAYOUT" write "$XS_TMP/r0.cfg" 17 || fail "vif restore: first write"
xenstore-write /local/domain/17/device/vif/0/mac 00:16:3e:01:02:03 /local/domain/17/device/vif/0/state 4
xenstore-rm /local/domain/0/backend/vif/17
xenstore-rm /libxl/17
"$LAYOUT" write "$XS_TMP/r0.cfg" 17 || fail "vif restore: the write after the import"
[ "$(xenstore-read /local/domain/0/backend/vif/17/0/mac)" = 00:16:3e:01:02:03 ] || fail "vif restore: backend MAC not the guest's"
[ "$(xenstore-read /local/domain/17/device/vif/0/state)" = 4 ] || fail "vif restore: frontend state rewritten"
# and the supervisor takes it for the domain's next boots
[ "$("$LAYOUT" macs "$XS_TMP/r0.cfg" 17)" = 00:16:3e:01:02:03 ] || fail "vif restore: MAC not adopted for reboots"
"$LAYOUT" remove 17
xenstore-exists /local/domain/0/backend/vif 2>/dev/null && fail "vif restore: backend left"
echo "ok restore keeps the vif's MAC"

# Two domains side by side: removing one leaves the other's.
sed "s#@IMG@#$IMG#g" "$DIR/xvda.cfg" >"$XS_TMP/a.cfg"
"$LAYOUT" write "$XS_TMP/a.cfg" 11 && "$LAYOUT" write "$XS_TMP/a.cfg" 12 || fail "two domains"
"$LAYOUT" remove 11
xenstore-exists /local/domain/0/backend/vbd/11 2>/dev/null && fail "domain 11's backend left"
xenstore-read /local/domain/0/backend/vbd/12/51712/params >/dev/null || fail "domain 12's backend removed with 11's"
"$LAYOUT" remove 12
echo "ok two domains"

# xl restore: the frontend came back with xenstored's import, under the
# new id but naming the old one's backend; the backend and /libxl copy did
# not travel.  The frontend keeps its state; its backend path is the new one.
sed "s#@IMG@#$IMG#g" "$DIR/xvda.cfg" >"$XS_TMP/r.cfg"
"$LAYOUT" write "$XS_TMP/r.cfg" 13 || fail "restore: first write"
FE=/local/domain/13/device/vbd/51712
xenstore-write $FE/state 4 $FE/backend /local/domain/0/backend/vbd/3/51712 $FE/ring-ref 8
xenstore-rm /local/domain/0/backend/vbd/13
xenstore-rm /libxl/13
"$LAYOUT" write "$XS_TMP/r.cfg" 13 || fail "restore: the write after the import"
[ "$(xenstore-read $FE/state)" = 4 ] || fail "restore: the frontend's state was rewritten"
[ "$(xenstore-read $FE/ring-ref)" = 8 ] || fail "restore: the frontend's keys were lost"
[ "$(xenstore-read $FE/backend)" = /local/domain/0/backend/vbd/13/51712 ] || fail "restore: backend path not rewritten"
[ "$(xenstore-read /local/domain/0/backend/vbd/13/51712/state)" = 1 ] || fail "restore: no backend"
all=$(xenstore-ls -f -p $FE | wc -l) ok=$(xenstore-ls -f -p $FE | grep -c "(n13,r0)$")
[ "$all" -ge 6 ] && [ "$all" = "$ok" ] || fail "restore: frontend permissions changed: $(xenstore-ls -f -p $FE)"
"$LAYOUT" remove 13
echo "ok restore keeps the frontend"

# What xl passes to domus-vmm, and domus-vmm takes it (--help after the
# options exits 0 once they parsed).
sed "s#@IMG@#$IMG#g" "$DIR/phy-cdrom.cfg" >"$XS_TMP/v.cfg"
got=$("$LAYOUT" vmm-args "$XS_TMP/v.cfg" | sed "s#$IMG#@IMG@#g")
want='51728,vbd,raw,w,disk,@IMG@/data.img
5632,vbd,raw,r,cdrom,@IMG@/cd.iso
5696,qdisk,empty,r,cdrom,'
[ "$got" = "$want" ] || fail "vmm-args: got [$got] want [$want]"
args=()
while read -r v; do args+=(--disk "$v"); done < <("$LAYOUT" vmm-args "$XS_TMP/v.cfg")
"$VMM" "${args[@]}" --help >/dev/null || fail "domus-vmm refused ${args[*]}"
"$VMM" --disk "${args[1]}" --disk "${args[1]}" --help >/dev/null 2>&1 && fail "domus-vmm took a disk twice"
echo "ok domus-vmm --disk"

# --nic DEVID,IFNAME: netback's name, whatever vifname= says (the script
# renames it, docs/vif.md).
sed "s#@IMG@#$IMG#g" "$DIR/vif-full.cfg" >"$XS_TMP/vn.cfg"
got=$("$LAYOUT" vmm-nics "$XS_TMP/vn.cfg" 32751)
[ "$got" = "0,vif32751.0
1,vif32751.1" ] || fail "vmm-nics: got [$got]"
if "$VMM" --help 2>&1 | grep -q -- --nic; then
	"$VMM" --nic 0,vif32751.0 --nic 1,vif32751.1 --help >/dev/null || fail "domus-vmm refused --nic"
	echo "ok domus-vmm --nic"
else
	echo "skip: this domus-vmm has no --nic yet (its netback is not merged)"
fi
# qcow2 and vhd: qdisk nodes with libxl's params, the formats to domus-vmm.
sed "s#@IMG@#$IMG#g" "$DIR/formats.cfg" >"$XS_TMP/f.cfg"
"$LAYOUT" write "$XS_TMP/f.cfg" 14 >"$XS_TMP/out" 2>&1 || fail "formats: $(cat "$XS_TMP/out")"
[ "$(xenstore-read /local/domain/0/backend/qdisk/14/51712/params)" = "qcow2:$IMG/d.qcow2" ] || fail "formats: qcow2 params"
[ "$(xenstore-read /local/domain/0/backend/qdisk/14/51728/params)" = "vhd:$IMG/d.vhd" ] || fail "formats: vhd params"
[ "$(xenstore-read /local/domain/0/backend/qdisk/14/51728/mode)" = r ] || fail "formats: vhd mode"
"$LAYOUT" remove 14
got=$("$LAYOUT" vmm-args "$XS_TMP/f.cfg" | sed "s#$IMG#@IMG@#g")
want='51712,qdisk,qcow2,w,disk,@IMG@/d.qcow2
51728,qdisk,vhd,r,disk,@IMG@/d.vhd
51744,qdisk,vhd,w,disk,@IMG@/fixed.vhd'
[ "$got" = "$want" ] || fail "formats vmm-args: got [$got] want [$want]"
echo "ok qcow2 and vhd"

# Refusals: before anything is written, naming the entry, file and line.
refuse() { # refuse <name> <text the message must hold>
	sed "s#@IMG@#$IMG#g" "$DIR/$1.cfg" >"$XS_TMP/$1.cfg"
	"$LAYOUT" write "$XS_TMP/$1.cfg" 20 >"$XS_TMP/out" 2>&1 && fail "$1: accepted"
	grep -qF -- "$2" "$XS_TMP/out" || fail "$1: message [$(cat "$XS_TMP/out")] lacks [$2]"
	grep -qF "a disk's target must be" "$XS_TMP/out" || fail "$1: no hint of what is valid"
	xenstore-exists /local/domain/20 2>/dev/null && fail "$1: nodes written"
	echo "ok refused $1"
}
refuse missing "disk 1 (vdev xvdb, $XS_TMP/missing.cfg line 5): $IMG/nothere.img: No such file or directory"
# root reads and writes anything: only an unprivileged run sees EACCES
if [ "$(id -u)" != 0 ]; then
	refuse readonly "disk 0 (vdev xvda, $XS_TMP/readonly.cfg line 4): $IMG/ro.img: Permission denied"
fi
refuse notqcow2 "disk 0 (vdev xvda, $XS_TMP/notqcow2.cfg line 4): $IMG/domU.img: not a qcow2 image"
refuse notvhd "disk 0 (vdev xvda, $XS_TMP/notvhd.cfg line 4): $IMG/d.qcow2: not a vhd image"
refuse directory "disk 0 (vdev xvda, $XS_TMP/directory.cfg line 4): $IMG: not a regular file or block device"
"$LAYOUT" write "$XS_TMP/missing.cfg" 20 2>&1 | sed "s#$XS_TMP#TMP#g"

# A vif refused before anything is written: one line naming the vif, the
# file and line, and what would be valid.
vrefuse() { # vrefuse <name> <cfg text> <text the message must hold>
	printf 'name = "%s"\ntype = "pvh"\nkernel = "/boot/vmlinuz"\n%s\n' "$1" "$2" >"$XS_TMP/$1.cfg"
	"$LAYOUT" write "$XS_TMP/$1.cfg" 21 >"$XS_TMP/out" 2>&1 && fail "$1: accepted"
	grep -qF -- "$3" "$XS_TMP/out" || fail "$1: message [$(cat "$XS_TMP/out")] lacks [$3]"
	[ "$(wc -l <"$XS_TMP/out")" = 1 ] || fail "$1: not one line: $(cat "$XS_TMP/out")"
	xenstore-exists /local/domain/21 2>/dev/null && fail "$1: nodes written"
	echo "ok refused $1"
}
vrefuse nobridge "vif = [ 'bridge=nosuchbr0' ]" \
	"vif 0 ($XS_TMP/nobridge.cfg line 4): bridge nosuchbr0 does not exist (no $NET/nosuchbr0/bridge); bridges on this host: "
grep -q "xenbr0" "$XS_TMP/out" && grep -q "xenbr1" "$XS_TMP/out" && ! grep -q eth0 "$XS_TMP/out" ||
	fail "nobridge: the valid bridges are not listed: $(cat "$XS_TMP/out")"
# the default bridge, on a host without any
mkdir -p "$XS_TMP/nonet/lo"
DOMUS_SYS_CLASS_NET=$XS_TMP/nonet vrefuse nobridge-default "vif = [ '' ]" \
	"bridge xenbr0 does not exist (no $XS_TMP/nonet/xenbr0/bridge); this host has no bridge: create it (README.md"
vrefuse noscript "vif = [ 'script=vif-nosuch' ]" "vif 0 ($XS_TMP/noscript.cfg line 4): script $SCRIPTS/vif-nosuch: No such file or directory"
vrefuse longname "vif = [ 'vifname=a-very-long-name0' ]" "vifname=a-very-long-name0 is not an interface name (1 to 15 characters"
vrefuse taken "vif = [ 'vifname=eth0' ]" "vifname=eth0: this host has an interface of that name already"
vrefuse twice "vif = [ 'vifname=web0', 'vifname=web0' ]" "vif 1 ($XS_TMP/twice.cfg line 4): vifname=web0 is also an earlier vif's"
vrefuse ioemu "vif = [ 'type=ioemu' ]" "type=ioemu is an HVM guest's emulated card; a PVH guest takes type=vif"
# xenbrN is taken for ethN when only that is a bridge, as vif-bridge does
mkdir -p "$NET/eth3/bridge"
printf 'name = "e3"\ntype = "pvh"\nkernel = "/boot/vmlinuz"\nvif = [ "bridge=xenbr3" ]\n' >"$XS_TMP/e3.cfg"
"$LAYOUT" check "$XS_TMP/e3.cfg" || fail "xenbr3 for the bridge eth3 refused"
echo "ok xenbr3 is eth3"
exit 0
