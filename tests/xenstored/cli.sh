#!/bin/bash
# Debian's xenstore-utils against our xenstored on a private socket; the
# expected outputs are what Xen 4.17's C xenstored gives (design/peers.md 2d).
. "$(dirname "$0")/lib.sh"
start_xenstored "$1"
CTL=/usr/lib/xen-4.17/bin/xenstore-control

expect $'/tool = ""   (n0)\n/tool/xenstored = ""   (n0)' xenstore-ls -f -p
# Per-domain memory: the numbers Xen 4.17's xenstored gives for the same
# steps (each node's TDB record plus its path, charged to its owner).
expect $'Domain 0:\nnodes           :        3\nwatches         :        0\ntransactions    :        0\noutstanding     :        0\nmemory          :      132' $CTL quota 0
expect "" xenstore-write /test/a hello /test/b world
expect 'memory          :      266' sh -c "$CTL quota 0 | grep ^memory"
expect $'hello\nworld' xenstore-read /test/a /test/b
expect_fail xenstore-read /nope
expect $'a\nb' xenstore-list /test
expect "" xenstore-exists /test/a
expect_fail xenstore-exists /nope
expect "" xenstore-chmod /test/a n5 r7 w8
expect 'memory          :      222' sh -c "$CTL quota 0 | grep ^memory"
expect 'memory          :       60' sh -c "$CTL quota 5 | grep ^memory"
expect $'/test/a = "hello"   (n5,r7,w8)\n/test/b = "world"   (n0)' xenstore-ls -f -p /test
expect "" xenstore-chmod -r /test b3
expect $'a = "hello"  . . . . . . . . . . . . . . . . . . . . . . . .  (b3)\nb = "world"  . . . . . . . . . . . . . . . . . . . . . . . .  (b3)' xenstore-ls -p /test
xenstore-write /t2/x 1
expect "" xenstore-rm /t2/zz
expect_fail xenstore-rm /zz/yy
expect "" xenstore-rm /t2
expect_fail xenstore-read /t2/x
expect "" xenstore-write rel 1
expect 1 xenstore-read /local/domain/0/rel
expect_fail xenstore-write '/bad path' 1
expect_fail xenstore-write /x//y 1

# Watches: initial event, the node, below it, removal.
start_watcher 5 4 /test watch.out
xenstore-write /test/c 1
xenstore-rm /test/c
xenstore-write /test/d/e 2
wait $wpid || fail "xenstore-watch exited $?"
expect $'/test\n/test/c\n/test/c\n/test/d/e' cat "$XS_TMP/watch.out"

# xenstore-control: help, quota show/set/per-domain, log, errors.
$CTL help | grep -q '^quota' || fail "control help lacks quota"
$CTL quota | grep -q '^nodes            :     1000 Nodes per domain$' || fail "quota default"
expect OK $CTL quota set nodes 500
$CTL quota | grep -q '^nodes            :      500 ' || fail "quota set"
$CTL quota 0 | grep -q '^Domain 0:$' || fail "quota for domain 0"
expect_fail $CTL quota set nodes 0
expect_fail $CTL bogus
expect OK $CTL log on
expect OK $CTL log off

# Live update through xenstore-control: a watching client stays connected.
start_watcher 10 2 /lu lu.out
expect "" $CTL live-update "$(realpath "$1")"
expect_fail $CTL live-update /nonexistent
xenstore-write /lu/b 1
wait $wpid || fail "xenstore-watch across the live update exited $?"
expect $'/lu\n/lu/b' cat "$XS_TMP/lu.out"
grep -q 'upgraded: 2 client connections taken over' "$XS_LOG" || fail "no hand-over logged"
expect hello xenstore-read /test/a
kill -0 "$XS_PID" || fail "daemon died"
echo "cli: all passed"
