/* monitor_restore (saverestore.h): the restore dispatcher
 * (state/load_dispatch.h, plain data) bound to the VM: memory into the
 * memfd, the platform into KVM, the Xen state then its post-load, the
 * back ends' xenbus records kept for the devices part, vCPUs. */
#include "saverestore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"
#include "shinfo.h"
#include "state/load_dispatch.h"
#include "state/mem_rec.h"
#include "state/platform_state.h"
#include "state/vcpu_state.h"
#include "xenstate_bind.h"
#include "xenbus/xb_xs.h"

#define EXTRA_PAGES (LAYOUT_SPECIAL_PAGES + GNTTAB_MAX_FRAMES)

struct restore {
	struct monitor *m;
	struct vm *vm;
	struct platform_clock clk;
	struct xenstate_loader *xen;
};

static int load_mem(void *ctx, struct stream_reader *r, const struct stream_record *rec)
{
	struct restore *s = ctx;

	return mem_load(&s->vm->mem, EXTRA_PAGES, r, rec);
}

static int load_platform(void *ctx, struct stream_reader *r, const struct stream_record *rec)
{
	struct restore *s = ctx;

	return platform_state_load(s->vm, &s->clk, r, rec);
}

static int load_xen(void *ctx, struct stream_reader *r, const struct stream_record *rec)
{
	struct restore *s = ctx;

	return xenstate_load_record(s->xen, r, rec);
}

static int xen_done(void *ctx, struct stream_reader *r, const struct stream_record *next)
{
	struct restore *s = ctx;
	char msg[96];
	int rc = xenstate_load_finish(s->xen, r, next);

	if (rc == 0 && (rc = vm_xenstate_post_load(s->vm)) < 0) {
		snprintf(msg, sizeof(msg), "binding the loaded Xen state to KVM failed: %s", strerror(-rc));
		rc = stream_reject(r, next, msg);
	}
	return rc;
}

/* The devices do not exist yet (the devices part comes after this one):
 * keep the back ends' records for it (monitor.c disks_init). */
static int load_xenbus(void *ctx, struct stream_reader *r, const struct stream_record *rec)
{
	struct monitor *m = ((struct restore *)ctx)->m;
	struct xb_saved_rec *v;
	uint8_t *data;

	if (!xb_xs_rec_ok(rec->data, rec->len))
		return stream_reject(r, rec, "XENBUS record of the wrong length");
	for (size_t i = 0; i < m->n_xb_saved; i++)
		if (xb_xs_rec_devid(m->xb_saved[i].data) == xb_xs_rec_devid(rec->data))
			return stream_reject(r, rec, "second XENBUS record of this device");
	v = realloc(m->xb_saved, (m->n_xb_saved + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	m->xb_saved = v;
	data = malloc(rec->len);
	if (!data)
		return -ENOMEM;
	memcpy(data, rec->data, rec->len);
	v[m->n_xb_saved++] = (struct xb_saved_rec){ data, rec->len };
	return 0;
}

static int load_vcpu(void *ctx, struct stream_reader *r, const struct stream_record *rec)
{
	struct restore *s = ctx;

	return vcpu_state_load(s->vm, &s->clk, r, rec);
}

static const struct load_parts parts = {
	.memory = load_mem, .platform = load_platform, .xen = load_xen, .xen_done = xen_done, .devices = load_xenbus,
	.vcpu = load_vcpu,
};

int monitor_restore(struct monitor *m, int fd, char *why, size_t wl)
{
	struct stream_reader r;
	struct restore s = { .m = m, .vm = &m->vm };
	struct xenstate x;
	off_t at = lseek(fd, 0, SEEK_CUR);
	int rc;

	stream_reader_init_fd(&r, fd);
	/* Offsets in errors are the file's, not the monitor's part's. */
	r.off = at > 0 ? (uint64_t)at : 0;
	vm_xenstate(&m->vm, &x);
	rc = xenstate_load_begin(&x, &s.xen);
	if (rc == 0)
		rc = load_dispatch(&r, m->vm.nr_vcpus, &parts, &s);
	if (rc < 0)
		snprintf(why, wl, "restore: %s", r.err[0] ? stream_error(&r) : strerror(-rc));
	else {
		m->vm.restored = true;
		shinfo_clock_stopped(&m->vm);
	}
	xenstate_load_free(s.xen);
	stream_reader_fini(&r);
	return rc;
}
