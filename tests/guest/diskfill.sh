# 100 MiB on a disk the host then destroys (tests/lab/domain-disk-data.sh):
# ext4 on the first xen disk, a 100 MiB file of a pattern the host knows,
# sync, announced; then the guest idles until `xl destroy` ends it without
# an unmount.  What sync returned for must be on the host's disk.
PATTERN=domus-disk-fill-0123456789abcdef
. /tests/disklib.sh
/usr/sbin/mke2fs -q -F -t ext4 "/dev/$dev" || { echo "GUEST-DISK mke2fs failed"; exit 1; }
mkdir -p /mnt
mount -t ext4 "/dev/$dev" /mnt || { echo "GUEST-DISK mount failed"; exit 1; }
yes "$PATTERN" | head -c 104857600 >/mnt/data || { echo "GUEST-DISK write failed"; exit 1; }
sync
echo "GUEST-DISK synced sha256=$(sha256sum /mnt/data | cut -d' ' -f1)"
dmesg | grep -iE 'I/O error|EXT4-fs (error|warning)|blkfront.*(error|fail)' | sed 's/^/GUEST-DMESG /'
while :; do sleep 10; done
