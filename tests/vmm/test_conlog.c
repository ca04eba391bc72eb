/* The guest console log's bounds (vmm/conlog.c, issue 12): the size cap
 * rotates to .1 and keeps at most about twice the cap on disk, a reopen
 * follows logrotate's move-and-create, copytruncate keeps appending at the
 * start, the rate bound drops and says so once per episode. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conlog.h"

#define CAP 4096u

struct fx {
	char dir[64], path[96], old[100];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/test-conlog-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/guest-g.log", f->dir);
	snprintf(f->old, sizeof(f->old), "%s.1", f->path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[128];

	unlink(f->path);
	unlink(f->old);
	snprintf(p, sizeof(p), "%s.2", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s/moved", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The file's bytes, NUL-terminated; *len its size (-1: no file). */
static char *slurp(const char *path, long *len)
{
	FILE *fp = fopen(path, "r");
	char *buf;

	*len = -1;
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	*len = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)*len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)*len, fp), (size_t)*len);
	fclose(fp);
	return buf;
}

static long fsize(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void fill(char *buf, char c, size_t n)
{
	memset(buf, c, n);
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static const struct conlog_cfg capped = { .max_bytes = CAP }; /* no rate bound */

static void test_cap_rotates(void **state)
{
	struct fx *f = *state;
	struct conlog l;
	char buf[3000];
	char *s;
	long n;

	assert_int_equal(conlog_open(&l, f->path, &capped, "g", 0), 0);
	fill(buf, 'A', 3000);
	conlog_write(&l, buf, 3000, 0);
	assert_int_equal(fsize(f->old), -1);
	/* 3000 + 2000 passes the cap: the A's go to .1, a fresh log starts. */
	fill(buf, 'B', 2000);
	conlog_write(&l, buf, 2000, 0);
	s = slurp(f->old, &n);
	assert_int_equal(n, 3000);
	assert_int_equal(count(s, "A"), 3000);
	free(s);
	s = slurp(f->path, &n);
	assert_non_null(s);
	assert_true(!strncmp(s, "[domus: console log rotated at ", 31));
	assert_non_null(strstr(s, "the earlier output is in guest-g.log.1]\n"));
	assert_int_equal(count(s, "B"), 2000);
	assert_int_equal(count(s, "A"), 0);
	free(s);
	/* The second rotation replaces .1: the A's are gone. */
	fill(buf, 'Q', 3000);
	conlog_write(&l, buf, 3000, 0);
	s = slurp(f->old, &n);
	assert_int_equal(count(s, "B"), 2000);
	assert_int_equal(count(s, "A"), 0);
	free(s);
	s = slurp(f->path, &n);
	assert_int_equal(count(s, "Q"), 3000);
	assert_int_equal(count(s, "B"), 0);
	assert_int_equal(count(s, "rotated"), 1);
	free(s);
	conlog_close(&l);
}

/* However much the guest writes, the log and .1 stay within about twice
 * the cap, and there is never a .2. */
static void test_cap_bounds_disk(void **state)
{
	struct fx *f = *state;
	struct conlog l;
	char buf[700], two[128];

	snprintf(two, sizeof(two), "%s.2", f->path);
	assert_int_equal(conlog_open(&l, f->path, &capped, "g", 0), 0);
	for (int i = 0; i < 2000; i++) {
		fill(buf, (char)('a' + i % 26), sizeof(buf));
		conlog_write(&l, buf, sizeof(buf) - (size_t)(i % 300), 0);
		assert_true(fsize(f->path) <= (long)CAP);
		assert_true(fsize(f->path) + (fsize(f->old) < 0 ? 0 : fsize(f->old)) <= 2 * (long)CAP);
	}
	assert_true(fsize(f->old) > 0);
	assert_int_equal(fsize(two), -1);
	conlog_close(&l);
}

/* logrotate moves the file and sends SIGHUP; the monitor's handler calls
 * console_reopen_log(), which is conlog_reopen(). */
static void test_reopen_after_move(void **state)
{
	struct fx *f = *state;
	struct conlog l;
	char moved[128], *s;
	long n;

	snprintf(moved, sizeof(moved), "%s/moved", f->dir);
	assert_int_equal(conlog_open(&l, f->path, &capped, "g", 0), 0);
	conlog_write(&l, "one\n", 4, 0);
	assert_int_equal(rename(f->path, moved), 0);
	conlog_write(&l, "two\n", 4, 0);
	assert_int_equal(conlog_reopen(&l), 0);
	conlog_write(&l, "three\n", 6, 0);
	s = slurp(moved, &n);
	assert_string_equal(s, "one\ntwo\n");
	free(s);
	s = slurp(f->path, &n);
	assert_string_equal(s, "three\n");
	free(s);
	/* The reopened log's size is its own: the cap counts from it. */
	assert_int_equal(l.size, 6);
	conlog_close(&l);
}

/* A reopen that cannot open the path keeps writing to the old file. */
static void test_reopen_fails_keeps_old(void **state)
{
	struct fx *f = *state;
	struct conlog l;
	char *s;
	long n;

	assert_int_equal(conlog_open(&l, f->path, &capped, "g", 0), 0);
	conlog_write(&l, "one\n", 4, 0);
	unlink(f->path);
	assert_int_equal(rmdir(f->dir), 0);
	assert_true(conlog_reopen(&l) < 0);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	conlog_write(&l, "two\n", 4, 0);
	assert_true(l.fd >= 0);
	conlog_close(&l);
	s = slurp(f->path, &n);
	assert_null(s);
}

/* copytruncate: the file is copied then truncated under us.  Every write
 * appends, so the next output lands at the start (no hole), and the cap
 * counts from the truncated size (no rotation of a nearly empty file). */
static void test_copytruncate(void **state)
{
	struct fx *f = *state;
	struct conlog l;
	char buf[3000], *s;
	long n;

	assert_int_equal(conlog_open(&l, f->path, &capped, "g", 0), 0);
	fill(buf, 'A', sizeof(buf));
	conlog_write(&l, buf, sizeof(buf), 0);
	assert_int_equal(truncate(f->path, 0), 0);
	conlog_write(&l, "after\n", 6, 0);
	s = slurp(f->path, &n);
	assert_int_equal(n, 6);
	assert_string_equal(s, "after\n");
	free(s);
	fill(buf, 'B', 2000);
	conlog_write(&l, buf, 2000, 0);
	assert_int_equal(fsize(f->old), -1);
	assert_int_equal(fsize(f->path), 2006);
	conlog_close(&l);
}

/* An existing log is appended to, and its size counts against the cap. */
static void test_existing_log_counts(void **state)
{
	struct fx *f = *state;
	struct conlog l;
	char buf[3000];
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	fill(buf, 'Z', sizeof(buf));
	fwrite(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_int_equal(conlog_open(&l, f->path, &capped, "g", 0), 0);
	conlog_write(&l, buf, 2000, 0);
	assert_int_equal(fsize(f->old), 3000);
	conlog_close(&l);
}

static const struct conlog_cfg rated = { .burst = 1000, .rate = 100, .period_ms = 200 };

static void test_rate_drops_once_per_episode(void **state)
{
	struct fx *f = *state;
	struct conlog l;
	char buf[1500], *s;
	long n;

	assert_int_equal(conlog_open(&l, f->path, &rated, "g", 0), 0);
	/* The burst goes through, the rest of the flood is dropped... */
	fill(buf, 'A', sizeof(buf));
	conlog_write(&l, buf, 1500, 0);
	fill(buf, 'B', 300);
	conlog_write(&l, buf, 300, 50);
	conlog_write(&l, buf, 300, 150);
	assert_int_equal(fsize(f->path), 1000);
	/* ...and said nothing of while the bound is still closed. */
	assert_int_equal(conlog_tick(&l, 199), 1);
	assert_int_equal(fsize(f->path), 1000);
	/* A period later the bound opens: one note for the whole episode,
	 * before the output that resumes. */
	fill(buf, 'C', 50);
	conlog_write(&l, buf, 50, 200);
	s = slurp(f->path, &n);
	assert_int_equal(count(s, "A"), 1000);
	assert_int_equal(count(s, "B"), 0);
	assert_int_equal(count(s, "C"), 50);
	assert_int_equal(count(s, "dropped"), 1);
	assert_non_null(strstr(s, "\n[domus: 1100 bytes of console output dropped: the guest wrote faster than the "
				  "log takes]\nCCC"));
	free(s);
	/* A second episode: 50 bytes of the period's 100 are left. */
	fill(buf, 'D', 200);
	conlog_write(&l, buf, 200, 210);
	conlog_write(&l, buf, 200, 220);
	/* The guest falls silent: the tick tells it once the bound opens. */
	assert_int_equal(conlog_tick(&l, 300), 1);
	assert_int_equal(conlog_tick(&l, 400), 0);
	assert_int_equal(conlog_tick(&l, 600), 0);
	s = slurp(f->path, &n);
	assert_int_equal(count(s, "D"), 50);
	assert_int_equal(count(s, "dropped"), 2);
	assert_non_null(strstr(s, "[domus: 350 bytes of console output dropped"));
	free(s);
	conlog_close(&l);
}

/* Idle periods refill the bucket up to the burst, not beyond. */
static void test_rate_refill_capped_at_burst(void **state)
{
	struct fx *f = *state;
	struct conlog l;
	char buf[1200], *s;
	long n;

	assert_int_equal(conlog_open(&l, f->path, &rated, "g", 0), 0);
	fill(buf, 'A', sizeof(buf));
	conlog_write(&l, buf, 1000, 0);
	conlog_write(&l, buf, 1200, UINT64_C(1) << 40);
	assert_int_equal(fsize(f->path), 1000 + 1000);
	conlog_close(&l);
	/* The close tells the episode still open. */
	s = slurp(f->path, &n);
	assert_non_null(strstr(s, "[domus: 200 bytes of console output dropped"));
	free(s);
}

/* The defaults let the lab's flood (290 KiB at once) through whole. */
static void test_rate_default_takes_lab_flood(void **state)
{
	struct fx *f = *state;
	struct conlog_cfg cfg = CONLOG_CFG_DEFAULT;
	struct conlog l;
	char buf[4096];

	assert_int_equal(conlog_open(&l, f->path, &cfg, "g", 0), 0);
	fill(buf, 'F', sizeof(buf));
	for (int i = 0; i < 290 * 1024 / 4096 + 1; i++)
		conlog_write(&l, buf, sizeof(buf), 0);
	assert_int_equal(l.dropped, 0);
	assert_int_equal(fsize(f->path), (290 * 1024 / 4096 + 1) * 4096);
	conlog_close(&l);
}

static void test_parse_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(conlog_parse_size("16M", &v), 0);
	assert_int_equal(v, 16u << 20);
	assert_int_equal(conlog_parse_size("4k", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(conlog_parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(conlog_parse_size("1G", &v), 0);
	assert_int_equal(v, 1u << 30);
	assert_int_equal(conlog_parse_size("65536", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(conlog_parse_size("100", &v), -EINVAL);
	assert_int_equal(conlog_parse_size("", &v), -EINVAL);
	assert_int_equal(conlog_parse_size("M", &v), -EINVAL);
	assert_int_equal(conlog_parse_size("-5M", &v), -EINVAL);
	assert_int_equal(conlog_parse_size("1T", &v), -EINVAL);
	assert_int_equal(conlog_parse_size("16MB", &v), -EINVAL);
	assert_int_equal(conlog_parse_size("18446744073709551615G", &v), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cap_rotates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_bounds_disk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_fails_keeps_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copytruncate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_log_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_drops_once_per_episode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_refill_capped_at_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_default_takes_lab_flood, setup, teardown),
		cmocka_unit_test(test_parse_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
