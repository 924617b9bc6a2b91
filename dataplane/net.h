/* net: Ethernet, IPv4, UDP and ICMP for the worker. net_input() takes one received frame,
 * validates it layer by layer (each failure dropped and counted under one reason), answers
 * ARP and ICMP echo for our addresses, finds the stream, hands the packet to the stream's
 * owner worker when that is another one, and passes RTP/RTCP to the stream's action. */
#ifndef MGW_NET_H
#define MGW_NET_H

#include <stdint.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "shared/stream.h"

struct dp_worker;

/* A validated UDP packet of a stream, as the actions see it. */
struct pkt {
	struct rte_mbuf *m;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	const struct stream_cfg *cfg; /* the stream's config (this worker's QSBR read side) */
	struct stream_state *st;      /* its state, owned by this worker */
	uint16_t pi;                  /* index of the port it arrived on */
	uint8_t rtcp;                 /* port + 1 of the stream */
};

/** Tell the control plane where a stream's media really comes from (its first packet). */
void net_post_first_rx(struct dp_worker *w, const struct stream_cfg *c, uint32_t ip,
		       uint16_t port);

/** Symmetric RTP: is @p from its stream's (latched) peer? The first acceptable packet latches
 *  the peer. Every action calls it before it acts on a packet. */
int net_accept(struct dp_worker *w, struct pkt *p);

/** The state @st of @c's stream is this worker's: claim it when it still belongs to an older
 *  stream id (reset first), or say which worker owns it. Returns -1 when it is ours, else the
 *  owner's index. */
int net_stream_claim(struct dp_worker *w, const struct stream_cfg *c, struct stream_state *st);

/** Voice activity of @c's peer: @voice for its audio at @now (TSC); keeps the stream's
 *  last voice and talking flag (owner), and tells the control plane of a change when the
 *  stream asks for events. */
void net_vad_note(struct dp_worker *w, const struct stream_cfg *c, struct stream_state *st,
		  bool voice, uint64_t now);

struct dtmf_report;
/** Tell the control plane of a digit @r received on @c (counted). */
void net_post_dtmf(struct dp_worker *w, const struct stream_cfg *c, const struct dtmf_report *r);

/** Count a received RTP packet into its stream's statistics (RFC 3550, counters). */
void net_count_rtp(struct dp_worker *w, struct pkt *p);

/** Process one frame received on port index @pi. Always consumes @m. */
void net_input(struct dp_worker *w, uint16_t pi, struct rte_mbuf *m);

/** Send @m, a frame whose data holds room for the Ethernet, IPv4 and UDP headers followed by a
 *  UDP payload (its data length says where it ends), from @src_ip:@src_port to
 *  @dst_ip:@dst_port (network order) on port index @pi: headers and checksums written (DSCP
 *  EF), the next hop resolved (the frame held for the ARP answer when it is not known yet).
 *  Consumes @m. For what mgw sends itself (player, RTCP reports). */
void net_output_udp(struct dp_worker *w, uint16_t pi, struct rte_mbuf *m, uint32_t src_ip,
		    uint16_t src_port, uint32_t dst_ip, uint16_t dst_port);

/** Process a packet another worker handed over (validated, l2_len/l3_len set). */
void net_input_handoff(struct dp_worker *w, struct rte_mbuf *m);

/**
 * One's complement sum of @len bytes at @buf, folded to 16 bits (RFC 1071: the sum does not
 * depend on the byte order it is computed in, so memory order in, memory order out). The
 * 32-bit halves of each 8 bytes go into separate 64-bit accumulators, which cannot carry
 * out for any packet, so the adds are independent (no end-around carry chain) and the
 * compiler may vectorise them; 2^32 = 1 modulo 0xffff makes the final folds exact. A received
 * UDP datagram is intact when this over the datagram plus its pseudo-header gives 0xffff.
 */
static inline uint16_t net_cksum_sum(const void *buf, uint32_t len, uint32_t init)
{
	const uint8_t *p = buf;
	uint64_t a = init, b = 0, c = 0, d = 0, v, w;
	for (; len >= 16; len -= 16, p += 16) {
		__builtin_memcpy(&v, p, 8);
		__builtin_memcpy(&w, p + 8, 8);
		a += (uint32_t)v;
		b += v >> 32;
		c += (uint32_t)w;
		d += w >> 32;
	}
	if (len >= 8) {
		__builtin_memcpy(&v, p, 8);
		a += (uint32_t)v;
		b += v >> 32;
		len -= 8;
		p += 8;
	}
	if (len) { /* the tail, zero padded as it lies in memory (a variable-length copy here
		    * would be a slow string move) */
		unsigned sh = 0;
		v = 0;
		if (len & 4) {
			uint32_t x;
			__builtin_memcpy(&x, p, 4);
			v = x;
			p += 4;
			sh = 32;
		}
		if (len & 2) {
			uint16_t x;
			__builtin_memcpy(&x, p, 2);
			v |= (uint64_t)x << sh;
			p += 2;
			sh += 16;
		}
		if (len & 1)
			v |= (uint64_t)*p << sh;
		c += (uint32_t)v;
		d += v >> 32;
	}
	uint64_t sum = a + b + c + d; /* each < 2^62 for any length a packet can have */
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/** Incremental one's complement checksum update (RFC 1624 eqn. 3) for a 16-bit word. */
static inline uint16_t net_csum_update16(uint16_t csum, uint16_t old, uint16_t new_)
{
	uint32_t sum = (uint16_t)~csum + (uint32_t)(uint16_t)~old + new_;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/** Same for a 32-bit field (two words). Words are taken as they lie in memory. */
static inline uint16_t net_csum_update32(uint16_t csum, uint32_t old, uint32_t new_)
{
	csum = net_csum_update16(csum, (uint16_t)(old >> 16), (uint16_t)(new_ >> 16));
	return net_csum_update16(csum, (uint16_t)old, (uint16_t)new_);
}

#endif
