#!/bin/bash
# Runs the xl.cfg libFuzzer target briefly from a seed corpus made of the
# golden cases.  New inputs go to a temporary directory (the source tree
# stays untouched); a crash, leak or sanitizer report fails the test and its
# input is kept in $MESON_BUILD_ROOT-independent ./fuzz-artifacts of the cwd.
# With SEEDS=disk-specs the seeds are the specs of disk-specs.txt, one per file.
# Further arguments go to libFuzzer.
# usage: run-fuzz.sh FUZZER CASE_DIR [SECONDS [SEEDS [LIBFUZZER-FLAGS...]]]
set -u
FUZZER=$1 DIR=$2 SECS=${3:-20} SEEDS=${4:-configs}
shift $(($# < 4 ? $# : 4))
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/corpus"
if [ "$SEEDS" = disk-specs ]; then
	i=0
	grep -E '^(same|stricter) ' "$DIR/disk-specs.txt" | sed 's/^[a-z]* //' |
		while IFS= read -r spec; do
			i=$((i + 1))
			printf '%s' "$spec" >"$TMP/corpus/spec$i"
		done
else
	for f in "$DIR"/pass/*.cfg "$DIR"/fail/*.cfg "$DIR"/*.xlconf "$DIR"/cmd/*.xlconf "$DIR"/fuzz-seeds/*; do
		[ -f "$f" ] && cp "$f" "$TMP/corpus/$(basename "$f")"
	done
fi
mkdir -p fuzz-artifacts
exec "$FUZZER" -max_total_time="$SECS" -timeout=5 -error_exitcode=1 -timeout_exitcode=1 -rss_limit_mb=1024 -max_len=4096 \
	-dict="$DIR/xlcfg.dict" -artifact_prefix=fuzz-artifacts/ -print_final_stats=1 \
	"$@" "$TMP/corpus"
