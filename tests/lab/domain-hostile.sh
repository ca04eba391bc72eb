#!/bin/bash
# A hostile guest (tests/lab/hostile/hostile.S) passes bad pointers, ports,
# vCPU ids, indexes and lengths in its hypercalls and corrupts its console
# ring: each call fails with the errno Xen gives, the monitor keeps running,
# logs what the guest did, and the domain still powers off cleanly.
BUILD=$1 ELF=$2; . "$(dirname "$0")/domlib.sh"
cfg="$T/hostile.cfg"
rm -f "$(conlog hostile)"
printf 'name = "hostile"\nkernel = "%s"\nmemory = 64\n' "$ELF" >"$cfg"
"$XL" create -q "$cfg" || fail "xl create failed"
wait_log hostile "HOSTILE-DONE" 60 || fail "the hostile guest did not finish"
out=$(tr -d '\0' <"$(conlog hostile)")
EFAULT=fffffff2 EINVAL=ffffffea ENOENT=fffffffe ENOSYS=ffffffda
for want in a1=$EFAULT a2=$EINVAL a3=$EFAULT a4=$EINVAL a5=00000000 e1=$EINVAL e2=$EINVAL e3=$EINVAL \
	e4=$ENOSYS e5=$ENOENT e6=$EINVAL v1=$ENOENT v2=$EINVAL v3=$EINVAL t1=00000000 t2=00000000 t3=$EINVAL g1=$EINVAL h1=$EINVAL x1=$EFAULT \
	c1=$EFAULT s1=$EFAULT u1=$ENOSYS u2=$ENOSYS; do
	echo "$out" | grep -qw -- "$want" || fail "expected $want in: $out"
done
ok "24 hostile hypercalls answered with Xen's errnos"
wait_gone hostile 30 || fail "the hostile domain did not power off"
# It may be gone before xl list could see it: its supervisor's log has the id.
id=$(sed -n 's/.*domain hostile started with id \([0-9]*\).*/\1/p' "$LOGDIR/xl-hostile.log" | tail -1)
[ -n "$id" ] || fail "no domain id in $LOGDIR/xl-hostile.log"
leftovers "$id"
grep -q "console: bad ring indexes" "$LOGDIR/domus-vmm-hostile.log" || fail "the corrupt console ring was not noticed"
grep -q "hypercall 55 is not implemented" "$LOGDIR/domus-vmm-hostile.log" || fail "unknown hypercall not logged"
ok "monitor log: $(grep -c . "$LOGDIR/domus-vmm-hostile.log") lines, ring resync and unknown hypercalls named"
ok "the domain powered off cleanly and left nothing behind"
