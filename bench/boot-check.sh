#!/bin/bash
# bench/boot.table without a lab: boot.inner's lines (boots, a failed
# boot, initcall_debug lines) make the initcall table and the boot table,
# the medians and the ratio against the faster peer are right, the last
# line is exactly one "boot time domus/QEMU", and a run without a peer's
# boot fails without that line.
set -u
cd "$(dirname "$0")/.." || exit 1
fail() { echo "FAIL: $*"; exit 1; }
lines='domus total 1.0 monitor 0.1 guest 0.9 rss_kb 200000 guest_kb 196000
domus total 3.0 monitor 0.3 guest 2.7 rss_kb 200000 guest_kb 196000
domus total 2.0 monitor 0.2 guest 1.8 rss_kb 200000 guest_kb 196000
qemu total 4.0 monitor 1.0 guest 3.0 rss_kb 300000
qemu FAILED no DOMUS-INIT in 60 s
qemu10xen total 8.0 monitor 2.0 guest 6.0 rss_kb 310000
domus-initcall 5000 xenbus_probe_initcall+0x0/0x40
domus-initcall 7000 xenbus_probe_initcall+0x0/0x40
qemu-initcall 1000 pci_subsys_init+0x0/0x60
domus-initcall 9000 total'
out=$(echo "$lines" | bench/boot.table) || fail "the table failed on whole input: $out"
echo "$out" | grep -q '^guest initcalls' || fail "no initcall table: $out"
echo "$out" | grep -qE '^xenbus_probe_initcall\+0x0/0x40 +6\.0 +-' ||
	fail "xenbus_probe_initcall's median under domus is not 6.0 ms: $out"
echo "$out" | grep -qE '^total +9\.0' || fail "the initcall total row is not last-listed with 9.0: $out"
echo "$out" | grep -q 'median of 3/1/1 boots' || fail "boots counted wrong (the FAILED one counts for nothing): $out"
echo "$out" | grep -qE '^xl create / qemu start -> /init \(s\) +2\.00 \(1\.00-3\.00\) +4\.00 .* 0\.50$' ||
	fail "domus 2.00 (1.00-3.00) against QEMU 7.2's 4.00, ratio 0.50, not in: $out"
echo "$out" | grep -qE 'monitor memory beyond guest RAM \(MiB\) +3\.9' || fail "monitor memory not 3.9 MiB: $out"
[ "$(echo "$out" | tail -n 1)" = "boot time domus/QEMU: 0.50" ] || fail "last line: $(echo "$out" | tail -n 1)"
[ "$(echo "$out" | grep -c '^boot time domus/QEMU')" = 1 ] || fail "not exactly one headline line"
echo "ok: bench/boot.table: initcall medians, boot medians with spread, ratio 0.50 against the faster peer"
if out=$(echo "$lines" | grep -v '^qemu' | bench/boot.table 2>&1); then
	fail "no peer's boot, yet the table succeeded: $out"
fi
echo "$out" | grep -q '^boot time' && fail "no peer's boot, yet a headline: $out"
echo "ok: without a peer's boot: exit 1, no headline ($(echo "$out" | tail -n 1))"
