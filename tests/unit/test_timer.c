/* Unit tests for the control plane's timer wheel (util/timer.c) on a clock the test moves:
 * every timer fires at its due millisecond, never early, at most one tick late, whatever its
 * distance (up to beyond the wheel's span); stop and restart, also from a callback; and the
 * wait the control loop sleeps is never longer than the time to the next timer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "util/timer.h"

static uint64_t fake_now;
static uint64_t fake_clock(void) { return fake_now; }

struct probe {
	struct timer t;
	uint64_t due;
	uint64_t fired_at;
	unsigned fired;
};

static void probe_fire(struct timer *t)
{
	struct probe *p = (struct probe *)t;
	p->fired_at = fake_now;
	p->fired++;
}

static int setup(void **state)
{
	(void)state;
	fake_now = 1000000;
	timer_set_clock(fake_clock);
	return 0;
}

/* Advance the clock one millisecond at a time, as the loop would in the worst case. */
static void advance(uint64_t ms)
{
	for (uint64_t i = 0; i < ms; i++) {
		fake_now++;
		timer_run();
	}
}

static void timers_fire_at_their_millisecond_near_and_far(void **state)
{
	(void)state;
	static const uint64_t delays[] = {0, 1, 2, 63, 64, 65, 500, 4095, 4096, 4097, 32000,
					  262143, 262144, 300000, 7200000};
	enum { N = sizeof(delays) / sizeof(delays[0]) };
	struct probe p[N] = {0};
	for (unsigned i = 0; i < N; i++) {
		p[i].due = fake_now + delays[i];
		timer_start(&p[i].t, delays[i], probe_fire);
	}
	assert_int_equal(timer_count(), N);
	advance(7200001);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(p[i].fired, 1);
		/* a timer due now fires at the next tick; none fires early */
		uint64_t want = delays[i] ? p[i].due : p[i].due + 1;
		assert_int_equal(p[i].fired_at, want);
	}
	assert_int_equal(timer_count(), 0);
}

static void a_big_clock_jump_fires_everything_due_in_order(void **state)
{
	(void)state;
	struct probe a = {0}, b = {0}, c = {0};
	timer_start(&a.t, 10, probe_fire);
	timer_start(&b.t, 5000, probe_fire);
	timer_start(&c.t, 20000, probe_fire);
	fake_now += 6000;
	assert_int_equal(timer_run(), 2);
	assert_int_equal(a.fired + b.fired, 2);
	assert_int_equal(c.fired, 0);
	fake_now += 14000;
	assert_int_equal(timer_run(), 1);
	assert_int_equal(c.fired, 1);
}

static void stopped_and_restarted_timers_fire_once_at_the_new_time(void **state)
{
	(void)state;
	struct probe a = {0}, b = {0};
	timer_start(&a.t, 100, probe_fire);
	timer_start(&b.t, 100, probe_fire);
	timer_stop(&a.t);
	timer_stop(&a.t); /* harmless twice */
	assert_false(timer_pending(&a.t));
	timer_start(&b.t, 3000, probe_fire); /* restart moves it */
	uint64_t start = fake_now;
	advance(5000);
	assert_int_equal(a.fired, 0);
	assert_int_equal(b.fired, 1);
	assert_int_equal(b.fired_at, start + 3000);
}

/* A callback that restarts itself (a retransmission timer) and stops another one. */
static struct probe chain_a, chain_b;
static unsigned chain_runs;

static void chain_fire(struct timer *t)
{
	chain_runs++;
	if (chain_runs < 5)
		timer_start(t, 1u << chain_runs, chain_fire); /* 2, 4, 8, 16 ms */
	timer_stop(&chain_b.t);
}

static void callbacks_may_restart_themselves_and_stop_others(void **state)
{
	(void)state;
	chain_runs = 0;
	chain_b.fired = 0;
	timer_start(&chain_a.t, 1, chain_fire);
	timer_start(&chain_b.t, 5, probe_fire);
	advance(100);
	assert_int_equal(chain_runs, 5);
	assert_int_equal(chain_b.fired, 0);
	assert_int_equal(timer_count(), 0);
}

static void the_wait_never_oversleeps_the_next_timer(void **state)
{
	(void)state;
	assert_int_equal(timer_wait_ms(20), 20); /* nothing pending */
	struct probe a = {0}, b = {0};
	timer_start(&a.t, 7, probe_fire);
	assert_int_equal(timer_wait_ms(20), 7);
	assert_int_equal(timer_wait_ms(3), 3);
	timer_stop(&a.t);
	timer_start(&b.t, 10000, probe_fire);
	int w = timer_wait_ms(100000);
	assert_true(w >= 1 && w <= 64); /* the next boundary, where it may come down */
	uint64_t left = 10000;
	while (!b.fired) {
		int step = timer_wait_ms(100000);
		assert_true((uint64_t)step <= left);
		fake_now += (uint64_t)step;
		left -= (uint64_t)step;
		timer_run();
	}
	assert_int_equal(left, 0);
}

/* Many timers over a few seconds: each fires once, on time. */
static void many_timers_each_fire_once_on_time(void **state)
{
	(void)state;
	enum { N = 20000 };
	struct probe *p = calloc(N, sizeof(*p));
	assert_non_null(p);
	unsigned seed = 42;
	for (unsigned i = 0; i < N; i++) {
		uint64_t d = 1 + (uint64_t)rand_r(&seed) % 70000;
		p[i].due = fake_now + d;
		timer_start(&p[i].t, d, probe_fire);
	}
	for (unsigned i = 0; i < N; i += 3)
		timer_stop(&p[i].t);
	advance(70001);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(p[i].fired, i % 3 ? 1 : 0);
		if (i % 3)
			assert_int_equal(p[i].fired_at, p[i].due);
	}
	assert_int_equal(timer_count(), 0);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(timers_fire_at_their_millisecond_near_and_far, setup),
		cmocka_unit_test_setup(a_big_clock_jump_fires_everything_due_in_order, setup),
		cmocka_unit_test_setup(stopped_and_restarted_timers_fire_once_at_the_new_time, setup),
		cmocka_unit_test_setup(callbacks_may_restart_themselves_and_stop_others, setup),
		cmocka_unit_test_setup(the_wait_never_oversleeps_the_next_timer, setup),
		cmocka_unit_test_setup(many_timers_each_fire_once_on_time, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
