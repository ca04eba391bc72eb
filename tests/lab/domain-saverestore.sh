#!/bin/bash
# xl save / xl restore (docs/save-restore.md): a 2-vCPU guest that counts is
# saved, gone, restored, and counts on from where it stopped, its uptime
# never going back, its xenstore watch still firing; two checkpoints (xl
# save -c) both restore; a save file cut short is refused and leaves nothing.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
NAME=cnt

# The last count in the console log, and its uptime.
last_count() { grep -o "GUEST-COUNT [0-9]* [0-9.]*" "$(conlog $NAME)" | tail -n 1 | awk '{ print $2 }'; }
last_uptime() { grep -o "GUEST-COUNT [0-9]* [0-9.]*" "$(conlog $NAME)" | tail -n 1 | awk '{ print $3 }'; }
# The log after its first $1 bytes.  Bytes, not lines: a destroyed guest
# can leave its last line cut short (no newline), and the restored guest's
# first line then goes on from it; counted in lines, that cut line (a count
# of the destroyed domain) came first (CI saw "counted 17, expected 12..13").
log_after() { tail -c +"$(( $1 + 1 ))" "$(conlog $NAME)"; }
# first_count_after BYTES: the first count printed after that much of the log
first_count_after() { log_after "$1" | grep -ao "GUEST-COUNT [0-9]* [0-9.]*" | head -n 1; }
logbytes() { stat -c %s "$(conlog $NAME)"; }
# wait_after BYTES REGEX SECONDS: the log after its first BYTES matches REGEX
# (the whole log holds the counts of the domain destroyed before)
wait_after() {
	local end=$(( $(date +%s) + $3 ))
	while [ "$(date +%s)" -le "$end" ]; do
		log_after "$1" | grep -aqE "$2" && return 0
		sleep 0.5
	done
	return 1
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# restore_and_check FILE LOW HIGH UPTIME: xl restore FILE, the first count
# after it is in [LOW, HIGH], its uptime not below UPTIME, and it counts on.
restore_and_check() {
	local file=$1 low=$2 high=$3 up=$4 at first c u id
	at=$(logbytes)
	"$XL" restore "$file" || fail "xl restore $file failed"
	id=$(domid_of $NAME)
	[ -n "$id" ] || fail "no domain $NAME after xl restore"
	[ "$("$XL" list | awk -v n=$NAME '$1 == n { print $4 }')" = 2 ] || fail "the restored domain has not 2 vCPUs"
	local end=$(( $(date +%s) + 60 ))
	while [ -z "$(first_count_after "$at")" ] && [ "$(date +%s)" -le "$end" ]; do sleep 0.5; done
	first=$(first_count_after "$at")
	[ -n "$first" ] || { tail -n 20 "$(conlog $NAME)"; fail "the restored guest does not count"; }
	c=$(echo "$first" | awk '{ print $2 }'); u=$(echo "$first" | awk '{ print $3 }')
	[ "$c" -ge "$low" ] && [ "$c" -le "$high" ] || fail "restored from $file, the guest counted $c, expected $low..$high"
	ge "$u" "$up" || fail "the guest's uptime went back across the restore: $u after $up"
	wait_after "$at" "GUEST-COUNT $(( c + 3 )) " 60 || fail "the restored guest stopped counting after $c"
	log_after "$at" | grep -a "GUEST-DMESG" && fail "the guest's kernel complained after the restore"
	xenstore-write "/local/domain/$id/data/poke" "after-$c" || fail "cannot write the guest's data/poke"
	wait_log $NAME "GUEST-WATCH .* after-$c" 30 || fail "the guest's xenstore watch did not fire after the restore"
	ok "restored from $file as domain $id: counted on at $c (expected $low..$high), uptime $u >= $up, watch fired"
}

"$XL" create "$(mkcfg $NAME count "vcpus = 2")" || fail "xl create failed"
wait_log $NAME "GUEST-COUNT 5 " 200 || fail "the guest does not count"
grep -q "GUEST-COUNT .* cpus=2" "$(conlog $NAME)" || fail "the guest does not see 2 CPUs"
id=$(domid_of $NAME)
xenstore-write "/local/domain/$id/data/poke" before
wait_log $NAME "GUEST-WATCH .* before" 30 || fail "the guest's watch does not fire before the save"

# 1. save, gone, restore: counts on.
"$XL" save $NAME "$T/a.save" || fail "xl save failed"
[ -z "$(domid_of $NAME)" ] || fail "domain $NAME still runs after xl save"
leftovers "$id"
c=$(last_count); u=$(last_uptime)
size=$(stat -c %s "$T/a.save")
ok "saved domain $id at count $c: $size bytes"
# 512 MiB configured; the guest touched far less (kernel, initramfs, page cache).
[ "$size" -lt $(( 400 << 20 )) ] || fail "the save file is $size bytes: untouched memory was written"
sleep 3
# c + 2: a line the guest had half written into its console buffer
restore_and_check "$T/a.save" $(( c + 1 )) $(( c + 2 )) "$u"

# 2. two checkpoints; the domain runs on after each; both restore.
for k in 1 2; do
	b[$k]=$(last_count)
	"$XL" save -c $NAME "$T/c$k.save" || fail "xl save -c ($k) failed"
	a[$k]=$(last_count)
	[ -n "$(domid_of $NAME)" ] || fail "the domain is gone after xl save -c"
	wait_log $NAME "GUEST-COUNT $(( a[k] + 2 )) " 30 || fail "the domain does not run on after xl save -c"
done
ok "two checkpoints: counts ${b[1]}..${a[1]} and ${b[2]}..${a[2]}"
for k in 1 2; do
	id=$(domid_of $NAME); u=$(last_uptime)
	"$XL" destroy $NAME || fail "xl destroy failed"
	leftovers "$id"
	# The uptime of a checkpoint is below the running domain's: only its
	# own count bounds it.
	restore_and_check "$T/c$k.save" $(( b[k] + 1 )) $(( a[k] + 2 )) 0
done

# 3. a file cut short: refused, nothing started, nothing left.
id=$(domid_of $NAME)
"$XL" destroy $NAME; leftovers "$id"
size=$(stat -c %s "$T/c2.save")
head -c $(( size / 2 )) "$T/c2.save" >"$T/cut.save"
before_dirs=$(ls /run/domus); before_xs=$(xenstore-list /local/domain | sort | tr '\n' ' ')
out=$("$XL" restore "$T/cut.save" 2>&1) && fail "xl restore took a file cut short"
echo "$out" | grep -q "truncated" || fail "the refusal does not say the file is truncated: $out"
[ -z "$(domid_of $NAME)" ] || fail "a domain $NAME exists after the refused restore"
pgrep -f "domus-vmm .*--name $NAME " >/dev/null && fail "a monitor runs after the refused restore"
[ "$(ls /run/domus)" = "$before_dirs" ] || fail "the refused restore left a run directory"
[ "$(xenstore-list /local/domain | sort | tr '\n' ' ')" = "$before_xs" ] || fail "the refused restore left xenstore nodes"
ok "a file cut short is refused ($out) and leaves nothing"
