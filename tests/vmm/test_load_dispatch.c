/* vmm/state/load_dispatch.c without KVM: streams of the monitor's records
 * fed to fake parts that log what they were handed.  A good stream reaches
 * each part in order; an unknown type, a record of xl's or xenstored's part,
 * a record out of its phase, a second record of a kind that comes once, a
 * second VCPU of one id, a missing CLOCK or vCPU, a part's own refusal and
 * every truncation are refused with one line naming the record. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "state/load_dispatch.h"

struct fake {
	char log[512];
	uint32_t refuse; /* this type's part refuses it; 0: none */
	int xen_done_rc;
};

static void note(struct fake *f, const char *what)
{
	size_t n = strlen(f->log);

	snprintf(f->log + n, sizeof(f->log) - n, "%s%s", n ? "," : "", what);
}

static int part(void *ctx, struct stream_reader *r, const struct stream_record *rec)
{
	struct fake *f = ctx;
	char buf[32];

	if (rec->type == STREAM_REC_VCPU && rec->len >= 4)
		snprintf(buf, sizeof(buf), "VCPU%u", rec->data[0]);
	else
		snprintf(buf, sizeof(buf), "%s", stream_rec_name(rec->type));
	note(f, buf);
	if (f->refuse == rec->type)
		return stream_reject(r, rec, "the part refused it");
	return 0;
}

static int xen_done(void *ctx, struct stream_reader *r, const struct stream_record *next)
{
	struct fake *f = ctx;

	note(f, "xen_done");
	return f->xen_done_rc ? stream_reject(r, next, "the Xen state is not whole") : 0;
}

static const struct load_parts parts = {
	.memory = part, .platform = part, .xen = part, .xen_done = xen_done, .vcpu = part,
};

/* A stream as a list of record types; a VCPU's id is the next entry. */
#define VCPU(n) STREAM_REC_VCPU, (n)
#define GOOD                                                                                                  \
	STREAM_REC_MEMORY, STREAM_REC_EXTRA_MEMORY, STREAM_REC_CLOCK, STREAM_REC_IRQCHIP, STREAM_REC_PIT,     \
		STREAM_REC_ACPI_PM, STREAM_REC_EVTCHN, STREAM_REC_GNTTAB, STREAM_REC_HVM_PARAMS,              \
		STREAM_REC_SHARED_INFO
#define LAST 0xffffffffu

/* Records with an 8-byte payload; an unknown type's header written by hand,
 * as no writer would. */
static void build(struct stream_writer *w, const uint32_t *types)
{
	uint8_t payload[8] = { 0 };

	stream_writer_init_mem(w);
	for (size_t i = 0; types[i] != LAST; i++) {
		if (types[i] == STREAM_REC_VCPU) {
			payload[0] = (uint8_t)types[++i];
			assert_int_equal(stream_write_record(w, STREAM_REC_VCPU, payload, 8), 0);
			payload[0] = 0;
		} else if (!stream_rec_name(types[i])) {
			uint8_t h[16] = { (uint8_t)types[i], (uint8_t)(types[i] >> 8), 0, 0, 8 };
			assert_int_equal(stream_put_bytes(w, h, sizeof(h)), 0);
		} else {
			assert_int_equal(stream_write_record(w, types[i], payload,
							     types[i] == STREAM_REC_END ? 0 : 8), 0);
		}
	}
}

static int feed(const struct stream_writer *w, size_t len, struct fake *f, char *err, size_t errlen)
{
	struct stream_reader r;
	int rc;

	stream_reader_init_mem(&r, w->buf, len);
	rc = load_dispatch(&r, 2, &parts, f);
	snprintf(err, errlen, "%s", r.err[0] ? stream_error(&r) : "");
	stream_reader_fini(&r);
	return rc;
}

static void expect(const uint32_t *types, const struct fake *how, int want_rc, const char *want_err,
		   const char *want_log)
{
	struct stream_writer w;
	struct fake f = how ? *how : (struct fake){ 0 };
	char err[STREAM_ERR_MAX];

	build(&w, types);
	assert_int_equal(feed(&w, w.len, &f, err, sizeof(err)), want_rc);
	if (want_err)
		assert_string_equal(err, want_err);
	if (want_log)
		assert_string_equal(f.log, want_log);
	stream_writer_fini(&w);
}

static void good_stream(void **state)
{
	const uint32_t s[] = { GOOD, VCPU(0), VCPU(1), STREAM_REC_END, LAST };

	expect(s, NULL, 0, "",
	       "MEMORY,EXTRA_MEMORY,CLOCK,IRQCHIP,PIT,ACPI_PM,EVTCHN,GNTTAB,HVM_PARAMS,SHARED_INFO,xen_done,"
	       "VCPU0,VCPU1");
}

/* Memory may be many records, the platform's come in any order. */
static void good_stream_variants(void **state)
{
	const uint32_t s[] = { STREAM_REC_MEMORY,     STREAM_REC_MEMORY, STREAM_REC_EXTRA_MEMORY, STREAM_REC_CLOCK,
			       STREAM_REC_PIT,	      STREAM_REC_IRQCHIP, STREAM_REC_EVTCHN,	   VCPU(1),
			       VCPU(0),		      STREAM_REC_END,	  LAST };

	expect(s, NULL, 0, "", "MEMORY,MEMORY,EXTRA_MEMORY,CLOCK,PIT,IRQCHIP,EVTCHN,xen_done,VCPU1,VCPU0");
}

static void unknown_type(void **state)
{
	const uint32_t s[] = { STREAM_REC_MEMORY, 0x999, LAST };
	struct stream_writer w;
	struct fake f = { 0 };
	char err[STREAM_ERR_MAX];

	build(&w, s);
	assert_int_equal(feed(&w, w.len, &f, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "record type 2457 at offset 16: unknown type"));
	assert_string_equal(f.log, "MEMORY");
	stream_writer_fini(&w);
}

/* xl's CONFIG and xenstored's records belong before the monitor's part. */
static void record_of_another_part(void **state)
{
	const uint32_t cfg[] = { GOOD, STREAM_REC_CONFIG, LAST };
	const uint32_t xs[] = { STREAM_REC_XS_NODE, LAST };

	expect(cfg, NULL, -EBADMSG,
	       "record CONFIG at offset 160: not a record of the monitor's state (a save file's xl records come "
	       "before the monitor's)",
	       NULL);
	expect(xs, NULL, -EBADMSG,
	       "record XS_NODE at offset 0: not a record of the monitor's state (a save file's xl records come "
	       "before the monitor's)",
	       "");
}

static void out_of_phase(void **state)
{
	const uint32_t late_mem[] = { GOOD, STREAM_REC_MEMORY, LAST };
	const uint32_t late_clock[] = { GOOD, VCPU(0), STREAM_REC_CLOCK, LAST };

	expect(late_mem, NULL, -EBADMSG,
	       "record MEMORY at offset 160: a memory record after the Xen state records, expected before them",
	       NULL);
	expect(late_clock, NULL, -EBADMSG,
	       "record CLOCK at offset 176: a CLOCK record after the VCPU records, expected before them", NULL);
}

static void duplicates(void **state)
{
	const uint32_t clock[] = { STREAM_REC_MEMORY, STREAM_REC_CLOCK, STREAM_REC_CLOCK, LAST };
	const uint32_t evtchn[] = { GOOD, STREAM_REC_EVTCHN, LAST };
	const uint32_t vcpu[] = { GOOD, VCPU(1), VCPU(1), LAST };
	const uint32_t end[] = { GOOD, VCPU(0), VCPU(1), STREAM_REC_END, STREAM_REC_END, LAST };

	expect(clock, NULL, -EBADMSG, "record CLOCK at offset 32: second record of this type, expected one",
	       "MEMORY,CLOCK");
	expect(evtchn, NULL, -EBADMSG, "record EVTCHN at offset 160: second record of this type, expected one",
	       NULL);
	expect(vcpu, NULL, -EBADMSG, "record VCPU at offset 176: second record of this vCPU", NULL);
	/* Nothing is read after END. */
	expect(end, NULL, 0, "", NULL);
}

static void missing(void **state)
{
	const uint32_t no_clock[] = { STREAM_REC_MEMORY, STREAM_REC_IRQCHIP, LAST };
	const uint32_t no_vcpu1[] = { GOOD, VCPU(0), STREAM_REC_END, LAST };

	expect(no_clock, NULL, -EBADMSG, "record IRQCHIP at offset 16: expected a CLOCK record before it", "MEMORY");
	expect(no_vcpu1, NULL, -EBADMSG,
	       "record END at offset 176: expected a VCPU record of vcpu1 before it (the domain has 2)", NULL);
}

static void part_refuses(void **state)
{
	const uint32_t s[] = { GOOD, VCPU(0), VCPU(1), STREAM_REC_END, LAST };
	struct fake pit = { .refuse = STREAM_REC_PIT }, xen = { .xen_done_rc = 1 };

	expect(s, &pit, -EBADMSG, "record PIT at offset 64: the part refused it",
	       "MEMORY,EXTRA_MEMORY,CLOCK,IRQCHIP,PIT");
	expect(s, &xen, -EBADMSG, "record VCPU at offset 160: the Xen state is not whole",
	       "MEMORY,EXTRA_MEMORY,CLOCK,IRQCHIP,PIT,ACPI_PM,EVTCHN,GNTTAB,HVM_PARAMS,SHARED_INFO,xen_done");
}

/* Every cut of a good stream is refused naming a record (or the missing
 * header of the next). */
static void truncated(void **state)
{
	const uint32_t s[] = { GOOD, VCPU(0), VCPU(1), STREAM_REC_END, LAST };
	struct stream_writer w;
	char err[STREAM_ERR_MAX];

	build(&w, s);
	for (size_t len = 0; len < w.len; len++) {
		struct fake f = { 0 };

		assert_int_equal(feed(&w, len, &f, err, sizeof(err)), -EBADMSG);
		assert_true(strstr(err, "truncated") != NULL || strstr(err, "expected a") != NULL);
		assert_true(strncmp(err, "record", 6) == 0);
	}
	stream_writer_fini(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_stream),	    cmocka_unit_test(good_stream_variants),
		cmocka_unit_test(unknown_type),	    cmocka_unit_test(record_of_another_part),
		cmocka_unit_test(out_of_phase),	    cmocka_unit_test(duplicates),
		cmocka_unit_test(missing),	    cmocka_unit_test(part_refuses),
		cmocka_unit_test(truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
