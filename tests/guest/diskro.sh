# A read-only disk (tests/lab/domain-disk.sh, disk = ['...,r']): the guest
# sees it read-only, reads the ext4 that disk.sh wrote, and every write is
# refused (by blkfront, which marks the disk read-only from the backend's
# info VDISK_READONLY; the back end would answer BLKIF_RSP_ERROR anyway).
. /tests/disklib.sh
echo "GUEST-DISK dev=$dev ro=$(cat /sys/block/$dev/ro)"
mkdir -p /mnt
mount -t ext4 -o ro,noload "/dev/$dev" /mnt || { echo "GUEST-DISK mount ro failed"; exit 1; }
echo "GUEST-DISK sha256=$(sha256sum /mnt/data | cut -d' ' -f1)"
if touch /mnt/new 2>/dev/null; then echo "GUEST-DISK file-write accepted"; else echo "GUEST-DISK file-write refused"; fi
umount /mnt
blockdev --setrw "/dev/$dev" 2>/dev/null
if dd if=/dev/zero of="/dev/$dev" bs=4096 count=16 seek=64 conv=fsync 2>/dev/null; then
	echo "GUEST-DISK dev-write accepted"
else
	echo "GUEST-DISK dev-write refused"
fi
echo "GUEST-DISK done"
