/* domus-vmm: the monitor of one domain.
 *
 * Started by xl (one process per guest), it creates the KVM VM, loads the
 * kernel for a PVH boot, serves the guest's hypercalls and its console, and
 * exits when the domain ends.  Its exit status tells xl why:
 *   0 powered off, 2 rebooted, 3 crashed, 1 failed. */
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
#include "domus/log.h"
#include "vcpu.h"
#include "vm.h"
#include "xen/xen_abi.h"

struct options {
	const char *name, *kernel, *ramdisk, *cmdline;
	const char *console_log, *console_socket;
	uint64_t memory_mib;
	int vcpus, console_stdio;
	uint32_t domid;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: domus-vmm --kernel FILE [--ramdisk FILE] [--cmdline TEXT] [--memory MiB]\n"
		   "                 [--vcpus N] [--name NAME] [--domid N] [--console-log FILE]\n"
		   "                 [--console-socket PATH] [--console-stdio] [-v]\n"
		   "exit status: 0 powered off, 2 rebooted, 3 crashed, 1 failed\n");
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
		{ "console-socket", required_argument, NULL, 's' },
		{ "console-stdio", no_argument, NULL, 'S' },    { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },             { 0 },
	};
	uint64_t v;
	int c;

	*o = (struct options){ .name = "domU", .memory_mib = 512, .vcpus = 1, .domid = 1, .cmdline = "" };
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o->kernel = optarg; break;
		case 'r': o->ramdisk = optarg; break;
		case 'c': o->cmdline = optarg; break;
		case 'N': o->name = optarg; break;
		case 'l': o->console_log = optarg; break;
		case 's': o->console_socket = optarg; break;
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

/* XENMEM_memory_map answers with the map the guest got at boot. */
static void remember_memmap(struct vm *vm, uint32_t start_info_gpa)
{
	struct hvm_start_info *si = gmem_ptr(&vm->mem, start_info_gpa, sizeof(*si));
	struct hvm_memmap_table_entry *e;

	if (!si || !si->memmap_entries)
		return;
	e = gmem_ptr(&vm->mem, si->memmap_paddr, (uint64_t)si->memmap_entries * sizeof(*e));
	for (uint32_t i = 0; e && i < si->memmap_entries && vm->nr_memmap < 16; i++) {
		vm->memmap[vm->nr_memmap].addr = e[i].addr;
		vm->memmap[vm->nr_memmap].size = e[i].size;
		vm->memmap[vm->nr_memmap].type = e[i].type;
		vm->nr_memmap++;
	}
}

static int boot(struct vm *vm, const struct options *o)
{
	struct kernel_info ki;
	struct pvh_params pp = { .cmdline = o->cmdline, .initrd_path = o->ramdisk, .nvcpus = (unsigned)o->vcpus };
	uint32_t start_info;
	char err[256];
	int rc;

	rc = kernel_load(o->kernel, &vm->mem, &ki, err, sizeof(err));
	if (rc == 0) {
		pp.kernel_end = ki.load_high;
		rc = pvh_setup(&vm->mem, &pp, &start_info, err, sizeof(err));
	}
	if (rc < 0) {
		log_err(o->name, "%s", err);
		return rc;
	}
	remember_memmap(vm, start_info);
	log_debug(o->name, "%s kernel, PVH entry %#x, start info at %#x", ki.format, ki.entry, start_info);
	return vcpu_set_pvh_entry(vm, 0, ki.entry, start_info);
}

static const char *const exit_words[] = {
	[VM_POWEROFF] = "powered off", [VM_REBOOT] = "rebooted", [VM_CRASH] = "crashed", [VM_ERROR] = "failed",
};

int main(int argc, char **argv)
{
	struct options o;
	struct vm vm = { 0 };
	struct console con = { .kick_fd = -1, .log_fd = -1, .out_fd = -1, .in_fd = -1, .listen_fd = -1,
			       .client_fd = -1, .stop_fd = -1 };
	struct vcpu_thread_arg *targs = NULL;
	uint64_t v;
	int rc, status = 1;

	log_init(argv[0], LOG_INFO, NULL);
	if (parse_options(argc, argv, &o) < 0)
		return 1;
	vm.name = o.name;
	vm.domid = o.domid;
	rc = vm_create(&vm, o.memory_mib << 20, o.vcpus);
	if (rc == -ENOTSUP) {
		log_err(o.name, "/dev/kvm cannot run Xen guests here (no KVM_CAP_XEN_HVM with hypercall "
				"interception): run domus in the lab (lab/lab run -- ...)");
		goto out;
	} else if (rc == -ENOMEM || rc == -ENOSPC) {
		log_err(o.name, "cannot get %llu MiB of memory for the guest: %s",
			(unsigned long long)o.memory_mib, strerror(-rc));
		goto out;
	} else if (rc < 0) {
		log_err(o.name, "creating the VM failed: %s", strerror(-rc));
		goto out;
	}
	rc = console_init(&con, &vm, o.console_log, o.console_socket, o.console_stdio);
	if (rc < 0) {
		log_err(o.name, "console: %s", strerror(-rc));
		goto out;
	}
	/* No xenstored connection yet: a STORE_PFN of 0 tells xenbus to stay off
	 * rather than wait for a store that never answers. */
	vm.hvm_params[HVM_PARAM_STORE_PFN] = 0;
	if (boot(&vm, &o) < 0)
		goto out;
	targs = calloc((size_t)o.vcpus, sizeof(*targs));
	if (!targs || console_start(&con) < 0 || vcpu_start_threads(&vm, targs) < 0) {
		log_err(o.name, "cannot start the domain's threads");
		vm_request_exit(&vm, VM_ERROR);
	}
	if (read(vm.exit_eventfd, &v, sizeof(v)) < 0)
		log_err(o.name, "waiting for the domain: %s", strerror(errno));
	vcpu_join_threads(&vm);
	rc = atomic_load(&vm.exit_reason);
	log_info(o.name, "domain %s", rc >= VM_POWEROFF && rc <= VM_ERROR ? exit_words[rc] : "ended");
	status = rc == VM_POWEROFF ? 0 : rc == VM_REBOOT ? 2 : rc == VM_CRASH ? 3 : 1;
out:
	console_stop(&con);
	free(targs);
	vm_destroy(&vm);
	return status;
}
