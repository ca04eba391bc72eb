# A guest that uses xenstore every second (tests/lab/domain-xsrestart.sh):
# writes data/tick, reads it back, and prints GUEST-XS N when both worked;
# a watch on data/poke prints what the host wrote.  A request that never
# returns stops the count, which is what the test looks for.
xenstore-write data/poke start
xenstore-watch data/poke | while read -r p; do
	echo "GUEST-WATCH $(xenstore-read data/poke)"
done &
n=0
while :; do
	xenstore-write data/tick "$n" && v=$(xenstore-read data/tick) && [ "$v" = "$n" ] &&
		echo "GUEST-XS $n"
	n=$((n + 1))
	sleep 1
done
