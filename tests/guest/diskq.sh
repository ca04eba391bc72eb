# A qcow2 (or vhd) disk written by the guest (tests/lab/domain-qcow2.sh):
# ext4 on the first xen-blkfront disk, mounted with online discard; 32 MiB
# of a pattern the host knows, and 32 MiB of scratch written, synced and
# deleted (its blocks discarded: the image must not keep them), fstrim
# where busybox has it; the pattern read back after the page cache is
# dropped; synced, unmounted, and the domain powers off (/init).
PATTERN=domus-disk-test-0123456789abcdef
. /tests/disklib.sh
echo "GUEST-DISK dev=$dev sectors=$(cat /sys/block/$dev/size) ro=$(cat /sys/block/$dev/ro) discard=$(cat /sys/block/$dev/queue/discard_max_bytes)"
/usr/sbin/mke2fs -q -F -t ext4 "/dev/$dev" || { echo "GUEST-DISK mke2fs failed"; exit 1; }
mkdir -p /mnt
mount -t ext4 -o discard "/dev/$dev" /mnt || { echo "GUEST-DISK mount failed"; exit 1; }
yes "$PATTERN" | head -c 33554432 >/mnt/data || { echo "GUEST-DISK write failed"; exit 1; }
yes scratch | head -c 33554432 >/mnt/scratch || { echo "GUEST-DISK scratch write failed"; exit 1; }
sync
rm /mnt/scratch
sync
if command -v fstrim >/dev/null 2>&1 || busybox --list 2>/dev/null | grep -qx fstrim; then
	busybox fstrim /mnt 2>/dev/null || fstrim /mnt 2>/dev/null
	echo "GUEST-DISK fstrim rc=$?"
fi
echo 3 >/proc/sys/vm/drop_caches
echo "GUEST-DISK sha256=$(sha256sum /mnt/data | cut -d' ' -f1)"
umount /mnt || { echo "GUEST-DISK umount failed"; exit 1; }
sync
dmesg | grep -iE 'blkfront|xvd|I/O error|EXT4-fs (error|warning)' | sed 's/^/GUEST-DMESG /'
echo "GUEST-DISK done"
