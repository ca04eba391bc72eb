# A guest the host drives (tests/lab/domlib.sh: gexec): the host writes a
# shell command to data/cmd/N (N = 1, 2, ... in order); the guest runs it,
# prints its output on the console as "GUEST-OUT N <line>" and then
# "GUEST-RC N <exit status>".  The command "exit" ends the test (the domain
# powers off).  Commands run one at a time; one may start a background job.
xenstore-write data/ready 1
n=1
while :; do
	c=$(xenstore-read "data/cmd/$n" 2>/dev/null) || { sleep 0.2; continue; }
	[ "$c" = exit ] && exit 0
	sh -c "$c" >/tmp/out.$n 2>&1
	rc=$?
	sed "s/^/GUEST-OUT $n /" /tmp/out.$n
	echo "GUEST-RC $n $rc"
	rm -f /tmp/out.$n
	n=$((n + 1))
done
