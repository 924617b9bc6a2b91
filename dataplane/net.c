#include "dataplane/net.h"

#include <string.h>

#include <rte_byteorder.h>
#include <rte_icmp.h>

#include "dataplane/actions/echo.h"
#include "dataplane/actions/relay.h"
#include "dataplane/dtmf.h"
#include "dataplane/rtcp.h"
#include "dataplane/rtp.h"
#include "dataplane/vad.h"
#include "dataplane/worker.h"

void net_post_first_rx(struct dp_worker *w, const struct stream_cfg *c, uint32_t ip,
		       uint16_t port)
{
	struct msg_event ev = {
		.type = MSG_EV_STREAM_FIRST_RX,
		.worker = (uint16_t)w->id,
		.local_port = c->local_port,
		.peer_port = port,
		.local_ip = c->local_ip,
		.peer_ip = ip,
		.stream_id = c->id,
	};
	dp_event(w, &ev);
}

/* A source (network order) against the SDP peer: enum stream_latch_rank. */
static inline uint8_t net_latch_rank(const struct stream_cfg *c, uint32_t ip, uint16_t port,
				     uint16_t want_port)
{
	if (!c->peer_ip || ip != c->peer_ip)
		return STREAM_RANK_OTHER;
	return c->peer_port && port == want_port ? STREAM_RANK_EXACT : STREAM_RANK_IP;
}

int net_accept(struct dp_worker *w, struct pkt *p)
{
	const struct stream_cfg *c = p->cfg;
	_Atomic uint64_t *slot = p->rtcp ? &p->st->rtcp_peer : &p->st->peer;
	uint64_t src = stream_peer_word(p->ip->src_addr, p->udp->src_port, c->latch_gen);
	uint64_t cur = atomic_load_explicit(slot, memory_order_relaxed);
	if (likely(cur == src))
		return 1;
	/* not the latched peer (or none yet): the slow path */
	uint16_t want_port = p->rtcp ? rte_cpu_to_be_16(rte_be_to_cpu_16(c->peer_port) + 1)
				     : c->peer_port;
	uint8_t rank = net_latch_rank(c, p->ip->src_addr, p->udp->src_port, want_port);
	unsigned k = p->rtcp;
	if (stream_peer_valid(cur, c->latch_gen)) {
		/* latched to another source in this generation: it keeps the stream unless this
		 * one matches the SDP better and the learning window is still open */
		if (rank <= p->st->latch_rank[k] ||
		    w->now - p->st->latch_tsc[k] >= dp.tsc_hz / 1000 * STREAM_LEARN_MS)
			return 0;
	} else {
		if ((c->latch == STREAM_LATCH_IP && c->peer_ip && rank == STREAM_RANK_OTHER) ||
		    (c->latch == STREAM_LATCH_OFF && rank != STREAM_RANK_EXACT))
			return 0;
		p->st->latch_tsc[k] = w->now;
	}
	p->st->latch_rank[k] = rank;
	atomic_store_explicit(slot, src, memory_order_relaxed);
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(p->m, const struct rte_ether_hdr *);
	arp_glean(w, p->ip->src_addr, &eth->src_addr);
	if (!p->rtcp)
		net_post_first_rx(w, c, p->ip->src_addr, p->udp->src_port);
	return 1;
}

void net_post_dtmf(struct dp_worker *w, const struct stream_cfg *c, const struct dtmf_report *r)
{
	struct msg_event ev = {
		.type = MSG_EV_DTMF,
		.worker = (uint16_t)w->id,
		.local_port = c->local_port,
		.local_ip = c->local_ip,
		.stream_id = c->id,
		.dtmf = {.event = r->event, .volume = r->volume, .duration = r->duration,
			 .flags = r->flags},
	};
	ctr_inc(&w->stats.dtmf);
	dp_event(w, &ev);
}

void net_count_rtp(struct dp_worker *w, struct pkt *p)
{
	struct stream_state *st = p->st;
	const struct rtp_hdr *rtp = (const struct rtp_hdr *)(p->udp + 1);
	seqlock_write_begin(&st->stats_seq);
	rtp_stats_update(&st->rtp, rte_be_to_cpu_16(rtp->seq), rte_be_to_cpu_32(rtp->ts),
			 rtp_arrival(w->now, p->cfg->ts_mult));
	ctr_inc(&st->rx_pkts);
	ctr_add(&st->rx_bytes, p->m->pkt_len);
	ctr_set(&st->last_rx_tsc, w->now);
	ctr32_set(&st->rtp_received, st->rtp.received);
	ctr32_set(&st->rtp_expected, rtp_stats_expected(&st->rtp));
	ctr32_set(&st->rtp_jitter, rtp_stats_jitter(&st->rtp));
	seqlock_write_end(&st->stats_seq);
}

static void stream_drop(struct dp_worker *w, struct pkt *p, enum dp_drop why)
{
	ctr_inc(why == DP_DROP_WRONG_SOURCE ? &p->st->wrong_source : &p->st->drops);
	dp_drop(w, p->m, why);
}

/* A relayed RTCP packet: a sender report is noted on its leg; a report block naming the
 * other leg's last sender report gives the round trip to this leg's peer. */
static void rtcp_note(struct dp_worker *w, struct pkt *p)
{
	struct rtcp_info ri;
	uint32_t len = rte_be_to_cpu_16(p->udp->dgram_len) - (uint32_t)sizeof(*p->udp);
	if (rtcp_parse((const uint8_t *)(p->udp + 1), len, &ri) != 0)
		return; /* relayed as it is (SRTCP, or not ours to judge) */
	uint32_t now_us = (uint32_t)(w->now / (dp.tsc_hz / 1000000u));
	if (ri.sr)
		atomic_store_explicit(&p->st->last_sr, rtcp_sr_word(ri.sr_ntp_mid, now_us),
				      memory_order_relaxed);
	if (ri.rb && p->cfg->other_st) {
		uint64_t sr = atomic_load_explicit(&p->cfg->other_st->last_sr, memory_order_relaxed);
		int64_t rtt = rtcp_rtt_us(sr, ri.lsr, ri.dlsr, now_us);
		if (rtt >= 0)
			ctr32_set(&p->st->rtt_us, rtt ? (uint32_t)rtt : 1);
	}
}

/* RTCP from the peer of a stream where mgw terminates RTCP (echo, transcoding): its sender
 * report is noted (our report blocks name it: LSR/DLSR), and a report block naming one of
 * ours gives the round trip, since our reports' NTP times are this worker's clock (dp_ntp). */
static void rtcp_note_own(struct dp_worker *w, struct pkt *p)
{
	struct rtcp_info ri;
	uint32_t len = rte_be_to_cpu_16(p->udp->dgram_len) - (uint32_t)sizeof(*p->udp);
	if (rtcp_parse((const uint8_t *)(p->udp + 1), len, &ri) != 0)
		return;
	uint32_t now_us = (uint32_t)(w->now / (dp.tsc_hz / 1000000u));
	if (ri.sr)
		atomic_store_explicit(&p->st->last_sr, rtcp_sr_word(ri.sr_ntp_mid, now_us),
				      memory_order_relaxed);
	if (ri.rb && ri.lsr) {
		uint32_t mid = (uint32_t)(dp_ntp(w->now) >> 16);
		uint32_t rtt = mid - ri.lsr - ri.dlsr; /* 1/65536 s */
		if (rtt < 10u * 65536u) {
			uint32_t us = (uint32_t)(((uint64_t)rtt * 1000000u) >> 16);
			ctr32_set(&p->st->rtt_us, us ? us : 1);
		}
	}
}

/* RTCP: relayed alongside RTP on relay streams (not transcoded ones), consumed and counted
 * otherwise, from the stream's (latched) RTCP peer only. The worker's rtcp counter is for
 * RTCP consumed, so that every packet is counted once: transmitted, consumed or dropped. */
static void rtcp_input(struct dp_worker *w, struct pkt *p)
{
	if (p->cfg->action == STREAM_DROP) {
		stream_drop(w, p, DP_DROP_STREAM);
		return;
	}
	if (unlikely(!net_accept(w, p))) {
		stream_drop(w, p, DP_DROP_WRONG_SOURCE);
		return;
	}
	ctr_inc(&p->st->rtcp_pkts);
	if (p->cfg->action == STREAM_RELAY && !stream_rtcp_terminated(p->cfg)) {
		rtcp_note(w, p);
		relay_packet(w, p);
		return;
	}
	ctr_inc(&w->stats.rtcp);
	rtcp_note_own(w, p);
	dp_free(p->m);
}

/* telephone-events on a stream whose peer negotiated them: reported once each; audio only
 * looks when one never ended. Out of line: streams without telephone-event never come here.
 * Returns -1 when the packet was dropped. */
static __attribute__((noinline)) int net_dtmf(struct dp_worker *w, struct pkt *p,
					      const struct rtp_hdr *rtp, uint32_t ulen)
{
	bool te = (rtp->mpt & 0x7f) == p->cfg->te_pt;
	if (!te && p->st->dtmf.state != STREAM_DTMF_ACTIVE)
		return 0;
	struct dtmf_report r;
	enum dtmf_verdict v = dtmf_rx(&p->st->dtmf, (const uint8_t *)rtp, ulen - sizeof(*p->udp),
				      te, &r);
	if (v == DTMF_REPORT) {
		net_post_dtmf(w, p->cfg, &r);
	} else if (v == DTMF_BAD) {
		stream_drop(w, p, DP_DROP_BAD_RTP);
		return -1;
	} else if (v == DTMF_ABSURD) {
		ctr_inc(&w->stats.dtmf_absurd);
	}
	return 0;
}

void net_vad_note(struct dp_worker *w, const struct stream_cfg *c, struct stream_state *st,
		  bool voice, uint64_t now)
{
	uint8_t was = st->talking;
	if (voice) {
		ctr_set(&st->last_talk_tsc, now);
		st->talking = 1;
	} else if (was && now - ctr_get(&st->last_talk_tsc) >=
				  dp.tsc_hz / 1000 * STREAM_TALK_HANGOVER_MS) {
		st->talking = 0;
	}
	if (st->talking != was && (c->vad & STREAM_VAD_EVENTS)) {
		struct msg_event ev = {.type = MSG_EV_TALK, .worker = (uint16_t)w->id,
				       .local_port = c->local_port, .local_ip = c->local_ip,
				       .stream_id = c->id, .talk = {.talking = st->talking}};
		dp_event(w, &ev);
	}
}

/* Voice activity on a stream that asks for it: when its G.711 audio was last above the
 * threshold (a transcoded leg's pipeline judges its decoded audio instead). */
static __attribute__((noinline)) void net_vad(struct dp_worker *w, struct pkt *p,
					      const struct rtp_hdr *rtp, uint32_t ulen)
{
	uint8_t law = p->cfg->vad & (uint8_t)~STREAM_VAD_EVENTS;
	uint8_t want = law == STREAM_VAD_PCMU ? 0 : 8;
	if (law == STREAM_VAD_DECODED || (rtp->mpt & 0x7f) != want)
		return;
	bool voice = vad_voice((const uint8_t *)rtp, ulen - sizeof(*p->udp), law);
	net_vad_note(w, p->cfg, p->st, voice, w->now);
}

/* In-band DTMF in the G.711 audio of a stream that asks for it (its peer took no
 * telephone-event). Out of line: other streams never come here. */
static __attribute__((noinline)) void net_inband(struct dp_worker *w, struct pkt *p,
						 const struct rtp_hdr *rtp, uint32_t ulen)
{
	uint8_t want = p->cfg->inband == STREAM_VAD_PCMU ? 0 : 8;
	size_t off, end, len = ulen - sizeof(*p->udp);
	if (p->cfg->inband == STREAM_VAD_DECODED || (rtp->mpt & 0x7f) != want ||
	    rtp_payload((const uint8_t *)rtp, len, &off, &end) != 0)
		return; /* (a transcoded leg's pipeline listens to its decoded audio) */
	struct dtmf_report r;
	if (dtmf_inband(&p->st->dtmf, (const uint8_t *)rtp + off, end - off, p->cfg->inband, &r) ==
	    DTMF_REPORT)
		net_post_dtmf(w, p->cfg, &r);
}

static void rtp_input(struct dp_worker *w, struct pkt *p)
{
	const struct rtp_hdr *rtp = (const struct rtp_hdr *)(p->udp + 1);
	uint32_t ulen = rte_be_to_cpu_16(p->udp->dgram_len);
	if (ulen - sizeof(*p->udp) < RTP_HDR_LEN || (rtp->vpxcc >> 6) != 2) {
		stream_drop(w, p, DP_DROP_BAD_RTP);
		return;
	}
	const struct stream_cfg *c = p->cfg;
	if (unlikely(c->action == STREAM_DROP || !(c->dir & STREAM_DIR_RECV))) {
		stream_drop(w, p, DP_DROP_STREAM);
		return;
	}
	if (unlikely(!net_accept(w, p))) {
		stream_drop(w, p, DP_DROP_WRONG_SOURCE);
		return;
	}
	net_count_rtp(w, p);
	/* RFC 4733 events (net_dtmf) */
	if (c->te_pt && unlikely(net_dtmf(w, p, rtp, ulen) < 0))
		return;
	if (unlikely(c->vad))
		net_vad(w, p, rtp, ulen);
	if (unlikely(c->inband))
		net_inband(w, p, rtp, ulen);
	if (c->action == STREAM_ECHO) {
		if (unlikely(c->dir & STREAM_DIR_PLAY)) /* mgw's player speaks meanwhile */
			dp_drop(w, p->m, DP_DROP_STREAM);
		else
			echo_rtp(w, p);
	} else {
		relay_packet(w, p);
	}
}

int net_stream_claim(struct dp_worker *w, const struct stream_cfg *c, struct stream_state *st)
{
	uint64_t id = c->id;
	uint64_t mine = id << 16 | (w->id + 1);
	uint64_t cur = atomic_load_explicit(&st->owner, memory_order_acquire);
	while (unlikely(cur != mine)) {
		if ((cur >> 16) == id)
			return (int)((cur & ~(uint64_t)STREAM_OWNER_RESETTING & 0xffff) - 1);
		/* an older stream's state (ids only grow on a slot): take it over */
		if (!atomic_compare_exchange_weak_explicit(&st->owner, &cur,
							   mine | STREAM_OWNER_RESETTING,
							   memory_order_acq_rel,
							   memory_order_acquire))
			continue;
		seqlock_write_begin(&st->stats_seq);
		ctr32_set(&st->rtp_received, 0);
		ctr32_set(&st->rtp_expected, 0);
		ctr32_set(&st->rtp_jitter, 0);
		ctr_set(&st->rx_pkts, 0);
		ctr_set(&st->rx_bytes, 0);
		ctr_set(&st->last_rx_tsc, 0);
		seqlock_write_end(&st->stats_seq);
		atomic_store_explicit(&st->peer, 0, memory_order_relaxed);
		atomic_store_explicit(&st->rtcp_peer, 0, memory_order_relaxed);
		ctr_set(&st->tx_pkts, 0);
		ctr_set(&st->rtcp_pkts, 0);
		ctr_set(&st->wrong_source, 0);
		ctr_set(&st->drops, 0);
		memset(&st->rtp, 0, sizeof(st->rtp));
		memset(&st->src, 0, sizeof(st->src));
		memset(&st->dtmf, 0, sizeof(st->dtmf));
		atomic_store_explicit(&st->last_sr, 0, memory_order_relaxed);
		ctr32_set(&st->rtt_us, 0);
		ctr_set(&st->last_talk_tsc, 0);
		st->talking = 0;
		atomic_store_explicit(&st->owner, mine, memory_order_release);
		break;
	}
	return -1;
}

/* A validated UDP datagram for one of our addresses: its stream, its owner, its action. */
static void stream_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
			 struct rte_udp_hdr *udp, int addr_idx, bool handed)
{
	uint16_t dport = rte_be_to_cpu_16(udp->dst_port);
	struct pkt p = {
		.m = m,
		.ip = ip,
		.udp = udp,
		.cfg = stream_table_lookup(dp.table, addr_idx, dport),
		.st = stream_table_state(dp.table, addr_idx, dport),
		.pi = m->hash.usr, /* set by net_input: the port index it arrived on */
		.rtcp = dport & 1,
	};
	if (!p.cfg) {
		dp_drop(w, m, DP_DROP_NO_STREAM);
		return;
	}
	int owner = net_stream_claim(w, p.cfg, p.st);
	if (unlikely(owner >= 0)) {
		if (handed || (unsigned)owner >= dp.n_workers)
			dp_drop(w, m, DP_DROP_HANDOFF); /* one hop at most */
		else
			dp_handoff(w, (unsigned)owner, m);
		return;
	}
	if (p.rtcp)
		rtcp_input(w, &p);
	else
		rtp_input(w, &p);
}

static inline int udp_cksum_ok(const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *udp,
				uint32_t l4_len)
{
	return net_cksum_sum(udp, l4_len, rte_ipv4_phdr_cksum(ip, 0)) == 0xffff;
}

static void udp_input(struct dp_worker *w, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
		      int addr_idx, uint32_t l4_len)
{
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)((uint8_t *)ip + rte_ipv4_hdr_len(ip));
	if (l4_len < sizeof(*udp) || rte_be_to_cpu_16(udp->dgram_len) != l4_len) {
		dp_drop(w, m, DP_DROP_BAD_UDP);
		return;
	}
	uint64_t l4_flags = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (l4_flags == RTE_MBUF_F_RX_L4_CKSUM_BAD ||
	    (l4_flags != RTE_MBUF_F_RX_L4_CKSUM_GOOD && udp->dgram_cksum != 0 &&
	     !udp_cksum_ok(ip, udp, l4_len))) {
		dp_drop(w, m, DP_DROP_BAD_UDP);
		return;
	}
	stream_input(w, m, ip, udp, addr_idx, false);
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
	ctr_inc(&w->stats.icmp_replies);
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
	m->l2_len = sizeof(*eth);
	m->l3_len = hlen;
	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		udp_input(w, m, ip, ai, tot - hlen);
		break;
	case IPPROTO_ICMP:
		icmp_input(w, pi, m, eth, ip, tot - hlen);
		break;
	default:
		dp_drop(w, m, DP_DROP_PROTO);
		break;
	}
}

void net_input(struct dp_worker *w, uint16_t pi, struct rte_mbuf *m)
{
	uint32_t len = rte_pktmbuf_data_len(m);
	if (len < sizeof(struct rte_ether_hdr)) {
		dp_drop(w, m, DP_DROP_BAD_L2);
		return;
	}
	m->hash.usr = pi; /* the port index, for the actions (and a hand-off) */
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

void net_output_udp(struct dp_worker *w, uint16_t pi, struct rte_mbuf *m, uint32_t src_ip,
		    uint16_t src_port, uint32_t dst_ip, uint16_t dst_port)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t l4 = (uint16_t)(rte_pktmbuf_data_len(m) - sizeof(*eth) - sizeof(*ip));
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	rte_ether_addr_copy(&dp.port_mac[pi], &eth->src_addr);
	ip->version_ihl = 0x45;
	ip->type_of_service = 0xb8; /* DSCP EF (46): voice, and its RTCP */
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4));
	ip->packet_id = 0;
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = src_ip;
	ip->dst_addr = dst_ip;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = src_port;
	udp->dst_port = dst_port;
	udp->dgram_len = rte_cpu_to_be_16(l4);
	udp->dgram_cksum = 0;
	uint16_t sum = rte_ipv4_udptcp_cksum(ip, udp);
	udp->dgram_cksum = sum ? sum : 0xffff;
	m->ol_flags = 0;
	uint32_t hop = (dst_ip & dp.cfg.netmask) == dp.cfg.subnet || !dp.cfg.gateway
			       ? dst_ip : dp.cfg.gateway;
	const struct rte_ether_addr *mac = arp_resolve(w, pi, hop);
	if (unlikely(!mac)) {
		/* an ARP request is out: the packet waits for the answer (a few at most) */
		if (arp_hold(w, pi, hop, m) != 0)
			dp_drop(w, m, DP_DROP_NO_NEIGH);
		return;
	}
	rte_ether_addr_copy(mac, &eth->dst_addr);
	dp_tx(w, pi, m);
}

void net_input_handoff(struct dp_worker *w, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)((uint8_t *)ip + m->l3_len);
	int ai = stream_table_addr_index(dp.table, ip->dst_addr);
	stream_input(w, m, ip, udp, ai, true);
}
