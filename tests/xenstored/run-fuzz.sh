#!/bin/bash
# Runs the xenstore message fuzzer briefly from the seed corpus; new inputs
# go to a temporary directory; a crash, leak, sanitizer report or timeout
# fails the test and its input is kept in ./fuzz-artifacts of the cwd.
# usage: run-fuzz.sh FUZZER SOURCE_DIR [SECONDS [SEED_DIR]]
set -u
FUZZER=$1 DIR=$2 SECS=${3:-20} SEEDS=${4:-fuzz-seeds}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp -r "$DIR/$SEEDS" "$TMP/corpus"
mkdir -p fuzz-artifacts
exec "$FUZZER" -max_total_time="$SECS" -timeout=5 -error_exitcode=1 -timeout_exitcode=1 \
	-rss_limit_mb=1024 -max_len=16384 -dict="$DIR/xenstore.dict" \
	-artifact_prefix=fuzz-artifacts/ -print_final_stats=1 "$TMP/corpus"
