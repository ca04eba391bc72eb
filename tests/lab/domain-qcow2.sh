#!/bin/bash
# qcow2 and vhd disks (docs/blkback.md "qcow2 and vhd"): the monitor starts
# a qemu-storage-daemon per image and serves its FUSE export as a raw disk.
#   1. disk = ['format=qcow2,vdev=xvda,target=IMG'] on a fresh 256 MiB
#      qcow2: the guest makes ext4, writes 32 MiB of a known pattern and
#      32 MiB of scratch it deletes (discard), powers off; on the host
#      `qemu-img check` is clean, the image grew by about what the guest
#      kept (not by the scratch), e2fsck and debugfs on a raw copy read the
#      pattern back; no daemon, mount or export file is left.
#   2. access=ro on that image: read-only in the guest, writes refused, the
#      image byte-identical.
#   3. a dynamic vhd: the same as 1 through QEMU's vpc driver.
#   4. a corrupt qcow2: xl create fails with one line naming the disk and
#      QEMU's reason, nothing left.
#   5. xl save / xl restore of a guest writing a file a second on a qcow2:
#      it writes on after the restore, every file reads back, check clean.
#      (Two lab runs lost the file in flight here, and one read-back failed
#      in 1, while the view was opened O_DIRECT: docs/blkback.md.)
BUILD=$1; . "$(dirname "$0")/domlib.sh"
MIB=$((1 << 20))
for c in e2fsck debugfs qemu-img qemu-storage-daemon; do
	command -v $c >/dev/null || fail "$c missing on the host (scripts/deps: e2fsprogs, qemu-utils, qemu-system-common)"
done
[ -c /dev/fuse ] || fail "no /dev/fuse (CONFIG_FUSE_FS)"
pattern_sha() { yes "$1" | head -c "$2" | sha256sum | cut -d' ' -f1; }
guest_val() { tr -d '\r' <"$(conlog "$1")" | grep "GUEST-DISK " | grep -o " $2=[^ ]*" | tail -n 1 | cut -d= -f2; }
used() { echo $(( $(stat -c %b "$1") * $(stat -c %B "$1") )); }

# nothing of the daemons: no process on our images, no FUSE mount of ours
no_daemons() {
	pgrep -f "qemu-storage-daemon.*$T" >/dev/null && fail "$1: a qemu-storage-daemon is left: $(pgrep -af "qemu-storage-daemon.*$T")"
	grep -q "/run/domus/.*/qsd-" /proc/mounts && fail "$1: an export is still mounted: $(grep qsd- /proc/mounts)"
	return 0
}

run_guest() { # NAME TEST DISK-SPEC
	local name=$1 test=$2 disk=$3 id
	"$XL" create "$(mkcfg "$name" "$test" "disk = [ '$disk' ]")" || fail "xl create with disk $disk failed"
	id=$(domid_of "$name")
	wait_log "$name" "DOMUS-TEST-RESULT $test rc=" 400 || fail "$test: no result"
	grep -q "DOMUS-TEST-RESULT $test rc=0" "$(conlog "$name")" ||
		{ grep -E "GUEST-|DOMUS-TEST" "$(conlog "$name")"; fail "$test failed in the guest"; }
	wait_gone "$name" 60 || fail "$name did not power off"
	leftovers "$id"
	no_daemons "$name"
	grep -qE "GUEST-DMESG.*(I/O error|EXT4-fs error|blkfront.*(fail|error))" "$(conlog "$name")" &&
		{ grep GUEST-DMESG "$(conlog "$name")"; fail "$test: the guest's kernel saw disk errors"; }
	return 0
}

# check_image IMG FMT WHAT: qemu-img check clean (qcow2), e2fsck clean and
# /data the pattern on a raw copy
check_image() {
	local img=$1 fmt=$2 sha
	if [ "$fmt" = qcow2 ]; then
		qemu-img check -q "$img" >"$T/check.log" 2>&1 || { cat "$T/check.log"; fail "$3: qemu-img check found problems"; }
	fi
	qemu-img convert -f "$fmt" -O raw "$img" "$T/raw.img" || fail "$3: qemu-img convert failed"
	e2fsck -fn "$T/raw.img" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "$3: e2fsck -fn found problems"; }
	sha=$(debugfs -R "cat /data" "$T/raw.img" 2>/dev/null | sha256sum | cut -d' ' -f1)
	[ "$sha" = "$want" ] || fail "$3: /data on the host is $sha, expected $want"
	rm -f "$T/raw.img"
}

want=$(pattern_sha domus-disk-test-0123456789abcdef $((32 * MIB)))

# 1. qcow2, read-write
IMG=$T/d.qcow2
qemu-img create -q -f qcow2 "$IMG" 256M
before=$(used "$IMG")
run_guest dqw diskq "format=qcow2,vdev=xvda,target=$IMG"
[ "$(guest_val dqw dev)" = xvda ] || fail "the guest's disk is $(guest_val dqw dev), not xvda"
[ "$(guest_val dqw sectors)" = $((256 * MIB / 512)) ] || fail "the guest sees $(guest_val dqw sectors) sectors"
[ "$(guest_val dqw ro)" = 0 ] || fail "the guest sees a writable qcow2 read-only"
[ "$(guest_val dqw discard)" != 0 ] || fail "the guest sees no discard on the qcow2"
[ "$(guest_val dqw sha256)" = "$want" ] || fail "the guest read back $(guest_val dqw sha256), expected $want"
grep -q "vbd51712\]: connected: $IMG" "$LOGDIR/domus-vmm-dqw.log" || fail "the monitor's log does not show the qcow2 connected"
grown=$(( $(used "$IMG") - before ))
# 32 MiB kept and ext4's own (for 256 MiB: an 8 MiB journal mke2fs zeroes,
# 8 MiB of inode tables the kernel's lazy init zeroes, bitmaps): ~49 MiB;
# had the 32 MiB of scratch not been discarded: ~81 MiB
[ "$grown" -ge $((32 * MIB)) ] && [ "$grown" -lt $((64 * MIB)) ] ||
	fail "the qcow2 grew by $((grown / MIB)) MiB for 32 MiB kept (32 MiB more written and discarded)"
check_image "$IMG" qcow2 "qcow2,w"
ok "qcow2,w: ext4 in the guest, grew by $((grown / MIB)) MiB, qemu-img check and e2fsck clean, /data reads back"

# 2. read-only: nothing changes
before=$(sha256sum "$IMG" | cut -d' ' -f1)
run_guest dqr diskro "format=qcow2,vdev=xvda,access=ro,target=$IMG"
[ "$(guest_val dqr ro)" = 1 ] || fail "the guest does not see the ro qcow2 read-only"
[ "$(guest_val dqr sha256)" = "$want" ] || fail "the read-only guest read $(guest_val dqr sha256), expected $want"
grep -q "GUEST-DISK file-write refused" "$(conlog dqr)" || fail "a file write on the read-only qcow2 was accepted"
grep -q "GUEST-DISK dev-write refused" "$(conlog dqr)" || fail "a write to the read-only qcow2 was accepted"
[ "$(sha256sum "$IMG" | cut -d' ' -f1)" = "$before" ] || fail "the read-only qcow2 changed"
ok "qcow2,ro: read-only in the guest, data read, writes refused, the image unchanged"

# 3. vhd (dynamic), read-write
VHD=$T/d.vhd
qemu-img create -q -f vpc -o subformat=dynamic,force_size=on "$VHD" 256M
run_guest dvw diskq "format=vhd,vdev=xvda,target=$VHD"
[ "$(guest_val dvw sha256)" = "$want" ] || fail "vhd: the guest read back $(guest_val dvw sha256)"
check_image "$VHD" vpc "vhd,w"
ok "vhd,w: ext4 in the guest, e2fsck clean, /data reads back"

# 4. a corrupt qcow2: a qcow2 header, garbage after it
BAD=$T/bad.qcow2
{ printf 'QFI\373\0\0\0\3'; head -c 65536 /dev/zero; } >"$BAD"
out=$("$XL" create "$(mkcfg dqbad diskq "disk = [ 'format=qcow2,vdev=xvda,target=$BAD' ]")" 2>&1) &&
	fail "xl create took a corrupt qcow2"
echo "$out" | grep -qF "disk 51712 ($BAD)" || fail "the error does not name the disk: $out"
echo "$out" | grep -qi "cluster size" || fail "the error does not say QEMU's reason: $out"
[ -z "$(domid_of dqbad)" ] || fail "a domain is left after the failed create"
no_daemons "corrupt qcow2"
for f in /run/domus/*/qsd-*; do
	[ -e "$f" ] && fail "an export file is left: $f"
done
ok "corrupt qcow2: xl create fails: $(echo "$out" | grep -m1 "disk 51712")"

# 5. save and restore while the guest writes on a qcow2
IMG3=$T/s.qcow2
qemu-img create -q -f qcow2 "$IMG3" 256M
NAME=dqsv
"$XL" create "$(mkcfg $NAME disksave "disk = [ 'format=qcow2,vdev=xvda,target=$IMG3' ]")" || fail "xl create (save test) failed"
wait_log $NAME "GUEST-DISKSAVE 3 " 300 || fail "the guest does not write its files"
id=$(domid_of $NAME)
"$XL" save $NAME "$T/d.save" || fail "xl save with a qcow2 disk failed"
leftovers "$id"
no_daemons "after xl save"
at=$(grep -c "GUEST-DISKSAVE" "$(conlog $NAME)")
"$XL" restore "$T/d.save" || fail "xl restore with a qcow2 disk failed"
id=$(domid_of $NAME)
wait_log $NAME "GUEST-DISKSAVE $((at + 3)) " 120 || fail "the restored guest does not write on"
grep -q "vbd51712\]: connected: .*resumed" "$LOGDIR/domus-vmm-$NAME.log" || fail "the restored monitor did not resume the vbd"
xenstore-write "/local/domain/$id/data/stop" 1 || fail "cannot tell the guest to stop"
wait_log $NAME "DOMUS-TEST-RESULT disksave rc=" 120 || fail "disksave: no result"
grep -q "DOMUS-TEST-RESULT disksave rc=0" "$(conlog $NAME)" ||
	{ grep -E "GUEST-DISK |GUEST-DMESG" "$(conlog $NAME)"; fail "disksave failed in the guest"; }
wait_gone $NAME 60 || fail "$NAME did not power off"
leftovers "$id"
no_daemons "after the restored domain ended"
qemu-img check -q "$IMG3" || fail "after save/restore: qemu-img check found problems"
qemu-img convert -f qcow2 -O raw "$IMG3" "$T/raw3.img"
e2fsck -fn "$T/raw3.img" >"$T/fsck.log" 2>&1 || { cat "$T/fsck.log"; fail "after save/restore: e2fsck -fn found problems"; }
n=$(grep -o "GUEST-DISK done files=[0-9]*" "$(conlog $NAME)" | cut -d= -f2)
for i in 0 $((at - 1)) $((n - 1)); do
	[ "$(debugfs -R "cat /f$i" "$T/raw3.img" 2>/dev/null | sha256sum | cut -d' ' -f1)" = "$(pattern_sha "domus-disk-save $i" $MIB)" ] ||
		fail "after save/restore: /f$i does not read back on the host"
done
ok "qcow2 save/restore: $at files before, $n in all, qemu-img check and e2fsck clean, files read back"
