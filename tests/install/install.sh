#!/bin/bash
# install.sh BUILD PREFIX SBINDIR MANDIR DATADIR: `meson install --destdir`
# of the build puts everything where docs/install.md says, under the
# prefix, and /etc/xen and /etc/logrotate.d; the installed xl runs from
# there (help, info, -N create of the example config) and finds its
# domus-vmm and xenstored where it looks for them (xl/ts_dom.c); the units
# pass systemd-analyze verify; xenstored.service's shell lines work on a
# private socket; logrotate reads its file; bash loads the completion.
set -u
BUILD=$1 PREFIX=$2 SBINDIR=$3 MANDIR=$4 DATADIR=$5
T=$(mktemp -d /tmp/domus-install.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
abs() { case $1 in /*) echo "$1" ;; *) echo "$PREFIX/$1" ;; esac; }
D=$T/dest P=$T/dest$PREFIX
SB=$T/dest$(abs "$SBINDIR") MAN=$T/dest$(abs "$MANDIR") SHARE=$T/dest$(abs "$DATADIR")
case $PREFIX in /usr|/usr/local) UNITS=$P/lib/systemd/system ;; *) UNITS=$D/etc/systemd/system ;; esac

meson install -C "$BUILD" --destdir "$D" --no-rebuild >"$T/log" 2>&1 || fail "meson install: $(tail -20 "$T/log")"

# Everything is under DESTDIR: under the prefix, or in /etc.
( cd "$D" && find . -type f -o -type l ) | sed 's/^\.//' | while read -r f; do
	case $f in "$PREFIX"/*|/etc/xen/*|/etc/logrotate.d/*|/etc/systemd/system/*.service) ;; *) echo "$f" ;; esac
done >"$T/stray"
[ -s "$T/stray" ] && fail "installed outside the prefix and /etc/xen, /etc/logrotate.d: $(cat "$T/stray")"

for f in "$SB/xl" "$SB/xenstored" "$P/lib/domus/domus-vmm" "$P/lib/domus/xendomains"; do
	[ -f "$f" ] && [ -x "$f" ] || fail "missing or not executable: ${f#"$D"}"
done
for f in "$P/lib/domus/libdomus-blfd.so" "$MAN/man1/xl.1" "$MAN/man5/xl.cfg.5" "$MAN/man8/xenstored.8" \
	"$SHARE/bash-completion/completions/xl" "$UNITS/xenstored.service" \
	"$UNITS/xendomains.service" "$D/etc/logrotate.d/domus" "$D/etc/xen/xlexample.domus" \
	"$SHARE/doc/domus/install.md"; do
	[ -f "$f" ] || fail "missing: ${f#"$D"}"
done
[ -d "$D/etc/xen/auto" ] || fail "missing: /etc/xen/auto"
# xl looks for its siblings next to itself and in ../lib/domus.
[ -x "$SB/../lib/domus/domus-vmm" ] || fail "domus-vmm is not where xl looks: $SBINDIR/../lib/domus"
echo "ok the layout"

"$SB/xl" help >"$T/out" 2>&1 || fail "installed xl help: $(cat "$T/out")"
grep -q "^ list " "$T/out" || fail "installed xl help: $(cat "$T/out")"
[ "$("$SB/xl" info xend_config_format)" = 4 ] || fail "installed xl info"
DOMUS_XL_CONF=/dev/null "$SB/xl" -N create "$D/etc/xen/xlexample.domus" >"$T/json" 2>"$T/err" ||
	fail "the example config: $(cat "$T/err")"
python3 -c 'import json,sys; c = json.load(sys.stdin); assert c["c_info"]["name"] == "My-DomU", c' <"$T/json" ||
	fail "the example config's JSON: $(cat "$T/json")"
"$SB/xenstored" --help >/dev/null 2>&1 || fail "installed xenstored --help"
head -1 "$MAN/man1/xl.1" | grep -q '^\.TH XL 1' || fail "xl.1: $(head -1 "$MAN/man1/xl.1")"
head -1 "$MAN/man5/xl.cfg.5" | grep -q '^\.TH XL.CFG 5' || fail "xl.cfg.5"
echo "ok the installed xl runs (help, info, -N create of the example); xenstored; man pages"

bash -c ". '$SHARE/bash-completion/completions/xl' && complete -p xl" >"$T/out" 2>&1 &&
	grep -q -- "-F _xl xl" "$T/out" || fail "bash completion: $(cat "$T/out")"
bash -c ". '$SHARE/bash-completion/completions/xl'; COMP_WORDS=(xl li); COMP_CWORD=1; _xl; echo \"\${COMPREPLY[*]}\"" >"$T/out" 2>&1
[ "$(cat "$T/out")" = list ] || fail "bash completion of 'xl li': [$(cat "$T/out")]"
echo "ok bash completion"

# The units, with their paths moved into DESTDIR so that the programs exist.
if command -v systemd-analyze >/dev/null; then
	mkdir "$T/units"
	for u in xenstored xendomains; do
		sed "s|$PREFIX/|$P/|g" "$UNITS/$u.service" >"$T/units/$u.service"
	done
	grep -q "ExecStart=$SB/xenstored " "$T/units/xenstored.service" || fail "xenstored.service runs $(grep ExecStart= "$T/units/xenstored.service")"
	grep -q "ExecStop=$P/lib/domus/xendomains stop" "$T/units/xendomains.service" || fail "xendomains.service"
	(cd "$T/units" && systemd-analyze verify xenstored.service xendomains.service) >"$T/out" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$T/out")"
	# warnings (unknown keys, bad values) do not change its status
	grep -v "sysinit.target\|Failed to prepare filename" "$T/out" | grep -q . && fail "systemd-analyze verify: $(cat "$T/out")"
	echo "ok systemd-analyze verify of the units"
else
	echo "skip systemd-analyze verify: systemd-analyze not installed"
fi

# xenstored.service's shell lines, on a private socket: ExecStartPre refuses
# while a xenstored answers there (one xl started), and passes with none or
# a dead one's socket; ExecStartPost waits for the socket.
unit_sh() { # unit_sh KEY SOCKET: the unit's "KEY=/bin/sh -c '...'" script for SOCKET
	sed -n "s/^$1=\/bin\/sh -c '\(.*\)'\$/\1/p" "$UNITS/xenstored.service" |
		sed -e 's/\$\$/$/g' -e "s|/run/xenstored/socket|$2|g" -e "s|/run/xen/xenstored.pid|$T/xs.pid|g"
}
S=$T/xs/socket
mkdir -p "$T/xs"
pre=$(unit_sh ExecStartPre "$S") post=$(unit_sh ExecStartPost "$S")
[ -n "$pre" ] && [ -n "$post" ] || fail "xenstored.service: no ExecStartPre or ExecStartPost shell line"
if command -v xenstore-exists >/dev/null; then
	sh -c "$pre" >/dev/null 2>&1 || fail "xenstored.service ExecStartPre refuses with no xenstored"
	"$SB/xenstored" --socket "$S" --pid-file "$T/xs.pid" >"$T/xs.log" 2>&1 &
	xpid=$!
	sh -c "$post" 2>"$T/out" || { kill $xpid; fail "ExecStartPost: $(cat "$T/out")"; }
	sh -c "$pre" >"$T/out" 2>&1 && { kill $xpid; fail "ExecStartPre starts a second xenstored"; }
	grep -q "a xenstored already serves $S (pid $xpid)" "$T/out" || { kill $xpid; fail "ExecStartPre: $(cat "$T/out")"; }
	kill $xpid
	wait $xpid
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$S" # a dead one's
	sh -c "$pre" >/dev/null 2>&1 || fail "xenstored.service ExecStartPre refuses over a dead socket"
	echo "ok xenstored.service: no second xenstored over a live one; ready once the socket is there"
else
	echo "skip xenstored.service's shell lines: xenstore-utils not installed"
fi

if command -v logrotate >/dev/null; then
	logrotate -d -s "$T/lr.state" "$D/etc/logrotate.d/domus" >"$T/out" 2>&1 || fail "logrotate -d: $(cat "$T/out")"
	grep -qi "error" "$T/out" && fail "logrotate -d: $(grep -i error "$T/out")"
	echo "ok logrotate reads its file"
else
	echo "skip logrotate -d: logrotate not installed"
fi
exit 0
