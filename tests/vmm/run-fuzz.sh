#!/bin/sh
# Runs one of tests/vmm's libFuzzer targets for a while from its seeds in
# fuzz-seeds/<target>/ (new inputs go to a temporary directory).  A crash, leak,
# sanitizer report or timeout fails; the input is kept in ./fuzz-artifacts.
# usage: run-fuzz.sh FUZZER SEED_DIR [SECONDS]
set -u
fuzzer=$1 seeds=$2 secs=${3:-20}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p fuzz-artifacts
exec "$fuzzer" -max_total_time="$secs" -timeout=10 -error_exitcode=1 -timeout_exitcode=1 \
	-rss_limit_mb=2048 -max_len=65536 -artifact_prefix=fuzz-artifacts/ -print_final_stats=1 \
	"$tmp" "$seeds"
