# Sourced by the disk tests' guest scripts (disk.sh, diskro.sh, disksave.sh;
# tests/lab/domain-disk.sh): waits up to 30 s for the first xen-blkfront
# disk and sets $dev to its name (xvda: also what vdev sda is called in a
# PV guest, blkfront's xen_translate_vdev), or fails the test.
dev=
for i in $(seq 1 60); do
	dev=$(ls /sys/block 2>/dev/null | grep '^xvd' | head -n 1)
	[ -n "$dev" ] && [ -b "/dev/$dev" ] && break
	sleep 0.5
done
[ -n "$dev" ] && [ -b "/dev/$dev" ] || { echo "GUEST-DISK no xen disk: $(ls /sys/block)"; exit 1; }
# mke2fs and mount ask whether the device is mounted
[ -e /etc/mtab ] || ln -s /proc/mounts /etc/mtab
