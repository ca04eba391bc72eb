#!/bin/bash
# The xenbus back end over a real xenstored (vmm/xenbus/xb_xs.c): xl's
# layout (tests/xl/xs-layout), a back end run by xb-drive, and a frontend
# played with xenstore-write as Linux's blkfront writes its keys.
# Usage: xenbus-xs.sh XENSTORED XS-LAYOUT XB-DRIVE
set -u
. "$(dirname "$0")/xs-lib.sh"
XSD=$1 LAYOUT=$2 DRIVE_BIN=$3
start_xenstored "$XSD"
truncate -s 1M "$XS_TMP/domU.img"

domain() { # domain <domid>: xl's nodes for one disk xvda
	printf 'name = "d%s"\ntype = "pvh"\nkernel = "/boot/vmlinuz"\ndisk = [ "file:%s,xvda,w" ]\n' \
		"$1" "$XS_TMP/domU.img" >"$XS_TMP/d$1.cfg"
	"$LAYOUT" write "$XS_TMP/d$1.cfg" "$1" || fail "xs-layout write $1"
}

start_drive() { # start_drive <domid>
	drive_start "$1" 51712
}

quit_drive() {
	local pid=$DRIVE_PID
	echo quit >&"${DRIVE[1]}"
	wait "$pid" || fail "xb-drive exited $?: $(tail -5 "$XS_TMP/drive.log")"
}

BE=/local/domain/0/backend/vbd/7/51712 FE=/local/domain/7/device/vbd/51712
ERR=/local/domain/0/error/backend/vbd/7/51712/error
# as xl's supervisor does: the monitor starts, then the nodes are written
start_drive 7
sleep 0.2
domain 7

# InitWait with the data path's limits (xen_blkbk_probe's keys)
cmd "wait 2"
is $BE/state 2
is $BE/multi-queue-max-queues 2
is $BE/max-ring-page-order 1
echo "ok InitWait"

# blkfront's talk_to_blkback: its keys, then Initialised
xenstore-write $FE/ring-ref 8 $FE/event-channel 5 $FE/protocol x86_64-abi
xenstore-write $FE/state 3
cmd "wait 4"
is $BE/state 4
is $BE/sectors 4096
is $BE/info 0
is $BE/sector-size 512
is $BE/feature-flush-cache 1
xenstore-write $FE/state 4
cmd "wait 4"
echo "ok Connected"

# save and load: no handshake, the backend stays Connected, also when
# the toolstack wrote its directory afresh in between (xl restore); the
# connection comes back from the record (its ring-ref, its positions),
# not from a frontend key changed meanwhile, and the connect-time keys are
# written again
cmd "save"
is $BE/state 4
xenstore-write $BE/state 1
xenstore-rm $BE/sectors
xenstore-write $FE/ring-ref 99
cmd "load"
cmd "wait 4"
eventually $BE/state 4
is $FE/state 4
eventually $BE/sectors 4096
grep -q "connect ring-ref 8 resumed" "$XS_TMP/drive.log" ||
	fail "the restored back end did not connect from its record: $(tail -5 "$XS_TMP/drive.log")"
xenstore-write $FE/ring-ref 8
echo "ok save and load keep Connected"

# the frontend closes, then resets and connects again
xenstore-write $FE/state 5
cmd "wait 5"
xenstore-write $FE/state 6
cmd "wait 6"
xenstore-write $FE/state 1
cmd "wait 2"
echo "ok closed and back to InitWait"

# a ring the data path cannot map: Closing and xenbus_dev_fatal's node
xenstore-write $FE/ring-ref 0
xenstore-write $FE/state 3
cmd "wait 5"
is $ERR "22 cannot map ring-ref 0"
xenstore-write $FE/state 6
cmd "wait 6"
xenstore-write $FE/state 1
cmd "wait 2"
xenstore-write $FE/ring-ref 9
xenstore-write $FE/state 3
cmd "wait 4"
echo "ok device error, then reconnect"

# a key the guest botches: named in the error node
xenstore-write $FE/state 6
cmd "wait 6"
xenstore-write $FE/state 1
cmd "wait 2"
xenstore-write $FE/ring-page-order 7
xenstore-write $FE/state 3
cmd "wait 5"
is $ERR "22 requested ring page order 7 exceed max:1"
xenstore-rm $FE/ring-page-order
echo "ok hostile key refused"

# hot-unplug as libxl does it: online 0 and state 5 into the backend
xenstore-write $FE/state 6
cmd "wait 6"
xenstore-write $FE/state 1
cmd "wait 2"
xenstore-write $FE/state 3
cmd "wait 4"
xenstore-write $BE/online 0 $BE/state 5
cmd "wait 5"
xenstore-write $FE/state 5
xenstore-write $FE/state 6
cmd "removed"
is $BE/state 6
echo "ok hot-unplug"
quit_drive
"$LAYOUT" remove 7

# The domain is destroyed while connected: its frontend vanishes, the back
# end is removed and does not write its directory back.
BE=/local/domain/0/backend/vbd/8/51712 FE=/local/domain/8/device/vbd/51712
domain 8
start_drive 8
cmd "wait 2"
xenstore-write $FE/ring-ref 8 $FE/event-channel 5
xenstore-write $FE/state 4
cmd "wait 4"
"$LAYOUT" remove 8
cmd "removed"
sleep 0.2
xenstore-exists $BE 2>/dev/null && fail "the removed back end wrote $BE back: $(xenstore-ls -f $BE)"
quit_drive
echo "ok destroyed while connected"
exit 0
