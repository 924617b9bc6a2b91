/* audio: what the benches send when they measure transcoding: a second of something like
 * speech, encoded once in PCMU (loop 0) and in another codec (loop 1) with the codec
 * libraries mgw itself uses, sent in a loop of 20 ms packets. mgw-bench (memif, against
 * mgwd) and mgw-rtpload (UDP sockets, against rtpengine) send the same bytes. */
#ifndef MGW_BENCH_AUDIO_H
#define MGW_BENCH_AUDIO_H

#include <stdint.h>

#define FLOW_AUDIO_PACKETS 50
#define FLOW_AUDIO_MAX 480 /* CODEC_MAX_PAYLOAD: an encoder may touch all of it */
#define AUDIO_OPUS_PT 111  /* Opus's payload type on mgwd's pairs and in the benches' SDP */

struct flow_audio {
	const char *codec_b;  /* loop 1's codec, as an rtpmap names it */
	uint32_t clock_b;     /* its RTP clock */
	uint8_t pt[2];
	uint32_t ts_step[2];
	uint16_t len[2][FLOW_AUDIO_PACKETS];
	uint8_t data[2][FLOW_AUDIO_PACKETS][FLOW_AUDIO_MAX];
};

/** A new pair of loops, PCMU and @codec (G722, G729, opus), or NULL (unknown codec, out of
 *  memory). free() it. */
struct flow_audio *audio_loops_new(const char *codec);

#endif
