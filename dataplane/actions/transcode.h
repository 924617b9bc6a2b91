/* transcode: G.711 mu-law <-> A-law conversion of RTP packets in place. When the two legs of a
 * call share no codec but one offers PCMU (static payload type 0) and the other PCMA (8), the
 * worker rewrites every audio packet through a 256-entry table: both laws carry one byte per
 * sample, so the packet keeps its size and needs no new mbuf. The tables are derived at start
 * from the ITU-T G.711 definitions (decode one law to 16-bit linear PCM, encode to the other),
 * so the hot path is one load per sample and no arithmetic.
 *
 * Linear PCM here is 16-bit, left-aligned: G.711's 14-bit (mu-law) and 13-bit (A-law) uniform
 * codes occupy the top bits, so mu-law decodes to at most +-32124 and A-law to +-32256. */
#ifndef MGW_TRANSCODE_H
#define MGW_TRANSCODE_H

#include <stddef.h>
#include <stdint.h>

#include "shared/stream.h"

#define TRANSCODE_PT_PCMU 0
#define TRANSCODE_PT_PCMA 8

/** Build the conversion tables. Idempotent; mgwd calls it once before the workers start,
 *  since the tables are then read without synchronisation. */
void transcode_init(void);

/** Decode one mu-law code to 16-bit linear PCM (0xFF and 0x7F are +0 and -0, i.e. 0). */
int16_t transcode_ulaw_to_linear(uint8_t u);
/** Decode one A-law code to 16-bit linear PCM (A-law has no zero: 0xD5 is +8, 0x55 is -8). */
int16_t transcode_alaw_to_linear(uint8_t a);
/** Encode 16-bit linear PCM to mu-law; magnitudes beyond the top level saturate. 0 gives 0xFF. */
uint8_t transcode_linear_to_ulaw(int16_t x);
/** Encode 16-bit linear PCM to A-law; magnitudes beyond the top level saturate. */
uint8_t transcode_linear_to_alaw(int16_t x);

/** Encode @n samples of 16-bit PCM at @pcm to G.711 (A-law when @alaw, else mu-law) at @out:
 *  one table load per sample once transcode_init() has run, the arithmetic before. */
void transcode_encode(const int16_t *pcm, size_t n, uint8_t *out, int alaw);

/** Convert @n G.711 bytes at @payload in place as @dir; STREAM_G711_NONE (or an unknown value)
 *  leaves them as they are. Needs transcode_init(). */
void transcode_g711(uint8_t *payload, size_t n, enum stream_g711 dir);

/**
 * Rewrite the RTP packet of @len bytes at @rtp (the fixed header first) following @map: the
 * audio payload type is renumbered and its payload converted, the telephone-event type only
 * renumbered, any other payload type left alone. The payload starts after the CSRC list and
 * the header extension; padding (P bit, count in the last byte) is not converted. Packets that
 * are not RTP version 2 (e.g. STUN on the same port) are left alone.
 *
 * @return 1 when the packet changed (the caller updates the UDP checksum), 0 when it did not,
 *         -1 when its lengths are inconsistent (the caller drops it), -2 for telephone-event
 *         the other leg did not take (te_out STREAM_PT_DROP: dropped); nothing is written then.
 */
int transcode_rtp(uint8_t *rtp, size_t len, const struct stream_pt_map *map);

#endif
