/* The save file's layout (xl/savefile.c): what xl writes is read back, the
 * monitor's records start where the head says, and every truncation and
 * each misplaced or corrupted record is refused with a line naming it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "domcfg.h"
#include "savefile.h"

static const char cfg[] = "name = \"count\"\nkernel = \"/k\"\nmemory = 128\nvcpus = 2\n";
static const uint8_t uuid[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x81, 2, 3, 4, 5, 6, 7, 8 };

/* An export as xenstored writes it: a connection of domain 7, its old id, a watch, a
 * node. */
static void xs_export(struct stream_writer *w)
{
	struct stream_writer p;

	stream_writer_init_mem(w);
	stream_write_header(w);
	stream_writer_init_mem(&p);
	stream_put_u32(&p, 1);
	stream_put_u16(&p, 0);
	stream_put_u16(&p, 0);
	stream_put_u16(&p, 7);
	stream_put_u16(&p, 0x7ff0);
	for (int i = 0; i < 5; i++)
		stream_put_u32(&p, 0);
	stream_write_record(w, STREAM_REC_XS_CONNECTION, p.buf, (uint32_t)p.len);
	stream_writer_fini(&p);
	/* A domain restored under a new id before: its old id 5. */
	stream_write_record(w, STREAM_REC_XS_ALIASES, "\1\0\1\0\5\0", 6);
	stream_write_record(w, STREAM_REC_XS_WATCH, "\1\0\0\0\6\0\4\0data\0\0tok\0", 16);
	stream_write_record(w, STREAM_REC_XS_NODE, "node-bytes", 10);
	stream_write_end(w);
}

/* A whole file: the head, then monitor records (two MEMORY, a CLOCK), END.
 * *monitor is where the monitor's part starts. */
static int whole_file(uint64_t *monitor, bool with_xs)
{
	struct stream_writer x, w;
	uint8_t page[16 + 4096] = { [8] = 1 };
	int fd = memfd_create("save", MFD_CLOEXEC);
	char err[256];

	assert_true(fd >= 0);
	xs_export(&x);
	/* A file without xenstore records is also one of an older xl,
	 * without the UUID record. */
	assert_int_equal(savefile_write_head(fd, cfg, strlen(cfg), with_xs ? uuid : NULL, with_xs ? x.buf : NULL, x.len,
					     err, sizeof(err)),
			 0);
	stream_writer_fini(&x);
	*monitor = (uint64_t)lseek(fd, 0, SEEK_CUR);
	stream_writer_init_fd(&w, fd);
	stream_write_record(&w, STREAM_REC_MEMORY, page, sizeof(page));
	stream_write_record(&w, STREAM_REC_MEMORY, page, sizeof(page));
	stream_write_record(&w, STREAM_REC_CLOCK, page, 32);
	assert_int_equal(stream_write_end(&w), 0);
	return fd;
}

static int reread(int fd, struct savefile_head *h, char *err, size_t len)
{
	lseek(fd, 0, SEEK_SET);
	return savefile_read(fd, h, err, len);
}

static void round_trip(void **state)
{
	struct savefile_head h;
	struct stream_writer x;
	uint64_t mon;
	char err[256];
	int fd = whole_file(&mon, true);

	assert_int_equal(reread(fd, &h, err, sizeof(err)), 0);
	assert_string_equal(h.cfg, cfg);
	assert_int_equal(h.xs_domid, 7);
	assert_true(h.has_uuid);
	assert_memory_equal(h.uuid, uuid, 16);
	assert_int_equal(h.monitor_offset, mon);
	/* The xenstore records come back as the export they were. */
	xs_export(&x);
	assert_int_equal(h.xs.len, x.len);
	assert_memory_equal(h.xs.buf, x.buf, x.len);
	stream_writer_fini(&x);
	savefile_head_free(&h);
	close(fd);
}

static void no_xenstore(void **state)
{
	struct savefile_head h;
	uint64_t mon;
	char err[256];
	int fd = whole_file(&mon, false);

	assert_int_equal(reread(fd, &h, err, sizeof(err)), 0);
	assert_int_equal(h.xs.len, 0);
	assert_false(h.has_uuid);
	assert_int_equal(h.monitor_offset, mon);
	savefile_head_free(&h);
	close(fd);
}

/* Every cut of the file is refused: a file cut short starts nothing. */
static void truncated_everywhere(void **state)
{
	uint64_t mon;
	char err[256];
	int fd = whole_file(&mon, true);
	off_t size = lseek(fd, 0, SEEK_END);

	for (off_t cut = 0; cut < size; cut += cut < 200 ? 1 : 509) {
		struct savefile_head h;

		assert_int_equal(ftruncate(fd, cut), 0);
		if (reread(fd, &h, err, sizeof(err)) != -EBADMSG)
			fail_msg("a file cut at %lld was taken", (long long)cut);
		assert_true(strstr(err, "truncated") || strstr(err, "offset"));
		close(fd);
		fd = whole_file(&mon, true);
	}
	close(fd);
}

/* One record of a file rewritten, and the line that must name it. */
static void refused(int fd, off_t at, const void *bytes, size_t n, const char *want)
{
	struct savefile_head h;
	char err[256];

	assert_int_equal(pwrite(fd, bytes, n, at), (ssize_t)n);
	assert_int_equal(reread(fd, &h, err, sizeof(err)), -EBADMSG);
	if (!strstr(err, want))
		fail_msg("\"%s\" lacks \"%s\"", err, want);
}

static void misplaced_and_corrupted(void **state)
{
	const uint32_t end[2] = { STREAM_REC_END, 0 }, xsnode = STREAM_REC_XS_NODE, evtchn = STREAM_REC_EVTCHN, bogus = 0x77;
	uint64_t mon;
	int fd;

	/* The first record is not CONFIG. */
	fd = whole_file(&mon, true);
	refused(fd, 16, &evtchn, 4, "record EVTCHN at offset 16: expected the CONFIG record first");
	close(fd);
	/* The monitor's part is missing: END right after the head. */
	fd = whole_file(&mon, true);
	refused(fd, (off_t)mon, end, sizeof(end), "expected the monitor's records");
	close(fd);
	/* A xenstore record among the monitor's. */
	fd = whole_file(&mon, true);
	refused(fd, (off_t)mon + 8 + 16 + 4096, &xsnode, 4, "not a record of the monitor's state");
	close(fd);
	/* An unknown record type. */
	fd = whole_file(&mon, true);
	refused(fd, (off_t)mon, &bogus, 4, "record type 119 at offset");
	close(fd);
	/* A UUID record among the monitor's. */
	const uint32_t uuid_rec[2] = { STREAM_REC_UUID, 16 };
	fd = whole_file(&mon, true);
	refused(fd, (off_t)mon + 8 + 16 + 4096, uuid_rec, 8, "not a record of the monitor's state");
	close(fd);
}

/* A UUID record that is not 16 bytes. */
static void short_uuid(void **state)
{
	struct savefile_head h;
	struct stream_writer w;
	char err[256];
	int fd = memfd_create("save", MFD_CLOEXEC);

	stream_writer_init_fd(&w, fd);
	stream_write_header(&w);
	stream_write_record(&w, STREAM_REC_CONFIG, cfg, (uint32_t)strlen(cfg));
	stream_write_record(&w, STREAM_REC_UUID, uuid, 8);
	stream_write_record(&w, STREAM_REC_CLOCK, uuid, 8);
	assert_int_equal(stream_write_end(&w), 0);
	assert_int_equal(reread(fd, &h, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "record UUID at offset"));
	assert_non_null(strstr(err, "expected 16 bytes"));
	close(fd);
}

static void domain(struct domain_config *c, enum dom_type t, unsigned mem, unsigned maxmem, int vcpus, int maxvcpus)
{
	domcfg_init(c);
	c->type = t;
	c->target_memkb = (uint64_t)mem << 10;
	c->max_memkb = (uint64_t)maxmem << 10;
	c->vcpus = vcpus;
	c->max_vcpus = maxvcpus;
}

/* xl restore CONFIG FILE: what the saved state fixes must not change. */
static void config_against_saved(void **state)
{
	static const struct {
		enum dom_type t;
		unsigned mem, maxmem;
		int vcpus, maxvcpus;
		const char *want; /* NULL: taken */
	} cases[] = {
		{ DOM_TYPE_PVH, 512, 1024, 2, 4, NULL },
		{ DOM_TYPE_PV, 512, 1024, 2, 4,
		  "new.cfg: type=\"pv\" differs from the saved domain's \"pvh\" (a restore keeps the guest's type)" },
		{ DOM_TYPE_PVH, 1024, 1024, 2, 4,
		  "new.cfg: memory=1024 differs from the saved domain's 512 (a restore keeps the guest's memory size)" },
		{ DOM_TYPE_PVH, 512, 512, 2, 4,
		  "new.cfg: maxmem=512 differs from the saved domain's 1024 (a restore keeps the guest's memory size)" },
		{ DOM_TYPE_PVH, 512, 1024, 1, 4,
		  "new.cfg: vcpus=1 differs from the saved domain's 2 (a restore keeps the guest's vCPUs)" },
		{ DOM_TYPE_PVH, 512, 1024, 2, 8,
		  "new.cfg: maxvcpus=8 differs from the saved domain's 4 (a restore keeps the guest's vCPUs)" },
	};
	struct domain_config saved, c;
	char err[256];

	domain(&saved, DOM_TYPE_PVH, 512, 1024, 2, 4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		domain(&c, cases[i].t, cases[i].mem, cases[i].maxmem, cases[i].vcpus, cases[i].maxvcpus);
		err[0] = 0;
		assert_int_equal(savefile_check_config(&saved, &c, "new.cfg", err, sizeof(err)),
				 cases[i].want ? -EINVAL : 0);
		assert_string_equal(err, cases[i].want ? cases[i].want : "");
		domcfg_dispose(&c);
	}
	domcfg_dispose(&saved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(no_xenstore),
		cmocka_unit_test(truncated_everywhere),
		cmocka_unit_test(misplaced_and_corrupted),
		cmocka_unit_test(short_uuid),
		cmocka_unit_test(config_against_saved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
