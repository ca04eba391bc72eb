#!/bin/bash
# A 2-vCPU guest brings both CPUs online (INIT/SIPI and per-vCPU Xen timers).
BUILD=$1; . "$(dirname "$0")/domlib.sh"
"$XL" create "$(mkcfg smp2 xen "vcpus = 2")" || fail "xl create failed"
[ "$("$XL" list | awk '$1 == "smp2" { print $4 }')" = 2 ] || fail "xl list does not show 2 VCPUs"
wait_log smp2 "DOMUS-TEST-RESULT xen" 150 || fail "the guest did not reach /init"
grep -q "GUEST-CPUS 2" "$(conlog smp2)" || fail "the guest does not see 2 CPUs"
grep -q "installing Xen timer for CPU 1" "$(conlog smp2)" || fail "no Xen timer on CPU 1"
ok "2 CPUs online, Xen timer on CPU 1"
