/* libFuzzer target: a hostile guest on its xenstore ring.  The input is a
 * script of guest actions - bytes into the request ring, arbitrary request
 * and response indexes, consuming replies, kicks - run against the daemon's
 * real ring transport (ring.c, conn.c) and engine, with a daemon round after
 * each action.  Whatever the guest does, the daemon must not crash, read or
 * write outside the page, or leak. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon.h"
#include "domus/ring_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct xse_perm home = { 5, XSE_PERM_NONE };
	struct xsd_opts o = { 0 };
	struct xsd_ring_attach a = { XSD_RING_MAGIC, XSD_RING_VERSION, 5, 0, 0 };
	struct xenstore_domain_interface *i;
	struct xse_client dom0;
	struct xsd d;
	struct ring *r;
	int fds[3];
	size_t off = 0;

	log_init("fuzz", LOG_ERR, NULL);
	if (xsd_init_core(&d, &o) < 0)
		return 0;
	fds[0] = memfd_create("ring", MFD_ALLOW_SEALING);
	fds[1] = eventfd(0, EFD_NONBLOCK);
	fds[2] = eventfd(0, EFD_NONBLOCK);
	i = NULL;
	if (fds[0] >= 0 && ftruncate(fds[0], 4096) == 0 && fcntl(fds[0], F_ADD_SEALS, F_SEAL_SHRINK) == 0)
		i = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	r = ring_alloc(&d, -1);
	if (!r || i == MAP_FAILED || !i || ring_attach(r, &a, fds) < 0)
		abort();
	close(fds[0]);
	xse_client_init(&d.eng, &dom0, 0, NULL, NULL);
	xse_mkdir(&dom0, 0, "/local/domain/5");
	xse_set_perms(&dom0, 0, "/local/domain/5", &home, 1);
	xse_introduce(&d.eng, 5);
	ring_introduced(&d, 5);
	while (off + 3 <= size) {
		uint8_t op = data[off];
		uint16_t arg = (uint16_t)(data[off + 1] | data[off + 2] << 8);

		off += 3;
		switch (op % 6) {
		case 0: { /* request bytes, as much as the input and the ring hold */
			uint32_t n = arg % 1100;

			for (uint32_t k = 0; k < n && off < size; k++, off++)
				i->req[MASK_XENSTORE_IDX(i->req_prod + k)] = (char)data[off];
			i->req_prod += n;
			break;
		}
		case 1: i->req_prod += arg; break;		/* hostile index */
		case 2: i->rsp_cons += arg; break;		/* hostile index */
		case 3: i->rsp_cons = i->rsp_prod; break;	/* read the replies */
		case 4: i->req_cons = arg; break;		/* scribble on ours */
		default: break;					/* a kick only */
		}
		ring_kick_event(&d, r);
		xsd_round(&d);
		xse_write(&dom0, 0, "/local/domain/5/fuzz", "x", 1); /* events for its watches */
		xsd_round(&d);
	}
	xse_client_dispose(&dom0);
	munmap(i, 4096);
	xsd_dispose(&d);
	return 0;
}
