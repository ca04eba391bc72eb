/* monitor_restore (saverestore.h): the records dispatched by type, in the
 * order docs/vmm-state.md "Order on load" gives. */
#include "saverestore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"
#include "state/mem_rec.h"
#include "state/platform_state.h"
#include "state/vcpu_state.h"
#include "xenstate_bind.h"

#define EXTRA_PAGES (LAYOUT_SPECIAL_PAGES + GNTTAB_MAX_FRAMES)

/* The phases of a stream; a record may not come after a later phase's. */
enum phase { PH_MEMORY, PH_CLOCK, PH_PLATFORM, PH_XEN, PH_DEVICES, PH_VCPU, PH_END };

static const char *const phase_names[] = {
	[PH_MEMORY] = "memory", [PH_CLOCK] = "CLOCK", [PH_PLATFORM] = "platform",
	[PH_XEN] = "Xen state", [PH_DEVICES] = "XENBUS", [PH_VCPU] = "VCPU", [PH_END] = "END",
};

struct restore {
	struct monitor *m;
	struct vm *vm;
	struct stream_reader *r;
	struct platform_clock clk;
	struct xenstate_loader *xen;
	uint8_t vcpu_seen[VMM_MAX_VCPUS];
};

static int load_mem(struct restore *s, const struct stream_record *rec)
{
	return mem_load(&s->vm->mem, EXTRA_PAGES, s->r, rec);
}

static int load_platform(struct restore *s, const struct stream_record *rec)
{
	return platform_state_load(s->vm, &s->clk, s->r, rec);
}

static int load_xen(struct restore *s, const struct stream_record *rec)
{
	return xenstate_load_record(s->xen, s->r, rec);
}

/* The devices do not exist yet (the devices part comes after this one):
 * keep the back ends' records for it (monitor.c disks_init). */
static int load_xenbus(struct restore *s, const struct stream_record *rec)
{
	struct monitor *m = s->m;
	uint8_t (*v)[24];

	if (rec->len != sizeof(*v))
		return stream_reject(s->r, rec, "XENBUS record of the wrong length");
	for (size_t i = 0; i < m->n_xb_saved; i++)
		if (memcmp(m->xb_saved[i], rec->data, 4) == 0)
			return stream_reject(s->r, rec, "second XENBUS record of this device");
	v = realloc(m->xb_saved, (m->n_xb_saved + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	m->xb_saved = v;
	memcpy(v[m->n_xb_saved++], rec->data, sizeof(*v));
	return 0;
}

static int load_vcpu(struct restore *s, const struct stream_record *rec)
{
	uint32_t id = rec->len >= 4 ? (uint32_t)rec->data[0] | (uint32_t)rec->data[1] << 8 |
					      (uint32_t)rec->data[2] << 16 | (uint32_t)rec->data[3] << 24
				    : UINT32_MAX;

	/* vcpu_state_load refuses an id beyond the VM's count itself. */
	if (id < VMM_MAX_VCPUS && s->vcpu_seen[id]++)
		return stream_reject(s->r, rec, "second record of this vCPU");
	return vcpu_state_load(s->vm, &s->clk, s->r, rec);
}

static int load_end(struct restore *s, const struct stream_record *rec)
{
	return 0;
}

static const struct {
	uint32_t type;
	enum phase phase;
	int (*load)(struct restore *s, const struct stream_record *rec);
} rec_table[] = {
	{ STREAM_REC_MEMORY, PH_MEMORY, load_mem },	   { STREAM_REC_EXTRA_MEMORY, PH_MEMORY, load_mem },
	{ STREAM_REC_CLOCK, PH_CLOCK, load_platform },	   { STREAM_REC_IRQCHIP, PH_PLATFORM, load_platform },
	{ STREAM_REC_PIT, PH_PLATFORM, load_platform },	   { STREAM_REC_ACPI_PM, PH_PLATFORM, load_platform },
	{ STREAM_REC_EVTCHN, PH_XEN, load_xen },	   { STREAM_REC_GNTTAB, PH_XEN, load_xen },
	{ STREAM_REC_HVM_PARAMS, PH_XEN, load_xen },	   { STREAM_REC_SHARED_INFO, PH_XEN, load_xen },
	{ STREAM_REC_XENBUS, PH_DEVICES, load_xenbus },
	{ STREAM_REC_VCPU, PH_VCPU, load_vcpu },	   { STREAM_REC_END, PH_END, load_end },
};

/* What must be whole when the stream leaves phase `p` for a later one;
 * `next` is the record that leaves it. */
static int leave(struct restore *s, enum phase p, const struct stream_record *next)
{
	char msg[96];
	int rc;

	switch (p) {
	case PH_CLOCK:
		return s->clk.loaded ? 0 : stream_reject(s->r, next, "expected a CLOCK record before it");
	case PH_XEN:
		rc = xenstate_load_finish(s->xen, s->r, next);
		if (rc == 0 && (rc = vm_xenstate_post_load(s->vm)) < 0) {
			snprintf(msg, sizeof(msg), "binding the loaded Xen state to KVM failed: %s", strerror(-rc));
			rc = stream_reject(s->r, next, msg);
		}
		return rc;
	case PH_VCPU:
		for (int i = 0; i < s->vm->nr_vcpus; i++) {
			if (!s->vcpu_seen[i]) {
				snprintf(msg, sizeof(msg), "expected a VCPU record of vcpu%d before it (the domain has %d)",
					 i, s->vm->nr_vcpus);
				return stream_reject(s->r, next, msg);
			}
		}
		return 0;
	default:
		return 0;
	}
}

static int run(struct restore *s)
{
	enum phase at = PH_MEMORY;
	struct stream_record rec;
	char msg[128];
	size_t i;
	int rc;

	do {
		rc = stream_read_record(s->r, &rec);
		if (rc < 0)
			return rc;
		for (i = 0; i < sizeof(rec_table) / sizeof(rec_table[0]) && rec_table[i].type != rec.type; i++)
			;
		if (i == sizeof(rec_table) / sizeof(rec_table[0]))
			return stream_reject(s->r, &rec, "not a record of the monitor's state (a save file's xl records "
							 "come before the monitor's)");
		if (rec_table[i].phase < at) {
			snprintf(msg, sizeof(msg), "a %s record after the %s records, expected before them",
				 phase_names[rec_table[i].phase], phase_names[at]);
			return stream_reject(s->r, &rec, msg);
		}
		for (; at < rec_table[i].phase; at++) {
			rc = leave(s, at, &rec);
			if (rc < 0)
				return rc;
		}
		rc = rec_table[i].load(s, &rec);
	} while (rc == 0 && rec.type != STREAM_REC_END);
	return rc;
}

int monitor_restore(struct monitor *m, int fd, char *why, size_t wl)
{
	struct stream_reader r;
	struct restore *s = calloc(1, sizeof(*s));
	struct xenstate x;
	off_t at = lseek(fd, 0, SEEK_CUR);
	int rc;

	if (!s)
		return -ENOMEM;
	stream_reader_init_fd(&r, fd);
	/* Offsets in errors are the file's, not the monitor's part's. */
	r.off = at > 0 ? (uint64_t)at : 0;
	s->m = m;
	s->vm = &m->vm;
	s->r = &r;
	vm_xenstate(&m->vm, &x);
	rc = xenstate_load_begin(&x, &s->xen);
	if (rc == 0)
		rc = run(s);
	if (rc < 0)
		snprintf(why, wl, "restore: %s", r.err[0] ? stream_error(&r) : strerror(-rc));
	else
		m->vm.restored = true;
	xenstate_load_free(s->xen);
	stream_reader_fini(&r);
	free(s);
	return rc;
}
