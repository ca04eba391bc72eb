#!/bin/bash
# Restore under a new domain id (issue 11 item 3; docs/save-restore.md, "A
# restore under a new id"): the guest is not told of its save, and its
# frontends keep the back-end path they read at connect, which names the
# old id (/local/domain/0/backend/vbd/<old>/51728); xenstored serves that
# path at the new id for the restored domain and gives its watch events the
# old form back (xenstored/alias.c).
#   1. a guest with a disk (xvdb) reads what the host wrote on it;
#   2. xl save; another domain takes the saved id (the allocator's next id
#      set to it, as ids that wrapped round would do);
#   3. xl restore: a new id; the guest still reads and writes its disk;
#   4. xl block-detach xvdb: completes (before, it waited for a Closing the
#      guest never saw), the guest loses xvdb, no node of it is left, and
#      the other domain is untouched.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
MIB=$((1 << 20))
NAME=newid SQUAT=squat
IMG=$T/xvdb.img
truncate -s 64M "$IMG"
yes domus-newid | head -c $MIB | dd of="$IMG" conv=notrunc status=none
want=$(head -c $MIB "$IMG" | sha256sum | cut -d' ' -f1)
# guest_sha: the first MiB of xvdb as the guest reads it from the disk
guest_sha() { gexec $NAME "sync; echo 3 >/proc/sys/vm/drop_caches; head -c $MIB /dev/xvdb | sha256sum | cut -d' ' -f1"; }
# has_xvdb: the guest lists xvdb (lsblk, or /sys/block where it has none)
has_xvdb() { gexec $NAME "if command -v lsblk >/dev/null; then lsblk -dn -o NAME; else ls /sys/block; fi" | grep -qx xvdb; }

# 1. a guest with a disk
"$XL" create "$(mkcfg $NAME remote "disk = [ 'file:$IMG,xvdb,w' ]")" || fail "xl create failed"
gready $NAME 300 || fail "$NAME does not take commands"
old=$(domid_of $NAME)
has_xvdb || fail "the guest has no xvdb"
[ "$(guest_sha)" = "$want" ] || fail "the guest reads something else from xvdb"
ok "domain $old reads its disk"

# 2. saved; another domain takes its id
"$XL" save $NAME "$T/newid.save" || fail "xl save failed"
leftovers "$old"
echo "$old" >"${DOMUS_RUN_DIR:-/run/domus}/next-domid"
"$XL" create "$(mkcfg $SQUAT remote)" || fail "xl create $SQUAT failed"
gready $SQUAT 300 || fail "$SQUAT does not take commands"
[ "$(domid_of $SQUAT)" = "$old" ] || fail "$SQUAT got id $(domid_of $SQUAT), not the saved $old"
ok "$SQUAT took id $old"

# 3. restored under a new id
"$XL" restore "$T/newid.save" || fail "xl restore failed"
new=$(domid_of $NAME)
[ -n "$new" ] && [ "$new" != "$old" ] || fail "restored as [$new], expected a new id (not $old)"
[ "$(xenstore-read /local/domain/0/backend/vbd/$new/51728/state 2>/dev/null)" = 4 ] ||
	fail "the back end under the new id is not Connected"
xenstore-exists /local/domain/0/backend/vbd/$old 2>/dev/null && fail "a back-end directory under the old id $old"
[ "$(guest_sha)" = "$want" ] || fail "after the restore the guest reads something else from xvdb"
gexec $NAME "yes domus-newid-after | head -c $MIB | dd of=/dev/xvdb bs=1M seek=1 conv=fsync 2>/dev/null" >/dev/null ||
	fail "after the restore the guest cannot write xvdb"
[ "$(tail -c +$((MIB + 1)) "$IMG" | head -c $MIB | sha256sum | cut -d' ' -f1)" = \
  "$(yes domus-newid-after | head -c $MIB | sha256sum | cut -d' ' -f1)" ] ||
	fail "the host's file lacks what the guest wrote after the restore"
ok "restored as domain $new: the guest reads and writes its disk"

# 4. detached
timeout 60 "$XL" block-detach $NAME xvdb || fail "block-detach after a restore under a new id failed or hung"
for _ in $(seq 60); do has_xvdb || break; sleep 0.5; done
has_xvdb && fail "the guest still has xvdb after its detach"
for p in /local/domain/$new/device/vbd/51728 /local/domain/0/backend/vbd/$new/51728 /libxl/$new/device/vbd/51728; do
	xenstore-exists $p 2>/dev/null && fail "$p left after block-detach"
done
[ "$(gexec $SQUAT "echo alive")" = alive ] || fail "$SQUAT (id $old) does not answer any more"
ok "block-detach: the guest lost xvdb, no node left, domain $old untouched"

"$XL" destroy $NAME || fail "xl destroy $NAME failed"
"$XL" destroy $SQUAT || fail "xl destroy $SQUAT failed"
leftovers "$new"
leftovers "$old"
ok "restore under a new id: disk read and written, block-detach completes"
