# Shared by the xenstored integration tests: start the daemon under test on a
# private socket in a temp dir, and always stop it (by its pid) on exit.
# Usage: . lib.sh; start_xenstored <xenstored-binary> [options]
set -u
XS_TMP=$(mktemp -d /tmp/xstest.XXXXXX)
export XENSTORED_PATH=$XS_TMP/socket
export XSD_GUEST_SOCKET=$XS_TMP/guest # beside the socket by default
XS_PID=
XS_LOG=$XS_TMP/xenstored.log

stop_xenstored() {
	if [ -n "$XS_PID" ]; then
		kill "$XS_PID" 2>/dev/null
		wait "$XS_PID" 2>/dev/null
		XS_PID=
	fi
}
cleanup() {
	stop_xenstored
	rm -rf "$XS_TMP"
}
trap cleanup EXIT

start_xenstored() {
	local bin=$1
	shift
	rm -f "$XENSTORED_PATH"
	"$bin" -s "$XENSTORED_PATH" "$@" >>"$XS_LOG" 2>&1 &
	XS_PID=$!
	for _ in $(seq 100); do
		[ -S "$XENSTORED_PATH" ] && return 0
		sleep 0.05
	done
	echo "xenstored did not start:"; cat "$XS_LOG"
	exit 1
}

fail() {
	echo "FAIL: $*"
	echo "--- daemon log:"; cat "$XS_LOG"
	exit 1
}

# expect <expected output> <command...>: output (stdout+stderr) and rc 0
expect() {
	local want=$1 got
	shift
	got=$("$@" 2>&1) || fail "'$*' exited $?: $got"
	[ "$got" = "$want" ] || fail "'$*': got [$got] want [$want]"
}

# expect_fail <command...>: must exit non-zero
expect_fail() {
	"$@" >/dev/null 2>&1 && fail "'$*' should have failed"
	return 0
}

# start_watcher <timeout> <events> <path> <file>: xenstore-watch in the
# background (pid in $wpid), once its initial event is in $XS_TMP/<file>.
start_watcher() {
	timeout "$1" xenstore-watch -n "$2" "$3" >"$XS_TMP/$4" 2>&1 &
	wpid=$!
	for _ in $(seq 50); do
		[ -s "$XS_TMP/$4" ] && break
		sleep 0.05
	done
}

# wait_socket PATH WHAT LOG: PATH is a socket within 5 s, or fail naming
# WHAT with the end of LOG (a fake monitor's control socket, say).
wait_socket() {
	for _ in $(seq 100); do
		[ -S "$1" ] && return 0
		sleep 0.05
	done
	fail "$2 did not start: $(tail -n 5 "$3" 2>/dev/null)"
}
