# Disks plugged into and unplugged from the running guest
# (tests/lab/domain-hotplug.sh).  The host moves on with data/step in the
# guest's xenstore home; the guest says what it sees on the console.
#   step 1: xvdb plugged: seen, 1 MiB written to it, read back from disk
#   step 2: xvdb detached: gone
#   step 3: xvdc plugged: ext4 made and mounted on it, a file written
#   step 4: xvdc detached while mounted (Linux 6.1's blkfront closes a
#           disk in use, blkfront_closing; an older one refuses): gone or kept
PATTERN=domus-hotplug
[ -e /etc/mtab ] || ln -s /proc/mounts /etc/mtab
wait_step() { # until the host writes data/step $1 (200 s)
	for i in $(seq 400); do
		[ "$(xenstore-read data/step 2>/dev/null)" = "$1" ] && return 0
		sleep 0.5
	done
	echo "GUEST-HOTPLUG step $1 never came"
	exit 1
}
wait_dev() { # wait_dev NAME present|absent: 30 s
	for i in $(seq 60); do
		if [ "$2" = present ]; then
			[ -e "/sys/block/$1" ] && [ -b "/dev/$1" ] && return 0
		else
			[ ! -e "/sys/block/$1" ] && return 0
		fi
		sleep 0.5
	done
	return 1
}
xenstore-write data/step 0
echo "GUEST-HOTPLUG ready disks=$(ls /sys/block | grep -c '^xvd')"

wait_step 1
wait_dev xvdb present || { echo "GUEST-HOTPLUG no xvdb: $(ls /sys/block)"; exit 1; }
echo "GUEST-HOTPLUG seen xvdb sectors=$(cat /sys/block/xvdb/size) ro=$(cat /sys/block/xvdb/ro)"
yes "$PATTERN" | head -c 1048576 >/dev/xvdb || { echo "GUEST-HOTPLUG write to xvdb failed"; exit 1; }
sync
echo 3 >/proc/sys/vm/drop_caches
echo "GUEST-HOTPLUG wrote xvdb sha256=$(head -c 1048576 /dev/xvdb | sha256sum | cut -d' ' -f1)"

wait_step 2
wait_dev xvdb absent || { echo "GUEST-HOTPLUG xvdb still there after its detach"; exit 1; }
echo "GUEST-HOTPLUG gone xvdb"

wait_step 3
wait_dev xvdc present || { echo "GUEST-HOTPLUG no xvdc: $(ls /sys/block)"; exit 1; }
/usr/sbin/mke2fs -q -F -t ext4 /dev/xvdc || { echo "GUEST-HOTPLUG mke2fs failed"; exit 1; }
mkdir -p /mnt
mount -t ext4 /dev/xvdc /mnt || { echo "GUEST-HOTPLUG mount failed"; exit 1; }
echo hello >/mnt/f && sync
echo "GUEST-HOTPLUG mounted xvdc"

wait_step 4
if wait_dev xvdc absent; then echo "GUEST-HOTPLUG gone xvdc"; else echo "GUEST-HOTPLUG kept xvdc"; fi
umount -l /mnt 2>/dev/null
dmesg | grep -iE 'blkfront|xvd[bc]' | tail -n 20 | sed 's/^/GUEST-DMESG /'
echo "GUEST-HOTPLUG done"
