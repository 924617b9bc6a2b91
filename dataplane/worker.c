#include "dataplane/worker.h"

#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_interrupts.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include "dataplane/net.h"
#include "util/tsan.h"

#define PREFETCH_AHEAD 4

/* Adaptive idle: after IDLE_SPIN_US without a packet the worker pauses between polls, after
 * IDLE_SLEEP_AFTER_US it sleeps: on its queues' RX interrupts when every port has them
 * (waking at the latest after IDLE_INTR_WAIT_MS, for commands), otherwise in short sleeps
 * that double from IDLE_SLEEP_MIN_US to IDLE_SLEEP_MAX_US, so that traffic finds it awake
 * within about IDLE_SLEEP_MAX_US plus the kernel's timer slack. Any packet resets it. */
#define IDLE_SPIN_US 200
#define IDLE_SLEEP_AFTER_US 2000
#define IDLE_SLEEP_MIN_US 10
#define IDLE_SLEEP_MAX_US 100
#define IDLE_INTR_WAIT_MS 10

void dp_worker_init(struct dp_worker *w, unsigned id, unsigned lcore, uint16_t queue)
{
	struct rte_ring *cmd = w->cmd_ring, *handoff = w->handoff;
	struct player player = w->player;
	struct rtcp_tx rtcp_tx = w->rtcp_tx;
	memset(w, 0, sizeof(*w));
	w->player = player;
	w->rtcp_tx = rtcp_tx;
	w->id = id;
	w->lcore = lcore;
	w->queue = queue;
	w->cmd_ring = cmd;
	w->handoff = handoff;
	arp_cache_init(&w->arp, dp.tsc_hz ? dp.tsc_hz : rte_get_tsc_hz());
}


void dp_tx_flush(struct dp_worker *w, uint16_t pi)
{
	struct dp_txq *q = &w->txq[pi];
	if (q->n == 0)
		return;
	if (unlikely(!dp_link_up(pi))) {
		for (uint16_t i = 0; i < q->n; i++)
			dp_drop(w, q->pkts[i], DP_DROP_LINK_DOWN);
		q->n = 0;
		return;
	}
#ifdef MGW_TSAN
	for (uint16_t i = 0; i < q->n; i++)
		TSAN_RELEASE(q->pkts[i]); /* to whatever reads the port's other end */
#endif
	uint16_t sent = rte_eth_tx_burst(dp.port_ids[pi], w->queue, q->pkts, q->n);
	ctr_add(&w->stats.tx, sent);
	for (uint16_t i = sent; i < q->n; i++)
		dp_drop(w, q->pkts[i], DP_DROP_TX_FULL);
	q->n = 0;
}

void dp_event(struct dp_worker *w, const struct msg_event *ev)
{
	TSAN_RELEASE(dp.ev_ring);
	if (rte_ring_mp_enqueue_elem(dp.ev_ring, (void *)(uintptr_t)ev, sizeof(*ev)) != 0)
		ctr_inc(&w->stats.events_lost);
}

void dp_handoff(struct dp_worker *w, unsigned owner, struct rte_mbuf *m)
{
	TSAN_RELEASE(m);
	if (rte_ring_mp_enqueue(dp.workers[owner]->handoff, m) != 0) {
		dp_drop(w, m, DP_DROP_HANDOFF);
		return;
	}
	ctr_inc(&w->stats.handoff_out);
}

/* At most this many commands per visit: a batch of plays (thousands of announcements
 * started at once) must not hold up the packets for milliseconds. */
#define WORKER_CMD_BUDGET 64

void dp_worker_commands(struct dp_worker *w)
{
	struct msg_cmd cmd;
	for (unsigned k = 0; k < WORKER_CMD_BUDGET &&
			     rte_ring_sc_dequeue_elem(w->cmd_ring, &cmd, sizeof(cmd)) == 0;
	     k++) {
		TSAN_ACQUIRE(w->cmd_ring);
		switch (cmd.type) {
		case MSG_CMD_QUIT:
			w->running = false;
			break;
		case MSG_CMD_ARP_FLUSH:
			arp_cache_flush(&w->arp);
			break;
		case MSG_CMD_STATS_RESET:
			ctr_set(&w->stats.loop_gap_max, 0);
			ctr_set(&w->stats.play_late_max, 0);
			break;
		case MSG_CMD_PLAY:
			player_start(w, &cmd);
			break;
		case MSG_CMD_RTCP:
			rtcp_tx_start(w, &cmd);
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
static inline struct stream_cfg *_Atomic *worker_peek_slot(const struct rte_mbuf *m,
							   struct stream_state **st)
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
	uint16_t port = rte_be_to_cpu_16(udp->dst_port);
	*st = stream_table_state(dp.table, ai, port);
	return stream_table_slot(dp.table, ai, port);
}

/* One burst, as three passes over it so that the memory a packet needs is on its way before
 * the packet is handled: table slots and states, then configs, then the packets themselves
 * (with the other leg of a relay prefetched a few packets ahead). */
static unsigned worker_rx(struct dp_worker *w, uint16_t pi)
{
	struct rte_mbuf *pkts[DP_BURST];
	struct stream_cfg *_Atomic *slot[DP_BURST];
	const struct stream_cfg *cfg[DP_BURST];
	uint16_t n = rte_eth_rx_burst(dp.port_ids[pi], w->queue, pkts, DP_BURST);
	if (n == 0)
		return 0;
	ctr_add(&w->stats.rx, n);
	w->now = rte_rdtsc();
	for (uint16_t i = 0; i < n; i++) {
		struct stream_state *st = NULL;
		TSAN_ACQUIRE(pkts[i]); /* written by whatever fed the port's other end */
		slot[i] = worker_peek_slot(pkts[i], &st);
		if (slot[i]) {
			rte_prefetch0(slot[i]);
			rte_prefetch0(st);
			rte_prefetch0((const char *)st + RTE_CACHE_LINE_SIZE);
		}
	}
	for (uint16_t i = 0; i < n; i++) {
		cfg[i] = slot[i] ? atomic_load_explicit(slot[i], memory_order_acquire) : NULL;
		if (cfg[i])
			rte_prefetch0(cfg[i]);
	}
	for (uint16_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n && cfg[i + PREFETCH_AHEAD]) {
			const struct stream_cfg *o = cfg[i + PREFETCH_AHEAD]->other;
			if (o) {
				rte_prefetch0(o);
				rte_prefetch0(cfg[i + PREFETCH_AHEAD]->other_st);
			}
		}
		net_input(w, pi, pkts[i]);
	}
	return n;
}

static unsigned worker_handoff_rx(struct dp_worker *w)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(w->handoff, (void **)pkts, DP_BURST, NULL);
	if (n == 0)
		return 0;
	ctr_add(&w->stats.handoff_in, n);
	w->now = rte_rdtsc();
	for (unsigned i = 0; i < n; i++) {
		TSAN_ACQUIRE(pkts[i]);
		net_input_handoff(w, pkts[i]);
	}
	return n;
}

unsigned dp_worker_poll(struct dp_worker *w)
{
	unsigned got = 0;
	for (uint16_t pi = 0; pi < dp.n_ports; pi++) {
		if (likely(dp_link_up(pi)))
			got += worker_rx(w, pi);
	}
	got += worker_handoff_rx(w);
	player_poll(w);
	rtcp_tx_poll(w);
	for (uint16_t pi = 0; pi < dp.n_ports; pi++)
		dp_tx_flush(w, pi);
	return got;
}

/* RX interrupts for this thread on every port's queue: all or nothing. */
static bool worker_intr_setup(struct dp_worker *w)
{
	for (uint16_t pi = 0; pi < dp.n_ports; pi++) {
		if (rte_eth_dev_rx_intr_ctl_q(dp.port_ids[pi], w->queue, RTE_EPOLL_PER_THREAD,
					      RTE_INTR_EVENT_ADD, NULL) != 0) {
			for (uint16_t k = 0; k < pi; k++)
				rte_eth_dev_rx_intr_ctl_q(dp.port_ids[k], w->queue,
							  RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_DEL,
							  NULL);
			return false;
		}
	}
	return true;
}

static void worker_intr_arm(struct dp_worker *w, bool on)
{
	for (uint16_t pi = 0; pi < dp.n_ports; pi++) {
		if (on)
			rte_eth_dev_rx_intr_enable(dp.port_ids[pi], w->queue);
		else
			rte_eth_dev_rx_intr_disable(dp.port_ids[pi], w->queue);
	}
	w->intr_armed = on;
}

/* Another thread holds the workers outside the PMDs (dp_workers_pause): wait here. */
static void worker_pause_point(struct dp_worker *w)
{
	while (unlikely(atomic_load(&dp.pause_req))) {
		atomic_store(&w->state, DP_W_PAUSED);
		while (atomic_load(&dp.pause_req))
			rte_pause();
		atomic_store(&w->state, DP_W_RUN);
	}
}

void dp_workers_pause(void)
{
	if (!dp.launched)
		return;
	atomic_fetch_add(&dp.pause_req, 1);
	for (unsigned i = 0; i < dp.n_workers; i++)
		while (atomic_load(&dp.workers[i]->state) == DP_W_RUN && dp.workers[i]->running)
			rte_pause();
}

void dp_workers_resume(void)
{
	if (dp.launched)
		atomic_fetch_sub(&dp.pause_req, 1);
}

/* Nothing to do for a while: sleep until packets come (or a little while), off the RCU read
 * side so that no grace period waits for an idle worker. Never with packets waiting to go. */
static void worker_sleep(struct dp_worker *w)
{
	atomic_store(&w->state, DP_W_SLEEP);
	stream_rcu_offline();
	if (w->intr_ok && w->player.n == 0) { /* (a player wakes up for its next frame) */
		struct rte_epoll_event ev[DP_MAX_PORTS];
		worker_intr_arm(w, true);
		bool pending = rte_ring_count(w->handoff) != 0;
		for (uint16_t pi = 0; pi < dp.n_ports && !pending; pi++)
			pending = rte_eth_rx_queue_count(dp.port_ids[pi], w->queue) > 0;
		if (!pending)
			rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, DP_MAX_PORTS, IDLE_INTR_WAIT_MS);
		worker_intr_arm(w, false);
	} else {
		struct timespec ts = {.tv_nsec = (long)w->sleep_us * 1000};
		nanosleep(&ts, NULL);
		w->sleep_us = w->sleep_us * 2 > IDLE_SLEEP_MAX_US ? IDLE_SLEEP_MAX_US
								  : w->sleep_us * 2;
	}
	rcu_thread_online();
	atomic_store(&w->state, DP_W_RUN);
	worker_pause_point(w); /* seq_cst: a pause asked while asleep is seen here */
	ctr_inc(&w->stats.sleeps);
}

/* After an empty loop: returns true when the worker slept (the loop gap then says nothing
 * about the loop itself). */
static bool worker_idle(struct dp_worker *w)
{
	if (dp.cfg.idle == DP_IDLE_POLL)
		return false;
	uint64_t now = rte_rdtsc();
	if (w->idle_polls++ == 0)
		w->idle_since = now;
	uint64_t idle = now - w->idle_since;
	if (idle < dp.tsc_hz / 1000000 * IDLE_SPIN_US)
		return false;
	if (idle < dp.tsc_hz / 1000000 * IDLE_SLEEP_AFTER_US) {
		rte_pause();
		return false;
	}
	/* nor while the player has due entries it ran out of time for */
	if (rte_ring_count(w->handoff) != 0 || w->player.pending >= 0)
		return false;
	for (uint16_t pi = 0; pi < dp.n_ports; pi++)
		if (w->txq[pi].n)
			return false;
	worker_sleep(w);
	return true;
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	rcu_register_thread();
	w->running = true;
	w->sleep_us = IDLE_SLEEP_MIN_US;
	w->intr_ok = dp.cfg.idle == DP_IDLE_ADAPTIVE && worker_intr_setup(w);
	uint64_t last = rte_rdtsc();
	while (w->running) {
		uint64_t t = rte_rdtsc();
		if (unlikely(t - last > ctr_get(&w->stats.loop_gap_max)))
			ctr_set(&w->stats.loop_gap_max, t - last);
		last = t;
		worker_pause_point(w);
		unsigned got = dp_worker_poll(w);
		ctr_inc(&w->stats.loops);
		if (got) {
			ctr_inc(&w->stats.busy);
			w->idle_polls = 0;
			w->sleep_us = IDLE_SLEEP_MIN_US;
		} else {
			ctr_inc(&w->stats.idle);
			if (worker_idle(w))
				last = rte_rdtsc();
		}
		if (unlikely((ctr_get(&w->stats.loops) & 255) == 0 || w->idle_polls > 64))
			dp_worker_commands(w);
		stream_rcu_quiescent();
	}
	arp_cache_flush(&w->arp); /* packets still waiting for a neighbour */
	for (uint16_t pi = 0; pi < dp.n_ports; pi++)
		dp_tx_flush(w, pi);
	stream_rcu_offline();
	rcu_unregister_thread();
	return 0;
}
