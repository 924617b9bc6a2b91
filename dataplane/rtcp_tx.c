#include "dataplane/rtcp_tx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dataplane/actions/xcode.h"
#include "dataplane/net.h"
#include "dataplane/rtcp.h"
#include "dataplane/rtp.h"
#include "dataplane/worker.h"

#define RTCP_TX_HDRS (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + \
		      sizeof(struct rte_udp_hdr))
#define RTP_FRAME_OVERHEAD 54 /* Ethernet, IPv4, UDP and RTP headers of a received packet */

int rtcp_tx_init(struct rtcp_tx *t, uint64_t tsc_hz)
{
	memset(t, 0, sizeof(*t));
	t->e = calloc(RTCP_TX_MAX, sizeof(*t->e));
	if (!t->e)
		return -1;
	for (int32_t i = 0; i < RTCP_TX_MAX; i++)
		t->e[i].next = i + 1 < RTCP_TX_MAX ? i + 1 : -1;
	for (unsigned i = 0; i < RTCP_TX_SLOTS; i++)
		t->slot[i] = -1;
	t->tsc_tick = tsc_hz / 1000 * RTCP_TX_TICK_MS;
	if (t->tsc_tick == 0)
		t->tsc_tick = 1;
	t->rng = (uint32_t)rte_rdtsc() | 1u; /* each worker and run its own sequence */
	return 0;
}

void rtcp_tx_free(struct rtcp_tx *t)
{
	free(t->e);
	t->e = NULL;
}

static void rtcp_tx_insert(struct rtcp_tx *t, int32_t i)
{
	uint32_t s = (uint32_t)((t->e[i].due / t->tsc_tick) % RTCP_TX_SLOTS);
	t->e[i].next = t->slot[s];
	t->slot[s] = i;
}

/* The next report interval: RFC 3550 6.3.1's minimum, times a random factor in [0.5, 1.5). */
static uint64_t rtcp_tx_interval(struct rtcp_tx *t, unsigned ms)
{
	t->rng = t->rng * 1664525u + 1013904223u;
	uint64_t tsc_ms = t->tsc_tick / RTCP_TX_TICK_MS;
	return tsc_ms * ms / 2 + tsc_ms * ms * (t->rng >> 16) / 65536;
}

void rtcp_tx_start(struct dp_worker *w, const struct msg_cmd *cmd)
{
	struct rtcp_tx *t = &w->rtcp_tx;
	if (!t->e || cmd->addr_idx >= dp.table->n_addrs)
		return;
	const struct stream_cfg *c = stream_table_lookup(dp.table, cmd->addr_idx, cmd->port);
	if (!c || c->id != cmd->stream_id || !stream_rtcp_terminated(c))
		return;
	struct stream_state *st = stream_table_state(dp.table, cmd->addr_idx, cmd->port);
	int owner = net_stream_claim(w, c, st);
	if (owner >= 0) {
		struct msg_event ev = {.type = MSG_EV_RTCP_MOVED, .worker = (uint16_t)w->id,
				       .local_port = cmd->port, .local_ip = c->local_ip,
				       .stream_id = cmd->stream_id,
				       .play = {.status = MSG_PLAY_MOVED, .owner = (uint8_t)owner}};
		dp_event(w, &ev);
		return;
	}
	if (t->free < 0) {
		ctr_inc(&w->stats.rtcp_tx_full);
		return;
	}
	int32_t i = t->free;
	struct rtcp_tx_entry *e = &t->e[i];
	t->free = e->next;
	memset(e, 0, sizeof(*e));
	e->stream_id = cmd->stream_id;
	e->addr_idx = cmd->addr_idx;
	e->port = cmd->port;
	uint64_t now = rte_rdtsc();
	if (t->n == 0) {
		t->tick = now / t->tsc_tick;
		t->next_tsc = (t->tick + 1) * t->tsc_tick;
	}
	/* the first report after half the interval (RFC 3550 6.2) */
	e->due = now + rtcp_tx_interval(t, RTCP_TX_INTERVAL_MS / 2);
	rtcp_tx_insert(t, i);
	t->n++;
}

/* Where the stream's RTCP goes: its latched RTCP peer, next to its latched RTP peer, or next
 * to the SDP's. 0 = nowhere yet. */
static uint64_t rtcp_tx_dest(const struct stream_cfg *c, const struct stream_state *st)
{
	uint64_t p = atomic_load_explicit(&st->rtcp_peer, memory_order_relaxed);
	if (stream_peer_valid(p, c->latch_gen))
		return p;
	p = atomic_load_explicit(&st->peer, memory_order_relaxed);
	uint32_t ip;
	uint16_t port;
	if (stream_peer_valid(p, c->latch_gen)) {
		ip = stream_peer_ip(p);
		port = stream_peer_port(p);
	} else if (c->peer_ip && c->peer_port) {
		ip = c->peer_ip;
		port = c->peer_port;
	} else {
		return 0;
	}
	return stream_peer_word(ip, rte_cpu_to_be_16(rte_be_to_cpu_16(port) + 1), c->latch_gen);
}

/* What the stream's state says, as a report. */
static void rtcp_tx_fill(struct rtcp_tx_entry *e, const struct stream_cfg *c,
			 const struct stream_state *st, uint64_t now, struct rtcp_report *r,
			 char *cname, size_t cname_len)
{
	uint64_t hz = dp.tsc_hz ? dp.tsc_hz : rte_get_tsc_hz();
	memset(r, 0, sizeof(*r));
	r->ssrc = c->ssrc;
	uint32_t in_ssrc = st->src.in_ssrc;
	if (c->action == STREAM_RELAY) {
		/* transcoding: the source towards this leg's peer is the other leg's pipeline,
		 * its packets counted in the other leg's state */
		struct xcode_sent xs;
		xcode_sender(c->other->xcode, now, &xs);
		uint64_t tx = ctr_get(&c->other_st->tx_pkts);
		r->ssrc = xs.ssrc;
		if (tx) {
			r->sender = true;
			r->ntp = dp_ntp(now);
			r->rtp_ts = xs.ts;
			r->pkts = (uint32_t)tx;
			r->octets = (uint32_t)xs.octets;
		}
		in_ssrc = rte_cpu_to_be_32(xcode_in_ssrc(c->xcode));
	}
	uint64_t tx = c->action == STREAM_ECHO ? ctr_get(&st->tx_pkts) : 0;
	if (tx) {
		r->sender = true;
		r->ntp = dp_ntp(now);
		/* the instant's RTP timestamp: the last one sent, advanced by the time since */
		uint64_t last = ctr_get(&st->last_rx_tsc);
		uint32_t ts = st->src.last_out_ts;
		if (last && now > last)
			ts += (uint32_t)((now - last) * 8000 / hz);
		r->rtp_ts = ts;
		r->pkts = (uint32_t)tx;
		/* echo sends back the payload it receives */
		uint64_t rx = ctr_get(&st->rx_pkts), bytes = ctr_get(&st->rx_bytes);
		r->octets = (uint32_t)(bytes > rx * RTP_FRAME_OVERHEAD ? bytes - rx * RTP_FRAME_OVERHEAD
									: 0);
	}
	if (st->rtp.init && in_ssrc) {
		uint32_t expected = rtp_stats_expected(&st->rtp), received = st->rtp.received;
		uint32_t exp_int = expected - e->expected_prior, rcv_int = received - e->received_prior;
		e->expected_prior = expected;
		e->received_prior = received;
		int64_t lost_int = (int64_t)exp_int - (int64_t)rcv_int;
		r->block = true;
		r->peer_ssrc = rte_be_to_cpu_32(in_ssrc);
		r->fraction = exp_int && lost_int > 0 ? (uint8_t)((lost_int << 8) / exp_int) : 0;
		r->lost = (int32_t)((int64_t)expected - (int64_t)received);
		r->ext_max = st->rtp.cycles + st->rtp.max_seq;
		r->jitter = rtp_stats_jitter(&st->rtp);
		uint64_t sr = atomic_load_explicit(&st->last_sr, memory_order_relaxed);
		if (sr) {
			uint32_t now_us = (uint32_t)(now / (hz / 1000000u));
			r->lsr = (uint32_t)(sr >> 32);
			r->dlsr = (uint32_t)(((uint64_t)(uint32_t)(now_us - (uint32_t)sr) << 16) /
					     1000000u);
		}
	}
	struct in_addr a = {.s_addr = c->local_ip};
	const uint8_t *b = (const uint8_t *)&a.s_addr;
	snprintf(cname, cname_len, "mgw@%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	r->cname = cname;
}

/* Entry @i is due. Returns false when the stream is no longer one to report on. */
static bool rtcp_tx_due(struct dp_worker *w, struct rtcp_tx_entry *e, uint64_t now)
{
	const struct stream_cfg *c = stream_table_lookup(dp.table, e->addr_idx, e->port);
	if (!c || c->id != e->stream_id || !stream_rtcp_terminated(c))
		return false;
	struct stream_state *st = stream_table_state(dp.table, e->addr_idx, e->port);
	uint64_t dest = rtcp_tx_dest(c, st);
	if (!dest)
		return true; /* nobody to tell yet */
	struct rte_mbuf *m = dp_alloc();
	uint8_t *p = m ? (uint8_t *)rte_pktmbuf_append(m, RTCP_TX_HDRS + RTCP_REPORT_MAX) : NULL;
	if (!p) {
		if (m)
			dp_free(m);
		return true;
	}
	struct rtcp_report r;
	char cname[32];
	rtcp_tx_fill(e, c, st, now, &r, cname, sizeof(cname));
	size_t len = rtcp_write_report(p + RTCP_TX_HDRS, &r);
	rte_pktmbuf_trim(m, (uint16_t)(RTCP_REPORT_MAX - len));
	ctr_inc(&w->stats.rtcp_sent);
	net_output_udp(w, c->port_idx, m, c->local_ip, rte_cpu_to_be_16(c->local_port + 1),
		       stream_peer_ip(dest), stream_peer_port(dest));
	return true;
}

void rtcp_tx_poll(struct dp_worker *w)
{
	struct rtcp_tx *t = &w->rtcp_tx;
	if (likely(t->n == 0))
		return;
	uint64_t now = rte_rdtsc();
	if (now < t->next_tsc)
		return;
	uint64_t tick = now / t->tsc_tick;
	if (tick - t->tick > RTCP_TX_SLOTS)
		t->tick = tick - RTCP_TX_SLOTS;
	while (t->tick < tick) {
		t->tick++;
		uint32_t s = (uint32_t)(t->tick % RTCP_TX_SLOTS);
		int32_t i = t->slot[s];
		t->slot[s] = -1;
		while (i >= 0) {
			struct rtcp_tx_entry *e = &t->e[i];
			int32_t next = e->next;
			if (e->due / t->tsc_tick > t->tick) {
				rtcp_tx_insert(t, i); /* a later turn's */
			} else if (rtcp_tx_due(w, e, now)) {
				e->due = now + rtcp_tx_interval(t, RTCP_TX_INTERVAL_MS);
				rtcp_tx_insert(t, i);
			} else {
				e->next = t->free;
				t->free = i;
				t->n--;
			}
			i = next;
		}
	}
	t->next_tsc = (t->tick + 1) * t->tsc_tick;
}
