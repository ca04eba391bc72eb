/* A qcow2 or vhd image seen as a raw file: QEMU's block layer, as Debian's
 * qemu-storage-daemon, exports the image through FUSE onto a file, and the
 * vbd's data path serves that file with its io_uring engine as it serves a
 * raw image (docs/blkback.md "qcow2 and vhd").  This is what Xen's qdisk
 * does with QEMU's block layer in-process.
 *
 * The daemon is the caller's child and dies with it: PR_SET_PDEATHSIG
 * (SIGTERM: the daemon then flushes, closes the image and unmounts) fires
 * when the thread that started it ends, so start it from a thread that
 * lives as long as the disk is served: the monitor's main thread (a disk
 * plugged later from the event loop thread would see its daemon end with
 * the loop, after the back ends quiesced: harmless, but early). */
#ifndef DOMUS_VMM_BLK_QSD_H
#define DOMUS_VMM_BLK_QSD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct qsd_cfg {
	const char *image;  /* the qcow2 or vhd file */
	const char *format; /* "qcow2" or "vhd" (xl's names) */
	bool readonly;      /* the image opened read-only, the export too */
	const char *dir;    /* where the export file goes (the domain's run dir) */
	const char *name;   /* its name in dir, e.g. "qsd-51712" */
	const char *binary; /* NULL: $DOMUS_QSD, else "qemu-storage-daemon" */
	unsigned timeout_ms; /* 0: 30 s for the daemon to open and mount (QEMU loads slowly in the TCG lab) */
};

struct qsd;

/* Starts the daemon and waits until the export is mounted.  On failure
 * nothing is left (no process, no mount, no file) and why has one line:
 * the daemon's own first error (a corrupt image, a lock held by another
 * process) or what went wrong here. */
int qsd_start(const struct qsd_cfg *c, struct qsd **out, char *why, size_t wl);
/* The raw view of the image: open it, as any raw file. */
const char *qsd_path(const struct qsd *q);
pid_t qsd_pid(const struct qsd *q);
/* Ends the daemon (SIGTERM: it flushes and closes the image; SIGKILL after
 * a while), unmounts and removes the file.  NULL: nothing. */
void qsd_stop(struct qsd *q);
/* What a dead daemon may leave in dir: an export file, possibly still a
 * mount (the daemon was killed with SIGKILL); removes it.  For a run dir's
 * owner cleaning up. */
void qsd_remove_stale(const char *path);

#endif
