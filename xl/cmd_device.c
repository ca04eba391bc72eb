/* Device hotplug commands: block-attach and network-attach.  Their dry
 * run (-N) prints the parsed device as Xen's xl does ("disk: {...}",
 * "vif: {...}"); otherwise block-attach plugs the disk into the running
 * domain (ts_block.c), network-attach the vif (ts_net.c). */
#include "ts.h"
#include "xl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -N: the parsed device, as Xen's xl prints it. */
static int print_dry(struct xl_ctx *x, const char *what, char *json)
{
	if (!json) {
		fprintf(stderr, "xl %s: out of memory\n", x->cmd->name);
		return 1;
	}
	/* Xen's xl prints libxl's JSON, which ends in a newline, with "%s\n":
	 * hence the empty line after it. */
	printf("%s: %s\n\n", what, json);
	free(json);
	return fflush(stdout) || ferror(stdout) ? 1 : 0;
}

static char *join_spec(const char *const *parts, size_t n)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(parts[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(s, ",");
		strcat(s, parts[i]);
	}
	return s;
}

int xl_cmd_block_attach(struct xl_ctx *x, int argc, char **argv)
{
	struct cfg_diag d;
	struct dom_disk k;
	int opt, rc = 1;

	while ((opt = xl_getopt(x, argc, argv, "", NULL, 2, &rc)) != -1)
		if (opt == XL_OPT_EXIT)
			return rc;
	xl_diag_init(&d);
	dom_disk_init(&k);
	/* Every argument after the domain is one component of one disk spec. */
	if (dom_disk_parse(&k, (const char *const *)argv + optind + 1, (size_t)(argc - optind - 1),
			   &d, "command line", 0, "disk") < 0)
		goto out;
	if (x->dryrun) {
		rc = print_dry(x, "disk", dom_disk_to_json(&k));
	} else {
		/* the components as one disk= entry, for the kept configuration */
		char *spec = join_spec((const char *const *)argv + optind + 1, (size_t)(argc - optind - 1));

		rc = spec ? ts_block_attach(x, argv[optind], &k, spec) : 1;
		free(spec);
	}
out:
	dom_disk_dispose(&k);
	return rc;
}

int xl_cmd_network_attach(struct xl_ctx *x, int argc, char **argv)
{
	struct cfg_diag d;
	struct dom_nic n;
	int opt, rc = 1;

	while ((opt = xl_getopt(x, argc, argv, "", NULL, 1, &rc)) != -1)
		if (opt == XL_OPT_EXIT)
			return rc;
	xl_diag_init(&d);
	dom_nic_init(&n);
	dom_nic_apply_defaults(&n, &x->defaults);
	for (int i = optind + 1; i < argc; i++)
		if (dom_nic_parse(&n, argv[i], &d, "command line", 0, "vif") < 0)
			goto out;
	if (x->dryrun) {
		rc = print_dry(x, "vif", dom_nic_to_json(&n));
	} else {
		/* the settings as one vif= entry, for the kept configuration */
		char *spec = join_spec((const char *const *)argv + optind + 1, (size_t)(argc - optind - 1));

		rc = spec ? ts_net_attach(x, argv[optind], &n, spec) : 1;
		free(spec);
	}
out:
	dom_nic_dispose(&n);
	return rc;
}
