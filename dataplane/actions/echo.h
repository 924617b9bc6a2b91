/* echo: the ECHO action. RTP arriving on the stream from its (latched) peer goes back to it,
 * rewritten as a proper RTP source of our own: our SSRC, continuous sequence numbers, and
 * timestamps that continue across a change of the sender's SSRC. */
#ifndef MGW_ECHO_H
#define MGW_ECHO_H

struct dp_worker;
struct pkt;

/** Reflect the accepted RTP packet @p back out of the port it arrived on. Consumes it. */
void echo_rtp(struct dp_worker *w, struct pkt *p);

#endif
