#!/bin/bash
# A guest kernel panic ends the domain as crashed (Linux PVH reports it with
# SCHEDOP_shutdown(crash)); on_crash = "destroy" cleans it up, and the logs
# say why.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
"$XL" create -q "$(mkcfg crash1 panic 'on_crash = "destroy"')" || fail "xl create failed"
id=$(domid_of crash1)
wait_log crash1 "Kernel panic" 120 || fail "the guest did not panic"
wait_gone crash1 30 || fail "the crashed domain is still listed"
leftovers "$id"
grep -q "domain crash1 (id $id) crashed" "$LOGDIR/xl-crash1.log" || fail "the xl log does not say crashed"
ok "panic: $(grep -m1 'Kernel panic' "$(conlog crash1)" | sed 's/^\[[^]]*\] //')"
ok "xl log: $(grep 'crashed' "$LOGDIR/xl-crash1.log" | tail -1)"
