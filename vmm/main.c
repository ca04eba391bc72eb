/* domus-vmm: the monitor of one domain.
 *
 * Started by xl (one process per guest), it creates the KVM VM, loads the
 * kernel for a PVH boot, serves the guest's hypercalls and its console, and
 * exits when the domain ends.  Its exit status tells xl why
 * (domus/vmm_exit.h): 0 powered off, 2 rebooted, 3 crashed, 4 destroyed,
 * 1 failed. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conlog.h"
#include "domus/log.h"
#include "domus/vmm_exit.h"
#include "monitor.h"
#include "sandbox.h"
#include "xenbus/vbd.h"
#include "xenbus/vif.h"
#include "xen/xen_abi.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: domus-vmm --kernel FILE [--ramdisk FILE] [--cmdline TEXT] [--memory MiB]\n"
		   "                 [--vcpus N] [--name NAME] [--domid N] [--uuid UUID] [--console-log FILE]\n"
		   "                 [--console-log-max SIZE] [--run-dir DIR] [--xenstore-socket PATH|none] [--console-stdio]\n"
		   "                 [--paused] [--ready-fd FD] [--restore-fd FD] [--sandbox[=log]] [-v]\n"
		   "                 [--disk DEVID,KIND,FORMAT,MODE,DEVTYPE,PATH]... [--nic DEVID,IFNAME]...\n"
		   "       (--disk: a xenbus block back end; KIND vbd or qdisk, FORMAT raw, qcow2, vhd or\n"
		   "        empty, MODE r or w, DEVTYPE disk or cdrom, PATH the rest: docs/xenbus.md)\n"
		   "       (--nic: a xenbus network back end on a TAP device IFNAME that domus-vmm\n"
		   "        creates: docs/netback.md)\n"
		   "       (--restore-fd: load the saved state from FD, at its first monitor record,\n"
		   "        instead of booting --kernel)\n"
		   "       (--sandbox: once set up, every thread runs under a seccomp allowlist\n"
		   "        of its role; a call outside it ends the monitor; =log: the kernel logs\n"
		   "        it and it runs: docs/sandbox.md)\n"
		   "       (--console-log-max: the console log's cap, bytes or with K, M or G; past it\n"
		   "        the log becomes FILE.1 and a new one starts; 0: none; default 16M or\n"
		   "        $DOMUS_CONSOLE_LOG_MAX; SIGHUP reopens the log: docs/domains.md)\n"
		   "exit status: 0 powered off, 2 rebooted, 3 crashed, 4 destroyed, 1 failed\n");
}

static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		log_err(NULL, "--%s: \"%s\" is not a number from %llu to %llu", opt, s, (unsigned long long)min,
			(unsigned long long)max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },     { "ramdisk", required_argument, NULL, 'r' },
		{ "cmdline", required_argument, NULL, 'c' },    { "memory", required_argument, NULL, 'm' },
		{ "vcpus", required_argument, NULL, 'n' },      { "name", required_argument, NULL, 'N' },
		{ "domid", required_argument, NULL, 'd' },      { "console-log", required_argument, NULL, 'l' },
		{ "run-dir", required_argument, NULL, 's' },
		{ "xenstore-socket", required_argument, NULL, 'x' }, { "uuid", required_argument, NULL, 'u' },
		{ "paused", no_argument, NULL, 'p' },           { "ready-fd", required_argument, NULL, 'R' },
		{ "console-stdio", no_argument, NULL, 'S' },    { "restore-fd", required_argument, NULL, 'F' },    { "verbose", no_argument, NULL, 'v' },
		{ "disk", required_argument, NULL, 'D' },       { "nic", required_argument, NULL, 'I' },
		{ "console-log-max", required_argument, NULL, 'L' }, { "sandbox", optional_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },             { 0 },
	};
	const char *env = getenv("DOMUS_CONSOLE_LOG_MAX");
	uint64_t v;
	int c;

	*o = (struct options){ .name = "domU", .memory_mib = 512, .vcpus = 1, .domid = 1, .cmdline = "",
			       .ready_fd = -1, .restore_fd = -1, .console_log_max = CONLOG_MAX_DEFAULT };
	if (env && *env && conlog_parse_size(env, &o->console_log_max) < 0) {
		log_err(NULL, "DOMUS_CONSOLE_LOG_MAX: \"%s\" is not 0 nor a size from 4096 bytes (K, M, G)", env);
		return -EINVAL;
	}
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case 'r': o->ramdisk = optarg; break;
		case 'c': o->cmdline = optarg; break;
		case 'N': o->name = optarg; break;
		case 'l': o->console_log = optarg; break;
		case 'L':
			if (conlog_parse_size(optarg, &o->console_log_max) < 0) {
				log_err(NULL, "--console-log-max: \"%s\" is not 0 nor a size from 4096 bytes (K, M, G)",
					optarg);
				return -EINVAL;
			}
			break;
		case 's': o->run_dir = optarg; break;
		case 'x': o->xenstore_socket = optarg; break;
		case 'u': o->uuid = optarg; break;
		case 'p': o->paused = 1; break;
		case 'R':
			if (parse_u64("ready-fd", optarg, 3, 1 << 20, &v) < 0)
				return -EINVAL;
			o->ready_fd = (int)v;
			break;
		case 'S': o->console_stdio = 1; break;
		case 'X':
			if (optarg && strcmp(optarg, "log") != 0) {
				log_err(NULL, "--sandbox=%s: only --sandbox or --sandbox=log", optarg);
				return -EINVAL;
			}
			o->sandbox = 1 + (optarg ? SANDBOX_LOG : SANDBOX_KILL);
			break;
		case 'F':
			if (parse_u64("restore-fd", optarg, 3, 1 << 20, &v) < 0)
				return -EINVAL;
			o->restore_fd = (int)v;
			break;
		case 'D': {
			char why[512];
			struct vbd_cfg *d = realloc(o->disks, (o->n_disks + 1) * sizeof(*d));

			if (!d)
				return -ENOMEM;
			o->disks = d;
			if (vbd_parse_arg(optarg, &d[o->n_disks], why, sizeof(why)) < 0) {
				log_err(NULL, "%s", why);
				return -EINVAL;
			}
			for (size_t i = 0; i < o->n_disks; i++) {
				if (d[i].devid == d[o->n_disks].devid) {
					log_err(NULL, "--disk %s: device %u given twice", optarg, d[i].devid);
					return -EINVAL;
				}
			}
			o->n_disks++;
			break;
		}
		case 'I': {
			char why[512];
			struct vif_cfg *n = realloc(o->nics, (o->n_nics + 1) * sizeof(*n));

			if (!n)
				return -ENOMEM;
			o->nics = n;
			if (vif_parse_arg(optarg, &n[o->n_nics], why, sizeof(why)) < 0) {
				log_err(NULL, "%s", why);
				return -EINVAL;
			}
			for (size_t i = 0; i < o->n_nics; i++) {
				if (n[i].devid == n[o->n_nics].devid) {
					log_err(NULL, "--nic %s: device %u given twice", optarg, n[i].devid);
					return -EINVAL;
				}
				if (!strcmp(n[i].ifname, n[o->n_nics].ifname)) {
					log_err(NULL, "--nic %s: interface %s given twice", optarg, n[i].ifname);
					return -EINVAL;
				}
			}
			o->n_nics++;
			break;
		}
		case 'v': log_set_level(LOG_DEBUG); break;
		case 'm':
			if (parse_u64("memory", optarg, 16, 1 << 20, &o->memory_mib) < 0)
				return -EINVAL;
			break;
		case 'n':
			if (parse_u64("vcpus", optarg, 1, VMM_MAX_VCPUS, &v) < 0)
				return -EINVAL;
			o->vcpus = (int)v;
			break;
		case 'd':
			if (parse_u64("domid", optarg, 1, DOMID_FIRST_RESERVED - 1, &v) < 0)
				return -EINVAL;
			o->domid = (uint32_t)v;
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind != argc || (!o->kernel && o->restore_fd < 0)) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static void report_ready(int fd, const char *msg)
{
	if (fd < 0)
		return;
	(void)!write(fd, msg, strlen(msg));
	close(fd);
}

/* Parse the options, then walk the table of parts (monitor.c): init and
 * start in order, run until the domain ends, quiesce and stop in reverse. */
int main(int argc, char **argv)
{
	static struct monitor m = MONITOR_INIT;
	struct parts p;
	char why[512] = "", msg[540];
	int status = VMM_EXIT_FAILED;

	log_init(argv[0], LOG_INFO, NULL);
	if (parse_options(argc, argv, &m.opt) < 0)
		return 1;
	parts_bind(&p, monitor_parts, monitor_nparts, &m);
	if (parts_init(&p, why, sizeof(why)) == 0 && parts_start(&p, why, sizeof(why)) == 0) {
		report_ready(m.opt.ready_fd, "ok\n");
		status = monitor_wait(&m);
	} else {
		log_err(m.opt.name, "%s", why);
		snprintf(msg, sizeof(msg), "error %s\n", why);
		report_ready(m.opt.ready_fd, msg);
	}
	parts_stop(&p);
	free(m.opt.disks);
	free(m.opt.nics);
	monitor_free_xb_saved(&m);
	return status;
}
