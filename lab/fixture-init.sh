#!/bin/sh
# /init of the guest fixture: a busybox world with the kernel's Xen frontends
# and Debian's xenstore-utils.  "domus.test=NAME" on the kernel command line
# runs /tests/NAME.sh, prints "DOMUS-TEST-RESULT NAME rc=N" and powers off;
# without it the console gets a shell.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
echo "DOMUS-INIT uptime=$(cut -d' ' -f1 /proc/uptime)"
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t tmpfs tmp /tmp
# Dependency order from modules.dep, written at build time.
while read -r m; do
	insmod "/lib/modules/$m" 2>/dev/null
done </lib/modules/load-order
[ -d /sys/hypervisor ] && mount -t xenfs xenfs /proc/xen 2>/dev/null
# busybox poweroff/reboot/halt signal PID 1 (USR2/TERM/USR1); that is how the
# kernel's orderly_poweroff() for `xl shutdown` reaches us.  Work runs in the
# background so that `wait` lets the traps fire at once.
trap 'echo "DOMUS-POWEROFF"; sync; poweroff -f' USR2
trap 'echo "DOMUS-REBOOT"; sync; reboot -f' TERM
trap 'sync; halt -f' USR1
test=$(sed -n 's/.*domus\.test=\([^ ]*\).*/\1/p' /proc/cmdline)
if [ -n "$test" ]; then
	if [ -f "/tests/$test.sh" ]; then
		sh "/tests/$test.sh" &
		wait $!
		rc=$?
	else
		echo "no such fixture test: $test"
		rc=127
	fi
	echo "DOMUS-TEST-RESULT $test rc=$rc"
	sync
	poweroff -f
fi
echo "domus fixture: $(uname -r); type poweroff to leave"
export PS1='domU# '
while :; do
	setsid cttyhack sh -l &
	wait $!
done
