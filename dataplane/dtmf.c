#include "dataplane/dtmf.h"

#include <math.h>

#include "dataplane/actions/transcode.h"
#include "dataplane/rtp.h"
#include "shared/msg.h"

static void report(const struct stream_dtmf *s, uint8_t volume, uint8_t flags,
		   struct dtmf_report *out)
{
	out->event = s->event;
	out->volume = volume;
	out->flags = flags;
	out->duration = s->dur;
}

enum dtmf_verdict dtmf_rx(struct stream_dtmf *s, const uint8_t *rtp, size_t len, bool te,
			  struct dtmf_report *out)
{
	uint32_t ts = rtp_be32(rtp + 4);
	if (!te) {
		/* audio: an event whose end packets were all lost is over once audio runs well
		 * past it */
		if (s->state == STREAM_DTMF_ACTIVE &&
		    (int32_t)(ts - (s->ts + s->dur)) > DTMF_CUT_GAP) {
			s->state = STREAM_DTMF_REPORTED;
			report(s, 0, MSG_DTMF_CUT, out);
			return DTMF_REPORT;
		}
		return DTMF_NONE;
	}
	/* the payload: after the CSRCs and the header extension; padding off the end */
	size_t off, pend;
	if (rtp_payload(rtp, len, &off, &pend) != 0)
		return DTMF_BAD;
	len = pend;
	if (len < off + 4)
		return DTMF_BAD;
	const uint8_t *ev = rtp + off;
	uint8_t event = ev[0], volume = ev[1] & 0x3f;
	bool end = ev[1] & 0x80;
	uint16_t dur = (uint16_t)(ev[2] << 8 | ev[3]);
	if (event > DTMF_MAX_EVENT)
		return DTMF_NONE; /* another kind of event (tones, modem): not a digit */
	enum dtmf_verdict v = DTMF_NONE;
	if (s->state == STREAM_DTMF_IDLE || ts != s->ts) {
		/* a new event; the one before it, never ended, is reported as cut */
		if (s->state == STREAM_DTMF_ACTIVE) {
			report(s, 0, MSG_DTMF_CUT, out);
			v = DTMF_REPORT;
		}
		s->ts = ts;
		s->event = event;
		s->dur = dur;
		s->state = STREAM_DTMF_ACTIVE;
		if (v == DTMF_REPORT)
			return v; /* its own end, if this packet is one, comes again twice */
	} else if (s->state == STREAM_DTMF_REPORTED) {
		return DTMF_NONE; /* a retransmitted end */
	} else if (dur > s->dur) {
		s->dur = dur;
	}
	if (!end)
		return DTMF_NONE;
	s->state = STREAM_DTMF_REPORTED;
	if (s->dur == 0)
		return DTMF_ABSURD;
	report(s, volume, MSG_DTMF_ENDED, out);
	return DTMF_REPORT;
}

/* ---- in-band ---- */

static const float dtmf_freq[8] = {697, 770, 852, 941, 1209, 1336, 1477, 1633};
static float coef[8];       /* 2 cos(2 pi f / 8000) */
static float lin[2][256];   /* G.711 byte -> linear, mu-law [0], A-law [1] */
static const uint8_t digit_of[4][4] = {{1, 2, 3, 12}, {4, 5, 6, 13}, {7, 8, 9, 14},
				       {10, 0, 11, 15}}; /* row x column -> event code */

void dtmf_init(void)
{
	for (unsigned i = 0; i < 8; i++)
		coef[i] = 2.0f * cosf(2.0f * 3.14159265f * dtmf_freq[i] / 8000.0f);
	for (unsigned b = 0; b < 256; b++) {
		lin[0][b] = transcode_ulaw_to_linear((uint8_t)b);
		lin[1][b] = transcode_alaw_to_linear((uint8_t)b);
	}
}

/* The event code of the digit in @x (@n samples at 8 kHz: G.711 bytes through @tab, or
 * 16-bit PCM, @pcm, when @tab is NULL), or -1. */
static int dtmf_block(const uint8_t *x, const int16_t *pcm, size_t n, const float *tab,
		      uint8_t *volume)
{
	float s1[8] = {0}, s2[8] = {0}, e = 0;
	for (size_t i = 0; i < n; i++) {
		float v = tab ? tab[x[i]] : (float)pcm[i];
		e += v * v;
		for (unsigned k = 0; k < 8; k++) {
			float s = v + coef[k] * s1[k] - s2[k];
			s2[k] = s1[k];
			s1[k] = s;
		}
	}
	if (e < 1e5f * (float)n) /* about -34 dBm0 */
		return -1;
	float p[8];
	for (unsigned k = 0; k < 8; k++)
		p[k] = s1[k] * s1[k] + s2[k] * s2[k] - coef[k] * s1[k] * s2[k];
	unsigned r = 0, c = 4;
	for (unsigned k = 1; k < 4; k++) {
		if (p[k] > p[r])
			r = k;
		if (p[4 + k] > p[c])
			c = 4 + k;
	}
	float full = e * (float)n / 2; /* what a pure tone holding all the energy would give */
	if (p[r] < 0.2f * full || p[c] < 0.2f * full || p[r] + p[c] < 0.7f * full)
		return -1;
	if (p[r] > 6.3f * p[c] || p[c] > 6.3f * p[r]) /* twist beyond 8 dB */
		return -1;
	for (unsigned k = 0; k < 4; k++)
		if ((k != r && p[k] > 0.25f * p[r]) || (4 + k != c && p[4 + k] > 0.25f * p[c]))
			return -1;
	/* the level of the pair, dBm0 below 0: 0 dBm0 is a mean square of 16055^2 */
	float db = 10.0f * log10f(e / (float)n / (16055.0f * 16055.0f));
	*volume = db >= 0 ? 0 : db < -63 ? 63 : (uint8_t)(-db);
	return digit_of[r][c - 4];
}

/* One block's digit @d (-1: none) of @n samples at @volume into the tone being followed. */
static enum dtmf_verdict dtmf_inband_step(struct stream_dtmf *s, int d, size_t n,
					  uint8_t volume, struct dtmf_report *out)
{
	bool active = s->state == STREAM_DTMF_ACTIVE;
	if (active && d == s->event) {
		s->ts += (uint32_t)n;
		return DTMF_NONE;
	}
	enum dtmf_verdict v = DTMF_NONE;
	if (active && s->ts >= DTMF_INBAND_MIN) {
		out->event = s->event;
		out->volume = s->dur > 63 ? 63 : (uint8_t)s->dur;
		out->flags = MSG_DTMF_ENDED | MSG_DTMF_INBAND;
		out->duration = s->ts > 0xffff ? 0xffff : (uint16_t)s->ts;
		v = DTMF_REPORT;
	}
	if (d >= 0) {
		s->state = STREAM_DTMF_ACTIVE;
		s->event = (uint8_t)d;
		s->ts = (uint32_t)n;
		s->dur = volume; /* (the level, for the report) */
	} else {
		s->state = STREAM_DTMF_IDLE;
	}
	return v;
}

enum dtmf_verdict dtmf_inband(struct stream_dtmf *s, const uint8_t *payload, size_t n,
			      uint8_t law, struct dtmf_report *out)
{
	uint8_t volume = 0;
	int d = n ? dtmf_block(payload, NULL, n, lin[law == STREAM_VAD_PCMA], &volume) : -1;
	return dtmf_inband_step(s, d, n, volume, out);
}

enum dtmf_verdict dtmf_inband_pcm(struct stream_dtmf *s, const int16_t *pcm, size_t n,
				  unsigned rate, struct dtmf_report *out)
{
	int16_t x[DTMF_INBAND_BLOCK_MAX];
	if (rate == 16000) { /* every other sample: the pairs lie far below 4 kHz */
		n /= 2;
		for (size_t i = 0; i < n && i < DTMF_INBAND_BLOCK_MAX; i++)
			x[i] = pcm[2 * i];
		pcm = x;
	}
	if (n > DTMF_INBAND_BLOCK_MAX)
		n = DTMF_INBAND_BLOCK_MAX;
	uint8_t volume = 0;
	int d = n ? dtmf_block(NULL, pcm, n, NULL, &volume) : -1;
	return dtmf_inband_step(s, d, n, volume, out);
}
