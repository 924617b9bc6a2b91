/* audio: the benches' audio loops (see audio.h). */
#include "bench/audio.h"

#include <math.h>
#include <stdlib.h>
#include <strings.h>

#include "dataplane/codec.h"

/* A second of something like speech: a voice of varying pitch with its harmonics, its level
 * rising and falling a few times a second, over a little noise. */
static void audio_voice(int16_t *x, unsigned n, unsigned rate)
{
	double ph = 0;
	uint32_t r = 12345;
	for (unsigned i = 0; i < n; i++) {
		double t = (double)i / rate;
		double f0 = 140 + 40 * sin(2 * M_PI * 1.3 * t);
		double env = 0.55 + 0.45 * sin(2 * M_PI * 3.1 * t);
		ph += 2 * M_PI * f0 / rate;
		double v = sin(ph) + 0.6 * sin(2 * ph) + 0.4 * sin(3 * ph) + 0.25 * sin(5 * ph);
		r = r * 1103515245u + 12345u;
		x[i] = (int16_t)(env * 6000 * v + (double)((r >> 16) % 401) - 200);
	}
}

static int audio_encode_loop(struct flow_audio *a, unsigned side, enum stream_codec c)
{
	unsigned rate = codec_info(c)->wideband ? 16000 : 8000, spf = rate / 50;
	struct codec_enc *e = codec_enc_new(c, rate);
	int16_t *x = malloc(sizeof(int16_t) * rate);
	int rc = e && x ? 0 : -1;
	if (rc == 0)
		audio_voice(x, rate, rate);
	for (unsigned k = 0; rc == 0 && k < FLOW_AUDIO_PACKETS; k++) {
		int n = codec_encode(e, x + k * spf, spf, a->data[side][k]);
		if (n <= 0 || n > FLOW_AUDIO_MAX)
			rc = -1;
		else
			a->len[side][k] = (uint16_t)n;
	}
	const struct codec_info *ci = codec_info(c);
	a->pt[side] = ci->static_pt != 0xff ? ci->static_pt : AUDIO_OPUS_PT;
	a->ts_step[side] = ci->rtp_clock / 50;
	codec_enc_free(e);
	free(x);
	return rc;
}

struct flow_audio *audio_loops_new(const char *codec)
{
	enum stream_codec c = codec_named(codec);
	struct flow_audio *a = c != STREAM_CODEC_NONE ? calloc(1, sizeof(*a)) : NULL;
	if (!a)
		return NULL;
	a->codec_b = codec_info(c)->name;
	a->clock_b = codec_info(c)->rtp_clock;
	if (audio_encode_loop(a, 0, STREAM_CODEC_PCMU) != 0 || audio_encode_loop(a, 1, c) != 0) {
		free(a);
		return NULL;
	}
	return a;
}
