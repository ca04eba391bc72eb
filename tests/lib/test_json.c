/* lib/json.c: strings escaped as yajl escapes them, other bytes as they are,
 * yajl's beautified layout, and misuse (unbalanced, too deep, two top
 * values, a failing stream) reported by json_end(). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domus/json.h"

struct out {
	char *buf;
	size_t len;
	FILE *f;
	struct json_writer w;
};

static void out_open(struct out *o)
{
	memset(o, 0, sizeof(*o));
	o->f = open_memstream(&o->buf, &o->len);
	assert_non_null(o->f);
	json_init(&o->w, o->f);
}

/* json_end()'s result; the text in o->buf. */
static int out_close(struct out *o)
{
	int rc = json_end(&o->w);

	assert_int_equal(fclose(o->f), 0);
	return rc;
}

/* s as one top-level string value. */
static char *quoted(const char *s)
{
	struct out o;

	out_open(&o);
	json_string(&o.w, NULL, s);
	assert_int_equal(out_close(&o), 0);
	return o.buf;
}

static void check_quoted(const char *in, const char *want)
{
	char *got = quoted(in);

	assert_string_equal(got, want);
	free(got);
}

static void test_escapes(void **state)
{
	check_quoted("plain", "\"plain\"");
	check_quoted("", "\"\"");
	check_quoted("a\"b\\c", "\"a\\\"b\\\\c\"");
	check_quoted("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
	/* other control bytes as \u00XX with yajl's upper-case hex */
	check_quoted("\x01\x1f\x1b", "\"\\u0001\\u001F\\u001B\"");
	/* yajl leaves '/' and DEL alone (no yajl_gen_escape_solidus) */
	check_quoted("/etc/xen\x7f", "\"/etc/xen\x7f\"");
}

/* UTF-8 passes unchanged; so do bytes that are not UTF-8, as yajl passes
 * them when libxl generates (no yajl_gen_validate_utf8): domus's text must
 * be byte for byte Xen's (tests/xl-cfg/fuzz_disk_diff.c compares them). */
static void test_bytes(void **state)
{
	check_quoted("caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e\"");
	check_quoted("b\xb6\xb6lock \xff\xc0\xaf", "\"b\xb6\xb6lock \xff\xc0\xaf\"");
}

/* Keys go through the same escaping as values. */
static void test_keys_escaped(void **state)
{
	struct out o;

	out_open(&o);
	json_object_open(&o.w, NULL);
	json_int(&o.w, "a\"\n\x02", 1);
	json_close(&o.w);
	assert_int_equal(out_close(&o), 0);
	assert_string_equal(o.buf, "{\n    \"a\\\"\\n\\u0002\": 1\n}");
	free(o.buf);
}

/* The layout of libxl's generator: what `xl list -l` prints for a domain
 * (Xen 4.17, trimmed), byte for byte. */
static void test_layout(void **state)
{
	static const char want[] = "[\n"
				   "    {\n"
				   "        \"domid\": 0,\n"
				   "        \"config\": {\n"
				   "            \"c_info\": {\n"
				   "                \"type\": \"pv\",\n"
				   "                \"name\": \"Domain-0\"\n"
				   "            },\n"
				   "            \"b_info\": {\n"
				   "                \"max_memkb\": 18446744073709551615,\n"
				   "                \"sched_params\": {\n"
				   "\n"
				   "                },\n"
				   "                \"avail_vcpus\": [\n"
				   "                    0,\n"
				   "                    -1\n"
				   "                ],\n"
				   "                \"direct\": true,\n"
				   "                \"none\": null,\n"
				   "                \"empty\": [\n"
				   "\n"
				   "                ]\n"
				   "            }\n"
				   "        }\n"
				   "    }\n"
				   "]";
	struct out o;

	out_open(&o);
	json_array_open(&o.w, NULL);
	json_object_open(&o.w, NULL);
	json_int(&o.w, "domid", 0);
	json_object_open(&o.w, "config");
	json_object_open(&o.w, "c_info");
	json_string(&o.w, "type", "pv");
	json_string(&o.w, "name", "Domain-0");
	json_close(&o.w);
	json_object_open(&o.w, "b_info");
	json_uint(&o.w, "max_memkb", UINT64_MAX);
	json_object_open(&o.w, "sched_params");
	json_close(&o.w);
	json_array_open(&o.w, "avail_vcpus");
	json_int(&o.w, NULL, 0);
	json_int(&o.w, NULL, -1);
	json_close(&o.w);
	json_bool(&o.w, "direct", true);
	json_null(&o.w, "none");
	json_array_open(&o.w, "empty");
	json_close(&o.w);
	json_close(&o.w);
	json_close(&o.w);
	json_close(&o.w);
	json_close(&o.w);
	assert_int_equal(out_close(&o), 0);
	assert_string_equal(o.buf, want);
	free(o.buf);
}

static void test_empty_top(void **state)
{
	struct out o;

	out_open(&o);
	json_array_open(&o.w, NULL);
	json_close(&o.w);
	assert_int_equal(out_close(&o), 0);
	assert_string_equal(o.buf, "[\n\n]");
	free(o.buf);
}

static void test_misuse(void **state)
{
	struct out o;

	/* left open */
	out_open(&o);
	json_object_open(&o.w, NULL);
	assert_int_equal(out_close(&o), -EINVAL);
	free(o.buf);

	/* a close too many; nothing more is written after it */
	out_open(&o);
	json_array_open(&o.w, NULL);
	json_close(&o.w);
	json_close(&o.w);
	json_int(&o.w, NULL, 7);
	assert_int_equal(out_close(&o), -EINVAL);
	assert_null(strchr(o.buf, '7'));
	free(o.buf);

	/* two values at the top are not one JSON text */
	out_open(&o);
	json_int(&o.w, NULL, 1);
	json_int(&o.w, NULL, 2);
	assert_int_equal(out_close(&o), -EINVAL);
	assert_string_equal(o.buf, "1");
	free(o.buf);

	/* too deep: refused, and the first error stays */
	out_open(&o);
	for (int i = 0; i < JSON_MAX_DEPTH + 4; i++)
		json_array_open(&o.w, NULL);
	for (int i = 0; i < JSON_MAX_DEPTH + 4; i++)
		json_close(&o.w);
	assert_int_equal(out_close(&o), -E2BIG);
	free(o.buf);

	/* just deep enough is fine */
	out_open(&o);
	for (int i = 0; i < JSON_MAX_DEPTH - 1; i++)
		json_array_open(&o.w, NULL);
	for (int i = 0; i < JSON_MAX_DEPTH - 1; i++)
		json_close(&o.w);
	assert_int_equal(out_close(&o), 0);
	free(o.buf);
}

/* A stream that fails: json_end() says so. */
static void test_write_error(void **state)
{
	struct json_writer w;
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	json_init(&w, f);
	json_string(&w, NULL, "no space left");
	assert_int_equal(json_end(&w), -EIO);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),	     cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_keys_escaped), cmocka_unit_test(test_layout),
		cmocka_unit_test(test_empty_top),    cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
