/* qemu-storage-daemon as the qcow2/vhd back end's block layer (qsd.h). */
#include "qsd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* linux/magic.h */
#define QSD_FUSE_SUPER_MAGIC 0x65735546

enum { QSD_ARGS = 9, QSD_ARGLEN = 4096 + 512 };

struct qsd {
	pid_t pid;
	char path[512];
};

/* QEMU's option syntax: a comma inside a value is written twice. */
static int put_escaped(char *buf, size_t len, size_t *at, const char *s)
{
	for (; *s; s++) {
		if (*at + 2 >= len)
			return -ENAMETOOLONG;
		buf[(*at)++] = *s;
		if (*s == ',')
			buf[(*at)++] = ',';
	}
	buf[*at] = '\0';
	return 0;
}

/* --blockdev file, --blockdev qcow2|vpc, --export fuse: what QEMU's
 * cache=writeback means (the host page cache, and a guest flush is an
 * fdatasync of the image: Xen's qdisk without direct-io-safe opens the same
 * way), discard=unmap at both layers so a guest's discard frees clusters
 * and punches holes in the image. */
static int build_args(const struct qsd_cfg *c, const char *mnt, char args[3][QSD_ARGLEN])
{
	const char *drv = strcmp(c->format, "vhd") == 0 ? "vpc" : c->format;
	const char *ro = c->readonly ? "on" : "off";
	size_t at;
	int n;

	if (strcmp(c->format, "qcow2") != 0 && strcmp(c->format, "vhd") != 0)
		return -EINVAL;
	at = (size_t)snprintf(args[0], QSD_ARGLEN, "driver=file,node-name=file,filename=");
	if (put_escaped(args[0], QSD_ARGLEN, &at, c->image) < 0)
		return -ENAMETOOLONG;
	n = snprintf(args[0] + at, QSD_ARGLEN - at, ",cache.direct=off,aio=threads,discard=unmap,read-only=%s", ro);
	if (n < 0 || (size_t)n >= QSD_ARGLEN - at)
		return -ENAMETOOLONG;
	snprintf(args[1], QSD_ARGLEN, "driver=%s,node-name=disk,file=file,discard=unmap,read-only=%s", drv, ro);
	at = (size_t)snprintf(args[2], QSD_ARGLEN, "type=fuse,id=export,node-name=disk,mountpoint=");
	if (put_escaped(args[2], QSD_ARGLEN, &at, mnt) < 0)
		return -ENAMETOOLONG;
	n = snprintf(args[2] + at, QSD_ARGLEN - at, ",writable=%s,allow-other=off", c->readonly ? "off" : "on");
	return n < 0 || (size_t)n >= QSD_ARGLEN - at ? -ENAMETOOLONG : 0;
}

/* The child: dies with the thread that forked it (qsd.h), in its own
 * process group (a terminal's ^C for xl's console is not for it), signals
 * unblocked (a mask is inherited across exec), only 0-2 open. */
static void child(const char *bin, char args[3][QSD_ARGLEN], int log_fd, pid_t parent)
{
	char *argv[] = { (char *)bin, "--blockdev", args[0], "--blockdev", args[1], "--export", args[2], NULL };
	sigset_t all;
	int null = open("/dev/null", O_RDONLY);

	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(127);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setpgid(0, 0);
	if (null < 0 || dup2(null, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
		_exit(127);
	close_range(3, ~0u, 0);
	execvp(bin, argv);
	dprintf(2, "cannot run %s: %s\n", bin, strerror(errno));
	_exit(127);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static bool mounted(const char *path)
{
	struct statfs s;

	return statfs(path, &s) == 0 && (unsigned long)s.f_type == QSD_FUSE_SUPER_MAGIC;
}

/* The daemon's first error line, less its program name and the option it
 * quotes back (ours, long and known): "Image is not in qcow2 format". */
static void first_error(int log_fd, char args[3][QSD_ARGLEN], char *why, size_t wl)
{
	char buf[2048], *line, *nl;
	ssize_t n = pread(log_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0) {
		snprintf(why, wl, "qemu-storage-daemon said nothing");
		return;
	}
	buf[n] = '\0';
	line = buf;
	while (*line == '\n')
		line++;
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	if (strncmp(line, "qemu-storage-daemon: ", 21) == 0)
		line += 21;
	for (int i = 0; i < 3; i++) {
		static const char *const opt[] = { "--blockdev ", "--blockdev ", "--export " };
		size_t ol = strlen(opt[i]), al = strlen(args[i]);

		if (strncmp(line, opt[i], ol) == 0 && strncmp(line + ol, args[i], al) == 0 &&
		    strncmp(line + ol + al, ": ", 2) == 0)
			line += ol + al + 2;
	}
	snprintf(why, wl, "%s", line);
}

static void reap(pid_t pid, unsigned grace_ms)
{
	for (unsigned t = 0; t < grace_ms; t += 10) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void qsd_remove_stale(const char *path)
{
	/* A daemon killed with SIGKILL leaves its mount; lazily detached, it
	 * goes once nothing uses it.  Not mounted: EINVAL, nothing done. */
	(void)umount2(path, MNT_DETACH);
	(void)unlink(path);
}

int qsd_start(const struct qsd_cfg *c, struct qsd **out, char *why, size_t wl)
{
	char args[3][QSD_ARGLEN];
	const char *bin = c->binary ? c->binary : getenv("DOMUS_QSD");
	unsigned timeout = c->timeout_ms ? c->timeout_ms : 30000;
	struct qsd *q = NULL;
	int log_fd = -1, fd, rc;
	pid_t pid, self = getpid();

	*out = NULL;
	if (!bin || !*bin)
		bin = "qemu-storage-daemon";
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->pid = -1;
	if (snprintf(q->path, sizeof(q->path), "%s/%s", c->dir, c->name) >= (int)sizeof(q->path)) {
		rc = -ENAMETOOLONG;
		snprintf(why, wl, "%s/%s: %s", c->dir, c->name, strerror(-rc));
		goto fail;
	}
	rc = build_args(c, q->path, args);
	if (rc < 0) {
		snprintf(why, wl, rc == -EINVAL ? "format %s: not qcow2 or vhd" : "%s: path too long", c->image);
		goto fail;
	}
	/* FUSE mounts onto an existing regular file; one left by a daemon
	 * that died with its monitor goes first. */
	qsd_remove_stale(q->path);
	fd = open(q->path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, wl, "%s: %s", q->path, strerror(-rc));
		goto fail;
	}
	close(fd);
	/* The daemon's stderr, read back only if it fails to start. */
	log_fd = memfd_create("qsd-log", MFD_CLOEXEC);
	if (log_fd < 0) {
		rc = -errno;
		snprintf(why, wl, "memfd: %s", strerror(-rc));
		goto fail_file;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		snprintf(why, wl, "fork: %s", strerror(-rc));
		goto fail_file;
	}
	if (pid == 0)
		child(bin, args, log_fd, self);
	q->pid = pid;
	for (unsigned t = 0;; t += 10) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid) {
			q->pid = -1;
			first_error(log_fd, args, why, wl);
			rc = -EIO;
			goto fail_file;
		}
		if (mounted(q->path))
			break;
		if (t >= timeout) {
			snprintf(why, wl, "qemu-storage-daemon did not export the image within %u ms", timeout);
			rc = -ETIMEDOUT;
			goto fail_kill;
		}
		sleep_ms(10);
	}
	close(log_fd);
	*out = q;
	return 0;

fail_kill:
	kill(pid, SIGTERM);
	reap(pid, 2000);
fail_file:
	qsd_remove_stale(q->path);
fail:
	if (log_fd >= 0)
		close(log_fd);
	free(q);
	return rc;
}

const char *qsd_path(const struct qsd *q)
{
	return q->path;
}

pid_t qsd_pid(const struct qsd *q)
{
	return q->pid;
}

void qsd_stop(struct qsd *q)
{
	if (!q)
		return;
	if (q->pid > 0) {
		/* SIGTERM: QEMU's orderly exit flushes the image and unmounts. */
		kill(q->pid, SIGTERM);
		reap(q->pid, 10000);
	}
	qsd_remove_stale(q->path);
	free(q);
}
