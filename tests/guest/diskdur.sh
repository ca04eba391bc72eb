# Durability (tests/lab/domain-disk-kill.sh): 4 KiB blocks written straight
# to the first xen disk, block i at offset i * 4 KiB holding "domus-dur i",
# each followed by fsync (a flush the back end completes only once the host
# has the data); "GUEST-DUR i" is printed only after that returned.  The host
# kills the monitor with SIGKILL after some of these lines and checks that
# every announced block is in the image.
. /tests/disklib.sh
i=0
while [ $i -lt 100000 ]; do
	yes "domus-dur $i" | head -c 4096 >/tmp/blk
	dd if=/tmp/blk of="/dev/$dev" bs=4096 seek=$i count=1 conv=fsync 2>/dev/null ||
		{ echo "GUEST-DISK write $i failed"; exit 1; }
	echo "GUEST-DUR $i"
	i=$((i + 1))
done
