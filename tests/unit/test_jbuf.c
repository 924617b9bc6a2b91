/* Unit tests for the adaptive jitter buffer (dataplane/jbuf.c): packets out of order, lost,
 * duplicated, late, from a sender whose clock runs fast or slow, across the 16-bit sequence
 * and 32-bit timestamp wraps, a new SSRC, and a sender that pauses. Each test drives the
 * buffer the way xcode.c does: packets put as they arrive, one step per packet time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/jbuf.h"

#define SSRC 0x1234

static struct jbuf jb;

static int reset(void **state)
{
	(void)state;
	jb_init(&jb);
	return 0;
}

/* A packet whose one payload byte is its sequence number's low byte. */
static enum jb_put_result put(uint16_t seq)
{
	uint8_t b = (uint8_t)seq;
	return jb_put(&jb, SSRC, seq, (uint32_t)seq * 160, &b, 1);
}

/* One step; returns the sequence number played, or -1 (loss), -2 (empty), -3 (idle). */
static int step(void)
{
	struct jb_out o;
	switch (jb_step(&jb, &o)) {
	case JB_PLAY:
		assert_int_equal(o.pkt->data[0], (uint8_t)o.pkt->seq);
		return o.pkt->seq;
	case JB_LOSS:
		return -1;
	case JB_EMPTY:
		return -2;
	default:
		return -3;
	}
}

static void in_order_plays_in_order(void **state)
{
	(void)state;
	assert_int_equal(step(), -3); /* nothing yet */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(put((uint16_t)(100 + i)), JB_PUT_OK);
		assert_int_equal(step(), 100 + i);
	}
	assert_int_equal(jb.st.played, 10);
	assert_int_equal(jb.st.lost, 0);
}

static void reordered_packets_play_in_sequence(void **state)
{
	(void)state;
	put(10);
	put(12); /* 11 overtaken by 12 */
	put(11);
	put(14);
	put(13);
	for (int i = 10; i <= 14; i++)
		assert_int_equal(step(), i);
	assert_int_equal(jb.st.lost, 0);
}

static void a_lost_packet_is_concealed_with_the_next_at_hand(void **state)
{
	(void)state;
	put(1);
	put(3); /* 2 never comes */
	put(4);
	assert_int_equal(step(), 1);
	struct jb_out o;
	assert_int_equal(jb_step(&jb, &o), JB_LOSS);
	assert_non_null(o.next); /* for Opus's FEC */
	assert_int_equal(o.next->seq, 3);
	assert_int_equal(step(), 3);
	assert_int_equal(step(), 4);
	assert_int_equal(jb.st.lost, 1);
	/* 2 arriving now is late: not played out of place */
	assert_int_equal(put(2), JB_PUT_LATE);
	assert_int_equal(jb.st.late, 1);
}

static void duplicates_play_once(void **state)
{
	(void)state;
	put(7);
	assert_int_equal(put(7), JB_PUT_DUP);
	put(8);
	assert_int_equal(step(), 7);
	assert_int_equal(put(7), JB_PUT_LATE); /* its copy after it played */
	assert_int_equal(step(), 8);
	assert_int_equal(step(), -2);
	assert_int_equal(jb.st.dup, 1);
	assert_int_equal(jb.st.played, 2);
}

/* An empty step keeps its place: a packet that was only late still plays, and the buffer
 * now runs one packet deeper (the delay grew). */
static void underrun_grows_the_delay(void **state)
{
	(void)state;
	put(1);
	assert_int_equal(step(), 1);
	assert_int_equal(step(), -2); /* 2 is late */
	put(2);
	put(3);
	assert_int_equal(step(), 2);
	assert_int_equal(step(), 3);
	assert_int_equal(jb.st.lost, 0);
	assert_int_equal(jb.st.underrun, 1);
}

/* A sender whose clock runs 2 % fast: one packet more every 50. The buffer gives packets up
 * now and then instead of growing without end, and plays everything else in order. */
static void fast_sender_clock_is_absorbed(void **state)
{
	(void)state;
	uint16_t seq = 65000; /* and across the wrap */
	uint32_t ts = 0xffffff00u;
	int last = -1;
	unsigned max_fill = 0;
	for (int t = 0; t < 3000; t++) {
		uint8_t b = (uint8_t)seq;
		jb_put(&jb, SSRC, seq, ts, &b, 1);
		seq++;
		ts += 160;
		if (t % 50 == 49) { /* the extra packet */
			b = (uint8_t)seq;
			jb_put(&jb, SSRC, seq, ts, &b, 1);
			seq++;
			ts += 160;
		}
		int s = step();
		assert_true(s >= 0);
		if (last >= 0)
			assert_true((uint16_t)(s - last) >= 1 && (uint16_t)(s - last) <= 2);
		last = s;
		if (jb.n > max_fill)
			max_fill = jb.n;
	}
	print_message("fast sender: %u shrinks, fill at most %u\n", jb.st.shrunk, max_fill);
	assert_true(jb.st.shrunk >= 50);
	assert_true(max_fill <= JB_SLACK + 3);
	assert_int_equal(jb.st.lost, 0);
	assert_int_equal(jb.st.reset, 0);
}

/* 2 % slow: a step finds nothing now and then; the buffer conceals (an empty step) and plays
 * every packet, none lost. */
static void slow_sender_clock_is_absorbed(void **state)
{
	(void)state;
	uint16_t seq = 0;
	unsigned played = 0, empty = 0;
	for (int t = 0; t < 3000; t++) {
		if (t % 50 != 49)
			put(seq++);
		int s = step();
		if (s >= 0)
			played++;
		else if (s == -2)
			empty++;
		else
			fail_msg("step %d: %d", t, s);
	}
	assert_int_equal(played, seq);
	assert_int_equal(empty, 60);
	assert_int_equal(jb.st.lost, 0);
}

/* Jitter: packets arrive in bursts of three every third step. After the first burst ran the
 * buffer dry the delay has grown, and from then on every packet plays in time. */
static void bursty_arrival_grows_then_plays_smoothly(void **state)
{
	(void)state;
	uint16_t seq = 0;
	unsigned empty_late = 0;
	for (int t = 0; t < 300; t++) {
		if (t % 3 == 0)
			for (int k = 0; k < 3; k++)
				put(seq++);
		int s = step();
		if (s == -2 && t > 30)
			empty_late++;
		assert_true(s != -1);
	}
	assert_int_equal(empty_late, 0);
	assert_int_equal(jb.st.lost, 0);
}

static void new_ssrc_or_far_jump_starts_over(void **state)
{
	(void)state;
	put(100);
	put(101);
	assert_int_equal(step(), 100);
	uint8_t b = 5;
	assert_int_equal(jb_put(&jb, SSRC + 1, 5, 0, &b, 1), JB_PUT_RESET);
	assert_int_equal(step(), 5);
	assert_int_equal(put(5000), JB_PUT_RESET); /* far ahead of the playout */
	assert_int_equal(step(), 5000 & 0xffff);
	assert_int_equal(jb.st.reset, 2);
}

static void a_paused_sender_goes_idle_and_restarts(void **state)
{
	(void)state;
	put(1);
	assert_int_equal(step(), 1);
	for (int i = 0; i < JB_IDLE_STEPS - 1; i++)
		assert_int_equal(step(), -2);
	assert_int_equal(step(), -3);
	/* it speaks again with a jump in its sequence (silence suppression): a fresh start */
	assert_int_equal(put(40), JB_PUT_OK);
	assert_int_equal(step(), 40);
}

static void payloads_too_big_are_refused(void **state)
{
	(void)state;
	uint8_t big[JB_FRAME_MAX + 1] = {0};
	assert_int_equal(jb_put(&jb, SSRC, 1, 0, big, sizeof(big)), JB_PUT_TOO_BIG);
	assert_int_equal(jb_put(&jb, SSRC, 1, 0, big, JB_FRAME_MAX), JB_PUT_OK);
	assert_int_equal(jb.st.too_big, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(in_order_plays_in_order, reset),
		cmocka_unit_test_setup(reordered_packets_play_in_sequence, reset),
		cmocka_unit_test_setup(a_lost_packet_is_concealed_with_the_next_at_hand, reset),
		cmocka_unit_test_setup(duplicates_play_once, reset),
		cmocka_unit_test_setup(underrun_grows_the_delay, reset),
		cmocka_unit_test_setup(fast_sender_clock_is_absorbed, reset),
		cmocka_unit_test_setup(slow_sender_clock_is_absorbed, reset),
		cmocka_unit_test_setup(bursty_arrival_grows_then_plays_smoothly, reset),
		cmocka_unit_test_setup(new_ssrc_or_far_jump_starts_over, reset),
		cmocka_unit_test_setup(a_paused_sender_goes_idle_and_restarts, reset),
		cmocka_unit_test_setup(payloads_too_big_are_refused, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
