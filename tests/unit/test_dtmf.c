/* RFC 4733 events as the worker reduces them (dataplane/dtmf.c): one report per event, on its
 * first end packet; events whose end packets were lost reported as cut; retransmissions,
 * other events, short and absurd packets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/dtmf.h"
#include "shared/msg.h"

static uint8_t pkt[64];

/* An RTP packet of payload type 101 (or @pt) with timestamp @ts carrying event @ev. */
static size_t te(uint32_t ts, uint8_t ev, int end, uint16_t dur)
{
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x80;
	pkt[1] = 101;
	pkt[4] = (uint8_t)(ts >> 24);
	pkt[5] = (uint8_t)(ts >> 16);
	pkt[6] = (uint8_t)(ts >> 8);
	pkt[7] = (uint8_t)ts;
	pkt[12] = ev;
	pkt[13] = (uint8_t)((end ? 0x80 : 0) | 10);
	pkt[14] = (uint8_t)(dur >> 8);
	pkt[15] = (uint8_t)dur;
	return 16;
}

static size_t audio(uint32_t ts)
{
	te(ts, 0, 0, 0);
	pkt[1] = 0;
	return 12 + 160 > sizeof(pkt) ? sizeof(pkt) : 12 + 52;
}

/* Feed an event: start, two updates, three ends; returns the reports seen. */
static unsigned digit(struct stream_dtmf *s, uint32_t ts, uint8_t ev, uint16_t dur,
		      struct dtmf_report *last)
{
	unsigned n = 0;
	struct dtmf_report r;
	uint16_t steps[] = {0, (uint16_t)(dur / 3), (uint16_t)(2 * dur / 3)};
	for (int i = 0; i < 3; i++)
		if (dtmf_rx(s, pkt, te(ts, ev, 0, steps[i]), true, &r) == DTMF_REPORT) {
			*last = r;
			n++;
		}
	for (int i = 0; i < 3; i++)
		if (dtmf_rx(s, pkt, te(ts, ev, 1, dur), true, &r) == DTMF_REPORT) {
			*last = r;
			n++;
		}
	return n;
}

static void one_report_per_event(void **state)
{
	(void)state;
	struct stream_dtmf s = {0};
	struct dtmf_report r;
	assert_int_equal(digit(&s, 1000, 5, 1120, &r), 1);
	assert_int_equal(r.event, 5);
	assert_int_equal(r.duration, 1120);
	assert_int_equal(r.volume, 10);
	assert_int_equal(r.flags, MSG_DTMF_ENDED);
	/* the next digits, in order, each once */
	const uint8_t seq[] = {1, 2, 3, 11, 10, 0, 16};
	for (unsigned i = 0; i < sizeof(seq); i++) {
		assert_int_equal(digit(&s, 2000 + 1600 * i, seq[i], 800, &r), 1);
		assert_int_equal(r.event, seq[i]);
		assert_int_equal(dtmf_char(r.event), "123#*0!"[i]);
	}
	/* the same event again (a late retransmission): nothing */
	assert_int_equal(dtmf_rx(&s, pkt, te(2000 + 1600 * 6, 16, 1, 800), true, &r), DTMF_NONE);
}

static void lost_ends_are_reported_as_cut(void **state)
{
	(void)state;
	struct stream_dtmf s = {0};
	struct dtmf_report r;
	/* event 7 without its end; the next event's start reports it */
	assert_int_equal(dtmf_rx(&s, pkt, te(5000, 7, 0, 0), true, &r), DTMF_NONE);
	assert_int_equal(dtmf_rx(&s, pkt, te(5000, 7, 0, 480), true, &r), DTMF_NONE);
	assert_int_equal(dtmf_rx(&s, pkt, te(6000, 8, 0, 0), true, &r), DTMF_REPORT);
	assert_int_equal(r.event, 7);
	assert_int_equal(r.duration, 480);
	assert_int_equal(r.flags, MSG_DTMF_CUT);
	/* event 8 without its end either: audio just after does not end it, audio well past
	 * it does, once */
	assert_int_equal(dtmf_rx(&s, pkt, te(6000, 8, 0, 320), true, &r), DTMF_NONE);
	assert_int_equal(dtmf_rx(&s, pkt, audio(6000 + 320 + 160), false, &r), DTMF_NONE);
	assert_int_equal(dtmf_rx(&s, pkt, audio(6000 + 320 + DTMF_CUT_GAP + 160), false, &r),
			 DTMF_REPORT);
	assert_int_equal(r.event, 8);
	assert_int_equal(r.flags, MSG_DTMF_CUT);
	assert_int_equal(dtmf_rx(&s, pkt, audio(9000), false, &r), DTMF_NONE);
	/* an end whose start was lost is still one event */
	assert_int_equal(dtmf_rx(&s, pkt, te(12000, 9, 1, 640), true, &r), DTMF_REPORT);
	assert_int_equal(r.event, 9);
	assert_int_equal(r.flags, MSG_DTMF_ENDED);
}

static void timestamps_wrap(void **state)
{
	(void)state;
	struct stream_dtmf s = {0};
	struct dtmf_report r;
	assert_int_equal(digit(&s, 0xffffff00u, 4, 800, &r), 1);
	assert_int_equal(digit(&s, 0x40, 6, 800, &r), 1);
	assert_int_equal(r.event, 6);
	/* an unfinished event across the wrap: audio past it still ends it */
	assert_int_equal(dtmf_rx(&s, pkt, te(0xfffffe00u, 3, 0, 200), true, &r), DTMF_NONE);
	assert_int_equal(dtmf_rx(&s, pkt, audio(0x400), false, &r), DTMF_REPORT);
	assert_int_equal(r.event, 3);
}

static void bad_other_and_absurd(void **state)
{
	(void)state;
	struct stream_dtmf s = {0};
	struct dtmf_report r;
	/* too short for an event */
	assert_int_equal(dtmf_rx(&s, pkt, te(100, 1, 1, 800) - 1, true, &r), DTMF_BAD);
	/* CSRCs and a header extension before the event: found behind them */
	size_t n = te(200, 2, 1, 800);
	uint8_t ev[4];
	memcpy(ev, pkt + 12, 4);
	pkt[0] = 0x80 | 0x10 | 1;              /* X, one CSRC */
	memset(pkt + 12, 0xee, 4);             /* CSRC */
	pkt[16] = 0xbe, pkt[17] = 0xde, pkt[18] = 0, pkt[19] = 1; /* extension: one word */
	memset(pkt + 20, 0, 4);
	memcpy(pkt + 24, ev, 4);
	assert_int_equal(dtmf_rx(&s, pkt, n + 12, true, &r), DTMF_REPORT);
	assert_int_equal(r.event, 2);
	/* an extension longer than the packet */
	pkt[19] = 200;
	assert_int_equal(dtmf_rx(&s, pkt, n + 12, true, &r), DTMF_BAD);
	/* padding longer than the payload */
	n = te(300, 3, 1, 800);
	pkt[0] |= 0x20;
	pkt[n - 1] = 60;
	assert_int_equal(dtmf_rx(&s, pkt, n, true, &r), DTMF_BAD);
	/* events beyond the digits (tones, modems): not reported, not an error */
	assert_int_equal(dtmf_rx(&s, pkt, te(400, 32, 1, 800), true, &r), DTMF_NONE);
	assert_int_equal(dtmf_rx(&s, pkt, te(500, 255, 1, 800), true, &r), DTMF_NONE);
	/* an event that ends with a duration of 0: absurd, once; its retransmissions nothing */
	assert_int_equal(dtmf_rx(&s, pkt, te(600, 5, 1, 0), true, &r), DTMF_ABSURD);
	assert_int_equal(dtmf_rx(&s, pkt, te(600, 5, 1, 0), true, &r), DTMF_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_report_per_event),
		cmocka_unit_test(lost_ends_are_reported_as_cut),
		cmocka_unit_test(timestamps_wrap),
		cmocka_unit_test(bad_other_and_absurd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
