/* One vbd or vif back end (vmm/xenbus/xb_xs.c) on a real xenstored, driven
 * line by line from stdin by xenbus-xs.sh and xenbus-vif-xs.sh, with a data
 * path that maps nothing:
 *   wait <state>     until the backend's own state is <state> (10 s)
 *   save             quiesce, save the XENBUS record, free the instance
 *   load             a new instance loads it and starts (a restore)
 *   removed          until the state machine removed the device (10 s)
 *   quit
 * Each command answers one line: "ok ..." or "fail ...".
 * With DOMUS_SANDBOX=1 the loop thread runs under the monitor's loop role
 * (vmm/sandbox.h) once started, as in domus-vmm --sandbox: libxenstore's
 * calls (watches, its reader thread, transactions, xs_close) under it.
 * Usage: xb-drive DOMID DEVID [vif] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev.h"
#include "domus/log.h"
#include "domus/stream.h"
#include "evloop.h"
#include "sandbox.h"
#include "xenbus/vbd.h"
#include "xenbus/vif.h"
#include "xenbus/xb_xs.h"

/* The data path: refuses ring-ref 0 (as a grant that does not map). */
void vbd_datapath_limits(struct vbd_limits *lim)
{
	*lim = (struct vbd_limits){ .max_queues = 2, .max_ring_page_order = 1 };
}

int vbd_datapath_connect(void *host, const struct vbd_cfg *cfg, const struct vbd_front *fe,
			 const struct vbd_pos *pos, void **dp, struct vbd_disk_info *info, char *why, size_t wl)
{
	static int token;

	(void)host;
	(void)cfg;
	if (fe->rings[0].ref[0] == 0) {
		snprintf(why, wl, "cannot map ring-ref 0");
		return -EINVAL;
	}
	fprintf(stderr, "xb-drive: connect ring-ref %u%s\n", fe->rings[0].ref[0], pos ? " resumed" : "");
	*dp = &token;
	*info = (struct vbd_disk_info){ .sectors = 4096, .flush_cache = true };
	return 0;
}

int vbd_datapath_quiesce(void *dp)
{
	(void)dp;
	return 0;
}

int vbd_datapath_resume(void *dp, char *why, size_t wl)
{
	(void)dp;
	(void)why;
	(void)wl;
	return 0;
}

int vbd_datapath_save(void *dp, struct vbd_pos pos[VBD_MAX_QUEUES])
{
	(void)dp;
	pos[0] = (struct vbd_pos){ 42, 42 };
	return 0;
}

void vbd_datapath_disconnect(void *dp)
{
	(void)dp;
}

/* The vif's: no TAP device; refuses tx-ring-ref 0. */
void vif_datapath_limits(struct vif_limits *lim)
{
	*lim = (struct vif_limits){ .max_queues = 2 };
}

int vif_datapath_open(void *host, const struct vif_cfg *cfg, void **tap, char *why, size_t wl)
{
	static int token;

	(void)host;
	(void)cfg;
	(void)why;
	(void)wl;
	*tap = &token;
	return 0;
}

void vif_datapath_close(void *tap)
{
	(void)tap;
}

int vif_datapath_connect(void *host, void *tap, const struct vif_cfg *cfg, const struct vif_front *fe,
			 const struct vif_back *back, const struct vif_pos *pos, void **dp, char *why, size_t wl)
{
	static int token;

	(void)host;
	(void)tap;
	(void)cfg;
	(void)back;
	if (fe->q[0].tx_ref == 0) {
		snprintf(why, wl, "mapping shared-frames 0/%u port tx %u rx %u", fe->q[0].rx_ref, fe->q[0].evtchn_tx,
			 fe->q[0].evtchn_rx);
		return -EINVAL;
	}
	fprintf(stderr, "xb-drive: connect tx-ring-ref %u rx-ring-ref %u evtchn %u/%u%s\n", fe->q[0].tx_ref,
		fe->q[0].rx_ref, fe->q[0].evtchn_tx, fe->q[0].evtchn_rx, pos ? " resumed" : "");
	*dp = &token;
	return 0;
}

int vif_datapath_quiesce(void *dp)
{
	(void)dp;
	return 0;
}

int vif_datapath_resume(void *dp, char *why, size_t wl)
{
	(void)dp;
	(void)why;
	(void)wl;
	return 0;
}

int vif_datapath_save(void *dp, struct vif_pos pos[VIF_MAX_QUEUES])
{
	(void)dp;
	pos[0] = (struct vif_pos){ 42, 42, 77, 77 };
	return 0;
}

void vif_datapath_disconnect(void *dp)
{
	(void)dp;
}

static const struct dev_ops vbd_ops = XB_XS_DEV_OPS("vbd");
static const struct dev_ops vif_ops = XB_XS_DEV_OPS("vif");

struct drive {
	struct evl *loop;
	struct devices devs;
	uint32_t domid, devid;
	bool vif;
	struct stream_writer w;
};

static int start_here(void *arg)
{
	return devs_start(&((struct drive *)arg)->devs);
}

static int sandbox_here(void *arg)
{
	return sandbox_install(SANDBOX_LOOP);
}

static int quiesce_here(void *arg)
{
	return devs_quiesce(&((struct drive *)arg)->devs, NULL, 0);
}

static int save_here(void *arg)
{
	struct drive *d = arg;

	stream_writer_init_mem(&d->w);
	return devs_save(&d->devs, &d->w);
}

static int stop_here(void *arg)
{
	devs_stop(&((struct drive *)arg)->devs);
	return 0;
}

static int state_here(void *arg)
{
	struct drive *d = arg;
	struct xb_xs *x = dev_find(&d->devs, d->vif ? "vif" : "vbd", d->devid);
	const struct xb_backend *b = x ? xb_xs_core(x) : NULL;

	return !b ? -ENOENT : b->removed ? 100 : (int)b->state;
}

static int add_vif(struct drive *d)
{
	char arg[64], why[256];
	struct vif_cfg c;
	struct vif *v;
	struct xb_xs *x;
	int rc;

	snprintf(arg, sizeof(arg), "%u,vif%u.%u", d->devid, d->domid, d->devid);
	rc = vif_parse_arg(arg, &c, why, sizeof(why));
	if (rc == 0)
		rc = vif_new(NULL, &c, &v, why, sizeof(why));
	if (rc == 0)
		rc = xb_xs_create(d->loop, "vif", d->domid, d->devid, &vif_xb_ops, v, (void (*)(void *))vif_free, &x);
	if (rc == 0)
		rc = dev_add(&d->devs, &vif_ops, d->devid, x);
	return rc;
}

static int add(struct drive *d)
{
	char arg[64], why[256];
	struct vbd_cfg c;
	struct vbd *v;
	struct xb_xs *x;
	int rc;

	if (d->vif)
		return add_vif(d);
	snprintf(arg, sizeof(arg), "%u,vbd,raw,w,disk,/dev/null", d->devid);
	rc = vbd_parse_arg(arg, &c, why, sizeof(why));
	if (rc == 0)
		rc = vbd_new(NULL, &c, &v);
	if (rc == 0)
		rc = xb_xs_create(d->loop, "vbd", d->domid, d->devid, &vbd_xb_ops, v, (void (*)(void *))vbd_free, &x);
	if (rc == 0)
		rc = dev_add(&d->devs, &vbd_ops, d->devid, x);
	return rc;
}

static int wait_state(struct drive *d, int want)
{
	for (int i = 0; i < 200; i++) {
		int s = evl_sync(d->loop, state_here, d);
		if (s == want)
			return 0;
		usleep(50 * 1000);
	}
	return -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	struct drive d = { 0 };
	char line[128];
	int rc;

	if (argc != 3 && !(argc == 4 && strcmp(argv[3], "vif") == 0))
		return 2;
	d.vif = argc == 4;
	log_init("xb-drive", LOG_INFO, stderr);
	d.domid = (uint32_t)atoi(argv[1]);
	d.devid = (uint32_t)atoi(argv[2]);
	if (evl_create(&d.loop, 64) < 0 || add(&d) < 0 || evl_start(d.loop) < 0 ||
	    evl_sync(d.loop, start_here, &d) < 0 ||
	    (getenv("DOMUS_SANDBOX") && strcmp(getenv("DOMUS_SANDBOX"), "1") == 0 &&
	     evl_sync(d.loop, sandbox_here, NULL) < 0)) {
		printf("fail start\n");
		return 1;
	}
	printf("ok started\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		int n;

		if (sscanf(line, "wait %d", &n) == 1) {
			rc = wait_state(&d, n);
			printf(rc == 0 ? "ok state %d\n" : "fail state is %d, not %d\n",
			       rc == 0 ? n : evl_sync(d.loop, state_here, &d), n);
		} else if (strcmp(line, "removed\n") == 0) {
			rc = wait_state(&d, 100);
			printf(rc == 0 ? "ok removed\n" : "fail not removed\n");
		} else if (strcmp(line, "save\n") == 0) {
			evl_sync(d.loop, quiesce_here, &d);
			rc = evl_sync(d.loop, save_here, &d);
			evl_sync(d.loop, stop_here, &d);
			printf(rc == 0 ? "ok save\n" : "fail save %d\n", rc);
		} else if (strcmp(line, "load\n") == 0) {
			struct stream_reader r;

			rc = add(&d);
			if (rc == 0) {
				stream_reader_init_mem(&r, d.w.buf, d.w.len);
				rc = devs_load(&d.devs, &r);
				stream_reader_fini(&r);
			}
			if (rc == 0)
				rc = evl_sync(d.loop, start_here, &d);
			stream_writer_fini(&d.w);
			printf(rc == 0 ? "ok load\n" : "fail load %d\n", rc);
		} else if (strcmp(line, "quit\n") == 0) {
			break;
		} else {
			printf("fail unknown command\n");
		}
		fflush(stdout);
	}
	evl_sync(d.loop, stop_here, &d);
	evl_stop(d.loop);
	evl_destroy(d.loop);
	return 0;
}
