/* relay: the RELAY action. A packet received on one leg leaves from the other leg's local
 * address towards the other leg's peer (latched, or from SDP), with Ethernet, IPv4 and UDP
 * headers rewritten and checksums updated incrementally; optionally as the other leg's own
 * RTP source (SSRC, sequence, timestamp translation). RTCP (port+1) follows the same path. */
#ifndef MGW_RELAY_H
#define MGW_RELAY_H

#include <stdint.h>

#include <rte_mbuf.h>

#include "shared/stream.h"

struct dp_worker;
struct rte_ipv4_hdr;
struct rte_udp_hdr;

/** Relay @m, received on stream @s (RTP when @rtcp is 0), already validated and accepted
 *  from @s's peer. Always consumes @m. */
void relay_packet(struct dp_worker *w, struct rte_mbuf *m, struct stream *s,
		  struct rte_ipv4_hdr *ip, struct rte_udp_hdr *udp, int rtcp);

#endif
