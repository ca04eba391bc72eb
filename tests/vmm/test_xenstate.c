/* vmm/xenstate/xenstate.c: the Xen state saves to records and loads back
 * (save, load, save gives the same bytes); every truncated or corrupted
 * stream is refused with the record named, and leaves the state as it was. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xenstate/xenstate.h"

#define DOMID 3
#define NR_VCPUS 2
#define SHINFO_GPA 0x5000ULL

/* 64 MiB of RAM; no host memory behind it is needed. */
static const struct guest_mem mem = { .ram_size = 64 << 20, .low_size = 64 << 20 };

struct dom {
	struct xenstate x;
	struct evtchn_core evtchn;
	struct gnttab_core gnttab;
	uint64_t params[XENSTATE_NR_PARAMS];
	uint64_t shinfo;
	uint8_t frames[GNTTAB_PAGE]; /* frame 0's entries */
};

static struct dom *dom_new(void)
{
	struct dom *d = calloc(1, sizeof(*d));

	evtchn_core_init(&d->evtchn, DOMID, NR_VCPUS);
	gnttab_core_init(&d->gnttab, d->frames);
	d->x = (struct xenstate){ .evtchn = &d->evtchn, .gnttab = &d->gnttab, .hvm_params = d->params,
				  .shared_info_gpa = &d->shinfo, .mem = &mem };
	return d;
}

static void dom_free(struct dom *d)
{
	gnttab_core_fini(&d->gnttab);
	free(d);
}

/* A domain as a booted Linux guest leaves it. */
static struct dom *dom_running(void)
{
	struct dom *d = dom_new();
	uint32_t port;

	assert_int_equal(evtchn_core_alloc_interdomain(&d->evtchn, 0, &port), 0); /* console */
	assert_int_equal(evtchn_core_alloc_interdomain(&d->evtchn, 0, &port), 0); /* xenstore */
	assert_int_equal(evtchn_core_bind_virq(&d->evtchn, VIRQ_TIMER, 0, &port), 0);
	assert_int_equal(evtchn_core_bind_virq(&d->evtchn, VIRQ_TIMER, 1, &port), 0);
	assert_int_equal(evtchn_core_bind_ipi(&d->evtchn, 1, &port), 0);
	assert_int_equal(evtchn_core_alloc_unbound(&d->evtchn, DOMID_SELF, 0, &port), 0);
	assert_int_equal(evtchn_core_bind_virq(&d->evtchn, VIRQ_CONSOLE, 0, &port), 0);
	assert_int_equal(evtchn_core_bind_vcpu(&d->evtchn, port, 1), 0);
	assert_int_equal(evtchn_core_close(&d->evtchn, 6, &(struct evtchn_port){ 0 }), 0); /* a hole */
	d->evtchn.ports[1].remote_port = 9;
	gnttab_core_set_place(&d->gnttab, 0, 0xf0000000ULL);
	gnttab_core_set_place(&d->gnttab, 2, 0xf0002000ULL);
	d->params[HVM_PARAM_CALLBACK_IRQ] = (2ULL << 56) | 0xf3;
	d->params[HVM_PARAM_STORE_PFN] = LAYOUT_XENSTORE_PFN;
	d->params[HVM_PARAM_STORE_EVTCHN] = 2;
	d->params[HVM_PARAM_CONSOLE_EVTCHN] = 1;
	d->shinfo = SHINFO_GPA;
	return d;
}

static void save(struct dom *d, struct stream_writer *w)
{
	stream_writer_init_mem(w);
	assert_int_equal(stream_write_header(w), 0);
	assert_int_equal(xenstate_save(&d->x, w), 0);
	assert_int_equal(stream_write_end(w), 0);
}

static int load(struct dom *d, const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct stream_reader r;
	int rc;

	stream_reader_init_mem(&r, buf, len);
	rc = stream_read_header(&r);
	if (rc == 0)
		rc = xenstate_load(&d->x, &r);
	snprintf(err, errlen, "%s", stream_error(&r));
	stream_reader_fini(&r);
	return rc;
}

static void assert_same_state(const struct dom *a, const struct dom *b)
{
	/* Field by field: a port built from a compound literal has a padding
	 * byte after its state that nothing sets (a memcmp failed 21 of 30
	 * runs with Debian's build flags). */
	for (size_t i = 0; i < EVTCHN_NR_PORTS; i++) {
		const struct evtchn_port *p = &a->evtchn.ports[i], *q = &b->evtchn.ports[i];

		assert_int_equal(p->state, q->state);
		assert_int_equal(p->remote_dom, q->remote_dom);
		assert_int_equal(p->vcpu, q->vcpu);
		assert_int_equal(p->virq, q->virq);
		assert_int_equal(p->remote_port, q->remote_port);
	}
	assert_int_equal(a->gnttab.nr_frames, b->gnttab.nr_frames);
	assert_memory_equal(a->gnttab.frame_gpa, b->gnttab.frame_gpa, sizeof(a->gnttab.frame_gpa));
	assert_memory_equal(a->params, b->params, sizeof(a->params));
	assert_int_equal(a->shinfo, b->shinfo);
}

static void test_round_trip(void **state)
{
	struct dom *a = dom_running(), *b = dom_new();
	struct stream_writer w1, w2;
	char err[STREAM_ERR_MAX];
	uint32_t port;

	(void)state;
	save(a, &w1);
	assert_int_equal(load(b, w1.buf, w1.len, err, sizeof(err)), 0);
	assert_same_state(a, b);
	save(b, &w2);
	assert_int_equal(w2.len, w1.len);
	assert_memory_equal(w2.buf, w1.buf, w1.len);
	/* The loaded table obeys the rules: no second timer on vCPU 1, and
	 * the hole at port 6 is the next port given out. */
	assert_int_equal(evtchn_core_bind_virq(&b->evtchn, VIRQ_TIMER, 1, &port), -EEXIST);
	assert_int_equal(evtchn_core_bind_ipi(&b->evtchn, 0, &port), 0);
	assert_int_equal(port, 6);
	assert_int_equal(gnttab_core_nr_entries(&b->gnttab), 3 * GNTTAB_ENTRIES_PER_FRAME);
	stream_writer_fini(&w1);
	stream_writer_fini(&w2);
	dom_free(a);
	dom_free(b);
}

/* A fresh domain saves and loads too (nothing open, nothing placed). */
static void test_empty(void **state)
{
	struct dom *a = dom_new(), *b = dom_running();
	struct stream_writer w;
	char err[STREAM_ERR_MAX];

	(void)state;
	save(a, &w);
	assert_int_equal(load(b, w.buf, w.len, err, sizeof(err)), 0);
	assert_same_state(a, b);
	stream_writer_fini(&w);
	dom_free(a);
	dom_free(b);
}

static void test_truncated_everywhere(void **state)
{
	struct dom *a = dom_running(), *b = dom_running(), *fresh = dom_running();
	struct stream_writer w;
	char err[STREAM_ERR_MAX];

	(void)state;
	save(a, &w);
	b->shinfo = fresh->shinfo = 0x7000; /* so a partial load would show */
	for (size_t cut = 0; cut < w.len; cut++) {
		assert_int_not_equal(load(b, w.buf, cut, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "offset"));
		assert_same_state(b, fresh);
	}
	stream_writer_fini(&w);
	dom_free(a);
	dom_free(b);
	dom_free(fresh);
}

/* Offset of the payload of the first record of `type` in a saved stream. */
static size_t payload_of(const struct stream_writer *w, uint32_t type)
{
	size_t off = STREAM_HEADER_SIZE;

	while (off + 8 <= w->len) {
		uint32_t t, len;

		memcpy(&t, w->buf + off, 4);
		memcpy(&len, w->buf + off + 4, 4);
		if (t == type)
			return off + 8;
		off += 8 + ((len + 7) & ~7u);
	}
	fail_msg("no record of type %u", type);
	return 0;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* One corruption each, and the words the refusal must contain.  EVTCHN's
 * ports start 8 bytes into its payload, 20 bytes each: port 1 (console),
 * 2 (xenstore), 3 (timer vCPU 0), 4 (timer vCPU 1), 5 (IPI), 7 (console VIRQ,
 * moved to vCPU 1). */
enum { EV_PORT = 8, EV_STATE = 12, EV_RSV = 13, EV_VCPU = 16, EV_VIRQ = 20, EV_RPORT = 24 };
#define EV(i, field) (EV_PORT + (i) * 20 + (field) - EV_PORT)

static void corrupt(uint8_t *buf, const struct stream_writer *w, int which)
{
	size_t ev = payload_of(w, STREAM_REC_EVTCHN), gt = payload_of(w, STREAM_REC_GNTTAB);
	size_t hp = payload_of(w, STREAM_REC_HVM_PARAMS), si = payload_of(w, STREAM_REC_SHARED_INFO);

	switch (which) {
	case 0: buf[ev + EV(0, EV_STATE)] = EVTCHNSTAT_pirq; break;
	case 1: put32(buf + ev + EV(2, EV_VCPU), NR_VCPUS); break;
	case 2: put32(buf + ev + EV(1, EV_PORT), 1); break;          /* port 1 twice */
	case 3: put32(buf + ev + EV(1, EV_PORT), 4096); break;
	case 4: buf[ev + EV(0, EV_RSV)] = 1; break;
	case 5: put32(buf + ev + EV(3, EV_VIRQ), VIRQ_TIMER); put32(buf + ev + EV(3, EV_VCPU), 0); break;
	case 6: put32(buf + ev + EV(2, EV_RPORT), 5); break;          /* on a VIRQ */
	case 7: put32(buf + ev, 1024); break;                         /* table size */
	case 8: put32(buf + ev + 4, 99); break;                       /* port count */
	case 9: put64(buf + gt + 8 + 8, 0x100000); break;             /* frame in RAM */
	case 10: put32(buf + gt, 65); break;
	case 11: put64(buf + gt + 8 + 16 + 8, 0xf0000000ULL); break;  /* two frames at one address */
	case 12: put32(buf + gt + 8 + 16, 0); break;                  /* index order */
	case 13: put32(buf + gt, 2); break;                           /* frame 2 beyond 2 frames */
	case 14: put64(buf + gt + 8 + 8, 0xf0000800ULL); break;       /* not page-aligned */
	case 15: put64(buf + hp + 8, (2ULL << 56) | 0x0f); break;     /* CALLBACK_IRQ vector < 0x10 */
	case 16: put64(buf + hp + 8, 1ULL << 56); break;              /* a GSI callback */
	case 17: put32(buf + hp, XENSTATE_NR_PARAMS - 1); break;
	case 18: put64(buf + hp + 8 + 8 * HVM_PARAM_STORE_EVTCHN, 4096); break;
	case 19: put64(buf + si, 64 << 20); break;                    /* beyond RAM */
	case 20: put64(buf + si, SHINFO_GPA + 8); break;
	case 21: put32(buf + si - 8, STREAM_REC_EVTCHN); break;       /* a second EVTCHN (refused as oversize or twice) */
	case 22: put32(buf + si - 8, STREAM_REC_END); put32(buf + si - 4, 0); break; /* END before SHARED_INFO */
	case 23: put32(buf + ev + EV(0, EV_PORT), 2); put32(buf + ev + EV(1, EV_PORT), 1); break; /* order */
	}
}

static const char *const corrupt_says[] = {
	"record EVTCHN", "record EVTCHN", "record EVTCHN", "record EVTCHN", "record EVTCHN", "record EVTCHN",
	"record EVTCHN", "record EVTCHN", "record EVTCHN", "record GNTTAB", "record GNTTAB", "record GNTTAB",
	"record GNTTAB", "record GNTTAB", "record GNTTAB", "record HVM_PARAMS", "record HVM_PARAMS",
	"record HVM_PARAMS", "record HVM_PARAMS", "record SHARED_INFO", "record SHARED_INFO", "record EVTCHN",
	"record END at offset 528: expected a SHARED_INFO record before it",
	"record EVTCHN at offset 16: ports not in ascending order",
};

static void test_corrupted(void **state)
{
	struct dom *a = dom_running(), *b = dom_new(), *fresh = dom_new();
	struct stream_writer w;
	char err[STREAM_ERR_MAX];

	(void)state;
	save(a, &w);
	for (int i = 0; i < (int)(sizeof(corrupt_says) / sizeof(corrupt_says[0])); i++) {
		uint8_t *buf = malloc(w.len);

		memcpy(buf, w.buf, w.len);
		corrupt(buf, &w, i);
		if (load(b, buf, w.len, err, sizeof(err)) != -EBADMSG)
			fail_msg("corruption %d loaded: %s", i, err);
		if (!strstr(err, corrupt_says[i]))
			fail_msg("corruption %d: \"%s\" does not name %s", i, err, corrupt_says[i]);
		assert_same_state(b, fresh);
		free(buf);
	}
	stream_writer_fini(&w);
	dom_free(a);
	dom_free(b);
	dom_free(fresh);
}

/* A back end's mapping cannot be saved, nor loaded over. */
static void test_busy_while_mapped(void **state)
{
	struct dom *a = dom_running();
	struct stream_writer w, empty;
	char err[STREAM_ERR_MAX];

	(void)state;
	save(a, &empty);
	a->gnttab.holds = 1;
	stream_writer_init_mem(&w);
	assert_int_equal(xenstate_save(&a->x, &w), -EBUSY);
	assert_int_equal(w.len, 0);
	assert_int_equal(load(a, empty.buf, empty.len, err, sizeof(err)), -EBUSY);
	a->gnttab.holds = 0;
	stream_writer_fini(&w);
	stream_writer_fini(&empty);
	dom_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_corrupted),
		cmocka_unit_test(test_busy_while_mapped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
