/* src: mgw as an RTP source. ECHO (back to the sender) and RELAY with translation (towards the
 * other leg) send the received packets on with our own SSRC, sequence numbers and timestamps:
 * sequence numbers continue from ours, timestamps follow the sender's with a fixed offset,
 * and a change of the sender's SSRC keeps our timeline continuous. */
#ifndef MGW_SRC_H
#define MGW_SRC_H

#include <rte_byteorder.h>

#include "dataplane/net.h"
#include "dataplane/rtp.h"
#include "shared/stream.h"

/* Timestamp step assumed across a change of the sender's SSRC (20 ms at 8 kHz). */
#define SRC_TS_GAP 160

/**
 * Rewrite @rtp's sequence number, timestamp and SSRC as the source @src (state kept by the
 * stream that received the packet) whose SSRC and bases are @ssrc, @seq_base and @ts_base.
 * Returns @csum (a UDP checksum, or a partial sum) updated for the three fields; 0 is a valid
 * partial sum here, not "no checksum" (the caller knows).
 */
static inline uint16_t src_rewrite(struct stream_src *src, uint32_t ssrc, uint16_t seq_base,
				   uint32_t ts_base, struct rtp_hdr *rtp, uint16_t csum)
{
	uint32_t in_ts = rte_be_to_cpu_32(rtp->ts);
	if (unlikely(!src->started)) {
		src->started = 1;
		src->in_ssrc = rtp->ssrc;
		src->out_seq = seq_base;
		src->ts_offset = ts_base - in_ts;
	} else if (unlikely(rtp->ssrc != src->in_ssrc)) {
		/* a new source at the far end: keep our timeline continuous */
		src->in_ssrc = rtp->ssrc;
		src->ts_offset = src->last_out_ts + SRC_TS_GAP - in_ts;
	}
	uint32_t out_ts = in_ts + src->ts_offset;
	src->last_out_ts = out_ts;
	uint16_t seq = rte_cpu_to_be_16(src->out_seq++);
	uint32_t ts = rte_cpu_to_be_32(out_ts), be_ssrc = rte_cpu_to_be_32(ssrc);
	csum = net_csum_update16(csum, rtp->seq, seq);
	csum = net_csum_update32(csum, rtp->ts, ts);
	csum = net_csum_update32(csum, rtp->ssrc, be_ssrc);
	rtp->seq = seq;
	rtp->ts = ts;
	rtp->ssrc = be_ssrc;
	return csum;
}

#endif
