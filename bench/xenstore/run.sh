#!/bin/bash
# bench/xenstore: read, write, directory(10) and transaction ops/s from 1
# and 8 concurrent libxenstore clients against domus's xenstored, Xen 4.17's
# C xenstored and oxenstored (both through fakexen), a daemon that does no
# work at all (xsnull: the limit for libxenstore clients on this host), and
# a bare Unix-socket request/reply of the same sizes (sockbase).  Each cell is the median of 3 runs,
# interleaved across daemons so load changes hit all of them alike.  The
# daemons' CPU time per operation (from /proc/<pid>/stat) is shown too: on a
# busy host it varies less than ops/s.
# Usage: run.sh <build dir> [seconds per run]
set -u
BUILD=$(cd "${1:-build}" && pwd)
SECS=${2:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
XSBENCH=$BUILD/bench/xenstore/xsbench
SOCKBASE=$BUILD/bench/xenstore/sockbase
XSNULL=$BUILD/bench/xenstore/xsnull
FAKEXEN=$BUILD/tests/xenstored/libfakexen.so
PEER_TMP=$(mktemp -d /tmp/xsbench.XXXXXX)
. "$HERE/peers.sh"
DOMUS_SOCK=$PEER_TMP/domus/socket
DOMUS_PID=
NULL_SOCK=$PEER_TMP/null/socket
NULL_PID=

cleanup() {
	[ -n "$DOMUS_PID" ] && kill "$DOMUS_PID" 2>/dev/null && wait "$DOMUS_PID" 2>/dev/null
	[ -n "$NULL_PID" ] && kill "$NULL_PID" 2>/dev/null && wait "$NULL_PID" 2>/dev/null
	stop_peers
	rm -rf "$PEER_TMP"
}
trap cleanup EXIT

mkdir -p "$PEER_TMP/domus"
"$BUILD/xenstored/xenstored" -s "$DOMUS_SOCK" >"$PEER_TMP/domus/log" 2>&1 &
DOMUS_PID=$!
wait_socket "$DOMUS_SOCK" || { echo "domus xenstored did not start"; exit 1; }
mkdir -p "$PEER_TMP/null"
"$XSNULL" "$NULL_SOCK" &
NULL_PID=$!
wait_socket "$NULL_SOCK" || { echo "xsnull did not start"; exit 1; }
start_xen_c || { echo "Xen C xenstored did not start"; cat "$PEER_TMP/xen-c/log"; exit 1; }
HAVE_OX=1
start_oxenstored || HAVE_OX=0

median() { sort -n | sed -n 2p; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# run_one <socket> <pid> <op> <clients>: prints "ops/s cpu-us-per-op"
run_one() {
	local t0 t1 ops
	t0=$(cpu_ticks "$2")
	ops=$(XENSTORED_PATH=$1 timeout 60 "$XSBENCH" "$3" "$4" "$SECS" 2>/dev/null || echo 0)
	t1=$(cpu_ticks "$2")
	awk -v o="$ops" -v t=$((t1 - t0)) -v s="$SECS" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%d %.1f\n", o, (o > 0 ? t * 1e6 / hz / (o * s) : 0) }'
}

XEN_C_PID=$(cat "$PEER_TMP/xen-c/pid" 2>/dev/null)
OX_PID=$(cat "$PEER_TMP/ox/pid" 2>/dev/null)
printf '%-16s %7s %9s %9s %9s %9s %9s %8s %8s %14s\n' op clients domus xen-C oxenstored \
	null-dmn socket domus/C d/null 'us/op d/C/o'
min_ratio=
for op in read write directory txn; do
	for n in 1 8; do
		d=() c=() o=() z=() b=() du=() cu=() ou=()
		for _ in 1 2 3; do
			read -r x u < <(run_one "$DOMUS_SOCK" "$DOMUS_PID" $op $n)
			d+=("$x") du+=("$u")
			read -r x u < <(run_one "$XEN_C_SOCK" "$XEN_C_PID" $op $n)
			c+=("$x") cu+=("$u")
			if [ $HAVE_OX = 1 ]; then
				read -r x u < <(run_one "$OX_SOCK" "$OX_PID" $op $n)
				o+=("$x") ou+=("$u")
			fi
			read -r x u < <(run_one "$NULL_SOCK" "$NULL_PID" $op $n)
			z+=("$x")
			b+=("$(timeout 60 "$SOCKBASE" $op $n "$SECS" || echo 0)")
		done
		dm=$(printf '%s\n' "${d[@]}" | median)
		cm=$(printf '%s\n' "${c[@]}" | median)
		om=n/a ouc=-
		[ $HAVE_OX = 1 ] && om=$(printf '%s\n' "${o[@]}" | median) &&
			ouc=$(printf '%s\n' "${ou[@]}" | median)
		duc=$(printf '%s\n' "${du[@]}" | median)
		cuc=$(printf '%s\n' "${cu[@]}" | median)
		bm=$(printf '%s\n' "${b[@]}" | median)
		zm=$(printf '%s\n' "${z[@]}" | median)
		ratio=$(awk -v a="$dm" -v b="$cm" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		dz=$(awk -v a="$dm" -v b="$zm" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
		label=$op
		[ $op = directory ] && label="directory(10)"
		[ $op = txn ] && label="txn(start,w,end)"
		printf '%-16s %7s %9s %9s %9s %9s %9s %8s %8s %14s\n' "${label:0:16}" $n "$dm" "$cm" "$om" \
			"$zm" "$bm" "$ratio" "$dz" "$duc/$cuc/$ouc"
		min_ratio=$(awk -v a="$ratio" -v m="$min_ratio" 'BEGIN { print (m == "" || a < m) ? a : m }')
	done
done
echo "(ops/s, median of 3 runs of ${SECS}s; null-dmn: xsnull, a daemon doing no work, the limit"
echo " for libxenstore clients here; d/null: domus/null-dmn; us/op: daemon CPU per operation,"
echo " domus/C/oxenstored, domus's including its busy polling (up to 50 us after each burst);"
echo " load: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "xenstore ops/s domus/xenstored (min over rows): $min_ratio"
