#!/bin/bash
# xenstored restarted and upgraded under running guests (issue 12 item 1):
# two guests write and read xenstore every second and hold a watch; after a
# SIGTERM and a fresh start, a kill -9 and a fresh start, and an upgrade in
# place (SIGUSR2), each guest's loop goes on (no request lost: a lost one
# hangs Linux's xenbus for good) and each guest's watch fires.  xsr1 has a
# second disk: after the restarts its back end (whose own xenstore
# connection died with each daemon) still follows the guest, so
# block-detach completes.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
trap cleanup_all EXIT
XSD_LOG=$LOGDIR/xenstored.log

xsd_pid() { pgrep -x xenstored | head -n1; }
# Started as xl starts it on first use (xl/ts_xs.c start_xenstored), as a
# service manager would: detached, logging to the xenstored log.
xsd_start() {
	mkdir -p "$LOGDIR"
	setsid "$BUILD/xenstored/xenstored" --socket /run/xenstored/socket </dev/null >>"$XSD_LOG" 2>&1 &
	disown
	for _ in $(seq 100); do [ -S /run/xenstored/socket ] && [ -n "$(xsd_pid)" ] && return 0; sleep 0.1; done
	return 1
}
wait_dead() {
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	return 1
}

[ -n "$(xsd_pid)" ] || xsd_start || fail "xenstored would not start"
truncate -s 16M "$T/xsr1-b.img"
"$XL" create "$(mkcfg xsr1 xsloop "disk = [ 'file:$T/xsr1-b.img,xvdb,w' ]")" || fail "xl create xsr1 failed"
"$XL" create "$(mkcfg xsr2 xsloop)" || fail "xl create xsr2 failed"
for g in xsr1 xsr2; do
	wait_count "$g" 3 180 || fail "$g's xenstore loop did not start"
done
[ "$("$XL" block-list xsr1 | awk '$1 == 51728 { print $4 }')" = 4 ] ||
	fail "xsr1's xvdb is not Connected: $("$XL" block-list xsr1)"
ok "two guests write and read xenstore every second; xsr1's xvdb Connected"

round=0
for how in term kill9 usr2; do
	round=$((round + 1))
	old=$(xsd_pid)
	[ -n "$old" ] || fail "no xenstored before '$how'"
	declare -A before
	for g in xsr1 xsr2; do before[$g]=$(count_of "$g"); done
	case $how in
	term)
		kill -TERM "$old"; wait_dead "$old" || fail "xenstored did not end on SIGTERM"
		sleep 2 # the guests' requests meanwhile wait in their rings
		xsd_start || fail "xenstored would not start again" ;;
	kill9)
		kill -9 "$old"; wait_dead "$old" || fail "xenstored survived kill -9"
		sleep 2
		xsd_start || fail "xenstored would not start again" ;;
	usr2)
		kill -USR2 "$old"
		sleep 2
		[ "$(xsd_pid)" = "$old" ] || fail "the upgrade in place changed xenstored's pid ($old -> $(xsd_pid))" ;;
	esac
	new=$(xsd_pid)
	[ -n "$new" ] || fail "no xenstored after '$how'"
	for g in xsr1 xsr2; do
		want=$(( before[$g] + 5 ))
		wait_count "$g" "$want" 120 || fail "$g's xenstore loop stopped after '$how' of xenstored (count ${before[$g]})"
		id=$(domid_of "$g")
		xenstore-write "/local/domain/$id/data/poke" "$how-$round" || fail "host write data/poke"
		wait_log "$g" "GUEST-WATCH $how-$round" 60 || fail "$g's watch did not fire after '$how'"
	done
	ok "after '$how' of xenstored (pid $old -> $new) both guests' loops went on and their watches fired"
done
for g in xsr1 xsr2; do
	n=$(grep -c "handed to xenstored again" "$LOGDIR/domus-vmm-$g.log")
	[ "$n" -ge 3 ] || fail "$g's monitor logged $n hand-overs again, expected one per stop, kill and upgrade (3)"
	echo "$g's monitor handed its ring over again $n times"
done
timeout 120 "$XL" block-detach xsr1 xvdb || fail "block-detach of xsr1's xvdb did not complete after the restarts"
[ -z "$("$XL" block-list xsr1 | awk '$1 == 51728')" ] || fail "xvdb still listed: $("$XL" block-list xsr1)"
grep -q "vbd-.*watching xenstore again" "$LOGDIR/domus-vmm-xsr1.log" || fail "xsr1's vbd did not say it watches again"
ok "xsr1's disk back end followed the guest after the restarts: block-detach completed"
for g in xsr1 xsr2; do
	id=$(domid_of "$g")
	"$XL" destroy "$g" || fail "xl destroy $g"
	leftovers "$id"
done
ok "restart, kill -9 and upgrade of xenstored: no guest request lost, watches fire"
