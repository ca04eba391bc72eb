#!/bin/bash
# A 4-vCPU guest of our own races hypercalls that touch the monitor's shared
# state against each other and against the domain's end (issue 12 item 3;
# tests/lab/hcrace): event channels, grant frames, shared_info and
# vcpu_info placement, HVM params, other vCPUs' timers and areas, the
# balloon's calls, sched_op and console_io, all four vCPUs at once.
#   poweroff: vCPU 0 ends the domain (SCHEDOP_shutdown) after RACE_SECS
#             while vCPUs 1-3 race on; ROUNDS times.  It must end within
#             END_MAX s, its monitor "powered off" (the supervisor's log).
#   forever:  it races until xl destroy, which must return within
#             DESTROY_MAX s, the monitor "destroyed", not killed; ROUNDS
#             times, the first with an xl pause (no progress while paused)
#             and unpause (progress again) mid-race.
# The last round of each runs the monitor under its seccomp sandbox as a
# default xl create does (docs/sandbox.md; DOMUS_HCRACE_SANDBOX=0: none),
# the others with DOMUS_SANDBOX=0; each destroy round checks that every
# thread of its monitor has a filter, or none.
# Beside it two guests write and read xenstore every second
# (tests/guest/xsloop.sh) and must keep counting (no gap over GAP_MAX s),
# and domain 0 writes and reads in a loop (each op within DOM0_MAX_MS;
# tests/lab/bystanders.sh).  In a 1-vCPU lab on a slow machine the four
# busy racer vCPUs share the one CPU with everyone: there domain 0's
# slowest write+read (two processes started) took 4.8 s, the guests' counts
# paused up to 9 s, a poweroff round up to 44 s.
# After each round: nothing of the racer left, and its monitor's log has no
# assertion, abort, sanitizer or KVM failure line.
BUILD=$1 ELF=$2; . "$(dirname "$0")/domlib.sh"; . "$(dirname "$0")/bystanders.sh"
ROUNDS=${DOMUS_HCRACE_ROUNDS:-3}
SANDBOX_LAST=${DOMUS_HCRACE_SANDBOX:-1}
RACE_SECS=15
END_MAX=120
DESTROY_MAX=10
# 19 s seen in a second run on that slow machine: Linux schedules each
# vCPU thread alone, so a 4-vCPU domain takes four shares of the lab's one
# CPU where Xen's credit scheduler weighs domains (issue 12: a cgroup per
# domain with xl.cfg's cpu_weight).  The bound catches starvation.
GAP_MAX=40
DOM0_MAX_MS=10000
NAME=hcrace
VMM_LOG=$LOGDIR/domus-vmm-$NAME.log
SUP_LOG=$LOGDIR/xl-$NAME.log
BAD_LOG='assert|abort|sanitizer|runtime error|internal error|entry failed|triple fault|unhandled exit|double free|corrupt'
PHASE="start"

[ -f "$ELF" ] || fail "no racer image at $ELF"
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
lines_of() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
# The lines of log file $1 after its first $2.
new_lines() { tail -n +"$(( $2 + 1 ))" "$1" 2>/dev/null; }
con() { tr -d '\0\r' <"$(conlog "$NAME")" 2>/dev/null; }
# How far the racer got: the last HCRACE-ROUND (or -SHUTDOWN) of each vCPU.
progress() {
	local v
	for v in 0 1 2 3; do
		con | grep -aE "^HCRACE-(ROUND|SHUTDOWN) vcpu=$v " | tail -n 1
	done | tr '\n' ';'
}
rounds_seen() { con | grep -acE '^HCRACE-ROUND '; }

bystanders_start hcrace
watch_guests() { bystanders_watch "($PHASE); racer: $(progress)"; }

# pause_watching SECONDS: sleep that long, watching the good guests.
pause_watching() {
	local end=$(( $(date +%s) + $1 ))
	while [ "$(date +%s)" -lt "$end" ]; do
		watch_guests
		sleep 0.5
	done
}

# The racer's console, checked whenever it is read: a fault or an error of
# its own ends the test with its line.
racer_sane() {
	local bad
	bad=$(con | grep -aE '^HCRACE-(FAULT|ERROR)' | head -n 3)
	[ -z "$bad" ] || fail "$PHASE: the racer reports: $bad"
	return 0
}

# check_seccomp MODE: each thread of the racer's monitor has this seccomp
# mode in /proc/PID/task/TID/status (2: a filter; 0: none).  Every thread
# installs its filter before the monitor reports ready to xl
# (docs/sandbox.md "Install order"), so before xl create returns.
check_seccomp() {
	local want=$1 pid t m n=0 bad=""
	pid=$(pgrep -f "domus-vmm .*--domid $rid " | head -n 1)
	[ -n "$pid" ] || fail "$PHASE: no monitor process of domain $rid"
	for t in /proc/"$pid"/task/*; do
		m=$(awk '/^Seccomp:/ { print $2 }' "$t/status" 2>/dev/null)
		[ -n "$m" ] || continue
		n=$((n + 1))
		[ "$m" = "$want" ] || bad="$bad ${t##*/}=$m"
	done
	# main, the event loop and four vCPU threads at least
	[ "$n" -ge 6 ] || fail "$PHASE: the monitor $pid of domain $rid shows $n threads, not 6 or more"
	[ -z "$bad" ] || fail "$PHASE: threads of the monitor $pid (domain $rid) whose Seccomp is not $want:$bad"
	ok "$PHASE: the $n threads of the monitor of domain $rid have Seccomp $want"
}

# start_racer MODE SANDBOX: create it (xl create -q returns once it runs),
# wait for all four vCPUs up and each vCPU's first round report.
start_racer() {
	local mode=$1 sandbox=$2 end v start_line
	rm -f "$(conlog "$NAME")"
	vmm_mark=$(lines_of "$VMM_LOG")
	sup_mark=$(lines_of "$SUP_LOG")
	printf 'name = "%s"\nkernel = "%s"\nmemory = 64\nvcpus = 4\ncmdline = "hcrace=%s hcrace.vcpus=4"\n' \
		"$NAME" "$ELF" "$mode" >"$T/$NAME.cfg"
	if [ "$sandbox" = 1 ]; then
		env -u DOMUS_SANDBOX timeout 120 "$XL" create -q "$T/$NAME.cfg" || fail "$PHASE: xl create of the racer (sandboxed) failed"
	else
		DOMUS_SANDBOX=0 timeout 120 "$XL" create -q "$T/$NAME.cfg" || fail "$PHASE: xl create of the racer failed"
	fi
	end=$(( $(date +%s) + 10 ))
	while :; do
		rid=$(new_lines "$SUP_LOG" "$sup_mark" | sed -n "s/.*domain $NAME started with id \([0-9]*\).*/\1/p" | tail -n 1)
		[ -n "$rid" ] && break
		[ "$(date +%s)" -le "$end" ] || fail "$PHASE: no 'domain $NAME started with id' in $SUP_LOG within 10 s of xl create"
		sleep 0.5
	done
	# A poweroff racer may end before the check reads its threads (a
	# loaded lab took 24 s from xl create to here): forever ones live
	# until xl destroy.
	[ "$mode" != forever ] || check_seccomp "$([ "$sandbox" = 1 ] && echo 2 || echo 0)"
	end=$(( $(date +%s) + 60 ))
	until start_line=$(con | grep -a '^HCRACE-START ' | head -n 1) && [ -n "$start_line" ]; do
		racer_sane
		[ "$(date +%s)" -le "$end" ] ||
			fail "$PHASE: no HCRACE-START in 60 s; console: $(con | tail -n 5 | tr '\n' ';'); monitor log: $(new_lines "$VMM_LOG" "$vmm_mark" | tail -n 5 | tr '\n' ';')"
		watch_guests
		sleep 0.5
	done
	case "$start_line" in
	"HCRACE-START vcpus=4 "*) ;;
	*) fail "$PHASE: not all four vCPUs came up: $start_line $(con | grep -a '^HCRACE-ERROR')" ;;
	esac
	end=$(( $(date +%s) + 30 ))
	for v in 0 1 2 3; do
		until con | grep -aqE "^HCRACE-ROUND vcpu=$v calls=[1-9]"; do
			racer_sane
			[ "$(date +%s)" -le "$end" ] ||
				fail "$PHASE: vCPU $v of the racer never reported a round in 30 s: $(progress)"
			watch_guests
			sleep 0.5
		done
	done
}

# check_monitor_log: the monitor's lines of this round have nothing bad.
check_monitor_log() {
	local bad
	bad=$(new_lines "$VMM_LOG" "$vmm_mark" | grep -aiE "$BAD_LOG" | head -n 5)
	[ -z "$bad" ] || fail "$PHASE: the monitor's log ($VMM_LOG) says: $bad"
	return 0
}

# ended_as ID WORD SECONDS: the supervisor's log says how domain ID ended
# within SECONDS; fails naming what it said instead.
ended_as() {
	local id=$1 word=$2 end=$(( $(date +%s) + $3 )) said
	while :; do
		said=$(new_lines "$SUP_LOG" "$sup_mark" | sed -n "s/.*domain $NAME (id $id) //p" | tail -n 1)
		[ -n "$said" ] && break
		[ "$(date +%s)" -le "$end" ] || return 1
		watch_guests
		sleep 0.5
	done
	case "$said" in
	"$word") return 0 ;;
	*SIGSYS*) fail "$PHASE: domain $id ended '$said', not '$word': a hypercall path makes a system call the vCPU role's seccomp list lacks (vmm/sandbox.c; strace -f the monitor, or DOMUS_HCRACE_SANDBOX=0 to race unsandboxed)" ;;
	esac
	fail "$PHASE: domain $id ended '$said', not '$word' ($SUP_LOG); monitor log: $(new_lines "$VMM_LOG" "$vmm_mark" | tail -n 5 | tr '\n' ';')"
}

# Every vCPU's last whole report has calls and successful calls: the
# hypercalls reached the monitor and some were answered 0 or more.  The
# domain's end can cut the last line short ('HCRACE-ROUND vcpu=3
# calls=9082', a fresh clone's make check): the one before it counts.
check_progress() {
	local v l
	for v in 0 1 2 3; do
		l=$(con | grep -aE "^HCRACE-(ROUND|SHUTDOWN) vcpu=$v calls=[0-9]+ ok=[0-9]+$" | tail -n 1)
		echo "$l" | grep -qE " calls=[1-9][0-9]* ok=[1-9][0-9]*$" ||
			fail "$PHASE: vCPU $v made no successful hypercall: '${l:-no whole report}'"
	done
}

sandbox_for() { [ "$1" -eq "$ROUNDS" ] && [ "$SANDBOX_LAST" = 1 ] && echo 1 || echo 0; }

# ---- poweroff: vCPU 0 ends the domain while the others race ----
for r in $(seq 1 "$ROUNDS"); do
	sb=$(sandbox_for "$r")
	PHASE="poweroff round $r$([ "$sb" = 1 ] && echo ' (sandboxed)')"
	start_racer "poweroff:$RACE_SECS" "$sb"
	t0=$(date +%s)
	ended_as "$rid" "powered off" "$END_MAX" ||
		fail "$PHASE: the racer (domain $rid) did not end in $END_MAX s; xl list: $("$XL" list "$NAME" 2>&1 | tail -n 1); racer: $(progress)"
	took=$(( $(date +%s) - t0 ))
	racer_sane
	con | grep -aqE '^HCRACE-SHUTDOWN vcpu=0 calls=[1-9]' ||
		fail "$PHASE: the domain ended without vCPU 0's HCRACE-SHUTDOWN: $(progress)"
	check_progress
	wait_gone "$NAME" 30 || fail "$PHASE: domain $rid still listed after its monitor powered off"
	leftovers "$rid"
	check_monitor_log
	ok "$PHASE: domain $rid raced, vCPU 0 powered it off mid-race ${took} s after the start (bound $END_MAX s), monitor 'powered off', nothing left; $(progress)"
done

# ---- forever: xl destroy (and pause) mid-race ----
for r in $(seq 1 "$ROUNDS"); do
	sb=$(sandbox_for "$r")
	PHASE="destroy round $r$([ "$sb" = 1 ] && echo ' (sandboxed)')"
	start_racer forever "$sb"
	pause_watching $(( 2 + r ))
	if [ "$r" -eq 1 ]; then
		timeout 30 "$XL" pause "$NAME" || fail "$PHASE: xl pause of the racer failed or hung (30 s)"
		"$XL" list "$NAME" | tail -n 1 | grep -q -- "--p---" || fail "$PHASE: xl list does not show the racer paused"
		# A line being written when it paused may still end: let it.
		pause_watching 1
		n0=$(rounds_seen)
		pause_watching 5
		n1=$(rounds_seen)
		[ "$n1" -eq "$n0" ] || fail "$PHASE: the racer went on while paused ($n0 then $n1 round lines in 5 s)"
		timeout 30 "$XL" unpause "$NAME" || fail "$PHASE: xl unpause of the racer failed or hung (30 s)"
		end=$(( $(date +%s) + 20 ))
		until [ "$(rounds_seen)" -gt "$n1" ]; do
			[ "$(date +%s)" -le "$end" ] || fail "$PHASE: the racer did not go on within 20 s of xl unpause: $(progress)"
			watch_guests
			sleep 0.5
		done
		racer_sane
		ok "$PHASE: xl pause stopped the race (no report in 5 s), xl unpause resumed it"
		pause_watching 2
	fi
	racer_sane
	t0=$(ms_now)
	timeout 60 "$XL" destroy "$NAME" >"$T/destroy.out" 2>&1
	rc=$?
	took=$(( $(ms_now) - t0 ))
	[ "$rc" -eq 0 ] || fail "$PHASE: xl destroy exited $rc after $took ms: $(tr '\n' ';' <"$T/destroy.out")"
	grep -q "did not end" "$T/destroy.out" &&
		fail "$PHASE: the monitor did not end when asked, xl killed it: $(tr '\n' ';' <"$T/destroy.out")"
	[ "$took" -le $((DESTROY_MAX * 1000)) ] || fail "$PHASE: xl destroy took $took ms (bound $DESTROY_MAX s)"
	ended_as "$rid" "destroyed" 10 || fail "$PHASE: the supervisor did not log the end of domain $rid in 10 s"
	check_progress
	leftovers "$rid"
	check_monitor_log
	ok "$PHASE: domain $rid destroyed mid-race in $took ms (bound $DESTROY_MAX s), monitor 'destroyed', nothing left; $(progress)"
done

# The good guests go on after it, and so does domain 0.
PHASE="after the racer"
bystanders_end
ok "a 4-vCPU hypercall racer: $ROUNDS poweroffs and $ROUNDS destroys mid-race, a pause and unpause, the monitor clean each time, the others served throughout"
