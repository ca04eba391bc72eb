/* The domain table: run directories and the monitors' control sockets. */
#include "ts.h"
#include "ts_sched.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xen/xen.h> /* DOMID_FIRST_RESERVED */

const char *ts_run_dir(void)
{
	const char *d = getenv("DOMUS_RUN_DIR");

	return d && *d ? d : "/run/domus";
}

void ts_vflog(FILE *f, const char *fmt, va_list ap)
{
	char ts[32];
	time_t now = time(NULL);

	if (!f)
		return;
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", localtime(&now));
	fprintf(f, "%s ", ts);
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
}

void ts_close_inherited(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name), fl;

		if (fd < 3 || fd == dirfd(d))
			continue;
		fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			close(fd);
	}
	closedir(d);
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

/* Everything in a domain's run directory is the domain's (its sockets, pid
 * files, configuration): all of it goes, so that an entry added later cannot
 * keep the directory, and with it the domain id, alive. */
void ts_dom_rm_run_dir(uint32_t domid)
{
	char dir[256], p[512];
	struct dirent *e;
	DIR *d;

	if (ts_dom_dir(domid, dir, sizeof(dir)) < 0)
		return;
	d = opendir(dir);
	if (d) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
				snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
				/* a qcow2/vhd export (qsd-<devid>) that a monitor
				 * killed outright left, possibly still mounted by a
				 * daemon killed with it (vmm/blk/qsd.h) */
				if (strncmp(e->d_name, "qsd-", 4) == 0)
					(void)umount2(p, MNT_DETACH);
				unlink(p);
			}
		closedir(d);
	}
	rmdir(dir);
	/* its CPU share: the monitor and what it started are gone by now */
	const char *cg = ts_sched_root();
	if (cg)
		(void)ts_sched_remove(cg, domid);
}

int ts_dom_write(const char *dir, const char *name, const char *fmt, ...)
{
	char p[300];
	FILE *f;
	va_list ap;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "we");
	if (!f)
		return -errno;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	return fclose(f) == 0 ? 0 : -errno;
}

/* A supervisor runs in a session of its own (ts_create.c), and each
 * hotplug script in a process group of its own inside it (ts_hotplug.c):
 * killing the session is the one way to reach a script the supervisor
 * left running, which would otherwise write its hotplug-status into the
 * xenstore nodes removed after it (xen-hotplug-common.sh fatal). */
int ts_kill_session(pid_t member)
{
	pid_t sid = getsid(member), self = getsid(0);
	struct dirent *e;
	DIR *d;

	if (sid <= 1 || sid == self)
		return sid < 0 ? -errno : -EPERM;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 1)
			continue;
		if (getsid((pid_t)pid) == sid)
			kill((pid_t)pid, SIGKILL);
	}
	closedir(d);
	return 0;
}

/* The pid in a domain's pid file if that process lives and is named comm
 * (a stale file's pid may belong to someone else by now); else 0. */
pid_t ts_dom_pid(uint32_t domid, const char *file, const char *comm)
{
	char path[512], buf[64] = "";
	long pid = 0;
	FILE *f;

	if (ts_dom_dir(domid, path, sizeof(path)) < 0)
		return 0;
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", file);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 1)
		pid = 0;
	fclose(f);
	if (pid == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return strcmp(buf, comm) == 0 ? (pid_t)pid : 0;
}

int ts_find_program(const char *name, const char *env, char *buf, size_t len)
{
	const char *e = getenv(env);
	char self[PATH_MAX], *slash;
	ssize_t n;
	/* installed side by side (or, for xl's preload library, in
	 * PREFIX/lib/domus), or in the build tree (build/xl, build/vmm ...) */
	const char *const rel[] = { "", "/../vmm", "/../xenstored", "/../lib/domus" };

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

int ts_control_call(uint32_t domid, const struct ctl_msg *req, struct ctl_msg *rep, char *err, size_t errlen)
{
	return ts_control_call_ms(domid, req, rep, 5000, err, errlen);
}

int ts_control_call_ms(uint32_t domid, const struct ctl_msg *req, struct ctl_msg *rep, int timeout_ms, char *err,
		       size_t errlen)
{
	struct sockaddr_un sa;
	char why[CTL_ERROR_TEXT_MAX] = "";
	int fd, rc;

	rc = ts_dom_socket(domid, "control", &sa);
	if (rc < 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ctl_msg_init(rep, CTL_ERROR, CTL_F_REPLY, 0, NULL, 0); /* no descriptors if connect fails */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		rc = -errno;
	else
		rc = ctl_call(fd, req, rep, timeout_ms, why, sizeof(why));
	if (rc < 0 && err)
		snprintf(err, errlen, "%s", why[0] ? why : strerror(-rc));
	close(fd);
	return rc;
}

int ts_control(uint32_t domid, unsigned type)
{
	struct ctl_msg req, rep;
	int rc = ctl_msg_init(&req, type, 0, (uint32_t)getpid(), NULL, 0);

	if (rc < 0)
		return rc;
	rc = ts_control_call(domid, &req, &rep, NULL, 0);
	ctl_msg_close_fds(&rep);
	return rc;
}

int ts_dom_info(uint32_t domid, struct ts_dom *d)
{
	struct ctl_msg req, rep;
	const struct ctl_info *i = &rep.u.info;
	int rc = ctl_msg_init(&req, CTL_INFO, 0, (uint32_t)getpid(), NULL, 0);

	if (rc == 0)
		rc = ts_control_call(domid, &req, &rep, NULL, 0);
	if (rc < 0)
		return rc;
	/* The reply was checked: strings end within their arrays, state is r, b or p. */
	memset(d, 0, sizeof(*d));
	d->domid = domid;
	snprintf(d->name, sizeof(d->name), "%s", i->name);
	snprintf(d->uuid, sizeof(d->uuid), "%s", i->uuid);
	d->mem_kb = i->mem_kb;
	d->vcpus = (int)i->vcpus;
	d->state = (char)i->state;
	d->cpu_ns = i->cpu_ns;
	d->start = i->start;
	d->store_port = i->store_port;
	d->console_port = i->console_port;
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

/* A domain by id or name from the run directories alone (the "name" file
 * its supervisor wrote when it claimed the id), for when its monitor may
 * not answer: xl destroy of a hung domain.  0, or -ENOENT. */
int ts_dom_find(const char *spec, uint32_t *domid)
{
	char dir[256], path[512], name[256];
	unsigned long id = 0;
	struct dirent *e;
	struct stat st;
	char *end;
	DIR *d;
	FILE *f;
	int rc = -ENOENT;

	id = strtoul(spec, &end, 10);
	if (*spec && !*end) {
		if (id == 0 || id >= DOMID_FIRST_RESERVED || ts_dom_dir((uint32_t)id, dir, sizeof(dir)) < 0 ||
		    stat(dir, &st) < 0)
			return -ENOENT;
		*domid = (uint32_t)id;
		return 0;
	}
	d = opendir(ts_run_dir());
	if (!d)
		return -ENOENT;
	while (rc < 0 && (e = readdir(d))) {
		id = strtoul(e->d_name, &end, 10);
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || *end || id >= DOMID_FIRST_RESERVED)
			continue;
		snprintf(path, sizeof(path), "%s/%s/name", ts_run_dir(), e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f)) {
			name[strcspn(name, "\n")] = '\0';
			if (strcmp(name, spec) == 0) {
				*domid = (uint32_t)id;
				rc = 0;
			}
		}
		fclose(f);
	}
	closedir(d);
	return rc;
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
