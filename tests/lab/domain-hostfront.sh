#!/bin/bash
# A hostile frontend (issues 13 and 14): tests/guest/hostfront, a user-space
# netif and blkif frontend in the guest (/dev/xen/gntalloc, evtchn, xenbus),
# takes over a second vif and a second (read-only) disk of domain hf from
# the kernel's netfront and blkfront and sends the back ends bad grant
# references, oversize and over-long packets, malformed extra info, bad
# segment counts, sector ranges, indirect pages and operations, a write to
# the read-only disk, never posts rx buffers while the host sends, and
# claims req_prod far past the rings.  Meanwhile hf's first vif pings the
# bridge and its first disk is written and read back, and a second,
# well-behaved domain pings the bridge too.
#   1. every round is answered as docs/netback.md and docs/blkback.md say
#      (hostfront's lines: "HOSTFRONT vif1 tx-size-0 ok ..."), exit 0;
#      the blkif ring closed by the overflow serves again after a reconnect.
#   2. the monitor lives on; hf's eth0 and xvda and the other domain worked
#      throughout (at most 10 % of the pings lost, no disk round read back
#      wrong) and still work after.
#   3. the monitor's log counts them: 17 malformed tx packets refused,
#      the rx failures, req_prod past the ring, requests answered with an
#      error, the blkif ring closed.
#   4. xl destroy leaves nothing.
# DOMUS_HOSTFRONT_TAKE=noprobe: the guest's kernel never binds the attached
# devices (drivers_autoprobe 0) instead of hostfront unbinding them.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
BR=xenbr0 NET=10.96.0
TAKE=${DOMUS_HOSTFRONT_TAKE:-unbind}
bridge_dhcp $BR $NET
truncate -s 64M "$T/xvda.img" "$T/xvdb.img"
yes domus-hostfront-ro | head -c 1M | dd of="$T/xvdb.img" conv=notrunc status=none
ro_sum=$(sha256sum <"$T/xvdb.img")

ip_of() { gexec "$1" "timeout 60 udhcpc -i eth0 -n -q -t 10 -T 2 -s /tests/udhcpc.sh >/tmp/udhcpc.log 2>&1; cat /tmp/udhcpc.log; ip -4 -o addr show eth0" 120 |
	tee -a "$T/$1.dhcp" | grep -o "inet [0-9.]*" | cut -d' ' -f2; }

"$XL" create "$(mkcfg hf remote "vif = [ 'mac=00:16:3e:48:46:01,bridge=$BR' ]" "disk = [ 'file:$T/xvda.img,xvda,w' ]")" ||
	fail "xl create hf failed"
"$XL" create "$(mkcfg hfgood remote "vif = [ 'mac=00:16:3e:48:46:02,bridge=$BR' ]")" || fail "xl create hfgood failed"
id=$(domid_of hf) gid=$(domid_of hfgood)
gready hf 120 && gready hfgood 120 || fail "the guests do not take commands"
gexec hf "test -x /tests/hostfront" >/dev/null || fail "the fixture has no /tests/hostfront (ninja -C $BUILD, then lab/fixture $BUILD/fixture)"
ip1=$(ip_of hf) ip2=$(ip_of hfgood)
[ -n "$ip1" ] && [ -n "$ip2" ] || fail "DHCP: hf got '$ip1', hfgood got '$ip2'"
ok "hf $ip1 (domain $id) and hfgood $ip2 (domain $gid) on $BR"

# The devices hostfront takes: vif 1 and xvdb (51728), read-only.
[ "$TAKE" = noprobe ] && { gexec hf "echo 0 >/sys/bus/xen/drivers_autoprobe" >/dev/null || fail "cannot turn off drivers_autoprobe"; }
"$XL" network-attach hf bridge=$BR || fail "network-attach failed"
"$XL" block-attach hf "file:$T/xvdb.img,xvdb,r" || fail "block-attach failed"
if [ "$TAKE" = unbind ]; then
	gwait hf "test -e /sys/class/net/eth1 && test -e /sys/block/xvdb" 90 ||
		fail "the guest's kernel did not take eth1 and xvdb: $(gexec hf 'ls /sys/class/net /sys/block')"
	ok "eth1 and xvdb attached and bound to netfront and blkfront"
else
	gwait hf "test -e /sys/bus/xen/devices/vif-1 && test -e /sys/bus/xen/devices/vbd-51728" 90 ||
		fail "no xenbus devices vif-1 and vbd-51728 in the guest"
	ok "vif-1 and vbd-51728 attached, not bound (drivers_autoprobe 0)"
fi

# The good work, in the background until /tmp/stop: pings (counted
# "OK LOST"), and on hf a disk round (write 256 KiB, sync, drop caches,
# read back, compare) counted "ROUNDS BAD".
PINGS='ok=0; lost=0; while [ ! -e /tmp/stop ]; do if ping -c 1 -W 2 '$NET'.1 >/dev/null 2>&1; then ok=$((ok+1)); else lost=$((lost+1)); fi; echo "$ok $lost" >/tmp/ping.count; sleep 0.5; done'
DISK='i=0; bad=0; while [ ! -e /tmp/stop ]; do dd if=/dev/urandom of=/tmp/w bs=64k count=4 2>/dev/null; dd if=/tmp/w of=/dev/xvda bs=64k seek=$(( (i % 64) * 4 )) conv=fsync 2>/dev/null; echo 3 >/proc/sys/vm/drop_caches; dd if=/dev/xvda of=/tmp/r bs=64k skip=$(( (i % 64) * 4 )) count=4 2>/dev/null; cmp -s /tmp/w /tmp/r || bad=$((bad+1)); i=$((i+1)); echo "$i $bad" >/tmp/disk.count; done'
for g in hf hfgood; do
	gexec $g "rm -f /tmp/stop; (sh -c '$PINGS') >/dev/null 2>&1 &" >/dev/null || fail "$g: cannot start pinging"
done
gexec hf "(sh -c '$DISK') >/dev/null 2>&1 &" >/dev/null || fail "hf: cannot start the disk rounds"
# Broadcasts for hostfront's rx rounds: the host asks for an address no one
# has (ARP requests flood every port of the bridge, vif$id.1's too).  The
# loop ends with $T (cleanup_all removes it), also when the test fails.
(while [ -d "$T" ] && [ ! -e "$T/arp.stop" ]; do busybox ping -c 1 -W 1 $NET.77 >/dev/null 2>&1; sleep 0.2; done) &
ARP=$!
sleep 5

# 1. the attacks
gexec hf "/tests/hostfront vif 1 10" 900 >"$T/vif.out"; vrc=$?
gexec hf "/tests/hostfront vbd 51728" 900 >"$T/vbd.out"; brc=$?
touch "$T/arp.stop"; wait $ARP 2>/dev/null
cat "$T/vif.out" "$T/vbd.out"
[ $vrc = 124 ] || [ $brc = 124 ] && fail "hostfront did not finish (vif $vrc, vbd $brc)"
grep -q "HOSTFRONT vif1 done rounds=.* failed=0" "$T/vif.out" && [ $vrc = 0 ] ||
	fail "hostfront vif 1 (exit $vrc): $(grep -E 'FAIL|done|did not|cannot' "$T/vif.out")"
grep -q "HOSTFRONT vbd51728 done rounds=.* failed=0" "$T/vbd.out" && [ $brc = 0 ] ||
	fail "hostfront vbd 51728 (exit $brc): $(grep -E 'FAIL|done|did not|cannot' "$T/vbd.out")"
for r in tx-gref-out-of-range tx-gref-never-granted tx-gref-other-domain tx-offset-past-page tx-size-0 \
	tx-size-65535-one-slot tx-20-slots tx-first-size-smaller tx-head-under-14 tx-chain-past-req-prod \
	tx-extra-type-0 tx-extra-type-max tx-gso-size-0 tx-gso-type-7 tx-gso-on-non-ip tx-extra-more-past-req-prod \
	tx-extra-gso-twice tx-req-prod-overflow rx-no-buffers rx-gref-out-of-range rx-gref-never-granted \
	rx-gref-other-domain rx-gref-read-only rx-good rx-req-prod-overflow; do
	grep -q "HOSTFRONT vif1 $r ok" "$T/vif.out" || fail "vif round $r missing or failed"
done
for r in blk-op-0x7f blk-op-reserved-1 blk-nseg-0 blk-nseg-12 blk-nseg-255 blk-first-sect-gt-last blk-last-sect-8 \
	blk-sector-past-end blk-sector-wraps blk-gref-out-of-range blk-gref-never-granted blk-gref-other-domain \
	blk-read-into-ro-grant blk-write-ro-disk blk-indirect-nseg-0 blk-indirect-nseg-4096 blk-indirect-page-bad-gref \
	blk-indirect-seg-bad-gref blk-indirect-last-sect-9 blk-indirect-flush blk-req-prod-overflow; do
	grep -q "HOSTFRONT vbd51728 $r ok" "$T/vbd.out" || fail "vbd round $r missing or failed"
done
[ "$(grep -c "HOSTFRONT vbd51728 blk-good-read ok" "$T/vbd.out")" -ge 22 ] || fail "the good reads between the attacks"
ok "hostfront: $(grep -c ' ok ' "$T/vif.out") netif and $(grep -c ' ok ' "$T/vbd.out") blkif rounds answered as documented"

# 2. the monitor, the good devices, the other domain
[ "$(domid_of hf)" = "$id" ] || fail "domain hf is gone from xl list"
pgrep -f "domus-vmm .*--domid $id " >/dev/null || fail "hf's monitor is not running"
"$XL" list hf >/dev/null || fail "xl list hf fails"
for g in hf hfgood; do gexec $g "touch /tmp/stop" >/dev/null; done
sleep 4
counts() { gexec "$1" "cat /tmp/$2.count" 30 | tail -n 1; }
for g in hf hfgood; do
	read -r pok plost <<<"$(counts $g ping)"
	[ -n "$pok" ] && [ "$pok" -ge 20 ] || fail "$g: only '$pok' pings answered during the attacks"
	[ $((plost * 10)) -le $((pok + plost)) ] || fail "$g: $plost of $((pok + plost)) pings lost during the attacks"
	ok "$g pinged $NET.1 throughout: $pok answered, $plost lost"
done
read -r drounds dbad <<<"$(counts hf disk)"
[ -n "$drounds" ] && [ "$drounds" -ge 3 ] || fail "hf: only '$drounds' disk rounds during the attacks"
[ "$dbad" = 0 ] || fail "hf: $dbad of $drounds disk rounds read back something else"
ok "hf's xvda: $drounds write-sync-read rounds during the attacks, all read back intact"
gexec hf "ping -c 3 -W 5 $ip2" >/dev/null || fail "after the attacks hf cannot ping hfgood ($ip2)"
gexec hfgood "ping -c 3 -W 5 $ip1" >/dev/null || fail "after the attacks hfgood cannot ping hf ($ip1)"
busybox ping -c 3 -W 5 "$ip1" >/dev/null || fail "after the attacks the host cannot ping hf"
[ "$(sha256sum <"$T/xvdb.img")" = "$ro_sum" ] || fail "the read-only xvdb.img changed"
ok "after the attacks: hf and hfgood ping each other and the host pings hf; the read-only image unchanged"

# 3. the monitor's log
log="$LOGDIR/domus-vmm-hf.log"
grep -E "\[hf/vif1\]: .*malformed tx packets refused so far" "$log" >/dev/null || fail "no tx errors counted in $log"
grep -E "\[hf/vif1\]: .*req_prod past the ring" "$log" >/dev/null || fail "no req_prod overflow logged for vif1"
grep -E "\[hf/vif1\]: .*rx packets failed \(bad grant or header\)" "$log" >/dev/null || fail "no rx failures logged for vif1"
sum=$(grep -E "\[hf/vif1\]: queue 0: tx [0-9]+ packets \(" "$log" | tail -n 1)
echo "$sum" | grep -q "(17 refused" || fail "vif1's summary at disconnect does not count the 17 hostile tx packets: '$sum'"
grep -E "\[hf/vbd51728\]: .*requests answered with an error so far" "$log" >/dev/null || fail "no blkif errors counted in $log"
grep -E "\[hf/vbd51728\]: .*ring closed until it reconnects" "$log" >/dev/null || fail "the closed blkif ring not logged"
grep -E "\[hf/vif0\]: .*(refused|failed|past the ring)" "$log" && fail "hf's good vif0 was counted hostile"
ok "monitor log: $sum"

# 4. destroy
"$XL" destroy hf && "$XL" destroy hfgood || fail "xl destroy failed"
leftovers "$id"; leftovers "$gid"
for i in $id $gid; do
	ip -o link | grep -q " vif$i\." && fail "vif$i.* remains after xl destroy"
	xenstore-exists /local/domain/0/backend/vif/$i 2>/dev/null && fail "backend/vif/$i remains"
	xenstore-exists /local/domain/0/backend/vbd/$i 2>/dev/null && fail "backend/vbd/$i remains"
done
ok "after xl destroy: nothing of hf or hfgood left"
