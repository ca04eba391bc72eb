#!/bin/bash
# The seed's closing scene (shared/seed/virtualization-and-xen.txt), run by
# scripts/demo where Xen guests can run (in the lab, or natively):
#   a Debian 12 system on /dev/xvda (a sparse copy of lab/image's disk),
#   booted by pygrub from its own grub.cfg, eth0 on xenbr0 with an address
#   from dnsmasq; its console up to the login prompt, root's session; then
#   xl list, xl block-list, xl network-list; xl shutdown.
# Usage: demo-seed.sh BUILD IMAGE [--make-bridge]
#   --make-bridge: make xenbr0 (10.99.0.1/24) and a dnsmasq on it for the
#   demo's time (the lab's own network; never the user's host unasked).
set -uo pipefail
BUILD=$1 IMG=$2 MAKEBR=${3:-}
XL="$BUILD/xl/xl"
BR=xenbr0 NET=10.99.0
T=$(mktemp -d /tmp/domus-demo.XXXXXX)
NAME=domU
say() { printf '\n== %s\n' "$*"; }
cleanup() {
	"$XL" destroy "$NAME" >/dev/null 2>&1
	[ -n "$MAKEBR" ] && { kill "$(cat "$T/dnsmasq.pid" 2>/dev/null)" 2>/dev/null; ip link del $BR 2>/dev/null; }
	rm -rf "$T"
}
trap cleanup EXIT

if [ -n "$MAKEBR" ]; then
	ip link show $BR >/dev/null 2>&1 && { echo "demo: $BR exists already; not touching it"; MAKEBR=""; }
fi
if [ -n "$MAKEBR" ]; then
	say "a bridge for the domains: ip link add $BR type bridge; $NET.1/24; dnsmasq serves DHCP on it"
	ip link add $BR type bridge && ip addr add $NET.1/24 dev $BR && ip link set $BR up || exit 1
	dnsmasq --conf-file=/dev/null --bind-interfaces --interface=$BR --except-interface=lo \
		--dhcp-range=$NET.100,$NET.150,1h --dhcp-leasefile="$T/leases" --pid-file="$T/dnsmasq.pid" \
		--port=0 --log-facility="$T/dnsmasq.log" || exit 1
fi
vif="vif = [ 'mac=00:16:3e:12:34:56,bridge=$BR' ]"
ip link show $BR >/dev/null 2>&1 || { echo "demo: no $BR on this host: the domain gets no network"; vif=""; }

say "truncate-sized disk: a sparse copy of the Debian 12 image ($(du -h --apparent-size "$IMG" | cut -f1) apparent, $(du -h "$IMG" | cut -f1) used)"
cp --sparse=always "$IMG" "$T/domU.img" || exit 1
# In the lab the nested guest is slow enough that udev's coldplug outlasts
# systemd's 90 s wait for /dev/hvc0 (no getty on the console: seen on a
# slower machine, docs/image.md); a Xen host needs no such line.
slow=""
[ -n "${DOMUS_DEMO_LAB:-}" ] &&
	slow='extra = "systemd.default_timeout_start_sec=900"  # the lab only: its nested guest boots slowly'
cat >"$T/domU.pv" <<EOF
# The seed's domU, booted by its own boot loader configuration
name = "$NAME"
bootloader = "pygrub"
memory = 512
vcpus = 1
disk = [ 'file:$T/domU.img,xvda,w' ]
$vif
$slow
EOF
say "cat domU.pv"
cat "$T/domU.pv"

say "xl create domU.pv; xl console domU (root logs in, looks around, and leaves the console)"
# The console as the user sees it; the typed lines come once the getty asks
# (its log, which a domain of the same name appended to before, read afresh).
log=/var/log/xen/console/guest-$NAME.log
rm -f "$log"
"$XL" create "$T/domU.pv" || exit 1
for _ in $(seq 1 900); do grep -q "login:" "$log" 2>/dev/null && break; sleep 1; done
grep -q "login:" "$log" 2>/dev/null || { echo "demo: no login prompt after 15 minutes"; tail -n 20 "$log"; exit 1; }
(sleep 1; echo root; sleep 4
	echo 'uname -a; cat /etc/debian_version'
	echo 'for i in $(seq 60); do ip -4 -o addr show eth0 | grep -q inet && break; sleep 1; done; ip -4 -br addr show eth0'
	echo 'lsblk /dev/xvda; df -h /'
	[ -n "$vif" ] && echo "ping -c 2 $NET.1"
	echo 'echo "DEMO-""DONE"'
	sleep 300) | "$XL" console "$NAME" 2>&1 | sed -u 's/\r//g; s/\x1b\[[0-9;?]*[A-Za-z]//g' &
# (bash's prompt wraps each command's output in bracketed-paste escapes)
for _ in $(seq 1 300); do
	sed 's/\r//g; s/\x1b\[[0-9;?]*[A-Za-z]//g' "$log" | grep -q "^DEMO-DONE" && break
	sleep 1
done
sleep 1
# Leave the console: its feeder (sleep), xl console and the filter are this
# script's children; `wait` for the last of a pipeline waits for all of it.
kill $(pgrep -P $$) 2>/dev/null
wait 2>/dev/null

say "xl list"
"$XL" list
say "xl block-list $NAME"
"$XL" block-list "$NAME"
say "xl network-list $NAME"
"$XL" network-list "$NAME"
say "xl shutdown -w $NAME"
"$XL" shutdown -w "$NAME" || exit 1
say "xl list"
"$XL" list
