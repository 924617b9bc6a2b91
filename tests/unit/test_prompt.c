/* Prompts (controlplane/media/prompt.c): tone cadences parsed and refused, tone plans and
 * their overrides, tones rendered at their frequencies and lengths, the resampler (a tone
 * keeps its frequency and level, what lies above 4 kHz is filtered out rather than folded
 * down), WAV files in other rates and channel counts, and files that are not audio; a tone
 * encoded for G.722 decodes to the same frequency and level. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sndfile.h>

#include "controlplane/media/prompt.h"
#include "dataplane/actions/transcode.h"
#include "dataplane/codec.h"

/* Relative power of frequency @f in @x (@n samples at 8 kHz), Goertzel. */
static double power_at(const float *x, size_t n, double f)
{
	double c = 2 * cos(2 * M_PI * f / 8000), s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s = x[i] + c * s1 - s2;
		s2 = s1;
		s1 = s;
	}
	return (s1 * s1 + s2 * s2 - c * s1 * s2) / ((double)n * n);
}

static double rms(const float *x, size_t n)
{
	double e = 0;
	for (size_t i = 0; i < n; i++)
		e += (double)x[i] * x[i];
	return sqrt(e / (double)n);
}

static void test_tone_parse(void **state)
{
	(void)state;
	struct tone_seg s[TONE_MAX_SEGS];
	char err[160];
	assert_int_equal(tone_parse("440+480/2000,0/4000", s, TONE_MAX_SEGS, err, sizeof(err)), 2);
	assert_int_equal(s[0].f1, 440);
	assert_int_equal(s[0].f2, 480);
	assert_int_equal(s[0].ms, 2000);
	assert_int_equal(s[1].f1, 0);
	assert_int_equal(s[1].ms, 4000);
	assert_int_equal(tone_parse("425", s, TONE_MAX_SEGS, err, sizeof(err)), 1);
	assert_int_equal(s[0].ms, 1000);
	static const char *const bad[] = {"", "x", "440/", "440+/100", "440/0", "440,0/100",
					  "5000/100", "0+440/100", "440/100;", "440/100,,"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(tone_parse(bad[i], s, TONE_MAX_SEGS, err, sizeof(err)), -1);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(tone_parse("1/1,1/1,1/1", s, 2, err, sizeof(err)), -1);
}

static void test_plans(void **state)
{
	(void)state;
	char err[160];
	static const char extra[][128] = {"ringback=1000/200,0/200", "beep=1400/100"};
	assert_int_equal(prompt_init("eu", extra, 2, err, sizeof(err)), 0);
	assert_int_equal(prompt_init("mars", NULL, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mars"));
	static const char bad[][128] = {"nocadence"};
	assert_int_equal(prompt_init("us", bad, 1, err, sizeof(err)), -1);
	static const char bad2[][128] = {"x=12345"};
	assert_int_equal(prompt_init("us", bad2, 1, err, sizeof(err)), -1);
	assert_int_equal(prompt_init("eu", extra, 2, err, sizeof(err)), 0);
}

/* A tone's prompt decoded: its length and frequency. pt 0xff: Opus. */
static void check_tone(const char *name, uint8_t pt, size_t want_n, double f_on, double f_off)
{
	char err[256];
	const struct stream_prompt *p = pt == 0xff ? prompt_for(name, STREAM_CODEC_OPUS, err,
								sizeof(err))
						   : prompt_get(name, pt, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(p->pt, pt);
	assert_int_equal(p->n_samples, want_n);
	float *x = malloc(p->n_samples * sizeof(*x));
	if (p->pkt) { /* Opus: a packet of its own size per 20 ms */
		assert_int_equal(p->codec, STREAM_CODEC_OPUS);
		assert_int_equal(p->ts_mult, 6);
		struct codec_dec *d = codec_dec_new(STREAM_CODEC_OPUS, 8000);
		int16_t pcm[CODEC_MAX_SAMPLES];
		for (uint32_t i = 0; i < p->n_samples; i += STREAM_PROMPT_PACKET) {
			uint32_t a = p->pkt[i / 160], b = p->pkt[i / 160 + 1];
			assert_true(b > a && b - a <= CODEC_MAX_PAYLOAD);
			assert_int_equal(codec_decode(d, p->data + a, b - a, pcm), 160);
			for (uint32_t j = 0; j < 160; j++)
				x[i + j] = pcm[j];
		}
		codec_dec_free(d);
	} else if (pt == 18) { /* G.729: 10 bytes per 80 samples */
		assert_int_equal(p->shift, 3);
		assert_int_equal(p->frame, 80);
		struct codec_dec *d = codec_dec_new(STREAM_CODEC_G729, 8000);
		int16_t pcm[CODEC_MAX_SAMPLES];
		for (uint32_t i = 0; i < p->n_samples; i += 160) {
			assert_int_equal(codec_decode(d, p->data + i / 8, 20, pcm), 160);
			for (uint32_t j = 0; j < 160; j++)
				x[i + j] = pcm[j];
		}
		codec_dec_free(d);
	} else if (pt == 9) { /* G.722: decoded as a phone would, at 8 kHz */
		struct codec_dec *d = codec_dec_new(STREAM_CODEC_G722, 8000);
		int16_t pcm[CODEC_MAX_SAMPLES];
		for (uint32_t i = 0; i < p->n_samples; i += 160) {
			uint32_t k = p->n_samples - i < 160 ? p->n_samples - i : 160;
			assert_int_equal(codec_decode(d, p->data + i, k, pcm), (int)k);
			for (uint32_t j = 0; j < k; j++)
				x[i + j] = pcm[j];
		}
		codec_dec_free(d);
	} else {
		for (uint32_t i = 0; i < p->n_samples; i++)
			x[i] = pt == 0 ? transcode_ulaw_to_linear(p->data[i])
				       : transcode_alaw_to_linear(p->data[i]);
	}
	size_t n = 1600; /* the first 200 ms: the tone is on */
	/* -13 dBm0: a sine's RMS of 22706 / sqrt(2) * 10^(-13/20) = 3594 (G.729, a vocoder,
	 * keeps the tone but neither its purity nor its level as closely) */
	bool vocoder = pt == 18 || pt == 0xff;
	assert_true(power_at(x, n, f_on) > (vocoder ? 20 : 100) * power_at(x, n, f_off));
	double r = rms(x, n);
	assert_true(vocoder ? r > 2500 && r < 4700 : r > 3400 && r < 3800);
	free(x);
	/* asked again: the same prompt */
	assert_ptr_equal(pt == 0xff ? prompt_for(name, STREAM_CODEC_OPUS, err, sizeof(err))
				    : prompt_get(name, pt, err, sizeof(err)),
			 p);
}

static void test_tones(void **state)
{
	(void)state;
	char err[160];
	assert_int_equal(prompt_init("eu", NULL, 0, err, sizeof(err)), 0);
	check_tone("tone:busy", 0, 8000, 425, 480);    /* 500 on, 500 off */
	check_tone("tone:busy", 8, 8000, 425, 480);
	check_tone("tone:dial", 0, 8000, 425, 350);
	/* for a G.722 leg (music on hold, announcements): the same tone through its codec */
	check_tone("tone:busy", 9, 8000, 425, 480);
	/* and for a G.729 leg */
	check_tone("tone:busy", 18, 8000, 425, 480);
	/* and an Opus leg's (whatever payload type it took) */
	check_tone("tone:busy", 0xff, 8000, 425, 480);
	/* a DTMF digit in-band: its row and column frequency, nothing else of the grid */
	const struct stream_prompt *d = prompt_get("dtmf:8", 0, err, sizeof(err));
	assert_non_null(d);
	float y[1600];
	for (unsigned i = 0; i < 1600; i++)
		y[i] = transcode_ulaw_to_linear(d->data[i]);
	assert_true(power_at(y, 1600, 852) > 100 * power_at(y, 1600, 770));
	assert_true(power_at(y, 1600, 1336) > 100 * power_at(y, 1600, 1209));
	assert_null(prompt_get("dtmf:E", 0, err, sizeof(err)));
	assert_null(prompt_get("dtmf:12", 0, err, sizeof(err)));
	assert_null(prompt_get("tone:nonesuch", 0, err, sizeof(err)));
	assert_non_null(strstr(err, "nonesuch"));
	assert_null(prompt_get("tone:busy", 96, err, sizeof(err))); /* Opus (dynamic): none */
	assert_non_null(strstr(err, "payload type 96"));
	prompt_shutdown();
	assert_int_equal(prompt_count(), 0);
}

static void test_resample(void **state)
{
	(void)state;
	/* 1 s at 44.1 kHz: 1 kHz at full level plus 6 kHz, which 8 kHz cannot carry */
	size_t n = 44100;
	float *in = malloc(n * sizeof(*in));
	for (size_t i = 0; i < n; i++)
		in[i] = (float)(8000 * sin(2 * M_PI * 1000 * i / 44100.0) +
				8000 * sin(2 * M_PI * 6000 * i / 44100.0));
	size_t m = prompt_resampled_len(n, 44100);
	assert_int_equal(m, 8000);
	float *out = malloc(m * sizeof(*out));
	assert_int_equal(prompt_resample(in, n, 1, 44100, out), 8000);
	/* 1 kHz kept at its level; 6 kHz would fold to 2 kHz: filtered out instead */
	double p1 = power_at(out + 100, 7800, 1000), p2 = power_at(out + 100, 7800, 2000);
	assert_true(fabs(sqrt(p1 * 4) - 8000) < 400);
	assert_true(p2 < p1 / 1000);
	free(in);
	free(out);
	/* stereo at 8 kHz: channels mixed */
	float st[8] = {100, 300, 100, 300, -50, 50, 0, 0};
	float mono[4];
	assert_int_equal(prompt_resample(st, 4, 2, 8000, mono), 4);
	assert_true(mono[0] == 200 && mono[2] == 0);
}

static void write_wav(const char *path, int rate, int ch, double secs, double f)
{
	SF_INFO info = {.samplerate = rate, .channels = ch,
			.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
	SNDFILE *s = sf_open(path, SFM_WRITE, &info);
	assert_non_null(s);
	size_t n = (size_t)(rate * secs);
	short *x = malloc(n * (size_t)ch * sizeof(*x));
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < ch; c++)
			x[i * (size_t)ch + (size_t)c] = (short)(10000 * sin(2 * M_PI * f * i / rate));
	assert_int_equal(sf_writef_short(s, x, (sf_count_t)n), (sf_count_t)n);
	sf_close(s);
	free(x);
}

static void test_wav(void **state)
{
	(void)state;
	char dir[] = "/tmp/mgw-prompt-XXXXXX", path[128], err[512];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.wav", dir);
	write_wav(path, 48000, 2, 0.5, 800);
	const struct stream_prompt *p = prompt_get(path, 8, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(p->n_samples, 4000);
	float x[2000];
	for (int i = 0; i < 2000; i++)
		x[i] = transcode_alaw_to_linear(p->data[1000 + i]);
	assert_true(power_at(x, 2000, 800) > 100 * power_at(x, 2000, 1000));
	assert_true(fabs(rms(x, 2000) - 10000 / sqrt(2)) < 500);

	snprintf(path, sizeof(path), "%s/text.wav", dir);
	FILE *f = fopen(path, "w");
	fputs("RIFF but not really a wave file\n", f);
	fclose(f);
	assert_null(prompt_get(path, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "text.wav"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/missing.wav", dir);
	assert_null(prompt_get(path, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "missing.wav"));
	snprintf(path, sizeof(path), "%s/a.wav", dir);
	unlink(path);
	rmdir(dir);
	prompt_shutdown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tone_parse),
		cmocka_unit_test(test_plans),
		cmocka_unit_test(test_tones),
		cmocka_unit_test(test_resample),
		cmocka_unit_test(test_wav),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
