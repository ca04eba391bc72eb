/* bl-run CONFIG OUTDIR: runs CONFIG's boot loader as `xl create` does
 * (xl/ts_bootloader.c), without a domain, and writes what it chose to
 * OUTDIR/kernel, OUTDIR/ramdisk (when it gave one) and OUTDIR/cmdline.
 * Exit 0, or 1 with xl's one-line error on stderr. */
#include "ts.h"
#include "ts_bootloader.h"
#include "xl.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int save(int from, const char *dir, const char *name)
{
	char p[4096], buf[65536];
	off_t off = 0;
	ssize_t n;
	int to;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	to = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (to < 0)
		return -1;
	while ((n = pread(from, buf, sizeof(buf), off)) > 0) {
		if (write(to, buf, (size_t)n) != n)
			break;
		off += n;
	}
	close(to);
	return n == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct xl_ctx x = { 0 };
	struct domain_config c;
	struct ts_bl_opts o = { 0 };
	struct ts_boot b;
	char err[1024], p[4096];
	FILE *f;
	int rc = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: bl-run CONFIG OUTDIR\n");
		return 2;
	}
	xl_defaults_init(&x.defaults);
	domcfg_init(&c);
	ts_boot_init(&b);
	if (xl_load_domain_config(&x, argv[1], NULL, 0, &c) < 0)
		goto out;
	if (!c.bootloader) {
		fprintf(stderr, "bl-run: %s has no bootloader=\n", argv[1]);
		goto out;
	}
	o.cfg_file = argv[1];
	o.interactive = getenv("BL_INTERACTIVE") != NULL;
	snprintf(p, sizeof(p), "%s/bootloader.log", argv[2]);
	o.log_path = p;
	if (ts_bootloader_run(&c, &o, &b, err, sizeof(err)) < 0) {
		fprintf(stderr, "xl: %s\n", err);
		goto out;
	}
	if (save(b.kernel_fd, argv[2], "kernel") < 0 || (b.ramdisk_fd >= 0 && save(b.ramdisk_fd, argv[2], "ramdisk") < 0))
		goto out;
	snprintf(p, sizeof(p), "%s/cmdline", argv[2]);
	f = fopen(p, "we");
	if (!f)
		goto out;
	fputs(b.cmdline, f);
	fclose(f);
	rc = 0;
out:
	ts_boot_dispose(&b);
	domcfg_dispose(&c);
	xl_defaults_dispose(&x.defaults);
	return rc;
}
