/* Differential test of the disk and vif-rate parsers against Xen's own
 * libxlutil (xlu_disk_parse, xlu_vif_parse_rate from libxen-dev): each
 * line of the spec file is parsed by both, and the results compared (disks
 * as libxl JSON, rates as bytes per interval and interval).  Lines are
 *   same   SPEC    both accept it with the same result, or both refuse it
 *   stricter SPEC  Xen accepts it, domus refuses it on purpose (the reason
 *                  is in the comment above the line)
 *   rate-same RATE, rate-stricter RATE: the same for vif rate= values
 * Blank lines and '#' comments are skipped.
 * usage: xlu-diff FILE */
#include <libxl.h>
#include <libxlutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domcfg.h"

/* Xen's side: NULL when xlu refuses the spec.  cfg only carries where
 * xlu reports, so one serves every spec. */
static char *xen_disk(libxl_ctx *ctx, XLU_Config *cfg, const char *spec)
{
	libxl_device_disk d;
	char *json = NULL;

	libxl_device_disk_init(&d);
	if (!xlu_disk_parse(cfg, 1, &spec, &d))
		json = libxl_device_disk_to_json(ctx, &d);
	libxl_device_disk_dispose(&d);
	return json;
}

static char *domus_disk(const char *spec)
{
	struct cfg_diag d = { .emit = NULL }; /* messages counted, not formatted */
	struct dom_disk k;
	char *json = NULL;

	dom_disk_init(&k);
	if (!dom_disk_parse(&k, &spec, 1, &d, "spec", 0, "disk")) {
		char *j = dom_disk_to_json(&k);

		/* libxl's text ends with a newline, ours does not */
		if (j && asprintf(&json, "%s\n", j) < 0)
			json = NULL;
		free(j);
	}
	dom_disk_dispose(&k);
	return json;
}

/* Rates: "bytes/interval" text, or NULL when refused. */
static char *xen_rate(XLU_Config *cfg, const char *rate)
{
	libxl_device_nic nic;
	char *out = NULL;

	libxl_device_nic_init(&nic);
	if (!xlu_vif_parse_rate(cfg, rate, &nic) &&
	    asprintf(&out, "%llu/%u", (unsigned long long)nic.rate_bytes_per_interval,
		     nic.rate_interval_usecs) < 0)
		out = NULL;
	libxl_device_nic_dispose(&nic);
	return out;
}

static char *domus_rate(const char *rate)
{
	struct cfg_diag d = { .emit = NULL }; /* messages counted, not formatted */
	struct dom_nic n;
	char *spec = NULL, *out = NULL;

	dom_nic_init(&n);
	if (asprintf(&spec, "rate=%s", rate) >= 0 && !dom_nic_parse(&n, spec, &d, "rate", 0, "vif") &&
	    asprintf(&out, "%llu/%u", (unsigned long long)n.rate_bytes_per_interval,
		     n.rate_interval_usecs) < 0)
		out = NULL;
	free(spec);
	dom_nic_dispose(&n);
	return out;
}

int main(int argc, char **argv)
{
	libxl_ctx *ctx = calloc(1, 1 << 16); /* see libxl_roundtrip.c */
	FILE *in, *devnull = fopen("/dev/null", "w");
	XLU_Config *cfg = devnull ? xlu_cfg_init(devnull, "spec") : NULL;
	char line[4096];
	int bad = 0, n = 0, lineno = 0;

	if (argc != 2 || !ctx || !cfg || !(in = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: xlu-diff FILE\n");
		return 2;
	}
	while (fgets(line, sizeof(line), in)) {
		char *spec, *mode = line, *x, *o;
		bool stricter;

		lineno++;
		line[strcspn(line, "\n")] = 0;
		if (!*line || *line == '#')
			continue;
		spec = strchr(line, ' ');
		if (!spec) {
			fprintf(stderr, "%s:%d: expected 'same|stricter SPEC'\n", argv[1], lineno);
			return 2;
		}
		*spec++ = 0;
		stricter = !strcmp(mode, "stricter") || !strcmp(mode, "rate-stricter");
		if (!strncmp(mode, "rate-", 5)) {
			x = xen_rate(cfg, spec);
			o = domus_rate(spec);
		} else {
			x = xen_disk(ctx, cfg, spec);
			o = domus_disk(spec);
		}
		n++;
		if (stricter ? !(x && !o)
			     : !((!x && !o) || (x && o && !strcmp(x, o)))) {
			bad++;
			printf("not ok %d %s '%s'\n    xen:   %s\n    domus: %s\n", lineno, mode, spec,
			       x ? x : "(refused)\n", o ? o : "(refused)\n");
		} else {
			printf("ok %d %s '%s' (%s)\n", lineno, mode, spec, x ? "accepted" : "refused");
		}
		free(x);
		free(o);
	}
	printf("%d specs, %d differ\n", n, bad);
	return bad || !n;
}
