# bench/net (bench/net.inner): one guest of a pair on the lab's bridge, in
# one of two roles.
#   server  takes its address, starts iperf3 -s, prints GUEST-NET-READY and
#           serves until the guest is destroyed.
#   client  waits for the server and for dom0 (the lab, with an iperf3 server
#           of its own on the bridge) to answer ping, then measures, one
#           after the other:
#             pingu2u  ping the server guest, PINGS pings 0.2 s apart (avg ms)
#             pingu2d  ping dom0, the same
#             u2u1     iperf3 TCP to the server guest, 1 stream
#             u2u4     the same, 4 streams (-P 4)
#             u2d1     iperf3 TCP to dom0, 1 stream
#             u2d4     the same, 4 streams
#             d2u1     iperf3 TCP from dom0 to this guest (-R), 1 stream
#           Pings first, on an idle link.  Each iperf3 run is SECONDS long,
#           -f k (the receiver's Kbits/sec, 10^3 bits a second).
# For each job the client prints one line:
#   GUEST-NET-RESULT JOB kbps N      GUEST-NET-RESULT JOB ms N
# or GUEST-NET-ERROR JOB TEXT, and GUEST-NET-DONE rc=N at the end; both
# roles print GUEST-NET-INFO lines (the interface, its driver).
#
# In a guest the knobs come from the kernel command line: domus.net_role,
# domus.net_ip (this guest's address, /24 on eth0), domus.net_peer (the
# server's address), domus.net_host (dom0's), domus.net_seconds (default
# 10), domus.net_pings (default 20).  The environment (NETB_ROLE, NETB_IP,
# NETB_PEER, NETB_HOST, NETB_SECONDS, NETB_PINGS, and NETB_PORT: the iperf3
# port, default 5201; NETB_TRIES: connection attempts, default 30) overrides
# them: bench/net-check.sh runs this same script on the host without an
# address of its own (no NETB_IP: no interface is touched).
cmdline() { sed -n "s/.*domus\.$1=\([^ ]*\).*/\1/p" /proc/cmdline 2>/dev/null; }
ROLE=${NETB_ROLE:-$(cmdline net_role)}
IP=${NETB_IP:-$(cmdline net_ip)}
PEER=${NETB_PEER:-$(cmdline net_peer)}
HOST=${NETB_HOST:-$(cmdline net_host)}
SECS=${NETB_SECONDS:-$(cmdline net_seconds)}
PINGS=${NETB_PINGS:-$(cmdline net_pings)}
SECS=${SECS:-10}
PINGS=${PINGS:-20}
PORT=${NETB_PORT:-5201}
TRIES=${NETB_TRIES:-30}
JOBS="pingu2u pingu2d u2u1 u2u4 u2d1 u2d4 d2u1"
rc=0

# fail_all TEXT: every job an error (the client cannot measure at all)
fail_all() {
	for j in $JOBS; do echo "GUEST-NET-ERROR $j $1"; done
	echo "GUEST-NET-DONE rc=1"
	exit 1
}

case $ROLE in
server | client) ;;
*)
	echo "GUEST-NET-ERROR all no role (domus.net_role=server|client): '$ROLE'"
	exit 1
	;;
esac
command -v iperf3 >/dev/null || fail_all "iperf3 is missing (boot the fixture of lab/fixture --bench)"

if [ -n "$IP" ]; then
	i=0
	while [ "$i" -lt 60 ] && [ ! -e /sys/class/net/eth0 ]; do
		sleep 0.5
		i=$((i + 1))
	done
	[ -e /sys/class/net/eth0 ] || fail_all "no eth0: $(ls /sys/class/net | tr '\n' ' ')"
	drv=$(readlink /sys/class/net/eth0/device/driver)
	echo "GUEST-NET-INFO $ROLE eth0 driver=${drv##*/} mac=$(cat /sys/class/net/eth0/address) mtu=$(cat /sys/class/net/eth0/mtu) queues=$(ls -d /sys/class/net/eth0/queues/tx-* 2>/dev/null | wc -l)"
	ip addr add "$IP/24" dev eth0 && ip link set eth0 up || fail_all "cannot give eth0 $IP/24"
fi

if [ "$ROLE" = server ]; then
	iperf3 -s -p "$PORT" >/tmp/iperf3-server.log 2>&1 &
	pid=$!
	sleep 1
	kill -0 "$pid" 2>/dev/null || { echo "GUEST-NET-ERROR all iperf3 -s exited: $(tail -n 2 /tmp/iperf3-server.log | tr '\n' ' ')"; exit 1; }
	echo "GUEST-NET-READY $IP"
	wait "$pid"
	echo "GUEST-NET-ERROR all iperf3 -s exited with $?: $(tail -n 2 /tmp/iperf3-server.log | tr '\n' ' ')"
	exit 1
fi

[ -n "$PEER" ] && [ -n "$HOST" ] || fail_all "no peer or host address (domus.net_peer, domus.net_host)"

# reach ADDR: ADDR answers one of 120 pings, each given a second (ARP
# resolved, the path up)
reach() {
	i=0
	while [ "$i" -lt 120 ]; do
		ping -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}

# lat JOB ADDR: the average of PINGS round trips (and the loss, in %)
lat() {
	out=$(ping -c "$PINGS" -i 0.2 -W 5 -q "$2" 2>&1)
	# busybox: "round-trip min/avg/max = a/b/c ms"; iputils: "rtt min/avg/max/mdev = a/b/c/d ms"
	v=$(echo "$out" | sed -n 's|.*min/avg/max[^=]*= *[0-9.]*/\([0-9.]*\)/.*|\1|p')
	loss=$(echo "$out" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')
	if [ -n "$v" ]; then
		echo "GUEST-NET-RESULT $1 ms $v loss ${loss:-0}"
	else
		echo "GUEST-NET-ERROR $1 ping $2: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
		rc=1
	fi
}

# tput JOB ADDR [IPERF3 ARGS]: one iperf3 run to ADDR's server; a server
# not listening yet or busy with the run before is tried again
tput() {
	job=$1 addr=$2
	shift 2
	n=1
	while :; do
		out=$(timeout $((SECS * 3 + 60)) iperf3 -c "$addr" -p "$PORT" -t "$SECS" -i 0 -f k \
			--connect-timeout 5000 "$@" 2>&1)
		st=$?
		case $out in
		*"unable to connect"* | *"server is busy"*)
			if [ "$n" -lt "$TRIES" ]; then
				n=$((n + 1))
				sleep 1
				continue
			fi
			;;
		esac
		break
	done
	# The last "receiver" line: the stream's own with -P 1, [SUM] with more.
	v=$(echo "$out" | awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "Kbits/sec") v = $(i - 1) }
		END { if (v != "") print v }')
	if [ "$st" = 0 ] && [ -n "$v" ]; then
		echo "GUEST-NET-RESULT $job kbps $v"
	else
		echo "GUEST-NET-ERROR $job iperf3 $addr exited with $st: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
		rc=1
	fi
}

echo "GUEST-NET-INFO seconds=$SECS pings=$PINGS peer=$PEER host=$HOST"
peer_ok=1 host_ok=1
reach "$PEER" || peer_ok=0
reach "$HOST" || host_ok=0
nopeer="the server guest $PEER does not answer ping (120 tries)"
nohost="dom0 $HOST does not answer ping (120 tries)"
if [ "$peer_ok" = 1 ]; then lat pingu2u "$PEER"; else echo "GUEST-NET-ERROR pingu2u $nopeer"; rc=1; fi
if [ "$host_ok" = 1 ]; then lat pingu2d "$HOST"; else echo "GUEST-NET-ERROR pingu2d $nohost"; rc=1; fi
if [ "$peer_ok" = 1 ]; then
	tput u2u1 "$PEER"
	tput u2u4 "$PEER" -P 4
else
	echo "GUEST-NET-ERROR u2u1 $nopeer"
	echo "GUEST-NET-ERROR u2u4 $nopeer"
	rc=1
fi
if [ "$host_ok" = 1 ]; then
	tput u2d1 "$HOST"
	tput u2d4 "$HOST" -P 4
	tput d2u1 "$HOST" -R
else
	for j in u2d1 u2d4 d2u1; do echo "GUEST-NET-ERROR $j $nohost"; done
	rc=1
fi
# The frontends' complaints: drops or errors the totals would not show.
if [ -n "$IP" ]; then
	dmesg | grep -iE 'netfront|virtio_net|eth0' | grep -iE 'fail|error|drop|timeout' | sed 's/^/GUEST-NET-DMESG /'
fi
echo "GUEST-NET-DONE rc=$rc"
exit "$rc"
