#!/bin/sh
# /init of the lab (L1).  Mounts the host's root read-only and the domus tree
# read-write (virtio-9p), makes /host a usable chroot, then serves jobs: lab/lab
# drops STATE/jobs/ID.sh into the shared tree and this agent runs it in the
# chroot, writing ID.out, ID.err and finally ID.rc beside it.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs shm /dev/shm
mount -t tmpfs tmp /tmp
arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
REPO=$(arg lab.repo)
STATE=$(arg lab.state)
echo "LAB-INIT uptime=$(cut -d' ' -f1 /proc/uptime) repo=$REPO"
# The host's root without a cache, so that a file changed on the host (a
# config in /etc, the cache in ~/.cache, a second clone) is read as it is now;
# a cache=loose mount served old contents for good (issue 10, measured).  Only
# /usr, which changes with package installs alone, keeps the loose cache that
# makes running programs fast.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=none,msize=262144 hostroot /host ||
	{ echo "LAB-FATAL: cannot mount the host root"; poweroff -f; }
if grep -q 'lab.hostusr=1' /proc/cmdline; then
	mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostusr /host/usr ||
		{ echo "LAB-FATAL: cannot mount the host's /usr"; poweroff -f; }
fi
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 work /work ||
	{ echo "LAB-FATAL: cannot mount the domus tree"; poweroff -f; }
mount --rbind /dev /host/dev
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t tmpfs tmp /host/tmp
mount -t tmpfs run /host/run
mkdir -p /host/var/log/xen 2>/dev/null || true
# The tree may live where the lab has a tmpfs of its own (/tmp): make the
# mount point there first.
mkdir -p "/host$REPO" 2>/dev/null
mount --bind /work "/host$REPO" || { echo "LAB-FATAL: cannot mount the domus tree at $REPO"; poweroff -f; }
# The host's /var/log, /var/lib and /var/run are read-only here: give domus
# writable ones so it behaves as it would on a real host.
for d in /var/log /var/lib/xen; do
	[ -d "/host$d" ] && mount -t tmpfs "lab$(echo $d | tr / -)" "/host$d"
done
ip link set lo up 2>/dev/null
JOBS="/host$STATE/jobs"
mkdir -p "$JOBS"

run_job() {
	j=$1
	# A process group of its own, so that a kill reaches what the job
	# started in the background too (a test's socat, its domains' xl).
	setsid chroot /host /bin/bash "$STATE/jobs/$j.run" >"$JOBS/$j.out" 2>"$JOBS/$j.err" &
	pid=$!
	echo "$pid" >"$JOBS/$j.pid"
	k=0
	while kill -0 "$pid" 2>/dev/null; do
		# Asked to stop: TERM first, so the job's traps clean up (a test
		# destroys its domains, deletes its bridge) before the next job
		# runs; 15 s later, KILL for the whole group.
		if [ -e "$JOBS/$j.kill" ]; then
			[ "$k" = 0 ] && kill -TERM -- "-$pid" 2>/dev/null
			k=$((k + 1))
			[ "$k" -ge 75 ] && kill -9 -- "-$pid" 2>/dev/null
		fi
		pause 0.2
	done
	wait "$pid"
	echo $? >"$JOBS/$j.rc.tmp"
	mv "$JOBS/$j.rc.tmp" "$JOBS/$j.rc"
	rm -f "$JOBS/$j.run" "$JOBS/$j.pid" "$JOBS/$j.kill"
}

# Heartbeat: the host side of "lab run" reads this file to tell a lab that
# has stopped making progress (issue 10) from one that is merely busy.  It
# carries the lab's uptime, so a gap in the lab's own clock shows too.
heartbeat() {
	n=0
	while :; do
		n=$((n + 1))
		read -r up _ </proc/uptime
		echo "$n $up" >"$JOBS/heartbeat.tmp" &&
			mv "$JOBS/heartbeat.tmp" "$JOBS/heartbeat"
		pause 1
	done
}

# pause SECONDS: sleep without starting a process.  The agent's idle loop
# forked sleep ten times a second, each running job's watcher five times
# and the heartbeat cut and sleep once a second: ~10 % of the lab's one
# emulated CPU, taken from every test's guests (perf in the lab,
# 2026-12-07).  read -t on a FIFO nobody writes
# is a shell builtin's wait; <> opens it without waiting for a writer.
PACE=/tmp/lab-pace
mkfifo "$PACE"
pause() { read -r -t "$1" _ <>"$PACE"; }

agent() {
	heartbeat &
	touch "$JOBS/ready"
	echo "LAB-READY uptime=$(cut -d' ' -f1 /proc/uptime)"
	while :; do
		for f in "$JOBS"/*.sh; do
			[ -e "$f" ] || continue
			j=$(basename "$f" .sh)
			mv "$f" "$JOBS/$j.run" && run_job "$j" &
		done
		pause 0.1
	done
}
agent &

# The console (ttyS0) is an interactive shell, used by "lab shell".
while :; do
	setsid cttyhack sh -l
done
