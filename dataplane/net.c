#include "dataplane/net.h"

#include <rte_byteorder.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dataplane/actions/echo.h"
#include "dataplane/actions/relay.h"
#include "dataplane/rtp.h"
#include "dataplane/worker.h"


/* Symmetric RTP: is this packet from the stream's peer? The first acceptable packet latches
 * the peer's real address (one word, read whole by the worker relaying towards it). */
static inline int stream_accept(struct dp_worker *w, struct stream *s,
				const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *udp,
				int rtcp)
{
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)ip - 1;
	uint64_t *slot = rtcp ? &s->rt.rtcp_peer : &s->rt.peer;
	uint64_t src = (uint64_t)ip->src_addr << 32 | (uint64_t)udp->src_port << 16 | 1;
	uint64_t cur = __atomic_load_n(slot, __ATOMIC_RELAXED);
	if (likely(cur == src))
		return 1;
	if (cur)
		return 0;
	uint16_t want_port = rtcp ? rte_cpu_to_be_16(rte_be_to_cpu_16(s->peer_port) + 1)
				  : s->peer_port;
	if ((s->latch == STREAM_LATCH_IP && s->peer_ip && ip->src_addr != s->peer_ip) ||
	    (s->latch == STREAM_LATCH_OFF &&
	     (ip->src_addr != s->peer_ip || udp->src_port != want_port)))
		return 0;
	__atomic_store_n(slot, src, __ATOMIC_RELAXED);
	arp_glean(w, ip->src_addr, &eth->src_addr);
	if (!rtcp)
		net_post_first_rx(w, s, ip->src_addr, udp->src_port);
	return 1;
}

/* RTCP: relayed alongside RTP on relay streams, consumed and counted otherwise. The worker's
 * rtcp counter is for RTCP consumed, so that every packet is counted once: transmitted,
 * consumed or dropped. */
static void rtcp_input(struct dp_worker *w, struct rte_mbuf *m, struct stream *s,
		       struct rte_ipv4_hdr *ip, struct rte_udp_hdr *udp)
{
	if (s->action != STREAM_RELAY) {
		s->rt.rtcp_pkts++;
		w->stats.rtcp++;
		rte_pktmbuf_free(m);
		return;
	}
	if (unlikely(!stream_accept(w, s, ip, udp, 1))) {
		s->rt.wrong_source++;
		dp_drop(w, m, DP_DROP_WRONG_SOURCE);
		return;
	}
	s->rt.rtcp_pkts++;
	relay_packet(w, m, s, ip, udp, 1);
}

static inline int udp_cksum_ok(const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *udp,
				uint32_t l4_len)
{
	return net_cksum_sum(udp, l4_len, rte_ipv4_phdr_cksum(ip, 0)) == 0xffff;
}

static void udp_input(struct dp_worker *w, uint16_t pi, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
		      int addr_idx, uint32_t l4_len)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)((uint8_t *)ip + rte_ipv4_hdr_len(ip));
	if (l4_len < sizeof(*udp) || rte_be_to_cpu_16(udp->dgram_len) != l4_len) {
		dp_drop(w, m, DP_DROP_BAD_UDP);
		return;
	}
	uint16_t ulen = (uint16_t)l4_len;
	uint64_t l4_flags = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (l4_flags == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
	    (l4_flags != RTE_MBUF_F_RX_L4_CKSUM_GOOD && udp->dgram_cksum != 0 &&
	     !udp_cksum_ok(ip, udp, l4_len))) {
		dp_drop(w, m, DP_DROP_BAD_UDP);
		return;
	}
	uint16_t dport = rte_be_to_cpu_16(udp->dst_port);
	struct stream *s = stream_table_lookup(dp.table, addr_idx, dport);
	if (!s) {
		dp_drop(w, m, DP_DROP_NO_STREAM);
		return;
	}
	if (dport & 1) {
		rtcp_input(w, m, s, ip, udp);
		return;
	}
	const struct rtp_hdr *rtp = (const struct rtp_hdr *)(udp + 1);
	if (ulen - sizeof(*udp) < RTP_HDR_LEN || (rtp->vpxcc >> 6) != 2) {
		s->rt.drops++;
		dp_drop(w, m, DP_DROP_BAD_RTP);
		return;
	}
	switch (s->action) {
	case STREAM_ECHO:
		echo_rtp(w, pi, m, s, ip, udp);
		break;
	case STREAM_RELAY:
		if (unlikely(!(s->dir & STREAM_DIR_RECV))) {
			s->rt.drops++;
			dp_drop(w, m, DP_DROP_STREAM);
			break;
		}
		if (unlikely(!stream_accept(w, s, ip, udp, 0))) {
			s->rt.wrong_source++;
			dp_drop(w, m, DP_DROP_WRONG_SOURCE);
			break;
		}
		s->rt.rx_pkts++;
		s->rt.rx_bytes += m->pkt_len;
		if (unlikely((s->rt.rx_pkts & 63) == 1))
			s->rt.last_rx_tsc = w->now;
		rtp_stats_update(&s->rt.rtp, rte_be_to_cpu_16(rtp->seq), rte_be_to_cpu_32(rtp->ts),
				 rtp_arrival(w->now, s->ts_mult));
		relay_packet(w, m, s, ip, udp, 0);
		break;
	default:
		s->rt.drops++;
		dp_drop(w, m, DP_DROP_STREAM);
		break;
	}
}

static void icmp_input(struct dp_worker *w, uint16_t pi, struct rte_mbuf *m,
		       struct rte_ether_hdr *eth, struct rte_ipv4_hdr *ip, uint32_t l4_len)
{
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + rte_ipv4_hdr_len(ip));
	if (l4_len < sizeof(*icmp) || icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST ||
	    icmp->icmp_code != 0 || rte_raw_cksum(icmp, l4_len) != 0xffff) {
		dp_drop(w, m, DP_DROP_ICMP);
		return;
	}
	/* Reply in place: only the type changes in the ICMP message. */
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = net_csum_update16(icmp->icmp_cksum,
					     rte_cpu_to_be_16(RTE_IP_ICMP_ECHO_REQUEST << 8),
					     rte_cpu_to_be_16(RTE_IP_ICMP_ECHO_REPLY << 8));
	uint32_t src = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = src;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&dp.port_mac[pi], &eth->src_addr);
	m->ol_flags = 0;
	w->stats.icmp_replies++;
	dp_tx(w, pi, m);
}

static void ipv4_input(struct dp_worker *w, uint16_t pi, struct rte_mbuf *m,
		       struct rte_ether_hdr *eth, uint32_t len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	if (len < sizeof(*ip) || (ip->version_ihl >> 4) != 4) {
		dp_drop(w, m, DP_DROP_BAD_IP);
		return;
	}
	uint32_t hlen = rte_ipv4_hdr_len(ip);
	uint32_t tot = rte_be_to_cpu_16(ip->total_length);
	if (hlen < sizeof(*ip) || tot < hlen || tot > len) {
		dp_drop(w, m, DP_DROP_BAD_IP);
		return;
	}
	uint64_t ip_flags = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (ip_flags == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
	    (ip_flags != RTE_MBUF_F_RX_IP_CKSUM_GOOD && rte_raw_cksum(ip, hlen) != 0xffff)) {
		dp_drop(w, m, DP_DROP_BAD_IP);
		return;
	}
	if (ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) {
		dp_drop(w, m, DP_DROP_IP_FRAG);
		return;
	}
	int ai = stream_table_addr_index(dp.table, ip->dst_addr);
	if (ai < 0) {
		dp_drop(w, m, DP_DROP_NOT_OURS);
		return;
	}
	/* Trim Ethernet padding so that lengths below are the datagram's own. */
	if (len > tot)
		rte_pktmbuf_trim(m, (uint16_t)(len - tot));
	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		udp_input(w, pi, m, ip, ai, tot - hlen);
		break;
	case IPPROTO_ICMP:
		icmp_input(w, pi, m, eth, ip, tot - hlen);
		break;
	default:
		dp_drop(w, m, DP_DROP_PROTO);
		break;
	}
}

void net_post_first_rx(struct dp_worker *w, const struct stream *s, uint32_t ip, uint16_t port)
{
	struct msg_event ev = {
		.type = MSG_EV_STREAM_FIRST_RX,
		.worker = (uint16_t)w->id,
		.local_port = s->local_port,
		.peer_port = port,
		.local_ip = s->local_ip,
		.peer_ip = ip,
		.stream_id = s->id,
	};
	dp_event(w, &ev);
}

void net_input(struct dp_worker *w, uint16_t pi, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_data_len(m);
	if (len < sizeof(struct rte_ether_hdr)) {
		dp_drop(w, m, DP_DROP_BAD_L2);
		return;
	}
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	len -= sizeof(*eth);
	switch (eth->ether_type) {
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		ipv4_input(w, pi, m, eth, len);
		break;
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		arp_input(w, pi, m);
		break;
	default:
		dp_drop(w, m, DP_DROP_NOT_IPV4);
		break;
	}
}
