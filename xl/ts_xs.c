/* XenStore for the toolstack: the connection, and the layout libxl writes
 * for a domain (tools/libs/light/libxl_create.c libxl__domain_make and
 * libxl_dom.c libxl__build_post; xen-guest-abi.md §6.3). */
#include "ts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "domus/guest_layout.h"

static const char *xs_socket_path(char *buf, size_t len)
{
	const char *p = getenv("XENSTORED_PATH");
	const char *dir = getenv("XENSTORED_RUNDIR");

	if (p && *p)
		return p;
	snprintf(buf, len, "%s/socket", dir && *dir ? dir : "/run/xenstored");
	return buf;
}

/* Xen runs xenstored as a system service; domus starts it on first use so
 * that `xl create` works on a fresh host. */
static int start_xenstored(void)
{
	char prog[512], sock[512], dir[512], log[600];
	const char *path = xs_socket_path(sock, sizeof(sock));
	char *slash;
	pid_t pid;

	if (ts_find_program("xenstored", "DOMUS_XENSTORED", prog, sizeof(prog)) < 0) {
		fprintf(stderr, "xl: no xenstored is running and none was found to start (set DOMUS_XENSTORED)\n");
		return -ENOENT;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	mkdir(ts_log_dir(), 0755);
	snprintf(log, sizeof(log), "%s/xenstored.log", ts_log_dir());
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		int nul = open("/dev/null", O_RDWR);

		setsid();
		/* Detach fully: the daemon outlives this xl. */
		if (fork() != 0)
			_exit(0);
		if (nul >= 0)
			dup2(nul, 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		ts_close_inherited();
		execl(prog, "xenstored", "--socket", path, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	for (int i = 0; i < 100; i++) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		usleep(50 * 1000);
	}
	fprintf(stderr, "xl: started %s but its socket %s did not appear (see %s)\n", prog, path, log);
	return -ETIMEDOUT;
}

const char *ts_xs_socket_path(char *buf, size_t len)
{
	return xs_socket_path(buf, len);
}

struct xs_handle *ts_xs_open(void)
{
	char sock[512];
	struct stat st;
	struct xs_handle *h;

	/* libxenstore falls back to /dev/xen/xenbus when the socket is absent,
	 * so look for the socket ourselves first. */
	if (stat(xs_socket_path(sock, sizeof(sock)), &st) < 0 && start_xenstored() < 0)
		return NULL;
	h = xs_open(0);
	if (!h && (errno == ECONNREFUSED || errno == ENOENT)) {
		unlink(sock); /* a dead daemon's socket */
		if (start_xenstored() == 0)
			h = xs_open(0);
	}
	if (!h)
		fprintf(stderr, "xl: cannot connect to xenstored at %s: %s\n", sock, strerror(errno));
	return h;
}

struct node {
	const char *path; /* relative to /local/domain/<id> unless it starts with / */
	const char *value;
	enum { P_INHERIT, P_RO, P_RW, P_NONE } perm;
};

static int set_perms(struct xs_handle *xs, xs_transaction_t t, const char *path, int kind, uint32_t domid)
{
	struct xs_permissions p[2];
	unsigned n = 1;

	switch (kind) {
	case P_RO: /* n0 r<domid> */
		p[0] = (struct xs_permissions){ .id = 0, .perms = XS_PERM_NONE };
		p[1] = (struct xs_permissions){ .id = domid, .perms = XS_PERM_READ };
		n = 2;
		break;
	case P_RW: /* n<domid> */
		p[0] = (struct xs_permissions){ .id = domid, .perms = XS_PERM_NONE };
		break;
	case P_NONE: /* n0 */
		p[0] = (struct xs_permissions){ .id = 0, .perms = XS_PERM_NONE };
		break;
	default:
		return 0;
	}
	return xs_set_permissions(xs, t, path, p, n) ? 0 : -errno;
}

static int write_nodes(struct xs_handle *xs, xs_transaction_t t, uint32_t domid, const struct node *nodes,
		       size_t n)
{
	char path[512];

	for (size_t i = 0; i < n; i++) {
		if (nodes[i].path[0] == '/')
			snprintf(path, sizeof(path), "%s", nodes[i].path);
		else
			snprintf(path, sizeof(path), "/local/domain/%u%s%s", domid, nodes[i].path[0] ? "/" : "",
				 nodes[i].path);
		if (!xs_write(xs, t, path, nodes[i].value, (unsigned)strlen(nodes[i].value)))
			return -errno;
		if (set_perms(xs, t, path, (int)nodes[i].perm, domid) < 0)
			return -errno;
	}
	return 0;
}

/* One domain's nodes, in one transaction (ts_xs_transact). */
struct dom_nodes {
	const struct domain_config *c;
	uint32_t id;
	const struct node *nodes;
	size_t n;
};

static int write_domain_nodes(struct xs_handle *xs, uint32_t t, const void *arg)
{
	const struct dom_nodes *a = arg;
	const struct domain_config *c = a->c;
	char cpu[64];
	int rc = write_nodes(xs, t, a->id, a->nodes, a->n);

	/* cpu/<n>/availability: a PVH guest asks (drivers/xen/cpu_hotplug.c). */
	for (int i = 0; rc == 0 && i < c->max_vcpus; i++) {
		struct node n = { cpu, i < c->vcpus ? "online" : "offline", P_INHERIT };
		snprintf(cpu, sizeof(cpu), "cpu/%d/availability", i);
		rc = write_nodes(xs, t, a->id, &n, 1);
	}
	if (rc == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/libxl/%u/type", a->id);
		struct node l[] = { { path, c->type == DOM_TYPE_HVM ? "hvm" : c->type == DOM_TYPE_PV ? "pv" : "pvh",
				      P_NONE } };
		rc = write_nodes(xs, t, a->id, l, 1);
	}
	if (rc == 0)
		rc = ts_xs_write_disks(xs, t, c, a->id);
	if (rc == 0)
		rc = ts_xs_write_vifs(xs, t, c, a->id);
	return rc;
}

int ts_xs_write_domain(struct xs_handle *xs, const struct domain_config *c, const struct ts_dom *d)
{
	char vm[64], vmuuid[80], vmname[80], domid[16], memk[32], sport[16], sref[32], cport[16],
		cref[32];
	const uint32_t id = d->domid;

	snprintf(vm, sizeof(vm), "/vm/%s", d->uuid);
	snprintf(vmuuid, sizeof(vmuuid), "/vm/%s/uuid", d->uuid);
	snprintf(vmname, sizeof(vmname), "/vm/%s/name", d->uuid);
	snprintf(domid, sizeof(domid), "%u", id);
	snprintf(memk, sizeof(memk), "%llu", (unsigned long long)c->max_memkb);
	snprintf(sport, sizeof(sport), "%u", d->store_port);
	snprintf(sref, sizeof(sref), "%llu", (unsigned long long)LAYOUT_XENSTORE_PFN);
	snprintf(cport, sizeof(cport), "%u", d->console_port);
	snprintf(cref, sizeof(cref), "%llu", (unsigned long long)LAYOUT_CONSOLE_PFN);
	const struct node nodes[] = {
		{ "", "", P_RO },
		{ "vm", vm, P_INHERIT },
		{ "name", c->name, P_INHERIT },
		{ "domid", domid, P_INHERIT },
		{ "cpu", "", P_RO },
		{ "memory", "", P_RO },
		{ "memory/static-max", memk, P_INHERIT },
		/* target == static-max at boot, or the balloon driver shrinks
		 * the guest at once (xen-guest-abi.md §6.5). */
		{ "memory/target", memk, P_INHERIT },
		{ "memory/videoram", "-1", P_INHERIT },
		{ "store/port", sport, P_INHERIT },
		{ "store/ring-ref", sref, P_INHERIT },
		{ "device", "", P_RO },
		{ "device/suspend/event-channel", "", P_RW },
		{ "control", "", P_RO },
		{ "control/shutdown", "", P_RW },
		{ "control/sysrq", "", P_RW },
		{ "control/feature-poweroff", "", P_RW },
		{ "control/feature-reboot", "", P_RW },
		{ "control/feature-suspend", "", P_RW },
		{ "control/platform-feature-multiprocessor-suspend", "1", P_INHERIT },
		{ "control/platform-feature-xs_reset_watches", "1", P_INHERIT },
		{ "data", "", P_RW },
		{ "drivers", "", P_RW },
		{ "feature", "", P_RW },
		{ "attr", "", P_RW },
		{ "error", "", P_RW },
		{ "console", "", P_RO }, /* its backend is Domain-0 */
		{ "console/backend-id", "0", P_INHERIT },
		{ "console/limit", "1048576", P_INHERIT },
		{ "console/type", "xenconsoled", P_INHERIT },
		{ "console/output", "pty", P_INHERIT },
		{ "console/tty", "", P_INHERIT },
		{ "console/port", cport, P_INHERIT },
		{ "console/ring-ref", cref, P_INHERIT },
		{ vm, "", P_RO },
		{ vmuuid, d->uuid, P_INHERIT },
		{ vmname, c->name, P_INHERIT },
	};

	struct dom_nodes a = { c, id, nodes, sizeof(nodes) / sizeof(nodes[0]) };

	return ts_xs_transact(xs, write_domain_nodes, &a);
}

void ts_xs_remove_domain(struct xs_handle *xs, uint32_t domid, const char *uuid)
{
	char path[128];

	snprintf(path, sizeof(path), "/local/domain/%u", domid);
	xs_rm(xs, XBT_NULL, path);
	snprintf(path, sizeof(path), "/libxl/%u", domid);
	xs_rm(xs, XBT_NULL, path);
	ts_xs_remove_disks(xs, domid);
	ts_xs_remove_vifs(xs, domid);
	if (uuid && *uuid && strcmp(uuid, "-") != 0) {
		snprintf(path, sizeof(path), "/vm/%s", uuid);
		xs_rm(xs, XBT_NULL, path);
	}
	/* Fires @releaseDomain for everyone watching (xenstore.txt). */
	xs_release_domain(xs, domid);
}

/* write() in a transaction, again while the commit meets a conflict. */
int ts_xs_transact(struct xs_handle *xs, int (*write)(struct xs_handle *xs, uint32_t t, const void *arg),
		   const void *arg)
{
	for (int tries = 0; tries < 10; tries++) {
		xs_transaction_t t = xs_transaction_start(xs);
		int rc;

		if (t == XBT_NULL)
			return -errno;
		rc = write(xs, t, arg);
		if (rc < 0) {
			xs_transaction_end(xs, t, true);
			return rc;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -errno;
	}
	return -EAGAIN;
}

/* libxl__device_generic_add()'s writes of one directory: perms on the
 * directory (if given), each key, and perms on each key (if each). */
int ts_xs_write_dir(struct xs_handle *xs, uint32_t t, const char *dir, const struct xs_permissions *perms,
		     const struct ts_kv *kv, size_t n, const struct xs_permissions *each)
{
	char path[512];

	if (perms && (!xs_mkdir(xs, t, dir) || !xs_set_permissions(xs, t, dir, (struct xs_permissions *)perms, 2)))
		return -errno;
	for (size_t i = 0; i < n; i++) {
		if (!kv[i].value)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, kv[i].key);
		if (!xs_write(xs, t, path, kv[i].value, (unsigned)strlen(kv[i].value)))
			return -errno;
		if (each && !xs_set_permissions(xs, t, path, (struct xs_permissions *)each, 2))
			return -errno;
	}
	return 0;
}
