#!/bin/bash
# The racer guest's own machinery under plain QEMU (TCG, -smp 4, no Xen, no
# lab): its PVH entry and command line, GDT and IDT, the TSC measured
# against the local APIC timer, vCPUs 1-3 started by INIT/SIPI through the
# trampoline at 0x8000, each racing its table with the hypercalls stubbed
# (no Xen here: VMCALL would be #UD) and saying whole lines under the output
# lock, and vCPU 0 ending the race after its seconds (isa-debug-exit instead
# of SCHEDOP_shutdown).  What needs Xen is domain-hcrace.sh's, in the lab.
# Skipped (77) without qemu-system-x86_64.
ELF=$1
SECS=3
command -v qemu-system-x86_64 >/dev/null || { echo "no qemu-system-x86_64: skipped"; exit 77; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
t0=$(date +%s%N)
timeout 120 qemu-system-x86_64 -M q35 -accel tcg -smp 4 -m 64 -display none -monitor none -serial none \
	-debugcon "file:$log" -device isa-debug-exit,iobase=0xf4,iosize=1 -kernel "$ELF" \
	-append "hcrace=poweroff:$SECS hcrace.vcpus=4" -no-reboot
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
out=$(tr -d '\0\r' <"$log")
echo "$out" | head -n 20; echo "... ($(echo "$out" | grep -c .) lines)"; echo "$out" | tail -n 5
fail() { echo "FAIL: $*"; exit 1; }
[ "$rc" -eq 33 ] || fail "QEMU exited $rc, not 33 (vCPU 0's isa-debug-exit)"
echo "$out" | grep -q "^HCRACE-FAULT" && fail "a vCPU took an exception: $(echo "$out" | grep '^HCRACE-FAULT')"
echo "$out" | grep -q "^HCRACE-ERROR" && fail "$(echo "$out" | grep '^HCRACE-ERROR')"
echo "$out" | grep -qx "HCRACE-BOOT mode=poweroff secs=$SECS want=4" || fail "the command line was not read"
echo "$out" | grep -qE "^HCRACE-START vcpus=4 clock=lapic-timer tsc_per_ms=[1-9][0-9]*$" ||
	fail "not 4 vCPUs up with a measured clock"
for v in 1 2 3; do
	echo "$out" | grep -qE "^HCRACE-ROUND vcpu=$v calls=[1-9][0-9]* ok=0$" || fail "vCPU $v never said it raced"
done
echo "$out" | grep -qE "^HCRACE-SHUTDOWN vcpu=0 calls=[1-9][0-9]* ok=0$" || fail "vCPU 0 did not end the race"
# Four vCPUs printing at once: every line whole (an empty one is console_io's).
bad=$(echo "$out" | grep -vE '^$|^HCRACE-(BOOT|START) |^HCRACE-(ROUND|SHUTDOWN) vcpu=[0-3] calls=[0-9]+ ok=0$' | head -n 3)
[ -z "$bad" ] || fail "lines cut or mixed: $bad"
[ "$ms" -ge $((SECS * 1000)) ] || fail "QEMU ran $ms ms, less than the guest's $SECS s race"
echo "ok: entry, command line, IDT, TSC clock, 4 vCPUs by INIT/SIPI, per-vCPU races and whole lines, vCPU 0's end (QEMU ran $ms ms)"
