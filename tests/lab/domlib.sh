# Helpers for the domain tests; they run inside the lab (or natively), as
# root, with the build tree at $BUILD.  Every wait has a timeout.
set -u
BUILD=${BUILD:?}
XL="$BUILD/xl/xl"
FX="$BUILD/fixture"
LOGDIR=/var/log/xen
T=$(mktemp -d)
# A failure keeps the lab's logs (monitors, supervisors, consoles) beside
# meson's, for failures that come once in many runs.
fail() {
	local keep="$BUILD/meson-logs/lab-fail-$(date +%Y%m%d-%H%M%S)-$$"
	echo "FAIL: $*"
	mkdir -p "$keep" 2>/dev/null && cp -r "$LOGDIR/." "$keep/" 2>/dev/null && echo "logs kept in $keep"
	exit 1
}
ok() { echo "ok: $*"; }

# mkcfg NAME GUEST_TEST [more xl.cfg lines...] -> path of the config
mkcfg() {
	local name=$1 test=$2 f="$T/$1.cfg"
	shift 2
	rm -f "$(conlog "$name")" # logs append across runs; read only this one
	rm -f "$T/$name.gexec"
	{
		echo "name = \"$name\""
		echo "kernel = \"$FX/vmlinuz\""
		echo "ramdisk = \"$FX/initrd.img\""
		echo "memory = 512"
		# DOMUS_GUEST_VERBOSE=1: the guest kernel's every message on the
		# console (a warning before a crash is otherwise unseen).
		local quiet=quiet
		[ -z "${DOMUS_GUEST_VERBOSE:-}" ] || quiet=loglevel=7
		echo "extra = \"console=hvc0 $quiet domus.test=$test\""
		for l in "$@"; do echo "$l"; done
	} >"$f"
	echo "$f"
}

conlog() { echo "$LOGDIR/console/guest-$1.log"; }

# wait_log NAME REGEX SECONDS: the console log of NAME matches REGEX
wait_log() {
	local end=$(( $(date +%s) + $3 ))
	while [ "$(date +%s)" -le "$end" ]; do
		grep -qE "$2" "$(conlog "$1")" 2>/dev/null && return 0
		sleep 0.5
	done
	echo "--- console of $1 (last lines):"; tail -n 30 "$(conlog "$1")" 2>/dev/null
	return 1
}

domid_of() { "$XL" list 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }'; }

# wait_gone NAME SECONDS: no domain of that name is listed any more
wait_gone() {
	local end=$(( $(date +%s) + $2 ))
	while [ "$(date +%s)" -le "$end" ]; do
		[ -z "$(domid_of "$1")" ] && return 0
		sleep 0.2
	done
	return 1
}

# leftovers ID: nothing of domain ID remains (process, run dir, sockets,
# xenstore nodes, open console log).  A domain leaves `xl list` when its
# monitor exits; its supervisor then removes the nodes and the run dir, as
# Xen's dying domain goes on being torn down after its last vCPU stopped:
# that gets 30 s (a loaded lab once took longer than wait_gone's poll).
leftovers() {
	local id=$1 bad end=$(( $(date +%s) + 30 ))
	while :; do
		bad=""
		[ -e "/run/domus/$id" ] && bad="$bad run-dir"
		pgrep -f "domus-vmm .*--domid $id " >/dev/null && bad="$bad process"
		xenstore-exists "/local/domain/$id" 2>/dev/null && bad="$bad xenstore-node"
		xenstore-exists "/libxl/$id" 2>/dev/null && bad="$bad libxl-node"
		[ -z "$bad" ] && break
		[ "$(date +%s)" -ge "$end" ] && fail "domain $id left behind:$bad (30 s after it left xl list)"
		sleep 0.5
	done
	# A monitor its seccomp sandbox ended goes like any other, often at
	# its stop where nothing else shows it: its supervisor's log says so
	# (xl/ts_create.c), the kernel's names the call (docs/sandbox.md).
	bad=$(grep -ah "(id $id) its monitor was killed by signal 31 " "$LOGDIR"/xl-*.log 2>/dev/null | head -n 1)
	[ -z "$bad" ] || fail "domain $id: $bad; $(dmesg | grep -a 'type=1326' | grep -a domus-vmm | tail -n 3)"
	return 0
}

# bridge_dhcp BR NET: the lab's own xenbr0 (NET.1/24) with a dnsmasq
# serving NET.100-150 on it (leases in $T/leases, its log in
# $T/dnsmasq.log); removed, with every domain, when the test exits.
bridge_dhcp() {
	local br=$1 net=$2
	command -v dnsmasq >/dev/null || fail "dnsmasq missing on the host (make deps installs dnsmasq-base)"
	ip link show "$br" >/dev/null 2>&1 && fail "$br exists already in the lab"
	ip link add "$br" type bridge || fail "cannot make $br"
	ip addr add "$net.1/24" dev "$br" && ip link set "$br" up || fail "cannot configure $br"
	dnsmasq --conf-file=/dev/null --bind-interfaces --interface="$br" --except-interface=lo \
		--dhcp-range="$net.100,$net.150,1h" --dhcp-leasefile="$T/leases" --pid-file="$T/dnsmasq.pid" \
		--port=0 --log-facility="$T/dnsmasq.log" || fail "dnsmasq did not start"
	BRIDGE_DHCP=$br
	trap 'kill "$(cat "$T/dnsmasq.pid" 2>/dev/null)" 2>/dev/null; ip link del "$BRIDGE_DHCP" 2>/dev/null; cleanup_all' EXIT
}

cleanup_all() { for n in $("$XL" list 2>/dev/null | awk 'NR > 2 { print $1 }'); do "$XL" destroy "$n" >/dev/null 2>&1; done; rm -rf "$T"; }
trap cleanup_all EXIT

# gexec NAME CMD [SECONDS]: runs CMD in guest NAME booted with the remote
# test (tests/guest/remote.sh); its output lines go to stdout; returns its
# exit status (124: no answer in time, default 120 s).
gexec() {
	local name=$1 cmd=$2 secs=${3:-120} id n f="$T/$1.gexec"
	id=$(domid_of "$name")
	[ -n "$id" ] || { echo "gexec: no domain $name"; return 124; }
	n=$(( $(cat "$f" 2>/dev/null || echo 0) + 1 ))
	echo "$n" >"$f"
	xenstore-write "/local/domain/$id/data/cmd/$n" "$cmd" || return 124
	wait_log "$name" "GUEST-RC $n " "$secs" >/dev/null || return 124
	tr -d '\r' <"$(conlog "$name")" | sed -n "s/^GUEST-OUT $n //p"
	return "$(tr -d '\r' <"$(conlog "$name")" | sed -n "s/^GUEST-RC $n //p" | tail -n 1)"
}

# gwait NAME CMD SECONDS: CMD succeeds in the guest within SECONDS
gwait() {
	local end=$(( $(date +%s) + $3 ))
	while [ "$(date +%s)" -le "$end" ]; do
		gexec "$1" "$2" 30 >/dev/null && return 0
		sleep 1
	done
	return 1
}

# gready NAME SECONDS: the remote guest NAME takes commands.
gready() { local id; id=$(domid_of "$1"); wait_log "$1" "DOMUS-INIT" "$2" >/dev/null &&
	for _ in $(seq 1 $(($2 * 2))); do [ "$(xenstore-read "/local/domain/$id/data/ready" 2>/dev/null)" = 1 ] && return 0; sleep 0.5; done; return 1; }

# Guests running tests/guest/xsloop.sh (domain-xsrestart.sh, -xsattack.sh):
# count_of NAME is its last GUEST-XS count, or -1; wait_count NAME MIN
# SECONDS waits until it reaches MIN (else shows its console and
# xenstored's log).
count_of() { local c; c=$(grep -aoE 'GUEST-XS [0-9]+' "$(conlog "$1")" | tail -n1 | cut -d' ' -f2); echo "${c:--1}"; }
wait_count() {
	local end=$(( $(date +%s) + $3 ))
	while [ "$(date +%s)" -le "$end" ]; do
		[ "$(count_of "$1")" -ge "$2" ] && return 0
		sleep 0.5
	done
	echo "--- console of $1 (last lines):"; tail -n 15 "$(conlog "$1")"
	echo "--- xenstored log (last lines):"; tail -n 15 "$LOGDIR/xenstored.log" 2>/dev/null
	return 1
}
