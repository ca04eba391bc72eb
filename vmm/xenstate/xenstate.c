/* The Xen state's records: one row per part, each with its record type, a
 * saver and a loader (xenstate.h).  A loader checks everything against the
 * same rules the hypercalls obey and fills a scratch copy; only a stream
 * whose every record loaded is committed. */
#include "xenstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of one port in an EVTCHN record: u32 port, u8 state, u8 0,
 * u16 remote_dom, u32 vcpu, u32 virq, u32 remote_port. */
#define EVTCHN_REC_PORT 20
#define GNTTAB_REC_FRAME 16

static int bad(const char **why, const char *msg)
{
	*why = msg;
	return -EBADMSG;
}

_Static_assert(XENSTATE_NR_PARAMS <= 64, "the HVM_PARAMS record bound in lib/stream.c holds every param");
_Static_assert(EVTCHN_NR_PORTS <= 4096 && GNTTAB_MAX_FRAMES <= 64,
	       "the EVTCHN and GNTTAB record bounds in lib/stream.c hold a full table");

static int save_evtchn(const struct xenstate *x, struct stream_writer *w)
{
	const struct evtchn_core *c = x->evtchn;
	uint32_t count = 0;

	for (uint32_t p = 1; p < EVTCHN_NR_PORTS; p++)
		count += c->ports[p].state != EVTCHNSTAT_closed;
	stream_put_u32(w, EVTCHN_NR_PORTS);
	stream_put_u32(w, count);
	for (uint32_t p = 1; p < EVTCHN_NR_PORTS; p++) {
		const struct evtchn_port *e = &c->ports[p];

		if (e->state == EVTCHNSTAT_closed)
			continue;
		stream_put_u32(w, p);
		stream_put_u8(w, e->state);
		stream_put_u8(w, 0);
		stream_put_u16(w, e->remote_dom);
		stream_put_u32(w, e->vcpu);
		stream_put_u32(w, e->virq);
		stream_put_u32(w, e->remote_port);
	}
	return w->error;
}

static int load_evtchn(struct xenstate *x, struct stream_cursor *c, const char **why)
{
	uint32_t nr = stream_get_u32(c), count = stream_get_u32(c), last = 0;

	if (c->short_read)
		return bad(why, "shorter than its 8-byte head");
	if (nr != EVTCHN_NR_PORTS)
		return bad(why, "table size is not 4096 ports");
	if (count > EVTCHN_NR_PORTS - 1 || c->len - c->off != (size_t)count * EVTCHN_REC_PORT)
		return bad(why, "port count does not match the record's length");
	for (uint32_t i = 0; i < count; i++) {
		struct evtchn_port p;
		uint32_t port = stream_get_u32(c);

		p.state = stream_get_u8(c);
		if (stream_get_u8(c) != 0)
			return bad(why, "a port's reserved byte is not 0");
		p.remote_dom = stream_get_u16(c);
		p.vcpu = stream_get_u32(c);
		p.virq = stream_get_u32(c);
		p.remote_port = stream_get_u32(c);
		if (port <= last)
			return bad(why, "ports not in ascending order");
		last = port;
		if (evtchn_core_restore_port(x->evtchn, port, &p, why) < 0)
			return -EBADMSG;
	}
	return 0;
}

static int save_gnttab(const struct xenstate *x, struct stream_writer *w)
{
	const struct gnttab_core *g = x->gnttab;
	uint32_t count = 0;

	for (uint32_t i = 0; i < GNTTAB_MAX_FRAMES; i++)
		count += g->frame_gpa[i] != 0;
	stream_put_u32(w, g->nr_frames);
	stream_put_u32(w, count);
	for (uint32_t i = 0; i < GNTTAB_MAX_FRAMES; i++) {
		if (!g->frame_gpa[i])
			continue;
		stream_put_u32(w, i);
		stream_put_u32(w, 0);
		stream_put_u64(w, g->frame_gpa[i]);
	}
	return w->error;
}

static int load_gnttab(struct xenstate *x, struct stream_cursor *c, const char **why)
{
	struct gnttab_core *g = x->gnttab;
	uint32_t nr = stream_get_u32(c), count = stream_get_u32(c);
	int64_t last = -1;

	if (c->short_read)
		return bad(why, "shorter than its 8-byte head");
	if (nr > GNTTAB_MAX_FRAMES)
		return bad(why, "more than 64 frames");
	if (count > nr || c->len - c->off != (size_t)count * GNTTAB_REC_FRAME)
		return bad(why, "frame count does not match the table size or the record's length");
	g->nr_frames = nr;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t idx = stream_get_u32(c), zero = stream_get_u32(c);
		uint64_t gpa = stream_get_u64(c), checked;

		if (zero != 0)
			return bad(why, "a frame's reserved word is not 0");
		if ((int64_t)idx <= last || idx >= nr)
			return bad(why, "frame indexes not ascending below the table size");
		last = idx;
		if ((gpa & (GNTTAB_PAGE - 1)) || gpa == 0 ||
		    gnttab_core_check_place(x->mem, idx, gpa >> 12, &checked) < 0)
			return bad(why, "a frame placed where a grant frame may not be");
		for (uint32_t j = 0; j < idx; j++) {
			if (g->frame_gpa[j] == gpa)
				return bad(why, "two frames at one address");
		}
		g->frame_gpa[idx] = gpa;
	}
	return 0;
}

static int save_params(const struct xenstate *x, struct stream_writer *w)
{
	stream_put_u32(w, XENSTATE_NR_PARAMS);
	stream_put_u32(w, 0);
	for (uint32_t i = 0; i < XENSTATE_NR_PARAMS; i++)
		stream_put_u64(w, x->hvm_params[i]);
	return w->error;
}

/* The params the monitor acts on are held to what HVMOP_set_param and the
 * toolstack would have let them be; the others are the guest's business. */
static int load_params(struct xenstate *x, struct stream_cursor *c, const char **why)
{
	uint32_t count = stream_get_u32(c), zero = stream_get_u32(c);
	uint64_t cb;

	if (count != XENSTATE_NR_PARAMS || zero != 0 || c->len - c->off != (size_t)count * 8)
		return bad(why, "param count is not HVM_NR_PARAMS or does not match the record's length");
	for (uint32_t i = 0; i < count; i++)
		x->hvm_params[i] = stream_get_u64(c);
	cb = x->hvm_params[HVM_PARAM_CALLBACK_IRQ];
	if (!xenstate_callback_ok(cb))
		return bad(why, "CALLBACK_IRQ is neither a GSI below 256 nor a vector of 0x10 or more");
	if (x->hvm_params[HVM_PARAM_STORE_EVTCHN] >= EVTCHN_NR_PORTS ||
	    x->hvm_params[HVM_PARAM_CONSOLE_EVTCHN] >= EVTCHN_NR_PORTS)
		return bad(why, "STORE_EVTCHN or CONSOLE_EVTCHN beyond the port table");
	return 0;
}

static int save_shinfo(const struct xenstate *x, struct stream_writer *w)
{
	return stream_put_u64(w, *x->shared_info_gpa);
}

static int load_shinfo(struct xenstate *x, struct stream_cursor *c, const char **why)
{
	uint64_t gpa = stream_get_u64(c);

	if (c->short_read)
		return bad(why, "shorter than 8 bytes");
	/* shared_info is an ordinary RAM page the guest gave up (shinfo.c). */
	if (gpa && ((gpa & (GNTTAB_PAGE - 1)) || !gmem_ptr(x->mem, gpa, GNTTAB_PAGE)))
		return bad(why, "shared_info is not a page of RAM");
	*x->shared_info_gpa = gpa;
	return 0;
}

/* The parts, in the order they are saved. */
static const struct {
	uint32_t type;
	int (*save)(const struct xenstate *x, struct stream_writer *w);
	int (*load)(struct xenstate *x, struct stream_cursor *c, const char **why);
} parts[] = {
	{ STREAM_REC_EVTCHN, save_evtchn, load_evtchn },
	{ STREAM_REC_GNTTAB, save_gnttab, load_gnttab },
	{ STREAM_REC_HVM_PARAMS, save_params, load_params },
	{ STREAM_REC_SHARED_INFO, save_shinfo, load_shinfo },
};

#define NR_PARTS (sizeof(parts) / sizeof(parts[0]))

int xenstate_save(const struct xenstate *x, struct stream_writer *w)
{
	int rc = 0;

	if (x->gnttab->holds)
		return -EBUSY;
	for (size_t i = 0; i < NR_PARTS && rc == 0; i++) {
		struct stream_writer payload;

		stream_writer_init_mem(&payload);
		rc = parts[i].save(x, &payload);
		if (rc == 0)
			rc = stream_write_record(w, parts[i].type, payload.buf, (uint32_t)payload.len);
		stream_writer_fini(&payload);
	}
	return rc;
}

/* Scratch copies of every part, filled by the loaders. */
struct xenstate_loader {
	struct xenstate x;
	struct xenstate *dst;
	struct evtchn_core evtchn;
	struct gnttab_core gnttab;
	uint64_t params[XENSTATE_NR_PARAMS];
	uint64_t shinfo;
	uint8_t seen[NR_PARTS];
};

int xenstate_load_begin(struct xenstate *x, struct xenstate_loader **out)
{
	struct xenstate_loader *s;

	*out = NULL;
	if (x->gnttab->holds)
		return -EBUSY;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	evtchn_core_init(&s->evtchn, x->evtchn->domid, x->evtchn->nr_vcpus);
	gnttab_core_init(&s->gnttab, NULL);
	s->x = (struct xenstate){ .evtchn = &s->evtchn, .gnttab = &s->gnttab, .hvm_params = s->params,
				  .shared_info_gpa = &s->shinfo, .mem = x->mem };
	s->dst = x;
	*out = s;
	return 0;
}

int xenstate_load_record(struct xenstate_loader *s, struct stream_reader *r, const struct stream_record *rec)
{
	struct stream_cursor c;
	const char *why = "malformed";
	size_t i;
	int rc;

	for (i = 0; i < NR_PARTS && parts[i].type != rec->type; i++)
		;
	if (i == NR_PARTS)
		return -ENOENT;
	if (s->seen[i]++)
		return stream_reject(r, rec, "second record of its type, expected one");
	stream_cursor_init(&c, rec);
	rc = parts[i].load(&s->x, &c, &why);
	if (rc == 0 && stream_cursor_done(&c) < 0)
		rc = bad(&why, "bytes left over or missing at its end");
	return rc < 0 ? stream_reject(r, rec, why) : 0;
}

int xenstate_load_finish(struct xenstate_loader *s, struct stream_reader *r, const struct stream_record *next)
{
	struct xenstate *x = s->dst;

	for (size_t i = 0; i < NR_PARTS; i++) {
		if (!s->seen[i]) {
			char msg[64];

			snprintf(msg, sizeof(msg), "expected a %s record before it", stream_rec_name(parts[i].type));
			return stream_reject(r, next, msg);
		}
	}
	memcpy(x->evtchn->ports, s->evtchn.ports, sizeof(s->evtchn.ports));
	x->gnttab->nr_frames = s->gnttab.nr_frames;
	memcpy(x->gnttab->frame_gpa, s->gnttab.frame_gpa, sizeof(s->gnttab.frame_gpa));
	memcpy(x->hvm_params, s->params, sizeof(s->params));
	*x->shared_info_gpa = s->shinfo;
	return 0;
}

void xenstate_load_free(struct xenstate_loader *s)
{
	free(s);
}

int xenstate_load(struct xenstate *x, struct stream_reader *r)
{
	struct xenstate_loader *s;
	struct stream_record rec = { 0 };
	int rc = xenstate_load_begin(x, &s);

	while (rc == 0) {
		rc = stream_read_record(r, &rec);
		if (rc < 0 || rec.type == STREAM_REC_END)
			break;
		rc = xenstate_load_record(s, r, &rec);
		if (rc == -ENOENT)
			rc = stream_reject(r, &rec, "not a record of the Xen state");
	}
	if (rc == 0)
		rc = xenstate_load_finish(s, r, &rec);
	xenstate_load_free(s);
	return rc;
}
