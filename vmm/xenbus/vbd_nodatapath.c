/* The vbd data-path seam before the blkif data path exists (vbd.h): the
 * backend reaches InitWait, and a frontend that asks to connect is told,
 * through the error node and Closing, that disks do not work yet.  The
 * commit that builds vmm/blk/ replaces this file in vmm/meson.build. */
#include "vbd.h"

#include <errno.h>
#include <stdio.h>

void vbd_datapath_limits(struct vbd_limits *lim)
{
	/* One queue of one page, no indirect segments: the least a
	 * frontend must support, so nothing is promised that a later data
	 * path might not keep. */
	*lim = (struct vbd_limits){ .max_queues = 1, .max_ring_page_order = 0 };
}

int vbd_datapath_connect(void *host, const struct vbd_cfg *cfg, const struct vbd_front *fe, void **dp,
			 struct vbd_disk_info *info, char *why, size_t wl)
{
	(void)host;
	(void)cfg;
	(void)fe;
	(void)info;
	*dp = NULL;
	snprintf(why, wl, "the blkif data path is not built yet");
	return -ENOSYS;
}

void vbd_datapath_disconnect(void *dp)
{
	(void)dp;
}
