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

#include "boot/kernel.h"
#include "boot/pvh.h"
#include "console.h"
#include "control.h"
#include "xs_link.h"
#include "domus/log.h"
#include "domus/vmm_exit.h"
#include "vcpu.h"
#include "vm.h"
#include "xen/xen_abi.h"

struct options {
	const char *name, *kernel, *ramdisk, *cmdline, *uuid;
	const char *console_log, *run_dir, *xenstore_socket;
	uint64_t memory_mib;
	int vcpus, console_stdio, paused, ready_fd;
	uint32_t domid;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: domus-vmm --kernel FILE [--ramdisk FILE] [--cmdline TEXT] [--memory MiB]\n"
		   "                 [--vcpus N] [--name NAME] [--domid N] [--uuid UUID] [--console-log FILE]\n"
		   "                 [--run-dir DIR] [--xenstore-socket PATH|none] [--console-stdio]\n"
		   "                 [--paused] [--ready-fd FD] [-v]\n"
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
		{ "console-stdio", no_argument, NULL, 'S' },    { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },             { 0 },
	};
	uint64_t v;
	int c;

	*o = (struct options){ .name = "domU", .memory_mib = 512, .vcpus = 1, .domid = 1, .cmdline = "",
			       .ready_fd = -1 };
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case 'r': o->ramdisk = optarg; break;
		case 'c': o->cmdline = optarg; break;
		case 'N': o->name = optarg; break;
		case 'l': o->console_log = optarg; break;
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
	if (optind != argc || !o->kernel) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int boot(struct vm *vm, const struct options *o, char *err, size_t errlen)
{
	struct kernel_info ki;
	struct pvh_params pp = { .cmdline = o->cmdline, .initrd_path = o->ramdisk, .nvcpus = (unsigned)o->vcpus };
	uint32_t start_info;
	int rc;

	rc = kernel_load(o->kernel, &vm->mem, &ki, err, errlen);
	if (rc == 0) {
		pp.kernel_end = ki.load_high;
		rc = pvh_setup(&vm->mem, &pp, &start_info, err, errlen);
	}
	if (rc < 0)
		return rc;
	log_debug(o->name, "%s kernel, PVH entry %#x, start info at %#x", ki.format, ki.entry, start_info);
	return vcpu_set_pvh_entry(vm, 0, ki.entry, start_info);
}

/* The xenstored guest socket: beside the daemon's own socket (xenstored's
 * default), which XENSTORED_PATH moves as it moves every client. */
static const char *default_xenstore_socket(char *buf, size_t len)
{
	const char *p = getenv("XENSTORED_PATH");
	const char *slash;

	if (!p)
		return "/run/xenstored/guest";
	slash = strrchr(p, '/');
	snprintf(buf, len, "%.*s/guest", slash ? (int)(slash - p) : 1, slash ? p : ".");
	return buf;
}

/* Grant refs 0 and 1 name the console and xenstore pages, as the toolstack
 * seeds them (xen-guest-abi.md §5 "Reserved refs"). */
static void seed_grants(struct vm *vm, int have_store)
{
	grant_entry_v1_t *g = (grant_entry_v1_t *)vm->grant_frames;

	g[GNTTAB_RESERVED_CONSOLE] = (grant_entry_v1_t){ .flags = GTF_permit_access, .domid = 0,
							  .frame = LAYOUT_CONSOLE_PFN };
	if (have_store)
		g[GNTTAB_RESERVED_XENSTORE] = (grant_entry_v1_t){ .flags = GTF_permit_access, .domid = 0,
								   .frame = LAYOUT_XENSTORE_PFN };
}

static void report_ready(int fd, const char *msg)
{
	if (fd < 0)
		return;
	(void)!write(fd, msg, strlen(msg));
	close(fd);
}

static const int exit_status[] = {
	[VM_POWEROFF] = VMM_EXIT_POWEROFF, [VM_REBOOT] = VMM_EXIT_REBOOT, [VM_CRASH] = VMM_EXIT_CRASH,
	[VM_ERROR] = VMM_EXIT_FAILED,	   [VM_DESTROYED] = VMM_EXIT_DESTROYED,
};

int main(int argc, char **argv)
{
	struct options o;
	struct vm vm = { 0 };
	struct console con = { .kick_fd = -1, .log_fd = -1, .out_fd = -1, .in_fd = -1, .listen_fd = -1,
			       .client_fd = -1, .w = WORKER_INIT };
	struct xs_link xs = { .sock = -1, .kick_in = -1, .kick_out = -1, .w = WORKER_INIT };
	struct control ctl = { .listen_fd = -1, .w = WORKER_INIT };
	struct vcpu_thread_arg *targs = NULL;
	char err[512] = "", path[256], con_path[256], xsbuf[256];
	const char *xsock;
	uint64_t v;
	int rc, status = VMM_EXIT_FAILED;

	log_init(argv[0], LOG_INFO, NULL);
	if (parse_options(argc, argv, &o) < 0)
		return 1;
	vm.name = o.name;
	vm.domid = o.domid;
	rc = vm_create(&vm, o.memory_mib << 20, o.vcpus);
	if (rc == -ENOTSUP) {
		snprintf(err, sizeof(err), "/dev/kvm cannot run Xen guests here (no KVM_CAP_XEN_HVM with hypercall "
					   "interception): run domus in the lab (lab/lab run -- ...)");
		goto out;
	} else if (rc == -ENOMEM || rc == -ENOSPC) {
		snprintf(err, sizeof(err), "cannot get %llu MiB of memory for the guest: %s",
			 (unsigned long long)o.memory_mib, strerror(-rc));
		goto out;
	} else if (rc < 0) {
		snprintf(err, sizeof(err), "creating the VM failed: %s", strerror(-rc));
		goto out;
	}
	if (o.run_dir)
		snprintf(con_path, sizeof(con_path), "%s/console", o.run_dir);
	rc = console_init(&con, &vm, o.console_log, o.run_dir ? con_path : NULL, o.console_stdio);
	if (rc < 0) {
		snprintf(err, sizeof(err), "console: %s", strerror(-rc));
		goto out;
	}
	xsock = o.xenstore_socket ? o.xenstore_socket : default_xenstore_socket(xsbuf, sizeof(xsbuf));
	if (strcmp(xsock, "none") != 0) {
		rc = xs_link_attach(&xs, &vm, xsock);
		if (rc < 0) {
			snprintf(err, sizeof(err), "cannot hand the xenstore ring to xenstored at %s: %s", xsock,
				 strerror(-rc));
			goto out;
		}
	} else {
		/* A STORE_PFN of 0 keeps xenbus off instead of waiting forever. */
		vm.hvm_params[HVM_PARAM_STORE_PFN] = 0;
	}
	seed_grants(&vm, strcmp(xsock, "none") != 0);
	rc = boot(&vm, &o, err, sizeof(err));
	if (rc < 0)
		goto out;
	if (o.run_dir) {
		snprintf(path, sizeof(path), "%s/control", o.run_dir);
		rc = control_init(&ctl, &vm, path, o.uuid);
		if (rc < 0 || control_start(&ctl) < 0) {
			snprintf(err, sizeof(err), "control socket %s: %s", path, strerror(rc < 0 ? -rc : EAGAIN));
			goto out;
		}
	}
	vm.paused = o.paused;
	targs = calloc((size_t)o.vcpus, sizeof(*targs));
	if (!targs || console_start(&con) < 0 || (xs.sock >= 0 && xs_link_start(&xs) < 0) ||
	    vcpu_start_threads(&vm, targs) < 0) {
		snprintf(err, sizeof(err), "cannot start the domain's threads");
		vm_request_exit(&vm, VM_ERROR);
		vcpu_join_threads(&vm);
		goto out;
	}
	report_ready(o.ready_fd, "ok\n");
	o.ready_fd = -1;
	if (read(vm.exit_eventfd, &v, sizeof(v)) < 0)
		log_err(o.name, "waiting for the domain: %s", strerror(errno));
	vcpu_join_threads(&vm);
	rc = atomic_load(&vm.exit_reason);
	if (rc >= VM_POWEROFF && rc <= VM_DESTROYED) {
		status = exit_status[rc];
		log_info(o.name, "domain %s", vmm_exit_word(status));
	}
out:
	if (err[0]) {
		char msg[540];

		log_err(o.name, "%s", err);
		snprintf(msg, sizeof(msg), "error %s\n", err);
		report_ready(o.ready_fd, msg);
	}
	control_stop(&ctl);
	xs_link_stop(&xs);
	console_stop(&con);
	free(targs);
	vm_destroy(&vm);
	return status;
}
