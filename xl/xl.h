/* xl: the command front end (Xen's tools/xl, for domus).
 *
 * One table of commands (cmdtable.c) drives dispatch, `xl help`, the man
 * page xl(1) and bash completion (gendoc.c).  Each command group has its
 * own file; the config parser lives in cfg/ so domus-vmm can link it too. */
#ifndef DOMUS_XL_H
#define DOMUS_XL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg/domcfg.h"

/* Everything main() sets up for a command; no globals. */
struct xl_ctx {
	bool dryrun;	     /* -N */
	bool force;	     /* -f */
	int verbose;	     /* -v count */
	const char *xlconf_path;
	struct xl_defaults defaults;
	const struct xl_cmd *cmd; /* the command running */
};

typedef int (*xl_cmd_fn)(struct xl_ctx *x, int argc, char **argv);

struct xl_cmd {
	const char *name;
	xl_cmd_fn fn;
	bool can_dryrun;   /* honours -N; others refuse it, as in Xen */
	bool modifies;	   /* honours -f */
	bool implemented;  /* false: parses its options, then says so and exits 1 */
	const char *summary;
	const char *usage;
	const char *options; /* NULL or lines "-x  text\n" */
};

extern const struct xl_cmd xl_cmd_table[];
extern const size_t xl_cmd_count;

const struct xl_cmd *xl_cmd_lookup(const char *name);
void xl_help(const char *command);

/* Option parsing shared by the commands (Xen's def_getopt): handles -h and
 * --help (help, exit 0), unknown options (exit 2) and too few arguments
 * (exit 2).  Returns the option, -1 when done, or XL_OPT_EXIT with *rc set. */
#define XL_OPT_EXIT (-2)
struct option;
int xl_getopt(struct xl_ctx *x, int argc, char **argv, const char *opts,
	      const struct option *longopts, int min_args, int *rc);

/* Prints a config diagnostic line to stderr (cfg_diag emit callback). */
void xl_diag_emit(void *opaque, enum cfg_sev sev, const char *line);
void xl_diag_init(struct cfg_diag *d);

/* Reads a whole file; returns 0 or -errno. */
int xl_read_file(const char *path, char **buf, size_t *len);
int xl_random_uuid(uint8_t uuid[16]);

/* Parses FILE and KEY=VALUE overrides into c, reporting through stderr. */
int xl_load_domain_config(struct xl_ctx *x, const char *file, char **vars, int nvars,
			  struct domain_config *c);
/* The same from text already read (a save file's CONFIG record). */
int xl_parse_domain_config(struct xl_ctx *x, const char *file, const char *buf, size_t len, char **vars, int nvars,
			   struct domain_config *c);
/* FILE's text with the KEY=VALUE overrides as lines after it: the
 * configuration a save file carries. */
int xl_config_text(const char *file, char **vars, int nvars, char **out, size_t *out_len);

int xl_not_implemented(struct xl_ctx *x, int argc, char **argv);

/* command handlers */
int xl_cmd_create(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_block_attach(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_network_attach(struct xl_ctx *x, int argc, char **argv);
/* ts_block.c */
int xl_cmd_block_list(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_network_list(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_network_detach(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_block_detach(struct xl_ctx *x, int argc, char **argv);
/* ts_cmds.c: the commands that act on domains */
int xl_cmd_list(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_destroy(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_save(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_restore(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_shutdown(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_reboot(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_pause(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_unpause(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_console(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_uptime(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_info(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_domid(struct xl_ctx *x, int argc, char **argv);
int xl_cmd_domname(struct xl_ctx *x, int argc, char **argv);
/* cmd_sched.c */
int xl_cmd_sched_credit(struct xl_ctx *x, int argc, char **argv);

#endif
