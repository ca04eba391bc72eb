/* xl create: parse the configuration (cfg/), then either print it as
 * libxl's JSON (-N) or hand it to the toolstack (ts_create.c). */
#include "xl.h"
#include "ts.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int xl_cmd_create(struct xl_ctx *x, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help", 0, NULL, 'h' },	 { "dryrun", 0, NULL, 'n' },
		{ "quiet", 0, NULL, 'q' },	 { "defconfig", 1, NULL, 'f' },
		{ "vncviewer", 0, NULL, 'V' }, { "vncviewer-autopass", 0, NULL, 'A' },
		{ 0 },
	};
	struct domain_config c;
	const char *file = NULL;
	bool dryrun = x->dryrun, quiet = false, console = false, paused = false;
	char *json = NULL;
	int opt, rc = 1;

	domcfg_init(&c);
	while ((opt = xl_getopt(x, argc, argv, "Fnqf:pcdeVA", lopts, 0, &rc)) != -1) {
		switch (opt) {
		case XL_OPT_EXIT:
			goto out;
		case 'f':
			file = optarg;
			break;
		case 'n':
			dryrun = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'c':
			console = true;
			break;
		case 'p':
			paused = true;
			break;
		default: /* -d -F -e -V -A: accepted, no effect in domus yet */
			break;
		}
	}
	/* As in xl: the first argument without '=' is the config file, the
	 * rest are KEY=VALUE lines that override it. */
	if (!file && optind < argc && !strchr(argv[optind], '='))
		file = argv[optind++];
	if (!file) {
		fprintf(stderr, "'xl create' requires a config file.\n\n");
		xl_help("create");
		rc = 2;
		goto out;
	}
	if (!quiet)
		fprintf(stderr, "Parsing config from %s\n", file);
	rc = 1;
	if (xl_load_domain_config(x, file, argv + optind, argc - optind, &c) < 0)
		goto out;
	if (!dryrun) {
		struct ts_start st = { .restore_fd = -1, .cfg_file = file };
		char *text = NULL;

		domcfg_set_build_defaults(&c);
		/* Kept for `xl save`; a domain is still created without it. */
		if (xl_config_text(file, argv + optind, argc - optind, &text, &st.cfg_len) == 0)
			st.cfg_text = text;
		rc = ts_create(x, &c, console, paused, &st);
		free(text);
		goto out;
	}
	json = domcfg_to_json(&c);
	if (!json) {
		fprintf(stderr, "xl create: out of memory\n");
		goto out;
	}
	printf("%s\n", json);
	rc = fflush(stdout) || ferror(stdout) ? 1 : 0;
out:
	free(json);
	domcfg_dispose(&c);
	return rc;
}
