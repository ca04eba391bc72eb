/* xl sched-credit: a domain's weight and cap, as Xen 4.17's xl shows and
 * sets them (tools/xl/xl_sched.c main_sched_credit: its options, checks,
 * messages and "%-33s %4d %6d %4d" lines), carried out by the domain's
 * cgroup (ts_sched.h).  domus has no cpupools and no credit scheduler of its
 * own: the pool line says its parameters are unavailable, as xl's does when
 * it cannot read them, and -s / -t / -r / -m are refused. */
#include "xl.h"
#include "ts.h"
#include "ts_sched.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void header(void)
{
	printf("%-33s %4s %6s %4s\n", "Name", "ID", "Weight", "Cap");
}

static void line(const char *name, uint32_t id, const struct ts_sched *p)
{
	printf("%-33s %4u %6d %4d\n", name, id, p->weight, p->cap);
}

static void domain_line(const struct ts_dom *d)
{
	char dir[256];
	struct ts_sched p;

	ts_dom_dir(d->domid, dir, sizeof(dir));
	ts_sched_load(dir, &p);
	line(d->name, d->domid, &p);
}

static int want_int(const char *what, const char *s, long lo, long hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi) {
		fprintf(stderr, "xl: sched-credit: %s \"%s\": valid values are within range from %ld to %ld\n", what, s,
			lo, hi);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

/* -w / -c on one domain: checked as libxl checks them (weight 1..65535, cap
 * 0..100 per vCPU), kept in its run directory, written to its cgroup. */
static int set_params(const struct ts_dom *d, const char *w, const char *c)
{
	const char *root = ts_sched_root();
	char dir[256], err[600];
	struct ts_sched p;
	int rc;

	ts_dom_dir(d->domid, dir, sizeof(dir));
	ts_sched_load(dir, &p);
	if (w && want_int("weight", w, 1, 65535, &p.weight) < 0)
		return 1;
	if (c && want_int("cap", c, 0, 100L * (d->vcpus > 0 ? d->vcpus : 1), &p.cap) < 0)
		return 1;
	if (root && (rc = ts_sched_apply(root, d->domid, &p, err, sizeof(err))) < 0) {
		fprintf(stderr, "xl: sched-credit: domain %s: %s\n", d->name, err);
		return 1;
	}
	if (ts_sched_store(dir, &p) < 0) {
		fprintf(stderr, "xl: sched-credit: cannot keep the parameters of %s in %s\n", d->name, dir);
		return 1;
	}
	if (!root)
		fprintf(stderr, "xl: warning: this host has no cgroup v2 hierarchy with the cpu controller; "
				"domain %s's weight and cap are kept but not applied\n", d->name);
	return 0;
}

int xl_cmd_sched_credit(struct xl_ctx *x, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "domain", 1, NULL, 'd' },    { "weight", 1, NULL, 'w' },     { "cap", 1, NULL, 'c' },
		{ "schedparam", 0, NULL, 's' }, { "tslice_ms", 1, NULL, 't' },  { "ratelimit_us", 1, NULL, 'r' },
		{ "migration_delay_us", 1, NULL, 'm' }, { "cpupool", 1, NULL, 'p' }, { "help", 0, NULL, 'h' },
		{ 0 },
	};
	const char *dom = NULL, *w = NULL, *c = NULL, *pool = NULL;
	const struct ts_sched dom0 = { TS_SCHED_WEIGHT_DEFAULT, 0 };
	struct ts_dom d, *v;
	size_t n;
	int opt, rc = 0;

	while ((opt = xl_getopt(x, argc, argv, "d:w:c:p:t:r:m:s", lopts, 0, &rc)) != -1) {
		switch (opt) {
		case XL_OPT_EXIT:
			return rc;
		case 'd': dom = optarg; break;
		case 'w': w = optarg; break;
		case 'c': c = optarg; break;
		case 'p': pool = optarg; break;
		default: /* s, t, r, m */
			fprintf(stderr, "xl: sched-credit -%c: domus has no credit scheduler of its own to tune "
					"(a domain's share is its weight and cap: -d DOMAIN -w WEIGHT -c CAP)\n", opt);
			return 1;
		}
	}
	/* xl's own checks and words */
	if (pool && (dom || w || c)) {
		fprintf(stderr, "Specifying a cpupool is not allowed with other options.\n");
		return 1;
	}
	if (!dom && (w || c)) {
		fprintf(stderr, "Must specify a domain.\n");
		return 1;
	}
	if (pool && strcmp(pool, "Pool-0") != 0) {
		fprintf(stderr, "unknown cpupool '%s' (domus has one: Pool-0)\n", pool);
		return 1;
	}
	if (dom) {
		if (strcmp(dom, "0") == 0 || strcmp(dom, "Domain-0") == 0) {
			if (w || c) {
				fprintf(stderr, "xl: sched-credit: Domain-0 is the host: its share is the host's to set\n");
				return 1;
			}
			header();
			line("Domain-0", 0, &dom0);
			return 0;
		}
		if (ts_dom_lookup(dom, &d) < 0)
			return 1;
		if (w || c)
			return set_params(&d, w, c);
		header();
		domain_line(&d);
		return 0;
	}
	if ((rc = ts_dom_list(&v, &n)) < 0) {
		fprintf(stderr, "xl: cannot read %s: %s\n", ts_run_dir(), strerror(-rc));
		return 1;
	}
	printf("Cpupool Pool-0: [sched params unavailable]\n");
	header();
	line("Domain-0", 0, &dom0);
	for (size_t i = 0; i < n; i++)
		domain_line(&v[i]);
	free(v);
	return 0;
}
