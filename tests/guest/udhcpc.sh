# busybox udhcpc's script (not a test of its own): udhcpc -s /tests/udhcpc.sh
# runs it with the lease in its environment (interface, ip, subnet, router).
case "$1" in
deconfig) ifconfig "$interface" 0.0.0.0 ;;
bound | renew)
	ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
	[ -n "${router:-}" ] && route add default gw "${router%% *}" dev "$interface"
	echo "GUEST-DHCP $interface $ip"
	;;
esac
exit 0
