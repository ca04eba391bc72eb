#!/bin/bash
# The attacker guest's own machinery under plain QEMU (TCG, no Xen, no lab):
# its PVH entry, GDT and IDT, the local APIC timer as its clock and HLT as
# its wait (a 300 ms wait measured by the timer while QEMU's own clock
# runs), and an exception (UD2) reported as "XSATTACK-DONE fault vector=6".
# What needs Xen (its ring, the hypercalls) is domain-xsattack.sh's, in the
# lab.  Skipped (77) without qemu-system-x86_64.
ELF=$1
command -v qemu-system-x86_64 >/dev/null || { echo "no qemu-system-x86_64: skipped"; exit 77; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
t0=$(date +%s%N)
timeout 120 qemu-system-x86_64 -M q35 -accel tcg -m 64 -display none -monitor none -serial none \
	-debugcon "file:$log" -device isa-debug-exit,iobase=0xf4,iosize=1 -kernel "$ELF" -no-reboot
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
cat "$log"; echo
[ "$rc" -eq 33 ] || { echo "FAIL: QEMU exited $rc, not 33 (the fault handler's isa-debug-exit)"; exit 1; }
grep -q "XSATTACK-START clock=lapic-timer waited_ms=3[0-9][0-9]$" "$log" ||
	{ echo "FAIL: no ticking clock or no 300 ms wait"; exit 1; }
grep -q "^XSATTACK-DONE fault vector=6$" "$log" || { echo "FAIL: the UD2 was not reported as vector 6"; exit 1; }
# The wait was a real one: QEMU ran at least that long.
[ "$ms" -ge 300 ] || { echo "FAIL: QEMU ran $ms ms, less than the guest's 300 ms wait"; exit 1; }
echo "ok: entry, GDT, IDT, timer clock, HLT wait and fault report work (QEMU ran $ms ms)"
