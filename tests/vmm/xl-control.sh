#!/bin/sh
# xl-control.sh XL FAKE_MONITOR EXPECTED: the real xl against fake-monitor
# (the control server of domus-vmm with a fake domain, no KVM).  EXPECTED is
# what xl printed against the text protocol before the typed one replaced
# it; Domain-0's rows (the host's own numbers) are left out, and the uptime's
# seconds may run on by a second or two while the test runs.
set -u
XL=$1 FAKE=$2 EXPECTED=$3
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT
export DOMUS_RUN_DIR="$T/run"
mkdir -p "$DOMUS_RUN_DIR"
"$FAKE" "$DOMUS_RUN_DIR" 5 guest5 $(($(date +%s) - 3725)) &
pid=$!
i=0
until [ -S "$DOMUS_RUN_DIR/5/control" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "fake-monitor did not start"; exit 1; }
	sleep 0.05
done
run() {
	echo "== xl $*"
	"$XL" "$@" 2>&1
	echo "rc=$?"
}
{
	run list guest5
	run list
	run uptime guest5
	run uptime -s guest5
	run pause guest5
	run list 5
	run unpause 5
	run list guest5
	run pause nosuch
	run pause 6
	run destroy guest5
	run list
} | grep -v '^Domain-0 ' | sed 's/ 1:02:0[5-7]/ 1:02:05/' >"$T/out"
wait "$pid" || { echo "fake-monitor failed"; exit 1; }
pid=
diff -u "$EXPECTED" "$T/out"
