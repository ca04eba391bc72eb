#!/bin/bash
# Network interfaces (docs/vif.md): vif = ['mac=...,bridge=xenbr0'] gives the
# guest eth0 and Domain-0 vif<domid>.0 on xenbr0.
#   1. the seed's vif: the guest's eth0 has the MAC, pings the bridge's
#      address; on the host vif<id>.0 is on xenbr0 (put there by Debian's
#      /etc/xen/scripts/vif-bridge), hotplug-status connected; after
#      poweroff the interface, the nodes and the backend are gone.
#   2. no mac=: 00:16:3e:xx:xx:xx, the same after xl reboot (a new id).
#   3. a bridge that does not exist: one line naming it, nothing started.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
guest_val() { tr -d '\r' <"$(conlog "$1")" | grep "GUEST-NET " | grep -o " $2=[^ ]*" | tail -n 1 | cut -d= -f2; }
ip link show xenbr0 >/dev/null 2>&1 && fail "xenbr0 exists already: this test makes its own"
ip link add xenbr0 type bridge && ip addr add 10.99.0.1/24 dev xenbr0 && ip link set xenbr0 up ||
	fail "cannot make xenbr0"
trap 'cleanup_all; ip link del xenbr0 2>/dev/null' EXIT

# 1. the seed's vif
"$XL" create "$(mkcfg net1 net "vif = [ 'mac=00:16:3e:12:34:56,bridge=xenbr0' ]" 'extra = "console=hvc0 quiet domus.test=net domus.net=stay"')" ||
	fail "xl create with a vif failed"
id=$(domid_of net1)
wait_log net1 "GUEST-NET ready|DOMUS-TEST-RESULT" 300 || fail "net1: no result"
[ "$(guest_val net1 mac)" = 00:16:3e:12:34:56 ] || fail "the guest's eth0 has MAC $(guest_val net1 mac)"
[ "$(guest_val net1 ping)" = 0 ] || { grep GUEST- "$(conlog net1)"; fail "the guest cannot ping the bridge"; }
[ -e /sys/class/net/xenbr0/brif/vif$id.0 ] || fail "vif$id.0 is not on xenbr0: $(ls /sys/class/net/xenbr0/brif)"
[ "$(xenstore-read /local/domain/0/backend/vif/$id/0/hotplug-status)" = connected ] || fail "hotplug-status not connected"
[ "$(xenstore-read /local/domain/0/backend/vif/$id/0/state)" = 4 ] || fail "the vif's back end is not Connected"
ok "eth0 00:16:3e:12:34:56 pings 10.99.0.1; vif$id.0 on xenbr0, connected"
"$XL" shutdown -w net1 || fail "xl shutdown -w net1"
leftovers "$id"
ip link show "vif$id.0" >/dev/null 2>&1 && fail "vif$id.0 left on the host"
xenstore-exists "/local/domain/0/backend/vif/$id" 2>/dev/null && fail "the vif's backend left"
ok "after poweroff: no interface, no nodes"

# 2. a random MAC, kept across a reboot
"$XL" create "$(mkcfg net2 net "vif = [ 'bridge=xenbr0' ]" 'on_reboot = "restart"' 'extra = "console=hvc0 quiet domus.test=net domus.net=stay"')" ||
	fail "xl create without mac= failed"
id=$(domid_of net2)
wait_log net2 "GUEST-NET ready" 300 || fail "net2: no eth0"
mac=$(guest_val net2 mac)
[[ $mac =~ ^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$ ]] || fail "random MAC $mac"
"$XL" reboot net2 || fail "xl reboot net2"
end=$(( $(date +%s) + 300 ))
until [ "$(grep -c "GUEST-NET ready" "$(conlog net2)")" -ge 2 ]; do
	[ "$(date +%s)" -le "$end" ] || fail "net2 did not come back"
	sleep 0.5
done
[ "$(guest_val net2 mac)" = "$mac" ] || fail "the MAC changed across the reboot: $mac, then $(guest_val net2 mac)"
nid=$(domid_of net2)
[ -e /sys/class/net/xenbr0/brif/vif$nid.0 ] || fail "vif$nid.0 is not on xenbr0 after the reboot"
leftovers "$id"
"$XL" destroy net2
leftovers "$nid"
ok "random MAC $mac kept across xl reboot (domain $id, then $nid)"

# 3. a missing bridge
# (after xl's "Parsing config from FILE", as Xen's xl prints it)
out=$("$XL" create "$(mkcfg net3 net "vif = [ 'bridge=nosuchbr0' ]")" 2>&1) && fail "xl create with a missing bridge succeeded"
out=$(echo "$out" | grep -v "^Parsing config from ")
[ "$(echo "$out" | wc -l)" = 1 ] || fail "not one line: $out"
echo "$out" | grep -q "bridge nosuchbr0 does not exist.*bridges on this host: xenbr0" || fail "message: $out"
[ -z "$(domid_of net3)" ] || fail "net3 started"
ok "missing bridge: $out"
