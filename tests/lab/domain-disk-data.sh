#!/bin/bash
# A disk's data on the host (docs/blkback.md; issue 13's tests):
#   1. the guest makes ext4 on a sparse 512 MiB file, writes 100 MiB of a
#      known pattern and syncs; then `xl destroy` ends it mid-flight (no
#      unmount).  On the host, a copy of the image replays its journal and is
#      then clean (e2fsck), and /data has the pattern's checksum.
#   2. the guest mounts that image again, reads /data back, deletes it and
#      runs fstrim: the back end punches holes, and the file's allocated
#      blocks on the host shrink by most of the 100 MiB.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
MIB=$((1 << 20))
command -v e2fsck >/dev/null && command -v debugfs >/dev/null || fail "e2fsprogs (e2fsck, debugfs) missing on the host"
guest_val() { tr -d '\r' <"$(conlog "$1")" | grep "GUEST-DISK " | grep -o " $2=[^ ]*" | tail -n 1 | cut -d= -f2; }
alloc_mib() { echo $(( $(stat -c %b "$1") * $(stat -c %B "$1") / MIB )); }
want=$(yes domus-disk-fill-0123456789abcdef | head -c $((100 * MIB)) | sha256sum | cut -d' ' -f1)
guest_errors() {
	grep -qE "GUEST-DMESG.*(I/O error|EXT4-fs error|blkfront.*(fail|error))" "$(conlog "$1")" &&
		{ grep GUEST-DMESG "$(conlog "$1")"; fail "$2: the guest's kernel saw disk errors"; }
	return 0
}

# 1. 100 MiB, sync, destroy
IMG=$T/data.img
truncate -s 512M "$IMG"
"$XL" create "$(mkcfg dfill diskfill "disk = [ 'file:$IMG,xvda,w' ]")" || fail "xl create failed"
id=$(domid_of dfill)
wait_log dfill "GUEST-DISK synced" 600 || fail "the guest did not write and sync its 100 MiB"
[ "$(guest_val dfill sha256)" = "$want" ] || fail "the guest read $(guest_val dfill sha256), expected $want"
guest_errors dfill "100 MiB"
"$XL" destroy dfill || fail "xl destroy failed"
leftovers "$id"
cp --sparse=always "$IMG" "$T/copy.img"
e2fsck -fy "$T/copy.img" >"$T/fsck1.log" 2>&1
rc=$?
[ $rc -le 1 ] || { cat "$T/fsck1.log"; fail "e2fsck -fy (journal replay) of the destroyed guest's disk: exit $rc"; }
e2fsck -fn "$T/copy.img" >"$T/fsck2.log" 2>&1 || { cat "$T/fsck2.log"; fail "after the journal replay, e2fsck -fn finds problems"; }
sha=$(debugfs -R "cat /data" "$T/copy.img" 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$sha" = "$want" ] || fail "after xl destroy, /data on the host is $sha, expected $want"
rm -f "$T/copy.img"
before=$(alloc_mib "$IMG")
[ "$before" -ge 100 ] || fail "the image has only $before MiB allocated after 100 MiB were written"
ok "100 MiB synced, then xl destroy: the journal replays clean on the host and /data reads back ($before MiB allocated)"

# 2. fstrim
"$XL" create "$(mkcfg dtrim disktrim "disk = [ 'file:$IMG,xvda,w' ]")" || fail "xl create (fstrim) failed"
id=$(domid_of dtrim)
wait_log dtrim "DOMUS-TEST-RESULT disktrim rc=" 400 || fail "disktrim: no result"
grep -q "DOMUS-TEST-RESULT disktrim rc=0" "$(conlog dtrim)" ||
	{ grep -E "GUEST-|DOMUS-TEST" "$(conlog dtrim)"; fail "disktrim failed in the guest"; }
[ "$(guest_val dtrim sha256)" = "$want" ] || fail "the second boot read $(guest_val dtrim sha256), expected $want"
guest_errors dtrim fstrim
wait_gone dtrim 60 || fail "dtrim did not power off"
leftovers "$id"
after=$(alloc_mib "$IMG")
e2fsck -fn "$IMG" >"$T/fsck3.log" 2>&1 || { cat "$T/fsck3.log"; fail "after fstrim, e2fsck -fn finds problems"; }
[ "$after" -le $((before - 80)) ] ||
	{ grep "GUEST-DISK" "$(conlog dtrim)"; fail "fstrim: $before MiB allocated before, $after after (expected at least 80 MiB less)"; }
ok "fstrim in the guest: the image's allocation went from $before MiB to $after MiB, e2fsck clean"
