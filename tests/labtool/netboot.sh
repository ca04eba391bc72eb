#!/bin/bash
# lab/image netboot: Debian's netboot installer, fetched into the cache, is
# one the lab can install with (tests/lab/domain-install.sh):
#   - linux is an x86 boot image (the "HdrS" magic of the boot protocol at
#     0x202, Documentation/arch/x86/boot.rst), initrd.gz a gzip'd cpio;
#   - the initrd carries xen-netfront (the installer's network on a domU)
#     and the preseed udeb that reads /preseed.cfg;
#   - the mirror's installer component has the disk driver udeb
#     (scsi-modules, which holds xen-blkfront) for the initrd's kernel ABI:
#     anna takes no other (docs/image.md "Versions must match").
set -uo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*"; exit 1; }
MIRROR=${DOMUS_IMAGE_MIRROR:-$(lab/apt-mirror)} || fail "no Debian mirror in apt's sources"
d=$(lab/image netboot) || fail "lab/image netboot failed"
[ "$(lab/image netboot-path)" = "$d" ] || fail "netboot-path does not name $d"
[ "$(dd if="$d/linux" bs=1 skip=514 count=4 status=none)" = HdrS ] || fail "$d/linux is no x86 boot image"
list=$(zcat "$d/initrd.gz" | cpio -t --quiet 2>/dev/null) || fail "$d/initrd.gz is no gzip'd cpio"
kabi=$(echo "$list" | sed -n 's|^lib/modules/\([^/]*\)/.*|\1|p' | head -n 1)
[ -n "$kabi" ] || fail "no kernel modules in the initrd"
grep -q "^lib/modules/$kabi/.*/xen-netfront.ko" <<<"$list" || fail "no xen-netfront in the initrd ($kabi)"
st=$(zcat "$d/initrd.gz" | cpio -i --quiet --to-stdout var/lib/dpkg/status 2>/dev/null)
grep -q '^Package: initrd-preseed$' <<<"$st" ||
	fail "no initrd-preseed udeb in the initrd"
pk=$(curl -fsS -m 120 "$MIRROR/dists/bookworm/main/debian-installer/binary-amd64/Packages.xz" | xz -d) ||
	fail "cannot read the mirror's installer packages ($MIRROR)"
grep -q "^Package: scsi-modules-$kabi-di$" <<<"$pk" ||
	fail "the mirror has no scsi-modules-$kabi-di: the netboot package and the mirror are of different point releases"
echo "ok: $d: kernel $kabi, xen-netfront and initrd-preseed in the initrd, the mirror's scsi-modules-$kabi-di (xen-blkfront) match"
