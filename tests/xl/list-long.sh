#!/bin/bash
# list-long.sh XL FAKE_MONITOR XENSTORED [LIBXL_ROUNDTRIP]: `xl list -l` and `xl info` as
# Xen's xl prints them, without KVM.  A fake monitor (tests/vmm/fake_monitor.c)
# answers for domain 5 as domus-vmm would; its kept configuration is put in
# its run directory as the supervisor would; a private xenstored holds the
# MAC its second vif was created with.  Python's json module judges the text.
#  - Domain-0 alone, then Domain-0 and the guest: a JSON array of objects
#    with "domid" and "config" (c_info, b_info, disks, nics, on_*), the
#    guest's uuid from its monitor, its vif's MAC from xenstore, strings
#    with quotes, backslashes, control bytes and UTF-8 intact; each config
#    read by Xen's own libxl (tests/xl-cfg/libxl_roundtrip.c) gives the
#    same values back;
#  - `xl list -l guest5`, `-l 5`, `-l Domain-0`: that domain alone;
#  - a domain whose kept configuration is gone is left out, as Xen leaves
#    out one libxl cannot retrieve; an unknown name fails;
#  - `xl info`: every field of Xen 4.17, in its order; `xl info FIELD`.
set -u
XL=$1 FAKE=$2 XSD=$3 RT=${4:-}
. "$(dirname "$0")/../xenstored/lib.sh"
command -v xenstore-write >/dev/null || { echo "xenstore-utils is not installed"; exit 77; }
start_xenstored "$XSD"
export DOMUS_RUN_DIR=$XS_TMP/run DOMUS_LOG_DIR=$XS_TMP/log DOMUS_XL_CONF=$XS_TMP/xl.conf
: >"$DOMUS_XL_CONF"
mkdir -p "$DOMUS_RUN_DIR"
fpid=
trap '[ -n "$fpid" ] && kill "$fpid" 2>/dev/null; cleanup' EXIT

"$FAKE" "$DOMUS_RUN_DIR" 5 guest5 "$(date +%s)" >"$XS_TMP/fake.log" 2>&1 &
fpid=$!
wait_socket "$DOMUS_RUN_DIR/5/control" fake-monitor "$XS_TMP/fake.log"

# The kept configuration, as `xl create` leaves it (the text of the file).
printf '%s\n' \
	'name = "guest5"' \
	'type = "pvh"' \
	'kernel = "/boot/vmlinuz"' \
	"extra = \"console=hvc0 \\\"quoted\\\" back\\\\slash tab\\there caf\\xc3\\xa9 \\x01\"" \
	'memory = 512' \
	'maxmem = 768' \
	'vcpus = 2' \
	'on_crash = "preserve"' \
	"disk = [ 'file:/srv/guest5.img,xvda,w', 'phy:/dev/vg/data,xvdb,r' ]" \
	"vif = [ 'mac=00:16:3e:00:00:05,bridge=xenbr0', 'bridge=xenbr1' ]" \
	>"$DOMUS_RUN_DIR/5/config"
# The second vif's MAC, chosen at create, lives in its backend's node.
xenstore-write /local/domain/0/backend/vif/5/1/mac 00:16:3e:aa:bb:cc || fail "xenstore-write"

json_ok() { # json_ok FILE PYTHON-CHECKS: FILE parses, the checks hold (d is the list)
	python3 -c 'import json,sys; json.load(sys.stdin)' <"$1" || fail "not JSON: $(cat "$1")"
	python3 - "$1" "$2" <<'EOF' || fail "$(cat "$1")"
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
exec(sys.argv[2])
EOF
}

"$XL" list -l >"$XS_TMP/all" 2>"$XS_TMP/err" || fail "xl list -l: $(cat "$XS_TMP/err")"
[ "$(tail -c1 "$XS_TMP/all" | od -An -c | tr -d ' ')" = '\n' ] || fail "xl list -l: no newline at the end"
head -c 6 "$XS_TMP/all" | grep -q '^\[$' || fail "xl list -l: not yajl's layout: $(head -3 "$XS_TMP/all")"
json_ok "$XS_TMP/all" '
assert isinstance(d, list) and [e["domid"] for e in d] == [0, 5], [e["domid"] for e in d]
for e in d:
    assert sorted(e) == ["config", "domid"], sorted(e)
d0 = d[0]["config"]
assert d0["c_info"]["name"] == "Domain-0" and d0["c_info"]["type"] == "pv", d0["c_info"]
assert d0["b_info"]["max_memkb"] > 0 and len(d0["b_info"]["avail_vcpus"]) >= 1, d0["b_info"]
c = d[1]["config"]
assert list(c)[:2] == ["c_info", "b_info"], list(c)
ci, bi = c["c_info"], c["b_info"]
assert ci["name"] == "guest5" and ci["type"] == "pvh", ci
assert ci["uuid"] == "11111111-2222-3333-4444-555555555555", ci["uuid"]
assert bi["max_memkb"] == 768 * 1024 and bi["target_memkb"] == 512 * 1024, bi
assert bi["avail_vcpus"] == [0, 1] and bi["max_vcpus"] == 2, bi
assert bi["kernel"] == "/boot/vmlinuz", bi
want = "console=hvc0 \"quoted\" back\\slash tab\there caf\u00e9 \x01"
assert bi["cmdline"] == want, (bi["cmdline"], want)
assert "type.pvh" in bi, bi
assert [(k["vdev"], k["pdev_path"], k.get("readwrite", 0)) for k in c["disks"]] == \
    [("xvda", "/srv/guest5.img", 1), ("xvdb", "/dev/vg/data", 0)], c["disks"]
assert [(n["devid"], n["mac"], n["bridge"]) for n in c["nics"]] == \
    [(0, "00:16:3e:00:00:05", "xenbr0"), (1, "00:16:3e:aa:bb:cc", "xenbr1")], c["nics"]
assert c["on_crash"] == "preserve" and c["on_reboot"] == "restart", c
assert "on_poweroff" not in c, c
'
grep -q '\\u0001' "$XS_TMP/all" || fail "a control byte not escaped as yajl does: $(grep cmdline "$XS_TMP/all")"
if [ -n "$RT" ]; then
	for i in 0 1; do
		python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[int(sys.argv[2])]["config"]))' \
			"$XS_TMP/all" $i >"$XS_TMP/cfg.json" || fail "config $i"
		"$RT" domain <"$XS_TMP/cfg.json" >"$XS_TMP/back" 2>&1 || fail "libxl refuses config $i: $(cat "$XS_TMP/back")"
		python3 -c 'import json,sys; a, b = (json.load(open(f)) for f in sys.argv[1:]); assert a == b, (a, b)' \
			"$XS_TMP/cfg.json" "$XS_TMP/back" || fail "libxl gives config $i back changed"
	done
	echo "ok libxl reads each config and gives it back unchanged"
fi
echo "ok xl list -l: Domain-0 and the guest, libxl's shape, uuid, MACs, escaping"

for spec in guest5 5; do
	"$XL" list -l "$spec" >"$XS_TMP/one" 2>&1 || fail "xl list -l $spec: $(cat "$XS_TMP/one")"
	json_ok "$XS_TMP/one" 'assert [e["domid"] for e in d] == [5] and d[0]["config"]["c_info"]["name"] == "guest5", d'
done
for spec in Domain-0 0; do
	"$XL" list -l "$spec" >"$XS_TMP/one" 2>&1 || fail "xl list -l $spec: $(cat "$XS_TMP/one")"
	json_ok "$XS_TMP/one" 'assert [e["domid"] for e in d] == [0], d'
done
"$XL" list 0 >"$XS_TMP/one" 2>&1 || fail "xl list 0: $(cat "$XS_TMP/one")"
[ "$(grep -c '^Domain-0 ' "$XS_TMP/one")" = 1 ] && ! grep -q guest5 "$XS_TMP/one" || fail "xl list 0: $(cat "$XS_TMP/one")"
"$XL" list -l nosuch >"$XS_TMP/one" 2>&1 && fail "xl list -l nosuch succeeded"
grep -q "nosuch is an invalid domain identifier" "$XS_TMP/one" || fail "xl list -l nosuch: $(cat "$XS_TMP/one")"
"$XL" list -l guest5 5 >/dev/null 2>&1 && fail "xl list -l with two domains succeeded"
echo "ok xl list -l DOMAIN: by name, id, Domain-0; unknown refused"

# The long form: libxl's long option names.
"$XL" list --long guest5 >"$XS_TMP/one" 2>&1 || fail "xl list --long: $(cat "$XS_TMP/one")"
json_ok "$XS_TMP/one" 'assert d[0]["domid"] == 5'

# No kept configuration: left out, the others still printed.
mv "$DOMUS_RUN_DIR/5/config" "$XS_TMP/config.away"
"$XL" list -l >"$XS_TMP/all" 2>"$XS_TMP/err" || fail "xl list -l without a config: $(cat "$XS_TMP/err")"
json_ok "$XS_TMP/all" 'assert [e["domid"] for e in d] == [0], d'
grep -q "domain 5 (guest5)" "$XS_TMP/err" || fail "no warning for the missing config: $(cat "$XS_TMP/err")"
mv "$XS_TMP/config.away" "$DOMUS_RUN_DIR/5/config"
echo "ok a domain without its configuration is left out, with a warning"

# xl info: Xen 4.17's fields in its order (tools/xl/xl_info.c print_info).
want="host release version machine nr_cpus max_cpu_id nr_nodes cores_per_socket threads_per_core
cpu_mhz hw_caps virt_caps total_memory free_memory sharing_freed_memory sharing_used_memory
outstanding_claims free_cpus xen_major xen_minor xen_extra xen_version xen_caps xen_scheduler
xen_pagesize platform_params xen_changeset xen_commandline cc_compiler cc_compile_by
cc_compile_domain cc_compile_date build_id xend_config_format"
"$XL" info >"$XS_TMP/info" 2>&1 || fail "xl info: $(cat "$XS_TMP/info")"
got=$(sed 's/ *:.*//' "$XS_TMP/info" | tr '\n' ' ')
[ "$got" = "$(echo $want) " ] || fail "xl info fields: got [$got] want [$(echo $want)]"
grep -Evq '^[a-z_]+ +:( |$)' "$XS_TMP/info" && fail "xl info: a line not 'name : value': $(cat "$XS_TMP/info")"
[ "$(sed -n 's/^host *: //p' "$XS_TMP/info")" = "$(uname -n)" ] || fail "xl info host"
[ "$("$XL" info nr_cpus)" = "$(getconf _NPROCESSORS_ONLN)" ] || fail "xl info nr_cpus: $("$XL" info nr_cpus)"
[ "$("$XL" info xen_version)" = "$("$XL" info xen_major).$("$XL" info xen_minor)$("$XL" info xen_extra)" ] ||
	fail "xl info xen_version"
[ "$("$XL" info xend_config_format)" = 4 ] || fail "xl info xend_config_format"
"$XL" info hw_caps | grep -Eqx '([0-9a-f]{8}:){7}[0-9a-f]{8}' || fail "xl info hw_caps: $("$XL" info hw_caps)"
tm=$("$XL" info total_memory) fm=$("$XL" info free_memory)
[ "$tm" -gt 0 ] && [ "$fm" -le "$tm" ] || fail "xl info memory: total $tm free $fm"
T_INFO=$XS_TMP/info-n
# -n: Xen's topology between the host's fields and Xen's
"$XL" info -n >"$T_INFO" 2>&1 || fail "xl info -n: $(cat "$T_INFO")"
sed -n '/^free_cpus/,/^xen_major/p' "$T_INFO" >"$XS_TMP/topo"
head -3 "$XS_TMP/topo" | sed -n 2,3p | tr '\n' '|' | grep -qx 'cpu_topology           :|cpu:    core    socket     node|' ||
	fail "xl info -n: $(cat "$XS_TMP/topo")"
[ "$(grep -Ec '^ *[0-9]+:    +[0-9]+ +[0-9]+ +[0-9]+$' "$XS_TMP/topo")" -ge "$(getconf _NPROCESSORS_ONLN)" ] ||
	fail "xl info -n: not a line per CPU: $(cat "$XS_TMP/topo")"
grep -qx 'numa_info              :' "$XS_TMP/topo" && grep -q '^node:    memsize    memfree    distances$' "$XS_TMP/topo" ||
	fail "xl info -n: no numa_info: $(cat "$XS_TMP/topo")"
[ "$(grep -c ' : \| :$' "$T_INFO")" = "$(($(wc -l <"$XS_TMP/info") + 3))" ] || fail "xl info -n: the fields changed"
echo "ok xl info: Xen's fields in Xen's order; xl info FIELD; -n's topology"
exit 0
