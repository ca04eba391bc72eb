# A guest that counts (xl save / xl restore, tests/lab/domain-saverestore.sh):
# one line a second with the count, /proc/uptime and the kernel's dmesg
# lines about clocks and stalls, and a xenstore watch held across the save
# (the host writes data/poke; the watch prints what it reads).
xenstore-write data/poke start
xenstore-watch data/poke | while read -r p; do
	echo "GUEST-WATCH $p $(xenstore-read data/poke)"
done &
n=0
while :; do
	echo "GUEST-COUNT $n $(cut -d' ' -f1 /proc/uptime) cpus=$(grep -c ^processor /proc/cpuinfo)"
	dmesg -c 2>/dev/null | grep -iE 'clocksource|soft lockup|rcu.*stall|tsc.*unstable|hung_task' |
		sed 's/^/GUEST-DMESG /'
	n=$((n + 1))
	sleep 1
done
