#!/bin/bash
# Issue 12 item 6: many create/destroy cycles leave nothing behind and do not
# grow xenstored.  Each cycle is one of five endings, in turn:
#   boot   - boots to /init, xl destroy;
#   crash  - the guest kernel panics (on_crash = destroy);
#   kill9  - the monitor is killed with SIGKILL once the guest runs;
#   early  - xl destroy right after xl create returns (during the boot);
#   off    - the guest powers itself off (a fixture test ends).
# Counted before and after (and the counts printed for the note): domus-vmm
# and xl supervisor processes, run directories, xenstored's descriptors,
# sockets and memory (VmRSS), nodes under /local/domain and /libxl, open log
# handles of every domus process.  Fails on any process, run directory,
# node or descriptor left, or xenstored's heap grown by more than 2 MiB.
#   DOMUS_CYCLES (default 200)
BUILD=$1; . "$(dirname "$0")/domlib.sh"
N=${DOMUS_CYCLES:-200}
XSPID() { pgrep -x xenstored | head -n 1; }

# The counts, one "key=value" each.
counts() {
	local xs
	xs=$(XSPID)
	echo "vmm=$(pgrep -c -x domus-vmm)"
	echo "xl=$(pgrep -c -f "$XL (create|restore)")"
	echo "rundirs=$(find /run/domus -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)"
	echo "xs_fds=$(ls "/proc/$xs/fd" 2>/dev/null | wc -l)"
	echo "xs_socks=$(ls -l "/proc/$xs/fd" 2>/dev/null | grep -c socket:)"
	echo "xs_rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$xs/status")"
	# VmRSS counts the journal's pages too (RssShmem: a shared mapping
	# that grows to 16 MiB by design, then a snapshot empties it;
	# xenstored/persist_int.h JOURNAL_MAX); the heap is RssAnon.
	echo "xs_heap_kb=$(awk '/^RssAnon/ { print $2 }' "/proc/$xs/status")"
	echo "xs_journal_kb=$(awk '/^RssShmem/ { print $2 }' "/proc/$xs/status")"
	echo "nodes_local=$(xenstore-ls -f /local/domain 2>/dev/null | wc -l)"
	echo "nodes_libxl=$(xenstore-ls -f /libxl 2>/dev/null | wc -l)"
	echo "logs_open=$(for p in $(pgrep -x domus-vmm; pgrep -f "$XL (create|restore)"; XSPID); do
		ls -l "/proc/$p/fd" 2>/dev/null; done | grep -c "$LOGDIR")"
}
val() { sed -n "s/^$1=//p" <<<"$2"; }

# A first domain warms xenstored up (its first connection, quotas, the
# journal): the baseline is taken after it is gone.
"$XL" create -q "$(mkcfg warm idle)" || fail "xl create warm failed"
wait_log warm "DOMUS-INIT" 120 >/dev/null || fail "warm: no /init"
id=$(domid_of warm); "$XL" destroy warm; wait_gone warm 30; leftovers "$id"
before=$(counts)
echo "before: $(echo $before)"

t0=$(date +%s)
for i in $(seq "$N"); do
	name=cyc$((i % 3))
	case $((i % 5)) in
	0) kind=boot test=idle extra="" ;;
	1) kind=crash test=panic extra='on_crash = "destroy"' ;;
	2) kind=kill9 test=idle extra="" ;;
	3) kind=early test=idle extra="" ;;
	4) kind=off test=uname extra="" ;;
	esac
	"$XL" create -q "$(mkcfg "$name" $test ${extra:+"$extra"})" || fail "cycle $i ($kind): xl create failed"
	id=$(domid_of "$name")
	[ -n "$id" ] || fail "cycle $i ($kind): $name is not listed after xl create"
	case $kind in
	boot)
		wait_log "$name" "DOMUS-INIT" 120 >/dev/null || fail "cycle $i: no /init"
		"$XL" destroy "$name" || fail "cycle $i: xl destroy failed" ;;
	crash)
		wait_gone "$name" 120 || fail "cycle $i: the crashed domain was not destroyed" ;;
	kill9)
		wait_log "$name" "DOMUS-INIT" 120 >/dev/null || fail "cycle $i: no /init"
		kill -9 "$(cat "/run/domus/$id/vmm.pid")" || fail "cycle $i: no monitor to kill" ;;
	early)
		"$XL" destroy "$name" || fail "cycle $i: xl destroy during the boot failed" ;;
	off)
		wait_gone "$name" 120 || fail "cycle $i: the guest's poweroff did not end the domain" ;;
	esac
	wait_gone "$name" 60 || fail "cycle $i ($kind): $name still listed"
	leftovers "$id"
	if [ $((i % 25)) = 0 ]; then
		echo "cycle $i of $N, $(( $(date +%s) - t0 )) s: $(counts | tr '\n' ' ')"
	fi
done
after=$(counts)
echo "after $N cycles in $(( $(date +%s) - t0 )) s: $(echo $after)"
for k in vmm xl rundirs xs_fds xs_socks nodes_local nodes_libxl logs_open; do
	[ "$(val $k "$after")" = "$(val $k "$before")" ] ||
		fail "$k was $(val $k "$before") before the cycles and is $(val $k "$after") after"
done
grow=$(( $(val xs_heap_kb "$after") - $(val xs_heap_kb "$before") ))
[ "$grow" -le 2048 ] || fail "xenstored's heap (RssAnon) grew by $grow KiB over $N cycles"
ok "$N create/destroy cycles (boot, crash, kill -9, destroy during boot, poweroff): nothing left; xenstored heap $(val xs_heap_kb "$before") -> $(val xs_heap_kb "$after") KiB, journal pages $(val xs_journal_kb "$before") -> $(val xs_journal_kb "$after") KiB, RSS $(val xs_rss_kb "$before") -> $(val xs_rss_kb "$after") KiB, $(val xs_fds "$after") descriptors"
