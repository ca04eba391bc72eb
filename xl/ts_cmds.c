/* The domain commands that act: list, destroy, shutdown, reboot, pause,
 * unpause, console, uptime (xl(1)); xl info is ts_info.c. */
#include "ts.h"
#include "ts_hotplug.h"
#include "xl.h"

#include "domus/log.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <xen/xen.h> /* DOMID_FIRST_RESERVED */
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

static void print_list_row(const char *name, uint32_t id, unsigned long mem_mib, int vcpus, const char *state,
			   double secs)
{
	/* Xen's tools/xl/xl_list.c list_domains() format, column for column. */
	printf("%-40s %5u %5lu %5d     %s  %8.1f\n", name, id, mem_mib, vcpus, state, secs);
}

static void dom0_row(void)
{
	struct sysinfo si;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	double busy = 0;
	unsigned long long u, n, s;
	FILE *f = fopen("/proc/stat", "re");

	if (f) {
		if (fscanf(f, "cpu %llu %llu %llu", &u, &n, &s) == 3)
			busy = (double)(u + n + s) / (double)sysconf(_SC_CLK_TCK);
		fclose(f);
	}
	sysinfo(&si);
	print_list_row("Domain-0", 0, (unsigned long)((unsigned long long)si.totalram * si.mem_unit >> 20),
		       (int)cpus, "r-----", busy);
}

static void state_str(const struct ts_dom *d, char out[7])
{
	snprintf(out, 7, "%c%c%c---", d->state == 'r' ? 'r' : '-', d->state == 'b' ? 'b' : '-',
		 d->state == 'p' ? 'p' : '-');
}

/* The domains a command acts on: the one argv[optind] names, or every
 * domain when there is no argument; *v is allocated.  -errno, with the
 * message printed. */
static int named_or_all(int argc, char **argv, struct ts_dom **v, size_t *n)
{
	int rc;

	*v = NULL;
	*n = 0;
	if (optind >= argc) {
		rc = ts_dom_list(v, n);
		if (rc < 0)
			fprintf(stderr, "xl: cannot read %s: %s\n", ts_run_dir(), strerror(-rc));
		return rc;
	}
	*v = malloc(sizeof(**v));
	if (!*v)
		return -ENOMEM;
	rc = ts_dom_lookup(argv[optind], *v);
	if (rc < 0) {
		free(*v);
		*v = NULL;
		return rc;
	}
	*n = 1;
	return 0;
}

int xl_cmd_list(struct xl_ctx *x, int argc, char **argv)
{
	static const struct option lopts[] = { { "long", 0, NULL, 'l' },    { "verbose", 0, NULL, 'v' },
					       { "context", 0, NULL, 'Z' }, { "cpupool", 0, NULL, 'c' },
					       { "numa", 0, NULL, 'n' },    { "help", 0, NULL, 'h' },
					       { 0 } };
	struct ts_dom *v = NULL;
	size_t n = 0;
	char st[7];
	bool details = false, dom0;
	int opt, rc = 0;

	while ((opt = xl_getopt(x, argc, argv, "lvZcn", lopts, 0, &rc)) != -1) {
		if (opt == XL_OPT_EXIT)
			return rc;
		if (opt == 'l')
			details = true;
	}
	if (optind + 1 < argc) { /* Xen's main_list: at most one domain */
		xl_help("list");
		return 1;
	}
	/* Domain-0 is listed alone when named, as Xen's find_domain allows */
	dom0 = optind >= argc || !strcmp(argv[optind], "Domain-0") || !strcmp(argv[optind], "0");
	if (!(dom0 && optind < argc) && named_or_all(argc, argv, &v, &n) < 0)
		return 1;
	if (details) {
		rc = ts_list_long(x, v, n, dom0);
		free(v);
		return rc;
	}
	printf("Name                                        ID   Mem VCPUs\tState\tTime(s)\n");
	if (dom0)
		dom0_row();
	for (size_t i = 0; i < n; i++) {
		state_str(&v[i], st);
		print_list_row(v[i].name, v[i].domid, (unsigned long)(v[i].mem_kb >> 10), v[i].vcpus, st,
			       (double)v[i].cpu_ns / 1e9);
	}
	free(v);
	return 0;
}

/* Waits until the domain's run directory is gone (the supervisor cleaned
 * up); timeout_s 0 waits for ever, as xl shutdown -w does. */
int ts_wait_gone(uint32_t domid, unsigned timeout_s)
{
	char dir[256];
	struct stat st;
	time_t end = time(NULL) + timeout_s;

	ts_dom_dir(domid, dir, sizeof(dir));
	while (stat(dir, &st) == 0) {
		if (timeout_s && time(NULL) > end)
			return -ETIMEDOUT;
		usleep(100 * 1000);
	}
	return 0;
}

static int one_domain_arg(struct xl_ctx *x, int argc, char **argv, const char *opts, struct ts_dom *d, int *rc)
{
	static const struct option lopts[] = { { "help", 0, NULL, 'h' }, { 0 } };
	int opt;

	while ((opt = xl_getopt(x, argc, argv, opts, lopts, 1, rc)) != -1)
		if (opt == XL_OPT_EXIT)
			return -1;
	if (ts_dom_lookup(argv[optind], d) < 0) {
		*rc = 1;
		return -1;
	}
	return 0;
}

/* The supervisor's cleanup, for when the supervisor is gone: the domain's
 * xenstore nodes (frontends, back ends, /libxl, /vm) and its run dir.  Its
 * devices went with the monitor's process (a TAP with its last fd). */
static void cleanup_by_hand(uint32_t domid)
{
	struct xs_handle *xs = ts_xs_open();
	char path[64], *vm = NULL, *uuid = NULL;
	unsigned len;

	if (xs) {
		snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
		vm = xs_read(xs, XBT_NULL, path, &len);
		if (vm && strncmp(vm, "/vm/", 4) == 0)
			uuid = vm + 4;
		ts_xs_remove_domain(xs, domid, uuid);
		free(vm);
		xs_close(xs);
	}
	ts_dom_rm_run_dir(domid);
}

/* How long a supervisor may take to clean up once its monitor is gone:
 * it runs each vif's offline script, one at a time, each bounded by the
 * hotplug timeout as libxl's; then removes nodes and files, a moment. */
static unsigned cleanup_bound_s(uint32_t domid)
{
	struct xs_handle *xs = ts_xs_open();
	unsigned n = 0;
	char path[64];

	if (xs) {
		snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u", domid);
		free(xs_directory(xs, XBT_NULL, path, &n));
		xs_close(xs);
	}
	return 15 + n * (TS_HOTPLUG_TIMEOUT_MS / 1000);
}

/* A process that has not ended: a zombie has (its parent, the supervisor,
 * may be the one that hangs and does not reap it). */
static bool running(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* "pid (comm) S ...": comm may hold blanks and parentheses */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* Until the domain's monitor has ended (or timeout_s passed). */
static void wait_monitor_gone(uint32_t domid, unsigned timeout_s)
{
	time_t end = time(NULL) + timeout_s;
	pid_t pid;

	while ((pid = ts_dom_pid(domid, "vmm.pid", "domus-vmm")) > 0 && running(pid) && time(NULL) <= end)
		usleep(100 * 1000);
}

/* xl destroy always ends the domain, as Xen's does: the monitor is asked;
 * one that does not answer or does not go is killed, and its supervisor
 * cleans up; if the supervisor is gone, or stuck past what its scripts
 * may take, xl kills it with whatever it runs and cleans up itself. */
static int destroy_domain(uint32_t domid)
{
	pid_t vmm, sup;
	unsigned bound;

	if (ts_control(domid, CTL_DESTROY) == 0)
		wait_monitor_gone(domid, 15);
	vmm = ts_dom_pid(domid, "vmm.pid", "domus-vmm");
	if (vmm > 0 && running(vmm)) {
		log_warn(NULL, "domain %u: its monitor (pid %ld) did not end; killing it", domid, (long)vmm);
		kill(vmm, SIGKILL);
		wait_monitor_gone(domid, 15);
	}
	bound = cleanup_bound_s(domid);
	if (ts_wait_gone(domid, bound) == 0)
		return 0;
	sup = ts_dom_pid(domid, "supervisor.pid", "xl");
	if (sup > 0) {
		log_warn(NULL, "domain %u: its supervisor (pid %ld) did not clean up within %u s; killing it", domid,
			 (long)sup, bound);
		if (ts_kill_session(sup) < 0)
			kill(sup, SIGKILL);
	}
	cleanup_by_hand(domid);
	return ts_wait_gone(domid, 5);
}

int xl_cmd_destroy(struct xl_ctx *x, int argc, char **argv)
{
	static const struct option lopts[] = { { "help", 0, NULL, 'h' }, { 0 } };
	struct ts_dom d;
	uint32_t domid;
	int opt, rc = 0;

	while ((opt = xl_getopt(x, argc, argv, "f", lopts, 1, &rc)) != -1)
		if (opt == XL_OPT_EXIT)
			return rc;
	/* By its run directory, so that a domain whose monitor hangs (and so
	 * is not listed) can still be named. */
	if (ts_dom_find(argv[optind], &domid) < 0) {
		if (ts_dom_lookup(argv[optind], &d) < 0)
			return 1;
		domid = d.domid;
	}
	if (destroy_domain(domid) < 0) {
		log_err(NULL, "destroy of domain %u failed: %s/%u remains", domid, ts_run_dir(), domid);
		return 1;
	}
	return 0;
}

static int signal_shutdown(struct xl_ctx *x, int argc, char **argv, const char *what)
{
	static const struct option lopts[] = { { "all", 0, NULL, 'a' }, { "wait", 0, NULL, 'w' },
					       { "help", 0, NULL, 'h' }, { 0 } };
	struct ts_dom *v = NULL;
	size_t n = 0;
	bool all = false, wait = false;
	struct xs_handle *xs;
	int opt, rc = 0;

	while ((opt = xl_getopt(x, argc, argv, "awF", lopts, 0, &rc)) != -1) {
		if (opt == XL_OPT_EXIT)
			return rc;
		if (opt == 'a')
			all = true;
		if (opt == 'w')
			wait = true;
	}
	if (!all && optind >= argc) {
		fprintf(stderr, "'xl %s' requires at least one argument.\n\n", x->cmd->name);
		xl_help(x->cmd->name);
		return 2;
	}
	/* -a: every domain, as if none were named */
	if (named_or_all(all ? optind : argc, argv, &v, &n) < 0)
		return 1;
	xs = ts_xs_open();
	if (!xs) {
		free(v);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		char path[64];
		/* The guest's own xenbus code answers (drivers/xen/manage.c). */
		snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", v[i].domid);
		if (!xs_write(xs, XBT_NULL, path, what, (unsigned)strlen(what))) {
			fprintf(stderr, "xl: cannot ask domain %u to %s: %s\n", v[i].domid, what, strerror(errno));
			rc = 1;
		}
	}
	xs_close(xs);
	for (size_t i = 0; wait && rc == 0 && i < n; i++) {
		if (strcmp(what, "poweroff") == 0) {
			ts_wait_gone(v[i].domid, 0);
			printf("Domain %u has been shut down\n", v[i].domid);
		}
	}
	free(v);
	return rc;
}

int xl_cmd_shutdown(struct xl_ctx *x, int argc, char **argv)
{
	return signal_shutdown(x, argc, argv, "poweroff");
}

int xl_cmd_reboot(struct xl_ctx *x, int argc, char **argv)
{
	return signal_shutdown(x, argc, argv, "reboot");
}

static int control_cmd(struct xl_ctx *x, int argc, char **argv, unsigned type)
{
	struct ts_dom d;
	int rc = 0;

	if (one_domain_arg(x, argc, argv, "", &d, &rc) < 0)
		return rc;
	if (ts_control(d.domid, type) < 0) {
		fprintf(stderr, "xl: %s of domain %u failed\n", ctl_type_name(type), d.domid);
		return 1;
	}
	return 0;
}

int xl_cmd_pause(struct xl_ctx *x, int argc, char **argv)
{
	return control_cmd(x, argc, argv, CTL_PAUSE);
}

int xl_cmd_unpause(struct xl_ctx *x, int argc, char **argv)
{
	return control_cmd(x, argc, argv, CTL_UNPAUSE);
}

int xl_cmd_console(struct xl_ctx *x, int argc, char **argv)
{
	struct ts_dom d;
	int rc = 0;

	if (one_domain_arg(x, argc, argv, "t:n:", &d, &rc) < 0)
		return rc;
	return ts_console_attach(d.domid, d.name) < 0 ? 1 : 0;
}

static void print_uptime(const char *name, uint32_t id, long secs, bool short_mode)
{
	long d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60, s = secs % 60;
	char up[64];

	if (d)
		snprintf(up, sizeof(up), "%ld day%s, %2ld:%02ld:%02ld", d, d > 1 ? "s" : "", h, m, s);
	else
		snprintf(up, sizeof(up), "%2ld:%02ld:%02ld", h, m, s);
	if (short_mode)
		printf("%s up %s, %s (%u)\n", "", up, name, id);
	else
		printf("%-40s %5u %s\n", name, id, up);
}

int xl_cmd_uptime(struct xl_ctx *x, int argc, char **argv)
{
	static const struct option lopts[] = { { "help", 0, NULL, 'h' }, { 0 } };
	struct ts_dom *v;
	struct sysinfo si;
	size_t n;
	bool short_mode = false;
	time_t now = time(NULL);
	int opt, rc = 0;

	while ((opt = xl_getopt(x, argc, argv, "s", lopts, 0, &rc)) != -1) {
		if (opt == XL_OPT_EXIT)
			return rc;
		if (opt == 's')
			short_mode = true;
	}
	if (named_or_all(argc, argv, &v, &n) < 0)
		return 1;
	if (!short_mode)
		printf("Name                                        ID Uptime\n");
	sysinfo(&si);
	if (optind >= argc)
		print_uptime("Domain-0", 0, si.uptime, short_mode);
	for (size_t i = 0; i < n; i++)
		print_uptime(v[i].name, v[i].domid, (long)(now - v[i].start), short_mode);
	free(v);
	return 0;
}

/* Xen's main_domid and main_domname: names only for domid (it calls
 * libxl_name_to_domid), ids only for domname, the messages as xl prints
 * them. */
int xl_cmd_domid(struct xl_ctx *x, int argc, char **argv)
{
	static const struct option lopts[] = { { "help", 0, NULL, 'h' }, { 0 } };
	struct ts_dom *v;
	size_t n;
	int opt, rc = 0, id = -1;

	while ((opt = xl_getopt(x, argc, argv, "", lopts, 1, &rc)) != -1)
		if (opt == XL_OPT_EXIT)
			return rc;
	if (strcmp(argv[optind], "Domain-0") == 0)
		id = 0;
	else if (ts_dom_list(&v, &n) == 0) {
		for (size_t i = 0; i < n && id < 0; i++)
			if (strcmp(v[i].name, argv[optind]) == 0)
				id = (int)v[i].domid;
		free(v);
	}
	if (id < 0) {
		fprintf(stderr, "Can't get domid of domain name '%s', maybe this domain does not exist.\n", argv[optind]);
		return 1;
	}
	printf("%d\n", id);
	return 0;
}

int xl_cmd_domname(struct xl_ctx *x, int argc, char **argv)
{
	static const struct option lopts[] = { { "help", 0, NULL, 'h' }, { 0 } };
	struct ts_dom d;
	char *end;
	long id;
	int opt, rc = 0;

	while ((opt = xl_getopt(x, argc, argv, "", lopts, 1, &rc)) != -1)
		if (opt == XL_OPT_EXIT)
			return rc;
	id = strtol(argv[optind], &end, 10);
	if (end == argv[optind] || *end || id < 0 || id >= DOMID_FIRST_RESERVED) {
		fprintf(stderr, "Invalid domain id.\n");
		return 1;
	}
	if (id == 0) {
		printf("Domain-0\n");
		return 0;
	}
	if (ts_dom_info((uint32_t)id, &d) < 0) {
		fprintf(stderr, "Can't get domain name of domain id '%ld', maybe this domain does not exist.\n", id);
		return 1;
	}
	printf("%s\n", d.name);
	return 0;
}
