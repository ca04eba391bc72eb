/* The domain table: run directories and the monitors' control sockets. */
#include "ts.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <xen/xen.h> /* DOMID_FIRST_RESERVED */

const char *ts_run_dir(void)
{
	const char *d = getenv("DOMUS_RUN_DIR");

	return d && *d ? d : "/run/domus";
}

const char *ts_log_dir(void)
{
	const char *d = getenv("DOMUS_LOG_DIR");

	return d && *d ? d : "/var/log/xen";
}

int ts_dom_dir(uint32_t domid, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%u", ts_run_dir(), domid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int ts_find_program(const char *name, const char *env, char *buf, size_t len)
{
	const char *e = getenv(env);
	char self[PATH_MAX], *slash;
	ssize_t n;
	/* installed side by side, or in the build tree (build/xl, build/vmm ...) */
	const char *const rel[] = { "", "/../vmm", "/../xenstored" };

	if (e && *e) {
		snprintf(buf, len, "%s", e);
		return access(buf, X_OK) == 0 ? 0 : -errno;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
				snprintf(buf, len, "%s%s/%s", self, rel[i], name);
				if (access(buf, X_OK) == 0)
					return 0;
			}
		}
	}
	snprintf(buf, len, "/usr/lib/domus/%s", name);
	if (access(buf, X_OK) == 0)
		return 0;
	snprintf(buf, len, "%s", name);
	return -ENOENT;
}

int ts_dom_socket(uint32_t domid, const char *name, struct sockaddr_un *sa)
{
	char dir[256];
	size_t dl, nl = strlen(name);
	int rc = ts_dom_dir(domid, dir, sizeof(dir));

	if (rc < 0)
		return rc;
	dl = strlen(dir);
	if (dl + 1 + nl + 1 > sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, dir, dl);
	sa->sun_path[dl] = '/';
	memcpy(sa->sun_path + dl + 1, name, nl + 1);
	return 0;
}

int ts_control(uint32_t domid, const char *req, char *rep, size_t replen)
{
	struct sockaddr_un sa;
	char buf[512];
	struct pollfd p;
	ssize_t n;
	int fd, rc;

	rc = ts_dom_socket(domid, "control", &sa);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		rc = -errno;
		goto out;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 5000) != 1) {
		rc = -ETIMEDOUT;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0) {
		rc = n < 0 ? -errno : -EPIPE;
		goto out;
	}
	buf[n] = '\0';
	if (strncmp(buf, "ok", 2) != 0) {
		if (rep)
			snprintf(rep, replen, "%s", strncmp(buf, "error ", 6) == 0 ? buf + 6 : buf);
		rc = -EINVAL;
		goto out;
	}
	if (rep)
		snprintf(rep, replen, "%s", buf[2] == ' ' ? buf + 3 : "");
	rc = 0;
out:
	close(fd);
	return rc;
}

static const char *field(const char *s, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);

	for (const char *p = s; p && *p; p = strchr(p, ' '), p = p ? p + 1 : NULL) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, " ");
			snprintf(buf, len, "%.*s", (int)n, p + kl + 1);
			return buf;
		}
	}
	buf[0] = '\0';
	return buf;
}

int ts_dom_info(uint32_t domid, struct ts_dom *d)
{
	char rep[512], v[128];
	int rc = ts_control(domid, "info", rep, sizeof(rep));

	if (rc < 0)
		return rc;
	memset(d, 0, sizeof(*d));
	d->domid = domid;
	snprintf(d->name, sizeof(d->name), "%s", field(rep, "name", v, sizeof(v)));
	snprintf(d->uuid, sizeof(d->uuid), "%s", field(rep, "uuid", v, sizeof(v)));
	d->mem_kb = strtoull(field(rep, "mem_kb", v, sizeof(v)), NULL, 10);
	d->vcpus = atoi(field(rep, "vcpus", v, sizeof(v)));
	d->state = field(rep, "state", v, sizeof(v))[0];
	d->cpu_ns = strtoull(field(rep, "cpu_ns", v, sizeof(v)), NULL, 10);
	d->start = strtoll(field(rep, "start", v, sizeof(v)), NULL, 10);
	d->store_port = (uint32_t)strtoul(field(rep, "store_port", v, sizeof(v)), NULL, 10);
	d->console_port = (uint32_t)strtoul(field(rep, "console_port", v, sizeof(v)), NULL, 10);
	return 0;
}

static int by_domid(const void *a, const void *b)
{
	const struct ts_dom *x = a, *y = b;

	return x->domid < y->domid ? -1 : x->domid > y->domid;
}

int ts_dom_list(struct ts_dom **out, size_t *n)
{
	DIR *dir = opendir(ts_run_dir());
	struct ts_dom *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *e;

	*out = NULL;
	*n = 0;
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(dir))) {
		char *end;
		unsigned long id = strtoul(e->d_name, &end, 10);
		struct ts_dom d;

		/* only the names ts_dom_dir makes: "+3" or "03" would list
		 * domain 3 twice */
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || *end || id >= DOMID_FIRST_RESERVED)
			continue;
		if (ts_dom_info((uint32_t)id, &d) < 0)
			continue; /* being created, or its monitor is gone */
		if (cnt == cap) {
			struct ts_dom *nv = realloc(v, (cap = cap ? cap * 2 : 8) * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(dir);
				return -ENOMEM;
			}
			v = nv;
		}
		v[cnt++] = d;
	}
	closedir(dir);
	qsort(v, cnt, sizeof(*v), by_domid);
	*out = v;
	*n = cnt;
	return 0;
}

int ts_dom_lookup(const char *spec, struct ts_dom *d)
{
	struct ts_dom *v;
	size_t n;
	char *end;
	unsigned long id = strtoul(spec, &end, 10);
	int rc;

	if (*spec && !*end) {
		if (id == 0) {
			fprintf(stderr, "Domain-0 is the host: this command does not apply to it\n");
			return -EPERM;
		}
		if (id < DOMID_FIRST_RESERVED && ts_dom_info((uint32_t)id, d) == 0)
			return 0;
		fprintf(stderr, "invalid domain identifier (rc=-6)\n");
		return -ENOENT;
	}
	if (strcmp(spec, "Domain-0") == 0) {
		fprintf(stderr, "Domain-0 is the host: this command does not apply to it\n");
		return -EPERM;
	}
	rc = ts_dom_list(&v, &n);
	if (rc < 0)
		return rc;
	rc = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].name, spec) == 0) {
			*d = v[i];
			rc = 0;
			break;
		}
	}
	free(v);
	if (rc < 0)
		fprintf(stderr, "%s is an invalid domain identifier (rc=-6)\n", spec);
	return rc;
}
