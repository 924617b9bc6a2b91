/* relay: the RELAY action. A packet received on one leg leaves from the other leg's local
 * address towards the other leg's peer (latched, or from SDP), with Ethernet, IPv4 and UDP
 * headers rewritten and checksums updated incrementally; optionally as the other leg's own
 * RTP source (SSRC, sequence, timestamp translation). RTCP (port+1) follows the same path. */
#ifndef MGW_RELAY_H
#define MGW_RELAY_H

struct dp_worker;
struct pkt;

/** Relay @p, already accepted from its stream's peer. Always consumes it. */
void relay_packet(struct dp_worker *w, struct pkt *p);

#endif
