/* xl: global options, /etc/xen/xl.conf, dispatch through the command table.
 * Exit codes as Xen's xl: 0 success, 1 failure (including an unknown
 * command or -N given to a command that cannot honour it), 2 bad usage of
 * a command's options. */
#include "xl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domus/log.h"

#define XL_GLOBAL_CONFIG "/etc/xen/xl.conf"

/* Reads xl.conf into x->defaults.  A missing default file is normal on a
 * fresh host (Xen's xl complains and carries on; domus notes it with -v);
 * a missing file named by DOMUS_XL_CONF is an error. */
static int load_xl_conf(struct xl_ctx *x, bool explicit_path)
{
	struct cfg_diag d;
	struct cfg_file f;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	xl_diag_init(&d);
	cfg_file_init(&f);
	rc = xl_read_file(x->xlconf_path, &buf, &len);
	if (rc < 0) {
		if (rc == -ENOENT && !explicit_path) {
			log_debug(NULL, "%s: %s; using built-in defaults", x->xlconf_path,
				  strerror(-rc));
			rc = xl_defaults_from_cfg(&x->defaults, &f, &d);
		} else {
			log_err(NULL, "cannot read %s: %s", x->xlconf_path, strerror(-rc));
		}
		goto out;
	}
	rc = cfg_parse(&f, x->xlconf_path, buf, len, &d);
	if (rc == 0)
		rc = xl_defaults_from_cfg(&x->defaults, &f, &d);
out:
	cfg_file_dispose(&f);
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	struct xl_ctx x = { .xlconf_path = XL_GLOBAL_CONFIG };
	const struct xl_cmd *cmd;
	const char *env;
	int opt, rc;

	log_init("xl", LOG_WARN, stderr);
	xl_defaults_init(&x.defaults);
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		xl_help(NULL);
		return 0;
	}
	opterr = 0; /* "unknown global option" below says it, without argv[0] */
	while ((opt = getopt(argc, argv, "+vftTN")) >= 0) {
		switch (opt) {
		case 'v':
			x.verbose++;
			break;
		case 'N':
			x.dryrun = true;
			break;
		case 'f':
			x.force = true;
			break;
		case 't': /* progress with CR: nothing reports progress yet */
		case 'T': /* timestamps on messages: not yet */
			break;
		default:
			fprintf(stderr, "unknown global option\n");
			return 1;
		}
	}
	if (x.verbose)
		log_set_level(x.verbose > 1 ? LOG_DEBUG : LOG_INFO);
	if (optind >= argc) {
		xl_help(NULL);
		return 1;
	}
	env = getenv("DOMUS_XL_CONF");
	if (env && *env)
		x.xlconf_path = env;
	if (load_xl_conf(&x, env && *env) < 0) {
		rc = 1;
		goto out;
	}

	argv += optind;
	argc -= optind;
	optind = 1; /* each command parses its own options from argv[0] on */
	cmd = xl_cmd_lookup(argv[0]);
	if (!cmd) {
		if (!strcmp(argv[0], "help")) {
			xl_help(argc > 1 ? argv[1] : NULL);
			rc = 0;
		} else {
			fprintf(stderr, "command not implemented\n");
			rc = 1;
		}
		goto out;
	}
	if (x.dryrun && !cmd->can_dryrun) {
		fprintf(stderr, "command does not implement -N (dryrun) option\n");
		rc = 1;
		goto out;
	}
	x.cmd = cmd;
	rc = cmd->fn(&x, argc, argv);
out:
	xl_defaults_dispose(&x.defaults);
	return rc;
}
