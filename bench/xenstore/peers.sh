# Starting Xen 4.17's own daemons on private sockets through fakexen
# (shared/design/peers.md 2c).  Sourced by run.sh and the differential test.
# Needs: $FAKEXEN (path of libfakexen.so), $PEER_TMP (a private directory).
# Defines start_xen_c, start_oxenstored (return 1 if they cannot run) and
# stop_peers; sockets end up in $XEN_C_SOCK and $OX_SOCK.
XEN_BIN=/usr/lib/xen-4.17/bin
XEN_C_SOCK=$PEER_TMP/xen-c/socket
OX_SOCK=$PEER_TMP/ox/run/socket
PEER_PIDS=

wait_socket() {
	for _ in $(seq 100); do
		[ -S "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

start_xen_c() {
	[ -x $XEN_BIN/xenstored ] || return 1
	mkdir -p "$PEER_TMP/xen-c"
	# XENSTORED_RUNDIR too: it always creates its rundir (peers.md 2c).
	XENSTORED_RUNDIR=$PEER_TMP/xen-c XENSTORED_PATH=$XEN_C_SOCK LD_PRELOAD=$FAKEXEN \
		$XEN_BIN/xenstored -N -F "$PEER_TMP/xen-c/pid" >"$PEER_TMP/xen-c/log" 2>&1 &
	PEER_PIDS="$PEER_PIDS $!"
	wait_socket "$XEN_C_SOCK"
}

# oxenstored has a fixed socket path and raises RLIMIT_NOFILE to nr_open at
# start, so it runs in a private mount namespace with both hidden.
start_oxenstored() {
	[ -x $XEN_BIN/oxenstored ] && command -v unshare >/dev/null || return 1
	local d=$PEER_TMP/ox
	mkdir -p "$d/run"
	echo 20000 >"$d/nr_open"
	sed -e "s|^pid-file = .*|pid-file = $d/pid|" /etc/xen/oxenstored.conf >"$d/conf"
	cat >>"$d/conf" <<CONF
xenstored-log-file = $d/xenstored.log
access-log-file = $d/access.log
CONF
	cat >"$d/run.sh" <<RUN
#!/bin/sh
mount --bind $d/nr_open /proc/sys/fs/nr_open || exit 1
mount -t tmpfs -o size=1m none /run || exit 1
mkdir -p /run/xenstored /run/xen
mount --bind $d/run /run/xenstored || exit 1
exec env LD_PRELOAD=$FAKEXEN $XEN_BIN/oxenstored --no-fork --config-file $d/conf
RUN
	chmod +x "$d/run.sh"
	unshare -m --propagation private "$d/run.sh" >"$d/out" 2>&1 &
	PEER_PIDS="$PEER_PIDS $!"
	wait_socket "$OX_SOCK"
}

stop_peers() {
	for p in $PEER_PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PEER_PIDS=
}
