#!/bin/bash
# logrotate.sh LOGROTATE-CONF: the installed logrotate file (dist/logrotate.in)
# rotates /var/log/xen without losing lines, run here by the real logrotate
# on a log directory and run directory of the test's own.
#  - a guest console log written without pause by a process named domus-vmm
#    that reopens its log on SIGHUP, as vmm/monitor.c does (its pid in
#    RUN/<domid>/vmm.pid): rotated three times while it writes, every line
#    is found exactly once, in order, across the rotated files;
#  - a process of another name in a pid file is not signalled;
#  - a supervisor's log (copytruncate): the writer's later lines start the
#    truncated file again, with no hole of zero bytes.
set -u
CONF=$1
command -v logrotate >/dev/null || { echo "logrotate is not installed"; exit 77; }
T=$(mktemp -d /tmp/domus-logrotate.XXXXXX)
pids=
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mkdir -p "$T/log/console" "$T/run/5" "$T/run/6" "$T/bin"
# The installed file with the test's directories, forced to rotate (and
# with a date format that differs between two rotations in one day).
sed -e "s|/var/log/xen|$T/log|g" -e "s|/run/domus|$T/run|g" \
	-e 's|^\(\t*\)dateext$|\1dateext\n\1dateformat -%s|' "$CONF" >"$T/conf"
grep -q "$T/log/console/guest-\*.log" "$T/conf" || fail "no console stanza: $(cat "$T/conf")"

# A writer that reopens on SIGHUP, named as the monitor is.  It writes until
# told to stop, so that each rotation finds new lines however slow the
# machine (a fixed count once ended before the third rotation on a busy
# host, which then found the log empty: notifempty).
cat >"$T/bin/domus-vmm" <<'EOF'
#!/bin/bash
# domus-vmm LOG PIDFILE STOPFILE COUNTFILE: lines 1..N into LOG until
# STOPFILE exists, opened again on SIGHUP; N goes to COUNTFILE
exec 3>>"$1"
trap 'exec 3>>"$1"' HUP
echo $$ >"$2"
for ((i = 1; ; i++)); do
	echo "line $i" >&3
	if ! ((i % 500)); then
		[ -e "$3" ] && break
		sleep 0.05
	fi
done
echo "$i" >"$4"
EOF
chmod +x "$T/bin/domus-vmm"
# console_round: the writer, three rotations, the rotated files counted;
# 1 (with what logrotate did) when they are fewer than three.
console_round() {
	rm -rf "$T/log/console" "$T/run/5" "$T/run/6" "$T/stop" "$T/count" "$T/trace" "$T/state"
	mkdir -p "$T/log/console" "$T/run/5" "$T/run/6"
	# SIGHUP at its default first: bash cannot trap a signal it was started
	# with ignored (a make check under nohup, as xl's supervisor ignores
	# it), and the writer then never reopened.  The monitor itself blocks
	# SIGHUP and reads it from a signalfd, which an inherited SIG_IGN does
	# not stop (vmm/monitor.c signals_init).
	env --default-signal=HUP "$T/bin/domus-vmm" "$T/log/console/guest-web.log" "$T/run/5/vmm.pid" "$T/stop" "$T/count" &
	wpid=$!
	pids="$pids $wpid"
	# Something else whose pid sits in a pid file: never signalled.
	sleep 300 &
	other=$!
	pids="$pids $other"
	echo "$other" >"$T/run/6/vmm.pid"
	until [ -s "$T/run/5/vmm.pid" ]; do sleep 0.05; done

	for r in 1 2 3; do
		sleep 1.1 # dateformat -%s: one rotation per second
		# The writer has reopened the log and written to it (notifempty would
		# skip an empty one: on a busy machine the writer may not have run
		# since the last rotation's SIGHUP; one that never reopens fails below).
		for _ in $(seq 200); do [ -s "$T/log/console/guest-web.log" ] && break; sleep 0.05; done
		# what the writer was and what logrotate did, for a failure below
		echo "before rotation $r: writer $wpid comm '$(cat "/proc/$wpid/comm" 2>/dev/null)', files: $(ls "$T/log/console" | tr '\n' ' ')" >>"$T/trace"
		logrotate -v -f -s "$T/state" "$T/conf" >>"$T/trace" 2>&1 || fail "logrotate: $(tail -n 20 "$T/trace")"
	done
	sleep 0.2
	touch "$T/stop"
	wait "$wpid" || fail "the writer failed"
	N=$(cat "$T/count")
	kill -0 "$other" 2>/dev/null || fail "a process not named domus-vmm was signalled"
	ls "$T/log/console" >"$T/files"
	[ "$(grep -c 'guest-web.log-' "$T/files")" -ge 3 ] ||
		{ echo "not rotated three times: $(cat "$T/files"); what logrotate did: $(grep -vE '^ *$' "$T/trace" | grep -E 'rotation|rotating|renaming|running|skip|empty|exist|error|HUP|log does not' | head -n 40)"; return 1; }
}
console_round >"$T/round.out" || fail "$(cat "$T/round.out")"
N=$(cat "$T/count")
for f in "$T"/log/console/guest-web.log-*; do zcat -f "$f"; done >"$T/all"
cat "$T/log/console/guest-web.log" >>"$T/all"
# rotated files in name order are in time order (-%s); the current one last
seq 1 $N | sed 's/^/line /' >"$T/want"
cmp -s "$T/all" "$T/want" || fail "lines lost, doubled or out of order: $(diff "$T/want" "$T/all" | head -5)"
echo "ok console log: rotated 3 times under a writer, all $N lines once and in order"

# copytruncate: an appending writer that cannot reopen.
sleep 1.1 # the console log rotates again too: not within the same second
(
	exec 3>>"$T/log/xl-web.log"
	for ((i = 1; i <= 2000; i++)); do
		echo "sup $i" >&3
		((i % 100)) || sleep 0.05
	done
) &
spid=$!
pids="$pids $spid"
sleep 0.3
# size 1M: the file is far smaller, so force it
logrotate -f -s "$T/state" "$T/conf" 2>"$T/err" || fail "logrotate (copytruncate): $(cat "$T/err")"
wait "$spid"
ls "$T"/log/xl-web.log-* >/dev/null 2>&1 || fail "xl-web.log not rotated: $(ls "$T/log")"
tr -d '\000' <"$T/log/xl-web.log" | cmp -s - "$T/log/xl-web.log" || fail "a hole of zero bytes after copytruncate"
head -1 "$T/log/xl-web.log" | grep -qx 'sup [0-9]*' || fail "the truncated file does not start with a line"
tail -1 "$T/log/xl-web.log" | grep -qx 'sup 2000' || fail "the last line is not in the current file"
echo "ok supervisor's log: copied and truncated, later lines from the start, no hole"
exit 0
