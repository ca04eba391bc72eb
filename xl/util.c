/* Helpers shared by the xl commands: help text, option parsing, config
 * loading and the stderr sink for config diagnostics. */
#include "xl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domus/log.h"

void xl_help(const char *command)
{
	const struct xl_cmd *cmd;

	/* Same layout as Xen's xl help, so muscle memory and scripts work. */
	if (!command || !strcmp(command, "help")) {
		printf("Usage xl [-vfNtT] <subcommand> [args]\n\n");
		printf("xl full list of subcommands:\n\n");
		for (size_t i = 0; i < xl_cmd_count; i++) {
			printf(" %-19s ", xl_cmd_table[i].name);
			if (strlen(xl_cmd_table[i].name) > 19)
				printf("\n %-19s ", "");
			printf("%s\n", xl_cmd_table[i].summary);
		}
		return;
	}
	cmd = xl_cmd_lookup(command);
	if (!cmd) {
		printf("command \"%s\" not implemented\n", command);
		return;
	}
	printf("Usage: xl [-vtT%s%s] %s %s\n\n%s.\n\n", cmd->modifies ? "f" : "",
	       cmd->can_dryrun ? "N" : "", cmd->name, cmd->usage, cmd->summary);
	if (cmd->options)
		printf("Options:\n\n%s\n", cmd->options);
}

int xl_getopt(struct xl_ctx *x, int argc, char **argv, const char *opts,
	      const struct option *longopts, int min_args, int *rc)
{
	static const struct option help_only[] = { { "help", 0, NULL, 'h' }, { 0 } };
	char optstring[64];
	int opt;

	snprintf(optstring, sizeof(optstring), "h%s", opts);
	if (!longopts)
		longopts = help_only;
	opterr = 0;
	opt = getopt_long(argc, argv, optstring, longopts, NULL);
	if (opt == 'h' || (opt == '?' && optopt == 'h')) {
		xl_help(x->cmd->name);
		*rc = 0;
		return XL_OPT_EXIT;
	}
	if (opt == '?') {
		if (optopt)
			fprintf(stderr, "option `%c' not supported.\n", optopt);
		else
			fprintf(stderr, "option `%s' not supported.\n", argv[optind - 1]);
		*rc = 2;
		return XL_OPT_EXIT;
	}
	if (opt != -1)
		return opt;
	if (argc - optind < min_args) {
		fprintf(stderr, "'xl %s' requires at least %d argument%s.\n\n", x->cmd->name,
			min_args, min_args > 1 ? "s" : "");
		xl_help(x->cmd->name);
		*rc = 2;
		return XL_OPT_EXIT;
	}
	return -1;
}

int xl_not_implemented(struct xl_ctx *x, int argc, char **argv)
{
	int opt, rc = 1;

	/* Options are still checked so that --help works on every command. */
	while ((opt = xl_getopt(x, argc, argv, "", NULL, 0, &rc)) != -1)
		if (opt == XL_OPT_EXIT)
			return rc;
	fprintf(stderr, "xl %s: not implemented yet in domus\n", x->cmd->name);
	return 1;
}

void xl_diag_emit(void *opaque, enum cfg_sev sev, const char *line)
{
	(void)opaque;
	(void)sev;
	fprintf(stderr, "%s\n", line);
}

void xl_diag_init(struct cfg_diag *d)
{
	memset(d, 0, sizeof(*d));
	d->emit = xl_diag_emit;
	d->max_errors = 50;
}

int xl_read_file(const char *path, char **buf, size_t *len)
{
	/* Config files are small; a bound keeps a mistaken path (a disk image)
	 * from being read whole. */
	const size_t max = 1 << 20;
	char *b = NULL;
	size_t n = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	b = malloc(max + 1);
	if (!b) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, b + n, max + 1 - n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			rc = -EFBIG;
			goto out;
		}
	}
	b[n] = 0;
	*buf = b;
	*len = n;
	b = NULL;
out:
	free(b);
	close(fd);
	return rc;
}

int xl_random_uuid(uint8_t uuid[16])
{
	ssize_t r;

	do
		r = getrandom(uuid, 16, 0);
	while (r < 0 && errno == EINTR);
	if (r != 16)
		return r < 0 ? -errno : -EIO;
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40); /* RFC 4122 version 4 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	return 0;
}

int xl_load_domain_config(struct xl_ctx *x, const char *file, char **vars, int nvars,
			  struct domain_config *c)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = xl_read_file(file, &buf, &len);

	if (rc < 0)
		log_err(NULL, "cannot read config file %s: %s", file, strerror(-rc));
	else
		rc = xl_parse_domain_config(x, file, buf, len, vars, nvars, c);
	free(buf);
	return rc;
}

int xl_config_text(const char *file, char **vars, int nvars, char **out, size_t *out_len)
{
	char *buf = NULL, *nb;
	size_t len = 0, add;
	int rc = xl_read_file(file, &buf, &len);

	/* KEY=VALUE arguments are xl.cfg lines after the file's. */
	for (int i = 0; rc == 0 && i < nvars; i++) {
		add = strlen(vars[i]) + 2;
		nb = realloc(buf, len + add + 1);
		if (!nb) {
			rc = -ENOMEM;
			break;
		}
		buf = nb;
		len += (size_t)snprintf(buf + len, add + 1, "\n%s", vars[i]);
	}
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

int xl_parse_domain_config(struct xl_ctx *x, const char *file, const char *buf, size_t len, char **vars, int nvars,
			   struct domain_config *c)
{
	struct cfg_diag d;
	struct cfg_file f;
	uint8_t uuid[16];
	int rc;

	xl_diag_init(&d);
	cfg_file_init(&f);
	rc = cfg_parse(&f, file, buf, len, &d);
	/* KEY=VALUE arguments are xl.cfg lines that override the file. */
	for (int i = 0; i < nvars && rc != -ENOMEM; i++) {
		int r = cfg_parse_override(&f, vars[i], &d);

		if (r < 0 && rc == 0)
			rc = r;
	}
	if (rc < 0)
		goto out;
	rc = xl_random_uuid(uuid);
	if (rc < 0) {
		log_err(NULL, "cannot generate a uuid: %s", strerror(-rc));
		goto out;
	}
	rc = domcfg_from_cfg(c, &f, &x->defaults, uuid, &d);
out:
	if (rc == -ENOMEM)
		log_err(NULL, "out of memory");
	cfg_file_dispose(&f);
	return rc;
}
