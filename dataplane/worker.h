/* worker: the poll-mode worker and the data plane's internal state. Not for the control plane
 * (which uses dp.h); shared by the packet modules (net, arp, actions) of the data plane. */
#ifndef MGW_WORKER_H
#define MGW_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/arp.h"
#include "dataplane/dp.h"
#include "dataplane/player.h"
#include "dataplane/rtcp_tx.h"
#include "util/tsan.h"

#define DP_TX_BUF 64
#define DP_HANDOFF_RING_SIZE 2048

/* Data plane state set up by dp_init() and read-only once the workers run, but for link_up. */
struct dp_ctx {
	struct dp_config cfg;
	struct stream_table *table;
	uint16_t n_ports;
	uint16_t n_workers;
	uint16_t port_ids[DP_MAX_PORTS];
	struct rte_ether_addr port_mac[DP_MAX_PORTS];
	struct rte_mempool *pool;
	struct rte_ring *ev_ring; /* MPSC, worker -> control */
	uint64_t tsc_hz;
	uint64_t ntp0, tsc0;      /* the wall clock (NTP 32.32) at TSC tsc0, for RTCP reports */
	struct dp_worker *workers[DP_MAX_WORKERS];
	/* written by the control plane (dp_poll_links), read by the workers every loop */
	_Atomic uint8_t link_up[DP_MAX_PORTS];
	/* written by a thread that must not race with the workers' polling (dp_workers_pause) */
	_Atomic uint32_t pause_req;
	bool launched;
};

/* What a worker is doing, for dp_workers_pause(). Written by the worker only. */
enum dp_worker_state {
	DP_W_RUN = 0,    /* polling: may be inside a PMD's rx or tx burst */
	DP_W_PAUSED = 1, /* waiting at the top of its loop for pause_req to clear */
	DP_W_SLEEP = 2,  /* idle, asleep: checks pause_req before it polls again */
};

extern struct dp_ctx dp;

/** The wall clock at TSC reading @tsc, as an NTP timestamp (32.32), without a system call. */
static inline uint64_t dp_ntp(uint64_t tsc)
{
	return dp.ntp0 + (uint64_t)(((unsigned __int128)(tsc - dp.tsc0) << 32) / dp.tsc_hz);
}

struct dp_txq {
	uint16_t n;
	struct rte_mbuf *pkts[DP_TX_BUF];
};

/* A worker. Everything here is private to its thread but stats (read by the control plane,
 * atomic words) and the rings, which other threads enqueue to. */
struct dp_worker {
	unsigned id;
	unsigned lcore;
	uint16_t queue;              /* this worker's RX and TX queue on every port */
	bool running;
	uint64_t now;                /* rte_rdtsc() at the start of the current burst */
	struct rte_ring *cmd_ring;   /* SPSC, control -> this worker */
	struct rte_ring *handoff;    /* MPSC, other workers -> this worker: packets of streams
				      * this worker owns */
	struct dp_worker_stats stats;
	struct dp_txq txq[DP_MAX_PORTS];
	struct arp_cache arp;
	struct player player;        /* streams this worker plays (mgw as the RTP source) */
	struct rtcp_tx rtcp_tx;      /* echo streams this worker sends RTCP reports on */
	/* adaptive idle */
	uint32_t idle_polls;         /* consecutive loops without a packet */
	uint64_t idle_since;         /* tsc of the first of them */
	uint32_t sleep_us;           /* current back-off */
	bool intr_ok;                /* every port's queue has an RX interrupt for this thread */
	bool intr_armed;
	_Atomic uint32_t state;      /* enum dp_worker_state */
};

/** Send everything buffered for port index @pi (or drop it when the link is down). */
void dp_tx_flush(struct dp_worker *w, uint16_t pi);

/** Buffer @m for transmission on port index @pi (flushed once per loop, or when full). */
static inline void dp_tx(struct dp_worker *w, uint16_t pi, struct rte_mbuf *m)
{
	struct dp_txq *q = &w->txq[pi];
	if (q->n == DP_TX_BUF)
		dp_tx_flush(w, pi);
	q->pkts[q->n++] = m;
}

/* An mbuf goes back to the pool: the next thread that allocates it writes it. The mempool
 * passes it on in code ThreadSanitizer does not see, hence the annotation (none in other
 * builds). */
static inline void dp_free(struct rte_mbuf *m)
{
#ifdef MGW_TSAN
	while (m) { /* rte_pktmbuf_free(), with the release after its last touch of a segment */
		struct rte_mbuf *next = m->next, *seg = rte_pktmbuf_prefree_seg(m);
		if (seg) {
			TSAN_RELEASE(seg);
			rte_mbuf_raw_free(seg);
		}
		m = next;
	}
#else
	rte_pktmbuf_free(m);
#endif
}

static inline struct rte_mbuf *dp_alloc(void)
{
	struct rte_mbuf *m = rte_mbuf_raw_alloc(dp.pool);
	if (m) {
		TSAN_ACQUIRE(m);
		rte_pktmbuf_reset(m);
	}
	return m;
}

static inline void dp_drop(struct dp_worker *w, struct rte_mbuf *m, enum dp_drop why)
{
	ctr_inc(&w->stats.drop[why]);
	dp_free(m);
}

static inline bool dp_link_up(uint16_t pi)
{
	return atomic_load_explicit(&dp.link_up[pi], memory_order_relaxed) != 0;
}

/** Post an event to the control plane; counted as lost when the ring is full. */
void dp_event(struct dp_worker *w, const struct msg_event *ev);

/** Hand @m (a validated packet of a stream owned by worker @owner) to that worker. */
void dp_handoff(struct dp_worker *w, unsigned owner, struct rte_mbuf *m);

/** Initialise a worker's private state (also used by unit tests that drive net_input()). */
void dp_worker_init(struct dp_worker *w, unsigned id, unsigned lcore, uint16_t queue);

/** One pass of the poll loop over every port and the hand-off ring; returns the packets it
 *  handled (the stress test drives workers with it). */
unsigned dp_worker_poll(struct dp_worker *w);
/** Carry out the commands waiting in the worker's ring (a bounded number per call). */
void dp_worker_commands(struct dp_worker *w);

/** The poll loop, launched on a worker lcore with a struct dp_worker * argument. */
int dp_worker_main(void *arg);

#endif
