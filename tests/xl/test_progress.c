/* xl's progress line (xl/ts_progress.h): its words, and that it appears on
 * a terminal as a file grows or an offset moves, and never elsewhere. */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ts_progress.h"

#define MIB (1024 * 1024)

static void test_line(void **state)
{
	char b[200];

	ts_progress_line(b, sizeof(b), "restoring", 120ull * MIB, 512ull * MIB, 0.1);
	assert_string_equal(b, "xl: restoring: 120 MiB of 512 MiB (23 %)");
	ts_progress_line(b, sizeof(b), "saving domain 3", 200ull * MIB, 0, 2.0);
	assert_string_equal(b, "xl: saving domain 3: 200 MiB, 100 MiB/s");
	/* more than the total is the total (a file that grew meanwhile) */
	ts_progress_line(b, sizeof(b), "restoring", 9ull * MIB, 8ull * MIB, 1.0);
	assert_string_equal(b, "xl: restoring: 8 MiB of 8 MiB (100 %), 8 MiB/s");
	ts_progress_line(b, 12, "restoring", 1, 2, 1.0); /* cut short, terminated */
	assert_int_equal(strlen(b), 11);
}

/* Everything the terminal got, read from the master until quiet. */
static size_t drain(int master, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got + 1 < len && (n = read(master, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	return got;
}

static void test_on_terminal(void **state)
{
	char tmpl[] = "/tmp/xl-progress-XXXXXX", out[8192];
	int master, slave, fd = mkstemp(tmpl);
	struct ts_progress *p;
	static char block[MIB];

	assert_true(fd >= 0);
	unlink(tmpl);
	assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
	assert_int_equal(fcntl(master, F_SETFL, O_NONBLOCK), 0);
	/* a head of 4096 bytes written before: not counted */
	assert_int_equal(pwrite(fd, block, 4096, 0), 4096);
	assert_int_equal(ts_progress_start(&p, slave, "saving domain 7", fd, TS_PROGRESS_SIZE, 4096, 0), 0);
	assert_non_null(p);
	for (int i = 1; i <= 6; i++) {
		assert_int_equal(pwrite(fd, block, MIB, 4096 + (off_t)(i - 1) * MIB), MIB);
		usleep(150000);
	}
	usleep(300000);
	ts_progress_stop(p);
	drain(master, out, sizeof(out));
	assert_non_null(strstr(out, "\rxl: saving domain 7: "));
	assert_non_null(strstr(out, "xl: saving domain 7: 6 MiB"));
	/* the line is cleared at the end */
	assert_int_equal(strcmp(out + strlen(out) - 4, "\r\033[K"), 0);

	/* the offset of the open file, against a total */
	assert_int_equal(lseek(fd, 4096 + 3 * MIB, SEEK_SET), 4096 + 3 * MIB);
	assert_int_equal(ts_progress_start(&p, slave, "restoring", fd, TS_PROGRESS_OFFSET, 4096, 6 * MIB), 0);
	usleep(600000);
	ts_progress_stop(p);
	drain(master, out, sizeof(out));
	assert_non_null(strstr(out, "xl: restoring: 3 MiB of 6 MiB (50 %)"));
	close(master);
	close(slave);
	close(fd);
}

/* Not a terminal (a pipe, a log): nothing shown, nothing started. */
static void test_not_terminal(void **state)
{
	int pfd[2], fd = open("/dev/null", O_RDONLY);
	struct ts_progress *p = (void *)1;
	char c;

	assert_int_equal(pipe2(pfd, O_NONBLOCK), 0);
	assert_int_equal(ts_progress_start(&p, pfd[1], "saving domain 7", fd, TS_PROGRESS_SIZE, 0, 0), 0);
	assert_null(p);
	usleep(400000);
	ts_progress_stop(p);
	assert_int_equal(read(pfd[0], &c, 1), -1);
	assert_int_equal(errno, EAGAIN);
	close(pfd[0]);
	close(pfd[1]);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_on_terminal),
		cmocka_unit_test(test_not_terminal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
