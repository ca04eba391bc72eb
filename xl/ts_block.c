/* xl block-attach, block-detach and block-list on a running domain, as
 * Xen 4.17's xl prints them (tools/xl/xl_block.c) over what libxl does
 * (tools/libs/light/libxl_disk.c, libxl_device.c):
 *
 * attach (libxl_device_disk_add): the target checked as at create, the
 * monitor told first (device_add with --disk's argument: its back end
 * watches for the directory), then the frontend, backend and /libxl nodes
 * in one transaction, then the wait for the back end's InitWait
 * (libxl__wait_device_connection, LIBXL_INIT_TIMEOUT 10 s); a failure at
 * any step undoes the ones before: no node and no back end stay.  Then the
 * domain's kept configuration gets the disk (ts_domcfg.c).
 *
 * detach (libxl_device_disk_safe_remove, -f libxl_device_disk_destroy;
 * libxl__initiate_device_generic_remove): in one transaction `online` 0
 * and the backend's `state` 5 unless it is 6 (-f removes the frontend's
 * directory first), then the wait for the backend's state 6 Closed within
 * LIBXL_DESTROY_TIMEOUT (10 s).  A guest that keeps the disk (its frontend
 * does not close) makes a safe remove fail after that, naming the disk,
 * the nodes left as libxl leaves them; -f goes on.  Then the monitor
 * releases the back end (device_remove) and the nodes go
 * (libxl__device_destroy), and the kept configuration loses the disk.
 *
 * One hot-plug at a time per domain: the run directory is flock()ed
 * (ts_device.c, shared with network-attach and -detach). */
#include "ts.h"
#include "xl.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

#define INIT_TIMEOUT_MS (10 * 1000)    /* LIBXL_INIT_TIMEOUT */
#define DESTROY_TIMEOUT_MS TS_DESTROY_TIMEOUT_MS
#define POLL_MS 50

/* A disk still connected (-f) first drains its requests in flight:
 * device_remove waits 30 s. */
static const struct ts_dev_kind vbd_kind = { "vbd", "--disk", 30 * 1000 };

struct disk_nodes {
	const struct domain_config *c;
	uint32_t domid;
	const struct dom_disk *k;
};

static int write_disk(struct xs_handle *xs, uint32_t t, const void *arg)
{
	const struct disk_nodes *n = arg;

	return ts_xs_write_disk(xs, t, n->c, n->domid, n->k);
}

/* libxl__wait_device_connection: the back end says InitWait (or went on
 * to connect the guest meanwhile). */
static int wait_initwait(struct xs_handle *xs, const char *be, int *state)
{
	char path[300];
	long end = ts_now_ms() + INIT_TIMEOUT_MS;

	snprintf(path, sizeof(path), "%s/state", be);
	for (;;) {
		*state = ts_xs_read_int(xs, path);
		if (*state >= XenbusStateInitWait && *state <= XenbusStateConnected)
			return 0;
		if (*state >= XenbusStateClosing)
			return -EIO;
		if (ts_now_ms() >= end)
			return -ETIMEDOUT;
		usleep(POLL_MS * 1000);
	}
}

int ts_block_attach(struct xl_ctx *x, const char *dom, const struct dom_disk *k, const char *spec)
{
	struct domain_config c, one;
	struct ts_dev_op op;
	char arg[4400], be[160];
	const char *kind;
	int rc, state = -1;

	domcfg_init(&c);
	if (ts_dev_begin(&op, "block-attach", &vbd_kind, dom) < 0)
		return 1;
	snprintf(op.name, sizeof(op.name), "disk %s", k->vdev);
	/* The domain's type (a pv guest's frontend gets `protocol`) and its
	 * disks, from what xl keeps of it. */
	rc = ts_domcfg_read(x, op.d.domid, &c);
	if (rc < 0) {
		snprintf(op.err, sizeof(op.err), "cannot read the configuration xl keeps of domain %u: %s", op.d.domid,
			 strerror(-rc));
		goto out;
	}
	for (size_t i = 0; i < c.n_disks; i++) {
		if (c.disks[i].devid == k->devid) {
			snprintf(op.err, sizeof(op.err), "domain %s has a disk %s (%d) already", op.d.name,
				 c.disks[i].vdev, k->devid);
			rc = -EEXIST;
			goto out;
		}
	}
	/* The same checks as at create, on this one disk. */
	one = (struct domain_config){ .type = c.type, .disks = (struct dom_disk *)k, .n_disks = 1 };
	rc = ts_disk_check(&one, NULL);
	if (rc < 0)
		goto out; /* printed */
	kind = ts_disk_kind(k);
	if (k->format != DISK_FORMAT_RAW)
		fprintf(stderr, "xl: warning: disk %s: only raw files and block devices are supported by domus yet, "
				"the guest will not see it\n", k->vdev);
	rc = ts_disk_vmm_arg(k, arg, sizeof(arg));
	if (rc < 0 || !kind) {
		snprintf(op.err, sizeof(op.err), "disk %s: no back end fits it", k->vdev);
		rc = -EINVAL;
		goto out;
	}
	snprintf(be, sizeof(be), "/local/domain/0/backend/%s/%u/%d", kind, op.d.domid, k->devid);
	rc = ts_dev_open_xs(&op);
	if (rc == 0)
		rc = ts_dev_plug(&op, arg);
	if (rc < 0)
		goto out;
	rc = ts_dev_write_nodes(&op, write_disk, &(struct disk_nodes){ &c, op.d.domid, k });
	if (rc == -EEXIST)
		snprintf(op.err, sizeof(op.err), "domain %s has a disk %s (%d) in xenstore already", op.d.name, k->vdev,
			 k->devid);
	if (rc < 0)
		goto out;
	rc = wait_initwait(op.xs, be, &state);
	if (rc < 0) {
		snprintf(op.err, sizeof(op.err), "the back end of disk %s %s (%s/state %d)", k->vdev,
			 rc == -ETIMEDOUT ? "did not reach InitWait within 10 s" : "failed", be, state);
		goto out;
	}
	ts_domcfg_add_disk(op.d.domid, spec);
out:
	if (rc < 0 && op.written)
		ts_xs_remove_disk(op.xs, op.d.domid, k->devid, be);
	if (rc < 0)
		ts_dev_unplug(&op, k->devid);
	domcfg_dispose(&c);
	return ts_dev_end(&op, rc, "libxl_device_disk_add failed.");
}

/* libxl_vdev_to_device_disk(): the names libxl numbers, and a plain number
 * (libxl__device_disk_dev_number with no disk/partition asked). */
static int vdev_devid(const char *vdev)
{
	char *end;
	unsigned long v;
	int devid = dom_vdev_to_devid(vdev, NULL, NULL);

	if (devid >= 0)
		return devid;
	errno = 0;
	v = strtoul(vdev, &end, 0);
	if (*vdev && !errno && !*end && v <= INT32_MAX && vdev[0] != '-')
		return (int)v;
	return -EINVAL;
}

int ts_block_detach(const char *dom, const char *vdev, bool force)
{
	struct ts_dev_op op;
	char path[200], fe[160], *be = NULL;
	int devid = vdev_devid(vdev), rc = 0, state = -1;
	unsigned len;

	if (ts_dev_begin(&op, "block-detach", &vbd_kind, dom) < 0)
		return 1;
	snprintf(op.name, sizeof(op.name), "disk %s", vdev);
	/* xl_block.c main_blockdetach: this line and no other */
	if (devid < 0) {
		fprintf(stderr, "Error: Device %s not connected.\n", vdev);
		return ts_dev_end(&op, -ENODEV, NULL);
	}
	rc = ts_dev_open_xs(&op);
	if (rc < 0)
		goto out;
	snprintf(path, sizeof(path), "/libxl/%u/device/vbd/%d/backend", op.d.domid, devid);
	be = xs_read(op.xs, XBT_NULL, path, &len);
	if (!be || strncmp(be, "/local/domain/", 14) != 0) {
		fprintf(stderr, "Error: Device %s not connected.\n", vdev);
		free(be);
		return ts_dev_end(&op, -ENODEV, NULL);
	}
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/%d", op.d.domid, devid);
	rc = ts_dev_start_remove(op.xs, fe, be, force);
	if (rc == 0)
		rc = ts_dev_wait_closed(op.xs, be, DESTROY_TIMEOUT_MS, &state);
	if (rc == -ETIMEDOUT && !force) {
		snprintf(path, sizeof(path), "%s/state", fe);
		fprintf(stderr, "xl: block-detach: domain %s: disk %s (%d) did not close within %d s (backend state %d, "
				"frontend state %d): the guest still uses it; xl block-detach -f removes it anyway\n",
			op.d.name, vdev, devid, DESTROY_TIMEOUT_MS / 1000, state, ts_xs_read_int(op.xs, path));
		goto out;
	}
	if (rc < 0 && rc != -ETIMEDOUT) {
		fprintf(stderr, "xl: block-detach: domain %s: disk %s: %s\n", op.d.name, vdev, strerror(-rc));
		goto out;
	}
	/* Closed (or forced): the back end lets go, the nodes go. */
	ts_dev_release(&op, devid);
	ts_xs_remove_disk(op.xs, op.d.domid, devid, be);
	ts_domcfg_remove_disk(op.d.domid, devid);
	rc = 0;
out:
	free(be);
	return ts_dev_end(&op, rc, force ? "libxl_device_disk_destroy failed." : "libxl_device_disk_safe_remove failed.");
}

int ts_block_list(int argc, char **argv)
{
	struct xs_handle *xs = NULL;

	printf("%-5s %-3s %-6s %-5s %-6s %-8s %-30s\n", "Vdev", "BE", "handle", "state", "evt-ch", "ring-ref",
	       "BE-path");
	for (int a = 0; a < argc; a++) {
		char path[300], **ids;
		unsigned n = 0;
		uint32_t domid;

		if (ts_dom_qualifier(argv[a], &domid) < 0) {
			fprintf(stderr, "%s is an invalid domain identifier\n", argv[a]);
			continue;
		}
		if (!xs && !(xs = ts_xs_open())) {
			fprintf(stderr, "xl: block-list: cannot connect to xenstored\n");
			return 1;
		}
		/* libxl_device_disk_list: the /libxl copies, in xenstore's order */
		snprintf(path, sizeof(path), "/libxl/%u/device/vbd", domid);
		ids = xs_directory(xs, XBT_NULL, path, &n);
		for (unsigned i = 0; ids && i < n; i++) {
			char fe[200], *be, *end;
			unsigned len;
			long devid = strtol(ids[i], &end, 10);
			unsigned long beid;

			if (*end || devid < 0)
				continue;
			/* libxl_device_disk_getinfo: no backend, no row */
			snprintf(path, sizeof(path), "/libxl/%u/device/vbd/%ld/backend", domid, devid);
			be = xs_read(xs, XBT_NULL, path, &len);
			if (!be)
				continue;
			if (sscanf(be, "/local/domain/%lu/", &beid) != 1) {
				free(be);
				continue;
			}
			snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/%ld", domid, devid);
			snprintf(path, sizeof(path), "%s/state", fe);
			int st = ts_xs_read_int(xs, path);
			snprintf(path, sizeof(path), "%s/event-channel", fe);
			int evt = ts_xs_read_int(xs, path);
			snprintf(path, sizeof(path), "%s/ring-ref", fe);
			int rref = ts_xs_read_int(xs, path);
			printf("%-5ld %-3lu %-6u %-5d %-6d %-8d %-30s\n", devid, beid, domid, st, evt, rref, be);
			free(be);
		}
		free(ids);
	}
	if (xs)
		xs_close(xs);
	return fflush(stdout) || ferror(stdout) ? 1 : 0;
}

int xl_cmd_block_list(struct xl_ctx *x, int argc, char **argv)
{
	int opt, rc = 0;

	while ((opt = xl_getopt(x, argc, argv, "", NULL, 1, &rc)) != -1)
		if (opt == XL_OPT_EXIT)
			return rc;
	return ts_block_list(argc - optind, argv + optind);
}

int xl_cmd_block_detach(struct xl_ctx *x, int argc, char **argv)
{
	static const struct option lopts[] = { { "force", 0, NULL, 'f' }, { "help", 0, NULL, 'h' }, { 0 } };
	bool force = false;
	int opt, rc = 0;

	while ((opt = xl_getopt(x, argc, argv, "f", lopts, 2, &rc)) != -1) {
		if (opt == XL_OPT_EXIT)
			return rc;
		if (opt == 'f')
			force = true;
	}
	return ts_block_detach(argv[optind], argv[optind + 1], force);
}
