#!/bin/bash
# deb.sh SRCDIR: `make deb` (debian/, docs/install.md "The Debian package")
# builds a package that lintian passes without an E: line; the package holds
# xl and xenstored in /usr/sbin, domus-vmm, the preload and xendomains in
# /usr/lib/domus, the units, man pages, completion, logrotate and example
# files; every file it shares with Xen's installed xen-utils-common is one its
# preinst diverts, and its postrm takes back each diversion on remove (not on
# upgrade); the xl extracted from it runs.  The package is not installed on
# this host: that would divert its xl under the other tests; it is installed,
# removed and purged in a debootstrapped Debian 12 chroot (root and network).
# DEB_BUILD_OPTIONS defaults to nocheck (the unit suite runs on its own).
set -u
export LC_ALL=C
SRC=$1
T=$(mktemp -d /tmp/domus-deb.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for p in dpkg-buildpackage dh lintian; do
	command -v "$p" >/dev/null || { echo "SKIP: $p not installed (make deps)"; exit 77; }
done

(cd "$SRC" && git status --porcelain --ignored=no) >"$T/status.before"
DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-nocheck} make -C "$SRC" --no-print-directory deb DEBDIR="$T/deb" \
	>"$T/build.log" 2>&1 || fail "make deb: $(tail -30 "$T/build.log")"
DEB=$(sed -n 's/^deb: //p' "$T/build.log" | tail -1)
[ -f "$DEB" ] || fail "make deb printed no .deb that exists: [$DEB]"
case $DEB in "$T"/deb/*) ;; *) fail "the .deb is not in DEBDIR: $DEB" ;; esac
ls "$T/deb" | grep -qv '\.\(deb\|changes\|buildinfo\)$' && fail "make deb left its copy of the tree: $(ls "$T/deb")"
(cd "$SRC" && git status --porcelain --ignored=no) >"$T/status.after"
cmp -s "$T/status.before" "$T/status.after" || fail "make deb changed the tree: $(diff "$T/status.before" "$T/status.after")"
echo "ok make deb: $(basename "$DEB")"

CHANGES=${DEB%.deb}.changes
[ -f "$CHANGES" ] || fail "no .changes beside the .deb"
lintian --fail-on none "$CHANGES" >"$T/lintian" 2>&1 || fail "lintian did not run: $(cat "$T/lintian")"
grep '^E:' "$T/lintian" && fail "lintian errors (above)"
echo "ok lintian: no errors ($(grep -c '^W:' "$T/lintian") warnings)"

dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|; s|/$||' >"$T/files"
for f in /usr/sbin/xl /usr/sbin/xenstored /usr/lib/domus/domus-vmm /usr/lib/domus/libdomus-blfd.so \
	/usr/lib/domus/xendomains /lib/systemd/system/xenstored.service /lib/systemd/system/xendomains.service \
	/usr/share/man/man1/xl.1.gz /usr/share/man/man5/xl.cfg.5.gz /usr/share/man/man8/xenstored.8.gz /usr/share/bash-completion/completions/xl \
	/etc/logrotate.d/domus /etc/xen/xlexample.domus /etc/xen/auto /usr/share/doc/domus/copyright; do
	grep -qx "$f" "$T/files" || fail "not in the package: $f"
done
echo "ok the package's files"

dpkg-deb -f "$DEB" Depends >"$T/depends"
for d in xen-utils-common xenstore-utils libxenstore4 liburing2; do
	grep -qw "$d" "$T/depends" || fail "Depends lacks $d: $(cat "$T/depends")"
done
echo "ok Depends: $(cat "$T/depends")"

# The maintainer scripts, with a dpkg-divert that records its arguments.
dpkg-deb -e "$DEB" "$T/ctl"
mkdir "$T/bin"
cat >"$T/bin/dpkg-divert" <<'EOF'
#!/bin/sh
echo "$*" >>"$DIVLOG"
EOF
chmod +x "$T/bin/dpkg-divert"
divs() { # script args... -> the diversions it adds or removes, one line each
	rm -f "$T/div.log"
	touch "$T/div.log"
	DIVLOG=$T/div.log PATH=$T/bin:$PATH DPKG_ROOT=/nonexistent sh "$T/ctl/$@" >/dev/null 2>&1 ||
		fail "$*: exit status $?"
	sed 's/--\(add\|remove\) //' "$T/div.log"
}
divs preinst install >"$T/added"
grep -q . "$T/added" || fail "preinst install adds no diversion"
grep -v -- '--package domus .*--rename --divert ' "$T/added" && fail "preinst: a diversion not --package domus --rename"
while read -r line; do
	from=${line##* } to=$(echo "$line" | sed 's/.*--divert \([^ ]*\) .*/\1/')
	grep -qx "$from" "$T/files" || fail "preinst diverts $from, which the package does not ship"
	case $to in "${from%%.*}".xen*|"${from%/*}"/*.xen*) ;; *) fail "diverted to $to, not a .xen name beside $from" ;; esac
done <"$T/added"
[ "$(divs preinst upgrade)" = "$(cat "$T/added")" ] || fail "preinst upgrade does not keep the same diversions"
[ "$(divs postrm remove)" = "$(cat "$T/added")" ] || fail "postrm remove takes back other diversions: $(divs postrm remove)"
[ "$(divs postrm abort-install)" = "$(cat "$T/added")" ] || fail "postrm abort-install does not take them back"
[ -z "$(divs postrm upgrade)" ] || fail "postrm upgrade removes diversions"
echo "ok preinst diverts $(wc -l <"$T/added") files; postrm takes them back on remove, keeps them on upgrade"

# Every file of the package that Xen's xen-utils-common also has is diverted.
if dpkg-query -W -f='${Status}' xen-utils-common 2>/dev/null | grep -q 'ok installed'; then
	dpkg -L xen-utils-common | sort -u >"$T/xen"
	awk '{ print $NF }' "$T/added" | sort -u >"$T/diverted"
	# Files only: directories are shared.
	while read -r f; do
		[ -d "$f" ] && [ ! -L "$f" ] && continue
		grep -qx "$f" "$T/diverted" || fail "$f is xen-utils-common's and the package's, not diverted"
	done < <(sort -u "$T/files" | comm -12 - "$T/xen")
	echo "ok every file shared with xen-utils-common is diverted"
else
	echo "skip the clash check: xen-utils-common not installed"
fi

mkdir "$T/root"
dpkg-deb -x "$DEB" "$T/root"
"$T/root/usr/sbin/xl" help >"$T/out" 2>&1 || fail "extracted xl help: $(cat "$T/out")"
grep -q "^ list " "$T/out" || fail "extracted xl help: $(cat "$T/out")"
[ "$("$T/root/usr/sbin/xl" info xend_config_format)" = 4 ] || fail "extracted xl info"
DOMUS_XL_CONF=/dev/null "$T/root/usr/sbin/xl" -N create "$T/root/etc/xen/xlexample.domus" >"$T/json" 2>"$T/err" ||
	fail "extracted xl -N create of the example: $(cat "$T/err")"
"$T/root/usr/sbin/xenstored" --help >/dev/null 2>&1 || fail "extracted xenstored --help"
zcat "$T/root/usr/share/man/man1/xl.1.gz" | head -1 | grep -q '^\.TH XL 1' || fail "xl.1.gz"
grep -q '^ExecStart=/usr/sbin/xenstored ' "$T/root/lib/systemd/system/xenstored.service" ||
	fail "xenstored.service: $(grep ExecStart= "$T/root/lib/systemd/system/xenstored.service")"
grep -q '^ExecStart=-/usr/lib/domus/xendomains start' "$T/root/lib/systemd/system/xendomains.service" ||
	fail "xendomains.service: $(grep ExecStart= "$T/root/lib/systemd/system/xendomains.service")"
echo "ok the extracted xl runs (help, info, -N create of the example); xenstored; xl.1; the units' paths"

# A fresh Debian 12 (debootstrap, in a chroot under $T; this host's dpkg is
# not touched): apt installs the package with its Depends, xl on PATH is
# domus's, Xen's files moved to .xen; a reinstall of xen-utils-common keeps
# them there; remove gives them back; purge disables the units.
if [ "$(id -u)" != 0 ] || ! command -v debootstrap >/dev/null || ! command -v unshare >/dev/null; then
	echo "skip the install on a fresh Debian 12: needs root, debootstrap and unshare"
	exit 0
fi
MIRROR=$("$SRC/lab/apt-mirror") || { echo "skip the install on a fresh Debian 12: no Debian mirror in apt's sources"; exit 0; }
R=$T/chroot
if ! debootstrap --variant=minbase bookworm "$R" "$MIRROR" >"$T/debootstrap.log" 2>&1; then
	# A download failure is the network's, not the package's.
	echo "skip the install on a fresh Debian 12: debootstrap from $MIRROR failed: $(tail -3 "$T/debootstrap.log")"
	exit 0
fi
cp /etc/resolv.conf "$R/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod +x "$R/usr/sbin/policy-rc.d"
cp "$DEB" "$R/tmp/domus.deb"
# /proc for apt, in a mount namespace of its own: gone with the command.
inroot() { unshare --mount --propagation private --pid --fork --mount-proc="$R/proc" chroot "$R" /bin/sh -c "$1"; }
inroot 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -q --no-install-recommends /tmp/domus.deb' \
	>"$T/apt.log" 2>&1 || fail "apt-get install ./domus.deb on a fresh Debian 12: $(tail -20 "$T/apt.log")"
inroot 'command -v xl' >"$T/out" 2>&1
[ "$(cat "$T/out")" = /usr/sbin/xl ] || fail "xl on PATH: $(cat "$T/out")"
inroot 'xl help' >"$T/out" 2>&1 && grep -q "^ list " "$T/out" || fail "installed xl help: $(cat "$T/out")"
[ "$(inroot 'xl info xen_version')" = 4.17.0-domus ] || fail "installed xl info is not domus's"
[ "$(inroot 'dpkg-divert --list domus' | wc -l)" = "$(wc -l <"$T/added")" ] || fail "diversions: $(inroot 'dpkg-divert --list domus')"
[ "$(inroot 'readlink /usr/sbin/xl.xen')" = ../lib/xen-common/bin/xen-utils-wrapper ] || fail "Xen's xl is not at xl.xen"
[ -f "$R/usr/share/man/man1/xl.xen.1.gz" ] || fail "Xen's xl(1) is not at xl.xen.1.gz"
[ -L "$R/etc/systemd/system/multi-user.target.wants/xenstored.service" ] || fail "xenstored.service not enabled"
inroot 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --reinstall xen-utils-common' >"$T/apt.log" 2>&1 ||
	fail "reinstall of xen-utils-common: $(tail -20 "$T/apt.log")"
[ "$(inroot 'xl info xen_version')" = 4.17.0-domus ] || fail "a reinstall of xen-utils-common replaced domus's xl"
echo "ok a fresh Debian 12 installs the package: xl on PATH is domus's, Xen's at xl.xen, kept so over a reinstall of xen-utils-common"
inroot 'DEBIAN_FRONTEND=noninteractive apt-get remove -y -q domus' >"$T/apt.log" 2>&1 || fail "remove: $(tail -20 "$T/apt.log")"
[ -z "$(inroot 'dpkg-divert --list domus')" ] || fail "diversions left after remove: $(inroot 'dpkg-divert --list domus')"
[ "$(inroot 'readlink /usr/sbin/xl')" = ../lib/xen-common/bin/xen-utils-wrapper ] || fail "Xen's xl not back after remove"
[ -f "$R/usr/share/man/man1/xl.1.gz" ] && [ ! -e "$R/usr/share/man/man1/xl.xen.1.gz" ] || fail "Xen's xl(1) not back after remove"
inroot 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q domus' >"$T/apt.log" 2>&1 || fail "purge: $(tail -20 "$T/apt.log")"
[ -e "$R/etc/systemd/system/multi-user.target.wants/xenstored.service" ] && fail "xenstored.service still enabled after purge"
[ -e "$R/etc/logrotate.d/domus" ] && fail "/etc/logrotate.d/domus left after purge"
echo "ok remove gives Xen's files back their names; purge disables the units and removes the conffiles"
