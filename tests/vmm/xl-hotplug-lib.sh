# What xl-hotplug.sh and xl-nethotplug.sh share: xenstored started, xl's
# run and log directories in the test's temp directory, and domain 5
# running as xl create leaves it, under hotplug-monitor (stopped on exit).
# Usage: XSD=... LAYOUT=... MON=...; . "$(dirname "$0")/xl-hotplug-lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/xs-lib.sh"
start_xenstored "$XSD"
export DOMUS_RUN_DIR=$XS_TMP/run DOMUS_LOG_DIR=$XS_TMP/log
mkdir -p "$DOMUS_RUN_DIR" "$DOMUS_LOG_DIR"
mpid=
trap '[ -n "$mpid" ] && kill "$mpid" 2>/dev/null; cleanup' EXIT
KEPT=$DOMUS_RUN_DIR/5/config

start_guest5() { # start_guest5 [VAR=VALUE...]: $XS_TMP/guest5.cfg as domain 5: its
	# monitor (pid in mpid, given those variables), its nodes, its kept configuration
	env "$@" "$MON" "$DOMUS_RUN_DIR" 5 guest5 $(($(date +%s) - 60)) 2>"$XS_TMP/monitor.log" &
	mpid=$!
	wait_socket "$DOMUS_RUN_DIR/5/control" hotplug-monitor "$XS_TMP/monitor.log"
	cp "$XS_TMP/guest5.cfg" "$KEPT"
	"$LAYOUT" write "$XS_TMP/guest5.cfg" 5 || fail "xs-layout write 5"
}
