#!/bin/bash
# xl block-attach, block-list and block-detach (xl/ts_block.c) against
# hotplug-monitor: domus-vmm's device table, hot-plug table and xenbus back
# ends on a private xenstored, with a fake data path and a fake domain (no
# KVM).  The guest's blkfront is played with xenstore-write, as Linux 6.1
# writes its keys.  What xl prints is compared with xl-hotplug.expected;
# xenstore and the domain's kept configuration are checked on the way.
# Usage: xl-hotplug.sh XENSTORED XS-LAYOUT XL HOTPLUG-MONITOR
set -u
XSD=$1 LAYOUT=$2 XL=$3 MON=$4
. "$(dirname "$0")/xl-hotplug-lib.sh"
EXPECTED=$(dirname "$0")/xl-hotplug.expected
IMG=$XS_TMP/img
mkdir -p "$IMG"
for f in root.img data.img other.img; do truncate -s 2M "$IMG/$f"; done

BE=/local/domain/0/backend/vbd/5/51728 FE=/local/domain/5/device/vbd/51728 LX=/libxl/5/device/vbd/51728

run() { # run <xl args...>: what xl prints and its status, into the transcript
	echo "== xl $*" | sed "s#$IMG#@IMG@#g"
	"$XL" "$@" 2>&1 | sed "s#$IMG#@IMG@#g"
	echo "rc=${PIPESTATUS[0]}"
}
blkfront_connect() { # its keys, then Initialised; Connected once the back end is
	xenstore-write $FE/ring-ref 9 $FE/event-channel 7 $FE/protocol x86_64-abi
	xenstore-write $FE/state 3
	eventually $BE/state 4
	xenstore-write $FE/state 4
}

# A running domain 5 with one disk, as xl create leaves it: its monitor,
# its nodes, its kept configuration.
cat >"$XS_TMP/guest5.cfg" <<CFG
name = "guest5"
uuid = "5e5e5e5e-0000-4000-8000-000000000005"
type = "pvh"
kernel = "/boot/vmlinuz"
memory = 512
cmdline = "root=/dev/xvda console=hvc0 say='it\\'s' \\\\back \\x41"
# the root disk
disk = [ 'file:$IMG/root.img,xvda,w' ]
on_reboot = "destroy"
CFG
start_guest5 HOTPLUG_REFUSE=51744 HOTPLUG_MUTE=51760

{
	run block-list guest5
	run block-attach guest5 "file:$IMG/data.img,xvdb,w"
} >"$XS_TMP/out"

# The nodes are those xl create writes for the same disk (xs-layout, as
# domain 6), and the monitor's back end probed them: InitWait, its features.
printf 'name = "guest6"\ntype = "pvh"\nkernel = "/boot/vmlinuz"\ndisk = [ '\''file:%s/data.img,xvdb,w'\'' ]\n' "$IMG" >"$XS_TMP/guest6.cfg"
"$LAYOUT" write "$XS_TMP/guest6.cfg" 6 || fail "xs-layout write 6"
# domain 6's nodes as domain 5's (the temp directory's name is left alone)
six() { sed -E 's#/(domain|libxl|vbd|qdisk)/6/#/\1/5/#g; s#\(n6,#(n5,#g; s#,r6\)#,r5)#g; s#-id = "6"#-id = "5"#'; }
diff -u <(xenstore-ls -f -p /libxl/6/device/vbd/51728 | six) <(xenstore-ls -f -p $LX) || fail "the /libxl copy differs from create's"
diff -u <(xenstore-ls -f -p /local/domain/6/device/vbd/51728 | six) <(xenstore-ls -f -p $FE) || fail "the frontend differs from create's"
"$LAYOUT" remove 6
for k in params frontend-id online removable bootable dev type mode device-type discard-enable; do
	is $BE/$k "$(xenstore-read $LX/$k)"
done
is $BE/frontend $FE
is $BE/state 2
is $BE/max-ring-page-order 4
# the kept configuration has both disks, and still parses
grep -q "data.img" "$KEPT" || fail "the kept configuration lacks the new disk: $(cat "$KEPT")"
"$XL" -N create "$KEPT" 2>&1 | grep -c '"vdev"' | grep -qx 2 || fail "the kept configuration: $("$XL" -N create "$KEPT" 2>&1)"
echo "ok attached"

{
	run block-list guest5
} >>"$XS_TMP/out"
blkfront_connect
{
	run block-list 5
	# refused: the same vdev, a missing target, a bad spec, a monitor
	# that cannot open it; nothing written for any of them
	run block-attach guest5 "file:$IMG/other.img,xvdb,w"
	run block-attach guest5 "file:$IMG/missing.img,xvdc,w"
	run block-attach guest5 "file:$IMG/other.img,xvdc,w,bogus=1"
	run block-attach guest5 "file:$IMG/other.img,vda,w"
	run block-attach guest5 "file:$IMG/other.img,xvdc,w"
	run block-attach guest5
} >>"$XS_TMP/out"
is $BE/params "$IMG/data.img"
gone /local/domain/0/backend/vbd/5/51744 /local/domain/5/device/vbd/51744 /libxl/5/device/vbd/51744
# a back end that never reaches InitWait: after 10 s the nodes xl wrote
# go and the monitor is told to release it
t0=$(date +%s)
run block-attach guest5 "file:$IMG/other.img,xvdd,w" >>"$XS_TMP/out"
[ $(($(date +%s) - t0)) -ge 9 ] || fail "the attach gave up before 10 s"
gone /local/domain/0/backend/vbd/5/51760 /local/domain/5/device/vbd/51760 /libxl/5/device/vbd/51760
grep -q "51760 unplugged" "$XS_TMP/monitor.log" || fail "the monitor was not told to release xvdd: $(cat "$XS_TMP/monitor.log")"
grep -q "other.img" "$KEPT" && fail "a failed attach reached the kept configuration"
echo "ok refused"

# The guest keeps the disk (blkfront stays Connected): a safe remove
# gives up after 10 s naming it, online 0 and Closing left as libxl
# leaves them.
t0=$(date +%s)
run block-detach guest5 xvdb >>"$XS_TMP/out"
t1=$(date +%s)
[ $((t1 - t0)) -ge 9 ] && [ $((t1 - t0)) -le 20 ] || fail "the safe remove gave up after $((t1 - t0)) s, not 10"
is $BE/online 0
is $BE/state 5
is $FE/state 4
grep -q "data.img" "$KEPT" || fail "a failed detach took the disk out of the kept configuration"
# The guest lets go (blkfront_closing: xenbus_frontend_closed); the same
# detach, by number, now removes it: back end released, every node gone.
xenstore-write $FE/state 6
eventually $BE/state 6
{
	run block-detach guest5 51728
	run block-list guest5
} >>"$XS_TMP/out"
gone $FE $BE $LX /local/domain/0/error/backend/vbd/5/51728
grep -q "data.img" "$KEPT" && fail "the kept configuration still has the detached disk: $(cat "$KEPT")"
grep -q "root.img" "$KEPT" || fail "the kept configuration lost the root disk: $(cat "$KEPT")"
# what xl keeps after an attach and a detach is the configuration it
# started with, setting for setting (quotes and backslashes too)
diff -u <("$XL" -N create "$XS_TMP/guest5.cfg" 2>/dev/null) <("$XL" -N create "$KEPT" 2>/dev/null) ||
	fail "the kept configuration changed: $(cat "$KEPT")"
echo "ok detached"

# Plugged again (the monitor let the first go), connected, then torn away
# with -f while the guest holds it: no wait for the guest.
{
	run block-attach guest5 "format=raw,vdev=xvdb,access=rw,target=$IMG/data.img"
} >>"$XS_TMP/out"
eventually $BE/state 2
blkfront_connect
t0=$(date +%s)
run block-detach -f guest5 xvdb >>"$XS_TMP/out"
[ $(($(date +%s) - t0)) -le 8 ] || fail "block-detach -f waited"
gone $FE $BE $LX

# d0p1 is xvda1 (51713); a disk the frontend never touched; errors.
{
	run block-attach guest5 "file:$IMG/other.img,d0p1,r"
	run block-list guest5 nosuch
	run block-detach -f guest5 d0p1
	run block-detach guest5 xvdz
	run block-detach guest5 xvdb
	run block-detach nosuch xvdb
	run block-list guest5
	run destroy guest5
} >>"$XS_TMP/out"
wait "$mpid" || fail "hotplug-monitor failed: $(cat "$XS_TMP/monitor.log")"
mpid=
gone /local/domain/0/backend/vbd/5/51713 /libxl/5/device/vbd/51713
diff -u "$EXPECTED" "$XS_TMP/out" || fail "xl printed something else"
echo "ok"
