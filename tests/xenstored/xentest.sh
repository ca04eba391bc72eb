#!/bin/bash
# Xen's own test-xenstore (xen-utils-4.17) against our xenstored.
. "$(dirname "$0")/lib.sh"
T=/usr/lib/xen-4.17/bin/test-xenstore
[ -x $T ] || { echo "SKIP: $T missing (scripts/deps installs xen-utils-4.17)"; exit 77; }
start_xenstored "$1"
$T >"$XS_TMP/out" 2>&1 || fail "test-xenstore: $(cat "$XS_TMP/out")"
$T -i 100 >"$XS_TMP/out" 2>&1 || fail "test-xenstore -i 100: $(cat "$XS_TMP/out")"
$T -r 2 >"$XS_TMP/out" 2>&1 || fail "test-xenstore -r 2: $(cat "$XS_TMP/out")"
xenstore-ls /local/domain/0 2>/dev/null | grep -q xenstore-test && fail "test-xenstore left nodes"
kill -0 "$XS_PID" || fail "daemon died"
echo "test-xenstore: passed (1 iteration, 100 iterations, 2 s random)"
