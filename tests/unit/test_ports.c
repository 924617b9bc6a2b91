/* Unit tests for the media port allocator (controlplane/ports.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "controlplane/media/ports.h"

static void pool_of_three_even_ports_is_exhausted_by_the_fourth_alloc(void **state)
{
	struct ports *p = ports_create(10000, 10004);

	(void)state;
	assert_non_null(p);
	assert_int_equal(ports_total(p), 3);
	assert_int_equal(ports_alloc(p), 10000);
	assert_int_equal(ports_alloc(p), 10002);
	assert_int_equal(ports_alloc(p), 10004);
	assert_int_equal(ports_free(p), 0);
	assert_int_equal(ports_alloc(p), 0);
	ports_destroy(p);
}

static void released_port_is_allocated_again(void **state)
{
	struct ports *p = ports_create(20000, 20000);

	(void)state;
	assert_non_null(p);
	assert_int_equal(ports_alloc(p), 20000);
	assert_int_equal(ports_alloc(p), 0);
	assert_true(ports_in_use(p, 20000));
	assert_int_equal(ports_release(p, 20000), 0);
	assert_false(ports_in_use(p, 20000));
	assert_int_equal(ports_free(p), 1);
	assert_int_equal(ports_alloc(p), 20000);
	ports_destroy(p);
}

static void least_recently_released_port_comes_first(void **state)
{
	struct ports *p = ports_create(10000, 10006);

	(void)state;
	assert_non_null(p);
	for (int i = 0; i < 4; i++)
		assert_int_not_equal(ports_alloc(p), 0);
	assert_int_equal(ports_release(p, 10004), 0);
	assert_int_equal(ports_release(p, 10000), 0);
	assert_int_equal(ports_release(p, 10006), 0);
	assert_int_equal(ports_alloc(p), 10004);
	assert_int_equal(ports_alloc(p), 10000);
	assert_int_equal(ports_alloc(p), 10006);
	assert_int_equal(ports_alloc(p), 0);
	ports_destroy(p);
}

static void just_released_port_waits_behind_never_used_ports(void **state)
{
	struct ports *p = ports_create(10000, 10004);

	(void)state;
	assert_int_equal(ports_alloc(p), 10000);
	assert_int_equal(ports_release(p, 10000), 0);
	assert_int_equal(ports_alloc(p), 10002);
	assert_int_equal(ports_alloc(p), 10004);
	assert_int_equal(ports_alloc(p), 10000);
	ports_destroy(p);
}

static void double_release_is_rejected(void **state)
{
	struct ports *p = ports_create(10000, 10010);
	uint16_t port;

	(void)state;
	port = ports_alloc(p);
	assert_int_equal(ports_release(p, port), 0);
	assert_int_equal(ports_release(p, port), -1);
	assert_int_equal(ports_free(p), ports_total(p));
	ports_destroy(p);
}

static void release_of_foreign_port_is_rejected(void **state)
{
	struct ports *p = ports_create(10000, 10010);

	(void)state;
	assert_int_equal(ports_alloc(p), 10000);
	assert_int_equal(ports_release(p, 10002), -1); /* in range, never allocated */
	assert_int_equal(ports_release(p, 10001), -1); /* odd */
	assert_int_equal(ports_release(p, 9998), -1);  /* below range */
	assert_int_equal(ports_release(p, 10012), -1); /* above range */
	assert_int_equal(ports_release(p, 0), -1);
	assert_false(ports_in_use(p, 10001));
	assert_false(ports_in_use(p, 10012));
	assert_int_equal(ports_free(p), 5);
	ports_destroy(p);
}

static void odd_bounds_are_rounded_inwards(void **state)
{
	struct ports *p = ports_create(10001, 10007);

	(void)state;
	assert_non_null(p);
	assert_int_equal(ports_total(p), 3);
	assert_int_equal(ports_alloc(p), 10002);
	assert_int_equal(ports_alloc(p), 10004);
	assert_int_equal(ports_alloc(p), 10006);
	assert_int_equal(ports_alloc(p), 0);
	ports_destroy(p);
}

static void bad_ranges_are_refused(void **state)
{
	(void)state;
	assert_null(ports_create(20000, 10000));
	assert_null(ports_create(0, 100));
	assert_null(ports_create(10000, 65535));
	assert_null(ports_create(10001, 10001)); /* no even port inside */
}

static void whole_port_space_cycles_without_loss(void **state)
{
	struct ports *p = ports_create(1, 65534);
	unsigned total;

	(void)state;
	assert_non_null(p);
	total = ports_total(p);
	assert_int_equal(total, 32767);
	for (int round = 0; round < 2; round++) {
		uint16_t first = ports_alloc(p), port = first;

		for (unsigned i = 1; i < total; i++)
			port = ports_alloc(p);
		assert_int_equal(ports_alloc(p), 0);
		assert_int_equal(port - first, 2 * (total - 1));
		for (unsigned i = 0; i < total; i++)
			assert_int_equal(ports_release(p, (uint16_t)(2 + 2 * i)), 0);
		assert_int_equal(ports_free(p), total);
	}
	ports_destroy(p);
}

/* A restart takes back the ports of the calls it restores: reserved ones are in use at once,
 * gone from the free ring after the compaction, and the rest still come out in their order. */
static void reserved_ports_are_taken_back_and_the_rest_keep_their_order(void **state)
{
	(void)state;
	struct ports *p = ports_create(10000, 10018); /* 10 ports */
	assert_non_null(p);
	assert_int_equal(ports_reserve(p, 10006), 0);
	assert_int_equal(ports_reserve(p, 10000), 0);
	assert_int_equal(ports_reserve(p, 10006), -1); /* taken */
	assert_int_equal(ports_reserve(p, 10007), -1); /* odd */
	assert_int_equal(ports_reserve(p, 20000), -1); /* outside */
	assert_true(ports_in_use(p, 10006));
	assert_int_equal(ports_free(p), 8);
	ports_compact(p);
	assert_int_equal(ports_free(p), 8);
	static const uint16_t order[] = {10002, 10004, 10008, 10010, 10012, 10014, 10016, 10018};
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(ports_alloc(p), order[i]);
	assert_int_equal(ports_alloc(p), 0);
	assert_int_equal(ports_release(p, 10006), 0);
	assert_int_equal(ports_release(p, 10000), 0);
	assert_int_equal(ports_alloc(p), 10006);
	assert_int_equal(ports_alloc(p), 10000);
	ports_destroy(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pool_of_three_even_ports_is_exhausted_by_the_fourth_alloc),
		cmocka_unit_test(released_port_is_allocated_again),
		cmocka_unit_test(least_recently_released_port_comes_first),
		cmocka_unit_test(just_released_port_waits_behind_never_used_ports),
		cmocka_unit_test(double_release_is_rejected),
		cmocka_unit_test(release_of_foreign_port_is_rejected),
		cmocka_unit_test(odd_bounds_are_rounded_inwards),
		cmocka_unit_test(bad_ranges_are_refused),
		cmocka_unit_test(whole_port_space_cycles_without_loss),
		cmocka_unit_test(reserved_ports_are_taken_back_and_the_rest_keep_their_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
