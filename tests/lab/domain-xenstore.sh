#!/bin/bash
# The guest's xenstore-write data/hello world reaches the host's xenstored;
# the host reads it back with xenstore-read.  The domain directory has the
# layout and permissions libxl writes.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
"$XL" create "$(mkcfg xs1 xshello)" || fail "xl create failed"
id=$(domid_of xs1)
wait_log xs1 "GUEST-XS-WRITE ok" 120 || fail "the guest could not write to xenstore"
v=$(xenstore-read "/local/domain/$id/data/hello") || fail "xenstore-read failed"
[ "$v" = world ] || fail "read back '$v', expected 'world'"
ok "host read back data/hello = $v"
# The guest prints it after GUEST-XS-WRITE: a line that may reach the log
# a console batch later (a fresh clone's grep came just before it).
wait_log xs1 "GUEST-XS-READ xs1" 30 || fail "the guest could not read its name"
ok "the guest read its own name"
[ "$(xenstore-read "/local/domain/$id/name")" = xs1 ] || fail "name node"
perms=$(xenstore-ls -p "/local/domain/$id" | awk '$1 == "control" { print $NF }')
[ "$perms" = "(n0,r$id)" ] || fail "control perms $perms, expected (n0,r$id)"
ok "control/ has libxl's permissions $perms"
"$XL" destroy xs1 || fail "xl destroy failed"
leftovers "$id"
ok "destroy left nothing behind"
