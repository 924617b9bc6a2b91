/* RFC 4733 events as the worker reduces them (dataplane/dtmf.c): one report per event, on its
 * first end packet; events whose end packets were lost reported as cut; retransmissions,
 * other events, short and absurd packets. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/actions/transcode.h"
#include "dataplane/codec.h"
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

/* ---- in-band ---- */

static const double rowf[4] = {697, 770, 852, 941}, colf[4] = {1209, 1336, 1477, 1633};
static const char keys[] = "123A456B789C*0#D";

/* @n samples of @f1 + @f2 (Hz; 0 = none) at @db1 / @db2 dBm0 each, G.711 @law, from sample
 * @t0 on; a little noise of its own added (a linear congruential sequence). */
static void tone(uint8_t *out, size_t n, double f1, double db1, double f2, double db2,
		 uint8_t law, uint32_t t0)
{
	static uint32_t rng = 1;
	for (size_t i = 0; i < n; i++) {
		double t = (double)(t0 + i) / 8000.0, v = 0;
		if (f1)
			v += 22706.0 * pow(10, db1 / 20) * sin(2 * M_PI * f1 * t);
		if (f2)
			v += 22706.0 * pow(10, db2 / 20) * sin(2 * M_PI * f2 * t);
		rng = rng * 1103515245u + 12345u;
		v += (double)((int)(rng >> 16 & 0xff) - 128); /* about -48 dBm0 of noise */
		int16_t x = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
		out[i] = law == STREAM_VAD_PCMA ? transcode_linear_to_alaw(x)
						: transcode_linear_to_ulaw(x);
	}
}

/* Feed @pkts packets of 160 samples of a tone (f1, f2, levels), then 5 of silence; returns
 * the reports (at most 4) into @r. */
static unsigned feed(struct stream_dtmf *s, double f1, double db1, double f2, double db2,
		     unsigned pkts, uint8_t law, struct dtmf_report *r)
{
	uint8_t pl[160];
	unsigned n = 0;
	for (unsigned k = 0; k < pkts + 5; k++) {
		if (k < pkts)
			tone(pl, sizeof(pl), f1, db1, f2, db2, law, k * 160);
		else
			tone(pl, sizeof(pl), 0, 0, 0, 0, law, 0);
		struct dtmf_report one;
		if (dtmf_inband(s, pl, sizeof(pl), law, &one) == DTMF_REPORT && n < 4)
			r[n++] = one;
	}
	return n;
}

static void inband_digits_are_heard(void **state)
{
	(void)state;
	transcode_init();
	dtmf_init();
	for (unsigned law = STREAM_VAD_PCMU; law <= STREAM_VAD_PCMA; law++)
		for (unsigned k = 0; k < 16; k++) {
			struct stream_dtmf s = {0};
			struct dtmf_report r[4];
			/* 100 ms at -10 and -12 dBm0 (a typical phone's twist) */
			assert_int_equal(feed(&s, rowf[k / 4], -10, colf[k % 4], -12, 5, (uint8_t)law, r),
					 1);
			assert_int_equal(dtmf_char(r[0].event), keys[k]);
			assert_int_equal(r[0].duration, 800);
			assert_int_equal(r[0].flags, MSG_DTMF_ENDED | MSG_DTMF_INBAND);
			assert_in_range(r[0].volume, 5, 12);
		}
}

static void inband_refuses_what_is_not_a_digit(void **state)
{
	(void)state;
	transcode_init();
	dtmf_init();
	struct stream_dtmf s = {0};
	struct dtmf_report r[4];
	/* one frequency alone, a dial tone, a pair off the grid */
	assert_int_equal(feed(&s, 1000, -10, 0, 0, 10, STREAM_VAD_PCMU, r), 0);
	assert_int_equal(feed(&s, 350, -13, 440, -13, 10, STREAM_VAD_PCMU, r), 0);
	assert_int_equal(feed(&s, 697, -10, 1100, -10, 10, STREAM_VAD_PCMU, r), 0);
	/* too short (20 ms), too quiet (-40 dBm0), too much twist (12 dB) */
	assert_int_equal(feed(&s, 697, -10, 1209, -10, 1, STREAM_VAD_PCMU, r), 0);
	assert_int_equal(feed(&s, 697, -40, 1209, -40, 10, STREAM_VAD_PCMU, r), 0);
	assert_int_equal(feed(&s, 697, -5, 1209, -17, 10, STREAM_VAD_PCMU, r), 0);
	/* two rows at once (speech-like chords) */
	assert_int_equal(feed(&s, 697, -10, 852, -10, 10, STREAM_VAD_PCMU, r), 0);
	/* a digit that becomes another without a pause: both heard */
	uint8_t pl[160];
	unsigned n = 0;
	struct dtmf_report got[4];
	for (unsigned k = 0; k < 14; k++) {
		double f1 = k < 5 ? rowf[0] : k < 10 ? rowf[2] : 0, f2 = k < 5 ? colf[0] : colf[2];
		tone(pl, sizeof(pl), f1, -10, f1 ? f2 : 0, -10, STREAM_VAD_PCMU, k * 160);
		struct dtmf_report one;
		if (dtmf_inband(&s, pl, sizeof(pl), STREAM_VAD_PCMU, &one) == DTMF_REPORT && n < 4)
			got[n++] = one;
	}
	assert_int_equal(n, 2);
	assert_int_equal(dtmf_char(got[0].event), '1');
	assert_int_equal(dtmf_char(got[1].event), '9');
}

/* In-band digits in decoded audio (a transcoding pipeline's): each digit, 100 ms at -10 and
 * -12 dBm0, encoded by each codec and decoded again at the pair's rate, is heard once, with its
 * length; PCM at 16 kHz (two wideband codecs) as well as 8 kHz. */
static void inband_digits_through_codecs(void **state)
{
	(void)state;
	dtmf_init();
	static const struct {
		enum stream_codec c;
		unsigned rate;
	} cs[] = {{STREAM_CODEC_PCMU, 8000}, {STREAM_CODEC_G722, 8000}, {STREAM_CODEC_G722, 16000},
		  {STREAM_CODEC_G729, 8000}, {STREAM_CODEC_OPUS, 8000}, {STREAM_CODEC_OPUS, 16000}};
	for (unsigned ci = 0; ci < sizeof(cs) / sizeof(cs[0]); ci++)
		for (unsigned k = 0; k < 16; k++) {
			unsigned rate = cs[ci].rate, spp = rate / 50; /* 20 ms packets */
			struct codec_enc *e = codec_enc_new(cs[ci].c, rate);
			struct codec_dec *d = codec_dec_new(cs[ci].c, rate);
			assert_non_null(e);
			assert_non_null(d);
			struct stream_dtmf s = {0};
			struct dtmf_report r[4];
			unsigned n = 0;
			for (unsigned p = 0; p < 15; p++) { /* 5 packets of tone, 10 of silence */
				int16_t x[CODEC_MAX_SAMPLES], y[CODEC_MAX_SAMPLES];
				for (unsigned i = 0; i < spp; i++) {
					double t = (double)(p * spp + i) / rate;
					double v = p < 5 ? 22706.0 * (0.316 * sin(2 * M_PI * rowf[k / 4] * t) +
								      0.251 * sin(2 * M_PI * colf[k % 4] * t))
							 : 0;
					x[i] = (int16_t)v;
				}
				uint8_t pl[CODEC_MAX_PAYLOAD];
				int len = codec_encode(e, x, spp, pl);
				assert_true(len > 0);
				assert_int_equal(codec_decode(d, pl, (size_t)len, y), (int)spp);
				struct dtmf_report one;
				if (dtmf_inband_pcm(&s, y, spp, rate, &one) == DTMF_REPORT && n < 4)
					r[n++] = one;
			}
			codec_enc_free(e);
			codec_dec_free(d);
			if (n != 1 || dtmf_char(r[0].event) != keys[k])
				fail_msg("codec %u at %u Hz, digit %c: %u reports, first %c", cs[ci].c,
					 rate, keys[k], n, n ? dtmf_char(r[0].event) : '-');
			/* its length: 100 ms, give or take a packet (a codec's delay); G.729, a
			 * vocoder, smears some blocks of a tone out of the detector's strict
			 * pair test (the digit is still heard, once) */
			unsigned min = cs[ci].c == STREAM_CODEC_G729 ? DTMF_INBAND_MIN : 640;
			if (r[0].duration < min || r[0].duration > 960)
				fail_msg("codec %u at %u Hz, digit %c: %u samples", cs[ci].c, rate,
					 keys[k], r[0].duration);
			assert_int_equal(r[0].flags, MSG_DTMF_ENDED | MSG_DTMF_INBAND);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_report_per_event),
		cmocka_unit_test(lost_ends_are_reported_as_cut),
		cmocka_unit_test(timestamps_wrap),
		cmocka_unit_test(bad_other_and_absurd),
		cmocka_unit_test(inband_digits_are_heard),
		cmocka_unit_test(inband_refuses_what_is_not_a_digit),
		cmocka_unit_test(inband_digits_through_codecs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
