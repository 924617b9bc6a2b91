#include "dataplane/worker.h"

#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include "dataplane/net.h"

#define PREFETCH_AHEAD 4

void dp_worker_init(struct dp_worker *w, unsigned id, unsigned lcore, uint16_t queue)
{
	struct rte_ring *cmd = w->cmd_ring;
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->lcore = lcore;
	w->queue = queue;
	w->cmd_ring = cmd;
	arp_cache_init(&w->arp, dp.tsc_hz ? dp.tsc_hz : rte_get_tsc_hz());
}

void dp_tx_flush(struct dp_worker *w, uint16_t pi)
{
	struct dp_txq *q = &w->txq[pi];
	if (q->n == 0)
		return;
	uint16_t sent = rte_eth_tx_burst(dp.port_ids[pi], w->queue, q->pkts, q->n);
	w->stats.tx += sent;
	for (uint16_t i = sent; i < q->n; i++)
		dp_drop(w, q->pkts[i], DP_DROP_TX_FULL);
	q->n = 0;
}

void dp_event(struct dp_worker *w, const struct msg_event *ev)
{
	if (rte_ring_mp_enqueue_elem(dp.ev_ring, (void *)(uintptr_t)ev, sizeof(*ev)) != 0)
		w->stats.events_lost++;
}

static void worker_commands(struct dp_worker *w)
{
	struct msg_cmd cmd;
	while (rte_ring_sc_dequeue_elem(w->cmd_ring, &cmd, sizeof(cmd)) == 0) {
		switch (cmd.type) {
		case MSG_CMD_QUIT:
			w->running = false;
			break;
		case MSG_CMD_ARP_FLUSH:
			arp_cache_flush(&w->arp);
			break;
		case MSG_CMD_STATS_RESET:
			w->stats.loop_gap_max = 0;
			break;
		case MSG_CMD_NEIGH: {
			struct rte_ether_addr mac;
			memcpy(mac.addr_bytes, cmd.mac, sizeof(cmd.mac));
			arp_learn(w, cmd.ip, &mac);
			break;
		}
		default:
			break;
		}
	}
}

/* Where a frame's stream sits in the table, read with the few checks needed to read it
 * safely; net_input() validates everything. Used to prefetch a burst's streams. */
static inline struct stream **worker_peek_slot(const struct rte_mbuf *m)
{
	if (rte_pktmbuf_data_len(m) < sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
					      sizeof(struct rte_udp_hdr))
		return NULL;
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);
	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) || ip->version_ihl != 0x45 ||
	    ip->next_proto_id != IPPROTO_UDP)
		return NULL;
	int ai = stream_table_addr_index(dp.table, ip->dst_addr);
	if (ai < 0)
		return NULL;
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(ip + 1);
	return &dp.table->slots[ai][rte_be_to_cpu_16(udp->dst_port) >> 1];
}

/* One burst, as three passes over it so that the memory a packet needs is on its way before
 * the packet is handled: table slots, then streams, then the packets themselves (with the
 * other leg of a relay prefetched a few packets ahead). */
static void worker_rx(struct dp_worker *w, uint16_t pi)
{
	struct rte_mbuf *pkts[DP_BURST];
	struct stream **slot[DP_BURST];
	struct stream *st[DP_BURST];
	uint16_t n = rte_eth_rx_burst(dp.port_ids[pi], w->queue, pkts, DP_BURST);
	if (n == 0) {
		w->stats.idle++;
		return;
	}
	w->stats.busy++;
	w->stats.rx += n;
	w->now = rte_rdtsc();
	for (uint16_t i = 0; i < n; i++) {
		slot[i] = worker_peek_slot(pkts[i]);
		if (slot[i])
			rte_prefetch0(slot[i]);
	}
	for (uint16_t i = 0; i < n; i++) {
		st[i] = slot[i] ? rcu_dereference(*slot[i]) : NULL;
		if (st[i]) {
			rte_prefetch0(st[i]);
			rte_prefetch0(&st[i]->rt);
		}
	}
	for (uint16_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n && st[i + PREFETCH_AHEAD]) {
			const struct stream *o = st[i + PREFETCH_AHEAD]->other;
			if (o) {
				rte_prefetch0(o);
				rte_prefetch0(&o->rt);
			}
		}
		net_input(w, pi, pkts[i]);
	}
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	rcu_register_thread();
	w->running = true;
	uint64_t last = rte_rdtsc();
	while (w->running) {
		uint64_t t = rte_rdtsc();
		if (unlikely(t - last > w->stats.loop_gap_max))
			w->stats.loop_gap_max = t - last;
		last = t;
		for (uint16_t pi = 0; pi < dp.n_ports; pi++) {
			worker_rx(w, pi);
			dp_tx_flush(w, pi);
		}
		w->stats.loops++;
		if (unlikely((w->stats.loops & 255) == 0))
			worker_commands(w);
		rcu_quiescent_state();
	}
	arp_cache_flush(&w->arp); /* packets still waiting for a neighbour */
	for (uint16_t pi = 0; pi < dp.n_ports; pi++)
		dp_tx_flush(w, pi);
	rcu_thread_offline();
	rcu_unregister_thread();
	return 0;
}
