# Shared by the integration tests that play a guest's frontend against
# back ends on a private xenstored (xenbus-xs.sh, xenbus-vif-xs.sh,
# xl-hotplug.sh, xl-nethotplug.sh): the xenstored test library, the
# xenstore-utils they drive it with (skipped without them), the checks of
# one node, and a back end run by xb-drive ($DRIVE_BIN) as a coprocess.
# Usage: . "$(dirname "$0")/xs-lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../xenstored/lib.sh"
command -v xenstore-write >/dev/null || { echo "xenstore-utils is not installed"; exit 77; }

is() { # is <path> <value>
	local got
	got=$(xenstore-read "$1" 2>&1) || fail "$1: $got"
	[ "$got" = "$2" ] || fail "$1 is [$got], expected [$2]"
}
eventually() { # eventually <path> <value>: within 5 s
	for _ in $(seq 100); do
		[ "$(xenstore-read "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.05
	done
	is "$1" "$2"
}
gone() { # gone <path>...: none of them exists
	for p in "$@"; do
		xenstore-exists "$p" 2>/dev/null && fail "$p is still there: $(xenstore-ls -f "$p")"
	done
	return 0
}

drive_start() { # drive_start <xb-drive args...>: once it says it started
	coproc DRIVE { exec "$DRIVE_BIN" "$@" 2>>"$XS_TMP/drive.log"; }
	read -t 15 -r reply <&"${DRIVE[0]}" || fail "xb-drive did not start: $(cat "$XS_TMP/drive.log")"
	[ "$reply" = "ok started" ] || fail "xb-drive: $reply: $(cat "$XS_TMP/drive.log")"
}
cmd() { # cmd <command>: to xb-drive, which must answer ok ($BE shown if not)
	echo "$1" >&"${DRIVE[1]}"
	read -t 20 -r reply <&"${DRIVE[0]}" || fail "'$1': no answer: $(tail -5 "$XS_TMP/drive.log")"
	[[ $reply == ok* ]] || fail "'$1': $reply; backend: $(xenstore-ls -f "$BE" 2>&1); log: $(tail -5 "$XS_TMP/drive.log")"
}
