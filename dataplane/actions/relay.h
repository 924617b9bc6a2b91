/* relay: the RELAY action. A packet received on one leg leaves from the other leg's local
 * address towards the other leg's peer (latched, or from SDP), with Ethernet, IPv4 and UDP
 * headers rewritten and checksums updated incrementally; optionally as the other leg's own
 * RTP source (SSRC, sequence, timestamp translation). RTCP (port+1) follows the same path. */
#ifndef MGW_RELAY_H
#define MGW_RELAY_H

#include <stdbool.h>

#include <rte_byteorder.h>

#include "shared/stream.h"

struct dp_worker;
struct pkt;

/** Relay @p, already accepted from its stream's peer. Always consumes it. */
void relay_packet(struct dp_worker *w, struct pkt *p);

/* The peer to send to: the other leg's latched peer if it latched in its current
 * generation, else from its SDP. Returns 0 when there is none. */
static inline uint64_t relay_dest(const struct stream_cfg *o, const struct stream_state *ost,
				  int rtcp)
{
	/* the other leg's state tells only once its owner has claimed it for this stream id
	 * (before that it may hold what an earlier stream on the same port learnt) */
	uint64_t owner = atomic_load_explicit(&ost->owner, memory_order_acquire);
	bool mine = owner >> 16 == o->id && !(owner & STREAM_OWNER_RESETTING);
	uint64_t latched = mine ? atomic_load_explicit(rtcp ? &ost->rtcp_peer : &ost->peer,
						       memory_order_relaxed)
				: 0;
	if (stream_peer_valid(latched, o->latch_gen))
		return latched;
	if (rtcp && mine) { /* RTCP not latched yet: next to where RTP comes from */
		uint64_t rtp = atomic_load_explicit(&ost->peer, memory_order_relaxed);
		if (stream_peer_valid(rtp, o->latch_gen)) {
			uint16_t port = rte_be_to_cpu_16(stream_peer_port(rtp));
			return stream_peer_word(stream_peer_ip(rtp), rte_cpu_to_be_16(port + 1),
						o->latch_gen);
		}
	}
	if (!o->peer_ip || !o->peer_port)
		return 0;
	uint16_t port = rtcp ? rte_cpu_to_be_16(rte_be_to_cpu_16(o->peer_port) + 1)
			     : o->peer_port;
	return stream_peer_word(o->peer_ip, port, o->latch_gen);
}

#endif
