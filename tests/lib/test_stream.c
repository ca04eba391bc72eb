/* lib/stream.c: the save stream round-trips, and a reader refuses every
 * truncated, unknown, oversize or malformed stream with one line that names
 * the record and its offset. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "domus/stream.h"

static const uint8_t evtchn_payload[] = { 1, 2, 3, 4, 5 }; /* 5: padded to 8 */
static const uint8_t shinfo_payload[8] = { 0, 0x10, 0, 0, 0, 0, 0, 0 };

/* A stream of two records and the end record. */
static void build(struct stream_writer *w)
{
	stream_writer_init_mem(w);
	assert_int_equal(stream_write_header(w), 0);
	assert_int_equal(stream_write_record(w, STREAM_REC_EVTCHN, evtchn_payload, sizeof(evtchn_payload)), 0);
	assert_int_equal(stream_write_record(w, STREAM_REC_SHARED_INFO, shinfo_payload, sizeof(shinfo_payload)), 0);
	assert_int_equal(stream_write_end(w), 0);
}

/* Read every record of buf; 0 when the end record was reached. */
static int read_all(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct stream_reader r;
	struct stream_record rec;
	int rc;

	stream_reader_init_mem(&r, buf, len);
	rc = stream_read_header(&r);
	while (rc == 0) {
		rc = stream_read_record(&r, &rec);
		if (rc == 0 && rec.type == STREAM_REC_END)
			break;
	}
	snprintf(err, errlen, "%s", stream_error(&r));
	stream_reader_fini(&r);
	return rc;
}

static void test_round_trip(void **state)
{
	struct stream_writer w;
	struct stream_reader r;
	struct stream_record rec;

	(void)state;
	build(&w);
	assert_int_equal(w.len, 16 + 8 + 8 + 8 + 8 + 8);
	stream_reader_init_mem(&r, w.buf, w.len);
	assert_int_equal(stream_read_header(&r), 0);
	assert_int_equal(stream_read_record(&r, &rec), 0);
	assert_int_equal(rec.type, STREAM_REC_EVTCHN);
	assert_int_equal(rec.len, sizeof(evtchn_payload));
	assert_int_equal(rec.offset, 16);
	assert_memory_equal(rec.data, evtchn_payload, sizeof(evtchn_payload));
	assert_int_equal(stream_read_record(&r, &rec), 0);
	assert_int_equal(rec.type, STREAM_REC_SHARED_INFO);
	assert_memory_equal(rec.data, shinfo_payload, sizeof(shinfo_payload));
	assert_int_equal(stream_read_record(&r, &rec), 0);
	assert_int_equal(rec.type, STREAM_REC_END);
	assert_int_equal(stream_read_record(&r, &rec), -EBADMSG);
	stream_reader_fini(&r);
	stream_writer_fini(&w);
}

/* The same stream through a file descriptor, read back through another. */
static void test_round_trip_fd(void **state)
{
	char path[] = "/tmp/domus-stream-XXXXXX";
	struct stream_writer w, m;
	struct stream_reader r;
	struct stream_record rec;
	int fd = mkstemp(path);
	int n = 0;

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	stream_writer_init_fd(&w, fd);
	assert_int_equal(stream_write_header(&w), 0);
	assert_int_equal(stream_write_record(&w, STREAM_REC_EVTCHN, evtchn_payload, sizeof(evtchn_payload)), 0);
	assert_int_equal(stream_write_end(&w), 0);
	build(&m);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	stream_reader_init_fd(&r, fd);
	assert_int_equal(stream_read_header(&r), 0);
	do {
		assert_int_equal(stream_read_record(&r, &rec), 0);
		n++;
	} while (rec.type != STREAM_REC_END);
	assert_int_equal(n, 2);
	assert_int_equal(r.off, w.off);
	stream_reader_fini(&r);
	stream_writer_fini(&m);
	close(fd);
}

/* What a cut at byte `cut` of build()'s stream must name: the header, the
 * header of the record it falls in, or the record whose payload it cuts. */
static const char *expect_cut(size_t cut)
{
	static const char *const at[] = {
		"stream header at offset 0", "stream header at offset 0",
		"record header at offset 16", "record EVTCHN at offset 16",
		"record header at offset 32", "record SHARED_INFO at offset 32",
		"record header at offset 48",
	};

	return at[cut / 8];
}

/* Every proper prefix of a valid stream is refused, and the error names
 * what was cut. */
static void test_truncated_everywhere(void **state)
{
	struct stream_writer w;
	char err[STREAM_ERR_MAX];

	(void)state;
	build(&w);
	assert_int_equal(read_all(w.buf, w.len, err, sizeof(err)), 0);
	for (size_t cut = 0; cut < w.len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, w.buf, cut);
		assert_int_equal(read_all(copy, cut, err, sizeof(err)), -EBADMSG);
		assert_non_null(strstr(err, "truncated"));
		assert_non_null(strstr(err, expect_cut(cut)));
		free(copy);
	}
	stream_writer_fini(&w);
}

static void test_unknown_type(void **state)
{
	struct stream_writer w;
	char err[STREAM_ERR_MAX];

	(void)state;
	build(&w);
	w.buf[16] = 77; /* the first record's type */
	assert_int_equal(read_all(w.buf, w.len, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "record type 77 at offset 16: unknown type, expected one of the table (0..513)");
	/* A writer refuses an unknown type too. */
	stream_writer_fini(&w);
	stream_writer_init_mem(&w);
	assert_int_equal(stream_write_record(&w, 77, NULL, 0), -EINVAL);
	assert_int_equal(stream_write_end(&w), -EINVAL); /* the failure sticks */
	stream_writer_fini(&w);
}

static void test_bad_magic_and_version(void **state)
{
	struct stream_writer w;
	char err[STREAM_ERR_MAX];

	(void)state;
	build(&w);
	w.buf[0] ^= 1;
	assert_int_equal(read_all(w.buf, w.len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "bad magic"));
	w.buf[0] ^= 1;
	w.buf[8] = 2;
	assert_int_equal(read_all(w.buf, w.len, err, sizeof(err)), -EPROTONOSUPPORT);
	assert_string_equal(err, "stream header at offset 8: version 2, expected 1");
	w.buf[8] = 1;
	w.buf[12] = 1;
	assert_int_equal(read_all(w.buf, w.len, err, sizeof(err)), -EBADMSG);
	stream_writer_fini(&w);
}

static void test_oversize(void **state)
{
	struct stream_writer w;
	char err[STREAM_ERR_MAX];
	uint8_t big[16] = { 0 };

	(void)state;
	build(&w);
	/* SHARED_INFO allows 8 bytes: claim 9 (the stream has them). */
	w.buf[16 + 16 + 4] = 9;
	assert_int_equal(read_all(w.buf, w.len, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "record SHARED_INFO at offset 32: length 9, expected at most 8");
	/* A huge length is refused before anything is allocated or read. */
	w.buf[16 + 16 + 4] = 0xff;
	w.buf[16 + 16 + 7] = 0xff;
	assert_int_equal(read_all(w.buf, w.len, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "record SHARED_INFO at offset 32: length"));
	stream_writer_fini(&w);
	stream_writer_init_mem(&w);
	assert_int_equal(stream_write_record(&w, STREAM_REC_SHARED_INFO, big, sizeof(big)), -EINVAL);
	stream_writer_fini(&w);
}

static void test_padding_and_end(void **state)
{
	struct stream_writer w;
	char err[STREAM_ERR_MAX];

	(void)state;
	build(&w);
	w.buf[16 + 8 + 6] = 1; /* EVTCHN's padding byte 6 */
	assert_int_equal(read_all(w.buf, w.len, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "record EVTCHN at offset 16: padding byte 6 is 0x1, expected 0");
	w.buf[16 + 8 + 6] = 0;
	/* An END record with a payload is oversize. */
	w.buf[w.len - 4] = 8;
	assert_int_equal(read_all(w.buf, w.len, err, sizeof(err)), -EBADMSG);
	stream_writer_fini(&w);
}

/* A consumer's complaint reads like the reader's own. */
static void test_reject_and_cursor(void **state)
{
	struct stream_writer w;
	struct stream_reader r;
	struct stream_record rec;
	struct stream_cursor c;

	(void)state;
	stream_writer_init_mem(&w);
	stream_put_u8(&w, 0xab);
	stream_put_u16(&w, 0x1234);
	stream_put_u32(&w, 0xdeadbeef);
	stream_put_u64(&w, 0x0102030405060708ULL);
	rec = (struct stream_record){ .type = STREAM_REC_GNTTAB, .len = (uint32_t)w.len, .offset = 40, .data = w.buf };
	stream_cursor_init(&c, &rec);
	assert_int_equal(stream_get_u8(&c), 0xab);
	assert_int_equal(stream_get_u16(&c), 0x1234);
	assert_int_equal(stream_get_u32(&c), 0xdeadbeef);
	assert_int_equal(stream_cursor_done(&c), -EBADMSG); /* 8 bytes left */
	assert_int_equal(stream_get_u64(&c), 0x0102030405060708ULL);
	assert_int_equal(stream_cursor_done(&c), 0);
	assert_int_equal(stream_get_u8(&c), 0);
	assert_int_equal(stream_cursor_done(&c), -EBADMSG); /* read past the end */
	stream_reader_init_mem(&r, w.buf, w.len);
	assert_int_equal(stream_reject(&r, &rec, "2 frames, expected at most 1"), -EBADMSG);
	assert_string_equal(stream_error(&r), "record GNTTAB at offset 40: 2 frames, expected at most 1");
	stream_reader_fini(&r);
	stream_writer_fini(&w);
}

static void test_table(void **state)
{
	(void)state;
	assert_string_equal(stream_rec_name(STREAM_REC_END), "END");
	assert_string_equal(stream_rec_name(STREAM_REC_HVM_PARAMS), "HVM_PARAMS");
	assert_string_equal(stream_rec_name(STREAM_REC_VCPU), "VCPU");
	assert_string_equal(stream_rec_name(STREAM_REC_MEMORY), "MEMORY");
	assert_string_equal(stream_rec_name(STREAM_REC_CONFIG), "CONFIG");
	assert_string_equal(stream_rec_name(STREAM_REC_XENBUS), "XENBUS");
	assert_int_equal(stream_rec_max_len(STREAM_REC_XENBUS), 24 + 2048);
	assert_null(stream_rec_name(13));
	assert_string_equal(stream_rec_name(STREAM_REC_UUID), "UUID");
	assert_null(stream_rec_name(0x202));
	assert_null(stream_rec_name(UINT32_MAX));
	assert_int_equal(stream_rec_max_len(UINT32_MAX), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_fd),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_bad_magic_and_version),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_padding_and_end),
		cmocka_unit_test(test_reject_and_cursor),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
