#!/bin/bash
# Networks (docs/netback.md; issue 14): vif = [...] on the bridge xenbr0.
#   1. two domains on xenbr0, one with mac=, one without: vif<domid>.0 is a
#      port of xenbr0 on the host, the hotplug script said connected, the
#      guest has eth0 with the configured MAC (or 00:16:3e:xx:xx:xx).
#   2. both get an address by DHCP from dnsmasq on xenbr0, ping the bridge
#      and each other; the host pings both.
#   3. DOMUS_NET_BYTES (default 32 MiB; make check-slow: 1 GiB) over TCP
#      from one domain to the other arrive intact.  The lab's nested,
#      emulated guests move about 0.8 MB/s to each other (a pipe in a
#      guest: 1.8 MB/s), so 1 GiB takes most of an hour there.
#   4. a bridge that does not exist: one line naming it, nothing left.
#   5. after xl destroy no vif device remains.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
BR=xenbr0 NET=10.99.0
bridge_dhcp $BR $NET

# 1. two domains
"$XL" create "$(mkcfg net1 remote "vif = [ 'mac=00:16:3e:12:34:56,bridge=$BR' ]")" || fail "xl create net1 failed"
"$XL" create "$(mkcfg net2 remote "vif = [ 'bridge=$BR' ]")" || fail "xl create net2 failed"
id1=$(domid_of net1) id2=$(domid_of net2)
gready net1 120 && gready net2 120 || fail "the guests do not take commands"
for id in $id1 $id2; do
	be=/local/domain/0/backend/vif/$id/0
	[ "$(xenstore-read $be/hotplug-status 2>/dev/null)" = connected ] || fail "vif$id.0: hotplug-status $(xenstore-read $be/hotplug-status 2>&1)"
	[ "$(basename "$(readlink /sys/class/net/vif$id.0/master)")" = $BR ] || fail "vif$id.0 is not a port of $BR"
done
mac1=$(gexec net1 "cat /sys/class/net/eth0/address") || fail "net1 has no eth0"
mac2=$(gexec net2 "cat /sys/class/net/eth0/address") || fail "net2 has no eth0"
[ "$mac1" = 00:16:3e:12:34:56 ] || fail "net1's eth0 has MAC $mac1, configured 00:16:3e:12:34:56"
case $mac2 in 00:16:3e:*) ;; *) fail "net2's eth0 has MAC $mac2, not 00:16:3e:xx:xx:xx" ;; esac
[ "$(xenstore-read /local/domain/0/backend/vif/$id2/0/mac)" = "$mac2" ] || fail "net2's generated MAC is not in its backend's mac"
ok "vif$id1.0 and vif$id2.0 on $BR, hotplug connected; eth0 MACs $mac1 and $mac2"

# 2. DHCP and ping (the host's ping: busybox's, Debian's iputils-ping is not a dependency)
ip_of() { gexec "$1" "timeout 60 udhcpc -i eth0 -n -q -t 10 -T 2 -s /tests/udhcpc.sh >/tmp/udhcpc.log 2>&1; cat /tmp/udhcpc.log; ip -4 -o addr show eth0" 120 |
	tee -a "$T/$1.dhcp" |
	grep -o "inet [0-9.]*" | cut -d' ' -f2; }
ip1=$(ip_of net1) ip2=$(ip_of net2)
[ -n "$ip1" ] && [ -n "$ip2" ] || { cat "$T/dnsmasq.log" "$T/net1.dhcp" "$T/net2.dhcp"; fail "DHCP: net1 got '$ip1', net2 got '$ip2'"; }
grep -q "$mac1 $ip1" "$T/leases" || fail "dnsmasq's leases have no $mac1 $ip1"
gexec net1 "ping -c 3 -W 5 $NET.1" >/dev/null || fail "net1 cannot ping the bridge $NET.1"
gexec net1 "ping -c 3 -W 5 $ip2" >/dev/null || fail "net1 cannot ping net2 ($ip2)"
gexec net2 "ping -c 3 -W 5 $ip1" >/dev/null || fail "net2 cannot ping net1 ($ip1)"
busybox ping -c 3 -W 5 "$ip1" >/dev/null && busybox ping -c 3 -W 5 "$ip2" >/dev/null || fail "the host cannot ping the guests"
ok "DHCP from dnsmasq on $BR: net1 $ip1, net2 $ip2; pings between them and the host"

# 3. many bytes over TCP
GIB=${DOMUS_NET_BYTES:-$((32 << 20))}
want=$(yes domus-net-0123456789 | head -c $GIB | sha256sum | cut -d' ' -f1)
# the receiver counts what came (wc -c) as well as its checksum, so that a
# cut connection and corrupted data tell apart.  Busybox's nc half-closes
# the connection when its stdin ends, and the sender's nc exits when it
# reads that end (nc.c: "if (nread < 1) exit"): so the receiver's stdin
# stays open (sleep) for the whole transfer.
gexec net2 "mkfifo /tmp/bytes; (wc -c </tmp/bytes >/tmp/count & sleep 3000 | nc -l -p 5001 | head -c $GIB | tee /tmp/bytes | sha256sum >/tmp/sum; echo done >>/tmp/sum) >/dev/null 2>&1 &" ||
	fail "net2 cannot listen"
sleep 1
t0=$(date +%s)
gexec net1 "yes domus-net-0123456789 | head -c $GIB | nc -w 5 $ip2 5001" 5000 >/dev/null
got=$(gexec net2 "for i in \$(seq 60); do grep -q done /tmp/sum && break; sleep 1; done; head -n 1 /tmp/sum" 120 | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "$GIB bytes net1 -> net2: sha256 $got, expected $want; the receiver counted $(gexec net2 "cat /tmp/count") bytes of $GIB"
ok "$GIB bytes over TCP net1 -> net2 intact in $(( $(date +%s) - t0 )) s"

# 4. a missing bridge
err=$("$XL" create "$(mkcfg netbad remote "vif = [ 'bridge=nosuchbr0' ]")" 2>&1) && fail "xl create with a missing bridge succeeded"
echo "$err" | grep -q "nosuchbr0" || fail "the error does not name the bridge: $err"
[ -z "$(domid_of netbad)" ] || fail "a domain with a missing bridge is listed"
ok "a missing bridge: $(echo "$err" | tail -n 1)"

# 5. destroy
"$XL" destroy net1 && "$XL" destroy net2 || fail "xl destroy failed"
leftovers "$id1"; leftovers "$id2"
for id in $id1 $id2; do
	[ -e /sys/class/net/vif$id.0 ] && fail "vif$id.0 remains after xl destroy"
	xenstore-exists /local/domain/0/backend/vif/$id 2>/dev/null && fail "backend/vif/$id remains after xl destroy"
done
ip -o link | grep -q " vif" && fail "vif devices remain: $(ip -o link | grep ' vif')"
ok "after xl destroy: no vif device, no backend node"
