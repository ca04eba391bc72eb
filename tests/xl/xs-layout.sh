#!/bin/bash
# The xenstore nodes of a domain's disks (xl/ts_disk.c) against the layout
# libxl 4.17 writes (tests/xl/xs-layout/*.expected, written from
# tools/libs/light/libxl_disk.c device_disk_add and libxl_device.c
# libxl__device_generic_add), read back with xenstore-ls from a private
# xenstored; and the --disk values domus-vmm is given, which it must take.
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

# dump <domid>: every node the domain's disks own, paths made stable
dump() {
	for p in /local/domain/$1/device/vbd /local/domain/0/backend /libxl/$1/device \
		/local/domain/0/error; do
		xenstore-exists "$p" 2>/dev/null && xenstore-ls -f -p "$p"
	done | sed "s#$IMG#@IMG@#g"
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
exit 0
