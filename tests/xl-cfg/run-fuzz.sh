#!/bin/bash
# Runs the xl.cfg libFuzzer target briefly from a seed corpus made of the
# golden cases.  New inputs go to a temporary directory (the source tree
# stays untouched); a crash, leak or sanitizer report fails the test and its
# input is kept in $MESON_BUILD_ROOT-independent ./fuzz-artifacts of the cwd.
# usage: run-fuzz.sh FUZZER CASE_DIR [SECONDS]
set -u
FUZZER=$1 DIR=$2 SECS=${3:-20}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/corpus"
for f in "$DIR"/pass/*.cfg "$DIR"/fail/*.cfg "$DIR"/*.xlconf "$DIR"/cmd/*.xlconf "$DIR"/fuzz-seeds/*; do
	[ -f "$f" ] && cp "$f" "$TMP/corpus/$(basename "$f")"
done
mkdir -p fuzz-artifacts
exec "$FUZZER" -max_total_time="$SECS" -timeout=5 -error_exitcode=1 -timeout_exitcode=1 -rss_limit_mb=1024 -max_len=4096 \
	-dict="$DIR/xlcfg.dict" -artifact_prefix=fuzz-artifacts/ -print_final_stats=1 \
	"$TMP/corpus"
