/* sink: the receive side of the packet loop (see loop.h): ARP, stamps, latency. */
#include "bench/loop.h"

#include <string.h>

#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_prefetch.h>

#define SINK_BURSTS 4 /* bursts per poll: lets the RX side keep up with one TX burst */

int sink_arp_request(struct loop *lp, uint32_t sender, uint32_t target)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(lp->l->rx_pool);
	if (!m)
		return -1;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	memset(eth->dst_addr.addr_bytes, 0xff, RTE_ETHER_ADDR_LEN);
	eth->src_addr = lp->l->mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	arp->arp_data.arp_sha = lp->l->mac;
	arp->arp_data.arp_sip = sender;
	memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_tip = target;
	m->data_len = m->pkt_len = 60;
	if (rte_eth_tx_burst(lp->l->port, 0, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		return -1;
	}
	lp->st.arp_sent++;
	return 0;
}

/* Answer requests for our addresses in place, learn the target's MAC from its reply.
 * Returns 1 when @m was sent back (consumed). */
static int sink_arp(struct loop *lp, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	if (m->data_len < sizeof(*eth) + sizeof(*arp))
		return 0;
	uint16_t op = rte_be_to_cpu_16(arp->arp_opcode);
	if (op == RTE_ARP_OP_REPLY && arp->arp_data.arp_sip == lp->arp_target) {
		flow_set_dst_mac(lp->t, &arp->arp_data.arp_sha);
		lp->have_dst_mac = 1;
		return 0;
	}
	if (op != RTE_ARP_OP_REQUEST || !flow_is_ours(lp->t, arp->arp_data.arp_tip))
		return 0;
	uint32_t ip = arp->arp_data.arp_tip;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	arp->arp_data.arp_sha = lp->l->mac;
	arp->arp_data.arp_sip = ip;
	eth->dst_addr = eth->src_addr;
	eth->src_addr = lp->l->mac;
	if (rte_eth_tx_burst(lp->l->port, 0, &m, 1) != 1)
		return 0;
	lp->st.arp_answered++;
	return 1;
}

/* Deleted pairs (odd index once the delete was sent): what arrives for them must have left
 * before the reply. */
static void sink_deleted(struct loop *lp, uint64_t sent_tsc)
{
	if (lp->t_del_reply && sent_tsc > lp->t_del_reply)
		lp->st.late_deleted++;
	else
		lp->st.rx_deleted++;
}

static void sink_stamp(struct loop *lp, struct rte_mbuf *m, const uint8_t *p, uint64_t now)
{
	struct flow_stamp st;
	if (m->data_len < FLOW_MIN_FRAME || p[14] != 0x45) {
		lp->st.foreign++;
		return;
	}
	memcpy(&st, p + FLOW_HDR_LEN, sizeof(st));
	if (st.magic != FLOW_MAGIC || st.stream >= lp->t->n) {
		lp->st.foreign++;
		return;
	}
	if (lp->ctl) {
		uint32_t dip;
		uint16_t dport;
		memcpy(&dip, p + 30, 4);
		memcpy(&dport, p + 36, 2);
		if (flow_stream_of(lp->t, dip, dport) != st.stream)
			lp->st.misrouted++;
		/* It must leave mgwd from the other leg of its pair: the local endpoint that
		 * the pair's other stream sends to (stream s ^ 1). */
		const struct flow *other = &lp->t->f[st.stream ^ 1u];
		uint32_t src_ip;
		uint16_t src_port;
		memcpy(&src_ip, p + 26, 4);
		memcpy(&src_port, p + 34, 2);
		if (src_ip != other->dst_ip || src_port != other->dst_port)
			lp->st.wrong_source_leg++;
		if (lp->t_del_req && (st.stream / 2) % 2 == 1)
			sink_deleted(lp, st.tsc);
	}
	lp->t->f[st.stream].rx++;
	lp->st.rx_total++;
	if (lp->t_probe && st.tsc >= lp->t_probe) {
		lp->st.idle_received++;
		hist_add(&lp->st.idle_lat, now - st.tsc);
	} else if (st.tsc >= lp->t0 && st.tsc < lp->t1) {
		lp->st.received++;
		hist_add(&lp->st.lat, now - st.tsc);
	}
}

/* --announce: an RTP packet mgwd played to a pair's A peer: its stream (by the address it
 * came to), its sequence number, when it came. */
static void sink_ann(struct loop *lp, struct rte_mbuf *m, const uint8_t *p, uint64_t now)
{
	uint32_t dip;
	uint16_t dport;
	if (m->data_len < FLOW_HDR_LEN || p[14] != 0x45 || p[23] != IPPROTO_UDP) {
		lp->st.foreign++;
		return;
	}
	memcpy(&dip, p + 30, 4);
	memcpy(&dport, p + 36, 2);
	uint32_t s = flow_stream_of(lp->t, dip, dport);
	if (s == FLOW_NONE) {
		lp->st.foreign++;
		return;
	}
	struct loop_ann *a = &lp->ann[s];
	uint16_t seq = (uint16_t)(p[44] << 8 | p[45]);
	if (!a->seen) {
		a->seen = 1;
		lp->st.ann_streams++;
	} else if (now >= lp->t0 && now < lp->t1) {
		uint16_t gap = (uint16_t)(seq - a->last_seq);
		if (gap > 1 && gap < 32768)
			lp->st.ann_lost += gap - 1u;
		uint64_t dt = now - a->last_tsc, want = lp->hz / 50;
		hist_add(&lp->st.ann_dev, dt > want ? dt - want : want - dt);
		lp->st.ann_received++;
	}
	a->last_seq = seq;
	a->last_tsc = now;
	lp->st.rx_total++;
}

void sink_poll(struct loop *lp, uint64_t now)
{
	struct rte_mbuf *pkts[LINK_BURST], *drop[LINK_BURST];

	for (int b = 0; b < SINK_BURSTS; b++) {
		uint16_t n = rte_eth_rx_burst(lp->l->port, 0, pkts, LINK_BURST), nd = 0;
		for (uint16_t i = 0; i < n && i < 4; i++)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
		for (uint16_t i = 0; i < n; i++) {
			if (i + 4 < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
			struct rte_mbuf *m = pkts[i];
			const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
			uint16_t type;
			memcpy(&type, p + 12, 2);
			if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
				if (lp->ann)
					sink_ann(lp, m, p, now);
				else
					sink_stamp(lp, m, p, now);
			} else if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
				if (sink_arp(lp, m))
					continue;
			} else {
				lp->st.foreign++;
			}
			drop[nd++] = m;
		}
		rte_pktmbuf_free_bulk(drop, nd);
		if (n < LINK_BURST)
			break;
	}
}
