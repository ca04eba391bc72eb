/* xl list -l: each domain's configuration as Xen 4.17's xl prints it
 * (tools/xl/xl_info.c list_domains_details with the default JSON format):
 * one JSON array, an object per domain with "domid" and "config", the
 * config as libxl_domain_config's JSON (cfg/json.c), then a newline.
 *
 * libxl_retrieve_domain_configuration gives the configuration libxl stored
 * at create, updated from the running domain; here it is the domain's kept
 * configuration (its run directory's `config`, what `xl save` carries and
 * block-/network-attach update) with libxl's build defaults, the uuid the
 * monitor reports and the MACs its vifs were created with.  Domain-0 has
 * the stub xen-init-dom0 stores for it (tools/helpers/init-dom-json.c:
 * type pv, nothing else), with the name, vCPUs and memory libxl fills in. */
#include "ts.h"
#include "xl.h"

#include "domus/json.h"
#include "domus/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include <xenstore.h>

static int dom0_config(struct xl_ctx *x, struct domain_config *c)
{
	struct sysinfo si;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	c->name = strdup("Domain-0");
	if (!c->name)
		return -ENOMEM;
	c->type = DOM_TYPE_PV;
	c->run_hotplug_scripts = x->defaults.run_hotplug_scripts;
	c->claim_mode = x->defaults.claim_mode;
	c->max_vcpus = c->vcpus = cpus > 0 ? (int)cpus : 1;
	if (sysinfo(&si) == 0)
		c->max_memkb = c->target_memkb = (uint64_t)si.totalram * si.mem_unit >> 10;
	/* the stub's actions are the IDL's defaults: none printed */
	c->on_reboot = c->on_soft_reset = DOM_ACTION_DESTROY;
	return 0;
}

/* A guest's configuration as libxl would give it back. */
static int domu_config(struct xl_ctx *x, const struct ts_dom *d, struct xs_handle **xs, struct domain_config *c)
{
	int rc = ts_domcfg_read(x, d->domid, c);

	if (rc < 0)
		return rc;
	domcfg_set_build_defaults(c);
	if (domcfg_uuid_parse(d->uuid, c->uuid) < 0)
		memset(c->uuid, 0, sizeof(c->uuid));
	if (c->n_nics) {
		if (!*xs)
			*xs = ts_xs_open();
		if (*xs)
			ts_vif_adopt_macs(*xs, c, d->domid);
	}
	return 0;
}

static void one(struct json_writer *w, uint32_t domid, const struct domain_config *c)
{
	json_object_open(w, NULL);
	json_int(w, "domid", domid);
	domcfg_json_write(w, "config", c);
	json_close(w);
}

int ts_list_long(struct xl_ctx *x, const struct ts_dom *v, size_t n, bool with_dom0)
{
	struct json_writer w;
	struct xs_handle *xs = NULL;
	struct domain_config c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc = 0;

	if (!f)
		return 1;
	json_init(&w, f);
	json_array_open(&w, NULL);
	if (with_dom0) {
		domcfg_init(&c);
		if (dom0_config(x, &c) == 0)
			one(&w, 0, &c);
		domcfg_dispose(&c);
	}
	for (size_t i = 0; i < n; i++) {
		domcfg_init(&c);
		/* as Xen's xl, a domain whose configuration cannot be had is
		 * left out of the list */
		if (domu_config(x, &v[i], &xs, &c) == 0)
			one(&w, v[i].domid, &c);
		else
			log_warn(NULL, "domain %u (%s): its kept configuration cannot be read; not listed",
				 v[i].domid, v[i].name);
		domcfg_dispose(&c);
	}
	json_close(&w);
	if (json_end(&w) < 0)
		rc = 1;
	if (fclose(f) != 0)
		rc = 1;
	if (rc == 0)
		puts(buf);
	else
		fprintf(stderr, "unable to format domain config as JSON\n");
	free(buf);
	if (xs)
		xs_close(xs);
	return rc || fflush(stdout) || ferror(stdout) ? 1 : 0;
}
