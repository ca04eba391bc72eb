# A network interface from xen-netfront (tests/lab/domain-vif.sh): waits up
# to 30 s for eth0, prints its MAC, takes 10.99.0.2/24 and pings the host's
# bridge (10.99.0.1); with "domus.net=stay" on the command line it then
# prints GUEST-NET ready and waits (for xl reboot or shutdown).
ok=
for i in $(seq 1 60); do
	[ -e /sys/class/net/eth0 ] && ok=1 && break
	sleep 0.5
done
[ -n "$ok" ] || { echo "GUEST-NET no eth0: $(ls /sys/class/net)"; exit 1; }
echo "GUEST-NET mac=$(cat /sys/class/net/eth0/address) mtu=$(cat /sys/class/net/eth0/mtu)"
ip addr add 10.99.0.2/24 dev eth0 && ip link set eth0 up || { echo "GUEST-NET ip failed"; exit 1; }
rc=1
for i in $(seq 1 15); do
	ping -c 1 -W 2 10.99.0.1 >/dev/null 2>&1 && rc=0 && break
	sleep 1
done
echo "GUEST-NET ping=$rc"
dmesg | grep -iE 'netfront|vif' | sed 's/^/GUEST-DMESG /'
if grep -q "domus.net=stay" /proc/cmdline; then
	echo "GUEST-NET ready"
	while :; do sleep 1; done
fi
exit $rc
