#!/bin/bash
# xl restore CONFIG FILE with a CONFIG that changes what the saved state
# fixes (memory, maxmem, vcpus, maxvcpus, type), and a file cut short: each
# refused with one line before anything starts, leaving nothing behind (no
# run directory, no log).  A synthetic save file (mksave), no lab.
#   restore-refused.sh XL MKSAVE
set -u
xl=$(realpath "$1") mksave=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DOMUS_RUN_DIR=$tmp/run DOMUS_LOG_DIR=$tmp/log
mkdir -p "$DOMUS_RUN_DIR"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

cd "$tmp" || exit 1
printf 'name = "saved"\ntype = "pvh"\nkernel = "/nonexistent"\nmemory = 512\nmaxmem = 1024\nvcpus = 2\nmaxvcpus = 4\n' >old.cfg
"$mksave" old.cfg file || exit 1

# new.cfg's body and the one line xl must print
check() {
	printf '%b' "$1" >new.cfg
	out=$("$xl" restore new.cfg file 2>&1)
	rc=$?
	[ "$rc" = 1 ] || fail "exit status $rc for: $1"
	[ "$out" = "$2" ] || fail "printed '$out', expected '$2'"
	[ -z "$(ls -A "$DOMUS_RUN_DIR")" ] || fail "left in the run directory: $(ls -A "$DOMUS_RUN_DIR")"
	[ ! -e "$DOMUS_LOG_DIR" ] || fail "left a log directory: $(ls -AR "$DOMUS_LOG_DIR")"
}
base='name = "new"\nkernel = "/nonexistent"\n'
check "${base}type = \"pvh\"\nmemory = 1024\nmaxmem = 1024\nvcpus = 2\nmaxvcpus = 4\n" \
	"xl restore: new.cfg: memory=1024 differs from the saved domain's 512 (a restore keeps the guest's memory size)"
check "${base}type = \"pvh\"\nmemory = 512\nvcpus = 2\nmaxvcpus = 4\n" \
	"xl restore: new.cfg: maxmem=512 differs from the saved domain's 1024 (a restore keeps the guest's memory size)"
check "${base}type = \"pvh\"\nmemory = 512\nmaxmem = 1024\nvcpus = 4\n" \
	"xl restore: new.cfg: vcpus=4 differs from the saved domain's 2 (a restore keeps the guest's vCPUs)"
check "${base}type = \"pvh\"\nmemory = 512\nmaxmem = 1024\nvcpus = 2\n" \
	"xl restore: new.cfg: maxvcpus=2 differs from the saved domain's 4 (a restore keeps the guest's vCPUs)"
check "${base}type = \"pv\"\nmemory = 512\nmaxmem = 1024\nvcpus = 2\nmaxvcpus = 4\n" \
	"xl restore: new.cfg: type=\"pv\" differs from the saved domain's \"pvh\" (a restore keeps the guest's type)"

# A file cut short is refused before its config is even looked at.
head -c 100 file >cut
out=$("$xl" restore cut 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "exit status $rc for a file cut short"
case $out in "xl: cut: refused: record"*truncated*) ;; *) fail "printed '$out' for a file cut short" ;; esac
[ -z "$(ls -A "$DOMUS_RUN_DIR")" ] || fail "a file cut short left $(ls -A "$DOMUS_RUN_DIR")"
exit $((fails > 0))
