/* flow: the bench's streams, as packets to build and as addresses to recognise.
 *
 * Stream s belongs to relay pair s / 2. Stream 2j sends to pair j's leg A local endpoint from
 * peer_a(j); mgwd relays it out of leg B towards peer_b(j), so it must arrive from leg B's
 * local endpoint, which is where stream 2j + 1 sends to. Stream 2j + 1 goes the other way.
 * The bench's own addresses (peers) are laid out so that a received packet's destination
 * names its stream without a lookup: pairs 10000 k .. 10000 k + 9999 use bench address
 * ip + 256 k, peer_a port 20000 + 2 i and peer_b port 40000 + 2 i.
 *
 * Every frame carries a stamp right after the RTP header: magic, stream index, per-stream
 * sequence and the TSC at send time (both processes share the host's TSC). Headers are
 * precomputed per stream; per packet only the RTP sequence and timestamp, the stamp and the
 * UDP checksum (updated from a precomputed partial sum) change. */
#ifndef MGW_BENCH_FLOW_H
#define MGW_BENCH_FLOW_H

#include <stdint.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_memcpy.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "bench/audio.h"

#define FLOW_PAIRS_PER_IP 10000u
#define FLOW_PORT_A 20000u
#define FLOW_PORT_B 40000u
#define FLOW_PEER_STEP 2u
#define FLOW_MAGIC 0x4257474du /* "MGWB" in memory on little-endian */
#define FLOW_HDR_LEN 54u       /* Ethernet + IPv4 + UDP + RTP */
#define FLOW_STAMP_LEN 20u
#define FLOW_MIN_FRAME (FLOW_HDR_LEN + FLOW_STAMP_LEN)
#define FLOW_NONE UINT32_MAX

/* The stamp as it lies in the payload (host byte order, unaligned). */
struct flow_stamp {
	uint32_t magic;
	uint32_t stream;
	uint32_t seq;
	uint64_t tsc;
} __attribute__((packed));

/* One stream's send state: 32 bytes, two per cache line. */
struct flow {
	uint32_t src_ip, dst_ip;     /* network order */
	uint16_t src_port, dst_port; /* network order */
	uint16_t ip_csum;            /* complete IPv4 header checksum */
	uint16_t pad;
	uint32_t udp_sum;            /* unfolded sum of the UDP words that never change */
	uint32_t seq;                /* next per-stream sequence number */
	uint32_t rx;                 /* packets received that this stream sent */
	uint32_t pad2;
};

/* A relay pair's two local endpoints (host order), as mgwd returned them. */
struct flow_pair {
	uint64_t id;
	uint32_t a_ip, b_ip;
	uint16_t a_port, b_port;
};

struct flow_table {
	struct flow *f;
	uint32_t n;            /* streams (even) */
	uint32_t n_pairs;
	uint32_t n_ips;        /* bench addresses in use */
	uint32_t ip;           /* first bench address, host order */
	uint16_t frame_len;
	uint16_t payload_len;  /* RTP payload bytes, stamp included */
	struct rte_ether_addr src_mac, dst_mac;
	uint8_t tmpl[FLOW_MIN_FRAME]; /* constant bytes of every frame */
	struct flow_audio *audio;     /* --transcode (audio.h): stream 2j sends its loop 0 (PCMU)
				       * towards leg A, 2j + 1 its loop 1 towards leg B; else NULL */
};

/** Allocate @n streams for frames of @frame_len bytes; bench addresses start at @ip. */
int flow_init(struct flow_table *t, uint32_t n, unsigned frame_len, uint32_t ip);
void flow_fini(struct flow_table *t);
/** Set the MACs (call before flow_set_pair: they go into the template). */
void flow_set_macs(struct flow_table *t, const struct rte_ether_addr *src,
		   const struct rte_ether_addr *dst);
/** Change the destination MAC of every frame (once the target's is known). */
static inline void flow_set_dst_mac(struct flow_table *t, const struct rte_ether_addr *dst)
{
	t->dst_mac = *dst;
	memcpy(t->tmpl, dst, RTE_ETHER_ADDR_LEN);
}
/** The bench's peer address of pair @j on side @b (0 = A, 1 = B), host order. */
void flow_peer(const struct flow_table *t, uint32_t j, int b, uint32_t *ip, uint16_t *port);
/** Fill streams 2 j and 2 j + 1 from pair @j's local endpoints. */
void flow_set_pair(struct flow_table *t, uint32_t j, const struct flow_pair *p);
/** Local endpoints for every pair without mgwd (limit mode): @media_ip + (x % 32). */
void flow_synth_pairs(struct flow_table *t, uint32_t media_ip);
/** Is @ip (network order) one of the bench's addresses? */
int flow_is_ours(const struct flow_table *t, uint32_t ip);
/** The stream that sent a packet the target delivered to @ip:@port (network order), from
 *  the layout above; FLOW_NONE when it is not one of our peer addresses. */
uint32_t flow_stream_of(const struct flow_table *t, uint32_t ip, uint16_t port);

/** --transcode: the audio loops, PCMU and @codec (G722, G729, opus). 0, or -1 (unknown codec,
 *  out of memory). */
int flow_audio_init(struct flow_table *t, const char *codec);

/** --transcode: write stream @s's next audio packet into @m. */
static inline void flow_build_audio(const struct flow_table *t, uint32_t s, const struct flow *f,
				    struct rte_mbuf *m)
{
	const struct flow_audio *a = t->audio;
	unsigned side = s & 1, k = f->seq % FLOW_AUDIO_PACKETS, len = a->len[side][k];
	uint16_t frame = (uint16_t)(FLOW_HDR_LEN + len);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(p + 34);
	rte_memcpy(p, t->tmpl, FLOW_HDR_LEN);
	ip->src_addr = f->src_ip;
	ip->dst_addr = f->dst_ip;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(frame - 14));
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = f->src_port;
	udp->dst_port = f->dst_port;
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(frame - 34));
	udp->dgram_cksum = 0;
	p[42] = 0x80;
	p[43] = a->pt[side];
	uint16_t rtp_seq = rte_cpu_to_be_16((uint16_t)f->seq);
	uint32_t rtp_ts = rte_cpu_to_be_32(f->seq * a->ts_step[side]);
	uint32_t ssrc = rte_cpu_to_be_32(s + 1);
	memcpy(p + 44, &rtp_seq, 2);
	memcpy(p + 46, &rtp_ts, 4);
	memcpy(p + 50, &ssrc, 4);
	memcpy(p + FLOW_HDR_LEN, a->data[side][k], len);
	m->data_len = frame;
	m->pkt_len = frame;
	uint16_t c = rte_ipv4_udptcp_cksum(ip, udp);
	udp->dgram_cksum = c ? c : 0xffff;
}

/** Write stream @s's next packet (sequence @seq) into @m, stamped with @tsc. */
static inline void flow_build(const struct flow_table *t, uint32_t s, const struct flow *f,
			      struct rte_mbuf *m, uint64_t tsc)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	rte_memcpy(p, t->tmpl, FLOW_MIN_FRAME);
	memcpy(p + 26, &f->src_ip, 4);
	memcpy(p + 30, &f->dst_ip, 4);
	memcpy(p + 24, &f->ip_csum, 2);
	memcpy(p + 34, &f->src_port, 2);
	memcpy(p + 36, &f->dst_port, 2);
	uint16_t rtp_seq = rte_cpu_to_be_16((uint16_t)f->seq);
	uint32_t rtp_ts = rte_cpu_to_be_32(f->seq * t->payload_len);
	uint32_t ssrc = rte_cpu_to_be_32(s + 1);
	memcpy(p + 44, &rtp_seq, 2);
	memcpy(p + 46, &rtp_ts, 4);
	memcpy(p + 50, &ssrc, 4);
	struct flow_stamp st = { FLOW_MAGIC, s, f->seq, tsc };
	memcpy(p + FLOW_HDR_LEN, &st, sizeof(st));
	uint32_t sum = __rte_raw_cksum(p + 44, 6, f->udp_sum);
	sum = __rte_raw_cksum(p + FLOW_HDR_LEN + 8, 12, sum);
	uint16_t c = (uint16_t)~__rte_raw_cksum_reduce(sum);
	if (c == 0)
		c = 0xffff;
	memcpy(p + 40, &c, 2);
	m->data_len = t->frame_len;
	m->pkt_len = t->frame_len;
}

#endif
