# fstrim on a sparse file's disk (tests/lab/domain-disk-data.sh): the ext4
# diskfill.sh left (journal replayed at mount), its file read back, deleted,
# then fstrim: blkfront sends BLKIF_OP_DISCARD, the back end punches holes,
# and the host sees the file's allocated blocks shrink.
PATTERN=domus-disk-fill-0123456789abcdef
. /tests/disklib.sh
echo "GUEST-DISK discard_max=$(cat /sys/block/$dev/queue/discard_max_bytes) gran=$(cat /sys/block/$dev/queue/discard_granularity)"
mkdir -p /mnt
mount -t ext4 "/dev/$dev" /mnt || { echo "GUEST-DISK mount failed"; exit 1; }
echo "GUEST-DISK sha256=$(sha256sum /mnt/data | cut -d' ' -f1)"
rm /mnt/data
sync
fstrim -v /mnt 2>&1 | sed 's/^/GUEST-DISK fstrim: /'
umount /mnt || { echo "GUEST-DISK umount failed"; exit 1; }
sync
dmesg | grep -iE 'I/O error|EXT4-fs (error|warning)|blkfront.*(error|fail)' | sed 's/^/GUEST-DMESG /'
echo "GUEST-DISK done"
