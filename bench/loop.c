/* loop: the send side and the phases of the packet loop (see loop.h). */
#include "bench/loop.h"

#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#define LOOP_PREFETCH 8 /* streams ahead */

void loop_init(struct loop *lp, const struct opts *o, struct flow_table *t, struct link *l,
	       struct ctl *ctl, const struct flow_pair *pairs)
{
	memset(lp, 0, sizeof(*lp));
	lp->o = o;
	lp->t = t;
	lp->l = l;
	lp->ctl = ctl;
	lp->pairs = pairs;
	lp->hz = rte_get_tsc_hz();
	hist_reset(&lp->st.lat);
	hist_reset(&lp->st.idle_lat);
	hist_reset(&lp->st.ann_dev);
}

int loop_resolve(struct loop *lp, unsigned timeout_ms)
{
	uint64_t start = rte_rdtsc(), next = start;
	uint64_t limit = start + lp->hz * timeout_ms / 1000;

	lp->arp_target = lp->t->f[0].dst_ip;
	while (!lp->have_dst_mac) {
		uint64_t now = rte_rdtsc();
		if (now >= limit)
			return -1;
		if (now >= next) {
			/* From every bench address, so that mgwd learns each of them at once. */
			for (uint32_t k = 0; k < lp->t->n_ips; k++)
				sink_arp_request(lp, rte_cpu_to_be_32(lp->t->ip + 256u * k),
						 lp->arp_target);
			next = now + lp->hz / 10;
		}
		sink_poll(lp, now);
	}
	return 0;
}

/* How many frames the token bucket allows now (a full burst when flat out). */
static unsigned loop_budget(struct loop *lp, uint64_t now)
{
	if (lp->o->pps == 0)
		return LINK_BURST;
	uint64_t cap = 8ull * LINK_BURST * lp->hz; /* catch up after a slow loop */
	lp->credit += (now - lp->last) * lp->o->pps;
	lp->last = now;
	if (lp->credit > cap)
		lp->credit = cap;
	uint64_t n = lp->credit / lp->hz;
	return n > LINK_BURST ? LINK_BURST : (unsigned)n;
}

/* Streams that were sent: next sequence numbers, and the delete bookkeeping. */
static uint32_t loop_commit(struct loop *lp, uint32_t s, unsigned sent)
{
	struct flow *f = lp->t->f;
	uint32_t step = lp->o->one_way ? 2 : 1;
	for (unsigned i = 0; i < sent; i++) {
		f[s].seq++;
		if (lp->t_del_req && (s / 2) % 2 == 1) {
			if (lp->t_del_reply)
				lp->st.sent_deleted++;
			else
				lp->st.sent_deleting++;
		}
		s = s + step >= lp->t->n ? 0 : s + step;
	}
	return s;
}

static void loop_tx(struct loop *lp, uint64_t now)
{
	struct rte_mbuf *m[LINK_BURST];
	struct flow *f = lp->t->f;
	uint32_t n = lp->t->n, s = lp->cursor, step = lp->o->one_way ? 2 : 1;
	unsigned want = loop_budget(lp, now);

	if (want == 0 || rte_pktmbuf_alloc_bulk(lp->l->tx_pool, m, want) != 0)
		return;
	for (unsigned i = 0; i < want; i++) {
		uint32_t ahead = s + LOOP_PREFETCH * step;
		rte_prefetch0(&f[ahead >= n ? ahead - n : ahead]);
		if (lp->t->audio)
			flow_build_audio(lp->t, s, &f[s], m[i]);
		else
			flow_build(lp->t, s, &f[s], m[i], now);
		s = s + step >= n ? 0 : s + step;
	}
	uint16_t sent = rte_eth_tx_burst(lp->l->port, 0, m, (uint16_t)want);
	if (sent < want) {
		rte_pktmbuf_free_bulk(m + sent, want - sent);
		lp->st.tx_full += want - sent;
	}
	lp->cursor = loop_commit(lp, lp->cursor, sent);
	if (lp->o->pps)
		lp->credit -= (uint64_t)sent * lp->hz;
	lp->st.sent_total += sent;
	if (now >= lp->t0 && now < lp->t1)
		lp->st.sent += sent;
}

/* Delete every second pair at the chosen time; note when mgwd has replied to all requests. */
static void loop_delete_step(struct loop *lp, uint64_t now)
{
	char err[256];

	if (lp->t_del_at && now >= lp->t_del_at) {
		lp->t_del_at = 0;
		lp->t_del_req = rte_rdtsc();
		int n = ctl_send_delete_odd(lp->ctl, lp->pairs, lp->t->n_pairs, err, sizeof(err));
		if (n < 0) {
			fprintf(stderr, "mgw-bench: delete: %s\n", err);
			lp->del_failed = 1;
			return;
		}
		lp->del_pending = n;
	}
	if (lp->del_pending) {
		int rc = ctl_poll(lp->ctl, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "mgw-bench: delete: %s\n", err);
			lp->del_failed = 1;
			lp->del_pending = 0;
		} else if (rc > 0 && --lp->del_pending == 0) {
			lp->t_del_reply = rte_rdtsc();
		}
	}
}

int loop_run(struct loop *lp)
{
	const struct opts *o = lp->o;
	uint64_t now = rte_rdtsc();

	lp->t_start = now;
	lp->t0 = now + (uint64_t)(o->warmup_s * (double)lp->hz);
	lp->t1 = lp->t0 + (uint64_t)(o->duration_s * (double)lp->hz);
	lp->t_end = lp->t1 + lp->hz * o->drain_ms / 1000;
	if (o->delete_half_at_s >= 0 && lp->ctl)
		lp->t_del_at = lp->t0 + (uint64_t)(o->delete_half_at_s * (double)lp->hz) + 1;
	lp->last = now;
	while (now < lp->t_end) {
		sink_poll(lp, now);
		if (lp->t->audio && lp->ctl && lp->xc_snaps < 2 &&
		    now >= (lp->xc_snaps ? lp->t1 : lp->t0)) {
			char err[256];
			if (ctl_status(lp->ctl, lp->xc_snaps ? &lp->xc_close : &lp->xc_open, err,
				       sizeof(err)) == 0)
				lp->xc_snaps++;
			else
				lp->xc_snaps = 3; /* not reported */
		}
		if (now < lp->t1 && (!lp->ann || lp->t->audio))
			loop_tx(lp, now);
		if (lp->t_del_at || lp->del_pending)
			loop_delete_step(lp, now);
		now = rte_rdtsc();
	}
	if (o->delete_half_at_s >= 0 && !lp->t_del_reply) {
		fprintf(stderr, "mgw-bench: the delete got no reply before the end of the run\n");
		lp->del_failed = 1;
	}
	return lp->del_failed ? -1 : 0;
}

void loop_idle_probes(struct loop *lp)
{
	const struct opts *o = lp->o;
	uint64_t gap = lp->hz * o->idle_gap_ms / 1000, now = rte_rdtsc();
	uint32_t step = o->one_way ? 2 : 1, s = 0;

	if (o->idle_probes == 0)
		return;
	lp->t_probe = now;
	for (unsigned k = 0; k < o->idle_probes; k++) {
		/* Silence first: whatever the previous probe woke up goes back to sleep. */
		for (uint64_t until = now + gap; now < until; now = rte_rdtsc())
			sink_poll(lp, now);
		struct rte_mbuf *m = rte_pktmbuf_alloc(lp->l->tx_pool);
		if (!m)
			continue;
		now = rte_rdtsc();
		flow_build(lp->t, s, &lp->t->f[s], m, now);
		if (rte_eth_tx_burst(lp->l->port, 0, &m, 1) != 1) {
			rte_pktmbuf_free(m);
			lp->st.tx_full++;
			continue;
		}
		lp->t->f[s].seq++;
		lp->st.idle_sent++;
		s = s + step >= lp->t->n ? 0 : s + step;
	}
	/* The last probe's answer. */
	for (uint64_t until = now + gap; now < until; now = rte_rdtsc())
		sink_poll(lp, now);
}
