/* echo: the ECHO action. RTP arriving on the stream goes back to its sender, rewritten as a
 * proper RTP source of our own: our SSRC, continuous sequence numbers, and timestamps that
 * continue across a change of the sender's SSRC. */
#ifndef MGW_ECHO_H
#define MGW_ECHO_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "shared/stream.h"

struct dp_worker;
struct rte_ipv4_hdr;
struct rte_udp_hdr;

/** Reflect the RTP packet @m (headers already validated) back out of port index @pi. */
void echo_rtp(struct dp_worker *w, uint16_t pi, struct rte_mbuf *m, struct stream *s,
	      struct rte_ipv4_hdr *ip, struct rte_udp_hdr *udp);

#endif
