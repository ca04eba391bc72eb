/* A fake guest for the blkif back end's tests and fuzzer: RAM pages, a
 * grant table core over them, a shared ring the test writes as a frontend
 * (through its granted pages, which need not be contiguous), and a sparse
 * backing file. */
#ifndef DOMUS_TESTS_BLK_FAKE_H
#define DOMUS_TESTS_BLK_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "blk/blkback.h"

#define FAKE_RAM_GFN 0x100
#define FAKE_RAM_PAGES 512
#define FAKE_DISK_SECTORS 16384 /* 8 MiB */

struct fake_guest {
	uint8_t *ram;    /* FAKE_RAM_PAGES pages */
	uint8_t *frames; /* grant table frames */
	struct gnttab_core core;
	struct gnttab_mem mem;
	struct blk_gnt_core gcore;
	struct blk_gnt gnt;
	/* the frontend's view of the ring */
	uint8_t *rpage[BLK_MAX_RING_PAGES];
	uint32_t ring_refs[BLK_MAX_RING_PAGES];
	unsigned order;
	RING_IDX size, req_prod, rsp_cons;
	unsigned notified;
	int fd;
	char path[64];
};

/* order: ring pages; scrambled: ring pages granted in reverse RAM order. */
int fake_init(struct fake_guest *f, unsigned order, bool scrambled, bool with_file);
void fake_fini(struct fake_guest *f);
uint8_t *fake_page(struct fake_guest *f, unsigned page);
/* Grant RAM page `page` as ref (read-only if ro). */
void fake_grant(struct fake_guest *f, uint32_t ref, unsigned page, bool ro);
/* Write request i of the ring (not pushed). */
void fake_put_req(struct fake_guest *f, RING_IDX i, const void *req);
/* Publish req_prod (release). */
void fake_push(struct fake_guest *f, RING_IDX prod);
void fake_get_rsp(struct fake_guest *f, RING_IDX i, blkif_response_t *rsp);
RING_IDX fake_rsp_prod(struct fake_guest *f);
struct blkif_sring *fake_sring(struct fake_guest *f);
/* A config on this guest: the ring, the file, the grant adapter. */
struct blkback_config fake_config(struct fake_guest *f);
void fake_notify(void *ctx);
/* A free loop device over backing_fd (512-byte blocks, gone on its last
 * close): its descriptor, its name in dev; -1 where none can be had (the
 * caller skips). */
int fake_loop_attach(int backing_fd, char *dev, size_t len);

#endif
