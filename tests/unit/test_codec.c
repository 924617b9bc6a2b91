/* Unit tests for the codecs behind the transcoding pipeline (dataplane/codec.c): each codec's
 * round trip carries a tone at the pipeline's rates (its frequency and level heard again),
 * payload sizes are what the codec's RFC says, lost packets are concealed (Opus from the next
 * packet's FEC), and payloads a codec cannot hold are refused rather than decoded. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/actions/transcode.h"
#include "dataplane/codec.h"

#define TONE_AMP 8000.0
#define PACKETS 50 /* one second of 20 ms packets */

static int setup(void **state)
{
	(void)state;
	transcode_init();
	return 0;
}

static void tone(int16_t *out, unsigned n, unsigned rate, double hz, unsigned *phase)
{
	for (unsigned i = 0; i < n; i++, (*phase)++)
		out[i] = (int16_t)(TONE_AMP * sin(2 * M_PI * hz * *phase / rate));
}

/* The share of @x's energy at @hz (Goertzel), and its RMS level. */
static double tone_share(const int16_t *x, unsigned n, unsigned rate, double hz, double *rms)
{
	double w = 2 * M_PI * hz / rate, k = 2 * cos(w), s1 = 0, s2 = 0, e = 0;
	for (unsigned i = 0; i < n; i++) {
		double s0 = x[i] + k * s1 - s2;
		s2 = s1;
		s1 = s0;
		e += (double)x[i] * x[i];
	}
	double p = s1 * s1 + s2 * s2 - k * s1 * s2;
	*rms = sqrt(e / n);
	return e > 0 ? 2 * p / (n * e) : 0;
}

/* Encode one second of a tone in 20 ms packets, decode it, and listen to the last half
 * (codecs need a few packets to settle). */
static void round_trip(enum stream_codec c, unsigned rate, double hz, size_t want_len)
{
	struct codec_enc *e = codec_enc_new(c, rate);
	struct codec_dec *d = codec_dec_new(c, rate);
	assert_non_null(e);
	assert_non_null(d);
	unsigned spf = rate / 50, phase = 0, got = 0;
	int16_t *heard = calloc(PACKETS * CODEC_MAX_SAMPLES, sizeof(int16_t));
	assert_non_null(heard);
	for (unsigned p = 0; p < PACKETS; p++) {
		int16_t pcm[CODEC_MAX_SAMPLES];
		uint8_t pay[CODEC_MAX_PAYLOAD];
		tone(pcm, spf, rate, hz, &phase);
		int len = codec_encode(e, pcm, spf, pay);
		assert_true(len > 0);
		if (want_len)
			assert_int_equal(len, want_len);
		int n = codec_decode(d, pay, (size_t)len, heard + got);
		assert_int_equal(n, spf);
		got += (unsigned)n;
	}
	double rms;
	double share = tone_share(heard + got / 2, got / 2, rate, hz, &rms);
	print_message("%s at %u Hz: %.0f Hz tone share %.3f, rms %.0f (sent %.0f)\n",
		      codec_info(c)->name, rate, hz, share, rms, TONE_AMP / sqrt(2));
	assert_true(share > 0.9);
	assert_true(rms > TONE_AMP / sqrt(2) * 0.5 && rms < TONE_AMP / sqrt(2) * 1.5);
	/* a tone 2 % off is not this one: the measure can fail */
	double off = tone_share(heard + got / 2, got / 2, rate, hz * 1.1, &rms);
	assert_true(off < 0.5);
	free(heard);
	codec_enc_free(e);
	codec_dec_free(d);
}

static void g711_round_trip(void **state)
{
	(void)state;
	round_trip(STREAM_CODEC_PCMU, 8000, 1000, 160);
	round_trip(STREAM_CODEC_PCMA, 8000, 1000, 160);
}

static void g722_round_trip_wide_and_narrow(void **state)
{
	(void)state;
	/* 64 kbit/s: 160 bytes per 20 ms whether the PCM side is 16 or 8 kHz */
	round_trip(STREAM_CODEC_G722, 16000, 5000, 160); /* above narrowband's reach */
	round_trip(STREAM_CODEC_G722, 8000, 1000, 160);
}

static void g729_round_trip(void **state)
{
	(void)state;
	round_trip(STREAM_CODEC_G729, 8000, 700, 20); /* two 10-byte frames per 20 ms */
}

static void opus_round_trip(void **state)
{
	(void)state;
	round_trip(STREAM_CODEC_OPUS, 16000, 1000, 0);
	round_trip(STREAM_CODEC_OPUS, 8000, 600, 0);
}

static void narrowband_codecs_refuse_wideband_pcm(void **state)
{
	(void)state;
	assert_null(codec_dec_new(STREAM_CODEC_PCMU, 16000));
	assert_null(codec_enc_new(STREAM_CODEC_G729, 16000));
	assert_null(codec_enc_new(STREAM_CODEC_NONE, 8000));
	assert_int_equal(codec_pair_rate(STREAM_CODEC_G722, STREAM_CODEC_OPUS), 16000);
	assert_int_equal(codec_pair_rate(STREAM_CODEC_G722, STREAM_CODEC_PCMU), 8000);
	assert_false(codec_ptime_ok(STREAM_CODEC_OPUS, 30));
	assert_true(codec_ptime_ok(STREAM_CODEC_PCMA, 30));
	assert_int_equal(codec_by_name("g722", 8000), STREAM_CODEC_G722);
	assert_int_equal(codec_by_name("OPUS", 48000), STREAM_CODEC_OPUS);
	assert_int_equal(codec_by_name("opus", 8000), STREAM_CODEC_NONE);
}

static void bad_payloads_are_refused(void **state)
{
	(void)state;
	int16_t pcm[CODEC_MAX_SAMPLES];
	uint8_t junk[1500];
	memset(junk, 0xa5, sizeof(junk));
	struct codec_dec *g729 = codec_dec_new(STREAM_CODEC_G729, 8000);
	struct codec_dec *opus = codec_dec_new(STREAM_CODEC_OPUS, 16000);
	struct codec_dec *pcmu = codec_dec_new(STREAM_CODEC_PCMU, 8000);
	assert_int_equal(codec_decode(g729, junk, 7, pcm), -1);   /* not 10n or 10n + 2 */
	assert_int_equal(codec_decode(g729, junk, 0, pcm), -1);
	assert_int_equal(codec_decode(g729, junk, 130, pcm), -1); /* 130 ms: too long */
	assert_int_equal(codec_decode(g729, junk, 12, pcm), 160); /* a frame and a SID */
	assert_int_equal(codec_decode(opus, junk, 0, pcm), -1);
	/* TOC 0xff: code 3 with a frame count byte of 0: not an Opus packet */
	uint8_t bad_opus[2] = {0xff, 0x00};
	assert_int_equal(codec_decode(opus, bad_opus, sizeof(bad_opus), pcm), -1);
	/* 120 ms of Opus (code 3, six 20 ms frames) is more than a packet the pipeline takes */
	uint8_t long_opus[8] = {0x0b, 0x06, 0, 0, 0, 0, 0, 0};
	assert_int_equal(codec_decode(opus, long_opus, sizeof(long_opus), pcm), -1);
	assert_int_equal(codec_decode(pcmu, junk, 1000, pcm), -1);
	codec_dec_free(g729);
	codec_dec_free(opus);
	codec_dec_free(pcmu);
}

/* A lost packet: G.711 repeats the last one fading, and is silent after a few. */
static void g711_conceals_by_fading_repeat(void **state)
{
	(void)state;
	struct codec_dec *d = codec_dec_new(STREAM_CODEC_PCMU, 8000);
	struct codec_enc *e = codec_enc_new(STREAM_CODEC_PCMU, 8000);
	int16_t pcm[160], out[160];
	uint8_t pay[CODEC_MAX_PAYLOAD];
	unsigned phase = 0;
	tone(pcm, 160, 8000, 1000, &phase);
	int len = codec_encode(e, pcm, 160, pay);
	assert_int_equal(codec_decode(d, pay, (size_t)len, out), 160);
	double rms0, rms1, rms5;
	tone_share(out, 160, 8000, 1000, &rms0);
	assert_int_equal(codec_conceal(d, NULL, 0, 160, out), 160);
	double share = tone_share(out, 160, 8000, 1000, &rms1);
	assert_true(share > 0.9);
	assert_true(rms1 < rms0 * 0.6 && rms1 > rms0 * 0.4);
	for (int i = 0; i < 4; i++)
		codec_conceal(d, NULL, 0, 160, out);
	tone_share(out, 160, 8000, 1000, &rms5);
	assert_true(rms5 == 0);
	codec_dec_free(d);
	codec_enc_free(e);
}

/* Opus with a packet lost: concealed from the next packet (its in-band FEC when it carries
 * one, the decoder's own concealment otherwise): the gap holds the tone, not silence. */
static void opus_conceals_from_fec(void **state)
{
	(void)state;
	struct codec_enc *e = codec_enc_new(STREAM_CODEC_OPUS, 16000);
	struct codec_dec *d = codec_dec_new(STREAM_CODEC_OPUS, 16000);
	struct codec_dec *d2 = codec_dec_new(STREAM_CODEC_OPUS, 16000);
	int16_t pcm[320], out[CODEC_MAX_SAMPLES];
	uint8_t pay[30][CODEC_MAX_PAYLOAD];
	int len[30];
	unsigned phase = 0;
	for (int p = 0; p < 30; p++) {
		tone(pcm, 320, 16000, 800, &phase);
		len[p] = codec_encode(e, pcm, 320, pay[p]);
		assert_true(len[p] > 0);
	}
	for (int p = 0; p < 20; p++) {
		codec_decode(d, pay[p], (size_t)len[p], out);
		codec_decode(d2, pay[p], (size_t)len[p], out);
	}
	/* packet 20 lost */
	double rms_fec, rms_plc;
	assert_int_equal(codec_conceal(d, pay[21], (size_t)len[21], 320, out), 320);
	double fec = tone_share(out, 320, 16000, 800, &rms_fec);
	assert_int_equal(codec_conceal(d2, NULL, 0, 320, out), 320);
	tone_share(out, 320, 16000, 800, &rms_plc);
	print_message("opus: FEC share %.3f rms %.0f, PLC rms %.0f\n", fec, rms_fec, rms_plc);
	assert_true(fec > 0.8);
	assert_true(rms_fec > TONE_AMP / sqrt(2) * 0.3);
	/* and decoding goes on with the packet after */
	assert_int_equal(codec_decode(d, pay[21], (size_t)len[21], out), 320);
	codec_enc_free(e);
	codec_dec_free(d);
	codec_dec_free(d2);
}

static void g729_conceals_with_its_own_erasure(void **state)
{
	(void)state;
	struct codec_dec *d = codec_dec_new(STREAM_CODEC_G729, 8000);
	struct codec_enc *e = codec_enc_new(STREAM_CODEC_G729, 8000);
	int16_t pcm[160], out[CODEC_MAX_SAMPLES];
	uint8_t pay[CODEC_MAX_PAYLOAD];
	unsigned phase = 0;
	for (int p = 0; p < 20; p++) {
		tone(pcm, 160, 8000, 700, &phase);
		int len = codec_encode(e, pcm, 160, pay);
		codec_decode(d, pay, (size_t)len, out);
	}
	double rms;
	assert_int_equal(codec_conceal(d, NULL, 0, 160, out), 160);
	tone_share(out, 160, 8000, 700, &rms);
	assert_true(rms > 100); /* the erasure goes on with the last excitation */
	codec_dec_free(d);
	codec_enc_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(g711_round_trip),
		cmocka_unit_test(g722_round_trip_wide_and_narrow),
		cmocka_unit_test(g729_round_trip),
		cmocka_unit_test(opus_round_trip),
		cmocka_unit_test(narrowband_codecs_refuse_wideband_pcm),
		cmocka_unit_test(bad_payloads_are_refused),
		cmocka_unit_test(g711_conceals_by_fading_repeat),
		cmocka_unit_test(opus_conceals_from_fec),
		cmocka_unit_test(g729_conceals_with_its_own_erasure),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
