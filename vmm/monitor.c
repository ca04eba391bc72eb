/* The monitor's table of parts (monitor.h).  A new part is a row here;
 * a device that comes and goes is a dev_add() (dev.h) instead. */
#include "monitor.h"
#include "vbd_dev.h"
#include "vif_dev.h"
#include "xenbus/vbd.h"
#include "xenbus/vif.h"
#include "xenbus/xb_xs.h"
#include "blk/qsd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "boot/kernel.h"
#include "boot/pvh.h"
#include "console.h"
#include "domus/stream.h"
#include "domus/vmm_exit.h"
#include "evloop.h"
#include "vcpu.h"
#include "xen/xen_abi.h"
#include "sandbox.h"
#include "saverestore.h"
#include "xenstate_bind.h"

/* Calls queued at once on the loop: the console's output flush takes one. */
#define LOOP_CALL_SLOTS 256

/* SIGHUP (logrotate's postrotate, as for xenconsoled) reopens the console
 * log on the loop thread, which owns it.  The signal is blocked here, the
 * first part, before any thread exists, so every thread inherits the mask
 * and only the signalfd takes it (children unblock it: blk/qsd.c).  Before
 * this part a SIGHUP ended domus-vmm.  xl's supervisor ignores SIGHUP and
 * that disposition survives the exec; a blocked signal is queued all the
 * same (kernel/signal.c sig_ignored(): "Blocked signals are never
 * ignored"), so the signalfd still sees it. */
static int signals_init(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;
	sigset_t set;
	int rc;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	rc = -pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (rc == 0) {
		m->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
		if (m->sig_fd < 0)
			rc = -errno;
	}
	return rc;
}

static void on_signal(void *ctx, int fd, uint32_t events)
{
	struct monitor *m = ctx;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP && m->vm.console && console_reopen_log(m->vm.console) == 0)
			log_info(m->opt.name, "SIGHUP: console log reopened");
	}
}

/* Before the loop's own start: the registration is done on this thread. */
static int signals_start(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;

	return evl_add_fd(m->loop, m->sig_fd, EPOLLIN, on_signal, m, &m->sig_src);
}

/* After the loop stopped (the part below), so done on this thread. */
static void signals_quiesce(void *ctx)
{
	struct monitor *m = ctx;

	evl_del(m->loop, m->sig_src);
	m->sig_src = NULL;
}

static void signals_stop(void *ctx)
{
	struct monitor *m = ctx;

	close(m->sig_fd);
	m->sig_fd = -1;
}

/* The event loop comes first: every later part may register with it
 * during its whole life, and it stops (running what was queued) only after
 * they have all quiesced. */
static int loop_init(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;

	return evl_create(&m->loop, LOOP_CALL_SLOTS);
}

static int loop_start(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;

	return evl_start(m->loop);
}

static void loop_quiesce(void *ctx)
{
	struct monitor *m = ctx;

	evl_stop(m->loop);
}

static void loop_stop(void *ctx)
{
	struct monitor *m = ctx;

	evl_destroy(m->loop);
	m->loop = NULL;
}

static int vm_init(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;
	int rc;

	m->vm.name = m->opt.name;
	m->vm.domid = m->opt.domid;
	rc = vm_create(&m->vm, m->opt.memory_mib << 20, m->opt.vcpus);
	if (rc == -ENOTSUP)
		snprintf(why, wl, "/dev/kvm cannot run Xen guests here (no KVM_CAP_XEN_HVM with hypercall "
				  "interception): run domus in the lab (lab/lab run -- ...)");
	else if (rc == -ENOMEM || rc == -ENOSPC)
		snprintf(why, wl, "cannot get %llu MiB of memory for the guest: %s",
			 (unsigned long long)m->opt.memory_mib, strerror(-rc));
	else if (rc < 0)
		snprintf(why, wl, "creating the VM failed: %s", strerror(-rc));
	if (rc < 0)
		vm_destroy(&m->vm); /* what vm_create got before it failed */
	return rc;
}

static void vm_stop(void *ctx)
{
	struct monitor *m = ctx;

	vm_destroy(&m->vm);
}

/* Event channels, grant table, HVM params, shared_info (docs/vmm-state.md). */
static int xen_save(void *ctx, struct stream_writer *w)
{
	struct monitor *m = ctx;
	struct xenstate x;

	vm_xenstate(&m->vm, &x);
	return xenstate_save(&x, w);
}

static int xen_load(void *ctx, struct stream_reader *r)
{
	struct monitor *m = ctx;
	struct xenstate x;
	int rc;

	vm_xenstate(&m->vm, &x);
	rc = xenstate_load(&x, r);
	return rc < 0 ? rc : vm_xenstate_post_load(&m->vm);
}

/* A restore loads the saved state right after the VM exists: guest memory
 * must be in place before the xenstore ring goes to xenstored (the imported
 * connection goes on from the ring's indexes at once), and the back ends
 * take their ports from the loaded HVM params (evtchn_backend_port). */
static int restore_init(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;
	int rc;

	if (m->opt.restore_fd < 0)
		return 0;
	rc = monitor_restore(m, m->opt.restore_fd, why, wl);
	close(m->opt.restore_fd);
	m->opt.restore_fd = -1;
	return rc;
}

/* Devices: their ops run on the loop thread while it runs. */
static int devs_start_here(void *arg)
{
	return devs_start(arg);
}

static int devs_quiesce_here(void *arg)
{
	struct monitor *m = arg;
	char why[256] = "";
	int rc = devs_quiesce(&m->devs, why, sizeof(why));

	if (rc < 0)
		log_err(m->opt.name, "quiescing the devices: %s", why);
	return 0; /* stopping anyway */
}

/* The disks' back ends (docs/xenbus.md): one xenbus instance each
 * (vbd_dev.c), whose connect goes through the vbd data-path seam
 * (xenbus/vbd.h) to the blkif data path (xenbus/vbd_datapath.c, vmm/blk/). */
static void vbd_env(struct monitor *m, struct vbd_dev_env *e)
{
	*e = (struct vbd_dev_env){ .loop = m->loop, .domid = m->opt.domid, .host = &m->vbd_host,
				   .no_xenstore = m->opt.xenstore_socket && strcmp(m->opt.xenstore_socket, "none") == 0 };
}

static void disks_stores_stop(struct monitor *m)
{
	for (size_t i = 0; m->qsd && i < m->opt.n_disks; i++)
		qsd_stop(m->qsd[i]);
	free(m->qsd);
	m->qsd = NULL;
}

/* qcow2 and vhd disks: QEMU's block layer exports each as a raw file in
 * the run dir, which the vbd's data path serves as any raw image
 * (docs/blkback.md "qcow2 and vhd").  Started here, before any back end
 * runs, so that a corrupt image fails the create with QEMU's own words.
 * They run as long as the monitor: across a save that goes on; a restored
 * domain's new monitor starts its own. */
static int disks_stores_start(struct monitor *m, char *why, size_t wl)
{
	char name[32], qwhy[200];
	int rc = 0;

	m->qsd = calloc(m->opt.n_disks ? m->opt.n_disks : 1, sizeof(*m->qsd));
	if (!m->qsd)
		return -ENOMEM;
	for (size_t i = 0; rc == 0 && i < m->opt.n_disks; i++) {
		struct vbd_cfg *c = &m->opt.disks[i];
		struct qsd_cfg qc = { .image = c->path, .format = c->format, .readonly = !c->readwrite || c->cdrom,
				      .dir = m->opt.run_dir, .name = name };

		if (strcmp(c->format, "qcow2") != 0 && strcmp(c->format, "vhd") != 0)
			continue;
		if (!m->opt.run_dir) {
			snprintf(why, wl, "disk %u (%s): a %s image needs a run directory (--run-dir)", c->devid, c->path,
				 c->format);
			rc = -EINVAL;
			break;
		}
		snprintf(name, sizeof(name), "qsd-%u", c->devid);
		rc = qsd_start(&qc, &m->qsd[i], qwhy, sizeof(qwhy));
		if (rc < 0)
			snprintf(why, wl, "disk %u (%s): %s", c->devid, c->path, qwhy);
		else
			snprintf(c->store, sizeof(c->store), "%s", qsd_path(m->qsd[i]));
	}
	if (rc < 0)
		disks_stores_stop(m);
	return rc;
}

/* libxenstore's socket for the back ends: XENSTORED_PATH, or the one
 * beside the guest socket we were given (xenstored's layout), as xl's is.
 * Set before any thread but main runs, for the disks given now and those
 * plugged later. */
static void backend_xenstore_env(struct monitor *m)
{
	char buf[256];

	if (!getenv("XENSTORED_PATH") && m->opt.xenstore_socket && strcmp(m->opt.xenstore_socket, "none") != 0) {
		const char *g = m->opt.xenstore_socket, *slash = strrchr(g, '/');

		snprintf(buf, sizeof(buf), "%.*s/socket", slash ? (int)(slash - g) : 1, slash ? g : ".");
		setenv("XENSTORED_PATH", buf, 1);
	}
}

/* The network interfaces' back ends (docs/netback.md): one xenbus
 * instance each (vif_dev.c), whose TAP device exists from here on (the
 * hotplug script puts it on its bridge after InitWait) and whose connect
 * goes through the vif data-path seam (xenbus/vif.h) to vmm/net/. */
static void vif_env(struct monitor *m, struct vif_dev_env *e)
{
	*e = (struct vif_dev_env){ .loop = m->loop, .domid = m->opt.domid, .host = &m->vif_host,
				   .no_xenstore = m->opt.xenstore_socket && strcmp(m->opt.xenstore_socket, "none") == 0 };
}

static int nics_init(struct monitor *m, char *why, size_t wl)
{
	struct vif_dev_env env;
	int rc = 0;

	vif_host_vm(&m->vif_host, &m->vm, m->loop);
	vif_env(m, &env);
	for (size_t i = 0; rc == 0 && i < m->opt.n_nics; i++) {
		const struct vif_cfg *c = &m->opt.nics[i];
		uint32_t id = xb_xs_rec_id("vif", c->devid);
		struct xb_xs *x;

		rc = vif_dev_create(&env, c, &x, why, wl);
		if (rc < 0)
			return rc;
		for (size_t j = 0; rc == 0 && j < m->n_xb_saved; j++) {
			struct xb_saved_rec *sr = &m->xb_saved[j];

			if (!sr->data || xb_xs_rec_devid(sr->data) != id)
				continue;
			rc = xb_xs_load_rec(x, sr->data, sr->len);
			free(sr->data);
			sr->data = NULL;
			if (rc < 0)
				xb_xs_free(x);
		}
		if (rc == 0)
			rc = dev_add(&m->devs, &vif_dev_ops, c->devid, x);
		if (rc < 0)
			snprintf(why, wl, "network interface %u (%s): cannot set up its back end%s: %s", c->devid,
				 c->ifname, rc == -EINVAL ? " from the save file" : "", strerror(-rc));
	}
	return rc;
}

static int disks_init(struct monitor *m, char *why, size_t wl)
{
	struct vbd_dev_env env;
	int rc = 0;

	backend_xenstore_env(m);
	rc = disks_stores_start(m, why, wl);
	if (rc < 0)
		return rc;
	vbd_host_vm(&m->vbd_host, &m->vm, m->loop);
	vbd_env(m, &env);
	for (size_t i = 0; rc == 0 && i < m->opt.n_disks; i++) {
		const struct vbd_cfg *c = &m->opt.disks[i];
		struct xb_xs *x;

		rc = vbd_dev_create(&env, c, &x, why, wl);
		/* A restore: the saved xenbus state and rings, so that the back
		 * end takes the rings back without a handshake. */
		for (size_t j = 0; rc == 0 && j < m->n_xb_saved; j++) {
			struct xb_saved_rec *sr = &m->xb_saved[j];

			if (!sr->data || xb_xs_rec_devid(sr->data) != c->devid)
				continue;
			rc = xb_xs_load_rec(x, sr->data, sr->len);
			free(sr->data);
			sr->data = NULL;
			if (rc < 0) {
				xb_xs_free(x);
				snprintf(why, wl, "disk %u (%s): cannot set up its back end from the save file: %s",
					 c->devid, c->path, strerror(-rc));
			}
		}
		if (rc == 0) {
			rc = dev_add(&m->devs, &vbd_dev_ops, c->devid, x);
			if (rc < 0)
				snprintf(why, wl, "disk %u (%s): cannot set up its back end: %s", c->devid, c->path,
					 strerror(-rc));
		}
	}
	if (rc == 0)
		rc = nics_init(m, why, wl);
	/* A saved back end whose device the configuration lost. */
	for (size_t j = 0; rc == 0 && j < m->n_xb_saved; j++) {
		if (m->xb_saved[j].data) {
			uint32_t id = xb_xs_rec_devid(m->xb_saved[j].data);

			snprintf(why, wl, "the save file has the back end of %s %u, the configuration has no such %s",
				 id & XB_XS_REC_VIF ? "network interface" : "disk", id & ~XB_XS_REC_VIF,
				 id & XB_XS_REC_VIF ? "interface" : "disk");
			rc = -ENOENT;
		}
	}
	monitor_free_xb_saved(m);
	if (rc < 0)
		disks_stores_stop(m);
	return rc;
}

/* Devices plugged at run time (hotplug.h): one row per kind, its argument
 * that of the kind's command-line option. */
static int hp_vbd_create(void *ctx, const char *arg, const struct dev_ops **ops, void **inst, char *why, size_t wl)
{
	struct vbd_dev_env env;

	vbd_env(ctx, &env);
	return vbd_dev_create_arg(&env, arg, ops, inst, why, wl);
}

static int hp_vif_create(void *ctx, const char *arg, const struct dev_ops **ops, void **inst, char *why, size_t wl)
{
	struct vif_dev_env env;

	vif_env(ctx, &env);
	return vif_dev_create_arg(&env, arg, ops, inst, why, wl);
}

static const struct hotplug_kind hotplug_kinds[] = {
	{ .kind = "vbd", .option = "--disk", .parse_id = vbd_dev_parse_id, .create = hp_vbd_create },
	{ .kind = "vif", .option = "--nic", .parse_id = vif_dev_parse_id, .create = hp_vif_create },
};

void monitor_free_xb_saved(struct monitor *m)
{
	for (size_t j = 0; j < m->n_xb_saved; j++)
		free(m->xb_saved[j].data);
	free(m->xb_saved);
	m->xb_saved = NULL;
	m->n_xb_saved = 0;
}

static int devices_init(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;
	struct console_cfg cc = { .log_path = m->opt.console_log, .log_max = m->opt.console_log_max,
				  .stdio = m->opt.console_stdio };
	struct console *con;
	char path[256];
	int rc;

	if (m->opt.run_dir) {
		snprintf(path, sizeof(path), "%s/console", m->opt.run_dir);
		cc.socket_path = path;
	}
	rc = console_create(&m->vm, m->loop, &cc, &con);
	if (rc == 0)
		rc = dev_add(&m->devs, &console_dev_ops, 0, con);
	if (rc < 0) {
		snprintf(why, wl, "console: %s", strerror(-rc));
		return rc;
	}
	return disks_init(m, why, wl);
}

static int devices_start(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;

	return evl_sync(m->loop, devs_start_here, &m->devs);
}

static void devices_quiesce(void *ctx)
{
	struct monitor *m = ctx;

	evl_sync(m->loop, devs_quiesce_here, m);
}

static void devices_stop(void *ctx)
{
	struct monitor *m = ctx;

	m->vm.ending = true;
	devs_stop(&m->devs);
	/* after the back ends closed their views */
	disks_stores_stop(m);
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

static int xenstore_init(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;
	char buf[256];
	const char *xsock = m->opt.xenstore_socket ? m->opt.xenstore_socket : default_xenstore_socket(buf, sizeof(buf));
	int rc;

	if (strcmp(xsock, "none") == 0) {
		/* A STORE_PFN of 0 keeps xenbus off instead of waiting forever. */
		m->vm.hvm_params[HVM_PARAM_STORE_PFN] = 0;
		return 0;
	}
	rc = xs_link_attach(&m->xs, &m->vm, m->loop, xsock);
	if (rc < 0)
		xs_link_stop(&m->xs);
	if (rc < 0)
		snprintf(why, wl, "cannot hand the xenstore ring to xenstored at %s: %s", xsock, strerror(-rc));
	return rc;
}

/* xenstored is back (xs_link.c): the back ends' own connections died
 * with the old daemon. */
static void xenstore_reattached(void *ctx)
{
	struct monitor *m = ctx;

	if (devs_reconnect(&m->devs) < 0)
		log_err(m->vm.name, "a back end could not watch xenstore again: its device will not follow the guest's changes");
}

static int xenstore_start(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;

	m->xs.on_reattach = xenstore_reattached;
	m->xs.reattach_ctx = m;
	return m->xs.kick_in >= 0 ? xs_link_start(&m->xs) : 0;
}

static void xenstore_quiesce(void *ctx)
{
	struct monitor *m = ctx;

	xs_link_quiesce(&m->xs);
}

static void xenstore_stop(void *ctx)
{
	struct monitor *m = ctx;

	xs_link_stop(&m->xs);
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

static int boot_init(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;
	struct kernel_info ki;
	struct pvh_params pp = { .cmdline = m->opt.cmdline, .initrd_path = m->opt.ramdisk,
				 .nvcpus = (unsigned)m->opt.vcpus };
	uint32_t start_info;
	int rc;

	if (m->vm.restored)
		return 0; /* the grant entries and the vCPUs' state came with the stream */
	seed_grants(&m->vm, m->xs.sock >= 0);
	rc = kernel_load(m->opt.kernel, &m->vm.mem, &ki, why, wl);
	if (rc == 0) {
		pp.kernel_end = ki.load_high;
		rc = pvh_setup(&m->vm.mem, &pp, &start_info, why, wl);
	}
	if (rc < 0)
		return rc;
	log_debug(m->opt.name, "%s kernel, PVH entry %#x, start info at %#x", ki.format, ki.entry, start_info);
	return vcpu_set_pvh_entry(&m->vm, 0, ki.entry, start_info);
}

static int control_save(void *ctx, int fd, char *why, size_t wl)
{
	return monitor_save(ctx, fd, why, wl);
}

static int control_part_init(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;
	char path[256];
	int rc;

	if (!m->opt.run_dir)
		return 0;
	snprintf(path, sizeof(path), "%s/control", m->opt.run_dir);
	rc = control_init(&m->ctl, &m->vm, m->loop, path, m->opt.uuid);
	m->ctl.save = control_save;
	m->ctl.save_ctx = m;
	m->hotplug = (struct hotplug){ .devs = &m->devs, .kinds = hotplug_kinds,
				       .n = sizeof(hotplug_kinds) / sizeof(hotplug_kinds[0]), .ctx = m };
	m->ctl.hotplug = &m->hotplug;
	if (rc < 0)
		control_stop(&m->ctl);
	if (rc < 0)
		snprintf(why, wl, "control socket %s: %s", path, strerror(-rc));
	return rc;
}

static int control_part_start(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;

	return control_start(&m->ctl);
}

static void control_part_quiesce(void *ctx)
{
	struct monitor *m = ctx;

	control_quiesce(&m->ctl);
}

static void control_part_stop(void *ctx)
{
	struct monitor *m = ctx;

	control_stop(&m->ctl);
}

/* Last: the guest runs only once everything it may talk to serves. */
static int vcpus_init(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;

	/* With --sandbox the vCPU threads wait parked until each has its
	 * filter (the sandbox part); --paused keeps them so after. */
	m->vm.paused = m->opt.paused || m->opt.sandbox;
	m->targs = calloc((size_t)m->opt.vcpus, sizeof(*m->targs));
	return m->targs ? 0 : -ENOMEM;
}

static int vcpus_start(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;
	int rc = vcpu_start_threads(&m->vm, m->targs);

	if (rc < 0)
		snprintf(why, wl, "cannot start the domain's threads");
	return rc;
}

/* The vCPU threads end (they have already if the domain ended), so the
 * back ends see no new work from the guest while they quiesce. */
static void vcpus_quiesce(void *ctx)
{
	struct monitor *m = ctx;

	vm_request_exit(&m->vm, VM_ERROR);
	vcpu_join_threads(&m->vm);
}

static void vcpus_stop(void *ctx)
{
	struct monitor *m = ctx;

	free(m->targs);
	m->targs = NULL;
}

/* --sandbox (docs/sandbox.md): every part has started, the guest has not
 * run (vcpus_init parked the vCPU threads).  Each thread installs its own
 * role's filter, the main thread last (sandbox_threads); then the guest
 * may run, unless --paused. */
static int sandbox_part_start(void *ctx, char *why, size_t wl)
{
	struct monitor *m = ctx;
	enum sandbox_mode mode;
	int rc;

	if (!m->opt.sandbox)
		return 0;
	mode = (enum sandbox_mode)(m->opt.sandbox - 1);
	rc = sandbox_threads(&m->vm, m->loop, mode, why, wl);
	if (rc < 0)
		return rc;
	log_info(m->opt.name, "sandboxed: main, event loop and %d vCPU threads under their seccomp allowlists%s",
		 m->vm.nr_vcpus, mode == SANDBOX_LOG ? " (log only: calls outside them are logged by the kernel, not refused)" : "");
	if (!m->opt.paused)
		vm_pause(&m->vm, false);
	return 0;
}

const struct part monitor_parts[] = {
	{ .name = "signals", .init = signals_init, .start = signals_start, .quiesce = signals_quiesce,
	  .stop = signals_stop },
	{ .name = "event loop", .init = loop_init, .start = loop_start, .quiesce = loop_quiesce, .stop = loop_stop },
	{ .name = "vm", .init = vm_init, .stop = vm_stop },
	{ .name = "restore", .init = restore_init },
	{ .name = "xen state", .save = xen_save, .load = xen_load },
	{ .name = "devices", .init = devices_init, .start = devices_start, .quiesce = devices_quiesce,
	  .stop = devices_stop },
	{ .name = "xenstore link", .init = xenstore_init, .start = xenstore_start, .quiesce = xenstore_quiesce,
	  .stop = xenstore_stop },
	{ .name = "boot", .init = boot_init },
	{ .name = "control socket", .init = control_part_init, .start = control_part_start,
	  .quiesce = control_part_quiesce, .stop = control_part_stop },
	{ .name = "vcpus", .init = vcpus_init, .start = vcpus_start, .quiesce = vcpus_quiesce, .stop = vcpus_stop },
	{ .name = "sandbox", .start = sandbox_part_start },
};
const size_t monitor_nparts = sizeof(monitor_parts) / sizeof(monitor_parts[0]);

static const int exit_status[] = {
	[VM_POWEROFF] = VMM_EXIT_POWEROFF, [VM_REBOOT] = VMM_EXIT_REBOOT, [VM_CRASH] = VMM_EXIT_CRASH,
	[VM_ERROR] = VMM_EXIT_FAILED,	   [VM_DESTROYED] = VMM_EXIT_DESTROYED,
};

int monitor_wait(struct monitor *m)
{
	uint64_t v;
	int why;

	while (read(m->vm.exit_eventfd, &v, sizeof(v)) < 0) {
		if (errno != EINTR) {
			log_err(m->opt.name, "waiting for the domain: %s", strerror(errno));
			break;
		}
	}
	why = atomic_load(&m->vm.exit_reason);
	if (why < VM_POWEROFF || why > VM_DESTROYED)
		return VMM_EXIT_FAILED;
	log_info(m->opt.name, "domain %s", vmm_exit_word(exit_status[why]));
	return exit_status[why];
}
