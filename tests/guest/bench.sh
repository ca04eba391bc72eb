# bench/boot: reaching /init is the measurement (DOMUS-INIT carries the
# guest's uptime); then stay up so the host can read the monitor's memory.
# With initcall_debug on the command line (bench/boot's
# DOMUS_BENCH_BOOT_EXTRA), the kernel's slowest initcalls and the total of
# all of them follow, after the measurement: DOMUS-INITCALL USECS NAME.
if grep -qw initcall_debug /proc/cmdline; then
	dmesg | sed -n 's/.*initcall \([^ ]*\) returned .* after \([0-9]*\) usecs.*/\2 \1/p' >/tmp/initcalls
	sort -rn /tmp/initcalls | head -n 25 | while read -r us fn; do echo "DOMUS-INITCALL $us ${fn%%+*}"; done
	echo "DOMUS-INITCALL $(awk '{ s += $1 } END { print s + 0 }' /tmp/initcalls) total"
	# The stretches between initcalls (the kernel's own set-up before them:
	# clocks, memory, CPUs) show as the first initcall's timestamp.
	dmesg | grep -m1 'calling ' | sed 's/^/DOMUS-FIRSTCALL /'
fi
echo "DOMUS-BENCH-READY"
while :; do sleep 3600; done
