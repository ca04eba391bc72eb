#!/bin/bash
# The Debian guest disk of lab/image: "lab/image check" passes on the cached
# image and fails on copies broken in one way each (so that it can fail), and
# Xen's own pygrub finds the kernel, initramfs and command line in it; the
# local mirror made from the build's downloads serves debootstrap.
#
#   tests/labtool/image.sh          skips (77) when no image is cached: a build
#                                   takes minutes (make check-slow builds it)
#   tests/labtool/image.sh --build  builds the image first (suite host-slow)
set -uo pipefail
IMAGE_TOOL=$(cd "$(dirname "$0")/../../lab" && pwd)/image
PYGRUB=${DOMUS_PYGRUB:-/usr/lib/xen-4.17/bin/pygrub}
fail() { echo "FAIL: $*"; exit 1; }

if [ "${1:-}" = --build ]; then
	[ "$(id -u)" = 0 ] || { echo "SKIP: building the image needs root"; exit 77; }
	t0=$(date +%s)
	img=$("$IMAGE_TOOL" build) || fail "lab/image build failed"
	echo "image ready in $(( $(date +%s) - t0 )) s: $img"
else
	img=$("$IMAGE_TOOL" path) || { echo "SKIP: no image cached ($img); make check-slow or lab/image build makes one"; exit 77; }
fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

"$IMAGE_TOOL" check "$img" || fail "lab/image check fails on $img"
[ "$(stat -c %s "$img")" = $((2048 << 20)) ] || fail "the image is not 2 GiB"
# Sparse: the blocks in use are well under the apparent size.
used=$(( $(stat -c %b "$img") * 512 ))
[ "$used" -lt $((1024 << 20)) ] || fail "the image is not sparse ($used bytes in use)"

# Xen's pygrub (as xl runs it for bootloader = "pygrub") reads the image.
if [ "$(id -u)" = 0 ] && [ -x "$PYGRUB" ]; then
	kver=$(cat "$(dirname "$img")/kernel-version") || fail "no kernel-version beside the image"
	mkdir "$T/pg"
	: >"$T/pg/out"     # pygrub opens it for writing, it does not create it
	# On a terminal, as libxl runs it: its menu must boot the default entry
	# by itself (grub.cfg's timeout), not wait for a key.  script's input is
	# a pipe that stays open and silent (at EOF script would type ^D, a key).
	mkfifo "$T/silent"
	sleep 90 >"$T/silent" &
	silent=$!
	rc=0
	timeout 60 script -qec "$(printf '%q ' "$PYGRUB" --output-format=simple0 \
		--output-directory="$T/pg" --output="$T/pg/out" "$img")" /dev/null \
		>"$T/pygrub.log" 2>&1 <"$T/silent" || rc=$?
	kill "$silent" 2>/dev/null
	wait "$silent" 2>/dev/null
	[ "$rc" = 0 ] || { tail -c 300 "$T/pygrub.log"; echo; fail "pygrub could not read the image (or waited for a key)"; }
	tr '\0' '\n' <"$T/pg/out" >"$T/pg/out.txt"
	cat "$T/pg/out.txt"
	k=$(sed -n 's/^kernel //p' "$T/pg/out.txt")
	r=$(sed -n 's/^ramdisk //p' "$T/pg/out.txt")
	a=$(sed -n 's/^args //p' "$T/pg/out.txt")
	[ "$a" = "$(cat "$(dirname "$img")/cmdline")" ] || fail "pygrub's args: '$a'"
	case "$a" in *root=/dev/xvda1*console=hvc0*) ;; *) fail "pygrub's args lack root=/dev/xvda1 console=hvc0: '$a'" ;; esac
	# The files pygrub extracted are the image's own kernel and initramfs.
	fs="$img?offset=$((2048 * 512))"
	debugfs -R "dump /boot/vmlinuz-$kver $T/vmlinuz" "$fs" >/dev/null 2>&1
	debugfs -R "dump /boot/initrd.img-$kver $T/initrd" "$fs" >/dev/null 2>&1
	[ -s "$k" ] && cmp -s "$k" "$T/vmlinuz" || fail "pygrub's kernel ($k) is not /boot/vmlinuz-$kver"
	[ -s "$r" ] && cmp -s "$r" "$T/initrd" || fail "pygrub's ramdisk ($r) is not /boot/initrd.img-$kver"
	rm -f "$k" "$r"
	# And without a terminal (pygrub -q).
	: >"$T/pg/out"
	"$PYGRUB" -q --output-format=simple0 --output-directory="$T/pg" --output="$T/pg/out" "$img" \
		>"$T/pygrub.log" 2>&1 || { cat "$T/pygrub.log"; fail "pygrub -q could not read the image"; }
	tr '\0' '\n' <"$T/pg/out" | grep -q "^args $a\$" || fail "pygrub -q gave other args"
else
	echo "pygrub not tried (needs root and $PYGRUB)"
fi

# The local package source: debootstrap finds every package of the image's
# set in it (downloads only: a file: URL, nothing fetched from the network).
if [ "$(id -u)" = 0 ] && command -v debootstrap >/dev/null; then
	mirror=$("$IMAGE_TOOL" mirror) || fail "lab/image mirror failed"
	[ -s "$mirror/dists/bookworm/Release" ] || fail "the mirror has no Release"
	include=$(bash -c '. "$1"; echo "$INCLUDE"' _ "$(dirname "$IMAGE_TOOL")/image-recipe.sh")
	debootstrap --no-check-gpg --download-only --variant=minbase --include="$include" \
		bookworm "$T/ds" "file://$mirror" >"$T/ds.log" 2>&1 ||
		{ tail -5 "$T/ds.log"; fail "debootstrap from the local mirror failed"; }
	n=$(ls "$T/ds/var/cache/apt/archives/"*.deb | wc -l)
	[ "$n" -ge "$(wc -l <"$(dirname "$img")/packages")" ] ||
		fail "debootstrap took $n packages from the mirror, the image has $(wc -l <"$(dirname "$img")/packages")"
	echo "the local mirror gives debootstrap all $n packages"
	rm -rf "$T/ds"
fi

# Broken copies, one fault each: the check must say no.
broken() { # broken NAME: a fresh sparse copy at $T/NAME.img
	cp --sparse=always "$img" "$T/$1.img"
	echo "$T/$1.img"
}
b=$(broken nogrub)
debugfs -w -R 'rm /boot/grub/grub.cfg' "$b?offset=1048576" >/dev/null 2>&1
"$IMAGE_TOOL" check "$b" 2>/dev/null && fail "check passed an image without grub.cfg"
rm -f "$b"
b=$(broken nogetty)
debugfs -w -R 'rm /etc/systemd/system/getty.target.wants/serial-getty@hvc0.service' "$b?offset=1048576" >/dev/null 2>&1
"$IMAGE_TOOL" check "$b" 2>/dev/null && fail "check passed an image without a getty on hvc0"
rm -f "$b"
b=$(broken parttype)
sfdisk -q --part-type "$b" 1 7 >/dev/null 2>&1 || fail "sfdisk --part-type failed"
"$IMAGE_TOOL" check "$b" 2>/dev/null && fail "check passed a partition of type 7"
rm -f "$b"
b=$(broken fsck)
# Zero the first block group's inode table start: e2fsck -n then finds errors.
itab=$(dumpe2fs "$b?offset=1048576" 2>/dev/null | sed -n 's/^ *Inode table at \([0-9]*\)-.*/\1/p' | head -1)
[ -n "$itab" ] || fail "dumpe2fs found no inode table"
dd if=/dev/zero of="$b" bs=4096 seek=$(( itab + 256 )) count=4 conv=notrunc status=none
"$IMAGE_TOOL" check "$b" 2>/dev/null && fail "check passed a file system with a zeroed inode table"
rm -f "$b"
echo "PASS"
