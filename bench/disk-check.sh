#!/bin/bash
# bench/disk's host-side parts, without a lab: tests/guest/fiobench.sh runs
# its six jobs with the installed fio on a small file and prints six results
# (and errors when fio cannot run them); bench/disk.table makes the table,
# ends in exactly one "disk domus/QEMU virtio-blk" line and fails when a row
# lacks a pair.
set -u
cd "$(dirname "$0")/.." || exit 1
command -v fio >/dev/null || { echo "SKIP: fio is not installed (scripts/deps installs it)"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# O_DIRECT wants a file system that takes it: try the temporary directory,
# then the build tree (meson runs tests there).
img=""
for d in "$T" "$PWD"; do
	f="$d/fiobench-check.img.$$"
	truncate -s 32M "$f" 2>/dev/null || continue
	if fio --name=probe --filename="$f" --direct=1 --rw=read --bs=4k --size=4k \
		--output-format=terse >/dev/null 2>&1; then img=$f; break; fi
	rm -f "$f"
done
[ -n "$img" ] || { echo "SKIP: no directory here takes O_DIRECT"; exit 77; }
trap 'rm -rf "$T"; rm -f "$img"' EXIT

out=$(FIO_DEV=$img FIO_RUNTIME=1 FIO_MIB=32 sh tests/guest/fiobench.sh 2>&1)
rc=$?
[ "$rc" = 0 ] || { echo "$out"; fail "fiobench.sh exited with $rc"; }
for job in seqread seqwrite randread1 randwrite1 randread32 randwrite32; do
	echo "$out" | grep -qE "^GUEST-FIO-RESULT $job bw_kib [1-9][0-9]* iops [1-9][0-9]*$" ||
		{ echo "$out"; fail "no result for $job"; }
done
[ "$(echo "$out" | grep -c '^GUEST-FIO-RESULT ')" = 6 ] || { echo "$out"; fail "not six results"; }
echo "ok: fiobench.sh: six results from fio $(fio --version)"

out=$(FIO_DEV=$img FIO_RUNTIME=1 FIO_MIB=32 FIO_ENGINE=no-such-engine sh tests/guest/fiobench.sh 2>&1)
rc=$?
[ "$rc" != 0 ] || fail "fiobench.sh succeeded with an engine fio does not have"
echo "$out" | grep -q '^GUEST-FIO-RESULT' && fail "a result from an engine fio does not have"
echo "$out" | grep -q '^GUEST-FIO-ERROR randwrite32 ' || { echo "$out"; fail "no error line for randwrite32"; }
echo "ok: fiobench.sh: a job fio cannot run is an error line, not a result"

rows() { # rows PEER BW IOPS: six rows of one peer
	for job in seqread seqwrite randread1 randwrite1 randread32 randwrite32; do
		echo "row $1 $job bw_kib $2 iops $3"
	done
}
{
	echo "note knobs runtime=10 mib=1024 engine=libaio"
	rows native 2000000 50000
	rows domus 600000 3000
	rows qemu72 500000 2000
	echo "row qemu10xen seqread failed QEMU exited with 1"
	rows qemu10xen 100000 1000 | grep -v seqread
} >"$T/full"
table=$(python3 bench/disk.table <"$T/full") || { echo "$table"; fail "disk.table failed on complete rows"; }
[ "$(echo "$table" | tail -n 1)" = "disk domus/QEMU virtio-blk (min over rows): 1.20" ] ||
	{ echo "$table"; fail "the last line is not the min ratio"; }
[ "$(echo "$table" | grep -c '^disk domus/QEMU virtio-blk')" = 1 ] || fail "more than one summary line"
echo "$table" | grep -q "failed: qemu10xen seqread: QEMU exited with 1" || { echo "$table"; fail "the failure is not shown"; }
echo "$table" | grep -qE '^seq read 1M q8 +MB/s +614\.4 +512\.0 +failed +2048\.0 +1\.20 +- +0\.30$' ||
	{ echo "$table"; fail "the seq read row is wrong"; }
grep -v "^row domus randwrite32 " "$T/full" >"$T/partial"
table=$(python3 bench/disk.table <"$T/partial") && { echo "$table"; fail "disk.table succeeded without domus's randwrite32"; }
[ "$(echo "$table" | tail -n 1)" = "disk domus/QEMU virtio-blk (min over rows): none (no pair for randwrite32)" ] ||
	{ echo "$table"; fail "a missing pair is not named in the last line"; }
echo "ok: disk.table: ratios, failures, the one last line, a missing pair fails"
