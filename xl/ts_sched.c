/* A domain's CPU share as a cgroup v2 (ts_sched.h). */
#include "ts_sched.h"
#include "ts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

/* include/uapi/linux/magic.h */
#define CGROUP2_MAGIC 0x63677270

static int put(const char *dir, const char *file, const char *val, char *err, size_t errlen)
{
	char p[512];
	size_t len = strlen(val);
	ssize_t n = 0;
	int fd, rc = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	/* Never created: a cgroup's files are the kernel's, and one that is
	 * missing means its feature is (ENOENT). */
	fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || (n = write(fd, val, len)) < 0)
		rc = -errno;
	else if ((size_t)n != len)
		rc = -EIO;
	if (fd >= 0)
		close(fd);
	if (rc < 0 && err)
		snprintf(err, errlen, "%s: cannot write \"%s\": %s", p, val, strerror(-rc));
	return rc;
}

/* A cgroup made, or there already */
static int make_dir(const char *path, char *err, size_t errlen)
{
	int rc = 0;

	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	}
	return rc;
}

static int domain_dir(const char *root, uint32_t domid, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/domus/%u", root, domid);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

const char *ts_sched_root_path(void)
{
	const char *root = getenv("DOMUS_CGROUP_ROOT");

	return root && *root ? root : "/sys/fs/cgroup";
}

const char *ts_sched_root(void)
{
	const char *root = ts_sched_root_path();
	char p[512], buf[512];
	struct statfs fs;
	ssize_t n;
	int fd;

	/* A container's read-only view of its cgroup is no place for domains */
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", root);
	if (statfs(root, &fs) < 0 || fs.f_type != CGROUP2_MAGIC || access(p, W_OK) < 0)
		return NULL;
	snprintf(p, sizeof(p), "%s/cgroup.controllers", root);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	for (char *save = NULL, *w = strtok_r(buf, " \n", &save); w; w = strtok_r(NULL, " \n", &save))
		if (strcmp(w, "cpu") == 0)
			return root;
	return NULL;
}

unsigned ts_sched_cg_weight(int weight)
{
	long long w = ((long long)weight * 100 + TS_SCHED_WEIGHT_DEFAULT / 2) / TS_SCHED_WEIGHT_DEFAULT;

	return w < 1 ? 1 : w > 10000 ? 10000 : (unsigned)w;
}

void ts_sched_cg_max(int cap, char *buf, size_t len)
{
	if (cap <= 0)
		snprintf(buf, len, "max %u", TS_SCHED_PERIOD_US);
	else
		snprintf(buf, len, "%llu %u", (unsigned long long)cap * (TS_SCHED_PERIOD_US / 100), TS_SCHED_PERIOD_US);
}

int ts_sched_apply(const char *root, uint32_t domid, const struct ts_sched *p, char *err, size_t errlen)
{
	char dir[512], v[64];
	int rc;

	if ((rc = domain_dir(root, domid, dir, sizeof(dir))) < 0)
		return rc;
	snprintf(v, sizeof(v), "%u", ts_sched_cg_weight(p->weight));
	if ((rc = put(dir, "cpu.weight", v, err, errlen)) < 0)
		return rc;
	ts_sched_cg_max(p->cap, v, sizeof(v));
	rc = put(dir, "cpu.max", v, err, errlen);
	/* A kernel without CONFIG_CFS_BANDWIDTH has no cpu.max: no cap is
	 * then what it does anyway (Debian's kernels have it; the lab's not). */
	if (rc == -ENOENT && p->cap == 0)
		rc = 0;
	else if (rc == -ENOENT)
		snprintf(err, errlen, "cap=%d: this kernel's cpu controller has no cpu.max to carry it out "
				      "(CONFIG_CFS_BANDWIDTH); valid here: cap=0", p->cap);
	return rc;
}

int ts_sched_create(const char *root, uint32_t domid, const struct ts_sched *p, char *err, size_t errlen)
{
	char top[512], dir[512];
	int rc;

	snprintf(top, sizeof(top), "%s/domus", root);
	if ((rc = domain_dir(root, domid, dir, sizeof(dir))) < 0)
		return rc;
	/* The controller must be on in every parent's subtree_control for the
	 * child to have cpu.weight; domus/ itself holds no process, as cgroup
	 * v2 wants of a parent with controllers ("no internal processes"). */
	if ((rc = put(root, "cgroup.subtree_control", "+cpu", err, errlen)) < 0)
		return rc;
	if ((rc = make_dir(top, err, errlen)) < 0 || (rc = put(top, "cgroup.subtree_control", "+cpu", err, errlen)) < 0 ||
	    (rc = make_dir(dir, err, errlen)) < 0)
		return rc;
	rc = ts_sched_apply(root, domid, p, err, errlen);
	if (rc < 0)
		rmdir(dir);
	return rc;
}

int ts_sched_join(const char *root, uint32_t domid)
{
	char dir[512];
	int rc = domain_dir(root, domid, dir, sizeof(dir));

	/* "0": the writing process itself (cgroup-v2.rst, cgroup.procs) */
	return rc < 0 ? rc : put(dir, "cgroup.procs", "0", NULL, 0);
}

int ts_sched_remove(const char *root, uint32_t domid)
{
	char dir[512];
	int rc = domain_dir(root, domid, dir, sizeof(dir));

	if (rc < 0)
		return rc;
	return rmdir(dir) < 0 && errno != ENOENT ? -errno : 0;
}

int ts_sched_store(const char *run_dir, const struct ts_sched *p)
{
	return ts_dom_write(run_dir, "sched", "%d %d\n", p->weight, p->cap);
}

void ts_sched_load(const char *run_dir, struct ts_sched *p)
{
	char path[512];
	FILE *f;
	int w, c;

	*p = (struct ts_sched){ .weight = TS_SCHED_WEIGHT_DEFAULT, .cap = 0 };
	snprintf(path, sizeof(path), "%s/sched", run_dir);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fscanf(f, "%d %d", &w, &c) == 2 && w >= 1 && w <= 65535 && c >= 0)
		*p = (struct ts_sched){ .weight = w, .cap = c };
	fclose(f);
}
