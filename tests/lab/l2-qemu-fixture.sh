#!/bin/bash
# The guest fixture boots under Debian's QEMU 7.2 with -accel kvm inside the lab
# (the peer that later benchmarks compare domus-vmm against) and its /init runs
# the "uname" fixture test.  Fails unless the marker line with rc=0 and the
# kernel release come back.
set -uo pipefail
LAB=$1 BUILD=$2
fx=$("$(dirname "$LAB")/fixture" "$BUILD/fixture") || { echo "FAIL: building the fixture"; exit 1; }
kver=$(cat "$fx/kernel-version")
out=$("$LAB" run -- timeout 300 qemu-system-x86_64 -accel kvm -cpu host -m 512 -smp 1 \
	-nographic -no-reboot -kernel "$fx/vmlinuz" -initrd "$fx/initrd.img" \
	-append "console=ttyS0 quiet panic=-1 domus.test=uname" 2>&1)
rc=$?
echo "$out" | tail -n 30
[ $rc = 0 ] || { echo "FAIL: qemu exited with $rc"; exit 1; }
echo "$out" | grep -q "GUEST-UNAME $kver" || { echo "FAIL: no 'GUEST-UNAME $kver' from the guest"; exit 1; }
echo "$out" | grep -q "DOMUS-TEST-RESULT uname rc=0" || { echo "FAIL: no passing result marker"; exit 1; }
echo "ok: $kver reached /init under QEMU -accel kvm"
