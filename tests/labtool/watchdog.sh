#!/bin/bash
# The watchdog of "lab run", against a fake lab (no QEMU): a lab whose
# heartbeat stops is noticed within seconds, revived by a byte on its serial
# console when that wakes it, and otherwise failed at once with "the lab froze"
# -- never left to a test's own timeout (issue 10).
set -uo pipefail
LAB=$(cd "$(dirname "$0")/../../lab" && pwd)/lab
T=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
export DOMUS_LAB_STATE=$T DOMUS_LAB_FORCE=1 DOMUS_LAB_STALL=3 DOMUS_LAB_TIMEOUT=60
mkdir -p "$T/jobs"
sleep 600 & pids+=($!)
echo "${pids[0]}" >"$T/qemu.pid"      # stands for QEMU: alive, never answers
echo "1 10.0" >"$T/jobs/heartbeat"

# A fake agent: runs each job by hand, but only while "awake".
agent() {
	while :; do
		for f in "$T"/jobs/*.sh; do
			[ -e "$f" ] || continue
			j=${f%.sh}
			[ -e "$T/awake" ] || continue
			bash "$f" >"$j.out" 2>"$j.err"; echo $? >"$j.rc"; rm -f "$f"
		done
		[ -e "$T/awake" ] && touch "$T/jobs/heartbeat"
		sleep 0.2
	done
}
agent & pids+=($!)

# 1. A frozen lab that a serial byte wakes: the console socket wakes the agent.
python3 - "$T/console.sock" "$T/awake" <<'PY' & pids+=($!)
import os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
while True:
    c, _ = s.accept()
    if c.recv(1):
        open(sys.argv[2], "w").close()
    c.close()
PY
sleep 0.5
touch -d '-1 min' "$T/jobs/heartbeat"
t0=$(date +%s)
out=$("$LAB" run -- echo ran-after-revival 2>&1) || fail "a revivable lab failed the run: $out"
echo "$out" | grep -q "ran-after-revival" || fail "the job did not run after the revival: $out"
echo "$out" | grep -q "a byte on its serial console revived it" || fail "the revival was not reported: $out"
grep -q '^revived' "$T/freezes" || fail "the revival was not counted in freezes"
ls "$T"/freeze-*.txt >/dev/null 2>&1 || fail "the frozen lab's state was not recorded"
echo "ok: a frozen lab was revived by a serial byte and said so ($(( $(date +%s) - t0 )) s)"

# 2. A lab that stays frozen: the run fails at once, not at its timeout.
rm -f "$T/awake"; kill "${pids[2]}"; wait "${pids[2]}" 2>/dev/null; rm -f "$T/console.sock"
touch -d '-1 min' "$T/jobs/heartbeat"
t0=$(date +%s)
out=$("$LAB" run -- echo never 2>&1); rc=$?
dt=$(( $(date +%s) - t0 ))
[ "$rc" = 125 ] || fail "a frozen lab's run exited $rc, not 125: $out"
echo "$out" | grep -q "the lab froze" || fail "no 'the lab froze' from a frozen lab: $out"
[ "$dt" -lt 30 ] || fail "the frozen lab was noticed only after $dt s"
grep -q '^fatal' "$T/freezes" || fail "the fatal freeze was not counted"
echo "ok: a lab that stays frozen fails the run in $dt s with 'the lab froze'"
