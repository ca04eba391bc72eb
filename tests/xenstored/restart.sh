#!/bin/bash
# Restart without loss (restarttest.c runs and restarts the daemon itself;
# it leaves the daemon's pid in $XSD_PIDFILE so it is stopped here too).
. "$(dirname "$0")/lib.sh"
export XSD_PIDFILE=$XS_TMP/daemon.pid
stop_restarted() {
	[ -s "$XSD_PIDFILE" ] && kill "$(cat "$XSD_PIDFILE")" 2>/dev/null
	cleanup
}
trap stop_restarted EXIT
"$2" "$1" || { echo "FAIL: restart test"; exit 1; }
