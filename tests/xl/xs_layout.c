/* Writes (or removes) a domain's xenstore nodes as `xl create` (or its
 * supervisor's cleanup) does, without a monitor, for xs-layout.sh:
 *   xs-layout write CFG DOMID    check the disks, then ts_xs_write_domain()
 *   xs-layout remove DOMID       ts_xs_remove_domain()
 *   xs-layout vmm-args CFG       the --disk values xl passes to domus-vmm
 *   xs-layout vmm-nics CFG DOMID the --nic values
 *   xs-layout check CFG          xl create's checks of the disks and vifs
 *   xs-layout online CFG DOMID   the vifs' hotplug scripts as the supervisor
 *   xs-layout offline CFG DOMID  runs them (ts_vif_online / ts_vif_offline)
 *   xs-layout macs CFG DOMID     the MACs the config has after
 *                                ts_vif_adopt_macs (a restore's)
 * Exits 1 with xl's message on failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "ts.h"
#include "xl.h"

int main(int argc, char **argv)
{
	struct xl_ctx x = { 0 };
	struct domain_config c;
	struct xs_handle *xs;
	struct ts_dom d = { .store_port = 1, .console_port = 2 };
	int rc = 1;

	if (argc == 3 && strcmp(argv[1], "vmm-args") == 0) {
		char v[4400];

		xl_defaults_init(&x.defaults);
		domcfg_init(&c);
		rc = xl_load_domain_config(&x, argv[2], NULL, 0, &c) < 0 || ts_disk_check(&c, argv[2]) < 0;
		for (size_t i = 0; rc == 0 && i < c.n_disks; i++) {
			rc = ts_disk_vmm_arg(&c.disks[i], v, sizeof(v)) < 0;
			if (rc == 0)
				printf("%s\n", v);
		}
		domcfg_dispose(&c);
		xl_defaults_dispose(&x.defaults);
		return rc;
	}
	if ((argc == 3 && strcmp(argv[1], "check") == 0) || (argc == 4 && strcmp(argv[1], "vmm-nics") == 0)) {
		char v[64];

		xl_defaults_init(&x.defaults);
		domcfg_init(&c);
		rc = xl_load_domain_config(&x, argv[2], NULL, 0, &c) < 0 || ts_vif_setdefault(&c) < 0 ||
		     ts_disk_check(&c, argv[2]) < 0 || ts_vif_check(&c, argv[2]) < 0;
		for (size_t i = 0; rc == 0 && argv[1][0] == 'v' && i < c.n_nics; i++) {
			rc = ts_vif_vmm_arg(&c.nics[i], (uint32_t)strtoul(argv[3], NULL, 10), v, sizeof(v)) < 0;
			if (rc == 0)
				printf("%s\n", v);
		}
		domcfg_dispose(&c);
		xl_defaults_dispose(&x.defaults);
		return rc;
	}
	if (argc == 4 && strcmp(argv[1], "macs") == 0) {
		xl_defaults_init(&x.defaults);
		domcfg_init(&c);
		xs = NULL;
		rc = xl_load_domain_config(&x, argv[2], NULL, 0, &c) < 0 || ts_vif_setdefault(&c) < 0;
		if (rc == 0)
			xs = ts_xs_open();
		if (xs) {
			ts_vif_adopt_macs(xs, &c, (uint32_t)strtoul(argv[3], NULL, 10));
			for (size_t i = 0; i < c.n_nics; i++)
				printf("%02x:%02x:%02x:%02x:%02x:%02x\n", c.nics[i].mac[0], c.nics[i].mac[1],
				       c.nics[i].mac[2], c.nics[i].mac[3], c.nics[i].mac[4], c.nics[i].mac[5]);
			xs_close(xs);
		}
		domcfg_dispose(&c);
		xl_defaults_dispose(&x.defaults);
		return rc || !xs;
	}
	if (argc == 4 && (strcmp(argv[1], "online") == 0 || strcmp(argv[1], "offline") == 0)) {
		char err[1024];

		xl_defaults_init(&x.defaults);
		domcfg_init(&c);
		xs = NULL;
		rc = xl_load_domain_config(&x, argv[2], NULL, 0, &c) < 0;
		if (rc == 0)
			xs = ts_xs_open();
		if (rc == 0 && xs) {
			d.domid = (uint32_t)strtoul(argv[3], NULL, 10);
			rc = (argv[1][1] == 'n' ? ts_vif_online : ts_vif_offline)(xs, &c, d.domid, err, sizeof(err)) < 0;
			if (rc)
				fprintf(stderr, "xl: %s\n", err);
		}
		if (xs)
			xs_close(xs);
		domcfg_dispose(&c);
		xl_defaults_dispose(&x.defaults);
		return rc || !xs;
	}
	if (argc == 4 && strcmp(argv[1], "write") == 0)
		d.domid = (uint32_t)strtoul(argv[3], NULL, 10);
	else if (argc == 3 && strcmp(argv[1], "remove") == 0)
		d.domid = (uint32_t)strtoul(argv[2], NULL, 10);
	else {
		fprintf(stderr, "usage: xs-layout write CFG DOMID | remove DOMID | vmm-args CFG | vmm-nics CFG DOMID | "
				"check CFG | online CFG DOMID | offline CFG DOMID | macs CFG DOMID\n");
		return 2;
	}
	xl_defaults_init(&x.defaults);
	domcfg_init(&c);
	xs = ts_xs_open();
	if (!xs)
		goto out;
	snprintf(d.uuid, sizeof(d.uuid), "00000000-0000-0000-0000-000000000001");
	if (argv[1][0] == 'r') {
		ts_xs_remove_domain(xs, d.domid, d.uuid);
		rc = 0;
		goto out;
	}
	/* as ts_create(): the MACs, then the checks */
	if (xl_load_domain_config(&x, argv[2], NULL, 0, &c) < 0 || ts_vif_setdefault(&c) < 0 ||
	    ts_disk_check(&c, argv[2]) < 0 || ts_vif_check(&c, argv[2]) < 0)
		goto out;
	domcfg_set_build_defaults(&c);
	rc = ts_xs_write_domain(xs, &c, &d);
	if (rc < 0)
		fprintf(stderr, "xs-layout: writing the nodes: %s\n", strerror(-rc));
	rc = rc < 0;
out:
	if (xs)
		xs_close(xs);
	domcfg_dispose(&c);
	xl_defaults_dispose(&x.defaults);
	return rc;
}
