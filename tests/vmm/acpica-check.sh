#!/bin/sh
# Integration: ACPICA itself (acpiexec, the interpreter Linux embeds) loads
# the tables domus-bootinfo builds without a table warning and evaluates
# \_S5 to SLP_TYP 5.  (Its 'sleep 5' command also works but stalls 10 s in
# acpi_hw_legacy_sleep's S4/S5 retry.)  Skips (77) without acpica-tools
# or without the lab fixture kernel.
set -eu
bootinfo=$1
fixture=$2
command -v acpiexec >/dev/null 2>&1 || { echo "SKIP: acpiexec (acpica-tools) not installed"; exit 77; }
[ -r "$fixture/vmlinuz" ] || { echo "SKIP: no $fixture/vmlinuz (lab/fixture builds it)"; exit 77; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
"$bootinfo" -n 2 -a "$d" "$fixture/vmlinuz" >/dev/null
out=$(cd "$d" && acpiexec -b 'evaluate \_S5' FACP.dat DSDT.dat APIC.dat 2>&1) || true
fail() { echo "$out"; echo "FAIL: $1"; exit 1; }
echo "$out" | grep -q 'FACP .*(v06 DOMUS' || fail "FADT not loaded"
echo "$out" | grep -q 'APIC .*(v04 DOMUS' || fail "MADT not loaded"
[ "$(echo "$out" | grep -c '\[Integer\] = 0000000000000005')" = 2 ] || fail "\\_S5 is not {5, 5, 0, 0}"
if echo "$out" | grep -Ei 'warning|checksum|length mismatch|invalid'; then
	fail "ACPICA complained about the tables"
fi
echo "ACPICA: tables load, \\_S5 = {5, 5, 0, 0}"
