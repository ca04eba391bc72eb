#!/bin/bash
# Feeds every JSON that domus's xl prints in the golden cases (pass/*.json
# and the "disk: "/"vif: " outputs of cmd/*.out) through Xen's libxl
# (libxl-roundtrip) and requires libxl to print it back unchanged.
# usage: run-libxl-roundtrip.sh LIBXL_ROUNDTRIP CASE_DIR
set -u
RT=$1 DIR=$2
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
one() { # kind file-with-json label
	if "$RT" "$1" <"$2" >"$TMP/back" 2>"$TMP/err" && diff -u "$2" "$TMP/back" >"$TMP/diff"; then
		echo "ok $3"
		pass=$((pass + 1))
	else
		echo "not ok $3: libxl does not give the same JSON back"
		sed 's/^/    /' "$TMP/err" "$TMP/diff" 2>/dev/null
		fail=$((fail + 1))
	fi
}
for f in "$DIR"/pass/*.json; do
	one domain "$f" "pass/$(basename "$f")"
done
for f in "$DIR"/cmd/*.out; do
	case $(head -n1 "$f") in
	"disk: {") kind=disk ;;
	"vif: {") kind=nic ;;
	"{") kind=domain ;;
	*) continue ;;
	esac
	# "disk: " before, the empty line xl prints after
	sed -e '1s/^[a-z]*: //' -e '${/^$/d}' "$f" >"$TMP/json"
	one $kind "$TMP/json" "cmd/$(basename "$f")"
done
echo "$pass passed, $fail failed"
[ $fail = 0 ] && [ $pass -gt 0 ]
