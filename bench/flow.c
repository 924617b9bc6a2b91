/* flow: the bench's streams (see flow.h). */
#include "bench/flow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_udp.h>

#define FLOW_MEDIA_IPS 32u

int flow_init(struct flow_table *t, uint32_t n, unsigned frame_len, uint32_t ip)
{
	memset(t, 0, sizeof(*t));
	if (n < 2 || frame_len < FLOW_MIN_FRAME || frame_len > RTE_ETHER_MAX_LEN)
		return -EINVAL;
	t->f = calloc(n, sizeof(*t->f));
	if (!t->f)
		return -ENOMEM;
	t->n = n;
	t->n_pairs = n / 2;
	t->n_ips = (t->n_pairs + FLOW_PAIRS_PER_IP - 1) / FLOW_PAIRS_PER_IP;
	t->ip = ip;
	t->frame_len = (uint16_t)frame_len;
	t->payload_len = (uint16_t)(frame_len - FLOW_HDR_LEN);
	return 0;
}

void flow_fini(struct flow_table *t)
{
	free(t->f);
	free(t->audio);
	t->f = NULL;
	t->audio = NULL;
}

int flow_audio_init(struct flow_table *t, const char *codec)
{
	t->audio = audio_loops_new(codec);
	return t->audio ? 0 : -1;
}

/* The constant bytes: MACs, IPv4 with DF and TTL 64, UDP length, RTP version 2 PCMU. */
void flow_set_macs(struct flow_table *t, const struct rte_ether_addr *src,
		   const struct rte_ether_addr *dst)
{
	uint8_t *p = t->tmpl;
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)p;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + 14);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(p + 34);

	t->src_mac = *src;
	t->dst_mac = *dst;
	memset(p, 0, sizeof(t->tmpl));
	rte_ether_addr_copy(dst, &eth->dst_addr);
	rte_ether_addr_copy(src, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(t->frame_len - 14));
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(t->frame_len - 34));
	p[42] = 0x80; /* RTP v2, payload type 0 */
}

void flow_peer(const struct flow_table *t, uint32_t j, int b, uint32_t *ip, uint16_t *port)
{
	*ip = t->ip + 256u * (j / FLOW_PAIRS_PER_IP);
	uint32_t base = b ? FLOW_PORT_B : FLOW_PORT_A;
	*port = (uint16_t)(base + FLOW_PEER_STEP * (j % FLOW_PAIRS_PER_IP));
}

/* Headers of stream @s: checksums precomputed over a frame whose varying fields are zero. */
static void flow_prepare(struct flow_table *t, uint32_t s, uint32_t src, uint16_t sport,
			 uint32_t dst, uint16_t dport)
{
	struct flow *f = &t->f[s];
	uint8_t p[FLOW_MIN_FRAME];
	struct flow_stamp st = { FLOW_MAGIC, s, 0, 0 };
	uint32_t ssrc = rte_cpu_to_be_32(s + 1);

	f->src_ip = rte_cpu_to_be_32(src);
	f->dst_ip = rte_cpu_to_be_32(dst);
	f->src_port = rte_cpu_to_be_16(sport);
	f->dst_port = rte_cpu_to_be_16(dport);
	memcpy(p, t->tmpl, sizeof(p));
	memcpy(p + 26, &f->src_ip, 4);
	memcpy(p + 30, &f->dst_ip, 4);
	memcpy(p + 34, &f->src_port, 2);
	memcpy(p + 36, &f->dst_port, 2);
	memcpy(p + 50, &ssrc, 4);
	memcpy(p + FLOW_HDR_LEN, &st, sizeof(st));
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(p + 14);
	f->ip_csum = rte_ipv4_cksum(ip);
	/* UDP: pseudo header + every constant word; the payload after the stamp stays zero. */
	f->udp_sum = __rte_raw_cksum(p + 34, FLOW_MIN_FRAME - 34, rte_ipv4_phdr_cksum(ip, 0));
}

void flow_set_pair(struct flow_table *t, uint32_t j, const struct flow_pair *p)
{
	uint32_t ip_a, ip_b;
	uint16_t port_a, port_b;

	flow_peer(t, j, 0, &ip_a, &port_a);
	flow_peer(t, j, 1, &ip_b, &port_b);
	flow_prepare(t, 2 * j, ip_a, port_a, p->a_ip, p->a_port);
	flow_prepare(t, 2 * j + 1, ip_b, port_b, p->b_ip, p->b_port);
}

void flow_synth_pairs(struct flow_table *t, uint32_t media_ip)
{
	for (uint32_t j = 0; j < t->n_pairs; j++) {
		uint32_t x = 2 * j;
		struct flow_pair p = {
			.id = j + 1,
			.a_ip = media_ip + x % FLOW_MEDIA_IPS,
			.a_port = (uint16_t)(1024 + 2 * (x / FLOW_MEDIA_IPS)),
			.b_ip = media_ip + (x + 1) % FLOW_MEDIA_IPS,
			.b_port = (uint16_t)(1024 + 2 * ((x + 1) / FLOW_MEDIA_IPS)),
		};
		flow_set_pair(t, j, &p);
	}
}

int flow_is_ours(const struct flow_table *t, uint32_t ip)
{
	uint32_t d = rte_be_to_cpu_32(ip) - t->ip;
	return (d & 0xff) == 0 && (d >> 8) < t->n_ips;
}

uint32_t flow_stream_of(const struct flow_table *t, uint32_t ip, uint16_t port)
{
	uint32_t d = rte_be_to_cpu_32(ip) - t->ip;
	uint32_t pt = rte_be_to_cpu_16(port);
	uint32_t b = pt >= FLOW_PORT_B;
	uint32_t off = pt - (b ? FLOW_PORT_B : FLOW_PORT_A);

	if ((d & 0xff) != 0 || (d >> 8) >= t->n_ips || pt < FLOW_PORT_A || off % FLOW_PEER_STEP)
		return FLOW_NONE;
	uint32_t i = off / FLOW_PEER_STEP;
	if (i >= FLOW_PAIRS_PER_IP)
		return FLOW_NONE;
	uint32_t j = (d >> 8) * FLOW_PAIRS_PER_IP + i;
	if (j >= t->n_pairs)
		return FLOW_NONE;
	/* Delivered to peer_b: stream 2j sent it towards leg A; to peer_a: stream 2j + 1. */
	return 2 * j + (b ? 0 : 1);
}
