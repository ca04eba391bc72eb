# bench/save: "domus.dirty_mib=N" on the command line dirties N MiB of the
# guest's memory (a tmpfs file of random data: no zero pages, so no peer
# can skip them), then the guest stays up printing a heartbeat a second, by
# which the host tells that a restored guest runs on.
mib=$(sed -n 's/.*domus\.dirty_mib=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ "${mib:-0}" -gt 0 ]; then
	mkdir -p /dirty
	mount -t tmpfs -o size=$((mib + 16))m dirty /dirty
	dd if=/dev/urandom of=/tmp/seed bs=1M count=1 2>/dev/null
	i=0
	while [ "$i" -lt "$mib" ]; do cat /tmp/seed; i=$((i + 1)); done >/dirty/data
	rm -f /tmp/seed
fi
echo "GUEST-SAVEBENCH-READY dirty=$(du -sm /dirty 2>/dev/null | cut -f1)"
n=0
while :; do
	echo "GUEST-ALIVE $n"
	n=$((n + 1))
	sleep 1
done
