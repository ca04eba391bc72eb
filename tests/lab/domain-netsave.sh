#!/bin/bash
# A vif's rate and a TCP connection across save/restore (docs/netback.md;
# issue 14, deliverables 2 and 4).
#   1. rate=512Kb/s: the backend's rate key is libxl's (bytes per 50 ms
#      window), and the guest's 1.25 MB to the host arrive at a rate within
#      10 % of 512 Kb/s.  (The issue names 10Mb/s; the lab's nested, emulated
#      guests move about 1.8 Mb/s to the lab's host and 6 Mb/s to each
#      other (session 6), so a limit the lab can reach is tested, with room:
#      at 1Mb/s, in a make check of two labs side by side on a slower
#      machine, the guest itself sent no faster than 0.9 Mb/s.  The credit
#      scheduler itself is tested on a fake clock in test_netback.c.)
#   2. a TCP connection from the host into the guest carries 1 MiB, the
#      domain is saved and restored (the same domain id), the same
#      connection carries 1 MiB more, and the guest got all 2 MiB intact.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
BR=xenbr0 NET=10.99.0 GIP=10.99.0.21
command -v socat >/dev/null || fail "socat missing on the host (make deps installs it)"
ip link show $BR >/dev/null 2>&1 && fail "$BR exists already in the lab"
ip link add $BR type bridge && ip addr add $NET.1/24 dev $BR && ip link set $BR up || fail "cannot make $BR"
trap 'kill $(jobs -p) 2>/dev/null; cleanup_all; ip link del $BR 2>/dev/null' EXIT

"$XL" create "$(mkcfg ns remote "vif = [ 'mac=00:16:3e:00:00:21,bridge=$BR,rate=512Kb/s' ]")" || fail "xl create failed"
id=$(domid_of ns)
gready ns 120 || fail "the guest does not take commands"
gexec ns "ip addr add $GIP/24 dev eth0 && ip link set eth0 up && ping -c 2 -W 5 $NET.1" 60 >/dev/null ||
	fail "the guest's eth0 cannot ping the bridge"

# 1. the rate: xl.cfg's 512Kb/s is 64000 bytes/s, in libxl's default
#    window of 50 ms 3200 bytes (libxl_device_nic's rate_interval_usecs)
rate=$(xenstore-read /local/domain/0/backend/vif/$id/0/rate 2>&1)
[ "$rate" = "3200,50000" ] || fail "backend rate key '$rate', libxl writes 3200,50000 for 512Kb/s"
BYTES=1250000
# Timed here from the first byte to the end of the stream (dd takes exactly
# one byte first), not around gexec, which answers at its own pace.
socat -u TCP-LISTEN:5002,reuseaddr - 2>"$T/socat-rate.err" |
	{ dd bs=1 count=1 of=/dev/null 2>/dev/null; date +%s%N >"$T/t0"; wc -c >"$T/rate.count"; date +%s%N >"$T/t1"; } &
sleep 0.5
gexec ns "head -c $BYTES /dev/zero | nc $NET.1 5002" 300 >/dev/null || fail "the guest's 1.25 MB to the host failed"
wait
got=$(( $(cat "$T/rate.count") + 1 ))
[ "$got" = "$BYTES" ] || fail "the host received $got bytes of $BYTES: $(cat "$T/socat-rate.err")"
ns=$(( $(cat "$T/t1") - $(cat "$T/t0") ))
bps=$(( (BYTES - 1) * 8 * 1000000000 / ns ))
[ "$bps" -ge 460800 ] && [ "$bps" -le 563200 ] ||
	fail "rate=512Kb/s: the guest sent at $bps bit/s ($BYTES bytes in $ns ns), not within 10 % of 512000"
ok "rate=512Kb/s: 1.25 MB at $bps bit/s (backend rate $rate)"

# 2. TCP across save and restore: the stream's two halves on one connection
head -c 2097152 /dev/urandom >"$T/stream"
want=$(sha256sum <"$T/stream" | cut -d' ' -f1)
# Busybox's nc half-closes when its stdin ends: the listener's stays open.
gexec ns "(sleep 3000 | nc -l -p 5003 | head -c 2097152 | sha256sum >/tmp/tsum; echo done >>/tmp/tsum) >/dev/null 2>&1 &" ||
	fail "the guest cannot listen"
sleep 1
mkfifo "$T/feed"
socat -u OPEN:"$T/feed" TCP:$GIP:5003 2>"$T/socat-tcp.err" &
spid=$!
exec 7>"$T/feed"
head -c 1048576 "$T/stream" >&7
sleep 2
"$XL" save ns "$T/ns.save" || fail "xl save of a domain with an open TCP connection failed"
"$XL" restore "$T/ns.save" || fail "xl restore failed"
[ "$(domid_of ns)" = "$id" ] || fail "restored as domain $(domid_of ns), saved as $id"
tail -c +1048577 "$T/stream" >&7
exec 7>&-
wait "$spid" || fail "the host's end of the connection failed across save/restore: $(cat "$T/socat-tcp.err")"
got=$(gexec ns "for i in \$(seq 120); do grep -q done /tmp/tsum && break; sleep 1; done; head -n 1 /tmp/tsum" 180 | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "the guest got sha256 $got for the 2 MiB, expected $want"
ok "one TCP connection into the guest carried 1 MiB, xl save + restore, 1 MiB more: all intact"

"$XL" destroy ns || fail "xl destroy failed"
leftovers "$id"
ip link show "vif$id.0" >/dev/null 2>&1 && fail "vif$id.0 left on the host"
ok "destroyed: nothing left"
