#!/bin/bash
# Golden tests of the xl.cfg parser and the xl front end, in the manner of
# OpenBSD's regress/usr.sbin/vmd/config: every case is a file, the expected
# output sits next to it, and a mismatch prints the diff.
#
#   pass/NAME.cfg   `xl -N create NAME.cfg` must exit 0 and print NAME.json;
#                   stderr must be NAME.stderr (default: the "Parsing config"
#                   line only).  The uuid is passed as uuid="..." taken from
#                   NAME.json unless NAME.args gives the arguments (one per line).
#   fail/NAME.cfg   must exit 1 with stderr exactly NAME.err and no stdout.
#   cmd/NAME.cmd    xl arguments, one per line; stdout must be NAME.out,
#                   stderr NAME.err (default empty), exit code NAME.rc (default 0).
# NAME.xlconf, if present, is the xl.conf of the case (default: empty).
#
# usage: run-golden.sh XL_BINARY [CASE_DIR]
set -u
XL=$(realpath "$1")
DIR=$(realpath "${2:-$(dirname "$0")}")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0

check() { # name expected-file actual-file what
	if ! diff -u --label "expected $4" --label "actual $4" "$2" "$3" >"$TMP/diff"; then
		echo "not ok $1: $4 differs"
		sed 's/^/    /' "$TMP/diff"
		return 1
	fi
}

run_case() { # kind dir name
	local kind=$1 d=$2 n=$3 rc=0 want_rc=0 ok=0 conf=/dev/null
	local -a args=()
	[ -f "$d/$n.xlconf" ] && conf="$n.xlconf"
	case $kind in
	pass|fail)
		args=(-N create "$n.cfg")
		if [ -f "$d/$n.args" ]; then
			mapfile -t extra <"$d/$n.args"
			args+=("${extra[@]}")
		elif [ "$kind" = pass ]; then
			u=$(sed -n 's/^        "uuid": "\(.*\)",$/\1/p' "$d/$n.json" | head -n1)
			[ -n "$u" ] && args+=("uuid=\"$u\"")
		fi
		;;
	cmd)
		mapfile -t args <"$d/$n.cmd"
		;;
	esac
	# no domain of the host's is ever the one a case names
	(cd "$d" && DOMUS_XL_CONF=$conf DOMUS_RUN_DIR=$TMP/run "$XL" "${args[@]}" >"$TMP/out" 2>"$TMP/err")
	rc=$?
	case $kind in
	pass)
		[ -f "$d/$n.stderr" ] && cp "$d/$n.stderr" "$TMP/want_err" ||
			echo "Parsing config from $n.cfg" >"$TMP/want_err"
		check "$kind/$n" "$d/$n.json" "$TMP/out" stdout || ok=1
		check "$kind/$n" "$TMP/want_err" "$TMP/err" stderr || ok=1
		;;
	fail)
		want_rc=1
		: >"$TMP/empty"
		check "$kind/$n" "$d/$n.err" "$TMP/err" stderr || ok=1
		check "$kind/$n" "$TMP/empty" "$TMP/out" stdout || ok=1
		;;
	cmd)
		[ -f "$d/$n.rc" ] && want_rc=$(cat "$d/$n.rc")
		[ -f "$d/$n.out" ] && cp "$d/$n.out" "$TMP/want_out" || : >"$TMP/want_out"
		[ -f "$d/$n.err" ] && cp "$d/$n.err" "$TMP/want_err" || : >"$TMP/want_err"
		check "$kind/$n" "$TMP/want_out" "$TMP/out" stdout || ok=1
		check "$kind/$n" "$TMP/want_err" "$TMP/err" stderr || ok=1
		;;
	esac
	if [ "$rc" != "$want_rc" ]; then
		echo "not ok $kind/$n: exit code $rc, expected $want_rc"
		ok=1
	fi
	if [ $ok = 0 ]; then
		echo "ok $kind/$n"
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
	fi
}

for kind in pass fail cmd; do
	ext=cfg
	[ $kind = cmd ] && ext=cmd
	for f in "$DIR/$kind"/*.$ext; do
		[ -e "$f" ] || continue
		run_case $kind "$DIR/$kind" "$(basename "$f" .$ext)"
	done
done
echo "$pass passed, $fail failed"
[ $fail = 0 ] && [ $pass -gt 0 ]
