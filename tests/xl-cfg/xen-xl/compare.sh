#!/bin/bash
# Runs Xen 4.17's own xl (`xl -N create`) on every tests/xl-cfg/pass case
# and compares its JSON with the committed NAME.json (uuid aside).  This is
# how pass/xen-*.json were made and how every other pass/*.json was checked
# (docs/xl-cfg.md).  Maintainer tool, not run by meson: it needs Xen's xl
# binary, which this host does not install.  Get it without installing:
#   apt-get download xen-utils-4.17 && dpkg -x xen-utils-4.17_*.deb xen
# then: compare.sh xen/usr/lib/xen-4.17/bin/xl
# xl needs a few hypervisor calls (fakexen.c, LD_PRELOAD) and a xenstore
# socket it only connects to (a listener here); it reads /etc/xen/xl.conf,
# so NAME.xlconf is bind-mounted there in a private mount namespace.
# Known differences, by design: warnings.cfg (vnc= makes Xen add a vfb).
# random-compare.py does the same with random configs (and, with --vif,
# random network-attach arguments); it needs a listener on XS_SOCKET like
# the one below.
set -u
XL=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
PASS=$HERE/../pass
TMP=$(mktemp -d)
trap 'kill $LISTENER 2>/dev/null; rm -rf "$TMP"' EXIT
gcc -O2 -shared -fPIC -o "$TMP/libfakexen.so" "$HERE/fakexen.c" || exit 1
# xl -N only connects (xs_open) and never sends: accept and hang up.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(64)
while True: s.accept()[0].close()
' "$TMP/xs.sock" &
LISTENER=$!
for i in 1 2 3 4 5 6 7 8 9 10; do [ -S "$TMP/xs.sock" ] && break; sleep 0.2; done
same=0 differ=0
for f in "$PASS"/*.cfg; do
	n=$(basename "$f" .cfg)
	args=()
	[ -f "$PASS/$n.args" ] && mapfile -t args <"$PASS/$n.args"
	run="cd '$PASS' && XENSTORED_PATH='$TMP/xs.sock' LD_PRELOAD='$TMP/libfakexen.so' \"\$0\" -N create '$n.cfg' \"\$@\""
	if [ -f "$PASS/$n.xlconf" ]; then
		unshare -m --propagation private sh -c "mount --bind '$PASS/$n.xlconf' /etc/xen/xl.conf && $run" \
			"$XL" "${args[@]}" >"$TMP/out" 2>"$TMP/err"
	else
		sh -c "$run" "$XL" "${args[@]}" >"$TMP/out" 2>"$TMP/err"
	fi
	if diff <(grep -v '"uuid"' "$PASS/$n.json") <(grep -v '"uuid"' "$TMP/out") >"$TMP/diff"; then
		echo "same   $n"
		same=$((same + 1))
	else
		echo "differ $n"
		sed 's/^/    /' "$TMP/err" "$TMP/diff"
		differ=$((differ + 1))
	fi
done
echo "$same same as Xen's xl, $differ differ"
