#!/bin/bash
# xendomains.sh XENDOMAINS: dist/xendomains's logic with a fake xl on PATH
# that keeps its domains as files and records every call.
#  start: restores saved domains (file removed; a failed one kept, and its
#    auto config not started), starts /etc/xen/auto's configs by their
#    name = line (one running already left alone, a failing one reported,
#    the others started, editor and dpkg leftovers skipped);
#  stop with XENDOMAINS_SAVE: every guest saved to SAVE/NAME; a failing and
#    a hanging save (killed at the time limit) leave no file and their
#    domains are shut down;
#  stop without: every guest shut down; one that ignores it is destroyed
#    after XENDOMAINS_STOP_MAXWAIT, and stop ends within the limit.
set -u
XD=$1
T=$(mktemp -d /tmp/xendomains.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; echo "--- calls:"; cat "$T/calls" 2>/dev/null; exit 1; }

mkdir -p "$T/bin" "$T/doms" "$T/auto" "$T/save"
# The fake xl: domains are files doms/<id> holding the name; FAKE_* say
# which domains misbehave.
cat >"$T/bin/xl" <<'EOF'
#!/bin/bash
D=$FAKE_DIR/doms
echo "xl $*" >>"$FAKE_DIR/calls"
byname() { grep -lx -- "$1" "$D"/* 2>/dev/null | head -1; }
newdom() {
	local id=1
	while [ -e "$D/$id" ]; do id=$((id + 1)); done
	echo "$1" >"$D/$id"
}
case $1 in
list)
	printf 'Name                                        ID   Mem VCPUs\tState\tTime(s)\n'
	printf '%-40s %5d %5d %5d     %s  %8.1f\n' Domain-0 0 1024 2 r----- 1.0
	for f in "$D"/*; do
		[ -f "$f" ] && printf '%-40s %5d %5d %5d     %s  %8.1f\n' "$(cat "$f")" "${f##*/}" 256 1 -b---- 0.5
	done
	exit 0 ;;
domid) f=$(byname "$2"); [ -n "$f" ] && echo "${f##*/}" ;;
domname) [ -f "$D/$2" ] && cat "$D/$2" ;;
create)
	[ "$2" = --quiet ] || exit 2
	name=$(sed -n 's/^name *= *"\(.*\)"/\1/p' "$3")
	[ "$name" = "$FAKE_CREATE_FAIL" ] && { echo "cannot create $name" >&2; exit 1; }
	newdom "$name" ;;
restore)
	name=$(cat "$2")
	[ "$name" = "$FAKE_RESTORE_FAIL" ] && { echo "bad save file" >&2; exit 1; }
	newdom "$name" ;;
save)
	name=$(cat "$D/$2")
	echo partial >"$3"
	[ "$name" = "$FAKE_SAVE_HANG" ] && exec sleep 1000
	[ "$name" = "$FAKE_SAVE_FAIL" ] && { echo "save failed" >&2; exit 1; }
	echo "$name" >"$3"
	rm "$D/$2" ;;
shutdown)
	name=$(cat "$D/$2") || exit 1
	[ "$name" = "$FAKE_SHUTDOWN_IGNORE" ] || (sleep 1; rm -f "$D/$2") &
	;;
destroy) rm "$D/$2" ;;
unpause) ;;
*) echo "fake xl: $1?" >&2; exit 1 ;;
esac
EOF
chmod +x "$T/bin/xl"
export PATH="$T/bin:$PATH" FAKE_DIR=$T FAKE_CREATE_FAIL= FAKE_RESTORE_FAIL= FAKE_SAVE_FAIL= FAKE_SAVE_HANG= FAKE_SHUTDOWN_IGNORE=
export XENDOMAINS_DEFAULTS=$T/defaults
defaults() { # defaults SAVE MAXWAIT
	printf 'XENDOMAINS_AUTO=%s\nXENDOMAINS_SAVE=%s\nXENDOMAINS_RESTORE=true\nXENDOMAINS_STOP_MAXWAIT=%s\n' \
		"$T/auto" "$1" "$2" >"$XENDOMAINS_DEFAULTS"
}
running() { cat "$T"/doms/* 2>/dev/null | sort | tr '\n' ' '; }
cfg() { printf '# %s\nname = "%s"\nmemory = 256\n' "$1" "$2" >"$T/auto/$1"; }

# --- start
defaults "$T/save" 5
cfg alpha.cfg alpha
cfg beta.cfg beta
cfg gamma.cfg gamma
cfg broken.cfg broken
cfg delta.cfg delta
cfg old.cfg~ editor-copy
cfg new.cfg.dpkg-dist dpkg-copy
printf 'memory = 128\n' >"$T/auto/noname.cfg"
echo gamma >"$T/doms/7"                  # running already
echo delta >"$T/save/delta"              # saved at the last shutdown
echo epsilon >"$T/save/epsilon"          # saved, no auto config
echo beta >"$T/save/beta"                # saved, and its restore fails
FAKE_CREATE_FAIL=broken FAKE_RESTORE_FAIL=beta "$XD" start >"$T/out" 2>&1
[ "$(running)" = "alpha delta epsilon gamma " ] || fail "start: running [$(running)]: $(cat "$T/out")"
[ ! -e "$T/save/delta" ] && [ ! -e "$T/save/epsilon" ] || fail "start: restored files not removed"
[ -e "$T/save/beta" ] || fail "start: a failed restore's file removed"
grep -q "create --quiet $T/auto/beta.cfg" "$T/calls" && fail "start: beta created though its restore failed"
grep -q "create --quiet $T/auto/delta.cfg" "$T/calls" && fail "start: delta created though restored"
grep -q "create --quiet $T/auto/gamma.cfg" "$T/calls" && fail "start: gamma created twice"
grep -q "create.*\(old.cfg~\|dpkg-dist\)" "$T/calls" && fail "start: leftovers started"
grep -q "starting broken failed: cannot create broken" "$T/out" || fail "start: failure not said: $(cat "$T/out")"
grep -q "noname.cfg: no name" "$T/out" || fail "start: nameless config not said: $(cat "$T/out")"
grep -q "gamma already running" "$T/out" || fail "start: $(cat "$T/out")"
echo "ok start: restore, then auto by name; running, failed and leftovers handled"

# --- stop, saving: epsilon's save fails, delta's hangs past the limit
rm -f "$T/save/beta"
: >"$T/calls"
start=$(date +%s)
FAKE_SAVE_FAIL=epsilon FAKE_SAVE_HANG=delta "$XD" stop >"$T/out" 2>&1
took=$(($(date +%s) - start))
[ -z "$(running)" ] || fail "stop: still running [$(running)]: $(cat "$T/out")"
[ "$(cat "$T/save/alpha")" = alpha ] && [ "$(cat "$T/save/gamma")" = gamma ] || fail "stop: saves: $(ls "$T/save")"
[ ! -e "$T/save/epsilon" ] && [ ! -e "$T/save/delta" ] || fail "stop: a failed save left its file: $(ls "$T/save")"
grep -q "xl shutdown" "$T/calls" || fail "stop: the unsaved domains were not shut down"
grep -q "saving epsilon failed" "$T/out" && grep -q "saving delta failed" "$T/out" || fail "stop: $(cat "$T/out")"
[ "$took" -le 15 ] || fail "stop took ${took}s with a limit of 5s"
echo "ok stop: saved to SAVE/NAME; a failing and a hanging save shut down instead (${took}s)"

# --- stop, no save: one guest ignores the shutdown and is destroyed
defaults "" 3
echo one >"$T/doms/1"
echo two >"$T/doms/2"
echo stubborn >"$T/doms/3"
: >"$T/calls"
start=$(date +%s)
FAKE_SHUTDOWN_IGNORE=stubborn "$XD" stop >"$T/out" 2>&1
took=$(($(date +%s) - start))
[ -z "$(running)" ] || fail "stop: still running [$(running)]"
grep -q "xl save" "$T/calls" && fail "stop: saved without XENDOMAINS_SAVE"
[ "$(grep -c '^xl shutdown' "$T/calls")" = 3 ] || fail "stop: shutdowns: $(grep shutdown "$T/calls")"
grep -qx "xl destroy 3" "$T/calls" || fail "stop: stubborn not destroyed"
grep -q "xl destroy [12]" "$T/calls" && fail "stop: a domain that shut down was destroyed"
grep -q "stubborn (3) still running after 3s; destroying it" "$T/out" || fail "stop: $(cat "$T/out")"
[ "$took" -ge 3 ] && [ "$took" -le 8 ] || fail "stop took ${took}s with a limit of 3s"
echo "ok stop: shut down; the one that ignores it destroyed at the limit (${took}s)"

"$XD" bogus >/dev/null 2>&1; [ $? = 3 ] || fail "an unknown action does not exit 3"
exit 0
