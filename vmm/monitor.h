/* The monitor of one domain as a table of parts (part.h,
 * docs/vmm-parts.md): main() parses the options into a struct monitor and
 * walks monitor_parts[]; every part finds what it needs here. */
#ifndef DOMUS_VMM_MONITOR_H
#define DOMUS_VMM_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "control.h"
#include "dev.h"
#include "hotplug.h"
#include "part.h"
#include "vm.h"
#include "xenbus/vbd_datapath.h"
#include "xenbus/vif_datapath.h"
#include "xs_link.h"

struct options {
	const char *name, *kernel, *ramdisk, *cmdline, *uuid;
	const char *console_log, *run_dir, *xenstore_socket;
	uint64_t memory_mib;
	uint64_t console_log_max; /* --console-log-max, DOMUS_CONSOLE_LOG_MAX (vmm/conlog.h) */
	int vcpus, console_stdio, paused, ready_fd;
	int sandbox; /* --sandbox[=log]: each thread under its seccomp role once set up; 0 none,
		      * else 1 + enum sandbox_mode (docs/sandbox.md) */
	int restore_fd; /* -1: boot the kernel; else load the saved state from it */
	uint32_t domid;
	struct vbd_cfg *disks; /* --disk, docs/xenbus.md */
	size_t n_disks;
	struct vif_cfg *nics; /* --nic, docs/netback.md */
	size_t n_nics;
};

struct evl;
struct evl_src;
struct vcpu_thread_arg;
struct vbd_cfg;
struct vif_cfg;

struct monitor {
	struct options opt;
	struct evl *loop;
	int sig_fd;               /* SIGHUP (signals part) */
	struct evl_src *sig_src;
	struct vm vm;
	struct devices devs; /* on the loop thread while it runs */
	struct hotplug hotplug; /* device_add and device_remove on devs */
	struct xs_link xs;
	struct control ctl;
	struct vcpu_thread_arg *targs;
	struct vbd_host vbd_host; /* the disks' data paths: vm's grants and ports, the loop */
	struct vif_host vif_host; /* the network interfaces': the same and TAP devices */
	/* One qemu-storage-daemon per qcow2/vhd disk (opt.disks' order, NULL
	 * for the others): started by the devices part's init on the main
	 * thread, whose end they die with (vmm/blk/qsd.h), ended by its stop. */
	struct qsd **qsd;
	/* A restore's XENBUS records, until the devices part gives them to
	 * the disks' back ends (docs/xenbus.md). */
	struct xb_saved_rec {
		uint8_t *data;
		uint32_t len;
	} *xb_saved;
	size_t n_xb_saved;
};

#define MONITOR_INIT { .xs = XS_LINK_INIT, .ctl = CONTROL_INIT }

/* Frees what a restore kept of the XENBUS records. */
void monitor_free_xb_saved(struct monitor *m);

extern const struct part monitor_parts[];
extern const size_t monitor_nparts;

/* Waits until the domain ends (started monitor) and returns the exit status
 * for xl (domus/vmm_exit.h). */
int monitor_wait(struct monitor *m);

#endif
