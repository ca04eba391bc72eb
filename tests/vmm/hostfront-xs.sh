#!/bin/bash
# hostfront's xenstore side on this host (the rest needs a guest kernel's
# /dev/xen/gntalloc and evtchn: tests/lab/domain-hostfront.sh): over a
# private xenstored's socket (HOSTFRONT_XENBUS), as after the guest
# kernel's driver let go of the device (both ends Closed), hostfront
# removes the keys the kernel's frontend left, keeps the toolstack's,
# goes Initialising and waits for InitWait; without /dev/xen/gntalloc it
# says so in one line and closes (Closing, Closed) with the back end.  A
# device without a backend node is one line naming the node.
# Usage: hostfront-xs.sh XENSTORED HOSTFRONT
. "$(dirname "$0")/xs-lib.sh"
XENSTORED=$1 HOSTFRONT=$2
[ -e /dev/xen/gntalloc ] && { echo "this host has /dev/xen/gntalloc: hostfront would attack its back ends"; exit 77; }
start_xenstored "$XENSTORED"
# A connection as domain 0: hostfront's relative paths are under it.
FE=/local/domain/0/device/vif/1 BE=/local/domain/0/backend/vif/7/1
xenstore-write $FE/backend $BE $FE/backend-id 0 $FE/handle 1 $FE/mac 00:16:3e:00:00:01 $FE/state 6 \
	$FE/tx-ring-ref 8 $FE/rx-ring-ref 9 $FE/event-channel-tx 10 $FE/event-channel-rx 11 \
	$FE/request-rx-copy 1 $FE/feature-sg 1 $FE/multi-queue-num-queues 1 $BE/state 6 || fail "cannot write the nodes"
HOSTFRONT_XENBUS=$XENSTORED_PATH "$HOSTFRONT" vif 1 >"$XS_TMP/out" 2>&1 &
hf=$!
eventually $FE/state 1
gone $FE/tx-ring-ref $FE/rx-ring-ref $FE/event-channel-tx $FE/event-channel-rx $FE/request-rx-copy $FE/feature-sg \
	$FE/multi-queue-num-queues
is $FE/handle 1
is $FE/mac 00:16:3e:00:00:01
is $FE/backend $BE
xenstore-write $BE/state 2
eventually $FE/state 5
xenstore-write $BE/state 5
eventually $FE/state 6
xenstore-write $BE/state 6
wait $hf
rc=$?
cat "$XS_TMP/out"
[ $rc = 1 ] || fail "hostfront without gntalloc exited $rc"
grep -q "^HOSTFRONT vif1 cannot open /dev/xen/gntalloc: No such file or directory$" "$XS_TMP/out" || fail "no line for the missing gntalloc"
grep -q "^HOSTFRONT vif1 done rounds=0 failed=0 (aborted)$" "$XS_TMP/out" || fail "no summary line"
echo "ok: stale frontend keys removed, Initialising, InitWait; no gntalloc: one line, Closing and Closed"

out=$(HOSTFRONT_XENBUS=$XENSTORED_PATH "$HOSTFRONT" vbd 51728 2>&1) && fail "hostfront without a device succeeded"
[ "$out" = "HOSTFRONT vbd51728 no device/vbd/51728/backend: No such file or directory" ] || fail "without a device: [$out]"
out=$("$HOSTFRONT" vbd 2>&1) && fail "hostfront with too few arguments succeeded"
echo "$out" | grep -q "^usage: hostfront vif DEVID" || fail "usage: [$out]"
echo "ok: a device without a backend node and a bad command line: one line each"
