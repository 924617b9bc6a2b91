#include "dataplane/worker.h"

#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

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
		default:
			break;
		}
	}
}

static void worker_rx(struct dp_worker *w, uint16_t pi)
{
	struct rte_mbuf *pkts[DP_BURST];
	uint16_t n = rte_eth_rx_burst(dp.port_ids[pi], w->queue, pkts, DP_BURST);
	if (n == 0) {
		w->stats.idle++;
		return;
	}
	w->stats.busy++;
	w->stats.rx += n;
	w->now = rte_rdtsc();
	for (uint16_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (uint16_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + PREFETCH_AHEAD], void *));
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
	for (uint16_t pi = 0; pi < dp.n_ports; pi++)
		dp_tx_flush(w, pi);
	rcu_thread_offline();
	rcu_unregister_thread();
	return 0;
}
