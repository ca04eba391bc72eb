/* Virtual network interfaces for the toolstack: the checks before a domain
 * starts, the xenstore nodes libxl 4.17 writes for each vif= entry, the
 * name of the host's interface, and the hotplug script run against it
 * (docs/vif.md).
 *
 * The nodes are those of tools/libs/light/libxl_nic.c
 * libxl__set_xenstore_nic() as libxl_device.c libxl__device_add_async()
 * and libxl__device_generic_add() write them:
 *   frontend /local/domain/<domid>/device/vif/<devid>: n<domid> r0 on the
 *            directory and each key but mtu, which is n0 r<domid> (the
 *            "ro_front" keys: the guest reads its MTU but may not change it);
 *   backend  /local/domain/0/backend/vif/<domid>/<devid>: n0 r<domid>,
 *            keys inheriting it;
 *   a copy of the backend's keys, plus frontend and backend paths, under
 *            /libxl/<domid>/device/vif/<devid> (inheriting /libxl's n0).
 * The interface domus-vmm creates is the one Linux netback creates,
 * vif<domid>.<devid> (NETBACK_NIC_NAME in libxl_internal.h; netback's
 * xenvif_alloc): a vifname= is applied by the script (vif-common.sh
 * rename_vif), as under Xen. */
#include "ts.h"
#include "ts_hotplug.h"
#include "xl.h"

#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/io/xenbus.h>

/* libxl_nic.c LIBXL_DEVICE_NIC_MTU_DEFAULT */
#define NIC_MTU_DEFAULT 1500
/* libxl_internal.h: LIBXL_INIT_TIMEOUT is 10 s for the back end to reach
 * InitWait; a monitor under nested emulation is slower than netback. */
#define VIF_INITWAIT_TIMEOUT_MS (30 * 1000)

int ts_vif_setdefault(struct domain_config *c)
{
	for (size_t i = 0; i < c->n_nics; i++) {
		struct dom_nic *n = &c->nics[i];
		uint8_t r[16];
		int rc;

		if (n->mac_set)
			continue;
		rc = xl_random_uuid(r);
		if (rc < 0)
			return rc;
		/* libxl__device_nic_setdefault(): Xen's OUI, then three
		 * random bytes, the first with its top bit clear. */
		n->mac[0] = 0x00;
		n->mac[1] = 0x16;
		n->mac[2] = 0x3e;
		n->mac[3] = r[0] & 0x7f;
		n->mac[4] = r[1];
		n->mac[5] = r[2];
		n->mac_set = true;
	}
	return 0;
}

static const char *nic_bridge(const struct dom_nic *n)
{
	return n->bridge ? n->bridge : "xenbr0"; /* libxl__device_nic_setdefault() */
}

static int nic_script(const struct dom_nic *n, char *buf, size_t len)
{
	return ts_hotplug_script_path(n->script ? n->script : "vif-bridge", buf, len);
}

int ts_vif_ifname(const struct dom_nic *n, uint32_t domid, char *buf, size_t len)
{
	int r = snprintf(buf, len, "vif%u.%d", domid, n->devid);

	return r < 0 || (size_t)r >= len ? -ENAMETOOLONG : 0;
}

int ts_vif_vmm_arg(const struct dom_nic *n, uint32_t domid, char *buf, size_t len)
{
	char ifname[IFNAMSIZ + 8];
	int r = ts_vif_ifname(n, domid, ifname, sizeof(ifname));

	if (r < 0)
		return r;
	r = snprintf(buf, len, "%d,%s", n->devid, ifname);
	return r < 0 || (size_t)r >= len ? -ENAMETOOLONG : 0;
}

static const char *sys_class_net(void)
{
	const char *d = getenv("DOMUS_SYS_CLASS_NET"); /* tests */

	return d && *d ? d : "/sys/class/net";
}

static bool is_bridge(const char *name)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s/bridge", sys_class_net(), name);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* vif-bridge takes xenbrN for ethN when only ethN is a bridge (the "old
 * style" translation in /etc/xen/scripts/vif-bridge). */
static bool bridge_exists(const char *br)
{
	char eth[IFNAMSIZ + 8];

	if (is_bridge(br))
		return true;
	if (strncmp(br, "xenbr", 5) != 0)
		return false;
	snprintf(eth, sizeof(eth), "eth%s", br + 5);
	return is_bridge(eth);
}

static void list_bridges(char *buf, size_t len)
{
	DIR *d = opendir(sys_class_net());
	struct dirent *e;
	size_t used = 0;

	buf[0] = '\0';
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !is_bridge(e->d_name))
			continue;
		int r = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", e->d_name);
		if (r < 0 || (size_t)r >= len - used)
			break;
		used += (size_t)r;
	}
	closedir(d);
}

static bool host_has(const char *ifname)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", sys_class_net(), ifname);
	return lstat(p, &st) == 0;
}

static bool ifname_twice(const struct domain_config *c, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (c->nics[j].ifname && !strcmp(c->nics[j].ifname, c->nics[i].ifname))
			return true;
	return false;
}

/* Linux's dev_valid_name(): what a rename to vifname= needs. */
static bool valid_ifname(const char *s)
{
	if (!*s || strlen(s) >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static bool script_is(const char *path, const char *base)
{
	const char *slash = strrchr(path, '/');

	return strcmp(slash ? slash + 1 : path, base) == 0;
}

/* vif i of c; label: what the message calls it (its index at create, its
 * devid at network-attach). */
static int check_nic(const struct domain_config *c, size_t i, const char *where, size_t label)
{
	char script[512], why[1400];
	const struct dom_nic *n = &c->nics[i];
	const char *br = nic_bridge(n);
	int r = 0;

	why[0] = '\0';
	if (n->nictype == NIC_TYPE_VIF_IOEMU) {
		/* libxl__device_nic_setdefault() refuses it too */
		r = -EINVAL;
		snprintf(why, sizeof(why), "type=ioemu is an HVM guest's emulated card; a %s guest takes type=vif",
			 c->type == DOM_TYPE_PV ? "PV" : "PVH");
	} else if (n->ifname && !valid_ifname(n->ifname)) {
		r = -EINVAL;
		snprintf(why, sizeof(why), "vifname=%s is not an interface name (1 to %d characters, no '/', ':' or blanks)",
			 n->ifname, IFNAMSIZ - 1);
	} else if (n->ifname && host_has(n->ifname)) {
		/* vif-common.sh rename_vif would refuse it at online */
		r = -EEXIST;
		snprintf(why, sizeof(why), "vifname=%s: this host has an interface of that name already (choose another, or leave vifname= out for vif<domid>.%d)",
			 n->ifname, n->devid);
	} else if (n->ifname && ifname_twice(c, i)) {
		r = -EEXIST;
		snprintf(why, sizeof(why), "vifname=%s is also an earlier vif's; each needs its own", n->ifname);
	} else if (nic_script(n, script, sizeof(script)) < 0) {
		r = -ENAMETOOLONG;
		snprintf(why, sizeof(why), "script=%s: name too long", n->script);
	} else if (access(script, X_OK) < 0) {
		r = -errno;
		snprintf(why, sizeof(why), "script %s: %s (script= names an executable; relative names are under %s, e.g. vif-bridge, vif-route, vif-nat)",
			 script, strerror(-r), ts_hotplug_script_dir());
	} else if (script_is(script, "vif-bridge") && !bridge_exists(br)) {
		char list[256];

		r = -ENODEV;
		list_bridges(list, sizeof(list));
		snprintf(why, sizeof(why), "bridge %s does not exist (no %s/%s/bridge); %s%s%s",
			 br, sys_class_net(), br, list[0] ? "bridges on this host: " : "this host has no bridge",
			 list, list[0] ? " (name one with bridge=)" : ": create it (README.md, \"A bridge for the guests\")");
	}
	if (r < 0)
		fprintf(stderr, "xl: vif %zu (%s line %u): %s\n", label, where, n->line, why);
	return r;
}

int ts_vif_check(const struct domain_config *c, const char *cfg_file)
{
	int rc = 0;

	for (size_t i = 0; i < c->n_nics; i++) {
		int r = check_nic(c, i, cfg_file ? cfg_file : "command line", i);

		if (r < 0 && rc == 0)
			rc = r;
	}
	return rc;
}

int ts_vif_check_nic(const struct domain_config *c, const struct dom_nic *n)
{
	const struct domain_config one = { .type = c->type, .nics = (struct dom_nic *)n, .n_nics = 1 };

	return check_nic(&one, 0, "command line", (size_t)n->devid);
}

static void mac_str(const uint8_t m[6], char *buf, size_t len)
{
	/* LIBXL_MAC_FMT */
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static int write_vif(struct xs_handle *xs, xs_transaction_t t, uint32_t domid, const struct dom_nic *n)
{
	char fe[128], be[128], lx[128], path[160], feid[16], handle[16], mac[24], mtu[16], rate[48], script[512];
	const int m = n->mtu ? n->mtu : NIC_MTU_DEFAULT;
	bool restored;
	char *old;
	int rc;

	if (n->devid < 0)
		return -EINVAL;
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/%d", domid, n->devid);
	snprintf(be, sizeof(be), "/local/domain/0/backend/vif/%u/%d", domid, n->devid);
	snprintf(lx, sizeof(lx), "/libxl/%u/device/vif/%d", domid, n->devid);
	snprintf(feid, sizeof(feid), "%u", domid);
	snprintf(handle, sizeof(handle), "%d", n->devid);
	snprintf(mtu, sizeof(mtu), "%d", m);
	snprintf(rate, sizeof(rate), "%llu,%u", (unsigned long long)n->rate_bytes_per_interval,
		 n->rate_interval_usecs);
	rc = nic_script(n, script, sizeof(script));
	if (rc < 0)
		return rc;
	mac_str(n->mac, mac, sizeof(mac));

	/* libxl__device_exists(): the libxl copy tells. */
	old = xs_read(xs, t, lx, NULL);
	if (old) {
		free(old);
		return -EEXIST;
	}
	/* A restored domain's frontend came back with xenstored's import
	 * (docs/save-restore.md) and keeps its MAC: the guest has it, and
	 * libxl would have kept it in the saved configuration. */
	snprintf(path, sizeof(path), "%s/state", fe);
	old = xs_read(xs, t, path, NULL);
	restored = old != NULL;
	free(old);
	if (restored) {
		uint8_t saved[6];

		snprintf(path, sizeof(path), "%s/mac", fe);
		old = xs_read(xs, t, path, NULL);
		if (old && dom_mac_parse(old, saved) == 0)
			mac_str(saved, mac, sizeof(mac));
		free(old);
	}

	/* libxl__device_add_async()'s keys, then libxl__set_xenstore_nic()'s,
	 * in their order. */
	const struct ts_kv back[] = {
		{ "frontend-id", feid },
		{ "online", "1" },
		{ "state", "1" }, /* XenbusStateInitialising */
		{ "script", script },
		{ "vifname", n->ifname },
		{ "mac", mac },
		{ "ip", n->ip },
		{ "gatewaydev", n->gatewaydev },
		{ "rate", n->rate_interval_usecs > 0 ? rate : NULL },
		{ "mtu", m != NIC_MTU_DEFAULT ? mtu : NULL },
		{ "bridge", nic_bridge(n) },
		{ "handle", handle },
		{ "type", "vif" }, /* a PV or PVH guest's nictype (ioemu refused) */
		/* "Force backend to wait for hotplug script execution before
		 * switching to connected state." */
		{ "hotplug-status", "" },
	};
	const struct ts_kv front[] = {
		{ "backend-id", "0" },
		{ "state", "1" },
		{ "handle", handle },
		{ "mac", mac },
		{ "trusted", n->trusted == 0 ? "0" : "1" }, /* libxl's default: trusted */
	};
	const struct ts_kv ro_front[] = { { "mtu", mtu } };
	const struct ts_kv lxpaths[] = { { "frontend", fe }, { "backend", be } };
	const struct ts_kv fe_be[] = { { "backend", be } }, be_fe[] = { { "frontend", fe } };
	const struct xs_permissions fe_perms[2] = { { .id = domid, .perms = XS_PERM_NONE },
						    { .id = 0, .perms = XS_PERM_READ } };
	const struct xs_permissions be_perms[2] = { { .id = 0, .perms = XS_PERM_NONE },
						    { .id = domid, .perms = XS_PERM_READ } };

	rc = ts_xs_write_dir(xs, t, lx, NULL, lxpaths, 2, NULL);
	if (rc == 0)
		rc = ts_xs_write_dir(xs, t, fe, restored ? NULL : fe_perms, fe_be, 1, NULL);
	if (rc == 0 && !restored)
		rc = ts_xs_write_dir(xs, t, fe, NULL, front, sizeof(front) / sizeof(front[0]), fe_perms);
	if (rc == 0 && !restored)
		rc = ts_xs_write_dir(xs, t, fe, NULL, ro_front, 1, be_perms);
	if (rc == 0)
		rc = ts_xs_write_dir(xs, t, be, be_perms, be_fe, 1, NULL);
	if (rc == 0)
		rc = ts_xs_write_dir(xs, t, be, NULL, back, sizeof(back) / sizeof(back[0]), NULL);
	if (rc == 0)
		rc = ts_xs_write_dir(xs, t, lx, NULL, back, sizeof(back) / sizeof(back[0]), NULL);
	return rc;
}

int ts_xs_write_vifs(struct xs_handle *xs, uint32_t t, const struct domain_config *c, uint32_t domid)
{
	for (size_t i = 0; i < c->n_nics; i++) {
		int rc = write_vif(xs, t, domid, &c->nics[i]);

		if (rc < 0)
			return rc;
	}
	return 0;
}

void ts_vif_adopt_macs(struct xs_handle *xs, struct domain_config *c, uint32_t domid)
{
	for (size_t i = 0; i < c->n_nics; i++) {
		struct dom_nic *n = &c->nics[i];
		char path[128], *v;
		uint8_t mac[6];

		snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/%d/mac", domid, n->devid);
		v = xs_read(xs, XBT_NULL, path, NULL);
		if (v && dom_mac_parse(v, mac) == 0 && !(mac[0] & 1)) {
			memcpy(n->mac, mac, sizeof(mac));
			n->mac_set = true;
		}
		free(v);
	}
}

void ts_xs_remove_vifs(struct xs_handle *xs, uint32_t domid)
{
	char path[128];

	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u", domid);
	ts_xs_path_cleanup(xs, path, "/local/domain/0");
	snprintf(path, sizeof(path), "/local/domain/0/error/backend/vif/%u", domid);
	ts_xs_path_cleanup(xs, path, "/local/domain/0");
}

/* ---- hot-plug (xl network-attach / network-detach, ts_net.c) ---- */

int ts_xs_write_vif(struct xs_handle *xs, uint32_t t, uint32_t domid, const struct dom_nic *n)
{
	return write_vif(xs, t, domid, n);
}

/* libxl__device_destroy(): as ts_xs_remove_disk() for a vif. */
void ts_xs_remove_vif(struct xs_handle *xs, uint32_t domid, int devid)
{
	char path[256], stop[64];

	snprintf(stop, sizeof(stop), "/local/domain/%u", domid);
	snprintf(path, sizeof(path), "/local/domain/%u/device/vif/%d", domid, devid);
	ts_xs_path_cleanup(xs, path, stop);
	snprintf(stop, sizeof(stop), "/libxl/%u", domid);
	snprintf(path, sizeof(path), "/libxl/%u/device/vif/%d", domid, devid);
	ts_xs_path_cleanup(xs, path, stop);
	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/%d", domid, devid);
	ts_xs_path_cleanup(xs, path, "/local/domain/0");
	snprintf(path, sizeof(path), "/local/domain/0/error/backend/vif/%u/%d", domid, devid);
	ts_xs_path_cleanup(xs, path, "/local/domain/0");
}

/* ---- hotplug ---- */

static const char *xs_default_sockets[] = { "/run/xenstored/socket", "/var/run/xenstored/socket" };

/* Control characters (a script's message may hold a newline) become
 * blanks: the error is one line. */
static void one_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			*s = ' ';
}

static char *xs_read_str(struct xs_handle *xs, const char *dir, const char *key)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xs_read(xs, XBT_NULL, path, NULL);
}

/* The back end's state once it is past Initialising, as libxl's
 * libxl__wait_device_connection() waits for InitWait.  A back end that
 * went to Closing or Closed first failed: its error node says why. */
static int wait_initwait(struct xs_handle *xs, const char *be, uint32_t domid, int devid, char *why, size_t wl)
{
	for (int waited = 0; waited <= VIF_INITWAIT_TIMEOUT_MS; waited += 20) {
		char *s = xs_read_str(xs, be, "state");
		int st = s ? atoi(s) : -1;

		free(s);
		if (st >= XenbusStateInitWait && st <= XenbusStateConnected)
			return 0;
		if (st == XenbusStateClosing || st == XenbusStateClosed || st < 0) {
			char epath[128], *e;

			snprintf(epath, sizeof(epath), "/local/domain/0/error/backend/vif/%u/%d", domid, devid);
			e = xs_read_str(xs, epath, "error");
			if (e)
				one_line(e);
			snprintf(why, wl, "the back end %s: %s", st < 0 ? "is gone" : "closed",
				 e ? e : "(no error node)");
			free(e);
			return -EIO;
		}
		usleep(20 * 1000);
	}
	snprintf(why, wl, "the back end did not reach InitWait in %d s (is domus-vmm's netback running? see its log)",
		 VIF_INITWAIT_TIMEOUT_MS / 1000);
	return -ETIMEDOUT;
}

/* libxl_linux.c libxl__hotplug_nic() and get_hotplug_env() for a vif
 * (nictype vif): argv "online"|"offline" "type_if=vif"; the environment
 * script, XENBUS_TYPE, XENBUS_PATH (relative to Domain-0's home),
 * XENBUS_BASE_PATH, netdev (the backend's gatewaydev, or empty) and vif
 * (netback's name, vif<domid>.<devid>).  XENSTORED_PATH is added when
 * xenstored is not at libxenstore's default socket, so that the scripts'
 * xenstore-read and xenstore-write reach domus's. */
static int run_script(struct xs_handle *xs, const struct dom_nic *n, uint32_t domid, const char *action,
		      char *why, size_t wl)
{
	char script[512], be[128], e_script[600], e_path[96], e_netdev[320], e_vif[48], e_xsd[600], ifname[32];
	char sockbuf[512];
	const char *sock = ts_xs_socket_path(sockbuf, sizeof(sockbuf));
	const char *env[8];
	size_t ne = 0;
	char *gw;
	int rc, status;

	rc = nic_script(n, script, sizeof(script));
	if (rc == 0)
		rc = ts_vif_ifname(n, domid, ifname, sizeof(ifname));
	if (rc < 0) {
		snprintf(why, wl, "script or interface name too long");
		return rc;
	}
	snprintf(be, sizeof(be), "/local/domain/0/backend/vif/%u/%d", domid, n->devid);
	gw = xs_read_str(xs, be, "gatewaydev");
	snprintf(e_script, sizeof(e_script), "script=%s", script);
	snprintf(e_path, sizeof(e_path), "XENBUS_PATH=backend/vif/%u/%d", domid, n->devid);
	snprintf(e_netdev, sizeof(e_netdev), "netdev=%s", gw ? gw : "");
	snprintf(e_vif, sizeof(e_vif), "vif=%s", ifname);
	free(gw);
	env[ne++] = e_script;
	env[ne++] = "XENBUS_TYPE=vif";
	env[ne++] = e_path;
	env[ne++] = "XENBUS_BASE_PATH=backend";
	env[ne++] = e_netdev;
	env[ne++] = e_vif;
	if (strcmp(sock, xs_default_sockets[0]) && strcmp(sock, xs_default_sockets[1])) {
		snprintf(e_xsd, sizeof(e_xsd), "XENSTORED_PATH=%s", sock);
		env[ne++] = e_xsd;
	}
	env[ne] = NULL;

	const char *argv[] = { action, "type_if=vif", NULL };
	const struct ts_hotplug h = { .script = script, .argv = argv, .env = env, .timeout_ms = TS_HOTPLUG_TIMEOUT_MS };

	/* xen-hotplug-common.sh sends its stderr to /var/log/xen/xen-hotplug.log:
	 * without the directory the redirection, and so the script, fails. */
	mkdir("/var/log/xen", 0750);
	return ts_hotplug_run(&h, &status, why, wl);
}

static int online_one(struct xs_handle *xs, const struct dom_nic *n, uint32_t domid, char *why, size_t wl)
{
	char be[128], *hs, *he;
	int rc;

	snprintf(be, sizeof(be), "/local/domain/0/backend/vif/%u/%d", domid, n->devid);
	rc = wait_initwait(xs, be, domid, n->devid, why, wl);
	if (rc < 0)
		return rc;
	rc = run_script(xs, n, domid, "online", why, wl);
	/* The script says how it went in hotplug-status and, on error,
	 * hotplug-error (xen-hotplug-common.sh success / fatal); libxl
	 * reports hotplug-error when the script fails. */
	hs = xs_read_str(xs, be, "hotplug-status");
	he = xs_read_str(xs, be, "hotplug-error");
	if (rc == 0 && (!hs || strcmp(hs, "connected") != 0)) {
		rc = -EPROTO;
		snprintf(why, wl, "the script exited 0 but hotplug-status is \"%s\", not \"connected\"", hs ? hs : "");
	}
	if (rc < 0 && rc != -ETIMEDOUT && he && *he) {
		one_line(he);
		snprintf(why, wl, "%s", he);
	}
	free(hs);
	free(he);
	return rc;
}

/* label: what the message calls the vif ("vif 0": its index at create,
 * its devid at network-attach). */
static int online_labelled(struct xs_handle *xs, const struct dom_nic *n, uint32_t domid, size_t label, char *err,
			   size_t errlen)
{
	char why[512], script[512], ifname[32];
	int rc = online_one(xs, n, domid, why, sizeof(why));

	if (rc < 0) {
		if (nic_script(n, script, sizeof(script)) < 0)
			snprintf(script, sizeof(script), "?");
		ts_vif_ifname(n, domid, ifname, sizeof(ifname));
		snprintf(err, errlen, "vif %zu (%s, %s online): %s", label, n->ifname ? n->ifname : ifname, script, why);
	}
	return rc;
}

int ts_vif_online(struct xs_handle *xs, const struct domain_config *c, uint32_t domid, char *err, size_t errlen)
{
	for (size_t i = 0; i < c->n_nics; i++) {
		int rc = online_labelled(xs, &c->nics[i], domid, i, err, errlen);

		if (rc < 0)
			return rc;
	}
	return 0;
}

int ts_vif_online_nic(struct xs_handle *xs, const struct dom_nic *n, uint32_t domid, char *err, size_t errlen)
{
	return online_labelled(xs, n, domid, (size_t)n->devid, err, errlen);
}

int ts_vif_wait_initwait(struct xs_handle *xs, const struct dom_nic *n, uint32_t domid, char *err, size_t errlen)
{
	char be[128], why[512];
	int rc;

	snprintf(be, sizeof(be), "/local/domain/0/backend/vif/%u/%d", domid, n->devid);
	rc = wait_initwait(xs, be, domid, n->devid, why, sizeof(why));
	if (rc < 0)
		snprintf(err, errlen, "vif %d: %s", n->devid, why);
	return rc;
}

int ts_vif_offline_nic(struct xs_handle *xs, const struct dom_nic *n, uint32_t domid, char *err, size_t errlen)
{
	char why[512];
	int rc = run_script(xs, n, domid, "offline", why, sizeof(why));

	if (rc < 0)
		snprintf(err, errlen, "vif %d offline: %s", n->devid, why);
	return rc;
}

int ts_vif_offline(struct xs_handle *xs, const struct domain_config *c, uint32_t domid, char *err, size_t errlen)
{
	char why[512];
	int rc = 0;

	if (errlen)
		err[0] = '\0';
	for (size_t i = 0; i < c->n_nics; i++) {
		/* As libxl on removal: a failure is reported, the rest still
		 * run (device_hotplug_child_death_cb fails only an add). */
		int r = run_script(xs, &c->nics[i], domid, "offline", why, sizeof(why));

		if (r < 0 && rc == 0) {
			rc = r;
			snprintf(err, errlen, "vif %zu offline: %s", i, why);
		}
	}
	return rc;
}
