#!/bin/bash
# Hot-plug of network interfaces (docs/vif.md "Hot-plug"): xl
# network-attach, network-list and network-detach on a running guest.
#   1. a guest booted with one vif on xenbr0: network-list shows it
#      Connected (state 4) with its MAC.
#   2. network-attach with no MAC: vif<id>.1 joins xenbr0 (hotplug-status
#      connected), the guest's netfront probes eth1 with the MAC xl chose,
#      eth1 pings the bridge; network-list shows both, vif 1 Connected.
#   3. xl save and xl restore carry the attached vif (the kept
#      configuration): the restored domain's vif<id>.1 is on xenbr0,
#      Connected, and eth1 still pings the bridge.
#   4. a missing bridge: one line naming it, no vif<id>.2, no node.
#   5. network-detach by devid: eth1 leaves the guest, vif<id>.1 the host,
#      every node of vif 1 goes; network-list is back to one row; attached
#      again and detached by MAC.
#   6. after xl destroy nothing remains.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
BR=xenbr0 NET=10.98.0
ip link show $BR >/dev/null 2>&1 && fail "$BR exists already in the lab"
ip link add $BR type bridge || fail "cannot make $BR"
ip addr add $NET.1/24 dev $BR && ip link set $BR up || fail "cannot configure $BR"
nh_cleanup() { ip link del $BR 2>/dev/null; cleanup_all; }
trap nh_cleanup EXIT


# 1. one vif at boot
"$XL" create "$(mkcfg nh1 remote "vif = [ 'mac=00:16:3e:12:34:60,bridge=$BR' ]")" || fail "xl create nh1 failed"
id=$(domid_of nh1)
gready nh1 120 || fail "the guest does not take commands"
list=$("$XL" network-list nh1) || fail "network-list: $list"
echo "$list"
[ "$(echo "$list" | head -n 1)" = "Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path                       " ] ||
	fail "network-list's header: [$(echo "$list" | head -n 1)]"
[ "$(echo "$list" | wc -l)" = 2 ] || fail "network-list before: $list"
echo "$list" | awk 'NR == 2 { exit !($1 == 0 && $3 == "00:16:3e:12:34:60" && $5 == 4) }' ||
	fail "vif 0 is not listed Connected with its MAC: $list"
ok "network-list before: vif 0 Connected, 00:16:3e:12:34:60"

# 2. attach
"$XL" network-attach nh1 bridge=$BR || fail "network-attach failed"
be=/local/domain/0/backend/vif/$id/1
[ "$(xenstore-read $be/hotplug-status 2>/dev/null)" = connected ] || fail "vif$id.1: hotplug-status $(xenstore-read $be/hotplug-status 2>&1)"
[ "$(basename "$(readlink /sys/class/net/vif$id.1/master)")" = $BR ] || fail "vif$id.1 is not a port of $BR"
mac=$(xenstore-read $be/mac) || fail "no mac in $be"
case $mac in 00:16:3e:*) ;; *) fail "the chosen MAC $mac is not 00:16:3e:xx:xx:xx" ;; esac
gwait nh1 "test -e /sys/class/net/eth1" 60 || fail "the guest has no eth1: $(gexec nh1 'ls /sys/class/net; dmesg | tail -n 20')"
gmac=$(gexec nh1 "cat /sys/class/net/eth1/address")
[ "$gmac" = "$mac" ] || fail "eth1 has MAC $gmac, the backend $mac"
gexec nh1 "ip addr add $NET.20/24 dev eth1 && ip link set eth1 up" >/dev/null || fail "cannot configure eth1"
gexec nh1 "ping -c 3 -W 5 -I eth1 $NET.1" >/dev/null || fail "eth1 cannot ping the bridge $NET.1"
list=$("$XL" network-list nh1) || fail "network-list: $list"
echo "$list"
[ "$(echo "$list" | wc -l)" = 3 ] || fail "network-list after: $list"
echo "$list" | awk -v m="$mac" 'NR == 3 { exit !($1 == 1 && $3 == m && $5 == 4) }' ||
	fail "vif 1 is not listed Connected with $mac: $list"
ok "network-attach: vif$id.1 on $BR, eth1 in the guest with $mac pings $NET.1; network-list shows it Connected"

# 3. save and restore with the attached vif
"$XL" save nh1 "$T/nh.save" || fail "xl save after network-attach failed"
leftovers "$id"
"$XL" restore "$T/nh.save" || fail "xl restore of a domain with an attached vif failed"
id=$(domid_of nh1)
be=/local/domain/0/backend/vif/$id/1
for _ in $(seq 60); do [ "$(xenstore-read $be/state 2>/dev/null)" = 4 ] && break; sleep 0.5; done
[ "$(xenstore-read $be/state 2>/dev/null)" = 4 ] || fail "after restore, vif 1 is not Connected: $("$XL" network-list nh1)"
[ "$(xenstore-read $be/mac)" = "$mac" ] || fail "after restore, vif 1 has MAC $(xenstore-read $be/mac), not $mac"
[ "$(basename "$(readlink /sys/class/net/vif$id.1/master)")" = $BR ] || fail "after restore, vif$id.1 is not a port of $BR"
gexec nh1 "ping -c 3 -W 5 -I eth1 $NET.1" >/dev/null || fail "after restore, eth1 cannot ping the bridge"
ok "save/restore: the restored domain has vif 1 ($mac) Connected on $BR, eth1 pings $NET.1"

# 4. a missing bridge
err=$("$XL" network-attach nh1 bridge=nosuchbr0 2>&1) && fail "network-attach with a missing bridge succeeded"
echo "$err" | grep -q "nosuchbr0" || fail "the error does not name the bridge: $err"
[ -e /sys/class/net/vif$id.2 ] && fail "a refused attach left vif$id.2"
xenstore-exists /local/domain/0/backend/vif/$id/2 2>/dev/null && fail "a refused attach left nodes"
ok "a missing bridge: $(echo "$err" | head -n 1)"

# 5. detach
"$XL" network-detach nh1 1 || fail "network-detach failed"
gwait nh1 "test ! -e /sys/class/net/eth1" 30 || fail "eth1 is still in the guest"
[ -e /sys/class/net/vif$id.1 ] && fail "vif$id.1 remains on the host"
for p in $be /local/domain/$id/device/vif/1 /libxl/$id/device/vif/1; do
	xenstore-exists $p 2>/dev/null && fail "$p remains after network-detach"
done
list=$("$XL" network-list nh1)
[ "$(echo "$list" | wc -l)" = 2 ] || fail "network-list after the detach: $list"
gexec nh1 "ping -c 1 -W 5 $NET.1" >/dev/null 2>&1 && fail "the guest still reaches $NET.1 without eth1"
ok "network-detach: eth1 gone from the guest, vif$id.1 from the host, no node; network-list back to vif 0"
"$XL" network-attach nh1 mac=00:16:3e:12:34:61 bridge=$BR || fail "the second network-attach failed"
gwait nh1 "grep -qx 00:16:3e:12:34:61 /sys/class/net/eth1/address" 60 || fail "the second attach gave no eth1"
"$XL" network-detach nh1 00:16:3e:12:34:61 || fail "network-detach by MAC failed"
gwait nh1 "test ! -e /sys/class/net/eth1" 30 || fail "eth1 is still in the guest after the detach by MAC"
[ -e /sys/class/net/vif$id.1 ] && fail "vif$id.1 remains after the detach by MAC"
ok "attached again with 00:16:3e:12:34:61 and detached by MAC"

# 6. destroy
"$XL" destroy nh1 || fail "xl destroy failed"
leftovers "$id"
[ -e /sys/class/net/vif$id.0 ] && fail "vif$id.0 remains after xl destroy"
ip -o link | grep -q " vif" && fail "vif devices remain: $(ip -o link | grep ' vif')"
ok "after xl destroy: no vif device, no node"
