/* xenstored: domus's XenStore daemon.  Options follow Xen 4.17's
 * xenstored where they mean the same thing (xenstored_core.c usage()). */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: xenstored [options]\n"
		"  -s, --socket <path>      listening socket (default $XENSTORED_PATH, else\n"
		"                           ${XENSTORED_RUNDIR:-/run/xenstored}/socket)\n"
		"  -g, --guest-socket <p>   where monitors hand over guest rings\n"
		"                           (default: <socket dir>/guest)\n"
		"  -d, --state-dir <dir>    state kept across restarts (default: socket dir)\n"
		"      --no-state           keep nothing across restarts\n"
		"  -F, --pid-file <file>    write the pid here\n"
		"  -E, --entry-nb <nb>      nodes per domain quota\n"
		"  -S, --entry-size <size>  node size quota\n"
		"  -W, --watch-nb <nb>      watches per domain quota\n"
		"  -t, --transaction <nb>   transactions per connection quota\n"
		"  -A, --perm-nb <nb>       permissions per node quota\n"
		"  -M, --path-max <chars>   path length quota\n"
		"  -Q, --quota <what>=<nb>  any quota by its xenstore-control name\n"
		"  -K, --keep-orphans       give a released domain's nodes to dom0\n"
		"  -T, --trace              log every request\n"
		"  -P, --busy-poll <us>     after work, poll this long before sleeping\n"
		"                           (default 50, 0 on one CPU; 0 sleeps at once)\n"
		"  -N, --no-fork            accepted for compatibility; never forks\n"
		"  -h, --help\n"
		"SIGUSR2 upgrades in place: re-executes this binary, keeping the clients.\n");
}

static int set_quota(struct xsd_opts *o, const char *arg)
{
	char name[64];
	const char *eq = strchr(arg, '=');
	int q;

	if (!eq || (size_t)(eq - arg) >= sizeof(name))
		return -EINVAL;
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	q = xse_quota_by_name(name);
	if (q < 0 || atoi(eq + 1) < 1)
		return -EINVAL;
	o->quota[q] = atoi(eq + 1);
	return 0;
}

struct paths {
	char sock[PATH_MAX], dir[PATH_MAX], guest[PATH_MAX + 8];
};

static int parse(int argc, char **argv, struct xsd_opts *o, struct paths *pp)
{
	static const struct option lo[] = {
		{ "socket", 1, NULL, 's' },	 { "guest-socket", 1, NULL, 'g' },
		{ "state-dir", 1, NULL, 'd' },	 { "no-state", 0, NULL, 'n' },
		{ "pid-file", 1, NULL, 'F' },	 { "entry-nb", 1, NULL, 'E' },
		{ "entry-size", 1, NULL, 'S' },	 { "watch-nb", 1, NULL, 'W' },
		{ "transaction", 1, NULL, 't' }, { "perm-nb", 1, NULL, 'A' },
		{ "path-max", 1, NULL, 'M' },	 { "quota", 1, NULL, 'Q' },
		{ "keep-orphans", 0, NULL, 'K' }, { "trace", 0, NULL, 'T' },
		{ "no-fork", 0, NULL, 'N' },	 { "help", 0, NULL, 'h' },
		{ "inherit", 1, NULL, 'I' },	 { "busy-poll", 1, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct { char opt; enum xse_quota q; } qopt[] = {
		{ 'E', XSE_Q_NODES }, { 'S', XSE_Q_NODE_SIZE }, { 'W', XSE_Q_WATCHES },
		{ 't', XSE_Q_TRANSACTIONS }, { 'A', XSE_Q_PERMISSIONS }, { 'M', XSE_Q_PATH_MAX },
	};
	bool no_state = false, state_set = false;
	const char *env;
	int ch;

	while ((ch = getopt_long(argc, argv, "s:g:d:F:E:S:W:t:A:M:Q:P:KTNh", lo, NULL)) != -1) {
		switch (ch) {
		case 's': o->socket_path = optarg; break;
		case 'g': o->guest_socket_path = optarg; break;
		case 'd': o->state_dir = optarg; state_set = true; break;
		case 'n': no_state = true; break;
		case 'F': o->pid_file = optarg; break;
		case 'Q':
			if (set_quota(o, optarg) < 0) {
				log_err(NULL, "bad quota '%s' (want <name>=<n>)", optarg);
				return -EINVAL;
			}
			break;
		case 'K': o->keep_orphans = true; break;
		case 'T': o->trace = true; break;
		case 'N': break;
		case 'P': {
			char *end;
			unsigned long us = strtoul(optarg, &end, 10);

			if (*optarg == '\0' || *end || us > 1000000) {
				log_err(NULL, "--busy-poll: bad value '%s' (want microseconds, 0 to 1000000)",
					optarg);
				return -EINVAL;
			}
			o->busy_poll_us = (unsigned)us;
			break;
		}
		case 'I': o->inherit = optarg; break;
		case 'h': usage(stdout); exit(0);
		default:
			for (size_t i = 0; i < sizeof(qopt) / sizeof(qopt[0]); i++) {
				if (qopt[i].opt == ch && atoi(optarg) > 0) {
					o->quota[qopt[i].q] = atoi(optarg);
					goto next;
				}
			}
			usage(stderr);
			return -EINVAL;
		}
next:;
	}
	if (!o->socket_path) {
		/* The same lookup as libxenstore (xs_lib.c xs_daemon_socket). */
		env = getenv("XENSTORED_PATH");
		if (env) {
			o->socket_path = env;
		} else {
			env = getenv("XENSTORED_RUNDIR");
			snprintf(pp->sock, sizeof(pp->sock), "%s/socket", env ? env : "/run/xenstored");
			o->socket_path = pp->sock;
		}
	}
	/* The guest socket and state live beside the socket by default. */
	snprintf(pp->dir, sizeof(pp->dir), "%s", o->socket_path);
	{
		char *slash = strrchr(pp->dir, '/');

		if (slash == pp->dir)
			slash[1] = '\0';
		else if (slash)
			*slash = '\0';
		else
			strcpy(pp->dir, ".");
	}
	if (!state_set)
		o->state_dir = pp->dir;
	if (no_state)
		o->state_dir = NULL;
	if (!o->guest_socket_path) {
		snprintf(pp->guest, sizeof(pp->guest), "%s/guest", pp->dir);
		o->guest_socket_path = pp->guest;
	}
	return 0;
}

/* Spinning only pays when a client can run meanwhile on another CPU: on
 * one CPU it would just delay the client it waits for. */
static unsigned default_busy_poll_us(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) < 2)
		return 0;
	return 50;
}

int main(int argc, char **argv)
{
	static struct paths paths;
	struct xsd_opts o = { .busy_poll_us = default_busy_poll_us() };
	struct xsd d;
	int rc;

	static char self[PATH_MAX];
	ssize_t n;

	log_init(argv[0], LOG_INFO, NULL);
	if (parse(argc, argv, &o, &paths) < 0)
		return 2;
	/* Like Xen's xenstored, create the run directory (the socket's). */
	if (mkdir(paths.dir, 0755) < 0 && errno != EEXIST)
		log_warn(NULL, "cannot create %s: %s", paths.dir, strerror(errno));
	/* The path now: after an upgrade is installed, /proc/self/exe would
	 * name the old, deleted file. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0 && n < (ssize_t)sizeof(self) - 1) {
		self[n] = '\0';
		if (strstr(self, " (deleted)") == self + n - 10)
			self[n - 10] = '\0';
		o.self_path = self;
	}
	rc = xsd_init(&d, &o);
	if (rc == 0 && o.pid_file) {
		FILE *f = fopen(o.pid_file, "w");

		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	if (rc == 0) {
		log_info(NULL, "serving %s (guests: %s, state: %s)", o.socket_path,
			 o.guest_socket_path, o.state_dir ? o.state_dir : "none");
		rc = xsd_run(&d);
		while (rc == 0 && d.upgrade) {
			rc = upgrade_exec(&d, argv);
			log_err(NULL, "upgrade failed (%s); carrying on", strerror(-rc));
			rc = xsd_run(&d);
		}
	}
	xsd_dispose(&d);
	if (rc < 0)
		log_err(NULL, "exiting: %s", strerror(-rc));
	return rc < 0 ? 1 : 0;
}
