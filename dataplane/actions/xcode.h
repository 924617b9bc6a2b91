/* xcode: the transcoding pipeline of one relay direction, for legs that share no codec (or
 * no packet time): decode -> jitter buffer -> encode, on the worker that owns the receiving
 * stream. mu-law <-> A-law at the same packet time stays transcode.c's byte map, in place.
 *
 * Audio packets received on the leg go into the direction's jitter buffer (jbuf.h) and the
 * mbuf back to the pool at once. The worker's timing wheel (player.c) ticks the direction
 * once per packet time of the other leg: the tick takes packets from the buffer in sequence
 * and decodes them (or conceals a lost one, with Opus's FEC when the next packet is at hand)
 * until it holds a packet's worth of PCM, encodes it and sends it from the other leg's
 * address to its peer as an RTP source of its own: SSRC, consecutive sequence numbers,
 * timestamps in the out codec's clock, the marker on the first packet of a talk spurt. When
 * the buffer has stayed empty for a few ticks (the sender paused, hold) the ticks stop, and
 * the next packet starts them again with the timestamps moved on by the time that passed.
 * RFC 4733 events are renumbered and sent at once, stamped in the out timeline.
 *
 * The pipeline is created by the control plane with the description (xcode_new) and freed
 * after the grace period of the last config that carries it; in between only the owner
 * worker touches it. */
#ifndef MGW_XCODE_H
#define MGW_XCODE_H

#include <stdbool.h>

#include "shared/stream.h"

struct dp_worker;
struct pkt;

/**
 * A transcoding direction as @desc describes it (codecs, payload types, packet times and our
 * source's first SSRC, sequence number and timestamp), with its pipeline, refs 0.
 * Control plane. NULL when out of memory or when a codec cannot work at those packet times.
 */
struct stream_xcode *xcode_new(const struct stream_xcode *desc);
/** @a and @b describe the same direction (a republished config keeps the pipeline). */
bool xcode_same(const struct stream_xcode *a, const struct stream_xcode *b);

enum xcode_rx_result {
	XCODE_TAKEN = 0, /* in the jitter buffer: the caller frees the mbuf */
	XCODE_SEND = 1,  /* rewritten in place (telephone-event): the caller sends it on, with
			  * the UDP checksum redone and no translation */
	XCODE_DROP = -1, /* not usable (counted): the caller drops it */
	XCODE_DROP_TE = -2, /* telephone-event the other leg did not take */
};

/** An RTP packet received on a transcoding leg (@p->cfg->xcode). */
int xcode_rx(struct dp_worker *w, struct pkt *p);

/* What a direction has sent towards the other leg's peer, for the RTCP sender reports sent
 * there. */
struct xcode_sent {
	uint32_t ssrc;
	uint32_t ts;      /* the RTP timestamp of the instant asked for */
	uint64_t octets;  /* payload octets */
};
/** What @x sent, as of TSC @now. Any worker holding a config that names @x (the other leg's
 *  owner asks). */
void xcode_sender(const struct stream_xcode *x, uint64_t now, struct xcode_sent *out);
/** The SSRC of the sender @x receives from, 0 = none yet. The owner worker only. */
uint32_t xcode_in_ssrc(const struct stream_xcode *x);

/** The direction's tick (the timing wheel calls it once per out packet time): send the next
 *  packet. Returns 0 while the direction plays on, -1 when it has paused. */
int xcode_tick(struct dp_worker *w, const struct stream_cfg *c, struct stream_state *st);

#endif
