#!/bin/bash
# Differential test: the same request sequence (diffclient.c) against our
# xenstored and Xen 4.17's C xenstored (run through fakexen) must give the
# same replies, errors and watch events.
# Usage: diff.sh <xenstored> <diffclient> <libfakexen.so>
. "$(dirname "$0")/lib.sh"
[ -x /usr/lib/xen-4.17/bin/xenstored ] || { echo "SKIP: xen-utils-4.17 missing"; exit 77; }
FAKEXEN=$3
PEER_TMP=$XS_TMP/peers
mkdir -p "$PEER_TMP"
. "$(dirname "$0")/../../bench/xenstore/peers.sh"
trap 'stop_peers; cleanup' EXIT
start_xenstored "$1"
start_xen_c || fail "Xen's xenstored did not start: $(cat "$PEER_TMP/xen-c/log")"
XENSTORED_PATH=$XENSTORED_PATH "$2" >"$XS_TMP/domus.out" 2>&1 || fail "diffclient (domus): $(tail -3 "$XS_TMP/domus.out")"
XENSTORED_PATH=$XEN_C_SOCK "$2" >"$XS_TMP/xen.out" 2>&1 || fail "diffclient (xen): $(tail -3 "$XS_TMP/xen.out")"
if ! diff -u "$XS_TMP/xen.out" "$XS_TMP/domus.out"; then
	fail "transcripts differ (- Xen 4.17 C xenstored, + domus)"
fi
echo "differential: $(grep -c '^[0-9]' "$XS_TMP/xen.out") requests, identical transcripts"
