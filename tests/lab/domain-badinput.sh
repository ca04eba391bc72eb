#!/bin/bash
# Bad input gets one clear line from xl and leaves nothing behind.
BUILD=$1; . "$(dirname "$0")/domlib.sh"
expect_fail() { # expect_fail WHAT REGEX xl-args...
	local what=$1 re=$2 out; shift 2
	out=$("$XL" "$@" 2>&1) && fail "$what: xl succeeded"
	echo "$out" | grep -qE "$re" || fail "$what: unexpected message: $out"
	[ -z "$(ls /run/domus 2>/dev/null | grep -v next-domid)" ] || fail "$what: left a run directory"
	ok "$what: $(echo "$out" | grep -E "$re" | head -1)"
}
cfg=$(mkcfg bad1 xen); sed -i "s|^kernel = .*|kernel = \"/etc/hostname\"|" "$cfg"
expect_fail "not a kernel" "not a Linux kernel" create -q "$cfg"
cfg=$(mkcfg bad2 xen); sed -i "s|^ramdisk = .*|ramdisk = \"/nonexistent/initrd.gz\"|" "$cfg"
expect_fail "missing ramdisk" "ramdisk /nonexistent/initrd.gz: No such file" create -q "$cfg"
cfg=$(mkcfg bad3 xen "memory = 900000" "maxmem = 900000")
expect_fail "too much memory" "needs [0-9]+ MiB of memory, the host has [0-9]+ MiB" create -q "$cfg"
cfg=$(mkcfg dup1 idle)
"$XL" create -q "$cfg" || fail "first dup1 failed"
id=$(domid_of dup1)
out=$("$XL" create -q "$cfg" 2>&1) && fail "a second dup1 was created"
echo "$out" | grep -q 'domain with name "dup1" already exists' || fail "duplicate name message: $out"
ok "duplicate name: $out"
# A monitor killed with kill -9: its supervisor notices and cleans up.
wait_log dup1 "DOMUS-READY" 120 || fail "dup1 did not come up"
kill -9 "$(cat /run/domus/$id/vmm.pid)"
wait_gone dup1 20 || fail "dup1 still listed after its monitor was killed"
sleep 1
leftovers "$id"
grep -q "killed by signal 9" "$LOGDIR/xl-dup1.log" || fail "the xl log does not say what happened"
ok "kill -9: $(grep 'killed by signal 9' "$LOGDIR/xl-dup1.log" | tail -1)"
# xl destroy always ends a domain: a monitor that hangs (SIGSTOP) is killed;
# if its supervisor hangs too, xl cleans up itself.
for what in monitor both; do
	"$XL" create -q "$(mkcfg hang1 idle)" || fail "xl create hang1 ($what) failed"
	id=$(domid_of hang1)
	wait_log hang1 "DOMUS-INIT" 120 || fail "hang1 did not boot"
	kill -STOP "$(cat /run/domus/$id/vmm.pid)"
	[ $what = both ] && kill -STOP "$(cat /run/domus/$id/supervisor.pid)"
	t0=$(date +%s)
	out=$("$XL" destroy hang1 2>&1) || fail "xl destroy of a hung $what failed: $out"
	leftovers "$id"
	[ -z "$(domid_of hang1)" ] || fail "hang1 still listed after xl destroy"
	echo "$out" | grep -q "killing it" || fail "xl destroy did not say it killed the hung $what: $out"
	ok "xl destroy of a hung $what: ended in $(( $(date +%s) - t0 )) s, nothing left ($(echo "$out" | tail -n 1))"
done
