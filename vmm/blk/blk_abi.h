/* The blkif ABI from Debian's libxen-dev (xen/io/blkif.h, xen/io/ring.h).
 * Only the native x86_64 layout is served. */
#ifndef DOMUS_VMM_BLK_ABI_H
#define DOMUS_VMM_BLK_ABI_H

#include "xen/xen_abi.h"
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>

_Static_assert(sizeof(blkif_request_t) == 112, "native x86_64 blkif request");
_Static_assert(sizeof(union blkif_sring_entry) == 112, "native x86_64 ring slot");
_Static_assert(sizeof(struct blkif_request_segment) == 8, "indirect page entry");

#endif
