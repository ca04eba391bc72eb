#!/bin/bash
# bench/net's host-side parts, without a lab: tests/guest/netbench.sh under
# busybox (the guest's shell and applets) in both roles on the loopback
# (server: iperf3 -s; client: both rows of pings and five iperf3 runs
# against it, seven results); a port nobody serves gives error lines, not
# results, and a failed exit; bench/net.inner's report() turns the client's
# console into rows; bench/net.table makes the table, orients the ping
# ratios, ends in exactly one "net domus/QEMU vhost-off" line and fails
# when a row lacks a pair.
set -u
cd "$(dirname "$0")/.." || exit 1
command -v iperf3 >/dev/null || { echo "SKIP: iperf3 is not installed (scripts/deps installs it)"; exit 77; }
[ -x /bin/busybox ] || { echo "SKIP: no /bin/busybox (busybox-static)"; exit 77; }
T=$(mktemp -d)
spid=""
trap '[ -n "$spid" ] && kill -- "-$spid" 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# The guest's applets before the host's, as in the fixture.
mkdir "$T/bin"
for a in ping timeout awk sed tail tr sleep; do ln -s /bin/busybox "$T/bin/$a"; done
export PATH="$T/bin:$PATH"
ping -c 1 -W 2 127.0.0.1 >/dev/null 2>&1 || { echo "SKIP: busybox ping cannot ping 127.0.0.1 here (no raw socket?)"; exit 77; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
nb() { busybox sh tests/guest/netbench.sh; }

# The server role: iperf3 -s in the background, READY, serving.
NETB_ROLE=server NETB_PORT=$port setsid busybox sh tests/guest/netbench.sh >"$T/server.out" 2>&1 &
spid=$!
for _ in $(seq 50); do grep -q '^GUEST-NET-READY' "$T/server.out" && break; sleep 0.2; done
grep -q '^GUEST-NET-READY' "$T/server.out" || { cat "$T/server.out"; fail "the server role did not say READY"; }
echo "ok: netbench.sh server: iperf3 -s on port $port, READY"

# The client role against it, as the guest would: both addresses the loopback.
out=$(NETB_ROLE=client NETB_PEER=127.0.0.1 NETB_HOST=127.0.0.1 NETB_SECONDS=1 NETB_PINGS=3 NETB_PORT=$port nb 2>&1)
rc=$?
echo "$out" >"$T/client.log"
[ "$rc" = 0 ] || { echo "$out"; fail "the client exited with $rc"; }
for job in u2u1 u2u4 u2d1 u2d4 d2u1; do
	echo "$out" | grep -qE "^GUEST-NET-RESULT $job kbps [1-9][0-9]*(\.[0-9]+)?$" || { echo "$out"; fail "no result for $job"; }
done
for job in pingu2u pingu2d; do
	echo "$out" | grep -qE "^GUEST-NET-RESULT $job ms [0-9]+\.[0-9]+ loss 0$" || { echo "$out"; fail "no result for $job"; }
done
[ "$(echo "$out" | grep -c '^GUEST-NET-RESULT ')" = 7 ] || { echo "$out"; fail "not seven results"; }
echo "$out" | grep -q '^GUEST-NET-DONE rc=0$' || { echo "$out"; fail "no DONE rc=0"; }
echo "ok: netbench.sh client: seven results from $(iperf3 --version | head -n 1)"

kill -- "-$spid" 2>/dev/null
wait "$spid" 2>/dev/null
spid=""
sleep 0.5
# Nothing of the server left: a stray iperf3 would serve the next run.
port_busy() { python3 -c 'import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) != 0)' "$1"; }
port_busy "$port" && fail "iperf3 -s still listens on $port after the server role was killed"

# A port nobody serves: an error line for each iperf3 row (tried twice),
# the pings still measured, a failed exit.
out=$(NETB_ROLE=client NETB_PEER=127.0.0.1 NETB_HOST=127.0.0.1 NETB_SECONDS=1 NETB_PINGS=2 NETB_PORT=$port NETB_TRIES=2 nb 2>&1)
rc=$?
[ "$rc" != 0 ] || { echo "$out"; fail "the client succeeded against a port nobody serves"; }
echo "$out" | grep -qE '^GUEST-NET-RESULT (u2u|u2d|d2u)' && { echo "$out"; fail "a throughput result from a port nobody serves"; }
for job in u2u1 u2u4 u2d1 u2d4 d2u1; do
	echo "$out" | grep -q "^GUEST-NET-ERROR $job iperf3 127.0.0.1 exited with 1: .*unable to connect" || { echo "$out"; fail "no error line for $job"; }
done
echo "$out" | grep -q '^GUEST-NET-RESULT pingu2d ms ' || { echo "$out"; fail "the pings were not measured"; }
echo "$out" >"$T/refused.log"
out=$(NETB_ROLE=nonsense nb 2>&1) && fail "netbench.sh succeeded without a role"
echo "$out" | grep -q "^GUEST-NET-ERROR all no role" || { echo "$out"; fail "no error line without a role"; }
echo "ok: netbench.sh: a port nobody serves gives error lines and rc=1, no role one error"

# bench/net.inner's report(): the client's console as rows, as in the lab.
rows=$(PYTHONDONTWRITEBYTECODE=1 python3 - "$T" <<'PY'
import importlib.machinery, sys
inner = importlib.machinery.SourceFileLoader("net_inner", "bench/net.inner").load_module()
t = sys.argv[1]
inner.report("domus", t + "/client.log", t + "/server.out")
inner.report("qemu72", t + "/refused.log", t + "/server.out")
with open(t + "/noeth.log", "w") as f:
    f.write("DOMUS-INIT uptime=3.1\r\nGUEST-NET-ERROR pingu2u no eth0: lo \r\nDOMUS-TEST-RESULT netbench rc=1\r\n")
print("why " + inner.one_line(inner.guest_failed("server", t + "/noeth.log", RuntimeError("QEMU exited with 0"))))
PY
) || fail "report() failed"
echo "$rows" >"$T/rows"
[ "$(grep -cE '^row domus (u2u1|u2u4|u2d1|u2d4|d2u1) kbps [0-9.]+$' "$T/rows")" = 5 ] || { echo "$rows"; fail "report(): not five throughput rows"; }
[ "$(grep -cE '^row domus (pingu2u|pingu2d) ms [0-9.]+ loss 0$' "$T/rows")" = 2 ] || { echo "$rows"; fail "report(): not two ping rows"; }
grep -q '^row qemu72 u2d4 failed iperf3 127.0.0.1 exited with 1: .*unable to connect' "$T/rows" || { echo "$rows"; fail "report(): the refused run's reason is not in its row"; }
grep -q '^note domus seconds=1 pings=3 ' "$T/rows" || { echo "$rows"; fail "report(): the client's INFO is not a note"; }
grep -qx 'why server guest: no eth0: lo; QEMU exited with 0' "$T/rows" || { echo "$rows"; fail "guest_failed(): the guest's own error is not the reason"; }
echo "ok: net.inner report(): seven rows from the client's console, a failed row with its reason; a guest's own error names its failure"

# The table from the rows: domus against itself (virtio-net the same
# numbers) gives 1.00 on every row, ratios of throughput and latency alike.
table=$({ grep '^row domus ' "$T/rows"; sed -n 's/^row domus /row qemu72 /p' "$T/rows"; } | python3 bench/net.table) ||
	{ echo "$table"; fail "net.table failed on domus and virtio-net rows"; }
[ "$(echo "$table" | tail -n 1)" = "net domus/QEMU vhost-off (min over rows): 1.00" ] || { echo "$table"; fail "a peer equal to domus is not 1.00"; }
echo "ok: net.table: rows from report() make a table"

rows() { # rows PEER KBPS MS: seven rows of one peer
	for job in u2u1 u2u4 u2d1 u2d4 d2u1; do echo "row $1 $job kbps $2"; done
	for job in pingu2u pingu2d; do echo "row $1 $job ms $3 loss 0"; done
}
{
	echo "note knobs seconds=10 pings=20"
	rows domus 9000 0.400
	rows qemu72 6000 0.600
	rows qemu72vhost 12000 0.300 | grep -v ' u2u4 '
	echo "row qemu72vhost u2u4 failed QEMU exited with 1: vhost-net requested but could not be initialized"
	rows qemu10xen 3000 1.000
	echo "row domus pingu2d ms 0.500 loss 10"
	echo "row qemu72 pingu2d ms 0.450 loss 0"
} >"$T/full"
table=$(python3 bench/net.table <"$T/full") || { echo "$table"; fail "net.table failed on complete rows"; }
# The last line is over the throughput rows (all 9000/6000: 1.50); the
# pingu2d row (virtio-net 0.45 ms over domus's 0.5 ms: 0.90) counts only in
# the goals line.
[ "$(echo "$table" | tail -n 1)" = "net domus/QEMU vhost-off (min over rows): 1.50" ] ||
	{ echo "$table"; fail "the last line is not the min throughput ratio"; }
echo "$table" | grep -q "domus >= 1x virtio-net 6/7" || { echo "$table"; fail "the goals line does not count the slow ping row"; }
[ "$(echo "$table" | grep -c '^net domus/QEMU vhost-off')" = 1 ] || fail "more than one summary line"
echo "$table" | grep -qE '^domU->domU TCP x1 +Mbit/s +9\.00 +6\.00 +12\.00 +3\.00 +1\.50 +0\.75 +3\.00$' ||
	{ echo "$table"; fail "the domU->domU x1 row is wrong"; }
echo "$table" | grep -qE '^domU->domU ping +ms +0\.400 +0\.600 +0\.300 +1\.000 +1\.50 +0\.75 +2\.50$' ||
	{ echo "$table"; fail "the domU->domU ping row is wrong (ratios must be peer/domus)"; }
echo "$table" | grep -q "failed: qemu72vhost u2u4: QEMU exited with 1: vhost-net requested" || { echo "$table"; fail "the failure is not shown"; }
echo "$table" | grep -q "note: domus pingu2d: 10 % of the pings lost" || { echo "$table"; fail "the lost pings are not noted"; }
echo "$table" | grep -q "goals met on rows: domus >= 1x virtio-net 6/7, domus >= 2x xen-net 7/7" || { echo "$table"; fail "the goal counts are wrong"; }
grep -v "^row qemu72 pingu2u " "$T/full" >"$T/partial"
table=$(python3 bench/net.table <"$T/partial") && { echo "$table"; fail "net.table succeeded without virtio-net's pingu2u"; }
[ "$(echo "$table" | tail -n 1)" = "net domus/QEMU vhost-off (min over rows): none (no pair for pingu2u)" ] ||
	{ echo "$table"; fail "a missing pair is not named in the last line"; }
echo "ok: net.table: ratios oriented, failures, lost pings, the one last line, a missing pair fails"

# net.ab: an A/B's rounds as medians per side, B/A oriented as the table's.
printf '%s\n' "row domus u2u1 kbps 1000" "row domusB u2u1 kbps 2000" "row domus u2u1 kbps 3000" \
	"row domusB u2u1 kbps 1800" "row domus u2u1 kbps 1200" "row domusB u2u1 kbps 2200" \
	"row domus pingu2d ms 5" "row domusB pingu2d ms 4" "row domusB pingu2u failed QEMU gone" >"$T/ab"
ab=$(python3 bench/net.ab <"$T/ab") || { echo "$ab"; fail "net.ab failed"; }
echo "$ab" | grep -qE '^domU->domU TCP x1 +Mbit/s +1\.20 \(1\.00-3\.00\) n=3 +2\.00 \(1\.80-2\.20\) n=3 +1\.67$' ||
	{ echo "$ab"; fail "net.ab's medians or B/A are wrong"; }
echo "$ab" | grep -qE '^domU->dom0 ping +ms .* 1\.25$' || { echo "$ab"; fail "net.ab's ping B/A must be A/B's times"; }
[ "$(echo "$ab" | tail -n 1)" = "net A/B: B/A median over rows 1.46 (3 rounds each)" ] || { echo "$ab"; fail "net.ab's last line"; }
echo "ok: net.ab: medians and spread per side, B/A oriented, one last line"
