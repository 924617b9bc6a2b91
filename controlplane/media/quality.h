/* quality: what a leg's RTP statistics say of the call's quality: loss, jitter and a MOS
 * estimate from the ITU-T G.107 E-model, and the histograms of those figures over the calls
 * that ended (Prometheus /metrics). The control thread owns all of it. */
#ifndef MGW_QUALITY_H
#define MGW_QUALITY_H

#include <stdbool.h>
#include <stdint.h>

#include "shared/stream.h"

/* One direction of a leg: the media mgw received from its peer. */
struct leg_quality {
	bool valid;          /* RTP was received (loss and jitter mean something) */
	double loss;         /* lost / expected, 0..1 */
	double jitter_ms;    /* RFC 3550 interarrival jitter */
	double rtt_ms;       /* round trip, < 0 = unknown */
	double mos;          /* 1.0 .. 4.5 (G.107 with G.711's Ie = 0) */
};

/** The E-model's transmission rating R for one-way mouth-to-ear delay @delay_ms, packet loss
 *  @loss_pct (0..100, random), a codec of equipment impairment @ie and loss robustness
 *  @bpl (G.113 Appendix I), everything else at G.107's defaults (R0 - Is = 93.2). */
double emodel_r(double delay_ms, double loss_pct, double ie, double bpl);
/** MOS (conversational quality, 1..4.5) of rating @r (G.107 Annex B). */
double emodel_mos(double r);

/** The quality of what @st received in @codec (STREAM_CODEC_NONE: judged as G.711), at RTP
 *  clock @clock_hz, with the round trip @st measured (rtt_us, 0: unknown). The delay the
 *  E-model sees is rtt/2 (0 when unknown) + a jitter buffer of twice the jitter + 20 ms of
 *  packetisation. */
void quality_of(const struct stream_stats *st, unsigned clock_hz, enum stream_codec codec,
		struct leg_quality *q);

/** Count @q (when valid) in the histograms of ended legs. */
void quality_observe(const struct leg_quality *q);

/* A histogram of ended legs, for the exposition. */
#define QUALITY_BUCKETS 10
struct quality_hist {
	const char *name, *help;
	unsigned n;                          /* buckets in use */
	double le[QUALITY_BUCKETS];          /* upper bounds */
	uint64_t count[QUALITY_BUCKETS];     /* cumulative */
	uint64_t total;
	double sum;
};
/** The histograms (mos, loss ratio, jitter in seconds), @n set to their number. */
const struct quality_hist *quality_hists(unsigned *n);

#endif
