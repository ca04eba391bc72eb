#!/bin/bash
# xendomains-xl.sh XENDOMAINS XL FAKE_MONITOR XENSTORED: dist/xendomains with
# domus's real xl, a private xenstored and a fake monitor for domain 5
# (tests/vmm/fake_monitor.c, which does not react to a shutdown request):
#  - start: the auto config of the running guest5 is left alone, web's is
#    started and its failure (a missing kernel) is xl's own message;
#  - stop: guest5 is asked to power off through xenstore as xl shutdown
#    asks, then destroyed through its monitor at XENDOMAINS_STOP_MAXWAIT.
set -u
XD=$1 XL=$2 FAKE=$3 XSD=$4
. "$(dirname "$0")/../xenstored/lib.sh"
command -v xenstore-read >/dev/null || { echo "xenstore-utils is not installed"; exit 77; }
start_xenstored "$XSD"
export DOMUS_RUN_DIR=$XS_TMP/run DOMUS_LOG_DIR=$XS_TMP/log DOMUS_XL_CONF=$XS_TMP/xl.conf
: >"$DOMUS_XL_CONF"
mkdir -p "$DOMUS_RUN_DIR" "$XS_TMP/auto" "$XS_TMP/bin"
ln -s "$(realpath "$XL")" "$XS_TMP/bin/xl"
export PATH="$XS_TMP/bin:$PATH" XENDOMAINS_DEFAULTS=$XS_TMP/defaults
printf 'XENDOMAINS_AUTO=%s/auto\nXENDOMAINS_SAVE=\nXENDOMAINS_STOP_MAXWAIT=3\n' "$XS_TMP" >"$XENDOMAINS_DEFAULTS"
fpid=
trap '[ -n "$fpid" ] && kill "$fpid" 2>/dev/null; cleanup' EXIT
"$FAKE" "$DOMUS_RUN_DIR" 5 guest5 "$(date +%s)" >"$XS_TMP/fake.log" 2>&1 &
fpid=$!
wait_socket "$DOMUS_RUN_DIR/5/control" fake-monitor "$XS_TMP/fake.log"
printf 'name = "guest5"\ntype = "pvh"\nkernel = "/boot/vmlinuz"\n' >"$XS_TMP/auto/guest5.cfg"
printf "name = 'web'\ntype = \"pvh\"\nkernel = \"%s/no-such-kernel\"\nmemory = 128\n" "$XS_TMP" >"$XS_TMP/auto/web.cfg"

"$XD" start >"$XS_TMP/out" 2>&1
grep -qx "xendomains: guest5 already running" "$XS_TMP/out" || fail "start: $(cat "$XS_TMP/out")"
grep -q "^xendomains: starting web failed: .*no-such-kernel" "$XS_TMP/out" || fail "start: $(cat "$XS_TMP/out")"
echo "ok start with xl: a running guest left alone, a failing create reported with xl's words"

start=$(date +%s)
"$XD" stop >"$XS_TMP/out" 2>&1
took=$(($(date +%s) - start))
[ "$(xenstore-read /local/domain/5/control/shutdown 2>&1)" = poweroff ] ||
	fail "stop: guest5 not asked to power off: $(xenstore-read /local/domain/5/control/shutdown 2>&1)"
grep -q "shutting down guest5 (5)" "$XS_TMP/out" || fail "stop: $(cat "$XS_TMP/out")"
grep -q "guest5 (5) still running after 3s; destroying it" "$XS_TMP/out" || fail "stop: $(cat "$XS_TMP/out")"
for _ in $(seq 100); do
	kill -0 "$fpid" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$fpid" 2>/dev/null && fail "stop: the monitor was not destroyed"
wait "$fpid"
fpid=
"$XL" list | grep -q guest5 && fail "stop: guest5 still listed"
[ "$took" -le 8 ] || fail "stop took ${took}s with a limit of 3s"
echo "ok stop with xl: asked to power off, destroyed through its monitor at the limit (${took}s)"
exit 0
