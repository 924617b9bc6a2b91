#include "dataplane/vad.h"

#include "dataplane/actions/transcode.h"
#include "dataplane/rtp.h"
#include "shared/stream.h"

static uint16_t mag[2][256]; /* |linear| of each mu-law [0] and A-law [1] byte */

void vad_init(void)
{
	for (unsigned b = 0; b < 256; b++) {
		int u = transcode_ulaw_to_linear((uint8_t)b), a = transcode_alaw_to_linear((uint8_t)b);
		mag[0][b] = (uint16_t)(u < 0 ? -u : u);
		mag[1][b] = (uint16_t)(a < 0 ? -a : a);
	}
}

bool vad_voice(const uint8_t *rtp, size_t len, uint8_t law)
{
	size_t off, end;
	if (rtp_payload(rtp, len, &off, &end) != 0 || end <= off)
		return false;
	const uint16_t *m = mag[law == STREAM_VAD_PCMA];
	uint32_t sum = 0;
	for (size_t i = off; i < end; i++)
		sum += m[rtp[i]];
	return sum >= (uint32_t)VAD_THRESHOLD * (uint32_t)(end - off);
}

bool vad_voice_pcm(const int16_t *pcm, size_t n)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (uint64_t)(pcm[i] < 0 ? -(int32_t)pcm[i] : pcm[i]);
	return n && sum >= (uint64_t)VAD_THRESHOLD * n;
}
