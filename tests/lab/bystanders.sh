# shellcheck shell=bash
# Well-behaved neighbours of a hostile guest (sourced after domlib.sh by
# domain-xsattack.sh and domain-hcrace.sh): two guests writing and reading
# xenstore every second (tests/guest/xsloop.sh) and a Domain-0 client
# doing the same every 0.2 s.  The hostile test calls bystanders_watch at
# least once a second while its guest runs; a count that stops for more
# than GAP_MAX s fails the test, naming what it was doing.
#   bystanders_start TAG     the two guests counting, domain 0's loop on
#                            /tool/TAG/tick
#   bystanders_watch WHAT    check the counts now (WHAT: words for a failure)
#   bystanders_end           both guests count on, domain 0's rounds all
#                            succeeded within DOM0_MAX_MS, guests destroyed
#                            leaving nothing
# Globals it reads: GAP_MAX, DOM0_MAX_MS; it keeps BY_LAST, BY_SINCE,
# BY_MAXGAP (per guest) and BY_D0 (the loop's pid).
BY_GUESTS="xsg1 xsg2"
declare -A BY_LAST BY_SINCE BY_MAXGAP

by_ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

by_dom0_loop() {
	local tag=$1 n=0 t0 v
	while [ ! -e "$T/stop" ]; do
		n=$((n + 1))
		t0=$(by_ms_now)
		if xenstore-write "/tool/$tag/tick" "$n" && v=$(xenstore-read "/tool/$tag/tick") && [ "$v" = "$n" ]; then
			echo "ok $n $(( $(by_ms_now) - t0 ))"
		else
			echo "fail $n $(( $(by_ms_now) - t0 ))"
		fi
		sleep 0.2
	done >"$T/dom0.log" 2>&1
}

bystanders_start() {
	local g
	for g in $BY_GUESTS; do
		"$XL" create "$(mkcfg "$g" xsloop)" || fail "xl create $g failed"
	done
	for g in $BY_GUESTS; do
		wait_count "$g" 3 180 || fail "$g's xenstore loop did not start"
	done
	ok "two guests write and read xenstore every second"
	by_dom0_loop "$1" &
	BY_D0=$!
	trap 'kill "$BY_D0" 2>/dev/null; cleanup_all' EXIT
	for g in $BY_GUESTS; do BY_LAST[$g]=$(count_of "$g"); BY_SINCE[$g]=$(date +%s); BY_MAXGAP[$g]=0; done
}

bystanders_watch() {
	local now g c gap
	now=$(date +%s)
	for g in $BY_GUESTS; do
		c=$(count_of "$g")
		if [ "$c" -gt "${BY_LAST[$g]}" ]; then
			BY_LAST[$g]=$c
			BY_SINCE[$g]=$now
		fi
		gap=$((now - BY_SINCE[$g]))
		[ "$gap" -gt "${BY_MAXGAP[$g]}" ] && BY_MAXGAP[$g]=$gap
		[ "$gap" -gt "$GAP_MAX" ] &&
			fail "$g's xenstore loop stalled for $gap s (count ${BY_LAST[$g]}, bound $GAP_MAX s) $1"
	done
	return 0
}

bystanders_end() {
	local g want id n_ok n_fail max
	for g in $BY_GUESTS; do
		want=$(( $(count_of "$g") + 3 ))
		wait_count "$g" "$want" 60 || fail "$g's xenstore loop stopped after the hostile guest"
	done
	ok "both guests counted throughout; longest pause of xsg1's count ${BY_MAXGAP[xsg1]} s, xsg2's ${BY_MAXGAP[xsg2]} s (bound $GAP_MAX s)"
	touch "$T/stop"
	wait "$BY_D0"
	n_ok=$(grep -c '^ok ' "$T/dom0.log")
	n_fail=$(grep -c '^fail ' "$T/dom0.log")
	max=$(awk '{ if ($3 > m) m = $3 } END { print m + 0 }' "$T/dom0.log")
	[ "$n_fail" -eq 0 ] || fail "domain 0: $n_fail of $((n_ok + n_fail)) write+read rounds failed: $(grep '^fail' "$T/dom0.log" | head -n 3)"
	[ "$n_ok" -ge 10 ] || fail "domain 0 made only $n_ok write+read rounds"
	[ "$max" -le "$DOM0_MAX_MS" ] || fail "domain 0's slowest write+read took $max ms (bound $DOM0_MAX_MS ms)"
	ok "domain 0: $n_ok write+read rounds, none failed, slowest $max ms (bound $DOM0_MAX_MS ms)"
	for g in $BY_GUESTS; do
		id=$(domid_of "$g")
		"$XL" destroy "$g" || fail "xl destroy $g"
		leftovers "$id"
	done
}
