#!/bin/bash
# The guest console log's bounds (docs/domains.md "The guest console log"):
# a small cap rotates the log of a guest that floods its console to .1,
# the pair stays within about twice the cap; SIGHUP after a move makes the
# monitor write to a fresh log at the path (logrotate's move-and-create).
# lab-pending: written without a lab (the host-only part is
# tests/vmm/test_conlog.c); the integrator runs it.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
# 20000 lines, 110 KiB: the console of a guest in the lab carries a few
# hundred lines a second when the machine is busy.
cap=$((32 * 1024))
cfg=$(mkcfg clog1 flood); rm -f "$(conlog clog1).1"
sed -i 's/domus.test=flood/domus.test=flood domus.flood=20000/' "$cfg"
DOMUS_CONSOLE_LOG_MAX=32K "$XL" create "$cfg" || fail "xl create clog1 failed"
wait_gone clog1 400 || fail "clog1 did not end"
log=$(conlog clog1)
[ -s "$log.1" ] || fail "no $log.1 after 110 KiB with a 32 KiB cap"
head -n 1 "$log" | grep -q '^\[domus: console log rotated at .* the earlier output is in guest-clog1.log.1\]$' ||
	fail "the rotated log does not start with the rotation line: $(head -n 1 "$log")"
grep -q "FLOOD-END" "$log" || fail "the end of the flood is not in the current log"
sz=$(( $(stat -c %s "$log") + $(stat -c %s "$log.1") ))
[ "$sz" -le $((2 * cap + 8192)) ] || fail "log and .1 hold $sz bytes, more than twice the cap"
[ ! -e "$log.2" ] || fail "a .2 appeared"
ok "a 32 KiB cap: the flood rotated the log to .1, $sz bytes on disk, the flood's end in the log"
rm -f "$log.1"

cfg=$(mkcfg clog2 none); sed -i 's/ domus.test=none//' "$cfg"
"$XL" create "$cfg" || fail "xl create clog2 failed"
wait_log clog2 "domus fixture:" 120 || fail "clog2 has no shell on its console"
id=$(domid_of clog2)
log=$(conlog clog2)
mv "$log" "$T/moved.log"
kill -HUP "$(cat "${DOMUS_RUN_DIR:-/run/domus}/$id/vmm.pid")" || fail "no monitor to signal"
sleep 1
[ -n "$(domid_of clog2)" ] || fail "SIGHUP ended the monitor"
[ -e "$log" ] || fail "SIGHUP did not reopen the log at $log"
(sleep 1; echo 'echo AFTER-HUP-$((6*7))'; sleep 4; echo poweroff) | timeout 60 "$XL" console clog2 >/dev/null 2>&1
wait_gone clog2 30 || fail "poweroff typed on the console did not end clog2"
grep -q "AFTER-HUP-42" "$log" || fail "output after SIGHUP is not in the new log"
grep -q "AFTER-HUP-42" "$T/moved.log" && fail "output after SIGHUP went to the moved log"
grep -q "domus fixture:" "$T/moved.log" || fail "the moved log lost what came before"
ok "SIGHUP after a move: the monitor lives on and writes to a new log at the path"
