#!/bin/bash
# xl network-attach, network-list and network-detach (xl/ts_net.c) against
# hotplug-monitor: domus-vmm's device table, hot-plug table and xenbus vif
# back ends on a private xenstored, each vif's TAP device made for real (a
# network namespace of the test's own: root, CAP_NET_ADMIN), the netif
# rings fake, the domain fake (no KVM).  The hotplug script is a fake
# vif-bridge (DOMUS_XEN_SCRIPT_DIR) that records what it got and whether
# the TAP existed, then writes hotplug-status as the mode says; the guest's
# netfront is played with xenstore-write as Linux 6.1 writes its keys.
# What xl prints is compared with xl-nethotplug.expected (the random MAC
# replaced by 00:16:3e:xx:xx:xx); xenstore, the TAPs and the kept configuration are
# checked on the way.
# Usage: xl-nethotplug.sh XENSTORED XS-LAYOUT XL HOTPLUG-MONITOR
set -u
if [ -z "${XL_NETHOTPLUG_NS:-}" ]; then
	if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ] || ! command -v unshare >/dev/null ||
		! unshare -n true 2>/dev/null || ! command -v ip >/dev/null; then
		echo "skipped: the vifs' TAP devices need root (CAP_NET_ADMIN), /dev/net/tun, unshare and ip"
		exit 77
	fi
	XL_NETHOTPLUG_NS=1 exec unshare -n "$0" "$@"
fi
XSD=$1 LAYOUT=$2 XL=$3 MON=$4
. "$(dirname "$0")/xl-hotplug-lib.sh"
EXPECTED=$(dirname "$0")/xl-nethotplug.expected

# The fake vif-bridge, and a /sys/class/net where xenbr0 is a bridge.
SCRIPTS=$XS_TMP/scripts NET=$XS_TMP/net REC=$XS_TMP/rec
mkdir -p "$SCRIPTS" "$NET/xenbr0/bridge"
cat >"$SCRIPTS/vif-bridge" <<EOF
#!/bin/bash
tap=no
ip link show "\$vif" >/dev/null 2>&1 && tap=yes
echo "\$1 \$XENBUS_PATH vif=\$vif tap=\$tap bridge=\$(xenstore-read "\$XENBUS_PATH/bridge")" >>"$REC"
[ "\$1" = online ] || exit 0
case "\$(cat "$XS_TMP/mode")" in
ok) xenstore-write "\$XENBUS_PATH/hotplug-status" connected ;;
fatal) xenstore-write "\$XENBUS_PATH/hotplug-error" "Could not find bridge device xenbr0" "\$XENBUS_PATH/hotplug-status" error; exit 1 ;;
esac
EOF
chmod +x "$SCRIPTS/vif-bridge"
export DOMUS_XEN_SCRIPT_DIR=$SCRIPTS DOMUS_SYS_CLASS_NET=$NET
mode() { echo "$1" >"$XS_TMP/mode"; }
mode ok
: >"$REC"

FE=/local/domain/5/device/vif BE=/local/domain/0/backend/vif/5 LX=/libxl/5/device/vif
MAC=

tap() { ip link show "$1" >/dev/null 2>&1; }
run() { # run <xl args...>: what xl prints and its status, into the transcript
	echo "== xl $*" | sed "s#$SCRIPTS#@SCRIPTS@#g"
	"$XL" "$@" 2>&1 | sed "s#$SCRIPTS#@SCRIPTS@#g; s#$NET#@NET@#g${MAC:+; s#$MAC#00:16:3e:xx:xx:xx#g}"
	echo "rc=${PIPESTATUS[0]}"
}
netfront_connect() { # <devid>: its keys, then Connected once the back end is
	xenstore-write $FE/$1/tx-ring-ref 8 $FE/$1/rx-ring-ref 9 $FE/$1/event-channel 7 $FE/$1/request-rx-copy 1 \
		$FE/$1/feature-rx-notify 1 $FE/$1/feature-sg 1
	xenstore-write $FE/$1/state 4
	eventually $BE/$1/state 4
}

# A running domain 5 with one vif, as xl create leaves it: its monitor,
# its nodes (its back end not served here), its kept configuration.
cat >"$XS_TMP/guest5.cfg" <<CFG
name = "guest5"
uuid = "5e5e5e5e-0000-4000-8000-000000000005"
type = "pvh"
kernel = "/boot/vmlinuz"
memory = 512
# the first vif
vif = [ 'mac=00:16:3e:00:00:50,bridge=xenbr0' ]
on_reboot = "destroy"
CFG
start_guest5

{
	run network-list guest5
	run network-attach guest5 bridge=xenbr0
} >"$XS_TMP/out"
# devid 1 (libxl__device_nextid), a random MAC of Xen's OUI, the TAP
# vif5.1 made by the monitor before the script ran, which said connected
MAC=$(xenstore-read $BE/1/mac) || fail "no vif 1: $(cat "$XS_TMP/out")"
[[ $MAC =~ ^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$ ]] || fail "MAC $MAC is not 00:16:3e with the top bit clear"
sed -i "s#$MAC#00:16:3e:xx:xx:xx#g" "$XS_TMP/out"
tap vif5.1 || fail "no TAP vif5.1"
[ "$(cat "$REC")" = "online backend/vif/5/1 vif=vif5.1 tap=yes bridge=xenbr0" ] || fail "the script: $(cat "$REC")"
is $BE/1/hotplug-status connected
is $BE/1/state 2
# the nodes are those xl create writes for the same vif (xs-layout, as
# domain 6)
printf 'name = "guest6"\ntype = "pvh"\nkernel = "/boot/vmlinuz"\nvif = [ "mac=00:16:3e:00:00:50", "bridge=xenbr0,mac=%s" ]\n' "$MAC" \
	>"$XS_TMP/guest6.cfg"
"$LAYOUT" write "$XS_TMP/guest6.cfg" 6 || fail "xs-layout write 6"
six() { sed -E 's#/(domain|libxl|vif)/6/#/\1/5/#g; s#\(n6,#(n5,#g; s#,r6\)#,r5)#g; s#-id = "6"#-id = "5"#'; }
diff -u <(xenstore-ls -f -p /libxl/6/device/vif/1 | six) <(xenstore-ls -f -p $LX/1) || fail "the /libxl copy differs from create's"
diff -u <(xenstore-ls -f -p /local/domain/6/device/vif/1 | six) <(xenstore-ls -f -p $FE/1) || fail "the frontend differs from create's"
diff -u <(xenstore-ls -f -p /local/domain/0/backend/vif/6/1 | six | grep -v -E '/(state|hotplug-status|feature-|multi-queue|request-|ctrl-)') \
	<(xenstore-ls -f -p $BE/1 | grep -v -E '/(state|hotplug-status|feature-|multi-queue|request-|ctrl-)') ||
	fail "the backend differs from create's"
"$LAYOUT" remove 6
# the kept configuration has both vifs, each with its devid, the new one
# with its MAC, and still parses
grep -q "bridge=xenbr0,devid=1,mac=$MAC" "$KEPT" || fail "the kept configuration lacks the new vif: $(cat "$KEPT")"
grep -q "mac=00:16:3e:00:00:50,bridge=xenbr0,devid=0" "$KEPT" || fail "vif 0 without its devid: $(cat "$KEPT")"
"$XL" -N create "$KEPT" 2>&1 | grep -c '"devid"' | grep -qx 2 || fail "the kept configuration: $("$XL" -N create "$KEPT" 2>&1)"
echo "ok attached"

netfront_connect 1
{
	run network-list guest5 5
	# refused before anything: a missing bridge, a devid or MAC the
	# domain has, a bad setting, type=ioemu
	run network-attach guest5 bridge=xenbr9
	run network-attach guest5 devid=1
	run network-attach guest5 mac=00:16:3e:00:00:50
	run network-attach guest5 bridge=xenbr0,bogus=1
	run network-attach guest5 type=ioemu
	run network-attach guest5 script=vif-nosuch
} >>"$XS_TMP/out"
gone $FE/2 $BE/2 $LX/2
tap vif5.2 && fail "a refused attach left vif5.2"
# the script fails: its hotplug-error is the line; it ran offline, the
# monitor released the back end and its TAP, the nodes went
mode fatal
: >"$REC"
run network-attach guest5 >>"$XS_TMP/out"
mode ok
gone $FE/2 $BE/2 $LX/2
tap vif5.2 && fail "a failed attach left the TAP vif5.2"
grep -q "^offline backend/vif/5/2 " "$REC" || fail "no offline after the failed online: $(cat "$REC")"
grep -q "\[vif\]: 2 unplugged" "$XS_TMP/monitor.log" || fail "the monitor did not release vif 2: $(cat "$XS_TMP/monitor.log")"
# the monitor cannot make the TAP (a link of its name exists already)
ip tuntap add dev vif5.2 mode tun || fail "ip tuntap add"
run network-attach guest5 >>"$XS_TMP/out"
ip tuntap del dev vif5.2 mode tun
gone $FE/2 $BE/2 $LX/2
[ "$(grep -o "devid=" "$KEPT" | wc -l)" = 2 ] || fail "a failed attach reached the kept configuration: $(cat "$KEPT")"
echo "ok refused"

# The guest keeps vif 1 (its netfront stays Connected): after 10 s libxl
# removes it anyway (its frontend first); the script runs offline, the
# TAP and every node go, and the kept configuration loses it.
: >"$REC"
t0=$(date +%s)
run network-detach guest5 1 >>"$XS_TMP/out"
t1=$(date +%s)
[ $((t1 - t0)) -ge 9 ] && [ $((t1 - t0)) -le 25 ] || fail "the detach of a held vif took $((t1 - t0)) s, not 10"
gone $FE/1 $BE/1 $LX/1 /local/domain/0/error/backend/vif/5/1
tap vif5.1 && fail "vif5.1 is still there"
[ "$(cat "$REC")" = "offline backend/vif/5/1 vif=vif5.1 tap=yes bridge=xenbr0" ] || fail "offline: $(cat "$REC")"
grep -q "$MAC" "$KEPT" && fail "the kept configuration still has vif 1: $(cat "$KEPT")"
diff -u <("$XL" -N create "$XS_TMP/guest5.cfg" 2>/dev/null) <("$XL" -N create "$KEPT" 2>/dev/null) ||
	fail "the kept configuration changed: $(cat "$KEPT")"
echo "ok detached (forced)"

# Plugged again with its own MAC: devid 1 again (the last entry is 0);
# one more is devid 2.  The guest lets go when asked, so detaching vif 1
# by MAC is quick; vif 2 keeps its devid in the kept configuration.
MAC=
{
	run network-attach guest5 mac=00:16:3E:00:00:51 bridge=xenbr0
	run network-attach guest5 mac=00:16:3e:00:00:52,bridge=xenbr0
	run network-list guest5
} >>"$XS_TMP/out"
is $BE/1/mac 00:16:3e:00:00:51
is $BE/2/mac 00:16:3e:00:00:52
tap vif5.1 && tap vif5.2 || fail "no TAP vif5.1 or vif5.2"
netfront_connect 1
netfront_closing() { # <devid>: the guest closes once its back end is Closing
	for _ in $(seq 200); do
		[ "$(xenstore-read $BE/$1/state 2>/dev/null)" = 5 ] && { xenstore-write $FE/$1/state 6; return 0; }
		sleep 0.05
	done
}
netfront_closing 1 &
closer=$!
t0=$(date +%s)
run network-detach guest5 00:16:3e:00:00:51 >>"$XS_TMP/out"
[ $(($(date +%s) - t0)) -le 8 ] || fail "a detach the guest agreed to waited"
wait "$closer"
gone $FE/1 $BE/1 $LX/1
tap vif5.1 && fail "vif5.1 is still there after the second detach"
tap vif5.2 || fail "vif5.2 went with vif5.1"
"$XL" -N create "$KEPT" 2>/dev/null | grep -E '"devid"|"mac"' | tr -d ' \n' |
	grep -qx '"devid":0,"mac":"00:16:3e:00:00:50","devid":2,"mac":"00:16:3e:00:00:52",' ||
	fail "the kept configuration renumbered a vif: $(cat "$KEPT")"
run network-list guest5 >>"$XS_TMP/out"
netfront_closing 2 &
closer=$!
run network-detach guest5 2 >>"$XS_TMP/out"
wait "$closer"
gone $FE/2 $BE/2 $LX/2
tap vif5.2 && fail "vif5.2 is still there"
echo "ok attached again, detached by MAC and by devid"

# run_hotplug_scripts=0 in xl.conf: no script either way; the attach
# waits for InitWait only (devid 1 once more: the last entry is 0).
echo 'run_hotplug_scripts = 0' >"$XS_TMP/xl.conf"
: >"$REC"
DOMUS_XL_CONF=$XS_TMP/xl.conf run network-attach guest5 mac=00:16:3e:00:00:53 >>"$XS_TMP/out"
is $BE/1/state 2
is $BE/1/hotplug-status ""
tap vif5.1 || fail "no TAP vif5.1 without scripts"
netfront_closing 1 &
closer=$!
DOMUS_XL_CONF=$XS_TMP/xl.conf run network-detach guest5 1 >>"$XS_TMP/out"
wait "$closer"
gone $FE/1 $BE/1 $LX/1
tap vif5.1 && fail "vif5.1 is still there"
[ -s "$REC" ] && fail "a script ran with run_hotplug_scripts=0: $(cat "$REC")"
echo "ok run_hotplug_scripts=0"

# Errors as Xen's xl prints them; the first vif is listed to the end.
{
	run network-detach guest5 7
	run network-detach guest5 00:16:3e:00:00:99
	run network-detach guest5 00:16:3e:00:00
	run network-detach nosuch 0
	run network-list guest5 nosuch 5
	run network-list 77
	run network-detach guest5
	run destroy guest5
} >>"$XS_TMP/out"
wait "$mpid" || fail "hotplug-monitor failed: $(cat "$XS_TMP/monitor.log")"
mpid=
diff -u "$EXPECTED" "$XS_TMP/out" || fail "xl printed something else"
echo "ok"
