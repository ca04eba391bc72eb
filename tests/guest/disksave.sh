# A disk across xl save and restore (tests/lab/domain-disk.sh): ext4 on the
# first xen disk, then one 1 MiB file a second, each synced and announced
# with its checksum, until the host writes data/stop; then unmounted cleanly.
# A restored back end that lost its ring positions or its grants would show
# as an I/O error, a hung sync, or a file that does not read back.
PATTERN=domus-disk-save
. /tests/disklib.sh
/usr/sbin/mke2fs -q -F -t ext4 "/dev/$dev" || { echo "GUEST-DISK mke2fs failed"; exit 1; }
mkdir -p /mnt
mount -t ext4 "/dev/$dev" /mnt || { echo "GUEST-DISK mount failed"; exit 1; }
xenstore-write data/stop 0
n=0
while [ "$(xenstore-read data/stop 2>/dev/null)" != 1 ]; do
	yes "$PATTERN $n" | head -c 1048576 >"/mnt/f$n" || { echo "GUEST-DISK write $n failed"; exit 1; }
	sync
	echo "GUEST-DISKSAVE $n $(sha256sum "/mnt/f$n" | cut -d' ' -f1)"
	n=$((n + 1))
	sleep 1
done
echo 3 >/proc/sys/vm/drop_caches
for i in $(seq 0 $((n - 1))); do
	[ "$(yes "$PATTERN $i" | head -c 1048576 | sha256sum)" = "$(sha256sum <"/mnt/f$i")" ] ||
		{ echo "GUEST-DISK f$i does not read back"; exit 1; }
done
umount /mnt || { echo "GUEST-DISK umount failed"; exit 1; }
dmesg | grep -iE 'I/O error|EXT4-fs (error|warning)|blkfront.*(error|fail)' | sed 's/^/GUEST-DMESG /'
echo "GUEST-DISK done files=$n"
