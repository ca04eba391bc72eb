#!/bin/bash
# The vifs' hotplug scripts as xl's supervisor runs them (xl/ts_vif.c
# ts_vif_online / ts_vif_offline), on a private xenstored, without a monitor:
# the test writes the back end's InitWait as domus-vmm's netback would.
#  1. a recording script: the arguments and environment libxl's
#     libxl__hotplug_nic / get_hotplug_env give it, xenstore reachable from
#     it through XENSTORED_PATH; hotplug-error reported in one line; a
#     script that says nothing, a back end that closed.
#  2. (root, unshare) Debian's own /etc/xen/scripts/vif-bridge unchanged, in
#     network and mount namespaces of its own: a TAP named as domus-vmm
#     names it joins xenbr0, vifname= renames it, offline lets it go (and
#     succeeds when the interface went with its monitor), and a bridge gone
#     by the time the script runs fails with the script's words; vif-route
#     routes ip= to the interface from gatewaydev's address.
# Usage: vif-hotplug.sh XENSTORED XS-LAYOUT
set -u
. "$(dirname "$0")/../xenstored/lib.sh"
XSD=$1 LAYOUT=$2
command -v xenstore-write >/dev/null || { echo "xenstore-utils is not installed"; exit 77; }
start_xenstored "$XSD"

SCRIPTS=$XS_TMP/scripts NET=$XS_TMP/net REC=$XS_TMP/rec
mkdir -p "$SCRIPTS" "$NET/xenbr0/bridge"
# The fake vif-bridge: what it was given, what it read, then as $MODE says.
cat >"$SCRIPTS/vif-bridge" <<EOF
#!/bin/bash
{
	echo "args=\$*"
	env | grep -E '^(script|XENBUS_TYPE|XENBUS_PATH|XENBUS_BASE_PATH|netdev|vif|XENSTORED_PATH)=' | sort
	echo "read-bridge=\$(xenstore-read "\$XENBUS_PATH/bridge")"
} >>"$REC"
case "\$(cat "$XS_TMP/mode")" in
ok) xenstore-write "\$XENBUS_PATH/hotplug-status" connected ;;
fatal) xenstore-write "\$XENBUS_PATH/hotplug-error" "Could not find bridge device xenbr0
second line" "\$XENBUS_PATH/hotplug-status" error; exit 1 ;;
silent) ;;
esac
EOF
chmod +x "$SCRIPTS/vif-bridge"
export DOMUS_XEN_SCRIPT_DIR=$SCRIPTS DOMUS_SYS_CLASS_NET=$NET
mode() { echo "$1" >"$XS_TMP/mode"; : >"$REC"; }

cfg() { # cfg <file> <vif spec>
	printf 'name = "h"\ntype = "pvh"\nkernel = "/boot/vmlinuz"\nvif = [ "%s" ]\n' "$2" >"$1"
}
cfg "$XS_TMP/a.cfg" "mac=00:16:3e:12:34:56,bridge=xenbr0"
BE=/local/domain/0/backend/vif/5/0

# 1. Online once the back end is in InitWait (written half a second late).
mode ok
"$LAYOUT" write "$XS_TMP/a.cfg" 5 || fail "write"
(sleep 0.5; xenstore-write $BE/state 2) &
"$LAYOUT" online "$XS_TMP/a.cfg" 5 >"$XS_TMP/out" 2>&1 || fail "online: $(cat "$XS_TMP/out")"
want="args=online type_if=vif
XENBUS_BASE_PATH=backend
XENBUS_PATH=backend/vif/5/0
XENBUS_TYPE=vif
XENSTORED_PATH=$XENSTORED_PATH
netdev=
script=$SCRIPTS/vif-bridge
vif=vif5.0
read-bridge=xenbr0"
[ "$(cat "$REC")" = "$want" ] || fail "online: the script got [$(cat "$REC")] want [$want]"
[ "$(xenstore-read $BE/hotplug-status)" = connected ] || fail "online: not connected"
echo "ok online: arguments, environment, xenstore reached"

mode ok
"$LAYOUT" offline "$XS_TMP/a.cfg" 5 || fail "offline"
head -1 "$REC" | grep -qx "args=offline type_if=vif" || fail "offline: $(cat "$REC")"
"$LAYOUT" remove 5
echo "ok offline"

# The script's hotplug-error, in one line, is the create's error.
mode fatal
"$LAYOUT" write "$XS_TMP/a.cfg" 5 && xenstore-write $BE/state 2 || fail "write"
"$LAYOUT" online "$XS_TMP/a.cfg" 5 >"$XS_TMP/out" 2>&1 && fail "fatal: online succeeded"
[ "$(cat "$XS_TMP/out")" = "xl: vif 0 (vif5.0, $SCRIPTS/vif-bridge online): Could not find bridge device xenbr0 second line" ] ||
	fail "fatal: [$(cat "$XS_TMP/out")]"
"$LAYOUT" remove 5
echo "ok hotplug-error reported in one line"

# A script that exits 0 without saying connected: netback would wait for ever.
mode silent
"$LAYOUT" write "$XS_TMP/a.cfg" 5 && xenstore-write $BE/state 2 || fail "write"
"$LAYOUT" online "$XS_TMP/a.cfg" 5 >"$XS_TMP/out" 2>&1 && fail "silent: online succeeded"
grep -qF 'exited 0 but hotplug-status is "", not "connected"' "$XS_TMP/out" || fail "silent: [$(cat "$XS_TMP/out")]"
"$LAYOUT" remove 5
echo "ok a script that does not report"

# A back end that failed before InitWait: its error node, no script run.
mode ok
"$LAYOUT" write "$XS_TMP/a.cfg" 5 || fail "write"
xenstore-write /local/domain/0/error/backend/vif/5/0/error "22 reading tx-ring-ref" $BE/state 5
"$LAYOUT" online "$XS_TMP/a.cfg" 5 >"$XS_TMP/out" 2>&1 && fail "closed: online succeeded"
grep -qF "the back end closed: 22 reading tx-ring-ref" "$XS_TMP/out" || fail "closed: [$(cat "$XS_TMP/out")]"
[ -s "$REC" ] && fail "closed: the script ran"
"$LAYOUT" remove 5
xenstore-exists /local/domain/0/error/backend/vif/5 2>/dev/null && fail "closed: error node left"
echo "ok a closed back end"

# gatewaydev= is the script's netdev; the second vif runs too.
cfg "$XS_TMP/g.cfg" "mac=00:16:3e:12:34:56,gatewaydev=eth9\", \"mac=00:16:3e:12:34:57"
mode ok
"$LAYOUT" write "$XS_TMP/g.cfg" 6 && xenstore-write /local/domain/0/backend/vif/6/0/state 2 \
	/local/domain/0/backend/vif/6/1/state 2 || fail "write"
"$LAYOUT" online "$XS_TMP/g.cfg" 6 || fail "gatewaydev: online"
grep -qx "netdev=eth9" "$REC" || fail "gatewaydev: $(cat "$REC")"
grep -qx "vif=vif6.1" "$REC" || fail "second vif: $(cat "$REC")"
"$LAYOUT" remove 6
echo "ok gatewaydev is netdev; every vif"

# 2. Debian's vif-bridge, unchanged, on real interfaces.
VB=/etc/xen/scripts/vif-bridge
if [ "$(id -u)" != 0 ] || [ ! -x $VB ] || ! command -v unshare >/dev/null ||
	! unshare -m -n true 2>/dev/null; then
	echo "skip: Debian's vif-bridge needs root, xen-utils-common and unshare"
	exit 0
fi
unset DOMUS_XEN_SCRIPT_DIR DOMUS_SYS_CLASS_NET
cfg "$XS_TMP/r.cfg" "mac=00:16:3e:12:34:56,bridge=xenbr0"
cfg "$XS_TMP/n.cfg" "mac=00:16:3e:12:34:58,bridge=xenbr0,vifname=web0"
cfg "$XS_TMP/rt.cfg" "mac=00:16:3e:12:34:59,script=vif-route,ip=10.1.0.50,gatewaydev=eth0"
cat >"$XS_TMP/real.sh" <<EOF
set -u
fail() { echo "FAIL: \$*"; exit 1; }
# This namespace's interfaces in /sys, and the scripts' log dir private.
mount -t sysfs sysfs /sys && mount -t tmpfs tmpfs /var/log || fail "mounts"
ip link add xenbr0 type bridge && ip link set xenbr0 up || fail "bridge"
ip tuntap add dev vif7.0 mode tap && ip tuntap add dev vif8.0 mode tap || fail "taps"
"$LAYOUT" write "$XS_TMP/r.cfg" 7 || fail "write"
xenstore-write /local/domain/0/backend/vif/7/0/state 2
"$LAYOUT" online "$XS_TMP/r.cfg" 7 || fail "online: \$(cat /var/log/xen/xen-hotplug.log)"
ip -o link show vif7.0 | grep -q "master xenbr0" || fail "vif7.0 not on xenbr0: \$(ip -o link show vif7.0)"
ip -o link show vif7.0 | grep -q "UP" || fail "vif7.0 not up"
[ "\$(xenstore-read /local/domain/0/backend/vif/7/0/hotplug-status)" = connected ] || fail "not connected"
echo "ok vif-bridge online: vif7.0 on xenbr0"
"$LAYOUT" offline "$XS_TMP/r.cfg" 7 || fail "offline"
ip -o link show vif7.0 | grep -q master && fail "vif7.0 still on the bridge"
"$LAYOUT" remove 7
echo "ok vif-bridge offline: vif7.0 off the bridge"
# vifname=: the script renames netback's name
"$LAYOUT" write "$XS_TMP/n.cfg" 8 && xenstore-write /local/domain/0/backend/vif/8/0/state 2 || fail "write"
"$LAYOUT" online "$XS_TMP/n.cfg" 8 || fail "vifname online"
ip -o link show web0 | grep -q "master xenbr0" || fail "web0 not on xenbr0: \$(ip -o link)"
echo "ok vif-bridge vifname=web0 renames vif8.0"
# As in domus: offline runs after the monitor, and its TAP, are gone.
ip link del web0
"$LAYOUT" offline "$XS_TMP/n.cfg" 8 || fail "offline after the interface went: \$(tail -5 /var/log/xen/xen-hotplug.log)"
"$LAYOUT" remove 8
echo "ok vif-bridge offline once the interface is gone"
# the bridge gone between xl's check and the script
ip tuntap add dev vif9.0 mode tap
"$LAYOUT" write "$XS_TMP/r.cfg" 9 && xenstore-write /local/domain/0/backend/vif/9/0/state 2 || fail "write"
ip link del xenbr0
"$LAYOUT" online "$XS_TMP/r.cfg" 9 >$XS_TMP/out 2>&1 && fail "online without a bridge succeeded"
[ "\$(cat $XS_TMP/out)" = "xl: vif 0 (vif9.0, $VB online): Could not find bridge device xenbr0" ] || fail "no bridge: [\$(cat $XS_TMP/out)]"
"$LAYOUT" remove 9
echo "ok vif-bridge's own error, in one line"
# vif-route (it needs ifconfig, net-tools): gatewaydev= is the script's
# netdev, whose address the vif borrows; ip= gets a host route.
if command -v ifconfig >/dev/null && ip link add eth0 type veth peer name eth0p 2>/dev/null; then
	ip addr add 10.1.0.1/24 dev eth0 && ip link set eth0 up || fail "eth0"
	ip tuntap add dev vif10.0 mode tap
	"$LAYOUT" write "$XS_TMP/rt.cfg" 10 && xenstore-write /local/domain/0/backend/vif/10/0/state 2 || fail "write"
	"$LAYOUT" online "$XS_TMP/rt.cfg" 10 || fail "vif-route online: \$(tail -5 /var/log/xen/xen-hotplug.log)"
	ip route show 10.1.0.50 | grep -q "dev vif10.0 .*src 10.1.0.1" || fail "no route: \$(ip route)"
	"$LAYOUT" offline "$XS_TMP/rt.cfg" 10 || fail "vif-route offline"
	ip route show 10.1.0.50 | grep -q vif10.0 && fail "route left"
	"$LAYOUT" remove 10
	echo "ok vif-route: 10.1.0.50 routed to vif10.0 from eth0's address, removed offline"
else
	echo "skip: vif-route needs ifconfig (net-tools), and this test veth"
fi
EOF
unshare -m -n bash "$XS_TMP/real.sh" || fail "Debian's vif-bridge"
exit 0
