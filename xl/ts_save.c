/* xl save and xl restore (docs/save-restore.md).
 *
 * save: pause the domain, have xenstored export its xenstore side, write
 * the file's head (header, CONFIG, the export's records) to a temporary
 * file beside FILE, have the monitor append its records (control request
 * save with the descriptor), rename the file into place; then, as Xen's
 * xl does (tools/xl/xl_saverestore.c save_domain: libxl_domain_resume for
 * a checkpoint or -p, else libxl_domain_destroy), resume or destroy the
 * domain.  Any failure resumes it (XS_RESUME, unpause) and removes the
 * temporary file.
 *
 * restore: read and check the file's framing, parse its CONFIG, and start
 * the domain as `xl create` does, with the xenstore records imported under
 * the new id and the monitor loading the saved state instead of a kernel. */
#include "savefile.h"
#include "ts.h"
#include "ts_progress.h"
#include "xl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xenstore.h>

/* A save of a large guest under nested emulation takes long. */
#define SAVE_TIMEOUT_MS (600 * 1000)
/* xenstored's export of one domain: its nodes and queued output, bounded
 * by the domain's quotas (docs/xenstored.md). */
#define XS_EXPORT_MAX (64u << 20)

static int slurp(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *b = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	size_t n = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
		rc = -errno;
	else if ((uint64_t)st.st_size > XS_EXPORT_MAX)
		rc = -EFBIG;
	else if (!(b = malloc((size_t)st.st_size + 1)))
		rc = -ENOMEM;
	while (rc == 0 && n < (size_t)st.st_size) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size - n);

		if (r <= 0)
			rc = r < 0 ? -errno : -EIO;
		else
			n += (size_t)r;
	}
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		free(b);
		return rc;
	}
	*out = b;
	*len = n;
	return 0;
}

static int xs_control(struct xs_handle *xs, const char *cmd, const char *args, size_t len)
{
	char *r = xs_control_command(xs, cmd, (void *)args, (unsigned)len);
	int rc = r && strcmp(r, "OK") == 0 ? 0 : r ? -EPROTO : -errno;

	free(r);
	return rc;
}

/* The configuration a save file carries: CONFIG if given, else the one the
 * domain was created with (kept in its run directory). */
static int save_config(uint32_t domid, const char *cfg_file, char **text, size_t *len, char *err, size_t errlen)
{
	char dir[256], p[300];
	int rc;

	if (!cfg_file) {
		ts_dom_dir(domid, dir, sizeof(dir));
		snprintf(p, sizeof(p), "%s/config", dir);
		cfg_file = p;
	}
	rc = xl_read_file(cfg_file, text, len);
	if (rc < 0)
		snprintf(err, errlen, "cannot read the configuration %s: %s%s", cfg_file, strerror(-rc),
			 cfg_file == p ? " (give it as xl save's CONFIG argument)" : "");
	return rc;
}

static int monitor_save(uint32_t domid, int fd, char *err, size_t errlen)
{
	struct ctl_msg req, rep;
	struct ctl_save sv = { 0 };
	struct ts_progress *pg = NULL;
	char what[48];
	off_t head = lseek(fd, 0, SEEK_CUR);
	int rc = ctl_msg_init(&req, CTL_SAVE, 0, (uint32_t)getpid(), &sv, sizeof(sv));

	if (rc < 0)
		return rc;
	req.fds[0] = fd;
	req.nfds = 1;
	/* What the monitor has written so far: no total, since untouched
	 * guest pages are not written (docs/save-restore.md). */
	snprintf(what, sizeof(what), "saving domain %u", domid);
	(void)ts_progress_start(&pg, STDERR_FILENO, what, fd, TS_PROGRESS_SIZE, head > 0 ? (uint64_t)head : 0, 0);
	rc = ts_control_call_ms(domid, &req, &rep, SAVE_TIMEOUT_MS, err, errlen);
	ts_progress_stop(pg);
	if (rc == 0 && rep.hdr.type == CTL_ERROR) {
		snprintf(err, errlen, "%s", rep.u.error.text);
		rc = rep.u.error.err < 0 ? rep.u.error.err : -EIO;
	}
	ctl_msg_close_fds(&rep);
	return rc;
}

int ts_save(uint32_t domid, const char *file, const char *cfg_file, bool checkpoint, bool leave_paused)
{
	char err[PATH_MAX + 512] = "", dirbuf[PATH_MAX], absdir[PATH_MAX], tmp[PATH_MAX + 64], xsf[PATH_MAX + 64] = "",
		args[PATH_MAX + 80];
	char *cfg = NULL, *xsbuf = NULL;
	uint8_t uuid[16];
	size_t cfg_len = 0, xs_len = 0;
	struct xs_handle *xs = NULL;
	struct ts_dom d;
	bool exported = false, was_paused = true;
	int fd = -1, rc, n;

	rc = ts_dom_info(domid, &d);
	if (rc < 0) {
		snprintf(err, sizeof(err), "domain %u does not answer on its control socket", domid);
		goto out;
	}
	was_paused = d.state == 'p';
	xs = ts_xs_open();
	if (!xs) {
		rc = -ECONNREFUSED;
		snprintf(err, sizeof(err), "cannot connect to xenstored");
		goto out;
	}
	rc = save_config(domid, cfg_file, &cfg, &cfg_len, err, sizeof(err));
	if (rc < 0)
		goto out;
	snprintf(dirbuf, sizeof(dirbuf), "%s", file);
	if (!realpath(dirname(dirbuf), absdir)) {
		rc = -errno;
		snprintf(err, sizeof(err), "%s: %s", file, strerror(-rc));
		goto out;
	}
	/* Beside FILE, so that the rename is atomic; xenstored wants an
	 * absolute path. */
	snprintf(tmp, sizeof(tmp), "%s/.xl-save-%ld", absdir, (long)getpid());
	snprintf(xsf, sizeof(xsf), "%s/.xl-save-%ld.xs", absdir, (long)getpid());
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, sizeof(err), "cannot create %s: %s", tmp, strerror(-rc));
		goto out;
	}
	rc = ts_control(domid, CTL_PAUSE);
	if (rc < 0) {
		snprintf(err, sizeof(err), "cannot pause domain %u: %s", domid, strerror(-rc));
		goto out;
	}
	n = snprintf(args, sizeof(args), "%u%c%s", domid, 0, xsf);
	rc = xs_control(xs, "export-domain", args, (size_t)n + 1);
	exported = rc == 0;
	if (rc < 0) {
		snprintf(err, sizeof(err), "xenstored did not export domain %u: %s", domid, strerror(-rc));
		goto out;
	}
	rc = slurp(xsf, &xsbuf, &xs_len);
	if (rc < 0) {
		snprintf(err, sizeof(err), "reading xenstored's export %s: %s", xsf, strerror(-rc));
		goto out;
	}
	/* The restored domain keeps the uuid, as Xen's does (its saved
	 * configuration carries c_info.uuid). */
	rc = savefile_write_head(fd, cfg, cfg_len, domcfg_uuid_parse(d.uuid, uuid) == 0 ? uuid : NULL, xsbuf,
				 xs_len, err, sizeof(err));
	if (rc == 0)
		rc = monitor_save(domid, fd, err, sizeof(err));
	if (rc == 0 && (fsync(fd) < 0 || rename(tmp, file) < 0)) {
		rc = -errno;
		snprintf(err, sizeof(err), "%s: %s", file, strerror(-rc));
	}
out:
	if (fd >= 0)
		close(fd);
	if (xsf[0])
		unlink(xsf);
	if (rc < 0 && fd >= 0)
		unlink(tmp);
	if (rc == 0 && !checkpoint && !leave_paused) {
		/* Saved: the domain ends as `xl destroy` ends it; its supervisor
		 * removes its xenstore nodes and run directory. */
		if (ts_control(domid, CTL_DESTROY) < 0 || ts_wait_gone(domid, 30) < 0)
			fprintf(stderr, "xl: saved to %s, but domain %u did not go away\n", file, domid);
	} else if (exported || rc == 0) {
		/* A checkpoint, -p, or a failure: the domain goes on. */
		if (xs && !xs_resume_domain(xs, domid))
			fprintf(stderr, "xl: warning: XS_RESUME of domain %u failed: %s\n", domid, strerror(errno));
	}
	if ((rc < 0 || checkpoint) && !leave_paused && !was_paused && ts_control(domid, CTL_UNPAUSE) < 0)
		fprintf(stderr, "xl: warning: cannot unpause domain %u\n", domid);
	if (xs)
		xs_close(xs);
	free(cfg);
	free(xsbuf);
	if (rc < 0)
		fprintf(stderr, "xl: save of domain %u failed: %s\n", domid, err[0] ? err : strerror(-rc));
	return rc;
}

/* What a restore must refuse before anything starts, beyond the file's
 * framing: a CONFIG that changes what the saved state fixes, and a uuid a
 * running domain has (a checkpoint's domain restored under another name). */
static int restore_checks(struct xl_ctx *x, const struct savefile_head *h, const char *cfg_file,
			  const struct domain_config *c, char *err, size_t errlen)
{
	struct domain_config saved;
	struct ts_dom *doms = NULL;
	size_t n = 0;
	char u[40];
	int rc = 0;

	if (cfg_file) {
		domcfg_init(&saved);
		rc = xl_parse_domain_config(x, "the save file's configuration", h->cfg, h->cfg_len, NULL, 0, &saved);
		if (rc < 0) {
			snprintf(err, errlen, "the save file's own configuration does not parse");
		} else {
			domcfg_set_build_defaults(&saved);
			rc = savefile_check_config(&saved, c, cfg_file, err, errlen);
		}
		domcfg_dispose(&saved);
	}
	if (rc == 0 && h->has_uuid && ts_dom_list(&doms, &n) == 0) {
		ts_uuid_str(h->uuid, u, sizeof(u));
		for (size_t i = 0; i < n && rc == 0; i++) {
			if (strcmp(doms[i].uuid, u) == 0) {
				snprintf(err, errlen, "domain %s (id %u) has the saved domain's uuid %s already", doms[i].name,
					 doms[i].domid, u);
				rc = -EEXIST;
			}
		}
		free(doms);
	}
	return rc;
}

/* The domain created from the monitor's records at offset off of the
 * file, with its progress on a terminal: the monitor reads the fd it
 * inherits with read(), so its offset is this fd's too. */
static int create_restored(struct xl_ctx *x, struct domain_config *c, bool paused, struct ts_start *st, uint64_t off)
{
	struct ts_progress *pg = NULL;
	struct stat sb;
	uint64_t size = fstat(st->restore_fd, &sb) == 0 && (uint64_t)sb.st_size > off ? (uint64_t)sb.st_size - off : 0;
	int rc;

	(void)ts_progress_start(&pg, STDERR_FILENO, "restoring", st->restore_fd, TS_PROGRESS_OFFSET, off, size);
	rc = ts_create(x, c, false, paused, st) == 0 ? 0 : -EIO;
	ts_progress_stop(pg);
	return rc;
}

int ts_restore(struct xl_ctx *x, const char *cfg_file, const char *file, bool paused)
{
	struct savefile_head h;
	struct domain_config c;
	struct ts_start st = { .restore_fd = -1 };
	char err[512] = "", *cfg = NULL;
	size_t cfg_len = 0;
	int fd, rc;

	domcfg_init(&c);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "xl: cannot open %s: %s\n", file, strerror(errno));
		domcfg_dispose(&c);
		return -errno;
	}
	rc = savefile_read(fd, &h, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "xl: %s: refused: %s\n", file, err);
		goto out_fd;
	}
	/* A CONFIG argument replaces the file's, as in Xen's xl. */
	if (cfg_file) {
		rc = xl_read_file(cfg_file, &cfg, &cfg_len);
		if (rc < 0) {
			fprintf(stderr, "xl: cannot read config file %s: %s\n", cfg_file, strerror(-rc));
			goto out;
		}
	}
	rc = xl_parse_domain_config(x, cfg_file ? cfg_file : file, cfg ? cfg : h.cfg, cfg ? cfg_len : h.cfg_len,
				    NULL, 0, &c);
	if (rc < 0)
		goto out;
	domcfg_set_build_defaults(&c);
	if (h.has_uuid)
		memcpy(c.uuid, h.uuid, sizeof(c.uuid));
	rc = restore_checks(x, &h, cfg_file, &c, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "xl restore: %s\n", err);
		goto out;
	}
	if (lseek(fd, (off_t)h.monitor_offset, SEEK_SET) < 0) {
		rc = -errno;
		goto out;
	}
	st = (struct ts_start){ .cfg_file = cfg_file ? cfg_file : file, .cfg_text = cfg ? cfg : h.cfg, .cfg_len = cfg ? cfg_len : h.cfg_len, .restore_fd = fd,
				.xs_export = h.xs.len ? h.xs.buf : NULL, .xs_len = h.xs.len, .xs_domid = h.xs_domid };
	rc = create_restored(x, &c, paused, &st, h.monitor_offset);
out:
	savefile_head_free(&h);
out_fd:
	free(cfg);
	close(fd);
	domcfg_dispose(&c);
	return rc;
}

int xl_cmd_save(struct xl_ctx *x, int argc, char **argv)
{
	static const struct option lopts[] = { { "help", 0, NULL, 'h' }, { 0 } };
	bool checkpoint = false, leave_paused = false;
	struct ts_dom d;
	int opt, rc = 0;

	while ((opt = xl_getopt(x, argc, argv, "cp", lopts, 2, &rc)) != -1) {
		if (opt == XL_OPT_EXIT)
			return rc;
		if (opt == 'c')
			checkpoint = true;
		else if (opt == 'p')
			leave_paused = true;
	}
	if (argc - optind > 3) {
		xl_help("save");
		return 2;
	}
	if (ts_dom_lookup(argv[optind], &d) < 0) {
		fprintf(stderr, "xl: domain \"%s\" does not exist\n", argv[optind]);
		return 1;
	}
	return ts_save(d.domid, argv[optind + 1], optind + 2 < argc ? argv[optind + 2] : NULL, checkpoint,
		       leave_paused) < 0 ? 1 : 0;
}

int xl_cmd_restore(struct xl_ctx *x, int argc, char **argv)
{
	static const struct option lopts[] = { { "help", 0, NULL, 'h' }, { 0 } };
	bool paused = false;
	int opt, rc = 0;

	while ((opt = xl_getopt(x, argc, argv, "pedVA", lopts, 1, &rc)) != -1) {
		if (opt == XL_OPT_EXIT)
			return rc;
		if (opt == 'p')
			paused = true;
		/* -e -d -V -A: accepted, no effect in domus (the supervisor
		 * always waits in the background, as for create) */
	}
	if (argc - optind > 2) {
		xl_help("restore");
		return 2;
	}
	return ts_restore(x, argc - optind == 2 ? argv[optind] : NULL, argv[argc - 1], paused) < 0 ? 1 : 0;
}
