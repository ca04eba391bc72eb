#!/bin/bash
# bootloader = "pygrub" (xl/ts_bootloader.c, docs/bootloader.md): a disk
# image with the fixture's kernel and initramfs in /boot and a grub.cfg, and
# no kernel= in the config.
#   1. xl create runs Debian's pygrub in its sandbox on the disk; the guest
#      boots the kernel from the disk to the fixture's /init, with grub.cfg's
#      command line plus the config's extra=; nothing of the boot loader is
#      left (its run directory copies, its staging directory, its processes).
#   2. xl reboot (on_reboot = "restart") runs the boot loader again, as libxl
#      does, and the guest comes back under a new id.
#   3. a disk without a boot loader configuration: xl create fails in one
#      line naming the disk and its config line; nothing is started or left.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
command -v mkfs.ext4 >/dev/null || fail "e2fsprogs (mkfs.ext4) missing on the host"
[ -x /usr/lib/xen-4.17/bin/pygrub ] || fail "pygrub missing on the host (xen-utils-4.17)"

# The boot disk: the fixture's kernel and initramfs under /boot, and a
# grub.cfg whose first entry boots them with the remote test.
R=$T/root
mkdir -p "$R/boot/grub"
cp "$FX/vmlinuz" "$R/boot/vmlinuz-domus"
cp "$FX/initrd.img" "$R/boot/initrd.img-domus"
cat >"$R/boot/grub/grub.cfg" <<'EOF'
set default=0
set timeout=5
menuentry 'domus fixture (pygrub)' {
	linux /boot/vmlinuz-domus console=hvc0 quiet domus.test=remote domus.pygrub=grubcfg
	initrd /boot/initrd.img-domus
}
menuentry 'never booted' {
	linux /boot/vmlinuz-domus console=hvc0 domus.test=panic
}
EOF
IMG=$T/boot.img
mib=$(( $(du -sm "$R" | cut -f1) + 48 ))
truncate -s "${mib}M" "$IMG"
mkfs.ext4 -q -F -d "$R" "$IMG" || fail "mkfs.ext4 -d failed"
ok "boot disk: ${mib} MiB ext4 with /boot/grub/grub.cfg, the fixture's kernel and initramfs"

# bootcfg NAME DISK: a config with bootloader= and no kernel=
bootcfg() {
	local f="$T/$1.cfg"
	rm -f "$(conlog "$1")" "$T/$1.gexec" "$LOGDIR/bootloader-$1.log"
	cat >"$f" <<EOF
name = "$1"
memory = 512
bootloader = "pygrub"
extra = "domus.extra=cfg"
on_reboot = "restart"
disk = [ '$2' ]
EOF
	echo "$f"
}
# No boot loader's leftovers: staging directory, copies, processes of its uids.
bl_leftovers() {
	local left
	left=$(ls -d /run/domus/bootloader.* /run/domus/*/bootloader-* 2>/dev/null)
	[ -z "$left" ] || fail "the boot loader left: $left"
	left=$(ps -eo uid=,pid=,args= | awk '$1 >= 2130706432 && $1 < 2134900736')
	[ -z "$left" ] || fail "the boot loader's processes are still there: $left"
	grep -q " /run/domus/bootloader\." /proc/self/mountinfo && fail "a boot loader mount is still there"
	return 0
}

# 1. boot through pygrub
"$XL" create "$(bootcfg pyg1 "file:$IMG,xvda,r")" || fail "xl create with bootloader=pygrub failed"
id=$(domid_of pyg1); [ -n "$id" ] || fail "pyg1 is not in xl list"
gready pyg1 300 || fail "the guest booted by pygrub did not reach /init (remote test)"
ok "pygrub booted the disk's kernel as domain $id to the fixture's /init"
cmdline=$(gexec pyg1 "cat /proc/cmdline") || fail "cannot read the guest's /proc/cmdline"
case " $cmdline " in
*" domus.pygrub=grubcfg "*"domus.extra=cfg "*) ok "the guest's command line is grub.cfg's plus extra=: $cmdline" ;;
*) fail "the guest's command line is \"$cmdline\", not grub.cfg's plus extra=" ;;
esac
grep -q "chose a kernel and a ramdisk" "$LOGDIR/bootloader-pyg1.log" || fail "the boot loader's log does not say what it chose"
grep -q "namespaces: user mount pid net ipc uts" "$LOGDIR/bootloader-pyg1.log" ||
	echo "note: the lab's boot loader ran without some namespace: $(grep sandbox: "$LOGDIR/bootloader-pyg1.log")"
bl_leftovers
ok "nothing of the boot loader's is left while the domain runs"

# 2. a reboot runs the boot loader again
"$XL" reboot pyg1 || fail "xl reboot failed"
end=$(( $(date +%s) + 300 )); nid=""
while [ "$(date +%s)" -le "$end" ]; do
	nid=$(domid_of pyg1); [ -n "$nid" ] && [ "$nid" != "$id" ] && break; sleep 0.5
done
if [ -z "$nid" ] || [ "$nid" = "$id" ]; then fail "on_reboot=restart did not bring pyg1 back with a new id"; fi
leftovers "$id"
end=$(( $(date +%s) + 300 ))
until [ "$(grep -c DOMUS-INIT "$(conlog pyg1)")" -ge 2 ]; do
	[ "$(date +%s)" -le "$end" ] || fail "the restarted guest did not reach /init"
	sleep 0.5
done
[ "$(grep -c "chose a kernel and a ramdisk" "$LOGDIR/bootloader-pyg1.log")" = 2 ] ||
	fail "the boot loader did not run again for the reboot: $(grep -c "chose a kernel" "$LOGDIR/bootloader-pyg1.log") runs"
bl_leftovers
ok "the reboot ran the boot loader again: pyg1 is back as domain $nid (was $id)"
"$XL" destroy pyg1 || fail "xl destroy failed"
wait_gone pyg1 60 || fail "pyg1 did not go away"
leftovers "$nid"

# 3. a disk the boot loader finds nothing on
mkdir -p "$T/empty/boot"
EMPTY=$T/empty.img
truncate -s 16M "$EMPTY"
mkfs.ext4 -q -F -d "$T/empty" "$EMPTY" || fail "mkfs.ext4 -d failed"
cfg=$(bootcfg pyg2 "file:$EMPTY,xvda,r")
err=$("$XL" create -q "$cfg" 2>&1) && fail "xl create of a disk without grub.cfg succeeded"
[ "$(grep -c . <<<"$err")" = 1 ] || fail "not one line: $err"
grep -q "^xl: disk xvda ($cfg:6, $EMPTY): boot loader pygrub: no boot loader configuration on it" <<<"$err" ||
	fail "unexpected error: $err"
[ -z "$(domid_of pyg2)" ] || fail "pyg2 is listed after its boot loader failed"
bl_leftovers
ok "a disk without a boot loader configuration: $err"
