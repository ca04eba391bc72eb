#!/bin/bash
# Runs a client program ($2) against our xenstored ($1) on a private socket.
# Any further arguments are patterns that must each match a daemon log line.
. "$(dirname "$0")/lib.sh"
start_xenstored "$1"
XS_PID=$XS_PID "$2" || fail "$2 failed"
for pat in "${@:3}"; do
	grep -q -- "$pat" "$XS_LOG" || fail "daemon log lacks '$pat'"
done
kill -0 "$XS_PID" || fail "daemon died"
