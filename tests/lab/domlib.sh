# Helpers for the domain tests; they run inside the lab (or natively), as
# root, with the build tree at $BUILD.  Every wait has a timeout.
set -u
BUILD=${BUILD:?}
XL="$BUILD/xl/xl"
FX="$BUILD/fixture"
LOGDIR=/var/log/xen
T=$(mktemp -d)
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

# mkcfg NAME GUEST_TEST [more xl.cfg lines...] -> path of the config
mkcfg() {
	local name=$1 test=$2 f="$T/$1.cfg"
	shift 2
	rm -f "$(conlog "$name")" # logs append across runs; read only this one
	{
		echo "name = \"$name\""
		echo "kernel = \"$FX/vmlinuz\""
		echo "ramdisk = \"$FX/initrd.img\""
		echo "memory = 512"
		echo "extra = \"console=hvc0 quiet domus.test=$test\""
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
# xenstore nodes, open console log).
leftovers() {
	local id=$1 bad=""
	[ -e "/run/domus/$id" ] && bad="$bad run-dir"
	pgrep -f "domus-vmm .*--domid $id " >/dev/null && bad="$bad process"
	xenstore-exists "/local/domain/$id" 2>/dev/null && bad="$bad xenstore-node"
	xenstore-exists "/libxl/$id" 2>/dev/null && bad="$bad libxl-node"
	[ -z "$bad" ] || fail "domain $id left behind:$bad"
}

cleanup_all() { for n in $("$XL" list 2>/dev/null | awk 'NR > 2 { print $1 }'); do "$XL" destroy "$n" >/dev/null 2>&1; done; rm -rf "$T"; }
trap cleanup_all EXIT
