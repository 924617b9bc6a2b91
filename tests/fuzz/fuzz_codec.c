/* Fuzz target: what a peer may put in the packets of a transcoded call, through the pieces
 * of the pipeline that read it (dataplane/jbuf.c, dataplane/codec.c) as xcode.c strings them:
 * packets in any order, sizes and contents into the jitter buffer, each playout step decoded
 * (or concealed, Opus from the next packet) and the PCM encoded into the other codec.
 *
 * Input: byte 0 picks the codec pair (receiving codec, sending codec, PCM rate); then
 * packets, each [length][sequence: 2 bytes][steps to run after it][payload: length bytes]. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/actions/transcode.h"
#include "dataplane/codec.h"
#include "dataplane/jbuf.h"

static const enum stream_codec codecs[] = {STREAM_CODEC_PCMU, STREAM_CODEC_PCMA,
					   STREAM_CODEC_G722, STREAM_CODEC_G729, STREAM_CODEC_OPUS};
#define N_CODECS (sizeof(codecs) / sizeof(codecs[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct jbuf jb;
	if (size < 1)
		return 0;
	transcode_init();
	enum stream_codec in = codecs[data[0] % N_CODECS], out = codecs[(data[0] / 8) % N_CODECS];
	unsigned rate = codec_pair_rate(in, out), spf = rate / 50;
	struct codec_dec *d = codec_dec_new(in, rate);
	struct codec_enc *e = codec_enc_new(out, rate);
	if (!d || !e)
		abort(); /* every pair is possible at its pair rate */
	jb_init(&jb);
	int16_t pcm[2 * CODEC_MAX_SAMPLES];
	uint8_t payload[CODEC_MAX_PAYLOAD];
	unsigned pcm_n = 0, last_in = spf;
	size_t i = 1;
	while (i + 4 <= size) {
		size_t len = data[i];
		uint16_t seq = (uint16_t)(data[i + 1] << 8 | data[i + 2]);
		unsigned steps = data[i + 3] % 4;
		i += 4;
		if (len > size - i)
			len = size - i;
		jb_put(&jb, 0x1234, seq, seq * 160u, data + i, len);
		i += len;
		while (steps--) {
			/* one tick of xcode.c: fill a packet's worth of PCM, encode it */
			while (pcm_n < spf) {
				struct jb_out o;
				int n;
				enum jb_step st = jb_step(&jb, &o);
				if (st == JB_IDLE) {
					pcm_n = 0;
					break;
				}
				if (st == JB_PLAY && (n = codec_decode(d, o.pkt->data, o.pkt->len,
								       pcm + pcm_n)) > 0) {
					last_in = (unsigned)n;
				} else {
					n = codec_conceal(d, o.next ? o.next->data : NULL,
							  o.next ? o.next->len : 0, last_in,
							  pcm + pcm_n);
				}
				if (n < 0 || (unsigned)n > CODEC_MAX_SAMPLES)
					abort();
				pcm_n += (unsigned)n;
			}
			if (pcm_n < spf)
				continue;
			int k = codec_encode(e, pcm, spf, payload);
			if (k <= 0 || k > CODEC_MAX_PAYLOAD)
				abort();
			pcm_n -= spf;
			memmove(pcm, pcm + spf, pcm_n * sizeof(pcm[0]));
		}
	}
	codec_dec_free(d);
	codec_enc_free(e);
	return 0;
}
