#!/bin/bash
# The boot loader as xl create runs it (xl/ts_bootloader.c, docs/bootloader.md),
# through bl-run (tests/xl/bl_run.c), on this host, without a domain:
#  - Debian's pygrub on ext4 disks made here (whole-disk, MBR- and
#    GPT-partitioned, grub.cfg, menu.lst and extlinux.conf, a 0600 image and a
#    read-only loop block device): the kernel and initrd bytes that come out
#    are the ones on the disk, the command line is grub's plus extra=;
#  - every bad input gives one line naming the disk, its config line and what
#    was found, and leaves nothing behind (no process of the sandbox's uids,
#    no mount, no directory);
#  - a boot loader script of our own probes its sandbox from inside: it must
#    run as an unprivileged uid without groups, reach no network, see no
#    /etc/shadow nor the host's files, write nowhere but its output directory;
#    and xl must refuse the paths it returns when they point out of it.
# Needs root (namespaces, uids); exits 77 (skipped) otherwise.
# Usage: bootloader.sh BL-RUN PRELOAD
set -u
BLRUN=$1
export DOMUS_BL_PRELOAD=$2
ONPTY=$(dirname "$0")/onpty.py
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (namespaces, setuid)"; exit 77; }
PYGRUB=/usr/lib/xen-4.17/bin/pygrub
[ -x "$PYGRUB" ] || { echo "skipped: $PYGRUB missing (xen-utils-4.17)"; exit 77; }
for t in mkfs.ext4 sfdisk; do
	command -v $t >/dev/null || { echo "skipped: $t missing"; exit 77; }
done

T=$(mktemp -d /tmp/domus-bl.XXXXXX)
export DOMUS_RUN_DIR=$T/run
mkdir -p "$DOMUS_RUN_DIR"
LISTENER=
LOOPDEV=
cleanup() {
	[ -n "$LISTENER" ] && kill "$LISTENER" 2>/dev/null
	[ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "FAIL - $1"; fail=$((fail + 1)); }

# A root tree: /boot with a kernel and an initrd of random bytes, and the
# boot loader configuration given on stdin at path $2.
mktree() { # DIR CFGPATH
	mkdir -p "$1/boot" "$1/$(dirname "$2")"
	head -c 300000 /dev/urandom >"$1/boot/vmlinuz-6.1.0-test"
	head -c 120000 /dev/urandom >"$1/boot/initrd.img-6.1.0-test"
	head -c 200000 /dev/urandom >"$1/boot/vmlinuz-other"
	cat >"$1/$2"
}
GRUBCFG='set default=0
set timeout=5
menuentry "Debian GNU/Linux" {
	linux /boot/vmlinuz-6.1.0-test root=/dev/xvda1 ro console=hvc0
	initrd /boot/initrd.img-6.1.0-test
}
menuentry "Other" {
	linux /boot/vmlinuz-other root=/dev/xvda1 single
}'
# A file system image of a tree.
mkfs() { # IMG DIR
	rm -f "$1"
	truncate -s 24M "$1"
	mkfs.ext4 -q -F -d "$2" "$1" >/dev/null 2>&1
}
# A disk with a partition table (dos or gpt) and the file system of DIR in
# its one partition, at 1 MiB.
mkpart() { # IMG LABEL DIR
	local fs=$T/part.fs
	mkfs "$fs" "$3"
	rm -f "$1"
	truncate -s 32M "$1"
	printf 'label: %s\nstart=2048, size=49152, type=%s\n' "$2" \
		"$([ "$2" = gpt ] && echo 0FC63DAF-8483-4772-8E79-3D69D8477DE4 || echo 83)" |
		sfdisk -q "$1" >/dev/null
	dd if="$fs" of="$1" bs=1M seek=1 conv=notrunc status=none
	rm -f "$fs"
}
cfg() { # NAME DISK-SPEC [LINES...]
	local name=$1 disk=$2
	shift 2
	{
		echo "name = \"$name\""
		echo "memory = 128"
		echo "bootloader = \"${BL:-pygrub}\""
		for l in "$@"; do echo "$l"; done
		[ -n "$disk" ] && echo "disk = [ '$disk' ]"
	} >"$T/$name.cfg"
}
# run NAME: bl-run on $T/NAME.cfg into $T/NAME.out; stderr in $T/NAME.err
run() {
	rm -rf "$T/$1.out"
	mkdir -p "$T/$1.out"
	"$BLRUN" "$T/$1.cfg" "$T/$1.out" 2>"$T/$1.err"
}
# Nothing of the sandbox's: its uids own no process, no mount names the run
# directory, the run directory is empty.
leftovers() {
	local procs mounts files
	procs=$(ps -eo uid=,pid=,args= | awk '$1 >= 2130706432 && $1 < 2134900736')
	mounts=$(grep -c "$T" /proc/self/mountinfo)
	files=$(ls -A "$DOMUS_RUN_DIR")
	[ -z "$procs" ] && [ "$mounts" = 0 ] && [ -z "$files" ] && return 0
	echo "  left behind: procs [$procs] mounts [$mounts] run dir [$files]"
	return 1
}
# good NAME WHAT KERNEL INITRD|- CMDLINE
good() {
	local name=$1 what=$2 k=$3 i=$4 args=$5
	if ! run "$name"; then
		bad "$what: $(cat "$T/$name.err")"
		return
	fi
	if ! cmp -s "$T/$name.out/kernel" "$k"; then
		bad "$what: the kernel's bytes differ"
	elif [ "$i" != - ] && ! cmp -s "$T/$name.out/ramdisk" "$i"; then
		bad "$what: the initrd's bytes differ"
	elif [ "$i" = - ] && [ -e "$T/$name.out/ramdisk" ]; then
		bad "$what: a ramdisk came out where none was configured"
	elif [ "$(cat "$T/$name.out/cmdline")" != "$args" ]; then
		bad "$what: command line \"$(cat "$T/$name.out/cmdline")\", expected \"$args\""
	elif ! leftovers; then
		bad "$what: left something behind"
	else
		ok "$what"
	fi
}
# refused NAME WHAT PATTERN: one line on stderr matching PATTERN, exit 1,
# nothing left behind.
refused() {
	local name=$1 what=$2 pat=$3
	if run "$name"; then
		bad "$what: accepted"
	elif [ "$(wc -l <"$T/$name.err")" != 1 ]; then
		bad "$what: not one line: $(cat "$T/$name.err")"
	elif ! grep -qE -- "$pat" "$T/$name.err"; then
		bad "$what: \"$(cat "$T/$name.err")\" does not match /$pat/"
	elif ! leftovers; then
		bad "$what: left something behind"
	else
		ok "$what: $(cat "$T/$name.err")"
	fi
}

# ---- pygrub on good disks ----
R=$T/tree-grub
mktree "$R" boot/grub/grub.cfg <<<"$GRUBCFG"
K=$R/boot/vmlinuz-6.1.0-test I=$R/boot/initrd.img-6.1.0-test
mkfs "$T/whole.img" "$R"
chmod 0600 "$T/whole.img"
cfg whole "file:$T/whole.img,xvda,w" 'extra = "quiet"'
good whole "pygrub, whole-disk ext4 (a root-only 0600 image), grub.cfg: kernel, initrd, grub's args + extra=" \
	"$K" "$I" "root=/dev/xvda1 ro console=hvc0 quiet"

mkpart "$T/mbr.img" dos "$R"
cfg mbr "$T/mbr.img,raw,xvda,w"
good mbr "pygrub, MBR-partitioned disk (partition at 1 MiB)" "$K" "$I" "root=/dev/xvda1 ro console=hvc0"

mkpart "$T/gpt.img" gpt "$R"
cfg gpt "file:$T/gpt.img,xvda,w"
good gpt "pygrub, GPT-partitioned disk" "$K" "$I" "root=/dev/xvda1 ro console=hvc0"

cfg entry "file:$T/whole.img,xvda,w" 'bootloader_args = [ "--entry=1" ]'
good entry "pygrub, bootloader_args = [ \"--entry=1\" ] picks the second entry (no initrd)" \
	"$R/boot/vmlinuz-other" - "root=/dev/xvda1 single"

# xl create -c: pygrub's menu on the user's terminal (a pty here, through
# xl's copy to a pty of the sandbox's), Down and Enter pick the second entry.
rm -rf "$T/whole.out"
mkdir -p "$T/whole.out"
if ! BL_INTERACTIVE=1 "$ONPTY" '\x1bOB\r' "$BLRUN" "$T/whole.cfg" "$T/whole.out" >"$T/pty.log" 2>&1; then
	bad "pygrub's menu on a terminal: $(tail -c 300 "$T/pty.log")"
elif ! grep -q "menu shown" "$T/pty.log"; then
	bad "pygrub's menu on a terminal: no menu seen"
elif ! cmp -s "$T/whole.out/kernel" "$R/boot/vmlinuz-other" || [ -e "$T/whole.out/ramdisk" ] ||
	[ "$(cat "$T/whole.out/cmdline")" != "root=/dev/xvda1 single quiet" ]; then
	bad "pygrub's menu on a terminal: Down, Enter did not boot the second entry ($(cat "$T/whole.out/cmdline"))"
elif ! leftovers; then
	bad "pygrub's menu on a terminal: left something behind"
else
	ok "pygrub's menu on a terminal (xl create -c): Down, Enter boot the second entry"
fi

R2=$T/tree-lst
mktree "$R2" boot/grub/menu.lst <<'EOF'
default 0
timeout 1
title Debian (menu.lst)
	root (hd0,0)
	kernel /boot/vmlinuz-6.1.0-test root=/dev/xvda1 ro
	initrd /boot/initrd.img-6.1.0-test
EOF
mkfs "$T/lst.img" "$R2"
cfg lst "file:$T/lst.img,xvda,w"
good lst "pygrub, grub legacy menu.lst" "$R2/boot/vmlinuz-6.1.0-test" "$R2/boot/initrd.img-6.1.0-test" \
	"root=/dev/xvda1 ro"

# pygrub's ExtLinuxConf takes the initrd from APPEND's initrd= (not INITRD).
R3=$T/tree-ext
mktree "$R3" boot/extlinux/extlinux.conf <<'EOF'
DEFAULT debian
LABEL debian
	KERNEL /boot/vmlinuz-6.1.0-test
	APPEND root=/dev/xvda1 ro console=hvc0 initrd=/boot/initrd.img-6.1.0-test
EOF
mkfs "$T/ext.img" "$R3"
cfg ext "file:$T/ext.img,xvda,w"
good ext "pygrub, extlinux.conf" "$R3/boot/vmlinuz-6.1.0-test" "$R3/boot/initrd.img-6.1.0-test" \
	"root=/dev/xvda1 ro console=hvc0"

# A block device (root:disk 0660): a read-only loop device of the image.
if LOOPDEV=$(losetup -f -r --show "$T/mbr.img" 2>/dev/null); then
	cfg phy "phy:$LOOPDEV,xvda,r"
	good phy "pygrub, phy: block device ($LOOPDEV, partitioned)" "$K" "$I" "root=/dev/xvda1 ro console=hvc0"
	losetup -d "$LOOPDEV"
	LOOPDEV=
else
	echo "# no loop device here: the phy: case is not run"
fi

# An xl killed while its boot loader ran left its (empty) staging directory:
# the next run removes it, and leaves a live xl's alone.
sleep 1000 &
live=$!
mkdir "$DOMUS_RUN_DIR/bootloader.999999999" "$DOMUS_RUN_DIR/bootloader.$live"
cfg stale "file:$T/whole.img,xvda,w"
run stale
if [ -e "$DOMUS_RUN_DIR/bootloader.999999999" ] || [ ! -d "$DOMUS_RUN_DIR/bootloader.$live" ]; then
	bad "a dead xl's staging directory: $(ls "$DOMUS_RUN_DIR")"
else
	ok "a dead xl's staging directory is removed, a live one's kept"
fi
kill "$live"
rmdir "$DOMUS_RUN_DIR/bootloader.$live"

# ---- bad inputs: one line each, nothing left ----
R4=$T/tree-empty
mkdir -p "$R4/boot"
head -c 1000 /dev/urandom >"$R4/boot/vmlinuz"
mkfs "$T/nocfg.img" "$R4"
cfg nocfg "file:$T/nocfg.img,xvda,w"
refused nocfg "a disk with no boot loader configuration" \
	"^xl: disk xvda \\($T/nocfg.cfg:4, $T/nocfg.img\\): boot loader pygrub: no boot loader configuration on it"

R5=$T/tree-missing
mktree "$R5" boot/grub/grub.cfg <<'EOF'
menuentry "gone" {
	linux /boot/vmlinuz-not-here root=/dev/xvda1
}
EOF
mkfs "$T/missing.img" "$R5"
cfg missing "file:$T/missing.img,xvda,w"
refused missing "a grub.cfg whose kernel is not on the disk" \
	"disk xvda \\($T/missing.cfg:4, .*\\): .*names /boot/vmlinuz-not-here, which is not on the disk"

head -c 24M /dev/urandom >"$T/random.img"
cfg random "file:$T/random.img,xvda,w"
refused random "a disk of no known file system" \
	"disk xvda \\($T/random.cfg:4, .*\\): .*no file system the boot loader can read on it"

{ printf 'LUKS\272\276\0\2'; head -c 2M /dev/zero; } >"$T/luks.img"
cfg luks "file:$T/luks.img,xvda,w"
refused luks "a LUKS-encrypted disk" "disk xvda \\($T/luks.cfg:4, .*\\): .*LUKS-encrypted"

cfg nodisk ""
refused nodisk "bootloader with no disk" "^xl: $T/nodisk.cfg:3: bootloader: \"pygrub\" .*the domain has none"

BL=no-such-loader cfg noprog "file:$T/whole.img,xvda,w"
refused noprog "a missing boot loader program" "^xl: $T/noprog.cfg:3: bootloader: \"no-such-loader\": not found in /usr/lib/xen-4.17/bin"

printf 'QFI\373\0\0\0\3' >"$T/d.qcow2"
head -c 1016 /dev/zero >>"$T/d.qcow2"
cfg qcow "format=qcow2,vdev=xvda,target=$T/d.qcow2"
refused qcow "a qcow2 disk" "disk xvda \\($T/qcow.cfg:4, .*\\): format qcow2: the boot loader reads raw images and block devices"

# pygrub extracting a kernel larger than its file size limit.
R6=$T/tree-big
mktree "$R6" boot/grub/grub.cfg <<<"$GRUBCFG"
head -c 3M /dev/urandom >"$R6/boot/vmlinuz-6.1.0-test"
mkfs "$T/big.img" "$R6"
cfg big "file:$T/big.img,xvda,w"
DOMUS_BOOTLOADER_FSIZE_MB=1 refused big "pygrub extracting a kernel over its file size limit (1 MiB)" \
	"disk xvda .*larger than its limit of 1 MiB"

# ---- boot loaders of our own, hostile or broken ----
S=$T/scripts
mkdir -p "$S"
# result ITEM...: the simple0 result (each script carries this; only the
# program itself is in its sandbox)
cat >"$S/lib.sh" <<'EOF'
out=; for a; do case $a in --output=*) out=${a#--output=};; esac; done
result() { for i; do printf '%s\0' "$i"; done >"$out"; printf '\0' >>"$out"; }
EOF
mkscript() { # NAME BODY
	{ echo '#!/bin/bash'; cat "$S/lib.sh" -; } >"$S/$1"
	chmod 0755 "$S/$1"
}
mkscript hang <<'EOF'
sleep 1000 & sleep 1000
EOF
BL=$S/hang cfg hang "file:$T/whole.img,xvda,w"
DOMUS_BOOTLOADER_TIMEOUT=2 refused hang "a boot loader that hangs (and starts another process)" \
	"disk xvda .*: the boot loader hang gave no answer within 2 s and was killed"

mkscript chatty <<'EOF'
while :; do echo "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; done
EOF
BL=$S/chatty cfg chatty "file:$T/whole.img,xvda,w"
refused chatty "a boot loader that prints without end" "printed more than 4 MiB and was killed"

mkscript bigresult <<'EOF'
head -c 100000 /dev/zero | tr '\0' x >"$out"
EOF
BL=$S/bigresult cfg bigresult "file:$T/whole.img,xvda,w"
refused bigresult "a boot loader whose result is huge" "its result is 100000 bytes, more than 65536"

mkscript fills <<'EOF'
head -c 3M /dev/zero >/out/fill || exit 3
EOF
BL=$S/fills cfg fills "file:$T/whole.img,xvda,w"
DOMUS_BOOTLOADER_FSIZE_MB=1 refused fills "a boot loader writing past its file size limit" \
	"failed \\(exit status 3\\).*(File size limit exceeded|File too large)"

mkscript fails <<'EOF'
echo "something went wrong in the guest's config" >&2; exit 4
EOF
BL=$S/fails cfg fails "file:$T/whole.img,xvda,w"
refused fails "a boot loader that fails" "boot loader fails: it failed \\(exit status 4\\): something went wrong"

# Paths out of its output directory.
mkscript escape-dotdot <<'EOF'
echo k >/out/k; result "kernel /out/../etc/passwd"
EOF
mkscript escape-abs <<'EOF'
result "kernel /usr/bin/bash"
EOF
mkscript escape-link <<'EOF'
ln -s /etc/passwd /out/k; result "kernel /out/k"
EOF
mkscript escape-fifo <<'EOF'
mkfifo /out/k; result "kernel /out/k"
EOF
mkscript nokernel <<'EOF'
result "args x"
EOF
for e in escape-dotdot escape-abs escape-link escape-fifo nokernel; do
	BL=$S/$e cfg "$e" "file:$T/whole.img,xvda,w"
done
refused escape-dotdot "a kernel path with .." "it named kernel \"/out/../etc/passwd\", not a file in its output directory"
refused escape-abs "a kernel path outside its output directory" "it named kernel \"/usr/bin/bash\", not a file in its output directory"
refused escape-link "a kernel that is a symlink out" "the kernel it named \\(/out/k\\): Too many levels of symbolic links"
refused escape-fifo "a kernel that is a fifo" "the kernel it named \\(/out/k\\) is not a regular file"
refused nokernel "a result without a kernel" "it named no kernel"

# The sandbox, from inside.  A listener on the host's loopback that a
# connect would reach without a network namespace or the seccomp filter.
PORT=$((20000 + RANDOM % 20000))
python3 -c "
import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $PORT)); s.listen(1); s.settimeout(30)
try:
    c,_=s.accept(); open('$T/connected','w').write('yes')
except Exception: pass
" &
LISTENER=$!
echo secret >"$T/host-secret"
chmod 0644 "$T/host-secret"
mkscript probe <<EOF
say=()
say+=("uid=\$(id -u) gid=\$(id -g) groups=\$(id -G)")
(exec 5<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && say+=(net=open) || say+=(net=denied)
cat /etc/shadow >/dev/null 2>&1 && say+=(shadow=read) || say+=(shadow=denied)
cat $T/host-secret >/dev/null 2>&1 && say+=(hostfile=read) || say+=(hostfile=denied)
( : >/tmp/x ) 2>/dev/null && say+=(tmp=written) || say+=(tmp=denied)
( : >/usr/x ) 2>/dev/null && say+=(usr=written) || say+=(usr=denied)
( : >/x ) 2>/dev/null && say+=(root=written) || say+=(root=denied)
( : >$S/x ) 2>/dev/null && say+=(scripts=written) || say+=(scripts=denied)
ls /proc/1 >/dev/null 2>&1 && say+=(proc=visible) || say+=(proc=absent)
ip=\$(cat /proc/net/dev 2>/dev/null | wc -l); say+=("netdev=\$ip")
head -c 16 <&3 >/dev/null && say+=(disk=readable) || say+=(disk=unreadable)
( echo x >>/dev/fd/3 ) 2>/dev/null && say+=(diskwrite=yes) || say+=(diskwrite=no)
ulimit -f >/dev/null; say+=("fsize=\$(ulimit -f)")
echo kernel >/out/k
result "kernel /out/k" "args \${say[*]}"
EOF
BL=$S/probe cfg probe "file:$T/whole.img,xvda,w"
# probe WHAT: the probe's findings, as they must be
probe() {
	local got uid want
	if ! run probe; then
		bad "$1: $(cat "$T/probe.err")"
		return
	fi
	got=$(cat "$T/probe.out/cmdline")
	echo "# the probe found: $got"
	uid=$(sed -n 's/^uid=\([0-9]*\) .*/\1/p' <<<"$got")
	want="net=denied shadow=denied hostfile=denied tmp=denied usr=denied root=denied scripts=denied proc=absent netdev=0 disk=readable diskwrite=no fsize=262144"
	if [ -z "$uid" ] || [ "$uid" -lt 2130706432 ] || [ "$uid" -ge 2134900736 ]; then
		bad "$1: runs as uid '$uid', not one of the boot loader's range"
	elif ! grep -q "^uid=$uid gid=$uid groups=$uid " <<<"$got"; then
		bad "$1: uid, gid or groups wrong: $got"
	elif [ "${got#* groups="$uid" }" != "$want" ]; then
		bad "$1: \"${got#* groups="$uid" }\", expected \"$want\""
	elif [ -e "$T/connected" ]; then
		bad "$1: the host's listener was reached"
	elif ! leftovers; then
		bad "$1: left something behind"
	else
		ok "$1: uid $uid without groups, no network, no /etc/shadow nor host files, writes only its output, the disk read-only as fd 3"
	fi
}
probe "sandbox"

# A host without user, pid, net, ipc and uts namespaces (simulated): the
# log says so, pygrub still works, the walls that remain hold (the seccomp
# filter refuses sockets), and the sweep of its uid leaves no process.
export DOMUS_BOOTLOADER_NAMESPACES=
good whole "mount namespace only: pygrub" "$K" "$I" "root=/dev/xvda1 ro console=hvc0 quiet"
if grep -q "sandbox: no user namespace (DOMUS_BOOTLOADER_NAMESPACES)" "$T/whole.out/bootloader.log" &&
	grep -q "namespaces: mount, timeout" "$T/whole.out/bootloader.log"; then
	ok "mount namespace only: the log says which namespaces it lacks"
else
	bad "mount namespace only: the log does not say so: $(grep sandbox "$T/whole.out/bootloader.log")"
fi
DOMUS_BOOTLOADER_TIMEOUT=2 refused hang "mount namespace only: a boot loader that hangs, with a child" \
	"the boot loader hang gave no answer within 2 s and was killed"
probe "mount namespace only: sandbox"
unset DOMUS_BOOTLOADER_NAMESPACES

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
