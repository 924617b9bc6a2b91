/* Unit tests for the RTP receiver statistics (dataplane/rtp.c) against RFC 3550: A.1 sequence
 * validation (probation, wrap-around, duplicates and reordering, resynchronisation after a large
 * jump), A.3 expected/lost and A.8 interarrival jitter, the latter checked against a plain
 * double-precision J += (|D| - J) / 16 fed the same packets. No EAL needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/rtp.h"

#define TS_STEP 160 /* 20 ms at 8 kHz */

static struct rtp_stats st;

static int reset(void **state)
{
	(void)state;
	memset(&st, 0, sizeof(st));
	return 0;
}

/* Packet with sequence number @seq sent on time: timestamp and arrival advance together. */
static void pkt(uint16_t seq)
{
	uint32_t ts = (uint32_t)seq * TS_STEP;
	rtp_stats_update(&st, seq, ts, ts + 1000);
}

/* @n packets in order from @first (wrapping at 65536). */
static void run(uint16_t first, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pkt((uint16_t)(first + i));
}

static void first_packet_of_a_new_source_is_on_probation(void **state)
{
	(void)state;
	pkt(1000);
	assert_int_equal(st.received, 0);
	assert_int_equal(rtp_stats_expected(&st), 0);
	assert_int_equal(rtp_stats_lost(&st), 0);
	pkt(1001); /* RTP_MIN_SEQUENTIAL in sequence: the source is valid from here */
	assert_int_equal(st.received, 1);
	assert_int_equal(st.base_seq, 1001);
	assert_int_equal(rtp_stats_expected(&st), 1);
	assert_int_equal(rtp_stats_lost(&st), 0);
}

static void probation_restarts_when_the_sequence_breaks(void **state)
{
	(void)state;
	pkt(10);
	pkt(20); /* not 11: probation starts over from 20 */
	assert_int_equal(st.received, 0);
	assert_int_equal(rtp_stats_expected(&st), 0);
	pkt(21);
	assert_int_equal(st.received, 1);
	assert_int_equal(st.base_seq, 21);
	pkt(22);
	assert_int_equal(rtp_stats_expected(&st), 2);
	assert_int_equal(rtp_stats_lost(&st), 0);
}

static void in_order_stream_loses_nothing(void **state)
{
	(void)state;
	run(1000, 100);
	assert_int_equal(st.received, 99);
	assert_int_equal(rtp_stats_expected(&st), 99);
	assert_int_equal(rtp_stats_lost(&st), 0);
	assert_int_equal(st.max_seq, 1099);
	assert_int_equal(st.cycles, 0);
}

static void gaps_count_as_lost(void **state)
{
	(void)state;
	run(1000, 10);      /* 1000..1009 */
	run(1015, 10);      /* 1010..1014 missing */
	run(1026, 4);       /* 1025 missing */
	assert_int_equal(st.received, 9 + 10 + 4);
	assert_int_equal(rtp_stats_expected(&st), 1029 - 1001 + 1);
	assert_int_equal(rtp_stats_lost(&st), 6);
}

static void duplicates_make_loss_negative(void **state)
{
	(void)state;
	run(500, 10);
	pkt(505);
	pkt(509);
	assert_int_equal(st.received, 11);
	assert_int_equal(rtp_stats_expected(&st), 9);
	assert_int_equal(rtp_stats_lost(&st), -2);
}

static void reordering_within_max_misorder_is_counted_once(void **state)
{
	(void)state;
	run(500, 10); /* 500..509 */
	pkt(511);
	pkt(510);     /* one late */
	pkt(512);
	assert_int_equal(rtp_stats_lost(&st), 0);
	assert_int_equal(st.max_seq, 512);
	run(513, 200); /* up to 712 */
	pkt(712 - RTP_MAX_MISORDER + 1); /* late but within the window: a duplicate, counted */
	assert_int_equal(st.max_seq, 712);
	assert_int_equal(st.cycles, 0);
	assert_int_equal(rtp_stats_lost(&st), -1);
}

/* The first packets of a source arrive late (one of them overtaken on a detour): whatever
 * precedes the packet that validated the source is outside the statistics, so the loss stays
 * 0 instead of going negative for good. */
static void packets_overtaken_during_probation_are_not_counted(void **state)
{
	(void)state;
	pkt(1002);
	pkt(1003); /* validates: base 1003 */
	pkt(1000);
	pkt(1001);
	run(1004, 20);
	assert_int_equal(st.base_seq, 1003);
	assert_int_equal(st.received, 21);
	assert_int_equal(rtp_stats_expected(&st), 21);
	assert_int_equal(rtp_stats_lost(&st), 0);
	/* after a wrap, a packet numbered below base_seq is an ordinary late one */
	run(1024, 65536 - 1024);
	run(0, 1010);
	pkt(1000);
	assert_int_equal(st.cycles, 65536);
	assert_int_equal(rtp_stats_lost(&st), -1);
}

static void late_packet_beyond_max_misorder_is_not_counted(void **state)
{
	(void)state;
	run(1000, 300); /* up to 1299 */
	uint32_t before = st.received;
	pkt(1299 - RTP_MAX_MISORDER - 50);
	assert_int_equal(st.received, before);
	assert_int_equal(st.max_seq, 1299);
	assert_int_equal(st.cycles, 0);
	assert_int_equal(rtp_stats_lost(&st), 0);
}

static void sequence_wrap_adds_a_cycle_and_keeps_expected_right(void **state)
{
	(void)state;
	run(65530, 20); /* 65530..65535, 0..13 */
	assert_int_equal(st.cycles, RTP_SEQ_MOD);
	assert_int_equal(st.max_seq, 13);
	assert_int_equal(st.base_seq, 65531);
	assert_int_equal(st.received, 19);
	assert_int_equal(rtp_stats_expected(&st), 19);
	assert_int_equal(rtp_stats_lost(&st), 0);
}

static void loss_across_the_wrap_is_counted(void **state)
{
	(void)state;
	run(65530, 4);  /* 65530..65533 */
	run(2, 5);      /* 65534, 65535, 0, 1 missing */
	assert_int_equal(st.cycles, RTP_SEQ_MOD);
	assert_int_equal(rtp_stats_expected(&st), 6 - 65531 + 65536 + 1);
	assert_int_equal(rtp_stats_lost(&st), 4);
}

static void a_late_packet_from_before_the_wrap_adds_no_cycle(void **state)
{
	(void)state;
	run(65530, 10); /* up to 3 */
	pkt(65535);     /* reordered from before the wrap */
	assert_int_equal(st.cycles, RTP_SEQ_MOD);
	assert_int_equal(st.max_seq, 3);
	run(4, 3);
	assert_int_equal(st.cycles, RTP_SEQ_MOD);
	assert_int_equal(rtp_stats_lost(&st), -1);
}

static void a_single_large_jump_is_ignored(void **state)
{
	(void)state;
	run(1000, 11); /* 1000..1010 */
	pkt(1010 + RTP_MAX_DROPOUT + 500); /* stray */
	assert_int_equal(st.received, 10);
	assert_int_equal(st.max_seq, 1010);
	run(1011, 5);
	assert_int_equal(st.received, 15);
	assert_int_equal(rtp_stats_expected(&st), 15);
	assert_int_equal(rtp_stats_lost(&st), 0);
}

static void a_large_jump_followed_in_sequence_is_a_restart(void **state)
{
	(void)state;
	run(1000, 11);
	pkt(30000);
	assert_int_equal(st.received, 10);
	pkt(30001); /* bad_seq matched: the source restarted */
	assert_int_equal(st.base_seq, 30001);
	assert_int_equal(st.max_seq, 30001);
	assert_int_equal(st.received, 1);
	assert_int_equal(st.cycles, 0);
	run(30002, 9);
	assert_int_equal(rtp_stats_expected(&st), 10);
	assert_int_equal(rtp_stats_lost(&st), 0);
}

static double dabs(double x) { return x < 0 ? -x : x; }

/* RFC 3550 A.8 in doubles: D between consecutive packets, J += (|D| - J) / 16. */
struct jref {
	int have;
	double transit, j;
};

static void jref_add(struct jref *r, uint32_t ts, uint32_t arrival)
{
	double transit = (double)arrival - (double)ts;
	if (r->have)
		r->j += (dabs(transit - r->transit) - r->j) / 16.0;
	r->transit = transit;
	r->have = 1;
}

static void constant_transit_has_no_jitter(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 200; i++)
		rtp_stats_update(&st, (uint16_t)(7 + i), 12345 + i * TS_STEP, 99999 + i * TS_STEP);
	assert_int_equal(rtp_stats_jitter(&st), 0);
	assert_int_equal(st.jitter, 0);
}

/* Feed @n packets whose delay is @delay(i) to both implementations; compare after each. The
 * integer form (A.8: J16 += |D| - ((J16 + 8) >> 4), reported as J16 >> 4) may trail the exact
 * value by its rounding (under 0.5, decaying) plus the report's truncation (under 1). */
static void jitter_vs_reference(int (*delay)(unsigned i), unsigned n, double *final_ref)
{
	struct jref ref = {0};
	uint32_t ts0 = 0xfffff000; /* the timestamp wraps during the run */
	for (unsigned i = 0; i < n; i++) {
		uint32_t ts = ts0 + i * TS_STEP;
		uint32_t arrival = (uint32_t)(5000 + i * TS_STEP + delay(i));
		rtp_stats_update(&st, (uint16_t)(100 + i), ts, arrival);
		jref_add(&ref, (double)(i * TS_STEP), 5000.0 + i * TS_STEP + delay(i));
		double got = rtp_stats_jitter(&st);
		if (dabs(got - ref.j) > 1.5)
			fail_msg("packet %u: jitter %.0f, reference %.3f", i, got, ref.j);
	}
	*final_ref = ref.j;
	assert_true(dabs(rtp_stats_jitter(&st) - ref.j) <= 1.0); /* converged */
}

static int alternating_80(unsigned i) { return i & 1 ? 80 : -80; }

static int pseudo_random_delay(unsigned i)
{
	return (int)((i * 2654435761u) >> 22) % 400; /* 0..399 units */
}

static void alternating_delay_converges_like_the_reference(void **state)
{
	double ref;

	(void)state;
	jitter_vs_reference(alternating_80, 300, &ref);
	assert_true(dabs(ref - 160.0) < 0.01); /* |D| is always 160 */
	assert_true(rtp_stats_jitter(&st) >= 159 && rtp_stats_jitter(&st) <= 160);
}

static void random_delay_tracks_the_reference(void **state)
{
	double ref;

	(void)state;
	jitter_vs_reference(pseudo_random_delay, 1000, &ref);
	assert_true(ref > 50.0); /* the series does jitter */
}

static void a_restarted_source_does_not_count_its_timestamp_jump_as_jitter(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 20; i++)
		rtp_stats_update(&st, (uint16_t)(1000 + i), 5000 + i * TS_STEP, 77 + i * TS_STEP);
	assert_int_equal(rtp_stats_jitter(&st), 0);
	/* The sender restarts with new sequence numbers and a new timestamp base. */
	for (unsigned i = 0; i < 20; i++)
		rtp_stats_update(&st, (uint16_t)(40000 + i), 0x9abc0000 + i * TS_STEP,
				 77 + (20 + i) * TS_STEP);
	assert_int_equal(st.base_seq, 40001);
	assert_int_equal(rtp_stats_lost(&st), 0);
	assert_int_equal(rtp_stats_jitter(&st), 0);
}

static void a_half_range_timestamp_jump_is_handled(void **state)
{
	(void)state;
	run(1, 5);
	/* Sequence continuous, timestamp off by 2^31: |D| must not overflow a signed int. */
	rtp_stats_update(&st, 6, 6 * TS_STEP + 0x80000000u, 6 * TS_STEP + 1000);
	assert_int_equal(rtp_stats_jitter(&st), 0x80000000u / 16);
}

static void arrival_of_one_second_is_8000_clock_units(void **state)
{
	static const uint64_t hz[] = {1000000000ull, 2400000000ull, 2994374000ull, 3700000000ull,
				      4294967295ull};

	(void)state;
	for (size_t i = 0; i < sizeof(hz) / sizeof(hz[0]); i++) {
		uint32_t mult = (uint32_t)((8000ull << 32) / hz[i]);
		uint32_t a = rtp_arrival(hz[i], mult);
		if (a < 7999 || a > 8001)
			fail_msg("tsc_hz %llu: 1 s is %u units", (unsigned long long)hz[i], a);
		assert_int_equal(rtp_arrival(0, mult), 0);
		/* After ten days of uptime a second is still a second (no 64-bit overflow). */
		uint64_t t0 = hz[i] * 864000;
		uint32_t d = rtp_arrival(t0 + hz[i], mult) - rtp_arrival(t0, mult);
		if (d < 7999 || d > 8001)
			fail_msg("tsc_hz %llu after 10 days: 1 s is %u units",
				 (unsigned long long)hz[i], d);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup(fn, reset)
	const struct CMUnitTest tests[] = {
		T(first_packet_of_a_new_source_is_on_probation),
		T(probation_restarts_when_the_sequence_breaks),
		T(in_order_stream_loses_nothing),
		T(gaps_count_as_lost),
		T(duplicates_make_loss_negative),
		T(reordering_within_max_misorder_is_counted_once),
		T(packets_overtaken_during_probation_are_not_counted),
	T(late_packet_beyond_max_misorder_is_not_counted),
		T(sequence_wrap_adds_a_cycle_and_keeps_expected_right),
		T(loss_across_the_wrap_is_counted),
		T(a_late_packet_from_before_the_wrap_adds_no_cycle),
		T(a_single_large_jump_is_ignored),
		T(a_large_jump_followed_in_sequence_is_a_restart),
		T(constant_transit_has_no_jitter),
		T(alternating_delay_converges_like_the_reference),
		T(random_delay_tracks_the_reference),
		T(a_restarted_source_does_not_count_its_timestamp_jump_as_jitter),
		T(a_half_range_timestamp_jump_is_handled),
		T(arrival_of_one_second_is_8000_clock_units),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
