/* The restore dispatcher (load_dispatch.h). */
#include "state/load_dispatch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The phases of a stream; a record may not come after a later phase's. */
enum phase { PH_MEMORY, PH_CLOCK, PH_PLATFORM, PH_XEN, PH_DEVICES, PH_VCPU, PH_END };

static const char *const phase_names[] = {
	[PH_MEMORY] = "memory", [PH_CLOCK] = "CLOCK", [PH_PLATFORM] = "platform",
	[PH_XEN] = "Xen state", [PH_DEVICES] = "XENBUS", [PH_VCPU] = "VCPU", [PH_END] = "END",
};

enum part { P_MEMORY, P_PLATFORM, P_XEN, P_DEVICES, P_VCPU, P_END };

static const struct {
	uint32_t type;
	enum phase phase;
	enum part part;
	bool once;
} rec_table[] = {
	{ STREAM_REC_MEMORY, PH_MEMORY, P_MEMORY, false },   { STREAM_REC_EXTRA_MEMORY, PH_MEMORY, P_MEMORY, false },
	{ STREAM_REC_CLOCK, PH_CLOCK, P_PLATFORM, true },     { STREAM_REC_IRQCHIP, PH_PLATFORM, P_PLATFORM, true },
	{ STREAM_REC_PIT, PH_PLATFORM, P_PLATFORM, true },    { STREAM_REC_ACPI_PM, PH_PLATFORM, P_PLATFORM, true },
	{ STREAM_REC_EVTCHN, PH_XEN, P_XEN, true },	      { STREAM_REC_GNTTAB, PH_XEN, P_XEN, true },
	{ STREAM_REC_HVM_PARAMS, PH_XEN, P_XEN, true },	      { STREAM_REC_SHARED_INFO, PH_XEN, P_XEN, true },
	{ STREAM_REC_XENBUS, PH_DEVICES, P_DEVICES, false },
	{ STREAM_REC_VCPU, PH_VCPU, P_VCPU, false },	      { STREAM_REC_END, PH_END, P_END, true },
};
#define NREC (sizeof(rec_table) / sizeof(rec_table[0]))

struct dispatch {
	struct stream_reader *r;
	int nr_vcpus;
	const struct load_parts *parts;
	void *ctx;
	bool seen[NREC];
	uint8_t vcpu_seen[256];
};

static load_rec_fn *part_fn(const struct load_parts *p, enum part part)
{
	switch (part) {
	case P_MEMORY: return p->memory;
	case P_PLATFORM: return p->platform;
	case P_XEN: return p->xen;
	case P_DEVICES: return p->devices;
	case P_VCPU: return p->vcpu;
	default: return NULL;
	}
}

static bool clock_seen(const struct dispatch *d)
{
	for (size_t i = 0; i < NREC; i++)
		if (rec_table[i].type == STREAM_REC_CLOCK)
			return d->seen[i];
	return false;
}

/* What must be whole when the stream leaves phase p for a later one; next
 * is the record that leaves it. */
static int leave(struct dispatch *d, enum phase p, const struct stream_record *next)
{
	char msg[96];

	switch (p) {
	case PH_CLOCK:
		return clock_seen(d) ? 0 : stream_reject(d->r, next, "expected a CLOCK record before it");
	case PH_XEN:
		return d->parts->xen_done ? d->parts->xen_done(d->ctx, d->r, next) : 0;
	case PH_VCPU:
		for (int i = 0; i < d->nr_vcpus; i++) {
			if (!d->vcpu_seen[i]) {
				snprintf(msg, sizeof(msg), "expected a VCPU record of vcpu%d before it (the domain has %d)",
					 i, d->nr_vcpus);
				return stream_reject(d->r, next, msg);
			}
		}
		return 0;
	default:
		return 0;
	}
}

/* A VCPU record's id is its payload's first u32 (vcpu_rec.h). */
static int note_vcpu(struct dispatch *d, const struct stream_record *rec)
{
	uint32_t id = rec->len >= 4 ? (uint32_t)rec->data[0] | (uint32_t)rec->data[1] << 8 |
					      (uint32_t)rec->data[2] << 16 | (uint32_t)rec->data[3] << 24
				    : UINT32_MAX;

	if (id < sizeof(d->vcpu_seen) && d->vcpu_seen[id]++)
		return stream_reject(d->r, rec, "second record of this vCPU");
	return 0;
}

int load_dispatch(struct stream_reader *r, int nr_vcpus, const struct load_parts *parts, void *ctx)
{
	struct dispatch d = { .r = r, .nr_vcpus = nr_vcpus, .parts = parts, .ctx = ctx };
	enum phase at = PH_MEMORY;
	struct stream_record rec;
	load_rec_fn *fn;
	char msg[128];
	size_t i;
	int rc;

	if (nr_vcpus < 1 || (size_t)nr_vcpus > sizeof(d.vcpu_seen))
		return -EINVAL;
	do {
		rc = stream_read_record(r, &rec);
		if (rc < 0)
			return rc;
		for (i = 0; i < NREC && rec_table[i].type != rec.type; i++)
			;
		if (i == NREC)
			return stream_reject(r, &rec, "not a record of the monitor's state (a save file's xl records "
						      "come before the monitor's)");
		if (rec_table[i].phase < at) {
			snprintf(msg, sizeof(msg), "a %s record after the %s records, expected before them",
				 phase_names[rec_table[i].phase], phase_names[at]);
			return stream_reject(r, &rec, msg);
		}
		if (rec_table[i].once && d.seen[i])
			return stream_reject(r, &rec, "second record of this type, expected one");
		d.seen[i] = true;
		for (; at < rec_table[i].phase; at++) {
			rc = leave(&d, at, &rec);
			if (rc < 0)
				return rc;
		}
		if (rec_table[i].part == P_VCPU && (rc = note_vcpu(&d, &rec)) < 0)
			return rc;
		fn = part_fn(parts, rec_table[i].part);
		rc = fn ? fn(ctx, r, &rec) : 0;
	} while (rc == 0 && rec.type != STREAM_REC_END);
	return rc;
}
