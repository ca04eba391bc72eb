/* Virtual disks for the toolstack: the checks before a domain starts, the
 * xenstore nodes libxl 4.17 writes for each disk= entry, and the form in
 * which domus-vmm is told about them (docs/xenbus.md).
 *
 * The nodes are those of tools/libs/light/libxl_disk.c device_disk_add()
 * and libxl_device.c libxl__device_generic_add():
 *   frontend /local/domain/<domid>/device/vbd/<devid>, owned by the domain,
 *            readable by the backend domain (0);
 *   backend  /local/domain/0/backend/<vbd|qdisk>/<domid>/<devid>, owned by
 *            0, readable by the domain;
 *   a copy of the backend's keys, plus frontend and backend paths, under
 *            /libxl/<domid>/device/vbd/<devid> (inheriting /libxl's n0).
 * The backend kind is libxl__device_disk_set_backend()'s choice: phy for a
 * raw regular file or block device (libxl_linux.c libxl__try_phy_backend),
 * else qdisk (an empty cdrom drive, qcow2, vhd). */
#include "ts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

/* libxl__xen_script_dir_path() of Debian's xen-utils. */
#define XEN_SCRIPT_DIR "/etc/xen/scripts"

/* libxl__device_disk_set_backend(), for a target checked by ts_disk_check(). */
static int choose_backend(const struct dom_disk *k, enum disk_backend *out, char *why, size_t wl)
{
	struct stat st;
	bool phy_ok = false;

	if (k->format == DISK_FORMAT_EMPTY) {
		if (!k->is_cdrom) {
			snprintf(why, wl, "an empty disk must be a cdrom (devtype=cdrom)");
			return -EINVAL;
		}
	} else if (k->format == DISK_FORMAT_RAW) {
		phy_ok = k->script || (stat(k->pdev_path, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)));
	}
	switch (k->backend) {
	case DISK_BACKEND_UNKNOWN:
		*out = phy_ok ? DISK_BACKEND_PHY : DISK_BACKEND_QDISK;
		return 0;
	case DISK_BACKEND_PHY:
		if (!phy_ok) {
			snprintf(why, wl, "backendtype=phy needs a raw file or block device (format %s)",
				 disk_format_name(k->format));
			return -EINVAL;
		}
		*out = DISK_BACKEND_PHY;
		return 0;
	case DISK_BACKEND_QDISK:
		if (k->script) {
			snprintf(why, wl, "backendtype=qdisk does not take script=");
			return -EINVAL;
		}
		*out = DISK_BACKEND_QDISK;
		return 0;
	default:
		snprintf(why, wl, "backendtype=%s is not available (expected phy or qdisk)", disk_backend_name(k->backend));
		return -EINVAL;
	}
}

/* An image named qcow2 or vhd must be one: the header QEMU's drivers read
 * (qcow2: "QFI\xfb" and version 2 or 3, block/qcow2.h; vhd: the "conectix"
 * footer, at the start of a dynamic image or in its last 512 bytes, where
 * block/vpc.c's vpc_open looks for it). */
static int check_format(const struct dom_disk *k, char *why, size_t wl)
{
	unsigned char h[8];
	const char *want = k->format == DISK_FORMAT_QCOW2 ? "qcow2" : "vhd";
	int fd, rc = -EINVAL;
	bool ok = false;
	off_t end;

	if (k->format != DISK_FORMAT_QCOW2 && k->format != DISK_FORMAT_VHD)
		return 0;
	fd = open(k->pdev_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h)) {
		if (k->format == DISK_FORMAT_QCOW2)
			ok = memcmp(h, "QFI\xfb", 4) == 0 && !h[4] && !h[5] && !h[6] && (h[7] == 2 || h[7] == 3);
		else
			ok = memcmp(h, "conectix", 8) == 0;
	}
	if (!ok && k->format == DISK_FORMAT_VHD && (end = lseek(fd, 0, SEEK_END)) >= 512)
		ok = pread(fd, h, sizeof(h), end - 512) == (ssize_t)sizeof(h) && memcmp(h, "conectix", 8) == 0;
	close(fd);
	if (ok)
		return 0;
	snprintf(why, wl, "not a %s image (%s; `qemu-img info %s` tells what it is: a raw image is format=raw)", want,
		 k->format == DISK_FORMAT_QCOW2 ? "no QFI\\xfb header of version 2 or 3" : "no conectix footer",
		 k->pdev_path);
	return rc;
}

const char *ts_disk_kind(const struct dom_disk *k)
{
	enum disk_backend b;
	char why[8];

	if (choose_backend(k, &b, why, sizeof(why)) < 0)
		return NULL;
	return b == DISK_BACKEND_PHY ? "vbd" : "qdisk";
}

int ts_disk_check(const struct domain_config *c, const char *cfg_file)
{
	char why[256];
	enum disk_backend b;
	int rc = 0;

	for (size_t i = 0; i < c->n_disks; i++) {
		const struct dom_disk *k = &c->disks[i];
		const bool empty = k->format == DISK_FORMAT_EMPTY || !k->pdev_path || !*k->pdev_path;
		struct stat st;
		int r = 0;

		why[0] = '\0';
		if (!empty) {
			/* errno of the first failing check */
			if (stat(k->pdev_path, &st) < 0)
				r = -errno;
			else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
				r = -EINVAL, snprintf(why, sizeof(why), "not a regular file or block device");
			else if (access(k->pdev_path, k->readwrite ? R_OK | W_OK : R_OK) < 0)
				r = -errno;
			else
				r = check_format(k, why, sizeof(why));
		}
		if (r == 0)
			r = choose_backend(k, &b, why, sizeof(why));
		if (r < 0) {
			fprintf(stderr, "xl: disk %zu (vdev %s, %s line %u): %s%s%s\n", i, k->vdev ? k->vdev : "?",
				cfg_file ? cfg_file : "command line", k->line, empty ? "" : k->pdev_path,
				empty ? "" : ": ", why[0] ? why : strerror(-r));
			fprintf(stderr, "xl:   a disk's target must be an existing raw, qcow2 or vhd image or block "
					"device that you can read%s, or empty for a cdrom drive "
					"(e.g. 'file:/srv/domU.img,xvda,w')\n",
				k->readwrite ? " and write (access w; use r for read-only)" : "");
			if (rc == 0)
				rc = r;
		}
	}
	return rc;
}

/* libxl__device_disk_string_of_format() */
static const char *params_format(enum disk_format f)
{
	switch (f) {
	case DISK_FORMAT_QCOW: return "qcow";
	case DISK_FORMAT_QCOW2: return "qcow2";
	case DISK_FORMAT_VHD: return "vhd";
	case DISK_FORMAT_QED: return "qed";
	default: return "aio"; /* raw and empty */
	}
}

int ts_disk_vmm_arg(const struct dom_disk *k, char *buf, size_t len)
{
	const char *kind = ts_disk_kind(k);
	int n;

	if (!kind)
		return -EINVAL;
	n = snprintf(buf, len, "%d,%s,%s,%s,%s,%s", k->devid, kind, disk_format_name(k->format),
		     k->readwrite ? "w" : "r", k->is_cdrom ? "cdrom" : "disk", k->pdev_path ? k->pdev_path : "");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int write_disk(struct xs_handle *xs, xs_transaction_t t, const struct domain_config *c, uint32_t domid,
		      const struct dom_disk *k)
{
	char fe[128], be[128], lx[128], devid[16], feid[16], removable[4], script[512], params[4200], state[4];
	const char *kind = ts_disk_kind(k);
	const char *dt = k->is_cdrom ? "cdrom" : "disk";
	const bool phy = kind && strcmp(kind, "vbd") == 0;
	const bool discard = k->discard < 0 ? k->readwrite : k->discard;
	char path[160];
	bool restored;
	int rc;

	if (!kind)
		return -EINVAL;
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/%d", domid, k->devid);
	snprintf(be, sizeof(be), "/local/domain/0/backend/%s/%u/%d", kind, domid, k->devid);
	snprintf(lx, sizeof(lx), "/libxl/%u/device/vbd/%d", domid, k->devid);
	snprintf(devid, sizeof(devid), "%d", k->devid);
	snprintf(feid, sizeof(feid), "%u", domid);
	snprintf(removable, sizeof(removable), "%d", k->removable ? 1 : 0);
	snprintf(state, sizeof(state), "%d", XenbusStateInitialising);
	if (k->script && k->script[0] == '/')
		snprintf(script, sizeof(script), "%s", k->script);
	else
		snprintf(script, sizeof(script), XEN_SCRIPT_DIR "/%s", k->script ? k->script : "block");
	if (phy)
		snprintf(params, sizeof(params), "%s", k->pdev_path ? k->pdev_path : "");
	else
		snprintf(params, sizeof(params), "%s:%s", params_format(k->format), k->pdev_path ? k->pdev_path : "");

	/* In device_disk_add()'s order. */
	const struct ts_kv back[] = {
		{ "params", params },
		{ "script", phy ? script : NULL },
		{ "frontend-id", feid },
		{ "online", "1" },
		{ "removable", removable },
		{ "bootable", "1" },
		{ "state", state },
		{ "dev", k->vdev },
		{ "type", phy ? "phy" : "qdisk" },
		{ "mode", k->readwrite ? "w" : "r" },
		{ "device-type", dt },
		{ "direct-io-safe", k->direct_io_safe ? "1" : NULL },
		{ "discard-enable", discard ? "1" : "0" },
	};
	const struct ts_kv front[] = {
		{ "backend-id", "0" },
		{ "state", state },
		{ "virtual-device", devid },
		{ "device-type", dt },
		/* libxl writes the native protocol for PV guests only
		 * (xc_domain_get_native_protocol: x86_64 here). */
		{ "protocol", c->type == DOM_TYPE_PV ? "x86_64-abi" : NULL },
	};
	const struct ts_kv lxpaths[] = { { "frontend", fe }, { "backend", be } };
	const struct ts_kv fe_be[] = { { "backend", be } }, be_fe[] = { { "frontend", fe } };
	const struct xs_permissions fe_perms[2] = { { .id = domid, .perms = XS_PERM_NONE },
						    { .id = 0, .perms = XS_PERM_READ } };
	const struct xs_permissions be_perms[2] = { { .id = 0, .perms = XS_PERM_NONE },
						    { .id = domid, .perms = XS_PERM_READ } };

	/* libxl__device_exists(): the libxl copy tells. */
	char *old = xs_read(xs, t, lx, NULL);
	if (old) {
		free(old);
		return -EEXIST;
	}
	/* A restored domain's frontend came back with xenstored's import
	 * (docs/save-restore.md): the guest's frontend stays as it was but
	 * for its backend path, its back end goes on without a handshake
	 * (docs/xenbus.md). */
	snprintf(path, sizeof(path), "%s/state", fe);
	old = xs_read(xs, t, path, NULL);
	restored = old != NULL;
	free(old);
	rc = ts_xs_write_dir(xs, t, lx, NULL, lxpaths, 2, NULL);
	if (rc == 0)
		rc = ts_xs_write_dir(xs, t, fe, restored ? NULL : fe_perms, fe_be, 1, NULL);
	/* Values naming the old id are the toolstack's to rewrite
	 * (docs/xenstored.md "A new id"): backend above; backend-id is 0. */
	if (rc == 0 && !restored)
		rc = ts_xs_write_dir(xs, t, fe, fe_perms, front, sizeof(front) / sizeof(front[0]), fe_perms);
	if (rc == 0)
		rc = ts_xs_write_dir(xs, t, be, be_perms, be_fe, 1, NULL);
	if (rc == 0)
		rc = ts_xs_write_dir(xs, t, be, NULL, back, sizeof(back) / sizeof(back[0]), NULL);
	if (rc == 0)
		rc = ts_xs_write_dir(xs, t, lx, NULL, back, sizeof(back) / sizeof(back[0]), NULL);
	return rc;
}

int ts_xs_write_disks(struct xs_handle *xs, uint32_t t, const struct domain_config *c, uint32_t domid)
{
	for (size_t i = 0; i < c->n_disks; i++) {
		int rc = write_disk(xs, t, c, domid, &c->disks[i]);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* libxl__xs_path_cleanup(): the node, then each parent left empty, up to
 * (not including) the backend domain's home. */
void ts_xs_path_cleanup(struct xs_handle *xs, const char *path, const char *stop)
{
	char p[256], *slash;
	unsigned n;

	snprintf(p, sizeof(p), "%s", path);
	xs_rm(xs, XBT_NULL, p);
	while ((slash = strrchr(p, '/')) && slash != p) {
		char **sub;

		*slash = '\0';
		if (strcmp(p, stop) == 0)
			break;
		sub = xs_directory(xs, XBT_NULL, p, &n);
		free(sub);
		if (!sub || n)
			break;
		xs_rm(xs, XBT_NULL, p);
	}
}

void ts_xs_remove_disks(struct xs_handle *xs, uint32_t domid)
{
	static const char *const kinds[] = { "vbd", "qdisk" };
	char path[128];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", kinds[i], domid);
		ts_xs_path_cleanup(xs, path, "/local/domain/0");
		/* what xenbus_dev_fatal() left (docs/xenbus.md) */
		snprintf(path, sizeof(path), "/local/domain/0/error/backend/%s/%u", kinds[i], domid);
		ts_xs_path_cleanup(xs, path, "/local/domain/0");
	}
}

/* ---- hot-plug (xl block-attach / block-detach, ts_block.c) ---- */

int ts_xs_write_disk(struct xs_handle *xs, uint32_t t, const struct domain_config *c, uint32_t domid,
		     const struct dom_disk *k)
{
	return write_disk(xs, t, c, domid, k);
}

/* libxl__device_destroy(): the frontend and /libxl directories (the
 * toolstack's), the backend directory (the backend domain's, Domain 0
 * here) and what xenbus_dev_fatal() left, each with the parents it leaves
 * empty. */
void ts_xs_remove_disk(struct xs_handle *xs, uint32_t domid, int devid, const char *be)
{
	char path[256], stop[64];

	snprintf(stop, sizeof(stop), "/local/domain/%u", domid);
	snprintf(path, sizeof(path), "/local/domain/%u/device/vbd/%d", domid, devid);
	ts_xs_path_cleanup(xs, path, stop);
	snprintf(stop, sizeof(stop), "/libxl/%u", domid);
	snprintf(path, sizeof(path), "/libxl/%u/device/vbd/%d", domid, devid);
	ts_xs_path_cleanup(xs, path, stop);
	if (be && strncmp(be, "/local/domain/0/backend/", 24) == 0) {
		ts_xs_path_cleanup(xs, be, "/local/domain/0");
		snprintf(path, sizeof(path), "/local/domain/0/error/backend/%s", be + 24);
		ts_xs_path_cleanup(xs, path, "/local/domain/0");
	}
}
