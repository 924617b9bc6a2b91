/* codec: one audio codec's decoder or encoder behind one interface, for the transcoding
 * pipeline (xcode.c). The libraries made for each: G.711 from transcode.c's tables, G.722
 * from spandsp, G.729 from bcg729, Opus from libopus.
 *
 * Every codec works at a PCM rate the pipeline picks for a pair (8 kHz, or 16 kHz when both
 * sides are wideband): G.722 with spandsp's 8 kHz option when the other side is narrowband,
 * Opus at whichever rate (its RTP clock stays 48 kHz). Decoders and encoders are created and
 * freed by the control plane (they allocate); between the two only the worker that owns the
 * receiving stream uses them, so they need no synchronisation. */
#ifndef MGW_CODEC_H
#define MGW_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/stream.h"

/* The longest packet decoded: 60 ms at 16 kHz; a longer one is refused (counted). */
#define CODEC_MAX_SAMPLES 960
/* The largest payload an encoder writes for one packet (60 ms of G.711, the largest). */
#define CODEC_MAX_PAYLOAD 480

struct codec_info {
	const char *name;     /* as in an SDP rtpmap */
	uint32_t rtp_clock;   /* the RTP timestamp rate (G.722: 8000 by RFC 3551's rule) */
	uint8_t channels;     /* as the rtpmap writes them (opus/48000/2), 1 = not written */
	uint8_t static_pt;    /* RFC 3551's number, or 0xff for a dynamic one */
	bool wideband;        /* carries 16 kHz audio */
	const char *fmtp;     /* what mgw writes in its a=fmtp, NULL = nothing */
};

/** What mgw knows of @c, or NULL for STREAM_CODEC_NONE or an unknown value. */
const struct codec_info *codec_info(enum stream_codec c);
/** The codec an SDP rtpmap names (@name case-insensitive, @clock its rate), or NONE. */
enum stream_codec codec_by_name(const char *name, uint32_t clock);
/** The codec a configuration or API request names (@name case-insensitive, at the codec's own
 *  RTP clock), or NONE. */
enum stream_codec codec_named(const char *name);
/** The PCM rate a pipeline between @a and @b works at: 16000 when both are wideband. */
unsigned codec_pair_rate(enum stream_codec a, enum stream_codec b);
/** Whether @c can send packets of @ptime_ms (Opus has no 30 ms frame, G.729 10 ms steps). */
bool codec_ptime_ok(enum stream_codec c, unsigned ptime_ms);

struct codec_dec;
struct codec_enc;

/** A decoder of @c producing @rate Hz PCM. NULL when out of memory or not possible. */
struct codec_dec *codec_dec_new(enum stream_codec c, unsigned rate);
void codec_dec_free(struct codec_dec *d);
/**
 * Decode one packet's payload into @pcm (room for CODEC_MAX_SAMPLES). Returns the samples
 * written, or -1 for a payload the codec cannot hold (wrong length, corrupt, too long).
 */
int codec_decode(struct codec_dec *d, const uint8_t *in, size_t len, int16_t *pcm);
/**
 * Conceal a lost packet of @samples (at the decoder's rate, at most CODEC_MAX_SAMPLES): from
 * @next, the packet after it, when the codec carries redundancy for it (Opus in-band FEC),
 * else the codec's own concealment (G.729, Opus) or the last audio repeated and faded (G.711,
 * G.722). Returns the samples written.
 */
int codec_conceal(struct codec_dec *d, const uint8_t *next, size_t next_len, unsigned samples,
		  int16_t *pcm);

/** The effort Opus encoders created from now on spend (0-10, libopus's complexity; default 5).
 *  Control plane (encoders are created there). */
void codec_opus_complexity(unsigned complexity);

/** An encoder of @c taking @rate Hz PCM. NULL when out of memory or not possible. */
struct codec_enc *codec_enc_new(enum stream_codec c, unsigned rate);
void codec_enc_free(struct codec_enc *e);
/** Encode @n samples (one packet: a whole number of the codec's frames) into @out (room for
 *  CODEC_MAX_PAYLOAD). Returns the payload bytes, or -1. */
int codec_encode(struct codec_enc *e, const int16_t *pcm, unsigned n, uint8_t *out);

#endif
