#!/bin/bash
# Hot-plug of disks (xl block-attach, block-list, block-detach; docs/xenbus.md
# "Hot-plug"): a guest booted without disks (tests/guest/hotplug.sh).
#   1. block-attach xvdb: the guest sees it, writes 1 MiB; the file on the
#      host has it; block-list shows it Connected with Xen's columns.
#   2. xl save and xl restore: the restored domain has xvdb still (the kept
#      configuration carried it), Connected.
#   3. block-detach xvdb: the guest sees it go; no node left; block-list
#      shows the header only.
#   4. a disk mounted in the guest: block-detach either removes it (Linux
#      6.1's blkfront closes a disk in use) or fails naming it after 10 s,
#      and then -f removes it; the guest sees it go in both cases.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
MIB=$((1 << 20))
NAME=hotplug
IMG=$T/xvdb.img IMG2=$T/xvdc.img
truncate -s 64M "$IMG" "$IMG2"
HEADER="Vdev  BE  handle state evt-ch ring-ref BE-path                       "
step() { xenstore-write "/local/domain/$(domid_of $NAME)/data/step" "$1" || fail "cannot write data/step $1"; }
# row VDEV: block-list's row of that devid ("" when none)
row() { "$XL" block-list $NAME | awk -v d="$1" '$1 == d'; }

"$XL" create "$(mkcfg $NAME hotplug)" || fail "xl create failed"
wait_log $NAME "GUEST-HOTPLUG ready disks=0" 300 || fail "the guest did not come up without disks"
[ "$("$XL" block-list $NAME)" = "$HEADER" ] || fail "block-list of a domain without disks: $("$XL" block-list $NAME)"

# 1. plugged
"$XL" block-attach $NAME "file:$IMG,xvdb,w" || fail "block-attach xvdb failed"
step 1
wait_log $NAME "GUEST-HOTPLUG wrote xvdb" 90 || fail "the guest did not see or write xvdb"
grep -q "GUEST-HOTPLUG seen xvdb sectors=$((64 * MIB / 512)) ro=0" "$(conlog $NAME)" || fail "xvdb in the guest: $(grep 'seen xvdb' "$(conlog $NAME)")"
want=$(yes domus-hotplug | head -c $MIB | sha256sum | cut -d' ' -f1)
grep -q "GUEST-HOTPLUG wrote xvdb sha256=$want" "$(conlog $NAME)" || fail "the guest read back something else from xvdb"
[ "$(head -c $MIB "$IMG" | sha256sum | cut -d' ' -f1)" = "$want" ] || fail "the host's file does not have what the guest wrote"
id=$(domid_of $NAME)
r=$(row 51728)
echo "$r" | awk -v id="$id" '$2 == 0 && $3 == id && $4 == 4 && $5 > 0 && $7 == "/local/domain/0/backend/vbd/" id "/51728" { ok = 1 } END { exit !ok }' ||
	fail "block-list row of xvdb: [$r]"
ok "block-attach: the guest sees xvdb and writes it; block-list: $r"

# 2. save and restore with the attached disk
"$XL" save $NAME "$T/hp.save" || fail "xl save after block-attach failed"
leftovers "$id"
"$XL" restore "$T/hp.save" || fail "xl restore of a domain with an attached disk failed"
id=$(domid_of $NAME)
for _ in $(seq 60); do [ "$(row 51728 | awk '{ print $4 }')" = 4 ] && break; sleep 0.5; done
[ "$(row 51728 | awk '{ print $4 }')" = 4 ] || fail "after restore, xvdb is not Connected: $("$XL" block-list $NAME)"
ok "save/restore: the restored domain has xvdb, Connected"

# 3. unplugged
"$XL" block-detach $NAME xvdb || fail "block-detach xvdb failed"
step 2
wait_log $NAME "GUEST-HOTPLUG gone xvdb" 60 || fail "the guest still has xvdb"
for p in /local/domain/$id/device/vbd/51728 /local/domain/0/backend/vbd/$id/51728 /libxl/$id/device/vbd/51728; do
	xenstore-exists $p 2>/dev/null && fail "$p left after block-detach"
done
[ "$("$XL" block-list $NAME)" = "$HEADER" ] || fail "block-list after the detach: $("$XL" block-list $NAME)"
grep -q "xvdb" "/run/domus/$id/config" && fail "the kept configuration still has xvdb"
ok "block-detach: the guest lost xvdb, no node left"

# 4. detach of a mounted disk
"$XL" block-attach $NAME "file:$IMG2,xvdc,w" || fail "block-attach xvdc failed"
step 3
wait_log $NAME "GUEST-HOTPLUG mounted xvdc" 90 || fail "the guest did not mount xvdc"
if "$XL" block-detach $NAME xvdc 2>"$T/detach.err"; then
	ok "block-detach of a mounted disk: the guest's blkfront let it go (Linux 6.1 blkfront_closing)"
else
	grep -q "disk xvdc (51744) did not close within 10 s" "$T/detach.err" || fail "block-detach of a mounted disk: $(cat "$T/detach.err")"
	"$XL" block-detach -f $NAME xvdc || fail "block-detach -f of a mounted disk failed"
	ok "block-detach of a mounted disk refused ($(head -n 1 "$T/detach.err")); -f removed it"
fi
step 4
wait_log $NAME "GUEST-HOTPLUG (gone|kept) xvdc" 60 || fail "the guest said nothing about xvdc"
grep -q "GUEST-HOTPLUG gone xvdc" "$(conlog $NAME)" || fail "the guest still has xvdc after its detach"
[ -z "$(row 51744)" ] || fail "block-list still shows xvdc"

wait_log $NAME "DOMUS-TEST-RESULT hotplug rc=" 60 || fail "hotplug: no result"
grep -q "DOMUS-TEST-RESULT hotplug rc=0" "$(conlog $NAME)" ||
	{ grep -E "GUEST-|DOMUS-TEST" "$(conlog $NAME)"; fail "hotplug failed in the guest"; }
wait_gone $NAME 60 || fail "$NAME did not power off"
leftovers "$id"
ok "hot-plug: attach, list, save/restore, detach, a mounted disk"
