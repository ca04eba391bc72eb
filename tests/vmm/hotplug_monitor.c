/* hotplug-monitor RUN_DIR DOMID NAME START: fake-monitor's fake domain
 * (info, pause, unpause, destroy) plus the monitor's real hot-plug of
 * disks and network interfaces: vmm/hotplug.c's table with the vbd row of
 * vmm/vbd_dev.c and the vif row of vmm/vif_dev.c, each device a xenbus
 * back end (vmm/xenbus/xb_xs.c) on xenstored (XENSTORED_PATH) run on an
 * event loop, as domus-vmm runs them.  Only the data paths are fake: the
 * blkif one maps nothing and reports a 2 MiB disk; the netif one makes
 * the vif's TAP device for real (vmm/net/tap.c: CAP_NET_ADMIN) and maps
 * nothing.  So that xl block-* and network-* can be run without KVM.
 * HOTPLUG_REFUSE=DEVID makes the vbd row refuse that disk, as a monitor
 * that cannot open it would; HOTPLUG_MUTE=DEVID gives that disk a back
 * end that never answers (no InitWait).  DOMUS_SANDBOX=1 serves the
 * control socket from a thread under the sandbox's loop role
 * (vmm/sandbox.h), the event loop under it too, as domus-vmm --sandbox
 * runs both: a hot-plug's calls (the back end's xenstore handle, the TAP
 * device, its MAC) under the filter. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "domus/log.h"
#include "evloop.h"
#include "fake_domain.h"
#include "hotplug.h"
#include "net/tap.h"
#include "sandbox.h"
#include "vbd_dev.h"
#include "vif_dev.h"
#include "xenbus/vbd.h"
#include "xenbus/vif.h"

void vbd_datapath_limits(struct vbd_limits *lim)
{
	*lim = (struct vbd_limits){ .max_queues = 1, .max_ring_page_order = 4, .max_indirect_segs = 256 };
}

int vbd_datapath_connect(void *host, const struct vbd_cfg *cfg, const struct vbd_front *fe,
			 const struct vbd_pos *pos, void **dp, struct vbd_disk_info *info, char *why, size_t wl)
{
	static int token;

	*dp = &token;
	*info = (struct vbd_disk_info){ .sectors = 4096, .sector_size = 512, .physical_sector_size = 512,
					.flush_cache = cfg->readwrite };
	return 0;
}

int vbd_datapath_quiesce(void *dp)
{
	return 0;
}

int vbd_datapath_resume(void *dp, char *why, size_t wl)
{
	return 0;
}

int vbd_datapath_save(void *dp, struct vbd_pos pos[VBD_MAX_QUEUES])
{
	pos[0] = (struct vbd_pos){ 0, 0 };
	return 0;
}

void vbd_datapath_disconnect(void *dp)
{
}

/* The vif's data path: the TAP for real, the rings not. */
void vif_datapath_limits(struct vif_limits *lim)
{
	*lim = (struct vif_limits){ .max_queues = 1 };
}

int vif_datapath_open(void *host, const struct vif_cfg *cfg, void **tap, char *why, size_t wl)
{
	int *fd = malloc(sizeof(*fd));
	int rc = fd ? tap_open(cfg->ifname, 0, fd, why, wl) : -ENOMEM;

	if (rc < 0) {
		free(fd);
		return rc;
	}
	*tap = fd;
	return 0;
}

void vif_datapath_close(void *tap)
{
	int *fd = tap;

	if (fd)
		close(*fd);
	free(fd);
}

int vif_datapath_connect(void *host, void *tap, const struct vif_cfg *cfg, const struct vif_front *fe,
			 const struct vif_back *back, const struct vif_pos *pos, void **dp, char *why, size_t wl)
{
	static int token;

	*dp = &token;
	return 0;
}

int vif_datapath_quiesce(void *dp)
{
	return 0;
}

int vif_datapath_resume(void *dp, char *why, size_t wl)
{
	return 0;
}

int vif_datapath_save(void *dp, struct vif_pos pos[VIF_MAX_QUEUES])
{
	pos[0] = (struct vif_pos){ 0 };
	return 0;
}

void vif_datapath_disconnect(void *dp)
{
}

struct hp_monitor {
	struct fake_domain dom;
	struct evl *loop;
	struct devices devs;
	struct hotplug hp;
	struct vbd_dev_env env;
	struct vif_dev_env vif_env;
	long refuse, mute;
};

static void mute_stop(void *inst)
{
	free(inst);
}

static const struct dev_ops mute_ops = { .kind = "vbd", .stop = mute_stop };

static int hp_vbd_create(void *ctx, const char *arg, const struct dev_ops **ops, void **inst, char *why, size_t wl)
{
	struct hp_monitor *m = ctx;
	unsigned id;

	if (vbd_dev_parse_id(arg, &id, why, wl) == 0 && (long)id == m->refuse) {
		snprintf(why, wl, "disk %u: cannot open it (HOTPLUG_REFUSE)", id);
		return -EACCES;
	}
	if ((long)id == m->mute) {
		*ops = &mute_ops;
		*inst = malloc(1);
		return *inst ? 0 : -ENOMEM;
	}
	return vbd_dev_create_arg(&m->env, arg, ops, inst, why, wl);
}

static int hp_vif_create(void *ctx, const char *arg, const struct dev_ops **ops, void **inst, char *why, size_t wl)
{
	struct hp_monitor *m = ctx;

	return vif_dev_create_arg(&m->vif_env, arg, ops, inst, why, wl);
}

static const struct hotplug_kind kinds[] = {
	{ .kind = "vbd", .option = "--disk", .parse_id = vbd_dev_parse_id, .create = hp_vbd_create },
	{ .kind = "vif", .option = "--nic", .parse_id = vif_dev_parse_id, .create = hp_vif_create },
};

/* The control server runs on main; the device table on the loop, as in
 * the monitor, where the control requests are served on the loop. */
struct call {
	struct hp_monitor *m;
	struct ctl_msg *req, *rep;
	char *why;
	size_t wl;
	control_op_fn *fn;
};

static int on_loop(void *arg)
{
	struct call *c = arg;

	return c->fn(&c->m->hp, c->req, c->rep, c->why, c->wl);
}

static int via_loop(struct hp_monitor *m, control_op_fn *fn, struct ctl_msg *req, struct ctl_msg *rep, char *why,
		    size_t wl)
{
	struct call c = { m, req, rep, why, wl, fn };

	return evl_sync(m->loop, on_loop, &c);
}

static int op_add(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	return via_loop(ctx, hotplug_op_add, req, rep, why, wl);
}

static int op_remove(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	return via_loop(ctx, hotplug_op_remove, req, rep, why, wl);
}

static int op_dom(void *ctx, struct ctl_msg *req, struct ctl_msg *rep, char *why, size_t wl)
{
	struct hp_monitor *m = ctx;

	return fake_domain_ops.fn[req->hdr.type](&m->dom, req, rep, why, wl);
}

static control_op_fn *const fns[CTL_TYPE_END] = {
	[CTL_INFO] = op_dom,	      [CTL_PAUSE] = op_dom,	     [CTL_UNPAUSE] = op_dom, [CTL_DESTROY] = op_dom,
	[CTL_DEVICE_ADD] = op_add, [CTL_DEVICE_REMOVE] = op_remove,
};
static const struct control_ops ops = { fns, CTL_TYPE_END };

static int start_here(void *arg)
{
	return devs_start(arg);
}

static int stop_here(void *arg)
{
	devs_stop(arg);
	return 0;
}

struct serve {
	struct hp_monitor *m;
	int lfd;
	bool sandbox;
	int rc;
};

static void *serve(void *arg)
{
	struct serve *sv = arg;

	if (sv->sandbox && (sv->rc = sandbox_install(SANDBOX_LOOP)) < 0)
		return NULL;
	while (!sv->m->dom.destroyed) {
		int fd = accept4(sv->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			continue;
		control_serve(fd, &ops, sv->m, -1, 2000);
		close(fd);
	}
	return NULL;
}

static int sandbox_here(void *arg)
{
	return sandbox_install(SANDBOX_LOOP);
}

int main(int argc, char **argv)
{
	static struct hp_monitor m;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path) - sizeof("/control")];
	const char *refuse = getenv("HOTPLUG_REFUSE"), *mute = getenv("HOTPLUG_MUTE");
	const char *sandbox = getenv("DOMUS_SANDBOX");
	struct serve sv;
	int lfd;

	log_init(argv[0], LOG_INFO, NULL);
	if (argc != 5) {
		fprintf(stderr, "usage: hotplug-monitor RUN_DIR DOMID NAME START\n");
		return 2;
	}
	fake_domain_init(&m.dom, (uint32_t)strtoul(argv[2], NULL, 10), argv[3], strtoll(argv[4], NULL, 10));
	m.refuse = refuse ? strtol(refuse, NULL, 10) : -1;
	m.mute = mute ? strtol(mute, NULL, 10) : -1;
	if (evl_create(&m.loop, 64) < 0 || evl_start(m.loop) < 0) {
		log_err(NULL, "event loop: %s", strerror(errno));
		return 1;
	}
	m.env = (struct vbd_dev_env){ .loop = m.loop, .domid = m.dom.info.domid };
	m.vif_env = (struct vif_dev_env){ .loop = m.loop, .domid = m.dom.info.domid };
	m.hp = (struct hotplug){ .devs = &m.devs, .kinds = kinds, .n = sizeof(kinds) / sizeof(kinds[0]), .ctx = &m };
	evl_sync(m.loop, start_here, &m.devs);
	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", argv[1], argv[2]) >= sizeof(dir)) {
		log_err(NULL, "%s: run directory path too long", argv[1]);
		return 1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control", dir);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (mkdir(dir, 0700) < 0 || lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 8) < 0) {
		log_err(NULL, "%s: %s", sa.sun_path, strerror(errno));
		return 1;
	}
	sv = (struct serve){ .m = &m, .lfd = lfd, .sandbox = sandbox && strcmp(sandbox, "1") == 0 };
	if (sv.sandbox) {
		pthread_t t;

		if (evl_sync(m.loop, sandbox_here, NULL) < 0 || pthread_create(&t, NULL, serve, &sv) != 0) {
			log_err(NULL, "sandbox: cannot start");
			return 1;
		}
		pthread_join(t, NULL);
		if (sv.rc < 0)
			return 1;
	} else {
		serve(&sv);
	}
	evl_sync(m.loop, stop_here, &m.devs);
	evl_stop(m.loop);
	evl_destroy(m.loop);
	unlink(sa.sun_path);
	/* what the supervisor would remove */
	char cfg[sizeof(dir) + 16];
	snprintf(cfg, sizeof(cfg), "%s/config", dir);
	unlink(cfg);
	rmdir(dir);
	return 0;
}
