# A disk written by the guest (tests/lab/domain-disk.sh): the first
# xen-blkfront disk (xvda: also what vdev sda is called in a PV guest,
# blkfront's xen_translate_vdev) gets ext4 and 32 MiB of a pattern the host
# knows, read back through the disk after the page cache is dropped; then
# synced, unmounted, and the domain powers off (/init).
PATTERN=domus-disk-test-0123456789abcdef
. /tests/disklib.sh
echo "GUEST-DISK dev=$dev sectors=$(cat /sys/block/$dev/size) ro=$(cat /sys/block/$dev/ro)"
/usr/sbin/mke2fs -q -F -t ext4 "/dev/$dev" || { echo "GUEST-DISK mke2fs failed"; exit 1; }
mkdir -p /mnt
mount -t ext4 "/dev/$dev" /mnt || { echo "GUEST-DISK mount failed"; exit 1; }
yes "$PATTERN" | head -c 33554432 >/mnt/data || { echo "GUEST-DISK write failed"; exit 1; }
sync
echo 3 >/proc/sys/vm/drop_caches
echo "GUEST-DISK sha256=$(sha256sum /mnt/data | cut -d' ' -f1)"
umount /mnt || { echo "GUEST-DISK umount failed"; exit 1; }
sync
dmesg | grep -iE 'blkfront|xvd|I/O error|EXT4-fs (error|warning)' | sed 's/^/GUEST-DMESG /'
echo "GUEST-DISK done"
