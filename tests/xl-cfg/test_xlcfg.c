/* Unit tests of the xl.cfg parser's pure parts: vdev numbering, disk and
 * vif specs, and the generic grammar.  Expected device numbers are those
 * of libxl__device_disk_dev_number() (Xen's tools/libs/light/libxl_device.c)
 * and docs/misc/vbd-interface.txt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domcfg.h"
#include "syntax.h"

/* Collects diagnostics so tests can assert on them. */
struct sink {
	char last[1024];
	unsigned n;
};

static void sink_emit(void *opaque, enum cfg_sev sev, const char *line)
{
	struct sink *s = opaque;

	(void)sev;
	snprintf(s->last, sizeof(s->last), "%s", line);
	s->n++;
}

static struct cfg_diag diag_for(struct sink *s)
{
	memset(s, 0, sizeof(*s));
	return (struct cfg_diag){ .emit = sink_emit, .opaque = s };
}

static void test_vdev_numbers(void **state)
{
	static const struct {
		const char *vdev;
		int devid;
	} ok[] = {
		{ "xvda", 51712 }, { "xvdb", 51728 }, { "xvda1", 51713 }, { "xvda15", 51727 },
		{ "xvdp", 51952 }, { "xvdq", (1 << 28) | (16 << 8) },
		{ "xvda16", (1 << 28) | 16 }, { "xvdaa", (1 << 28) | (26 << 8) },
		{ "sda", 2048 }, { "sdb", 2064 }, { "sda15", 2063 }, { "sdp", 2288 },
		{ "hda", 768 }, { "hdb", 832 }, { "hdc", 5632 }, { "hdd", 5696 }, { "hda63", 831 },
		{ "d0p0", 51712 }, { "d1p2", 51730 }, { "d0", 51712 }, { "d15p15", 51967 },
		{ "d16p0", (1 << 28) | (16 << 8) }, { "d0p16", (1 << 28) | 16 },
		{ "d1048575p255", (1 << 28) | (1048575 << 8) | 255 },
	};
	static const char *const bad[] = {
		"", "sdz9x", "xvd", "xvda0", "xvda01", "xvda256", "sdq", "sda16", "hde", "hda64",
		"d", "dp1", "d01", "d-1", "d1p", "d1048576p0", "d0p256", "sda ", "vda", "XVDA",
		"51712",
	};
	int disk, part;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int got = dom_vdev_to_devid(ok[i].vdev, &disk, &part);

		if (got != ok[i].devid)
			fail_msg("%s: got %d, expected %d", ok[i].vdev, got, ok[i].devid);
	}
	assert_int_equal(dom_vdev_to_devid("xvdc3", &disk, &part), 51747);
	assert_int_equal(disk, 2);
	assert_int_equal(part, 3);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dom_vdev_to_devid(bad[i], NULL, NULL) >= 0)
			fail_msg("\"%s\" accepted", bad[i]);
}

static int disk1(struct dom_disk *k, const char *spec, struct sink *s)
{
	struct cfg_diag d = diag_for(s);

	dom_disk_init(k);
	return dom_disk_parse(k, &spec, 1, &d, "t.cfg", 3, "disk[0]");
}

static void test_disk_forms(void **state)
{
	struct dom_disk k;
	struct sink s;

	(void)state;
	/* the seed's legacy form: prefix, then target, vdev, access */
	assert_int_equal(disk1(&k, "file:/disks/domU.img,sda,w", &s), 0);
	assert_string_equal(k.pdev_path, "/disks/domU.img");
	assert_string_equal(k.vdev, "sda");
	assert_int_equal(k.format, DISK_FORMAT_RAW);
	assert_true(k.readwrite);
	assert_int_equal(k.devid, 2048);
	dom_disk_dispose(&k);

	/* positional with format */
	assert_int_equal(disk1(&k, "/img.qcow2,qcow2,xvdb,r", &s), 0);
	assert_int_equal(k.format, DISK_FORMAT_QCOW2);
	assert_false(k.readwrite);
	dom_disk_dispose(&k);

	/* key=value in any order; target eats commas */
	assert_int_equal(disk1(&k, "vdev=xvdc, access=ro, format=vhd, target=/a,b,c", &s), 0);
	assert_string_equal(k.pdev_path, "/a,b,c");
	assert_int_equal(k.format, DISK_FORMAT_VHD);
	assert_false(k.readwrite);
	dom_disk_dispose(&k);

	/* empty cdrom drive */
	assert_int_equal(disk1(&k, ",,hdc:cdrom,r", &s), 0);
	assert_string_equal(k.pdev_path, "");
	assert_int_equal(k.format, DISK_FORMAT_EMPTY);
	assert_true(k.is_cdrom && k.removable && !k.readwrite);
	dom_disk_dispose(&k);

	/* devtype=, backendtype=, script=, deprecated double prefix */
	assert_int_equal(disk1(&k, "tap:aio:/x.img,xvdd,w,devtype=cdrom,backendtype=qdisk", &s), 0);
	assert_string_equal(k.pdev_path, "/x.img");
	assert_true(k.is_cdrom);
	assert_int_equal(k.backend, DISK_BACKEND_QDISK);
	dom_disk_dispose(&k);
	assert_int_equal(disk1(&k, "phy:/dev/vg/root,xvda,w,script=block-dummy", &s), 0);
	assert_string_equal(k.script, "block-dummy");
	dom_disk_dispose(&k);
	assert_int_equal(disk1(&k, "nbd:server:1234,xvde,w", &s), 0);
	assert_string_equal(k.script, "block-nbd");
	dom_disk_dispose(&k);
}

static void test_disk_errors(void **state)
{
	static const struct {
		const char *spec, *msg;
	} cases[] = {
		{ "file:/x,sdz9x,w", "t.cfg:3: disk[0]: unknown vdev \"sdz9x\" (expected xvdN, sdN, hdN or dN[pN])" },
		{ "/x,raw,xvda,w,extra", "t.cfg:3: disk[0]: too many positional parameters at \"extra\" (target, format, vdev, access) in \"/x,raw,xvda,w,extra\"" },
		{ "/x,xvda,w", "t.cfg:3: disk[0]: unknown format \"xvda\" (expected raw, qcow2 or vhd) in \"/x,xvda,w\"" },
		{ "/x", "t.cfg:3: disk[0]: no vdev (give one, e.g. \"...,xvda,w\" or vdev=xvda) in \"/x\"" },
		{ "vdev=xvda", "t.cfg:3: disk[0]: no target (a disk needs a file or device; only a cdrom may be empty) in \"vdev=xvda\"" },
		{ "/x,,xvda,rx", "t.cfg:3: disk[0]: unknown access \"rx\" (expected r, ro, w or rw) in \"/x,,xvda,rx\"" },
		{ "/x,,xvda,w,colour=red", "t.cfg:3: disk[0]: unknown parameter \"colour=red\" (known: target, format, vdev, access, devtype, backendtype, backend, script) in \"/x,,xvda,w,colour=red\"" },
		{ "foo:/x,xvda,w", "t.cfg:3: disk[0]: unknown prefix \"foo:\" (known: file:, phy:, tap:, aio:, raw:, qcow2:, vhd:) in \"foo:/x,xvda,w\"" },
		{ "/x,qed,xvda,w", "t.cfg:3: disk[0]: format qed is not supported by domus (expected raw, qcow2 or vhd)" },
		{ "/x,,xvda,w,vdev=xvdb", "t.cfg:3: disk[0]: vdev given twice in \"/x,,xvda,w,vdev=xvdb\"" },
	};
	struct dom_disk k;
	struct sink s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(disk1(&k, cases[i].spec, &s), -22);
		assert_string_equal(s.last, cases[i].msg);
		dom_disk_dispose(&k);
	}
}

static int nic1(struct dom_nic *n, const char *spec, struct sink *s)
{
	struct cfg_diag d = diag_for(s);

	dom_nic_init(n);
	return dom_nic_parse(n, spec, &d, "t.cfg", 4, "vif[0]");
}

static void test_vif(void **state)
{
	static const uint8_t mac[6] = { 0x00, 0x16, 0x3e, 0x12, 0x34, 0x56 };
	struct xl_defaults xd;
	struct dom_nic n;
	struct sink s;

	(void)state;
	assert_int_equal(nic1(&n, "mac=00:16:3e:12:34:56, bridge=xenbr0,ip=10.0.0.2,vifname=web0,type=vif,model=e1000,script=vif-route", &s), 0);
	assert_memory_equal(n.mac, mac, 6);
	assert_string_equal(n.bridge, "xenbr0");
	assert_string_equal(n.ip, "10.0.0.2");
	assert_string_equal(n.ifname, "web0");
	assert_int_equal(n.nictype, NIC_TYPE_VIF);
	assert_string_equal(n.model, "e1000");
	assert_string_equal(n.script, "vif-route");
	dom_nic_dispose(&n);

	/* xl-network-configuration(5): rate=10Mb/s@20ms is 1.25 MB/s, 25 kB per 20 ms */
	assert_int_equal(nic1(&n, "rate=10Mb/s@20ms", &s), 0);
	assert_int_equal(n.rate_interval_usecs, 20000);
	assert_int_equal(n.rate_bytes_per_interval, 25000);
	dom_nic_dispose(&n);
	assert_int_equal(nic1(&n, "rate=1MB/s", &s), 0); /* default interval 50 ms */
	assert_int_equal(n.rate_interval_usecs, 50000);
	assert_int_equal(n.rate_bytes_per_interval, 50000);
	dom_nic_dispose(&n);

	assert_int_equal(nic1(&n, "mac=01:16:3e:12:34:56", &s), -22);
	assert_string_equal(s.last, "t.cfg:4: vif[0]: MAC 01:16:3e:12:34:56 is a multicast address (the low bit of the first octet must be 0; Xen's prefix is 00:16:3e)");
	dom_nic_dispose(&n);
	assert_int_equal(nic1(&n, "mac=00:16:3e:12:34", &s), -22);
	assert_string_equal(s.last, "t.cfg:4: vif[0]: malformed MAC \"00:16:3e:12:34\" (expected six hex octets, e.g. 00:16:3e:12:34:56)");
	dom_nic_dispose(&n);
	assert_int_equal(nic1(&n, "mac=00:16:3e:12:34:5g", &s), -22);
	dom_nic_dispose(&n);
	assert_int_equal(nic1(&n, "mac=00:16:3e:123:4:5", &s), -22);
	dom_nic_dispose(&n);
	/* one-digit octets, as Xen's xl reads them */
	assert_int_equal(nic1(&n, "mac=00:16:3e:1:2:3", &s), 0);
	assert_int_equal(n.mac[3], 1);
	assert_int_equal(n.mac[5], 3);
	dom_nic_dispose(&n);
	assert_int_equal(nic1(&n, "rate=fast", &s), -22);
	dom_nic_dispose(&n);
	assert_int_equal(nic1(&n, "colour=red", &s), -22);
	dom_nic_dispose(&n);

	/* xl.conf defaults come first; the spec overrides them */
	xl_defaults_init(&xd);
	xd.vif_bridge = strdup("xenbr1");
	xd.vif_script = strdup("vif-bridge");
	dom_nic_init(&n);
	dom_nic_apply_defaults(&n, &xd);
	{
		struct cfg_diag d = diag_for(&s);

		assert_int_equal(dom_nic_parse(&n, "bridge=xenbr0", &d, "t.cfg", 1, "vif[0]"), 0);
	}
	assert_string_equal(n.bridge, "xenbr0");
	assert_string_equal(n.script, "vif-bridge");
	dom_nic_dispose(&n);
	xl_defaults_dispose(&xd);
}

static void test_grammar(void **state)
{
	static const char text[] =
		"# comment\n"
		"\n"
		"a = 1; b = 'two'\n"
		"c = [ \"x\",\n"
		"      'y', # comment inside a list\n"
		"    ]\n"
		"d = \"tab\\there \\x41\\101\"\n"
		"c += [ 'z' ]\n"
		"b += \"!\"\n"
		"e = []\n"
		"f = [ [ '1', '2' ], [] ]\n";
	struct cfg_file f;
	struct sink s;
	struct cfg_diag d = diag_for(&s);
	const struct cfg_entry *e;

	(void)state;
	cfg_file_init(&f);
	assert_int_equal(cfg_parse(&f, "g.cfg", text, sizeof(text) - 1, &d), 0);
	assert_int_equal(s.n, 0);
	e = cfg_find(&f, "a");
	assert_int_equal(e->val.kind, CFG_NUMBER);
	assert_string_equal(e->val.str, "1");
	assert_int_equal(e->line, 3);
	assert_string_equal(cfg_find(&f, "b")->val.str, "two!");
	e = cfg_find(&f, "c");
	assert_int_equal(e->val.kind, CFG_LIST);
	assert_int_equal(e->val.n, 3);
	assert_string_equal(e->val.items[1].str, "y");
	assert_int_equal(e->val.items[1].line, 5);
	assert_string_equal(e->val.items[2].str, "z");
	assert_string_equal(cfg_find(&f, "d")->val.str, "tab\there AA");
	assert_int_equal(cfg_find(&f, "e")->val.n, 0);
	assert_int_equal(cfg_find(&f, "f")->val.items[0].n, 2);
	cfg_file_dispose(&f);
}

static void test_grammar_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "name = My-DomU\n", "g.cfg:1:8: unexpected 'M' (keys are lower case, as in xl.cfg(5))" },
		{ "name = \"x\n", "g.cfg:1:8: unterminated string (a string ends on its line, with the quote that began it)" },
		{ "disk = [ 'a',\n 'b'\n", "g.cfg:1:8: unterminated list: this '[' has no matching ']'" },
		{ "name \"x\"\n", "g.cfg:1:6: syntax error: expected '=' after the key, found a string" },
		{ "name = 'x' 'y'\n", "g.cfg:1:12: syntax error: expected end of line or ';' after the value, found a string" },
		{ "x = [ 'a' 'b' ]\n", "g.cfg:1:11: syntax error: expected ',' or ']' in list, found a string" },
		{ "x = 'a\\q'\n", "g.cfg:1:7: invalid escape in quoted string (valid: \\\\ \\' \\\" \\n \\t \\r \\xHH \\ooo, not NUL)" },
		{ "x = [[[[[[[[[ ]]]]]]]]]\n", "g.cfg:1:13: lists nested too deeply (at most 8 levels)" },
		{ "x = \xe2\x80\x98y\xe2\x80\x99\n", "g.cfg:1:5: typographic quote \xe2\x80\x98 (U+2018) is not a quote in xl.cfg; use a straight single quote '" },
	};
	struct sink s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg_diag d = diag_for(&s);
		struct cfg_file f;

		cfg_file_init(&f);
		assert_int_equal(cfg_parse(&f, "g.cfg", cases[i].text, strlen(cases[i].text), &d), -22);
		if (strcmp(s.last, cases[i].msg))
			fail_msg("case %zu: got \"%s\"", i, s.last);
		cfg_file_dispose(&f);
	}
}

static void test_override_and_duplicates(void **state)
{
	static const char file[] = "memory = 256\nmemory = 512\n";
	static const char var[] = "memory=1024";
	struct cfg_file f;
	struct sink s;
	struct cfg_diag d = diag_for(&s);

	(void)state;
	cfg_file_init(&f);
	assert_int_equal(cfg_parse(&f, "a.cfg", file, sizeof(file) - 1, &d), 0);
	assert_int_equal(d.warnings, 1); /* set twice in one file */
	assert_string_equal(s.last, "a.cfg:2: memory: warning: set again (first at line 1); the last one wins, as in xl");
	assert_int_equal(cfg_parse(&f, "command line", var, sizeof(var) - 1, &d), 0);
	assert_int_equal(d.warnings, 1); /* command-line overrides are the point */
	assert_string_equal(cfg_find(&f, "memory")->val.str, "1024");
	assert_int_equal(f.n, 1);
	cfg_file_dispose(&f);
}

/* The semantic pass end to end, and libxl's build-time defaults. */
static void test_domcfg_defaults(void **state)
{
	static const char text[] = "name = 'd'\nkernel = '/k'\nmaxmem = 64\n";
	static const uint8_t uuid[16] = { 0 };
	struct domain_config c;
	struct xl_defaults xd;
	struct cfg_file f;
	struct sink s;
	struct cfg_diag d = diag_for(&s);

	(void)state;
	cfg_file_init(&f);
	domcfg_init(&c);
	xl_defaults_init(&xd);
	assert_int_equal(cfg_parse(&f, "d.cfg", text, sizeof(text) - 1, &d), 0);
	assert_int_equal(domcfg_from_cfg(&c, &f, &xd, uuid, &d), 0);
	assert_int_equal(c.type, DOM_TYPE_PV);
	assert_int_equal(c.max_vcpus, 0); /* as xl leaves it for the dry run */
	assert_true(c.target_memkb == MEMKB_DEFAULT);
	domcfg_set_build_defaults(&c);
	assert_int_equal(c.max_vcpus, 1);
	assert_int_equal(c.vcpus, 1);
	assert_true(c.max_memkb == 64 * 1024);
	assert_true(c.target_memkb == 64 * 1024);
	domcfg_dispose(&c);
	domcfg_init(&c);
	domcfg_set_build_defaults(&c);
	assert_true(c.max_memkb == 32 * 1024 && c.target_memkb == 32 * 1024);
	domcfg_dispose(&c);
	xl_defaults_dispose(&xd);
	cfg_file_dispose(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vdev_numbers),
		cmocka_unit_test(test_disk_forms),
		cmocka_unit_test(test_disk_errors),
		cmocka_unit_test(test_vif),
		cmocka_unit_test(test_grammar),
		cmocka_unit_test(test_grammar_errors),
		cmocka_unit_test(test_override_and_duplicates),
		cmocka_unit_test(test_domcfg_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
