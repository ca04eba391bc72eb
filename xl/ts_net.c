/* xl network-attach, network-detach and network-list on a running domain,
 * as Xen 4.17's xl prints them (tools/xl/xl_nic.c) over what libxl does
 * (tools/libs/light/libxl_nic.c, libxl_device.c):
 *
 * attach (libxl_device_nic_add): the devid libxl__device_nextid() gives
 * (the last entry of /libxl/<domid>/device/vif plus one, 0 when there is
 * none) unless devid= names one; the MAC libxl__device_nic_setdefault()
 * chooses (00:16:3e and three random bytes) unless mac= gives one; the
 * checks create makes (script, bridge, vifname) before anything.  Then the
 * monitor is told first (device_add vif with --nic's DEVID,IFNAME: it
 * makes the TAP vif<domid>.<devid> and its back end watches), the
 * frontend, backend and /libxl nodes in one transaction, the back end's
 * InitWait, the hotplug script `online` and hotplug-status connected,
 * exactly as at create (ts_vif.c).  A failure at any step undoes the ones
 * before: the script run `offline`, the monitor's back end and TAP
 * released, the nodes removed.  Then the domain's kept configuration gets
 * the vif with its devid and MAC (ts_domcfg.c).
 *
 * detach (libxl_device_nic_remove, LIBXL__FORCE_AUTO): the vif by devid
 * (atoi, as xl) or by MAC; online 0 and Closing in one transaction, the
 * wait for Closed (LIBXL_DESTROY_TIMEOUT, 10 s), and, when the guest does
 * not let go within it, libxl's forced remove (the frontend removed, the
 * same wait again); then the script `offline` (the back end closed, as
 * libxl's device_hotplug runs it), the monitor releases the back end (the
 * TAP goes), the nodes go and the kept configuration loses the vif. */
#include "ts.h"
#include "xl.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

/* ERROR_INVAL, which find_domain() prints for a name that is no domain */
#define XL_RC_INVALID_DOMAIN (-6)

static const struct ts_dev_kind vif_kind = { "vif", "--nic", 10 * 1000 };

struct vif_nodes {
	uint32_t domid;
	const struct dom_nic *n;
};

static int write_vif(struct xs_handle *xs, uint32_t t, const void *arg)
{
	const struct vif_nodes *v = arg;

	return ts_xs_write_vif(xs, t, v->domid, v->n);
}

/* A vif's /libxl key, or NULL. */
static char *vif_key(struct xs_handle *xs, uint32_t domid, const char *id, const char *key)
{
	char path[200];

	snprintf(path, sizeof(path), "/libxl/%u/device/vif/%s/%s", domid, id, key);
	return xs_read(xs, XBT_NULL, path, NULL);
}

/* libxl__device_nextid(); and, while at it, a MAC one of the domain's
 * vifs has already (two would make the kept configuration invalid). */
static int next_devid(struct xs_handle *xs, uint32_t domid, const struct dom_nic *n, int *clash)
{
	char path[100], **ids;
	unsigned num = 0;
	int next = 0;

	*clash = -1;
	snprintf(path, sizeof(path), "/libxl/%u/device/vif", domid);
	ids = xs_directory(xs, XBT_NULL, path, &num);
	if (ids && num)
		next = (int)strtoul(ids[num - 1], NULL, 10) + 1;
	for (unsigned i = 0; ids && i < num && n->mac_set; i++) {
		char *m = vif_key(xs, domid, ids[i], "mac");
		uint8_t mac[6];

		if (m && dom_mac_parse(m, mac) == 0 && memcmp(mac, n->mac, 6) == 0)
			*clash = atoi(ids[i]);
		free(m);
	}
	free(ids);
	return next;
}

static void mac_text(const uint8_t m[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* The kept vif= entry: spec with the devid and MAC chosen for it (NULL:
 * the spec gave it), as libxl stores the device with them; NULL on ENOMEM. */
static char *kept_spec(const char *spec, const char *devid, const char *mac)
{
	char *out;

	if (asprintf(&out, "%s%s%s%s%s", spec, devid ? (*spec ? ",devid=" : "devid=") : "", devid ? devid : "",
		     mac ? (*spec || devid ? ",mac=" : "mac=") : "", mac ? mac : "") < 0)
		return NULL;
	return out;
}

int ts_net_attach(struct xl_ctx *x, const char *dom, struct dom_nic *n, const char *spec)
{
	struct domain_config c, one;
	struct ts_dev_op op;
	char arg[64], id[16], mac[24], why[CTL_ERROR_TEXT_MAX + 64];
	char *kept = NULL, *old;
	const bool given_devid = n->devid >= 0, given_mac = n->mac_set;
	bool online = false;
	int rc, clash, next;

	domcfg_init(&c);
	if (ts_dev_begin(&op, "network-attach", &vif_kind, dom) < 0)
		return 1;
	/* The domain's type and whether scripts run, from what xl keeps. */
	rc = ts_domcfg_read(x, op.d.domid, &c);
	if (rc < 0) {
		snprintf(op.err, sizeof(op.err), "cannot read the configuration xl keeps of domain %u: %s", op.d.domid,
			 strerror(-rc));
		goto out;
	}
	rc = ts_dev_open_xs(&op);
	if (rc < 0)
		goto out;
	one = (struct domain_config){ .type = c.type, .nics = n, .n_nics = 1 };
	if (!given_mac && (rc = ts_vif_setdefault(&one)) < 0) {
		snprintf(op.err, sizeof(op.err), "cannot get random bytes for the vif's MAC");
		goto out;
	}
	next = next_devid(op.xs, op.d.domid, n, &clash);
	if (!given_devid)
		n->devid = next;
	snprintf(op.name, sizeof(op.name), "vif %d", n->devid);
	mac_text(n->mac, mac, sizeof(mac));
	snprintf(id, sizeof(id), "%d", n->devid);
	old = given_devid ? vif_key(op.xs, op.d.domid, id, "backend") : NULL;
	if (old) {
		snprintf(op.err, sizeof(op.err), "domain %s has a vif %d already", op.d.name, n->devid);
		rc = -EEXIST;
	} else if (clash >= 0) {
		snprintf(op.err, sizeof(op.err), "domain %s has a vif with MAC %s already (vif %d); each needs its own",
			 op.d.name, mac, clash);
		rc = -EEXIST;
	} else if (n->devid > 65535) {
		snprintf(op.err, sizeof(op.err), "domain %s: no devid left for a vif (the last is 65535)", op.d.name);
		rc = -ENOSPC;
	}
	free(old);
	if (rc < 0)
		goto out;
	/* The checks create makes (script, bridge, vifname): one line each,
	 * printed; nothing is started. */
	rc = ts_vif_check_nic(&c, n);
	if (rc < 0)
		goto out;
	rc = ts_vif_vmm_arg(n, op.d.domid, arg, sizeof(arg));
	if (rc < 0)
		ts_dev_refused(&op);
	else
		rc = ts_dev_plug(&op, arg);
	if (rc < 0)
		goto out;
	rc = ts_dev_write_nodes(&op, write_vif, &(struct vif_nodes){ op.d.domid, n });
	if (rc == -EEXIST)
		snprintf(op.err, sizeof(op.err), "domain %s has a vif %d in xenstore already", op.d.name, n->devid);
	if (rc < 0)
		goto out;
	/* As at create: InitWait, then the script (libxl__hotplug_nic). */
	if (c.run_hotplug_scripts) {
		online = true;
		rc = ts_vif_online_nic(op.xs, n, op.d.domid, op.err, sizeof(op.err));
	} else {
		rc = ts_vif_wait_initwait(op.xs, n, op.d.domid, op.err, sizeof(op.err));
	}
	if (rc < 0)
		goto out;
	kept = kept_spec(spec, given_devid ? NULL : id, given_mac ? NULL : mac);
	if (kept)
		ts_domcfg_add_vif(op.d.domid, kept);
	else
		fprintf(stderr, "xl: warning: out of memory: the kept configuration of domain %s lacks the new vif\n",
			op.d.name);
out:
	/* Undone in reverse: the script's work, the monitor's TAP and back
	 * end, then the nodes the script read. */
	if (rc < 0 && online && ts_vif_offline_nic(op.xs, n, op.d.domid, why, sizeof(why)) < 0)
		fprintf(stderr, "xl: warning: %s\n", why);
	if (rc < 0)
		ts_dev_unplug(&op, n->devid);
	if (rc < 0 && op.written)
		ts_xs_remove_vif(op.xs, op.d.domid, n->devid);
	free(kept);
	domcfg_dispose(&c);
	return ts_dev_end(&op, rc, "libxl_device_nic_add failed.");
}

/* The vif the detach names: a devid (atoi, as xl_nic.c does) or a MAC;
 * its devid, or -ENOENT. */
static int find_vif(struct xs_handle *xs, uint32_t domid, const char *which)
{
	char path[100], **ids, *be;
	unsigned num = 0;
	uint8_t want[6];
	int devid = -ENOENT;

	if (!strchr(which, ':')) {
		snprintf(path, sizeof(path), "%d", atoi(which));
		be = vif_key(xs, domid, path, "backend");
		free(be);
		return be ? atoi(which) : -ENOENT;
	}
	/* libxl_mac_to_device_nic: the /libxl copies' macs */
	if (dom_mac_parse(which, want) < 0)
		return -ENOENT;
	snprintf(path, sizeof(path), "/libxl/%u/device/vif", domid);
	ids = xs_directory(xs, XBT_NULL, path, &num);
	for (unsigned i = 0; ids && i < num && devid < 0; i++) {
		char *m = vif_key(xs, domid, ids[i], "mac");
		uint8_t mac[6];

		be = vif_key(xs, domid, ids[i], "backend");
		if (be && m && dom_mac_parse(m, mac) == 0 && memcmp(mac, want, 6) == 0)
			devid = atoi(ids[i]);
		free(be);
		free(m);
	}
	free(ids);
	return devid;
}

int ts_net_detach(struct xl_ctx *x, const char *dom, const char *which)
{
	struct domain_config c;
	struct dom_nic n;
	struct ts_dev_op op;
	char id[16], fe[160], path[200], *be = NULL;
	int rc = 0, state = -1;

	domcfg_init(&c);
	dom_nic_init(&n);
	if (ts_dev_begin(&op, "network-detach", &vif_kind, dom) < 0)
		return 1;
	rc = ts_dev_open_xs(&op);
	if (rc < 0)
		goto out;
	n.devid = find_vif(op.xs, op.d.domid, which);
	if (n.devid < 0) {
		/* xl_nic.c main_networkdetach: this line and no other */
		fprintf(stderr, "Unknown device %s.\n", which);
		return ts_dev_end(&op, -ENOENT, NULL);
	}
	snprintf(op.name, sizeof(op.name), "vif %d", n.devid);
	snprintf(id, sizeof(id), "%d", n.devid);
	be = vif_key(op.xs, op.d.domid, id, "backend");
	n.script = vif_key(op.xs, op.d.domid, id, "script"); /* absolute, as libxl wrote it */
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/%d", op.d.domid, n.devid);
	rc = be && strncmp(be, "/local/domain/0/backend/", 24) == 0 ? 0 : -EINVAL;
	if (rc < 0) {
		fprintf(stderr, "xl: network-detach: domain %s: vif %d has no backend path\n", op.d.name, n.devid);
		goto out;
	}
	rc = ts_dev_start_remove(op.xs, fe, be, false);
	if (rc == 0)
		rc = ts_dev_wait_closed(op.xs, be, TS_DESTROY_TIMEOUT_MS, &state);
	if (rc == -ETIMEDOUT) {
		/* LIBXL__FORCE_AUTO: "Timeout reached, initiating forced remove" */
		snprintf(path, sizeof(path), "%s/state", fe);
		fprintf(stderr, "xl: warning: domain %s: vif %d did not close within %d s (backend state %d, frontend "
				"state %d): removed anyway, as libxl does\n",
			op.d.name, n.devid, TS_DESTROY_TIMEOUT_MS / 1000, state, ts_xs_read_int(op.xs, path));
		rc = ts_dev_start_remove(op.xs, fe, be, true);
		if (rc >= 0)
			(void)ts_dev_wait_closed(op.xs, be, TS_DESTROY_TIMEOUT_MS, &state);
	}
	if (rc < 0 && rc != -ETIMEDOUT) {
		fprintf(stderr, "xl: network-detach: domain %s: vif %d: %s\n", op.d.name, n.devid, strerror(-rc));
		goto out;
	}
	/* The back end closed: the script takes the interface off its
	 * bridge (libxl runs it before libxl__device_destroy), a failure
	 * said but not fatal, as in libxl on removal. */
	if ((ts_domcfg_read(x, op.d.domid, &c) < 0 || c.run_hotplug_scripts) &&
	    ts_vif_offline_nic(op.xs, &n, op.d.domid, op.err, sizeof(op.err)) < 0)
		fprintf(stderr, "xl: warning: domain %s: %s\n", op.d.name, op.err);
	/* The monitor lets go of the back end and the TAP, the nodes go. */
	ts_dev_release(&op, n.devid);
	ts_xs_remove_vif(op.xs, op.d.domid, n.devid);
	ts_domcfg_remove_vif(op.d.domid, n.devid);
	rc = 0;
out:
	free(be);
	dom_nic_dispose(&n);
	domcfg_dispose(&c);
	return ts_dev_end(&op, rc, "libxl_device_nic_del failed.");
}

/* One row of xl_nic.c main_networklist from libxl__nic_from_xenstore and
 * libxl_device_nic_getinfo: the devid from the /libxl copy's handle, its
 * MAC, backend path and backend domain, then the frontend's state,
 * event-channel, tx- and rx-ring-ref (-1 when absent). */
static void list_one(struct xs_handle *xs, uint32_t domid, const char *entry)
{
	char *h = vif_key(xs, domid, entry, "handle"), *m = vif_key(xs, domid, entry, "mac"), *be = NULL;
	char id[16], fe[160], path[200];
	uint8_t mac[6] = { 0 };
	unsigned long beid;
	int devid = h ? atoi(h) : 0;

	if (m && dom_mac_parse(m, mac) < 0)
		goto out; /* libxl__parse_mac fails the list */
	snprintf(id, sizeof(id), "%d", devid);
	be = vif_key(xs, domid, id, "backend");
	if (!be || sscanf(be, "/local/domain/%lu/", &beid) != 1)
		goto out;
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/%d", domid, devid);
	snprintf(path, sizeof(path), "%s/state", fe);
	int st = ts_xs_read_int(xs, path);
	snprintf(path, sizeof(path), "%s/event-channel", fe);
	int evt = ts_xs_read_int(xs, path);
	snprintf(path, sizeof(path), "%s/tx-ring-ref", fe);
	int tx = ts_xs_read_int(xs, path);
	snprintf(path, sizeof(path), "%s/rx-ring-ref", fe);
	int rx = ts_xs_read_int(xs, path);
	printf("%-3d %-2lu ", devid, beid);
	printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	printf("%6d %5d %6d %5d/%-11d %-30s\n", devid, st, evt, tx, rx, be);
out:
	free(h);
	free(m);
	free(be);
}

int ts_net_list(int argc, char **argv)
{
	struct xs_handle *xs = NULL;
	int rc = 0;

	/*      Idx  BE   MAC   Hdl  Sta  evch txr/rxr  BE-path (xl_nic.c) */
	printf("%-3s %-2s %-17s %-6s %-5s %-6s %5s/%-5s %-30s\n", "Idx", "BE", "Mac Addr.", "handle", "state", "evt-ch",
	       "tx-", "rx-ring-ref", "BE-path");
	for (int a = 0; a < argc; a++) {
		char path[100], **ids;
		unsigned n = 0;
		uint32_t domid;

		/* find_domain(): an unknown name ends the command */
		if (ts_dom_qualifier(argv[a], &domid) < 0) {
			fflush(stdout);
			fprintf(stderr, "%s is an invalid domain identifier (rc=%d)\n", argv[a], XL_RC_INVALID_DOMAIN);
			rc = 1;
			break;
		}
		if (!xs && !(xs = ts_xs_open())) {
			fprintf(stderr, "xl: network-list: cannot connect to xenstored\n");
			rc = 1;
			break;
		}
		snprintf(path, sizeof(path), "/libxl/%u/device/vif", domid);
		ids = xs_directory(xs, XBT_NULL, path, &n);
		for (unsigned i = 0; ids && i < n; i++)
			list_one(xs, domid, ids[i]);
		free(ids);
	}
	if (xs)
		xs_close(xs);
	if (fflush(stdout) || ferror(stdout))
		rc = 1;
	return rc;
}

int xl_cmd_network_list(struct xl_ctx *x, int argc, char **argv)
{
	int opt, rc = 0;

	while ((opt = xl_getopt(x, argc, argv, "", NULL, 1, &rc)) != -1)
		if (opt == XL_OPT_EXIT)
			return rc;
	return ts_net_list(argc - optind, argv + optind);
}

int xl_cmd_network_detach(struct xl_ctx *x, int argc, char **argv)
{
	int opt, rc = 0;

	while ((opt = xl_getopt(x, argc, argv, "", NULL, 2, &rc)) != -1)
		if (opt == XL_OPT_EXIT)
			return rc;
	return ts_net_detach(x, argv[optind], argv[optind + 1]);
}
