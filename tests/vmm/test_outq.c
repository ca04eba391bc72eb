/* vmm/outq.c: the queue vCPU threads put console output in.  It keeps
 * order across wrap-around, drops and counts only what does not fit, and
 * asks for one wake-up per batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "console.h"
#include "outq.h"

static void test_order_and_wrap(void **state)
{
	struct outq q;
	char out[16];
	uint64_t dropped = 99;

	assert_int_equal(outq_init(&q, 8), 0);
	assert_true(outq_push(&q, "abcde", 5));  /* first: wake the consumer */
	assert_false(outq_push(&q, "f", 1));     /* it has been asked already */
	assert_int_equal(outq_pop(&q, out, 4, &dropped), 4);
	assert_memory_equal(out, "abcd", 4);
	assert_int_equal(dropped, 0);
	assert_false(outq_push(&q, "ghijk", 5)); /* wraps around the end */
	assert_int_equal(outq_pop(&q, out, sizeof(out), &dropped), 7);
	assert_memory_equal(out, "efghijk", 7);
	assert_int_equal(outq_pop(&q, out, sizeof(out), &dropped), 0);
	/* Found empty: the next push asks again. */
	assert_true(outq_push(&q, "l", 1));
	outq_fini(&q);
}

static void test_full_drops_and_counts(void **state)
{
	struct outq q;
	char out[16];
	uint64_t dropped;

	assert_int_equal(outq_init(&q, 8), 0);
	assert_true(outq_push(&q, "0123456789", 10));
	assert_false(outq_push(&q, "xyz", 3));
	assert_int_equal(outq_pop(&q, out, sizeof(out), &dropped), 8);
	assert_memory_equal(out, "01234567", 8); /* the oldest kept, in order */
	assert_int_equal(dropped, 5);
	outq_fini(&q);
}

static void test_rearm(void **state)
{
	struct outq q;

	assert_int_equal(outq_init(&q, 8), 0);
	assert_true(outq_push(&q, "a", 1));
	outq_rearm(&q); /* the wake-up could not be delivered */
	assert_true(outq_push(&q, "b", 1));
	outq_fini(&q);
}

/* The console's queue holds the lab's console flood (tests/guest/flood.sh:
 * seq 1 50000, about 290 KiB) even if the loop wrote none of it meanwhile. */
static void test_console_queue_holds_flood(void **state)
{
	struct outq q;
	char line[16], *out = malloc(CONSOLE_QUEUE_BYTES);
	size_t total = 0, n, got = 0;
	uint64_t dropped = 1;

	assert_non_null(out);
	assert_int_equal(outq_init(&q, CONSOLE_QUEUE_BYTES), 0);
	for (int i = 1; i <= 50000; i++) {
		n = (size_t)snprintf(line, sizeof(line), "%d\n", i);
		outq_push(&q, line, n);
		total += n;
	}
	n = (size_t)snprintf(line, sizeof(line), "FLOOD-END\n");
	outq_push(&q, line, n);
	total += n;
	assert_true(total > 280 * 1024);
	while ((n = outq_pop(&q, out + got, 4096, &dropped)) > 0)
		got += n;
	assert_int_equal(got, total);
	assert_int_equal(dropped, 0);
	assert_memory_equal(out + got - 10, "FLOOD-END\n", 10);
	outq_fini(&q);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_wrap),
		cmocka_unit_test(test_full_drops_and_counts),
		cmocka_unit_test(test_rearm),
		cmocka_unit_test(test_console_queue_holds_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
