/* libFuzzer target: a hostile file given to import-domain (domxfer.c).
 * Whatever the bytes, the import must not crash, leak or read out of
 * bounds; a refused one must leave nothing behind; a taken one must export
 * again, and that export must import and export to the same bytes (the
 * round trip docs/xenstored.md promises). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "domus/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int daemon_up(struct xsd *d, struct xse_client *dom0)
{
	struct xsd_opts o = { 0 };

	if (xsd_init_core(d, &o) < 0)
		return -1;
	xse_client_init(&d->eng, dom0, 0, NULL, NULL);
	xse_mkdir(dom0, 0, "/local/domain");
	return 0;
}

static void daemon_down(struct xsd *d, struct xse_client *dom0)
{
	xse_client_dispose(dom0);
	xsd_dispose(d);
}

/* Import `in` as domain 9 (from `from`) and export it into out. */
static int through(struct xsd *d, uint32_t from, const uint8_t *in, size_t n,
		   struct stream_writer *out)
{
	char err[STREAM_ERR_MAX + 128];
	struct stream_reader r;
	int rc;

	stream_reader_init_mem(&r, in, n);
	rc = xfer_import(d, from, 9, &r, err, sizeof(err));
	stream_reader_fini(&r);
	if (rc < 0)
		return rc;
	stream_writer_init_mem(out);
	if (xfer_export(d, 9, out, err, sizeof(err)) < 0)
		abort(); /* what came in must go out */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xse_client dom0, dom0b;
	struct stream_writer y, z;
	struct xsd d, e;
	size_t before;

	log_init("fuzz", LOG_ERR, NULL);
	if (daemon_up(&d, &dom0) < 0)
		return 0;
	before = xse_node_count(&d.eng);
	if (through(&d, 5, data, size, &y) < 0) {
		if (xse_node_count(&d.eng) != before || d.eng.doms[9].memory || d.nconns ||
		    d.eng.doms[9].nalias)
			abort(); /* a refused import left something */
		daemon_down(&d, &dom0);
		return 0;
	}
	if (daemon_up(&e, &dom0b) < 0)
		abort();
	if (through(&e, 9, y.buf, y.len, &z) < 0 || z.len != y.len || memcmp(y.buf, z.buf, y.len))
		abort(); /* export -> import -> export changed the bytes */
	stream_writer_fini(&y);
	stream_writer_fini(&z);
	daemon_down(&e, &dom0b);
	daemon_down(&d, &dom0);
	return 0;
}
