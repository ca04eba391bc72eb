/* The boot loader (bootloader = "pygrub"), as libxl_bootloader.c runs it,
 * in a sandbox of its own (docs/bootloader.md).
 *
 * Before the domain is built, xl opens the domain's first disk read-only and
 * runs the boot loader on it (Debian's pygrub from xen-utils-4.17, or any
 * program of the same interface) with libxl's arguments:
 *   [--kernel=K] [--ramdisk=R] [--args=A] [-q] --output=/out/result
 *   --output-format=simple0 --output-directory=/out [bootloader_args...] /dev/fd/3
 * It runs as an unprivileged uid of its own in new user, mount, pid, net, ipc
 * and uts namespaces, on a read-only root of /usr and little else, with rlimits,
 * a seccomp deny list and a wall-clock timeout.  What leaves it: the result
 * (NUL-separated "kernel PATH", "ramdisk PATH", "args TEXT", read with a size
 * bound) and the two regular files it names in its output directory, a tmpfs
 * that vanishes with the last descriptor xl holds on it. */
#ifndef DOMUS_XL_TS_BOOTLOADER_H
#define DOMUS_XL_TS_BOOTLOADER_H

#include <stdbool.h>
#include <stddef.h>

#include "cfg/domcfg.h"

/* What the boot loader chose: descriptors of the extracted files (in a
 * tmpfs that nothing else references) and the kernel command line. */
struct ts_boot {
	int kernel_fd;	/* -1: none */
	int ramdisk_fd; /* -1: none */
	char *cmdline;	/* "" when the boot loader gave none */
};

void ts_boot_init(struct ts_boot *b);
void ts_boot_dispose(struct ts_boot *b);

/* Where a relative bootloader= is looked up (libxl's private bindir of
 * Debian's xen-utils-4.17); DOMUS_XEN_BIN_DIR moves it, for tests. */
const char *ts_bootloader_dir(void);

/* What can be checked before anything starts: the program exists and the
 * domain has a first disk the boot loader can read (a raw file or a block
 * device).  One line in err, naming cfg_file:line (NULL: the command line). */
int ts_bootloader_check(const struct domain_config *c, const char *cfg_file, char *err, size_t errlen);

struct ts_bl_opts {
	const char *cfg_file; /* for messages; NULL: the command line */
	bool interactive;     /* the boot loader's menu on this terminal (xl create -c) */
	const char *log_path; /* its output and the sandbox's notes, bounded; NULL: none */
};

/* Runs c's boot loader on its first disk.  0 with b filled, or -errno with
 * one line in err naming the disk (file and line) and what was found.
 * Nothing is left behind on either path: no process, no file, no mount. */
int ts_bootloader_run(const struct domain_config *c, const struct ts_bl_opts *o, struct ts_boot *b, char *err,
		      size_t errlen);

#endif
