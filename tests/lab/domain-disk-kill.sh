#!/bin/bash
# Nothing fsync'd is lost (issue 13, item 6): the guest writes numbered
# 4 KiB blocks straight to its disk, each followed by fsync, and prints
# "GUEST-DUR i" after the fsync returned (tests/guest/diskdur.sh).  The host
# waits for a line, kills the monitor with SIGKILL, and reads every block the
# console announced back from the image.  Rounds: DOMUS_DUR_ROUNDS (default
# 5; make check-slow runs 50); each kills at another block.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
ROUNDS=${DOMUS_DUR_ROUNDS:-5}
blocks=0 lost=0
for r in $(seq 1 "$ROUNDS"); do
	IMG=$T/dur.img
	rm -f "$IMG"; truncate -s 64M "$IMG"
	at=$(( (r * 7) % 40 + 3 ))
	name=dur$r
	"$XL" create "$(mkcfg $name diskdur "disk = [ 'file:$IMG,xvda,w' ]")" || fail "round $r: xl create failed"
	id=$(domid_of $name)
	wait_log $name "GUEST-DUR $at\\b" 300 || fail "round $r: the guest did not reach block $at"
	pid=$(pgrep -f "domus-vmm .*--domid $id ") || fail "round $r: no monitor for domain $id"
	kill -9 $pid
	wait_gone $name 30 || fail "round $r: the domain is still listed after its monitor was killed"
	leftovers "$id"
	last=$(tr -d '\r' <"$(conlog $name)" | grep -o "GUEST-DUR [0-9]*" | tail -n 1 | cut -d' ' -f2)
	for i in $(seq 0 "$last"); do
		[ "$(dd if="$IMG" bs=4096 skip=$i count=1 2>/dev/null | sha256sum)" = \
		  "$(yes "domus-dur $i" | head -c 4096 | sha256sum)" ] || { lost=$((lost + 1)); echo "round $r: block $i lost"; }
	done
	blocks=$((blocks + last + 1))
done
[ $lost -eq 0 ] || fail "$lost of $blocks fsync'd blocks lost over $ROUNDS SIGKILLs of the monitor"
ok "$ROUNDS SIGKILLs of the monitor right after a guest fsync: $blocks fsync'd blocks, 0 lost"
