/* Unit tests for the token buckets of admission control (util/rate.c): refill at the rate up
 * to the burst, one token per event; the per-source table keeps sources apart, starts a new
 * source full, and gives a full neighbourhood's stalest slot to a newcomer. Time is passed
 * in, so every case is exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/rate.h"

/* Events admitted out of @n offered at @now_ms. */
static unsigned take_n(struct rate_bucket *b, uint32_t rate, uint32_t burst, unsigned n,
		       uint64_t now_ms)
{
	unsigned ok = 0;
	for (unsigned i = 0; i < n; i++)
		ok += rate_take(b, rate, burst, now_ms);
	return ok;
}

static void a_full_bucket_admits_its_burst_then_refills_at_the_rate(void **state)
{
	struct rate_bucket b;
	(void)state;
	rate_bucket_init(&b, 10, 1000);
	assert_int_equal(take_n(&b, 100, 10, 50, 1000), 10);
	assert_int_equal(take_n(&b, 100, 10, 50, 1009), 0); /* 0.9 of a token */
	assert_int_equal(take_n(&b, 100, 10, 50, 1010), 1);
	assert_int_equal(take_n(&b, 100, 10, 50, 1510), 10); /* 50 earned, 10 kept */
	/* over a long run the admitted rate is the configured one */
	unsigned ok = 0;
	for (uint64_t t = 2000; t < 12000; t++)
		ok += take_n(&b, 100, 10, 3, t);
	assert_in_range(ok, 1000, 1010);
}

static void time_going_backwards_adds_nothing(void **state)
{
	struct rate_bucket b;
	(void)state;
	rate_bucket_init(&b, 1, 5000);
	assert_true(rate_take(&b, 1, 1, 5000));
	assert_false(rate_take(&b, 1, 1, 4000));
	assert_false(rate_take(&b, 1, 1, 5999));
	assert_true(rate_take(&b, 1, 1, 6000));
}

static void sources_have_buckets_of_their_own(void **state)
{
	(void)state;
	struct rate_table *t = rate_table_create(64, 1, 2);
	assert_non_null(t);
	uint32_t a = 0x0100000a, b = 0x0200000a;
	assert_true(rate_table_take(t, a, 100));
	assert_true(rate_table_take(t, a, 100));
	assert_false(rate_table_take(t, a, 100));
	assert_true(rate_table_take(t, b, 100)); /* b is not a */
	assert_true(rate_table_take(t, b, 100));
	assert_false(rate_table_take(t, b, 100));
	assert_false(rate_table_take(t, a, 999));
	assert_true(rate_table_take(t, a, 1100));
	assert_int_equal(rate_table_evictions(t), 0);
	rate_table_destroy(t);
}

static void a_full_table_evicts_the_stalest_source_not_the_busy_one(void **state)
{
	(void)state;
	struct rate_table *t = rate_table_create(16, 1, 1);
	assert_non_null(t);
	const uint32_t busy = 0x0900000a;
	/* the busy source keeps its slot fresh while hundreds of others pass through (a new
	 * one each millisecond, each starting full; no second passes, so no token is earned) */
	assert_true(rate_table_take(t, busy, 0));
	for (uint32_t i = 1; i < 1000; i++) {
		assert_false(rate_table_take(t, busy, i));
		assert_true(rate_table_take(t, 0x0a000000u + i, i));
	}
	assert_true(rate_table_evictions(t) > 900);
	assert_false(rate_table_take(t, busy, 999)); /* still limited, not reset by eviction */
	rate_table_destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_full_bucket_admits_its_burst_then_refills_at_the_rate),
		cmocka_unit_test(time_going_backwards_adds_nothing),
		cmocka_unit_test(sources_have_buckets_of_their_own),
		cmocka_unit_test(a_full_table_evicts_the_stalest_source_not_the_busy_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
