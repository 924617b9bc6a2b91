#include <stdbool.h>

#include "dataplane/actions/transcode.h"

#include "dataplane/rtp.h"

#define ULAW_BIAS 0x84	  /* G.711 mu-law: 33 in 14-bit units, << 2 */
#define ULAW_CLIP 32635	  /* largest magnitude whose biased value fits in 15 bits */
#define ALAW_INVERT 0x55  /* G.711 A-law: even bits inverted on the line */
#define ALAW_CLIP 4095	  /* largest 13-bit magnitude; -32768 >> 3 would be 4096 */
#define G711_SIGN 0x80
#define G711_SEG_SHIFT 4
#define G711_MANT_MASK 0x0f

#define RTP_FIXED_LEN 12
#define RTP_VERSION 2

static uint8_t transcode_u2a[256];
static uint8_t transcode_a2u[256];
/* every 16-bit sample's code, for encoding whole packets (the pipelines): 64 KiB per law */
static uint8_t transcode_l2u[65536];
static uint8_t transcode_l2a[65536];
static bool transcode_ready;

int16_t transcode_ulaw_to_linear(uint8_t u)
{
	uint8_t c = (uint8_t)~u;
	unsigned seg = (c >> G711_SEG_SHIFT) & 7;
	int mag = ((((c & G711_MANT_MASK) << 3) + ULAW_BIAS) << seg) - ULAW_BIAS;

	/* after the inversion a set sign bit means negative */
	return (int16_t)((c & G711_SIGN) ? -mag : mag);
}

int16_t transcode_alaw_to_linear(uint8_t a)
{
	uint8_t c = a ^ ALAW_INVERT;
	unsigned seg = (c >> G711_SEG_SHIFT) & 7;
	int mant = c & G711_MANT_MASK;
	/* the reconstruction level is the middle of the interval: (2 * mant + 1) in segment 0,
	 * (2 * mant + 33) << (seg - 1) above, in 13-bit units; << 3 for 16 bits */
	int mag = seg ? ((mant << 4) + 0x108) << (seg - 1) : (mant << 4) + 8;

	/* A-law: a set sign bit means positive */
	return (int16_t)((c & G711_SIGN) ? mag : -mag);
}

uint8_t transcode_linear_to_ulaw(int16_t x)
{
	uint8_t sign = x < 0 ? G711_SIGN : 0;
	int32_t mag = x < 0 ? -(int32_t)x : x;
	unsigned seg = 0;

	if (mag > ULAW_CLIP)
		mag = ULAW_CLIP;
	mag += ULAW_BIAS;
	/* segment s ends below biased magnitude 0x100 << s */
	while (seg < 7 && mag >= (0x100 << seg))
		seg++;
	return (uint8_t)~(sign | seg << G711_SEG_SHIFT | ((mag >> (seg + 3)) & G711_MANT_MASK));
}

uint8_t transcode_linear_to_alaw(int16_t x)
{
	/* sign and magnitude, as G.711 defines its thresholds, so that the table is symmetric */
	uint8_t sign = x < 0 ? 0 : G711_SIGN;
	int32_t mag = (x < 0 ? -(int32_t)x : x) >> 3; /* the 13-bit code's magnitude */
	unsigned seg = 0, mant;

	if (mag > ALAW_CLIP)
		mag = ALAW_CLIP;
	/* segments 0 and 1 share the step; segment s >= 1 holds [16 << s, 32 << s) */
	while (seg < 7 && mag >= (32 << seg))
		seg++;
	mant = (mag >> (seg ? seg : 1)) & G711_MANT_MASK;
	return (uint8_t)((sign | seg << G711_SEG_SHIFT | mant) ^ ALAW_INVERT);
}

void transcode_init(void)
{
	if (transcode_ready)
		return;
	for (unsigned c = 0; c < 256; c++) {
		transcode_u2a[c] = transcode_linear_to_alaw(transcode_ulaw_to_linear((uint8_t)c));
		transcode_a2u[c] = transcode_linear_to_ulaw(transcode_alaw_to_linear((uint8_t)c));
	}
	for (unsigned x = 0; x < 65536; x++) {
		transcode_l2u[x] = transcode_linear_to_ulaw((int16_t)(uint16_t)x);
		transcode_l2a[x] = transcode_linear_to_alaw((int16_t)(uint16_t)x);
	}
	transcode_ready = true;
}

void transcode_encode(const int16_t *pcm, size_t n, uint8_t *out, int alaw)
{
	if (!transcode_ready) {
		for (size_t i = 0; i < n; i++)
			out[i] = alaw ? transcode_linear_to_alaw(pcm[i])
				      : transcode_linear_to_ulaw(pcm[i]);
		return;
	}
	const uint8_t *tab = alaw ? transcode_l2a : transcode_l2u;
	for (size_t i = 0; i < n; i++)
		out[i] = tab[(uint16_t)pcm[i]];
}

void transcode_g711(uint8_t *payload, size_t n, enum stream_g711 dir)
{
	const uint8_t *tab;

	if (dir == STREAM_G711_U2A)
		tab = transcode_u2a;
	else if (dir == STREAM_G711_A2U)
		tab = transcode_a2u;
	else
		return;
	for (size_t i = 0; i < n; i++)
		payload[i] = tab[payload[i]];
}

int transcode_rtp(uint8_t *rtp, size_t len, const struct stream_pt_map *map)
{
	size_t off, end;
	uint8_t pt;

	if (len < RTP_FIXED_LEN)
		return -1;
	if (rtp[0] >> 6 != RTP_VERSION)
		return 0;
	if (rtp_payload(rtp, len, &off, &end) < 0)
		return -1;
	pt = rtp[1] & 0x7f;
	if (pt == map->audio_in) {
		int changed = map->audio_out != pt;

		rtp[1] = (uint8_t)((rtp[1] & 0x80) | (map->audio_out & 0x7f));
		if ((map->g711 == STREAM_G711_U2A || map->g711 == STREAM_G711_A2U) && end > off) {
			transcode_g711(rtp + off, end - off, (enum stream_g711)map->g711);
			changed = 1;
		}
		return changed;
	}
	if (pt == map->te_in) {
		if (map->te_out == STREAM_PT_DROP)
			return -2;
		rtp[1] = (uint8_t)((rtp[1] & 0x80) | (map->te_out & 0x7f));
		return map->te_out != pt;
	}
	return 0;
}
