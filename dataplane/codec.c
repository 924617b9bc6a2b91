#include "dataplane/codec.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bcg729/decoder.h>
#include <bcg729/encoder.h>
#include <opus.h>
#include <spandsp/telephony.h>
#include <spandsp/g722.h>

#include "dataplane/actions/transcode.h"

#define G722_BITRATE 64000
#define G729_FRAME 80      /* samples of one 10 ms frame */
#define G729_FRAME_BYTES 10
#define G729_SID_BYTES 2   /* annex B's comfort noise update */
#define OPUS_RTP_CLOCK 48000
#define OPUS_BITRATE_NB 16000
#define OPUS_BITRATE_WB 24000
/* Opus's effort (0-10): 5 keeps speech quality close to libopus's default (9) at about half
 * the encoder's cycles, which is what sets transcoding calls per core; media.opus_complexity */
static unsigned opus_complexity = 5;

void codec_opus_complexity(unsigned complexity)
{
	opus_complexity = complexity > 10 ? 10 : complexity;
}
#define OPUS_LOSS_PERC 5   /* what the encoder protects against with in-band FEC */
#define PLC_FADE_FRAMES 4  /* G.711/G.722 concealment: silent after this many losses */

static const struct codec_info infos[STREAM_CODEC_COUNT] = {
	[STREAM_CODEC_PCMU] = {"PCMU", 8000, 1, 0, false, NULL},
	[STREAM_CODEC_PCMA] = {"PCMA", 8000, 1, 8, false, NULL},
	[STREAM_CODEC_G722] = {"G722", 8000, 1, 9, true, NULL},
	[STREAM_CODEC_G729] = {"G729", 8000, 1, 18, false, "annexb=no"},
	[STREAM_CODEC_OPUS] = {"opus", OPUS_RTP_CLOCK, 2, 0xff, true, "useinbandfec=1"},
};

const struct codec_info *codec_info(enum stream_codec c)
{
	return c > STREAM_CODEC_NONE && c < STREAM_CODEC_COUNT ? &infos[c] : NULL;
}

enum stream_codec codec_by_name(const char *name, uint32_t clock)
{
	for (int c = STREAM_CODEC_NONE + 1; c < STREAM_CODEC_COUNT; c++)
		if (strcasecmp(infos[c].name, name) == 0 && infos[c].rtp_clock == clock)
			return (enum stream_codec)c;
	return STREAM_CODEC_NONE;
}

enum stream_codec codec_named(const char *name)
{
	for (int c = STREAM_CODEC_NONE + 1; c < STREAM_CODEC_COUNT; c++)
		if (strcasecmp(infos[c].name, name) == 0)
			return (enum stream_codec)c;
	return STREAM_CODEC_NONE;
}

unsigned codec_pair_rate(enum stream_codec a, enum stream_codec b)
{
	const struct codec_info *ia = codec_info(a), *ib = codec_info(b);
	return ia && ib && ia->wideband && ib->wideband ? 16000 : 8000;
}

bool codec_ptime_ok(enum stream_codec c, unsigned ptime_ms)
{
	switch (c) {
	case STREAM_CODEC_OPUS:
		return ptime_ms == 10 || ptime_ms == 20 || ptime_ms == 40 || ptime_ms == 60;
	case STREAM_CODEC_G729:
		return ptime_ms >= 10 && ptime_ms <= 60 && ptime_ms % 10 == 0;
	default:
		return ptime_ms >= 10 && ptime_ms <= 60 && ptime_ms % 5 == 0;
	}
}

struct codec_dec {
	enum stream_codec codec;
	unsigned rate;
	union {
		g722_decode_state_t *g722;
		bcg729DecoderChannelContextStruct *g729;
		OpusDecoder *opus;
	} u;
	/* G.711/G.722 concealment: the last packet's audio, and how many losses in a row */
	unsigned last_n, lost_run;
	int16_t last[CODEC_MAX_SAMPLES];
};

struct codec_enc {
	enum stream_codec codec;
	unsigned rate;
	union {
		g722_encode_state_t *g722;
		bcg729EncoderChannelContextStruct *g729;
		OpusEncoder *opus;
	} u;
};

struct codec_dec *codec_dec_new(enum stream_codec c, unsigned rate)
{
	if (!codec_info(c) || (rate != 8000 && rate != 16000) ||
	    (rate == 16000 && !codec_info(c)->wideband))
		return NULL;
	struct codec_dec *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->codec = c;
	d->rate = rate;
	int err = 0;
	switch (c) {
	case STREAM_CODEC_G722:
		d->u.g722 = g722_decode_init(NULL, G722_BITRATE,
					     rate == 8000 ? G722_SAMPLE_RATE_8000 : 0);
		err = !d->u.g722;
		break;
	case STREAM_CODEC_G729:
		d->u.g729 = initBcg729DecoderChannel();
		err = !d->u.g729;
		break;
	case STREAM_CODEC_OPUS:
		d->u.opus = opus_decoder_create((opus_int32)rate, 1, &err);
		break;
	default:
		break;
	}
	if (err) {
		free(d);
		return NULL;
	}
	return d;
}

void codec_dec_free(struct codec_dec *d)
{
	if (!d)
		return;
	if (d->codec == STREAM_CODEC_G722 && d->u.g722)
		g722_decode_free(d->u.g722);
	else if (d->codec == STREAM_CODEC_G729 && d->u.g729)
		closeBcg729DecoderChannel(d->u.g729);
	else if (d->codec == STREAM_CODEC_OPUS && d->u.opus)
		opus_decoder_destroy(d->u.opus);
	free(d);
}

/* G.729: 10-byte frames, optionally ending in one 2-byte SID frame (annex B). */
static int dec_g729(struct codec_dec *d, const uint8_t *in, size_t len, int16_t *pcm)
{
	size_t frames = len / G729_FRAME_BYTES, rest = len % G729_FRAME_BYTES;
	if ((rest != 0 && rest != G729_SID_BYTES) || len == 0 ||
	    (frames + (rest ? 1 : 0)) * G729_FRAME > CODEC_MAX_SAMPLES)
		return -1;
	unsigned n = 0;
	for (size_t f = 0; f < frames; f++, n += G729_FRAME)
		bcg729Decoder(d->u.g729, in + f * G729_FRAME_BYTES, G729_FRAME_BYTES, 0, 0, 0,
			      pcm + n);
	if (rest) {
		bcg729Decoder(d->u.g729, in + frames * G729_FRAME_BYTES, G729_SID_BYTES, 0, 1, 0,
			      pcm + n);
		n += G729_FRAME;
	}
	return (int)n;
}

int codec_decode(struct codec_dec *d, const uint8_t *in, size_t len, int16_t *pcm)
{
	int n = -1;
	switch (d->codec) {
	case STREAM_CODEC_PCMU:
	case STREAM_CODEC_PCMA:
		if (len == 0 || len > CODEC_MAX_SAMPLES || d->rate != 8000)
			return -1;
		for (size_t i = 0; i < len; i++)
			pcm[i] = d->codec == STREAM_CODEC_PCMU ? transcode_ulaw_to_linear(in[i])
							       : transcode_alaw_to_linear(in[i]);
		n = (int)len;
		break;
	case STREAM_CODEC_G722:
		if (len == 0 || len * (d->rate / 8000) > CODEC_MAX_SAMPLES)
			return -1;
		n = g722_decode(d->u.g722, pcm, in, (int)len);
		break;
	case STREAM_CODEC_G729:
		n = dec_g729(d, in, len, pcm);
		break;
	case STREAM_CODEC_OPUS: {
		int k = len ? opus_packet_get_nb_samples(in, (opus_int32)len, (opus_int32)d->rate)
			    : -1;
		if (k <= 0 || k > CODEC_MAX_SAMPLES)
			return -1;
		n = opus_decode(d->u.opus, in, (opus_int32)len, pcm, CODEC_MAX_SAMPLES, 0);
		break;
	}
	default:
		break;
	}
	if (n <= 0)
		return -1;
	if (d->codec == STREAM_CODEC_PCMU || d->codec == STREAM_CODEC_PCMA ||
	    d->codec == STREAM_CODEC_G722) {
		memcpy(d->last, pcm, (size_t)n * sizeof(*pcm));
		d->last_n = (unsigned)n;
		d->lost_run = 0;
	}
	return n;
}

/* The last packet's audio again, half as loud each time, then silence; cycled when the lost
 * packet is longer than the last one. */
static void conceal_repeat(struct codec_dec *d, unsigned samples, int16_t *pcm)
{
	unsigned run = ++d->lost_run;
	if (!d->last_n || run > PLC_FADE_FRAMES) {
		memset(pcm, 0, samples * sizeof(*pcm));
		return;
	}
	for (unsigned i = 0; i < samples; i++)
		pcm[i] = (int16_t)(d->last[i % d->last_n] >> run);
}

int codec_conceal(struct codec_dec *d, const uint8_t *next, size_t next_len, unsigned samples,
		  int16_t *pcm)
{
	if (samples > CODEC_MAX_SAMPLES)
		samples = CODEC_MAX_SAMPLES;
	switch (d->codec) {
	case STREAM_CODEC_G729: {
		unsigned n = 0;
		for (; n + G729_FRAME <= samples; n += G729_FRAME)
			bcg729Decoder(d->u.g729, NULL, 0, 1, 0, 0, pcm + n);
		if (n < samples)
			memset(pcm + n, 0, (samples - n) * sizeof(*pcm));
		return (int)samples;
	}
	case STREAM_CODEC_OPUS: {
		/* Opus conceals in steps of 2.5 ms */
		unsigned step = d->rate / 400, n = samples / step * step;
		int k = -1;
		if (n && next && next_len)
			k = opus_decode(d->u.opus, next, (opus_int32)next_len, pcm, (int)n, 1);
		if (k <= 0 && n)
			k = opus_decode(d->u.opus, NULL, 0, pcm, (int)n, 0);
		if (k < 0)
			k = 0;
		if ((unsigned)k < samples)
			memset(pcm + k, 0, (samples - (unsigned)k) * sizeof(*pcm));
		return (int)samples;
	}
	default:
		conceal_repeat(d, samples, pcm);
		return (int)samples;
	}
}

struct codec_enc *codec_enc_new(enum stream_codec c, unsigned rate)
{
	if (!codec_info(c) || (rate != 8000 && rate != 16000) ||
	    (rate == 16000 && !codec_info(c)->wideband))
		return NULL;
	struct codec_enc *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->codec = c;
	e->rate = rate;
	int err = 0;
	switch (c) {
	case STREAM_CODEC_G722:
		e->u.g722 = g722_encode_init(NULL, G722_BITRATE,
					     rate == 8000 ? G722_SAMPLE_RATE_8000 : 0);
		err = !e->u.g722;
		break;
	case STREAM_CODEC_G729:
		e->u.g729 = initBcg729EncoderChannel(0);
		err = !e->u.g729;
		break;
	case STREAM_CODEC_OPUS:
		e->u.opus = opus_encoder_create((opus_int32)rate, 1, OPUS_APPLICATION_VOIP, &err);
		if (!err) {
			opus_encoder_ctl(e->u.opus, OPUS_SET_BITRATE(rate == 8000 ? OPUS_BITRATE_NB
										: OPUS_BITRATE_WB));
			opus_encoder_ctl(e->u.opus, OPUS_SET_COMPLEXITY((opus_int32)opus_complexity));
			opus_encoder_ctl(e->u.opus, OPUS_SET_INBAND_FEC(1));
			opus_encoder_ctl(e->u.opus, OPUS_SET_PACKET_LOSS_PERC(OPUS_LOSS_PERC));
			opus_encoder_ctl(e->u.opus, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
		}
		break;
	default:
		break;
	}
	if (err) {
		free(e);
		return NULL;
	}
	return e;
}

void codec_enc_free(struct codec_enc *e)
{
	if (!e)
		return;
	if (e->codec == STREAM_CODEC_G722 && e->u.g722)
		g722_encode_free(e->u.g722);
	else if (e->codec == STREAM_CODEC_G729 && e->u.g729)
		closeBcg729EncoderChannel(e->u.g729);
	else if (e->codec == STREAM_CODEC_OPUS && e->u.opus)
		opus_encoder_destroy(e->u.opus);
	free(e);
}

int codec_encode(struct codec_enc *e, const int16_t *pcm, unsigned n, uint8_t *out)
{
	if (n == 0 || n > CODEC_MAX_SAMPLES)
		return -1;
	switch (e->codec) {
	case STREAM_CODEC_PCMU:
	case STREAM_CODEC_PCMA:
		if (n > CODEC_MAX_PAYLOAD)
			return -1;
		transcode_encode(pcm, n, out, e->codec == STREAM_CODEC_PCMA);
		return (int)n;
	case STREAM_CODEC_G722:
		return g722_encode(e->u.g722, out, pcm, (int)n);
	case STREAM_CODEC_G729: {
		if (n % G729_FRAME)
			return -1;
		int len = 0;
		for (unsigned f = 0; f < n; f += G729_FRAME) {
			uint8_t k = 0;
			bcg729Encoder(e->u.g729, pcm + f, out + len, &k);
			len += k;
		}
		return len;
	}
	case STREAM_CODEC_OPUS: {
		int k = opus_encode(e->u.opus, pcm, (int)n, out, CODEC_MAX_PAYLOAD);
		return k > 0 ? k : -1;
	}
	default:
		return -1;
	}
}
