/* Unit tests of request dispatch: argument rules, privilege, transaction
 * ids and error names, as Xen 4.17's process_message and do_* functions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ops.h"

struct fx {
	struct xse_engine eng;
	struct ops_env env;
	struct xse_client dom0, dom5;
	struct ops_reply r;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(xse_init(&f->eng), 0);
	f->env.eng = &f->eng;
	xse_client_init(&f->eng, &f->dom0, 0, NULL, NULL);
	xse_client_init(&f->eng, &f->dom5, 5, NULL, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	xse_dispose(&f->eng);
	free(f);
	return 0;
}

/* Sends one request; returns the reply body (type in f->r.type). */
static const char *req(struct fx *f, struct xse_client *c, uint32_t type, uint32_t tx,
		       const char *body, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = 7, .tx_id = tx, .len = len };
	char buf[WIRE_BODY_MAX];

	memcpy(buf, body, len);
	buf[len] = '\0';
	ops_process(&f->env, c, &h, buf, &f->r);
	return f->r.body;
}

static void test_errors_by_name(void **state)
{
	struct fx *f = *state;

	assert_string_equal(req(f, &f->dom0, 99, 0, "", 0), "ENOSYS");
	assert_int_equal(f->r.type, XS_ERROR);
	assert_string_equal(req(f, &f->dom0, XS_WATCH_EVENT, 0, "", 0), "ENOSYS");
	assert_string_equal(req(f, &f->dom0, XS_READ, 0, "/tool", 5), "EINVAL"); /* no NUL */
	assert_string_equal(req(f, &f->dom0, XS_READ, 0, "/tool\0x", 7), "EINVAL");
	assert_string_equal(req(f, &f->dom0, XS_READ, 0, "/no", 4), "ENOENT");
	assert_string_equal(req(f, &f->dom0, XS_READ, 0, "/a b", 5), "EINVAL");
	assert_string_equal(req(f, &f->dom0, XS_READ, 42, "/tool", 6), "ENOENT"); /* bad tx */
	assert_string_equal(req(f, &f->dom5, XS_INTRODUCE, 0, "1\0002\0003", 6), "EACCES");
	assert_string_equal(req(f, &f->dom5, XS_CONTROL, 0, "help", 5), "EACCES");
	assert_string_equal(req(f, &f->dom0, XS_INTRODUCE, 0, "1\0002\0000", 6), "EINVAL");
	assert_string_equal(req(f, &f->dom0, XS_RELEASE, 0, "0", 2), "EINVAL");
	assert_string_equal(req(f, &f->dom0, XS_RELEASE, 0, "8", 2), "ENOENT");
	assert_string_equal(req(f, &f->dom0, XS_WATCH, 0, "/a", 3), "EINVAL");
	assert_string_equal(req(f, &f->dom0, XS_TRANSACTION_END, 0, "T", 2), "ENOENT");
	assert_string_equal(req(f, &f->dom0, XS_CONTROL, 0, "bogus", 6), "EINVAL");
}

static void test_replies(void **state)
{
	struct fx *f = *state;

	assert_string_equal(req(f, &f->dom0, XS_WRITE, 0, "/a/b\0val", 8), "OK");
	assert_int_equal(f->r.type, XS_WRITE);
	req(f, &f->dom0, XS_READ, 0, "/a/b", 5);
	assert_int_equal(f->r.len, 3);
	assert_memory_equal(f->r.body, "val", 3);
	assert_string_equal(req(f, &f->dom0, XS_GET_DOMAIN_PATH, 0, "3", 2), "/local/domain/3");
	assert_string_equal(req(f, &f->dom0, XS_IS_DOMAIN_INTRODUCED, 0, "3", 2), "F");
	assert_string_equal(req(f, &f->dom0, XS_INTRODUCE, 0, "3\0000\0001", 6), "OK");
	assert_string_equal(req(f, &f->dom0, XS_IS_DOMAIN_INTRODUCED, 0, "3", 2), "T");
	assert_string_equal(req(f, &f->dom0, XS_SET_PERMS, 0, "/a/b\0n3\0r5", 11), "OK");
	req(f, &f->dom0, XS_GET_PERMS, 0, "/a/b", 5);
	assert_int_equal(f->r.len, 6);
	assert_memory_equal(f->r.body, "n3\0r5\0", 6);
	assert_string_equal(req(f, &f->dom0, XS_SET_PERMS, 0, "/a/b\0x3", 8), "EINVAL");
	assert_string_equal(req(f, &f->dom0, XS_TRANSACTION_START, 0, "", 1), "1");
	assert_string_equal(req(f, &f->dom0, XS_TRANSACTION_START, 1, "", 1), "EBUSY");
	assert_string_equal(req(f, &f->dom0, XS_TRANSACTION_END, 1, "X", 2), "EINVAL");
	assert_string_equal(req(f, &f->dom0, XS_TRANSACTION_END, 1, "T", 2), "OK");
}

static void test_directory_part(void **state)
{
	struct fx *f = *state;
	const char *r;

	req(f, &f->dom0, XS_WRITE, 0, "/d/aa", 6);
	req(f, &f->dom0, XS_WRITE, 0, "/d/bb", 6);
	r = req(f, &f->dom0, XS_DIRECTORY_PART, 0, "/d\0" "0", 5);
	/* "<gen>\0aa\0bb\0\0" */
	size_t gl = strlen(r) + 1;
	assert_int_equal(f->r.len, gl + 7);
	assert_memory_equal(r + gl, "aa\0bb\0\0", 7);
	r = req(f, &f->dom0, XS_DIRECTORY_PART, 0, "/d\0" "3", 5);
	gl = strlen(r) + 1;
	assert_memory_equal(r + gl, "bb\0\0", 4);
	r = req(f, &f->dom0, XS_DIRECTORY_PART, 0, "/d\0" "99", 6);
	gl = strlen(r) + 1;
	assert_int_equal(f->r.len, gl + 1);
	assert_string_equal(req(f, &f->dom0, XS_DIRECTORY_PART, 0, "/d", 3), "EINVAL");
}

static void test_control(void **state)
{
	struct fx *f = *state;

	assert_string_equal(req(f, &f->dom0, XS_CONTROL, 0, "quota\0set\0nodes\0" "7", 18), "OK");
	assert_int_equal(f->eng.quota[XSE_Q_NODES], 7);
	assert_string_equal(req(f, &f->dom0, XS_CONTROL, 0, "quota\0set\0bogus\0" "7", 18),
			    "EINVAL");
	assert_non_null(strstr(req(f, &f->dom0, XS_CONTROL, 0, "quota", 6), "nodes            :        7"));
	assert_non_null(strstr(req(f, &f->dom0, XS_CONTROL, 0, "help", 5), "quota\t"));
	assert_string_equal(req(f, &f->dom0, XS_CONTROL, 0, "quota\0" "123", 10), "ENOENT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_errors_by_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_part, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
