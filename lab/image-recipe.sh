# image-recipe.sh: what lab/image makes, the Debian guest disk (sourced by
# it; lab/image runs these steps with progress, lock, log and checks).  The
# image's cache key is this file's hash (with the mirror): any change here
# builds a new image; changes to lab/image do not.
# shellcheck shell=bash
SUITE=bookworm
SIZE_MIB=2048          # apparent size; sparse on disk
PART_START_MIB=1       # the one partition starts at 1 MiB (sector 2048)
HOSTNAME_=domus-guest
# What minbase lacks for a bootable, networked system.  systemd-networkd is in
# the systemd package; udev names the NIC and loads modules.
INCLUDE=systemd-sysv,udev,kmod,initramfs-tools,linux-image-cloud-amd64,procps,iproute2,iputils-ping,less
# The kernel's command line (pygrub passes it on).  net.ifnames=0 keeps the
# kernel's name eth0 for xen-netfront (systemd 252 would name it enX0).
CMDLINE="root=/dev/xvda1 ro console=hvc0 net.ifnames=0"

# in_root CMD...: run CMD in the new system (systemd does not run there, so
# package scripts start no services).
in_root() {
	chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"
}

write_config() {
	local kver=$1
	echo "$HOSTNAME_" >"$ROOT/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
		"$HOSTNAME_" >"$ROOT/etc/hosts"
	printf '# <device> <dir> <type> <options> <dump> <pass>\n/dev/xvda1 / ext4 errors=remount-ro 0 1\n' \
		>"$ROOT/etc/fstab"

	# Root logs in on the console without a password (a test and demo
	# guest: no network login is installed).  pam_unix in Debian's
	# common-auth has nullok, so an empty password field is accepted.
	in_root passwd -d root >/dev/null
	# A getty on the Xen console.  systemd's getty generator would start one
	# on hvc0 as the kernel console anyway; enabled, it does not depend on that.
	in_root systemctl enable serial-getty@hvc0.service >/dev/null 2>&1
	# systemd-firstboot would ask for a locale on the console on a first
	# boot (a machine-id left empty below); the image needs no answers.
	in_root systemctl mask systemd-firstboot.service >/dev/null 2>&1

	# eth0 by DHCP through systemd-networkd.  The client identifier is the
	# MAC: copies of one image share everything else, and the lab's dnsmasq
	# must give each guest its own address.
	mkdir -p "$ROOT/etc/systemd/network"
	cat >"$ROOT/etc/systemd/network/20-eth0.network" <<-EOF
	[Match]
	Name=eth0

	[Network]
	DHCP=ipv4

	[DHCPv4]
	ClientIdentifier=mac
	EOF
	# Kernel names without net.ifnames=0 too (a guest booted with another
	# command line): the documented way to turn predictable names off
	# (systemd.link(5), Debian's udev README.Debian).
	ln -sf /dev/null "$ROOT/etc/systemd/network/99-default.link"
	in_root systemctl enable systemd-networkd.service >/dev/null 2>&1
	# Each copy of the image makes its own machine-id on its first boot.
	: >"$ROOT/etc/machine-id"
	rm -f "$ROOT/var/lib/dbus/machine-id"

	# The initramfs loads the Xen frontends explicitly: the root disk is on
	# xen-blkfront (a module in the cloud kernel: CONFIG_XEN_BLKDEV_FRONTEND=m,
	# as is XEN_NETDEV_FRONTEND; ext4 is built in).
	printf 'xen-blkfront\nxen-netfront\n' >>"$ROOT/etc/initramfs-tools/modules"
	# gzip, which any checker can read (zstd is not in this system anyway).
	echo COMPRESS=gzip >"$ROOT/etc/initramfs-tools/conf.d/compress"
	in_root update-initramfs -u -k "$kver" >>"$LOG" 2>&1 ||
		{ tail -20 "$LOG" >&2; die "update-initramfs failed; log: $LOG"; }

	# The boot menu pygrub parses (GrubConf.Grub2ConfigFile: a menuentry
	# with linux and initrd lines; paths are within the partition).  Not
	# timeout=0: pygrub's menu (Grub.run) then skips its countdown and waits
	# for a key forever when it runs on a terminal, as under xl.
	mkdir -p "$ROOT/boot/grub"
	cat >"$ROOT/boot/grub/grub.cfg" <<-EOF
	# Read by Xen's pygrub (no GRUB is installed in this image).
	set default=0
	set timeout=1

	menuentry 'Debian GNU/Linux 12 (domus guest), Linux $kver' {
	    linux /boot/vmlinuz-$kver $CMDLINE
	    initrd /boot/initrd.img-$kver
	}
	EOF
}

# recipe_root ROOT: the system, by debootstrap (its output on stdout).
# --cache-dir keeps the .debs for the next build (and lab/image mirror).
recipe_root() {
	debootstrap --variant=minbase --include="$INCLUDE" \
		--cache-dir="$CACHE/debootstrap-cache" "$SUITE" "$1" "$MIRROR"
}

# recipe_tidy: what the image need not carry.
recipe_tidy() {
	in_root apt-get clean
	rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/log/*.log "$ROOT"/tmp/* 2>/dev/null || true
}

# recipe_disk ROOT IMG: the disk file, the tree in its one partition.
recipe_disk() {
	local root=$1 img=$2 fs_blocks
	truncate -s "${SIZE_MIB}M" "$img" || return 1
	printf 'label: dos\nstart=%d, type=83\n' $((PART_START_MIB * 2048)) | sfdisk -q "$img" || return 1
	fs_blocks=$(( (SIZE_MIB - PART_START_MIB) * 256 ))   # 4 KiB blocks
	# -E offset: mke2fs writes the file system at the partition's offset in
	# the disk file itself (no copy, holes stay holes).
	mkfs.ext4 -q -F -L domus-root -b 4096 -E offset=$((PART_START_MIB << 20)) \
		-d "$root" "$img" "$fs_blocks"
}
