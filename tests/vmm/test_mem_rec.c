/* Guest memory records (vmm/state/mem_rec.c) on a memfd of the test's own:
 * only touched pages travel, holes stay holes after a load, and every bad
 * chunk is refused naming the record. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "state/mem_rec.h"

#define PAGE 4096u
#define RAM (16u << 20)
#define EXTRA 72u /* special pages and grant frames, as vm.c */

struct gm {
	struct guest_mem m;
	uint64_t total;
};

static void gm_open(struct gm *g)
{
	g->total = RAM + EXTRA * PAGE;
	g->m = (struct guest_mem){ .ram_size = RAM, .low_size = RAM, .memfd = memfd_create("t", MFD_CLOEXEC) };
	assert_true(g->m.memfd >= 0);
	assert_int_equal(ftruncate(g->m.memfd, (off_t)g->total), 0);
	g->m.hva = mmap(NULL, g->total, PROT_READ | PROT_WRITE, MAP_SHARED, g->m.memfd, 0);
	assert_true(g->m.hva != MAP_FAILED);
}

static void gm_close(struct gm *g)
{
	munmap(g->m.hva, g->total);
	close(g->m.memfd);
}

static uint64_t allocated(const struct gm *g)
{
	struct stat st;

	assert_int_equal(fstat(g->m.memfd, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

/* Touch pages 0, 5..7, 1000..1299 (crosses a chunk), the last RAM page, the
 * first special page and the last grant frame. */
static void touch(struct gm *g)
{
	const uint64_t pages[] = { 0, 5, 6, 7, RAM / PAGE - 1, RAM / PAGE, RAM / PAGE + EXTRA - 1 };

	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		memset(g->m.hva + pages[i] * PAGE, (int)(i + 1), PAGE);
	for (uint64_t p = 1000; p < 1300; p++)
		g->m.hva[p * PAGE + 17] = (uint8_t)p;
}

static int load_all(struct gm *g, const struct stream_writer *w, struct stream_reader *r)
{
	struct stream_record rec;
	int rc = 0;

	stream_reader_init_mem(r, w->buf, w->len);
	while (rc == 0 && r->off < w->len) {
		rc = stream_read_record(r, &rec);
		if (rc == 0)
			rc = mem_load(&g->m, EXTRA, r, &rec);
	}
	return rc;
}

static void round_trip_keeps_holes(void **state)
{
	struct gm a, b;
	struct stream_writer w;
	struct stream_reader r;
	uint64_t touched = 4 + 300 + 3;

	gm_open(&a);
	gm_open(&b);
	touch(&a);
	stream_writer_init_mem(&w);
	assert_int_equal(mem_save(&a.m, EXTRA, &w), 0);
	/* Only the touched pages, plus one record head per chunk (at most one
	 * chunk per run of pages and per 256 pages). */
	assert_true(w.len >= touched * PAGE);
	assert_true(w.len <= touched * PAGE + 8 * 24);
	assert_int_equal(load_all(&b, &w, &r), 0);
	/* Before comparing: a read fault on a shmem hole allocates the page. */
	assert_true(allocated(&b) <= touched * PAGE);
	assert_memory_equal(a.m.hva, b.m.hva, a.total);
	stream_reader_fini(&r);
	stream_writer_fini(&w);
	gm_close(&a);
	gm_close(&b);
}

static void empty_memory_writes_nothing(void **state)
{
	struct gm a;
	struct stream_writer w;

	gm_open(&a);
	stream_writer_init_mem(&w);
	assert_int_equal(mem_save(&a.m, EXTRA, &w), 0);
	assert_int_equal(w.len, 0);
	stream_writer_fini(&w);
	gm_close(&a);
}

/* One record: frame, count, reserved, then `pages` pages. */
static void one_chunk(struct stream_writer *w, uint32_t type, uint64_t frame, uint32_t count, uint32_t rsvd,
		      uint32_t pages)
{
	struct stream_writer p;
	static uint8_t page[PAGE];

	stream_writer_init_mem(&p);
	stream_put_u64(&p, frame);
	stream_put_u32(&p, count);
	stream_put_u32(&p, rsvd);
	for (uint32_t i = 0; i < pages; i++)
		stream_put_bytes(&p, page, PAGE);
	stream_writer_init_mem(w);
	assert_int_equal(stream_write_record(w, type, p.buf, (uint32_t)p.len), 0);
	stream_writer_fini(&p);
}

static void bad_chunks_refused(void **state)
{
	const struct {
		uint32_t type;
		uint64_t frame;
		uint32_t count, rsvd, pages;
		const char *want;
	} cases[] = {
		{ STREAM_REC_MEMORY, 0, 0, 0, 0, "count 0, expected 1 to 256" },
		{ STREAM_REC_MEMORY, 0, 2, 0, 1, "length 4112, expected 8208 for 2 pages" },
		{ STREAM_REC_MEMORY, 0, 1, 7, 1, "reserved word is not 0" },
		{ STREAM_REC_MEMORY, RAM / PAGE, 1, 0, 1, "are not all guest RAM" },
		{ STREAM_REC_MEMORY, RAM / PAGE - 1, 2, 0, 2, "are not all guest RAM" },
		{ STREAM_REC_MEMORY, UINT64_MAX, 1, 0, 1, "are not all guest RAM" },
		{ STREAM_REC_EXTRA_MEMORY, EXTRA, 1, 0, 1, "expected below 72" },
		{ STREAM_REC_EXTRA_MEMORY, EXTRA - 1, 2, 0, 2, "expected below 72" },
	};
	struct gm g;

	gm_open(&g);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stream_writer w;
		struct stream_reader r;
		struct stream_record rec;

		one_chunk(&w, cases[i].type, cases[i].frame, cases[i].count, cases[i].rsvd, cases[i].pages);
		stream_reader_init_mem(&r, w.buf, w.len);
		assert_int_equal(stream_read_record(&r, &rec), 0);
		assert_int_equal(mem_load(&g.m, EXTRA, &r, &rec), -EBADMSG);
		if (!strstr(stream_error(&r), cases[i].want) || !strstr(stream_error(&r), "MEMORY at offset 0"))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, stream_error(&r), cases[i].want);
		stream_writer_fini(&w);
	}
	/* Nothing was written: the memfd is still all holes. */
	assert_int_equal(allocated(&g), 0);
	gm_close(&g);
}

static void other_records_not_taken(void **state)
{
	struct gm g;
	struct stream_record rec = { .type = STREAM_REC_CLOCK };
	struct stream_reader r;

	gm_open(&g);
	stream_reader_init_mem(&r, NULL, 0);
	assert_int_equal(mem_load(&g.m, EXTRA, &r, &rec), -ENOENT);
	gm_close(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_keeps_holes),
		cmocka_unit_test(empty_memory_writes_nothing),
		cmocka_unit_test(bad_chunks_refused),
		cmocka_unit_test(other_records_not_taken),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
