#!/bin/bash
# Disks (docs/xenbus.md, docs/blkback.md): a sparse 256 MiB file on the host
# is the guest's /dev/xvda.
#   1. disk = ['file:IMG,xvda,w']: the guest makes ext4 and writes 32 MiB
#      of a known pattern, powers off; the host's e2fsck -fn is clean and
#      debugfs reads the pattern back; the file stays sparse.
#   2. disk = ['file:IMG,xvda,r'] on that image: the guest sees a read-only
#      disk, reads the pattern, every write is refused; the file is
#      byte-identical afterwards.
#   3. the seed's form, disk = ['file:IMG2,sda,w']: the same as 1 (a PV
#      guest calls vdev sda xvda too).
#   4. xl save / xl restore of a guest writing a file a second: it writes
#      on after the restore without reconnecting, every file reads back.
#   5. an LVM logical volume (Debian's lvm2 on a loop device in the lab),
#      disk = ['phy:/dev/VG/LV,xvda,w'] as the seed's LVM hosts write it:
#      the same as 1, e2fsck and the pattern read on the LV itself.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
MIB=$((1 << 20))
command -v e2fsck >/dev/null && command -v debugfs >/dev/null || fail "e2fsprogs (e2fsck, debugfs) missing on the host"
pattern_sha() { yes "$1" | head -c "$2" | sha256sum | cut -d' ' -f1; }
# guest_val NAME KEY: the last KEY=value of the guest's GUEST-DISK lines
# (the console log ends lines with CR LF).
guest_val() { tr -d '\r' <"$(conlog "$1")" | grep "GUEST-DISK " | grep -o " $2=[^ ]*" | tail -n 1 | cut -d= -f2; }

# run_guest NAME TEST DISK: boots, waits for the guest test's result, and
# for the domain to be gone; fails with the console's GUEST lines.
run_guest() {
	local name=$1 test=$2 disk=$3 id
	"$XL" create "$(mkcfg "$name" "$test" "disk = [ '$disk' ]")" || fail "xl create with disk $disk failed"
	id=$(domid_of "$name")
	wait_log "$name" "DOMUS-TEST-RESULT $test rc=" 400 || fail "$test: no result"
	grep -q "DOMUS-TEST-RESULT $test rc=0" "$(conlog "$name")" ||
		{ grep -E "GUEST-|DOMUS-TEST" "$(conlog "$name")"; fail "$test failed in the guest"; }
	wait_gone "$name" 60 || fail "$name did not power off"
	leftovers "$id"
	# blkfront's own complaints too: an empty flush the back end refused
	# ("xvda: empty flush op failed") passed unnoticed once.
	grep -qE "GUEST-DMESG.*(I/O error|EXT4-fs error|blkfront.*(fail|error))" "$(conlog "$name")" &&
		{ grep GUEST-DMESG "$(conlog "$name")"; fail "$test: the guest's kernel saw disk errors"; }
	return 0
}

# check_image IMG WHAT: e2fsck clean, /data is the 32 MiB pattern, sparse.
check_image() {
	local img=$1 sha alloc
	e2fsck -fn "$img" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "$2: e2fsck -fn found problems"; }
	sha=$(debugfs -R "cat /data" "$img" 2>/dev/null | sha256sum | cut -d' ' -f1)
	[ "$sha" = "$want" ] || fail "$2: /data on the host is $sha, expected $want"
	alloc=$(( $(stat -c %b "$img") * $(stat -c %B "$img") ))
	[ "$alloc" -lt $((200 * MIB)) ] || fail "$2: the 256 MiB image has $alloc bytes allocated: not sparse"
	ok "$2: e2fsck clean, /data reads back on the host, $((alloc / MIB)) MiB allocated"
}

want=$(pattern_sha domus-disk-test-0123456789abcdef $((32 * MIB)))

# 1. read-write, vdev xvda
IMG=$T/disk.img
truncate -s 256M "$IMG"
run_guest dskw disk "file:$IMG,xvda,w"
[ "$(guest_val dskw dev)" = xvda ] || fail "the guest's disk is $(guest_val dskw dev), not xvda"
[ "$(guest_val dskw sectors)" = $((256 * MIB / 512)) ] || fail "the guest sees $(guest_val dskw sectors) sectors"
[ "$(guest_val dskw ro)" = 0 ] || fail "the guest sees a writable disk as read-only"
[ "$(guest_val dskw sha256)" = "$want" ] || fail "the guest read back $(guest_val dskw sha256), expected $want"
grep -q "vbd51712\]: connected: $IMG" "$LOGDIR/domus-vmm-dskw.log" || fail "the monitor's log does not show the vbd connected"
check_image "$IMG" "xvda,w"

# 2. read-only: nothing changes
before=$(sha256sum "$IMG" | cut -d' ' -f1)
run_guest dskr diskro "file:$IMG,xvda,r"
[ "$(guest_val dskr ro)" = 1 ] || fail "the guest does not see the ,r disk read-only"
[ "$(guest_val dskr sha256)" = "$want" ] || fail "the read-only guest read $(guest_val dskr sha256), expected $want"
grep -q "GUEST-DISK file-write refused" "$(conlog dskr)" || fail "a file write on the read-only disk was accepted"
grep -q "GUEST-DISK dev-write refused" "$(conlog dskr)" || fail "a write to the read-only device was accepted"
[ "$(sha256sum "$IMG" | cut -d' ' -f1)" = "$before" ] || fail "the read-only disk's file changed"
ok "xvda,r: read-only in the guest, data read, writes refused, the file unchanged"

# 3. the seed's form: vdev sda
IMG2=$T/disk2.img
truncate -s 256M "$IMG2"
run_guest dsks disk "file:$IMG2,sda,w"
[ "$(guest_val dsks dev)" = xvda ] || fail "vdev sda is $(guest_val dsks dev) in the guest, expected xvda"
[ "$(guest_val dsks sha256)" = "$want" ] || fail "sda: the guest read back $(guest_val dsks sha256)"
check_image "$IMG2" "sda,w"

# 4. save and restore while the guest writes
IMG3=$T/disk3.img
truncate -s 256M "$IMG3"
NAME=dsksv
"$XL" create "$(mkcfg $NAME disksave "disk = [ 'file:$IMG3,xvda,w' ]")" || fail "xl create (save test) failed"
wait_log $NAME "GUEST-DISKSAVE 3 " 300 || fail "the guest does not write its files"
id=$(domid_of $NAME)
"$XL" save $NAME "$T/d.save" || fail "xl save with a connected disk failed"
leftovers "$id"
at=$(grep -c "GUEST-DISKSAVE" "$(conlog $NAME)")
"$XL" restore "$T/d.save" || fail "xl restore with a disk failed"
id=$(domid_of $NAME)
wait_log $NAME "GUEST-DISKSAVE $((at + 3)) " 120 || fail "the restored guest does not write on"
grep -q "vbd51712\]: connected: .*resumed" "$LOGDIR/domus-vmm-$NAME.log" || fail "the restored monitor did not resume the vbd from its record"
xenstore-write "/local/domain/$id/data/stop" 1 || fail "cannot tell the guest to stop"
wait_log $NAME "DOMUS-TEST-RESULT disksave rc=" 120 || fail "disksave: no result"
grep -q "DOMUS-TEST-RESULT disksave rc=0" "$(conlog $NAME)" ||
	{ grep -E "GUEST-DISK |GUEST-DMESG" "$(conlog $NAME)"; fail "disksave failed in the guest"; }
grep -q "GUEST-DMESG" "$(conlog $NAME)" && { grep GUEST-DMESG "$(conlog $NAME)"; fail "disk errors across the restore"; }
wait_gone $NAME 60 || fail "$NAME did not power off"
leftovers "$id"
e2fsck -fn "$IMG3" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "after save/restore: e2fsck -fn found problems"; }
n=$(grep -o "GUEST-DISK done files=[0-9]*" "$(conlog $NAME)" | cut -d= -f2)
for i in 0 $((at - 1)) $((n - 1)); do
	[ "$(debugfs -R "cat /f$i" "$IMG3" 2>/dev/null | sha256sum | cut -d' ' -f1)" = "$(pattern_sha "domus-disk-save $i" $MIB)" ] ||
		fail "after save/restore: /f$i does not read back on the host"
done
ok "save/restore: $at files before, $n in all, e2fsck clean, files read back on the host"

# 5. a logical volume: phy:/dev/VG/LV
command -v lvcreate >/dev/null || fail "lvm2 missing on the host (make deps installs it)"
[ -e /dev/mapper/control ] || fail "the lab kernel has no device-mapper (lab/kernel.config: CONFIG_BLK_DEV_DM)"
# No udev in the lab: LVM makes its device nodes itself; the lab's /etc is
# the host's, read-only, so LVM's configuration (no metadata backups, no
# udev, no monitoring) is a file of the test's own.
export DM_DISABLE_UDEV=1 LVM_SYSTEM_DIR=$T/lvm
mkdir -p "$LVM_SYSTEM_DIR"
printf 'backup {\n\tbackup = 0\n\tarchive = 0\n}\nactivation {\n\tudev_sync = 0\n\tudev_rules = 0\n\tmonitoring = 0\n}\n' >"$LVM_SYSTEM_DIR/lvm.conf"
VG=domustest$$
truncate -s 320M "$T/pv.img"
PV=$(losetup -f --show "$T/pv.img") || fail "no loop device for the physical volume"
trap 'lvremove -qq -f $VG >/dev/null 2>&1; vgremove -qq -f $VG >/dev/null 2>&1; losetup -d $PV 2>/dev/null; cleanup_all' EXIT
pvcreate -qq "$PV" >/dev/null && vgcreate -qq $VG "$PV" >/dev/null && lvcreate -qq -y -L 256M -n domU $VG >/dev/null ||
	fail "cannot make the volume group on $PV"
LV=/dev/$VG/domU
[ -b "$(readlink -f $LV)" ] || fail "$LV is no block device"
run_guest dskl disk "phy:$LV,xvda,w"
[ "$(guest_val dskl dev)" = xvda ] || fail "the LV is $(guest_val dskl dev) in the guest, not xvda"
[ "$(guest_val dskl sectors)" = $((256 * MIB / 512)) ] || fail "the guest sees $(guest_val dskl sectors) sectors of the 256 MiB LV"
[ "$(guest_val dskl sha256)" = "$want" ] || fail "LV: the guest read back $(guest_val dskl sha256)"
e2fsck -fn $LV >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "LV: e2fsck -fn found problems"; }
[ "$(debugfs -R "cat /data" $LV 2>/dev/null | sha256sum | cut -d' ' -f1)" = "$want" ] || fail "LV: /data does not read back on the host"
lvremove -qq -f $VG >/dev/null 2>&1 && vgremove -qq -f $VG >/dev/null 2>&1 && losetup -d "$PV" || fail "the LV is still held after the domain"
ok "phy:$LV (LVM on $PV): e2fsck clean, /data reads back from the LV, the LV freed after the domain"
