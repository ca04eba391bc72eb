/* xl create: start a domain's monitor and supervise it.
 *
 * As Xen's xl does, create forks a process that stays with the domain for its
 * life (the supervisor).  The supervisor allocates the domain id, starts
 * domus-vmm paused, writes the domain's xenstore nodes, introduces the domain
 * to xenstored, unpauses it, and then tells the waiting `xl create` that the
 * domain runs (or why it does not).  When the monitor exits it cleans up and
 * applies on_poweroff / on_reboot / on_crash; "restart" starts the same
 * configuration again under a new domain id. */
#include "ts.h"
#include "ts_bootloader.h"
#include "ts_sched.h"
#include "xl.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>
#include <xen/xen.h> /* DOMID_FIRST_RESERVED */

#include "domus/guest_layout.h"
#include "domus/vmm_exit.h"

struct sup {
	struct xl_ctx *x;
	struct domain_config *first; /* as created */
	struct domain_config *c;     /* this boot's: what libxl would store (the vifs' MACs change) */
	const struct ts_start *st; /* restore_fd is the first boot's only */
	/* The configuration xl kept of the boot that ended (hot-plug changes
	 * its disks, ts_domcfg.c), read before its run directory goes: a
	 * restart boots it, as libxl's stored configuration. */
	char *kept;
	size_t kept_len;
	bool paused;
	int report_fd; /* to the waiting `xl create`, -1 once reported */
	char uuid[40];
	FILE *log;
	/* What the boot loader chose for the next boot (xl create runs it
	 * for the first, with the user's terminal; the supervisor for each
	 * restart), and the copies of its files the monitor loads. */
	struct ts_boot boot;
	char kernel_copy[300], ramdisk_copy[300];
	/* The cgroup v2 hierarchy of the domains' CPU shares (ts_sched.h),
	 * NULL without one. */
	const char *cg_root;
};

static void slog(struct sup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void slog(struct sup *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ts_vflog(s->log, fmt, ap);
	va_end(ap);
}

static void report(struct sup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct sup *s, const char *fmt, ...)
{
	char buf[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	slog(s, "%s", buf);
	if (s->report_fd >= 0) {
		(void)!write(s->report_fd, buf, strlen(buf));
		close(s->report_fd);
		s->report_fd = -1;
	}
}

static bool pid_alive(const char *dir, const char *file)
{
	char p[300];
	FILE *f;
	long pid = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "re");
	if (!f)
		return false;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 0 && kill((pid_t)pid, 0) == 0;
}

/* Domain ids run from 1 to DOMID_FIRST_RESERVED - 1, then round again. */
static unsigned long next_domid(unsigned long id)
{
	return id + 1 >= DOMID_FIRST_RESERVED ? 1 : id + 1;
}

/* Claims the run directory of domain id, removing one left by a supervisor
 * that died; -EEXIST when a live domain has it. */
static int claim_run_dir(uint32_t id, char *dir, size_t len)
{
	int rc = ts_dom_dir(id, dir, len);

	if (rc == 0 && mkdir(dir, 0700) < 0) {
		rc = -errno;
		if (rc == -EEXIST && !pid_alive(dir, "supervisor.pid") && !pid_alive(dir, "vmm.pid")) {
			ts_dom_rm_run_dir(id);
			rc = mkdir(dir, 0700) == 0 ? 0 : -errno;
		}
	}
	return rc;
}

/* Marks a claimed run directory as domain name's: its name, and
 * supervisor.pid, which tells other allocators that it is live.  On
 * failure the directory goes again. */
static int mark_run_dir(uint32_t id, const char *dir, const char *name, char *err, size_t errlen)
{
	int rc = ts_dom_write(dir, "name", "%s\n", name);

	if (rc == 0)
		rc = ts_dom_write(dir, "supervisor.pid", "%ld\n", (long)getpid());
	if (rc < 0) {
		snprintf(err, errlen, "cannot write to %s: %s", dir, strerror(-rc));
		ts_dom_rm_run_dir(id);
	}
	return rc;
}

/* Under the run directory's lock: refuse a name in use, then take the next
 * domain id (ids only grow, as Xen's do, so a restarted domain gets a new
 * one) and claim its run directory.  A restore asks for the id it was
 * saved with (want, else 0) and gets it when it is free: domus's guest is
 * not told of the save (no suspend and resume, which under Xen makes every
 * frontend read its back end's path again), and its frontends go on
 * watching back-end paths that name that id
 * (/local/domain/0/backend/vbd/<domid>/<devid>/state).  Under a new id
 * xenstored serves those paths at the new one (the import records the old
 * id, docs/xenstored.md "A new id"), but a domain keeps few old ids. */
static int allocate_domid(const char *name, uint32_t want, uint32_t *domid, char *err, size_t errlen)
{
	char lock[256], dir[256], next_path[256];
	struct ts_dom *v = NULL;
	size_t n = 0;
	unsigned long next = 1, tries;
	uint32_t id;
	bool wanted;
	int fd, rc;
	FILE *f;

	mkdir(ts_run_dir(), 0755);
	snprintf(lock, sizeof(lock), "%s/.lock", ts_run_dir());
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot lock %s: %s", lock, strerror(-rc));
		goto out;
	}
	/* Without the list the name cannot be checked: fail rather than start
	 * a second domain of the same name. */
	rc = ts_dom_list(&v, &n);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read %s: %s", ts_run_dir(), strerror(-rc));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].name, name) == 0) {
			snprintf(err, errlen, "domain with name \"%s\" already exists (id %u)", name, v[i].domid);
			rc = -EEXIST;
			goto out;
		}
	}
	snprintf(next_path, sizeof(next_path), "%s/next-domid", ts_run_dir());
	f = fopen(next_path, "re");
	if (f) {
		if (fscanf(f, "%lu", &next) != 1 || next == 0 || next >= DOMID_FIRST_RESERVED)
			next = 1;
		fclose(f);
	}
	/* The id asked for when it is free (any failure to claim it: the
	 * next free one instead). */
	wanted = want && want < DOMID_FIRST_RESERVED && claim_run_dir(want, dir, sizeof(dir)) == 0;
	rc = wanted ? 0 : -EEXIST;
	/* Every id once at most; an error other than "taken" is the same for
	 * every id. */
	for (tries = 1; rc == -EEXIST && tries < DOMID_FIRST_RESERVED; tries++) {
		rc = claim_run_dir((uint32_t)next, dir, sizeof(dir));
		if (rc == -EEXIST)
			next = next_domid(next);
	}
	if (rc < 0) {
		if (rc == -EEXIST)
			snprintf(err, errlen, "every domain id is in use");
		else
			snprintf(err, errlen, "cannot create a domain directory under %s: %s", ts_run_dir(),
				 strerror(-rc));
		goto out;
	}
	id = wanted ? want : (uint32_t)next;
	rc = mark_run_dir(id, dir, name, err, errlen);
	if (rc < 0)
		goto out;
	*domid = id;
	/* A restore's own id leaves the sequence of new ids as it was. */
	f = wanted ? NULL : fopen(next_path, "we");
	if (f) {
		fprintf(f, "%lu\n", next_domid(next));
		fclose(f);
	}
out:
	free(v);
	if (fd >= 0)
		close(fd);
	return rc;
}

void ts_uuid_str(const uint8_t u[16], char *buf, size_t len)
{
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
		 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

/* Starts domus-vmm for one boot of the domain; returns its pid, or -errno
 * with err filled. */
static pid_t start_vmm(struct sup *s, uint32_t domid, int restore_fd, char *err, size_t errlen)
{
	const struct domain_config *c = s->c;
	const bool bl = s->kernel_copy[0] != '\0';
	const char *kernel = bl ? s->kernel_copy : c->kernel;
	const char *ramdisk = bl ? (s->ramdisk_copy[0] ? s->ramdisk_copy : NULL) : c->ramdisk;
	const char *cmdline = bl ? s->boot.cmdline : c->cmdline;
	char prog[512], dir[256], dom[16], mem[32], vcpus[16], con_log[512], vmm_log[512], readyfd[16], rstfd[16];
	char line[600];
	int ready[2];
	pid_t pid;
	ssize_t n;

	if (ts_find_program("domus-vmm", "DOMUS_VMM", prog, sizeof(prog)) < 0) {
		snprintf(err, errlen, "domus-vmm not found (set DOMUS_VMM)");
		return -ENOENT;
	}
	ts_dom_dir(domid, dir, sizeof(dir));
	snprintf(dom, sizeof(dom), "%u", domid);
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)(c->max_memkb / 1024));
	snprintf(vcpus, sizeof(vcpus), "%d", c->max_vcpus);
	snprintf(con_log, sizeof(con_log), "%s/console/guest-%s.log", ts_log_dir(), c->name);
	snprintf(vmm_log, sizeof(vmm_log), "%s/domus-vmm-%s.log", ts_log_dir(), c->name);
	if (pipe2(ready, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(ready[0]);
		close(ready[1]);
		return -errno;
	}
	if (pid == 0) {
		int fd = open(vmm_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (nul >= 0)
			dup2(nul, 0);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		/* The ready pipe is the one descriptor the monitor inherits. */
		int rfd = dup(ready[1]);
		snprintf(readyfd, sizeof(readyfd), "%d", rfd);
		const char *fixed[] = { prog, "--name", c->name, "--domid", dom, "--uuid", s->uuid, "--memory", mem,
				       "--vcpus", vcpus, "--kernel", kernel ? kernel : "", "--cmdline", cmdline ? cmdline : "",
				       "--run-dir", dir, "--console-log", con_log, "--paused", "--ready-fd", readyfd };
		const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
		const char **argv = calloc(nfixed + 4 + 2 * c->n_disks + 2 * c->n_nics, sizeof(*argv));
		const char *sandbox = getenv("DOMUS_SANDBOX");
		size_t argc = nfixed;

		if (!argv)
			_exit(127);
		memcpy(argv, fixed, sizeof(fixed));
		if (ramdisk) {
			argv[argc++] = "--ramdisk";
			argv[argc++] = ramdisk;
		}
		/* Each of its threads under a seccomp allowlist once it is set
		 * up (docs/sandbox.md); on unless DOMUS_SANDBOX=0.  "log": the
		 * kernel logs what the lists lack instead of ending the domain. */
		if (sandbox && strcmp(sandbox, "log") == 0)
			argv[argc++] = "--sandbox=log";
		else if (!sandbox || strcmp(sandbox, "0") != 0)
			argv[argc++] = "--sandbox";
		/* The disks' back ends (docs/xenbus.md); checked by
		 * ts_disk_check(), so each has a value. */
		for (size_t i = 0; i < c->n_disks; i++) {
			char *v = malloc(4400);

			if (!v || ts_disk_vmm_arg(&c->disks[i], v, 4400) < 0)
				_exit(127);
			argv[argc++] = "--disk";
			argv[argc++] = v;
		}
		/* The vifs' back ends (docs/vif.md): domus-vmm creates each
		 * TAP interface itself. */
		for (size_t i = 0; i < c->n_nics; i++) {
			char *v = malloc(64);

			if (!v || ts_vif_vmm_arg(&c->nics[i], domid, v, 64) < 0)
				_exit(127);
			argv[argc++] = "--nic";
			argv[argc++] = v;
		}
		/* A restore loads the saved state instead of the kernel; the
		 * save file is the other descriptor it inherits. */
		if (restore_fd >= 0) {
			snprintf(rstfd, sizeof(rstfd), "%d", dup(restore_fd));
			argv[11] = "--restore-fd";
			argv[12] = rstfd;
		}
		/* Before its first thread, so all of them share the domain's
		 * weight and cap; a monitor outside it would run unweighted. */
		int jrc = s->cg_root ? ts_sched_join(s->cg_root, domid) : 0;
		if (jrc < 0) {
			fprintf(stderr, "domus-vmm of %s: cannot join its cgroup %s/domus/%u: %s\n", c->name,
				s->cg_root, domid, strerror(-jrc));
			_exit(127);
		}
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	close(ready[1]);
	ts_dom_write(dir, "vmm.pid", "%ld\n", (long)pid);
	/* Loading a kernel under nested emulation takes seconds: wait long. */
	struct pollfd p = { .fd = ready[0], .events = POLLIN };
	n = poll(&p, 1, 120 * 1000) == 1 ? read(ready[0], line, sizeof(line) - 1) : -1;
	close(ready[0]);
	if (n > 0) {
		line[n] = '\0';
		line[strcspn(line, "\n")] = '\0';
	}
	if (n > 0 && strcmp(line, "ok") == 0)
		return pid;
	if (n > 0 && strncmp(line, "error ", 6) == 0)
		snprintf(err, errlen, "%s", line + 6);
	else
		snprintf(err, errlen, "domus-vmm did not start (see %s)", vmm_log);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -EIO;
}

static const char *describe_status(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		/* SECCOMP_RET_KILL_PROCESS: a call its sandbox forbids (docs/sandbox.md) */
		snprintf(buf, len, "its monitor was killed by signal %d (SIGSYS: a system call its sandbox forbids)",
			 WTERMSIG(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "its monitor was killed by signal %d", WTERMSIG(status));
	else if (WIFEXITED(status) && WEXITSTATUS(status) != VMM_EXIT_FAILED && vmm_exit_word(WEXITSTATUS(status)))
		snprintf(buf, len, "%s", vmm_exit_word(WEXITSTATUS(status)));
	else if (WIFEXITED(status))
		snprintf(buf, len, "failed (monitor exit status %d)", WEXITSTATUS(status));
	return buf;
}

static enum dom_action action_for(const struct domain_config *c, int status)
{
	if (!WIFEXITED(status))
		return DOM_ACTION_DESTROY;
	switch (WEXITSTATUS(status)) {
	case VMM_EXIT_POWEROFF: return c->on_poweroff ? c->on_poweroff : DOM_ACTION_DESTROY;
	case VMM_EXIT_REBOOT: return c->on_reboot ? c->on_reboot : DOM_ACTION_RESTART;
	case VMM_EXIT_CRASH: return c->on_crash ? c->on_crash : DOM_ACTION_DESTROY;
	default: return DOM_ACTION_DESTROY;
	}
}

/* One boot of the domain; returns the monitor's wait status, or -1 when the
 * domain never ran. */
static int write_config(uint32_t domid, const struct ts_start *st)
{
	char dir[256], p[300];
	FILE *f;
	int rc = 0;

	if (ts_dom_dir(domid, dir, sizeof(dir)) < 0)
		return -ENAMETOOLONG;
	snprintf(p, sizeof(p), "%s/config", dir);
	f = fopen(p, "we");
	if (!f)
		return -errno;
	if (fwrite(st->cfg_text, 1, st->cfg_len, f) != st->cfg_len)
		rc = -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* xenstored's import of the saved domain's home under its new id, before
 * the monitor hands over the ring (the imported connection takes it). */
static int import_xenstore(struct xs_handle *xs, uint32_t domid, const struct ts_start *st, char *err, size_t errlen)
{
	char dir[256], abs[PATH_MAX], path[PATH_MAX + 16], args[PATH_MAX + 64], *r;
	int fd, n, rc = 0;

	if (ts_dom_dir(domid, dir, sizeof(dir)) < 0 || !realpath(dir, abs)) {
		snprintf(err, errlen, "no run directory for domain %u", domid);
		return -ENOENT;
	}
	/* xenstored opens the file itself: an absolute path. */
	snprintf(path, sizeof(path), "%s/xs-import", abs);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, st->xs_export, st->xs_len) != (ssize_t)st->xs_len)
		rc = -EIO;
	if (fd >= 0)
		close(fd);
	if (rc == 0) {
		n = snprintf(args, sizeof(args), "%u%c%u%c%s", st->xs_domid, 0, domid, 0, path);
		r = xs_control_command(xs, "import-domain", args, (unsigned)n + 1);
		if (!r || strcmp(r, "OK") != 0)
			rc = r ? -EPROTO : -errno;
		free(r);
	}
	unlink(path);
	if (rc < 0)
		snprintf(err, errlen, "xenstored refused to import the saved domain's xenstore records: %s "
				      "(its log names the record)", strerror(-rc));
	return rc;
}

static void keep_config(struct sup *s, uint32_t domid)
{
	char dir[256], p[300];

	free(s->kept);
	s->kept = NULL;
	if (ts_dom_dir(domid, dir, sizeof(dir)) < 0)
		return;
	snprintf(p, sizeof(p), "%s/config", dir);
	if (xl_read_file(p, &s->kept, &s->kept_len) < 0)
		s->kept = NULL;
}

/* The configuration the restart boots: the kept one when it parses with
 * the domain's name (the uuid stays), else the one before.  The kept text
 * moves to *owned, which the next boot writes into its run directory. */
static void restart_config(struct sup *s, struct domain_config *next, struct ts_start *st, char **owned)
{
	struct domain_config c;
	char *kept = s->kept;

	s->kept = NULL;
	if (!kept)
		return;
	domcfg_init(&c);
	if (xl_parse_domain_config(s->x, "the kept configuration", kept, s->kept_len, NULL, 0, &c) < 0 ||
	    !c.name || strcmp(c.name, s->first->name) != 0) {
		slog(s, "warning: the kept configuration of %s does not parse; restarting without its changes",
		     s->first->name);
		domcfg_dispose(&c);
		free(kept);
		return;
	}
	domcfg_set_build_defaults(&c);
	memcpy(c.uuid, s->first->uuid, sizeof(c.uuid));
	/* The kept text has the vifs as written; the MACs xl chose stay the
	 * domain's across reboots (libxl keeps them in its stored config). */
	for (size_t i = 0; i < c.n_nics; i++)
		for (size_t j = 0; j < s->c->n_nics && !c.nics[i].mac_set; j++)
			if (s->c->nics[j].devid == c.nics[i].devid && s->c->nics[j].mac_set) {
				memcpy(c.nics[i].mac, s->c->nics[j].mac, sizeof(c.nics[i].mac));
				c.nics[i].mac_set = true;
			}
	if (ts_vif_setdefault(&c) < 0)
		slog(s, "warning: no random MAC for a new vif of %s", s->first->name);
	domcfg_dispose(next);
	*next = c; /* ownership moves */
	s->c = next;
	free(*owned);
	*owned = kept;
	st->cfg_text = kept;
	st->cfg_len = s->kept_len;
}

/* Every vif the domain has at its end: those of the kept configuration,
 * which network-attach and -detach changed (read by keep_config), else
 * the boot's. */
static void offline_vifs(struct sup *s, struct xs_handle *xs, uint32_t domid)
{
	struct domain_config now;
	const struct domain_config *c = s->c;
	char err[600];

	domcfg_init(&now);
	if (s->kept && xl_parse_domain_config(s->x, "the kept configuration", s->kept, s->kept_len, NULL, 0, &now) == 0)
		c = &now;
	if (c->n_nics && ts_vif_offline(xs, c, domid, err, sizeof(err)) < 0)
		slog(s, "warning: %s", err);
	domcfg_dispose(&now);
}

/* A file of the boot loader's into the run directory, where the monitor
 * loads it from. */
static int copy_out(int from, const char *dir, const char *name, char *path, size_t len)
{
	struct stat st;
	off_t off = 0;
	int to, rc = 0;

	if ((size_t)snprintf(path, len, "%s/%s", dir, name) >= len) {
		path[0] = '\0';
		return -ENAMETOOLONG;
	}
	to = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (to < 0) {
		path[0] = '\0';
		return -errno;
	}
	if (fstat(from, &st) < 0)
		rc = -errno;
	while (rc == 0 && off < st.st_size) {
		ssize_t n = sendfile(to, from, &off, (size_t)(st.st_size - off));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			rc = n < 0 ? -errno : -EIO;
	}
	if (close(to) < 0 && rc == 0)
		rc = -errno;
	if (rc < 0) {
		unlink(path);
		path[0] = '\0';
	}
	return rc;
}

/* Once the monitor has loaded them, or failed to: nothing of the boot
 * loader's stays (libxl unlinks its files once mapped). */
static void drop_boot_files(struct sup *s)
{
	if (s->kernel_copy[0])
		unlink(s->kernel_copy);
	if (s->ramdisk_copy[0])
		unlink(s->ramdisk_copy);
	s->kernel_copy[0] = s->ramdisk_copy[0] = '\0';
	ts_boot_dispose(&s->boot);
}

/* This boot's kernel from the boot loader: xl create chose the first
 * boot's (on the user's terminal for -c); each restart runs it again,
 * without a terminal, as libxl does on reboot. */
static int bootloader_files(struct sup *s, uint32_t domid, char *err, size_t errlen)
{
	char dir[256], log[512];
	int rc = 0;

	if (s->boot.kernel_fd < 0) {
		struct ts_bl_opts o = { .cfg_file = s->st ? s->st->cfg_file : NULL, .log_path = log };

		snprintf(log, sizeof(log), "%s/bootloader-%s.log", ts_log_dir(), s->c->name);
		slog(s, "running the boot loader of %s (%s)", s->c->name, log);
		rc = ts_bootloader_run(s->c, &o, &s->boot, err, errlen);
		if (rc < 0)
			return rc;
	}
	rc = ts_dom_dir(domid, dir, sizeof(dir));
	if (rc == 0)
		rc = copy_out(s->boot.kernel_fd, dir, "bootloader-kernel", s->kernel_copy, sizeof(s->kernel_copy));
	if (rc == 0 && s->boot.ramdisk_fd >= 0)
		rc = copy_out(s->boot.ramdisk_fd, dir, "bootloader-ramdisk", s->ramdisk_copy, sizeof(s->ramdisk_copy));
	if (rc < 0) {
		snprintf(err, errlen, "cannot copy the boot loader's kernel and ramdisk into %s: %s", dir, strerror(-rc));
		drop_boot_files(s);
	}
	return rc;
}

/* The domain's cpu_weight and cap (xl.cfg(5)): kept in its run directory
 * for xl sched-credit, and carried out by its cgroup when the host has
 * cgroup v2 (ts_sched.h); ts_dom_rm_run_dir() removes both. */
static int sched_start(struct sup *s, uint32_t domid, char *err, size_t errlen)
{
	struct ts_sched p = { .weight = s->c->sched_weight > 0 ? s->c->sched_weight : TS_SCHED_WEIGHT_DEFAULT,
			      .cap = s->c->sched_cap > 0 ? s->c->sched_cap : 0 };
	char dir[256], why[400];
	int rc;

	ts_dom_dir(domid, dir, sizeof(dir));
	if (ts_sched_store(dir, &p) < 0)
		slog(s, "warning: cannot keep the scheduler parameters of domain %u in %s", domid, dir);
	if (!s->cg_root)
		return 0;
	rc = ts_sched_create(s->cg_root, domid, &p, why, sizeof(why));
	if (rc < 0)
		snprintf(err, errlen, "domain %s: its CPU share (cpu_weight, cap): %s", s->c->name, why);
	return rc;
}

static int boot_once(struct sup *s, struct xs_handle *xs)
{
	char err[600] = "", why[128];
	struct ts_dom d;
	uint32_t domid = 0;
	pid_t pid;
	int status = -1, rc;
	const bool restore = s->st && s->st->restore_fd >= 0;
	bool vifs_written = false;

	if (allocate_domid(s->c->name, restore && s->st->xs_export ? s->st->xs_domid : 0, &domid, err, sizeof(err)) < 0) {
		report(s, "error %s", err);
		return -1;
	}
	if (s->st && s->st->cfg_text && write_config(domid, s->st) < 0)
		slog(s, "warning: cannot keep the configuration of %s for xl save", s->c->name);
	if (sched_start(s, domid, err, sizeof(err)) < 0) {
		report(s, "error %s", err);
		ts_dom_rm_run_dir(domid);
		return -1;
	}
	if (restore && s->st->xs_export && (rc = import_xenstore(xs, domid, s->st, err, sizeof(err))) < 0) {
		report(s, "error %s", err);
		ts_xs_remove_domain(xs, domid, s->uuid);
		ts_dom_rm_run_dir(domid);
		return -1;
	}
	if (!restore && s->c->bootloader && bootloader_files(s, domid, err, sizeof(err)) < 0) {
		report(s, "error %s", err);
		ts_dom_rm_run_dir(domid);
		return -1;
	}
	pid = start_vmm(s, domid, restore ? s->st->restore_fd : -1, err, sizeof(err));
	drop_boot_files(s);
	if (pid < 0) {
		report(s, "error %s", err);
		if (restore)
			ts_xs_remove_domain(xs, domid, s->uuid);
		ts_dom_rm_run_dir(domid);
		return -1;
	}
	if (ts_dom_info(domid, &d) < 0) {
		report(s, "error the monitor of %s does not answer on its control socket", s->c->name);
		goto kill;
	}
	snprintf(d.uuid, sizeof(d.uuid), "%s", s->uuid);
	rc = ts_xs_write_domain(xs, s->c, &d);
	if (rc < 0) {
		report(s, "error writing the xenstore nodes of %s: %s", s->c->name, strerror(-rc));
		goto kill;
	}
	vifs_written = true;
	/* A restored guest keeps the MACs it had (its frontends came back
	 * with it): its reboots keep them too, as libxl's saved
	 * configuration does. */
	if (restore && s->st->xs_export)
		ts_vif_adopt_macs(xs, s->c, domid);
	if (!xs_introduce_domain(xs, domid, LAYOUT_XENSTORE_PFN, d.store_port)) {
		report(s, "error xenstored refused to introduce domain %u: %s", domid, strerror(errno));
		goto kill;
	}
	/* The vifs' scripts while the guest is still paused, as libxl runs
	 * them before it unpauses: the guest's netfront finds its back end
	 * on its bridge. */
	if (s->c->n_nics && s->c->run_hotplug_scripts && ts_vif_online(xs, s->c, domid, err, sizeof(err)) < 0) {
		report(s, "error %s", err);
		goto kill;
	}
	if (s->c->n_nics)
		slog(s, "domain %u: %zu vif(s) %s", domid, s->c->n_nics,
		     s->c->run_hotplug_scripts ? "online (hotplug-status connected)" : "written; no script run (run_hotplug_scripts=0)");
	if (!s->paused && ts_control(domid, CTL_UNPAUSE) < 0) {
		report(s, "error cannot unpause domain %u", domid);
		goto kill;
	}
	slog(s, "domain %s %s with id %u", s->c->name, restore ? "restored" : "started", domid);
	report(s, "ok %u", domid);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	slog(s, "domain %s (id %u) %s", s->c->name, domid, describe_status(status, why, sizeof(why)));
	keep_config(s, domid);
	goto cleanup;
kill:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	status = -1;
cleanup:
	/* A connection of its own: xenstored may have been restarted while the
	 * domain ran, which ends every socket client's (docs/xenstored.md
	 * "Restart"), and a dead handle would leave every node behind. */
	xs = ts_xs_open();
	if (xs) {
		/* After the monitor (and so its TAP interfaces) is gone, before
		 * the nodes the scripts read are. */
		if (vifs_written && s->c->run_hotplug_scripts)
			offline_vifs(s, xs, domid);
		ts_xs_remove_domain(xs, domid, s->uuid);
		xs_close(xs);
	} else {
		slog(s, "warning: no xenstored to remove the nodes of domain %u", domid);
	}
	ts_dom_rm_run_dir(domid);
	return status;
}

static void supervise(struct sup *s)
{
	struct xs_handle *xs;
	struct ts_start restarted = s->st ? *s->st : (struct ts_start){ .restore_fd = -1 };
	struct domain_config next;
	char *text = NULL;
	int status;

	domcfg_init(&next);

	for (;;) {
		/* A connection for each boot: one held across a reboot may be
		 * a restarted xenstored's dead one. */
		xs = ts_xs_open();
		if (!xs) {
			report(s, "error cannot connect to xenstored");
			break;
		}
		status = boot_once(s, xs);
		xs_close(xs);
		/* A restart boots the configuration afresh. */
		if (s->st && s->st->restore_fd >= 0) {
			close(s->st->restore_fd);
			restarted.restore_fd = -1;
			s->st = &restarted;
		}
		if (status < 0)
			break;
		enum dom_action a = action_for(s->c, status);
		if (a != DOM_ACTION_RESTART && a != DOM_ACTION_RENAME_RESTART && a != DOM_ACTION_COREDUMP_RESTART)
			break;
		slog(s, "restarting domain %s", s->c->name);
		restart_config(s, &next, &restarted, &text);
		s->st = &restarted;
	}
	s->c = s->first;
	domcfg_dispose(&next);
	free(text);
	free(s->kept);
	s->kept = NULL;
}

/* Says so in one line, before anything is started, when this host's KVM
 * cannot run Xen guests (no CONFIG_KVM_XEN: Debian's own kernels). */
static int check_kvm_xen(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), caps;

	if (fd < 0) {
		fprintf(stderr, "xl: /dev/kvm: %s: domus needs KVM (with CONFIG_KVM_XEN); see lab/lab for a lab that has it\n",
			strerror(errno));
		return -ENODEV;
	}
	caps = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_XEN_HVM);
	close(fd);
	if (caps <= 0 || !(caps & KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL)) {
		fprintf(stderr, "xl: this host's KVM cannot run Xen guests (no KVM_CAP_XEN_HVM: kernel built without "
				"CONFIG_KVM_XEN); run domus in the lab: lab/lab run -- xl ...\n");
		return -ENOTSUP;
	}
	return 0;
}

static int check_host(const struct domain_config *c, bool restore, const char *cfg_file)
{
	long long mem = ts_meminfo_kb("MemAvailable");
	unsigned long long avail_kb = mem > 0 ? (unsigned long long)mem : 0;
	int rc = 0;

	/* The name is part of file names (the logs) and a field of the
	 * monitor's space-separated info reply, so those characters would
	 * reach outside the log directory or forge fields. */
	for (const unsigned char *p = (const unsigned char *)c->name; *p; p++) {
		if (*p == '/' || *p <= ' ' || *p == 0x7f) {
			fprintf(stderr, "xl: domain name \"%s\": domus does not take '/', blanks or control characters in a name\n",
				c->name);
			return -EINVAL;
		}
	}
	if (avail_kb && c->max_memkb > avail_kb) {
		fprintf(stderr, "xl: domain %s needs %llu MiB of memory, the host has %llu MiB available\n",
			c->name, (unsigned long long)(c->max_memkb >> 10), avail_kb >> 10);
		return -ENOMEM;
	}
	if (c->type == DOM_TYPE_HVM) {
		fprintf(stderr, "xl: type = \"hvm\" is not supported by domus yet: use type = \"pvh\" (or pv)\n");
		return -ENOTSUP;
	}
	/* The boot loader's program and disk; it runs once the host is
	 * checked (ts_create). */
	if (c->bootloader && !restore) {
		char err[PATH_MAX + 256];

		rc = ts_bootloader_check(c, cfg_file, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "xl: %s\n", err);
			return rc;
		}
	}
	/* A missing or unreadable disk fails here, before anything starts. */
	rc = ts_disk_check(c, cfg_file);
	if (rc < 0)
		return rc;
	/* Raw files, block devices, qcow2 and vhd images are served
	 * (docs/xenbus.md); an empty cdrom drive gets its xenstore nodes but
	 * its back end refuses to connect: say so rather than boot a guest
	 * that silently lacks what its config promised.  Until the vif back
	 * end lands, likewise. */
	for (size_t i = 0; i < c->n_disks; i++)
		if (c->disks[i].format != DISK_FORMAT_RAW && c->disks[i].format != DISK_FORMAT_QCOW2 &&
		    c->disks[i].format != DISK_FORMAT_VHD)
			fprintf(stderr, "xl: warning: disk %s: only raw, qcow2 and vhd images and block devices are supported by domus yet, "
				"the guest will not see it\n", c->disks[i].vdev);
	/* A missing bridge or script fails here too. */
	rc = ts_vif_check(c, cfg_file);
	if (rc < 0)
		return rc;
	/* Xen leaves the scripts to udev then; domus has no udev event for
	 * its back ends, so nothing would run them. */
	if (c->n_nics && !c->run_hotplug_scripts)
		fprintf(stderr, "xl: warning: run_hotplug_scripts=0 in xl.conf: domus runs no vif script then; "
				"the vifs connect only when something else writes their hotplug-status connected\n");
	/* Xen always has a scheduler to carry them out; here it takes the
	 * cpu controller of a cgroup v2 hierarchy. */
	if (((c->sched_weight > 0 && c->sched_weight != TS_SCHED_WEIGHT_DEFAULT) || c->sched_cap > 0) &&
	    !ts_sched_root())
		fprintf(stderr, "xl: warning: cpu_weight/cap: this host has no cgroup v2 hierarchy with the cpu controller "
				"at %s; domain %s runs with the host's default CPU share\n",
			ts_sched_root_path(), c->name);
	/* errno is kept before fprintf may change it */
	if (restore || c->bootloader) {
		/* the kernel is in the saved memory, or on the guest's disk */
	} else if (access(c->kernel, R_OK) < 0) {
		rc = -errno;
		fprintf(stderr, "xl: kernel %s: %s\n", c->kernel, strerror(-rc));
	} else if (c->ramdisk && access(c->ramdisk, R_OK) < 0) {
		rc = -errno;
		fprintf(stderr, "xl: ramdisk %s: %s\n", c->ramdisk, strerror(-rc));
	}
	return rc;
}

int ts_create(struct xl_ctx *x, struct domain_config *c, bool console, bool paused,
	      const struct ts_start *st)
{
	struct sup s = { .x = x, .first = c, .c = c, .st = st, .paused = paused, .report_fd = -1,
			 .cg_root = ts_sched_root() };
	char line[640], path[512];
	int pipefd[2];
	pid_t pid;
	ssize_t n;
	uint32_t domid = 0;
	int rc = 1;

	ts_boot_init(&s.boot);
	/* Chosen once, before the supervisor forks: every reboot of the
	 * domain boots the same configuration, so it keeps its MACs (libxl
	 * keeps them in the domain's stored configuration). */
	if (ts_vif_setdefault(c) < 0) {
		fprintf(stderr, "xl: cannot get random bytes for a vif's MAC\n");
		return 1;
	}
	if (check_host(c, st && st->restore_fd >= 0, st ? st->cfg_file : NULL) < 0 || check_kvm_xen() < 0)
		return 1;
	ts_uuid_str(c->uuid, s.uuid, sizeof(s.uuid));
	mkdir(ts_log_dir(), 0755);
	snprintf(path, sizeof(path), "%s/console", ts_log_dir());
	mkdir(path, 0755);
	/* The first boot's boot loader runs here, where the user's terminal
	 * is (its menu, with -c); the supervisor inherits what it chose. */
	if (c->bootloader && !(st && st->restore_fd >= 0)) {
		char err[PATH_MAX + 512];
		struct ts_bl_opts o = { .cfg_file = st ? st->cfg_file : NULL, .interactive = console, .log_path = path };

		snprintf(path, sizeof(path), "%s/bootloader-%s.log", ts_log_dir(), c->name);
		if (ts_bootloader_run(c, &o, &s.boot, err, sizeof(err)) < 0) {
			fprintf(stderr, "xl: %s\n", err);
			return 1;
		}
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		goto out;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		goto out;
	if (pid == 0) {
		/* Middle process: detach the supervisor from this terminal and
		 * from whoever waits for `xl create`. */
		close(pipefd[0]);
		setsid();
		if (fork() != 0)
			_exit(0);
		ts_close_inherited();
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		snprintf(path, sizeof(path), "%s/xl-%s.log", ts_log_dir(), c->name);
		s.log = fopen(path, "ae");
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
			dup2(nul, 2);
		}
		s.report_fd = pipefd[1];
		signal(SIGHUP, SIG_IGN);
		supervise(&s);
		if (s.report_fd >= 0)
			report(&s, "error the supervisor ended before the domain ran");
		_exit(0);
	}
	ts_boot_dispose(&s.boot);
	close(pipefd[1]);
	waitpid(pid, NULL, 0);
	n = read(pipefd[0], line, sizeof(line) - 1);
	close(pipefd[0]);
	if (n <= 0) {
		fprintf(stderr, "xl: the domain's supervisor died before reporting (see %s/xl-%s.log)\n",
			ts_log_dir(), c->name);
		return 1;
	}
	line[n] = '\0';
	if (strncmp(line, "ok ", 3) != 0) {
		fprintf(stderr, "xl: %s\n", strncmp(line, "error ", 6) == 0 ? line + 6 : line);
		return 1;
	}
	domid = (uint32_t)strtoul(line + 3, NULL, 10);
	if (console)
		return ts_console_attach(domid, c->name) < 0 ? 1 : 0;
	return 0;
out:
	ts_boot_dispose(&s.boot);
	return rc;
}
