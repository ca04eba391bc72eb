#!/bin/bash
# lab/debian-cache against a fake upstream on this host (no network): a file
# is fetched once, stored byte for byte and then served from the store; an
# epoch's %3a is stored decoded; --offline serves the store and nothing else;
# upstream's 404 is passed on and not stored; paths with .. are refused;
# /local/ serves --extra; every request is logged.
set -uo pipefail
CACHE_TOOL=$(cd "$(dirname "$0")/../../lab" && pwd)/debian-cache
T=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/cache.err" ] && tail -5 "$T/cache.err"; exit 1; }

# port_of LOG PATTERN: wait for a server's "port" line.
port_of() {
	local p=""
	for _ in $(seq 1 100); do
		p=$(sed -n "$2" "$1" 2>/dev/null | head -1)
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.1
	done
	return 1
}

mkdir -p "$T/up/debian/dists/bookworm" "$T/up/debian/pool/main/b/bash" "$T/extra"
head -c 300000 /dev/urandom >"$T/up/debian/pool/main/b/bash/bash_5.2_amd64.deb"
head -c 1000 /dev/urandom >"$T/up/debian/pool/main/b/bash/util_1:2.3_amd64.deb"
echo "Suite: bookworm" >"$T/up/debian/dists/bookworm/InRelease"
echo "d-i preseed" >"$T/extra/preseed.cfg"
(cd "$T/up" && exec python3 -m http.server --bind 127.0.0.1 0) >"$T/up.log" 2>&1 &
pids+=($!)
up=$(port_of "$T/up.log" 's/.* port \([0-9]*\).*/\1/p') || fail "the fake upstream did not start"

start_cache() { # start_cache ARGS...: sets $port
	: >"$T/cache.err"
	"$CACHE_TOOL" --listen 127.0.0.1:0 --store "$T/store" --upstream "http://127.0.0.1:$up" \
		--extra "$T/extra" "$@" 2>"$T/cache.err" &
	cpid=$!
	pids+=($cpid)
	port=$(port_of "$T/cache.err" 's/.* on 127\.0\.0\.1:\([0-9]*\).*/\1/p') || fail "debian-cache did not start"
}
get() { curl --path-as-is -sS -o "$2" -w '%{http_code}' "http://127.0.0.1:$port/$1"; }
command -v curl >/dev/null || { echo "SKIP: curl is missing"; exit 77; }

start_cache
[ "$(get debian/pool/main/b/bash/bash_5.2_amd64.deb "$T/a")" = 200 ] || fail "first GET"
cmp -s "$T/a" "$T/up/debian/pool/main/b/bash/bash_5.2_amd64.deb" || fail "fetched file differs"
cmp -s "$T/store/debian/pool/main/b/bash/bash_5.2_amd64.deb" "$T/a" || fail "stored file differs"
[ "$(get debian/pool/main/b/bash/util_1%3a2.3_amd64.deb "$T/b")" = 200 ] || fail "GET with %3a"
[ -f "$T/store/debian/pool/main/b/bash/util_1:2.3_amd64.deb" ] || fail "%3a not stored decoded"
[ "$(get debian/dists/bookworm/InRelease "$T/c")" = 200 ] || fail "GET InRelease"
[ "$(get debian/dists/bookworm/Release "$T/d")" = 404 ] || fail "upstream's 404 not passed on"
[ ! -e "$T/store/debian/dists/bookworm/Release" ] || fail "a 404 was stored"
[ "$(get debian/../../etc/passwd "$T/e")" = 400 ] || fail "a path with .. was not refused"
[ "$(get 'debian/%2e%2e/x' "$T/e")" = 400 ] || fail "an encoded .. was not refused"
[ "$(get local/preseed.cfg "$T/f")" = 200 ] && cmp -s "$T/f" "$T/extra/preseed.cfg" || fail "/local/ from --extra"

# Upstream changes its index; the stored one is what the cache serves.
echo "Suite: bookworm (newer)" >"$T/up/debian/dists/bookworm/InRelease"
get debian/dists/bookworm/InRelease "$T/c2" >/dev/null
cmp -s "$T/c" "$T/c2" || fail "a stored index was fetched again"
# A second GET is a hit: upstream's copy gone, the cache still serves it.
rm "$T/up/debian/pool/main/b/bash/bash_5.2_amd64.deb"
[ "$(get debian/pool/main/b/bash/bash_5.2_amd64.deb "$T/a2")" = 200 ] && cmp -s "$T/a" "$T/a2" || fail "a stored file was not served"
grep -q ' fetched debian/pool/main/b/bash/bash_5.2_amd64.deb 300000$' "$T/store/requests.log" || fail "no 'fetched' line"
grep -q ' hit debian/pool/main/b/bash/bash_5.2_amd64.deb 300000$' "$T/store/requests.log" || fail "no 'hit' line"
grep -q ' upstream-404 debian/dists/bookworm/Release ' "$T/store/requests.log" || fail "no 'upstream-404' line"
kill "$cpid"; wait "$cpid" 2>/dev/null

# Offline: the store only.
echo new >"$T/up/debian/pool/main/b/bash/new.deb"
start_cache --offline
[ "$(get debian/pool/main/b/bash/util_1%3a2.3_amd64.deb "$T/g")" = 200 ] || fail "offline: a stored file"
[ "$(get debian/pool/main/b/bash/new.deb "$T/h")" = 404 ] || fail "offline: fetched from upstream"
kill "$cpid"; wait "$cpid" 2>/dev/null

# --refresh-indices forgets dists/ (and nothing else).
start_cache --refresh-indices
[ ! -e "$T/store/debian/dists/bookworm/InRelease" ] || fail "--refresh-indices kept InRelease"
[ -f "$T/store/debian/pool/main/b/bash/bash_5.2_amd64.deb" ] || fail "--refresh-indices removed a pool file"
get debian/dists/bookworm/InRelease "$T/c3" >/dev/null
grep -q newer "$T/c3" || fail "the refreshed index is not upstream's current one"
echo PASS
