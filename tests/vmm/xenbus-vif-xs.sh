#!/bin/bash
# The vif back end over a real xenstored (vmm/xenbus/xb_xs.c, vif.c): the
# backend and frontend nodes as libxl's libxl__device_nic_add writes them,
# a back end run by xb-drive (a data path that maps nothing), the hotplug
# script's hotplug-status and a frontend played with xenstore-write as
# Linux's xen-netfront writes its keys.
# Usage: xenbus-vif-xs.sh XENSTORED XB-DRIVE
set -u
. "$(dirname "$0")/xs-lib.sh"
XSD=$1 DRIVE_BIN=$2
start_xenstored "$XSD"

BE=/local/domain/0/backend/vif/7/0 FE=/local/domain/7/device/vif/0
ERR=/local/domain/0/error/backend/vif/7/0/error

nodes() { # libxl's nodes for vif 0 of domain 7
	xenstore-write $FE/backend $BE $FE/backend-id 0 $FE/state 1 $FE/handle 0 $FE/mac 00:16:3e:00:00:07
	xenstore-write $BE/frontend $FE $BE/frontend-id 7 $BE/online 1 $BE/state 1 \
		$BE/script /etc/xen/scripts/vif-bridge $BE/mac 00:16:3e:00:00:07 $BE/bridge xenbr0 \
		$BE/handle 0 $BE/type vif
}

start_drive() {
	drive_start 7 0 vif
}

reset_front() { # the frontend closes and comes back: InitWait again
	xenstore-write $FE/state 6
	cmd "wait 6"
	xenstore-write $FE/state 1
	cmd "wait 2"
}

start_drive
sleep 0.2
nodes

# netback_probe's keys, then InitWait
cmd "wait 2"
for k in feature-sg feature-gso-tcpv4 feature-gso-tcpv6 feature-ipv6-csum-offload feature-rx-copy \
	feature-split-event-channels; do
	is $BE/$k 1
done
is $BE/feature-rx-flip 0
is $BE/multi-queue-max-queues 2
xenstore-exists $BE/feature-ctrl-ring 2>/dev/null && fail "feature-ctrl-ring offered"
echo "ok InitWait"

# netfront's talk_to_netback, then Connected at once; no hotplug-status
# yet: the back end waits
xenstore-write $FE/tx-ring-ref 8 $FE/rx-ring-ref 9 $FE/event-channel-tx 5 $FE/event-channel-rx 6 \
	$FE/request-rx-copy 1 $FE/feature-rx-notify 1 $FE/feature-sg 1 $FE/feature-gso-tcpv4 1 \
	$FE/feature-gso-tcpv6 1 $FE/feature-ipv6-csum-offload 1
xenstore-write $FE/state 4
sleep 0.5
is $BE/state 2
grep -q "connect tx-ring-ref" "$XS_TMP/drive.log" && fail "connected before the hotplug script ran"
# vif-bridge online: success writes hotplug-status
xenstore-write $BE/hotplug-status connected
cmd "wait 4"
grep -q "connect tx-ring-ref 8 rx-ring-ref 9 evtchn 5/6$" "$XS_TMP/drive.log" ||
	fail "not connected with the frontend's keys: $(tail -3 "$XS_TMP/drive.log")"
echo "ok Connected once hotplug-status is connected"

# save and load: Connected throughout, the rings from the record
cmd "save"
xenstore-write $FE/tx-ring-ref 99
cmd "load"
cmd "wait 4"
is $BE/state 4
grep -q "connect tx-ring-ref 8 rx-ring-ref 9 evtchn 5/6 resumed" "$XS_TMP/drive.log" ||
	fail "the restored back end did not connect from its record: $(tail -3 "$XS_TMP/drive.log")"
xenstore-write $FE/tx-ring-ref 8
echo "ok save and load keep Connected"

# close, reset, connect again (hotplug-status stays)
xenstore-write $FE/state 5
cmd "wait 5"
reset_front
xenstore-write $FE/state 4
cmd "wait 4"
echo "ok closed, reset and connected again"

# hostile keys: named in the error node
reset_front
xenstore-write $FE/request-rx-copy 0
xenstore-write $FE/state 4
cmd "wait 5"
is $ERR "95 request-rx-copy is not 1: only rx-copy is served (feature-rx-flip 0)"
xenstore-write $FE/request-rx-copy 1
reset_front
xenstore-write $FE/multi-queue-num-queues 3
xenstore-write $FE/state 4
cmd "wait 5"
is $ERR "22 guest requested 3 queues, but valid range is 1 - 2."
xenstore-rm $FE/multi-queue-num-queues
reset_front
xenstore-write $BE/mac zz
xenstore-write $FE/state 4
cmd "wait 5"
is $ERR "22 parsing mac"
xenstore-write $BE/mac 00:16:3e:00:00:07
reset_front
xenstore-write $FE/tx-ring-ref 0
xenstore-write $FE/state 4
cmd "wait 5"
is $ERR "22 mapping shared-frames 0/9 port tx 5 rx 6"
xenstore-write $FE/tx-ring-ref 8
reset_front
xenstore-write $FE/state 4
cmd "wait 4"
echo "ok hostile keys refused, then connected"

# hot-unplug as libxl does it
xenstore-write $BE/online 0 $BE/state 5
cmd "wait 5"
xenstore-write $FE/state 5
xenstore-write $FE/state 6
cmd "removed"
echo "ok hot-unplug"
pid=$DRIVE_PID # bash unsets it when the coprocess ends
echo quit >&"${DRIVE[1]}"
wait "$pid" || fail "xb-drive exited $?: $(tail -5 "$XS_TMP/drive.log")"
exit 0
