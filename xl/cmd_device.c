/* Device hotplug commands: block-attach and network-attach.  Their dry
 * run (-N) prints the parsed device as Xen's xl does ("disk: {...}",
 * "vif: {...}"); attaching to a running domain comes with domus-vmm. */
#include "xl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

/* Without -N, the domain would be looked up and the device added; neither
 * exists yet.  With -N, Xen's xl still needs a domain id argument. */
static int print_or_refuse(struct xl_ctx *x, const char *what, char *json)
{
	if (!json) {
		fprintf(stderr, "xl %s: out of memory\n", x->cmd->name);
		return 1;
	}
	if (!x->dryrun) {
		free(json);
		fprintf(stderr, "xl %s: attaching devices is not implemented yet in domus (xl -N %s prints the parsed device)\n",
			x->cmd->name, x->cmd->name);
		return 1;
	}
	/* Xen's xl prints libxl's JSON, which ends in a newline, with "%s\n":
	 * hence the empty line after it. */
	printf("%s: %s\n\n", what, json);
	free(json);
	return fflush(stdout) || ferror(stdout) ? 1 : 0;
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
	rc = print_or_refuse(x, "disk", dom_disk_to_json(&k));
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
	rc = print_or_refuse(x, "vif", dom_nic_to_json(&n));
out:
	dom_nic_dispose(&n);
	return rc;
}
