#!/bin/bash
# xl list / pause / unpause / uptime / shutdown -w, and on_reboot=restart.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
"$XL" create "$(mkcfg life1 idle 'on_reboot = "restart"')" || fail "xl create failed"
id=$(domid_of life1)
wait_log life1 "DOMUS-READY" 120 || fail "the guest did not come up"
"$XL" list | head -1 | grep -q "^Name  *ID   Mem VCPUs	State	Time(s)$" || fail "xl list header"
"$XL" list | awk 'NR == 2' | grep -q "^Domain-0  *0 " || fail "Domain-0 is not first"
line=$("$XL" list life1 | tail -1)
echo "$line" | grep -qE "^life1 +$id +512 +1 +[-r][-b]----" || fail "xl list row: $line"
ok "xl list: $line"
[ "$("$XL" domid life1)" = "$id" ] && [ "$("$XL" domname "$id")" = life1 ] &&
	[ "$("$XL" domid Domain-0)" = 0 ] && [ "$("$XL" domname 0)" = Domain-0 ] || fail "xl domid / domname"
err=$("$XL" domid no-such-domain 2>&1) && fail "xl domid of a missing name succeeded"
[ "$err" = "Can't get domid of domain name 'no-such-domain', maybe this domain does not exist." ] ||
	fail "xl domid of a missing name: $err"
"$XL" domname 12x >/dev/null 2>&1 && fail "xl domname 12x succeeded"
ok "xl domid / domname, both ways, and their errors"
"$XL" pause life1 && "$XL" list life1 | tail -1 | grep -q -- "--p---" || fail "pause not shown"
"$XL" unpause life1 && ! "$XL" list life1 | tail -1 | grep -q -- "--p---" || fail "unpause not shown"
ok "pause and unpause"
"$XL" uptime | grep -q "^life1 " || fail "xl uptime"
# Reboot through the guest's own xenbus code: a new domain id, same name.
"$XL" reboot life1 || fail "xl reboot failed"
end=$(( $(date +%s) + 120 )); nid=""
while [ "$(date +%s)" -le "$end" ]; do
	nid=$(domid_of life1); [ -n "$nid" ] && [ "$nid" != "$id" ] && break; sleep 0.5
done
[ -n "$nid" ] && [ "$nid" != "$id" ] || fail "on_reboot=restart did not bring life1 back with a new id"
leftovers "$id"
ok "rebooted: life1 is back as domain $nid (was $id)"
# The console log keeps the first boot's lines: wait for a second marker.
end=$(( $(date +%s) + 120 ))
until [ "$(grep -c DOMUS-READY "$(conlog life1)")" -ge 2 ]; do
	[ "$(date +%s)" -le "$end" ] || fail "the restarted guest did not come up"
	sleep 0.5
done
t0=$(date +%s)
timeout 60 "$XL" shutdown -w life1 || fail "xl shutdown -w failed"
t=$(( $(date +%s) - t0 ))
[ "$t" -le 10 ] || fail "shutdown took $t s (limit 10 s)"
grep -q DOMUS-POWEROFF "$(conlog life1)" || fail "the guest did not power itself off"
leftovers "$nid"
ok "xl shutdown -w: clean poweroff in $t s, nothing left behind"
