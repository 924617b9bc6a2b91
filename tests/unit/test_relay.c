/* Unit tests for the RELAY action (dataplane/relay.c and the relay paths of net.c) without a
 * NIC: a relay pair is published by hand the way the control plane does it (two streams
 * pointing at each other), frames are built by hand into mbufs and handed to net_input(), and
 * what the worker queued for transmission is read back with byte offsets, its checksums
 * recomputed here from scratch. Covers the header rewrite, RTP translation, RTCP, symmetric
 * RTP latching, media direction, and next-hop resolution (neighbour, gateway). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/arp.h"
#include "dataplane/net.h"
#include "dataplane/worker.h"
#include "tests/unit/frames.h"

#define N_MBUFS 1023

/* Byte offsets in an Ethernet + IPv4 (no options) frame. */
#define OFF_IP 14
#define OFF_L4 34
#define OFF_RTP 42

/* Addresses in host order in this file. The two legs live on two media addresses. */
#define MEDIA_A RTE_IPV4(10, 0, 0, 10)
#define MEDIA_B RTE_IPV4(10, 0, 0, 11)
#define PORT_A 30000
#define PORT_B 32000
#define PEER_A RTE_IPV4(10, 0, 0, 2) /* A's SDP peer */
#define PEER_A_PORT 40000
#define PEER_B RTE_IPV4(10, 0, 0, 3) /* B's SDP peer */
#define PEER_B_PORT 50000
#define PEER_A2 RTE_IPV4(10, 0, 0, 4) /* A's peer after a re-INVITE */
#define STRANGER RTE_IPV4(10, 0, 0, 99)
#define GATEWAY RTE_IPV4(10, 0, 0, 254)
#define OFF_LINK 0xc0000207u /* 192.0.2.7 (RTE_IPV4 shifts an int past its sign) */

#define SSRC_B 0xb0b0b0b0u

static const uint8_t port_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t mac_a[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xaa};
static const uint8_t mac_b[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xbb};
static const uint8_t mac_a2[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xa2};
static const uint8_t mac_gw[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct dp_worker w;
static struct stream_cfg *leg_a, *leg_b;
static uint64_t skew; /* added to the TSC of every input(): time passing in a test */
static uint64_t next_id = 1;

/* Folded sum of the UDP pseudo-header and datagram with a zero checksum field. */
static uint32_t udp_sum(const uint8_t *f)
{
	uint8_t copy[512];
	uint16_t ulen = get16(f + OFF_L4 + 4);
	uint32_t sum = sum16(f + OFF_IP + 12, 8, 0) + 17 + ulen;

	memcpy(copy, f + OFF_L4, ulen);
	put16(copy + 6, 0);
	return sum16(copy, ulen, sum);
}

/* The UDP checksum of the datagram in @f, computed from scratch (0 sent as ffff). */
static uint16_t udp_csum_fresh(const uint8_t *f)
{
	uint16_t c = (uint16_t)~udp_sum(f);
	return c == 0 ? 0xffff : c;
}

/* A UDP datagram from @sip:@sport (MAC @smac) to @dip:@dport, checksummed if @csum. */
static void udp_frame(struct frame *f, const uint8_t *smac, uint32_t sip, uint16_t sport,
		      uint32_t dip, uint16_t dport, const uint8_t *payload, uint16_t plen,
		      bool csum)
{
	uint8_t *ip = f->b + OFF_IP, *udp = f->b + OFF_L4;

	memcpy(f->b, port_mac, 6);
	memcpy(f->b + 6, smac, 6);
	put16(f->b + 12, 0x0800);
	ip[0] = 0x45;
	ip[1] = 0xb8; /* EF, as media usually is: must survive the relay */
	put16(ip + 2, (uint16_t)(20 + 8 + plen));
	put16(ip + 4, 0x4321);
	put16(ip + 6, 0x4000);
	ip[8] = 57;
	ip[9] = 17;
	put32(ip + 12, sip);
	put32(ip + 16, dip);
	put16(ip + 10, 0);
	put16(ip + 10, (uint16_t)~sum16(ip, 20, 0));
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)(8 + plen));
	put16(udp + 6, 0);
	memcpy(udp + 8, payload, plen);
	f->len = (uint16_t)(OFF_L4 + 8 + plen);
	if (csum)
		put16(udp + 6, udp_csum_fresh(f->b));
}

static void rtp_frame(struct frame *f, const uint8_t *smac, uint32_t sip, uint16_t sport,
		      uint32_t dip, uint16_t dport, uint16_t seq, uint32_t ts, uint32_t ssrc,
		      bool csum)
{
	uint8_t rtp[12 + 160];

	rtp[0] = 0x80;
	rtp[1] = 0x80; /* marker, PT 0 */
	put16(rtp + 2, seq);
	put32(rtp + 4, ts);
	put32(rtp + 8, ssrc);
	for (unsigned i = 0; i < 160; i++)
		rtp[12 + i] = (uint8_t)(i * 13 + seq);
	udp_frame(f, smac, sip, sport, dip, dport, rtp, sizeof(rtp), csum);
}

/* RTP from A's SDP peer to A, and from B's SDP peer to B. */
#define rtp_a(f, seq, ts, ssrc, csum) \
	rtp_frame(f, mac_a, PEER_A, PEER_A_PORT, MEDIA_A, PORT_A, seq, ts, ssrc, csum)
#define rtp_b(f, seq, ts, ssrc, csum) \
	rtp_frame(f, mac_b, PEER_B, PEER_B_PORT, MEDIA_B, PORT_B, seq, ts, ssrc, csum)

static void input(const struct frame *f)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	assert_non_null(m);
	char *p = rte_pktmbuf_append(m, f->len);
	assert_non_null(p);
	memcpy(p, f->b, f->len);
	w.now = rte_rdtsc() + skew; /* as worker_rx() does for each burst */
	net_input(&w, 0, m);
}

static const uint8_t *tx_data(unsigned i)
{
	assert_true(i < w.txq[0].n);
	return rte_pktmbuf_mtod(w.txq[0].pkts[i], const uint8_t *);
}

static void tx_reset(void)
{
	for (unsigned i = 0; i < w.txq[0].n; i++)
		rte_pktmbuf_free(w.txq[0].pkts[i]);
	w.txq[0].n = 0;
}

static unsigned ev_take(struct msg_event *ev)
{
	return rte_ring_sc_dequeue_elem(dp.ev_ring, ev, sizeof(*ev)) == 0 ? 1 : 0;
}

static uint64_t drops_total(void)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < DP_DROP_MAX; i++)
		n += ctr_get(&w.stats.drop[i]);
	return n;
}

/* The latched-peer word for @ip:@port (host order in, network order fields out), latched in
 * generation 0. */
static uint64_t peer_word(uint32_t ip, uint16_t port)
{
	return stream_peer_word(rte_cpu_to_be_32(ip), rte_cpu_to_be_16(port), 0);
}

static struct stream_stats st_of(const struct stream_cfg *s)
{
	struct stream_stats st;
	stream_stats_read(dp.table, s, &st);
	return st;
}

/* One leg as media_ep_relay() builds it: RELAY, both directions, SDP peer, IP latching. */
static struct stream_cfg *leg_new(uint32_t ip, uint16_t port, uint32_t peer_ip,
				  uint16_t peer_port, uint64_t id)
{
	struct stream_cfg *s = stream_cfg_alloc();
	assert_non_null(s);
	s->local_ip = rte_cpu_to_be_32(ip);
	s->local_port = port;
	s->action = STREAM_RELAY;
	s->addr_idx = ip == MEDIA_A ? 0 : 1;
	s->dir = STREAM_DIR_RECV | STREAM_DIR_SEND;
	s->peer_ip = rte_cpu_to_be_32(peer_ip);
	s->peer_port = rte_cpu_to_be_16(peer_port);
	s->latch = peer_ip ? STREAM_LATCH_IP : STREAM_LATCH_ANY;
	s->ssrc = 0xa0a0a0a0u + (uint32_t)id;
	s->seq_base = (uint16_t)(id * 1000);
	s->ts_base = (uint32_t)id * 100000;
	s->ts_mult = (uint32_t)((8000ull << 32) / dp.tsc_hz);
	s->id = id;
	return s;
}

static void legs_new(void)
{
	leg_a = leg_new(MEDIA_A, PORT_A, PEER_A, PEER_A_PORT, next_id++);
	leg_b = leg_new(MEDIA_B, PORT_B, PEER_B, PEER_B_PORT, next_id++);
	leg_b->ssrc = SSRC_B;
}

/* Link the legs and publish them, b then a (a new version replaces the old one). */
static void legs_publish(struct stream_cfg *a, struct stream_cfg *b)
{
	a->other = b;
	b->other = a;
	a->other_st = stream_table_state(dp.table, b->addr_idx, b->local_port);
	b->other_st = stream_table_state(dp.table, a->addr_idx, a->local_port);
	assert_int_equal(stream_table_publish(dp.table, b), 0);
	assert_int_equal(stream_table_publish(dp.table, a), 0);
	leg_a = a;
	leg_b = b;
}

static void pair_publish(void) { legs_new(); legs_publish(leg_a, leg_b); }

static int test_setup(void **state)
{
	struct msg_event ev;

	(void)state;
	dp.cfg.gateway = 0;
	dp_worker_init(&w, 0, 0, 0);
	w.now = rte_rdtsc();
	skew = 0;
	arp_learn(&w, rte_cpu_to_be_32(PEER_A), (const struct rte_ether_addr *)mac_a);
	arp_learn(&w, rte_cpu_to_be_32(PEER_B), (const struct rte_ether_addr *)mac_b);
	arp_learn(&w, rte_cpu_to_be_32(PEER_A2), (const struct rte_ether_addr *)mac_a2);
	while (ev_take(&ev))
		;
	leg_a = leg_b = NULL;
	return 0;
}

/* Every path must have consumed its mbuf exactly once. */
static int test_teardown(void **state)
{
	(void)state;
	tx_reset();
	if (stream_table_get(dp.table, rte_cpu_to_be_32(MEDIA_A), PORT_A))
		stream_table_del(dp.table, rte_cpu_to_be_32(MEDIA_A), PORT_A);
	if (stream_table_get(dp.table, rte_cpu_to_be_32(MEDIA_B), PORT_B))
		stream_table_del(dp.table, rte_cpu_to_be_32(MEDIA_B), PORT_B);
	rcu_quiescent_state();
	return rte_mempool_avail_count(dp.pool) == N_MBUFS ? 0 : -1;
}

struct expect {
	const uint8_t *mac;
	uint32_t sip, dip;
	uint16_t sport, dport;
};

/* Frame @i left from @e->sip:sport to @e->dip:dport via @e->mac, TTL 64, both checksums
 * valid, everything else as in @in. With @rtp_as_is the whole UDP payload is unchanged,
 * otherwise (translation) everything but sequence, timestamp and SSRC. */
static void assert_relayed(unsigned i, const struct frame *in, const struct expect *e,
			   bool rtp_as_is)
{
	const uint8_t *r = tx_data(i), *ip = r + OFF_IP, *udp = r + OFF_L4;
	const uint8_t *iip = in->b + OFF_IP;

	assert_int_equal(rte_pktmbuf_data_len(w.txq[0].pkts[i]), in->len);
	assert_memory_equal(r, e->mac, 6);
	assert_memory_equal(r + 6, port_mac, 6);
	assert_int_equal(get16(r + 12), 0x0800);
	assert_memory_equal(ip, iip, 8); /* version, TOS, length, id, fragment */
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], 17);
	assert_int_equal(get32(ip + 12), e->sip);
	assert_int_equal(get32(ip + 16), e->dip);
	assert_int_equal(sum16(ip, 20, 0), 0xffff);
	assert_int_equal(get16(udp), e->sport);
	assert_int_equal(get16(udp + 2), e->dport);
	assert_int_equal(get16(udp + 4), get16(in->b + OFF_L4 + 4));
	if (get16(in->b + OFF_L4 + 6) == 0)
		assert_int_equal(get16(udp + 6), 0);
	else
		assert_int_equal(get16(udp + 6), udp_csum_fresh(r));
	if (rtp_as_is) {
		assert_memory_equal(udp + 8, in->b + OFF_L4 + 8, in->len - OFF_L4 - 8);
	} else {
		assert_memory_equal(udp + 8, in->b + OFF_RTP, 2);
		assert_memory_equal(udp + 20, in->b + OFF_RTP + 12, in->len - OFF_RTP - 12);
	}
}

static const struct expect to_peer_b = {mac_b, MEDIA_B, PEER_B, PORT_B, PEER_B_PORT};
static const struct expect to_peer_a = {mac_a, MEDIA_A, PEER_A, PORT_A, PEER_A_PORT};

static void assert_rtp_out(unsigned i, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
	const uint8_t *rtp = tx_data(i) + OFF_RTP;

	assert_int_equal(get16(rtp + 2), seq);
	assert_int_equal(get32(rtp + 4), ts);
	assert_int_equal(get32(rtp + 8), ssrc);
}

static void rtp_leaves_from_the_other_leg_to_its_peer_in_both_directions(void **state)
{
	struct frame fa[3], fb[2];

	(void)state;
	pair_publish();
	for (unsigned i = 0; i < 3; i++) {
		rtp_a(&fa[i], (uint16_t)(100 + i), 8000 + 160 * i, 0x12345678, true);
		input(&fa[i]);
	}
	for (unsigned i = 0; i < 2; i++) {
		rtp_b(&fb[i], (uint16_t)(7 + i), 160 * i, 0x9abcdef0, true);
		input(&fb[i]);
	}
	assert_int_equal(drops_total(), 0);
	assert_int_equal(w.txq[0].n, 5);
	for (unsigned i = 0; i < 3; i++)
		assert_relayed(i, &fa[i], &to_peer_b, true);
	for (unsigned i = 0; i < 2; i++)
		assert_relayed(3 + i, &fb[i], &to_peer_a, true);
	/* Counters live on the stream the packet came in on. */
	assert_int_equal(st_of(leg_a).rx_pkts, 3);
	assert_int_equal(st_of(leg_a).tx_pkts, 3);
	assert_int_equal(st_of(leg_a).rx_bytes, 3 * fa[0].len);
	assert_int_equal(st_of(leg_b).rx_pkts, 2);
	assert_int_equal(st_of(leg_b).tx_pkts, 2);
	assert_int_equal(st_of(leg_a).drops + st_of(leg_b).drops, 0);
	assert_int_equal(st_of(leg_a).rtp_received, 2); /* the first packet is on probation */
	assert_int_equal(ctr_get(&w.stats.rtcp), 0);
}

static void udp_checksum_zero_stays_zero_in_the_relay(void **state)
{
	struct frame fa, fb;

	(void)state;
	pair_publish();
	rtp_a(&fa, 1, 1, 1, false);
	rtp_b(&fb, 1, 1, 1, false);
	input(&fa);
	input(&fb);
	assert_int_equal(w.txq[0].n, 2);
	assert_relayed(0, &fa, &to_peer_b, true);
	assert_relayed(1, &fb, &to_peer_a, true);
	assert_int_equal(get16(tx_data(0) + OFF_L4 + 6), 0);
	assert_int_equal(get16(tx_data(1) + OFF_L4 + 6), 0);
}

static void translation_sends_as_the_other_legs_own_source(void **state)
{
	struct frame f[5];

	(void)state;
	legs_new();
	leg_a->translate = leg_b->translate = 1;
	leg_b->seq_base = 65534; /* our sequence wraps on the way */
	leg_b->ts_base = 0xfffffe00;
	legs_publish(leg_a, leg_b);
	rtp_a(&f[0], 10, 4000, 0x11111111, true);
	rtp_a(&f[1], 11, 4160, 0x11111111, true);
	rtp_a(&f[2], 12, 4320, 0x11111111, true);
	rtp_a(&f[3], 500, 77777777, 0x22222222, true); /* the sender changed its SSRC */
	rtp_a(&f[4], 501, 77777777 + 160, 0x22222222, false);
	for (unsigned i = 0; i < 5; i++)
		input(&f[i]);
	assert_int_equal(drops_total(), 0);
	assert_int_equal(w.txq[0].n, 5);
	for (unsigned i = 0; i < 5; i++)
		assert_relayed(i, &f[i], &to_peer_b, false);
	assert_rtp_out(0, 65534, 0xfffffe00, SSRC_B);
	assert_rtp_out(1, 65535, 0xfffffea0, SSRC_B);
	assert_rtp_out(2, 0, 0xffffff40, SSRC_B);
	assert_rtp_out(3, 1, 0xffffffe0, SSRC_B); /* continuous: last + 160 */
	assert_rtp_out(4, 2, 0x00000080, SSRC_B);
	assert_int_equal(get16(tx_data(4) + OFF_L4 + 6), 0); /* still no checksum */
}

/* A datagram whose checksum becomes exactly 0 (sum ffff) once addresses and ports are
 * rewritten, before the RTP words are: the translation must still update it. */
static void translation_keeps_the_checksum_right_when_a_partial_sum_is_zero(void **state)
{
	struct frame f, mid;

	(void)state;
	legs_new();
	leg_a->translate = leg_b->translate = 1;
	legs_publish(leg_a, leg_b);
	rtp_a(&f, 10, 4000, 0x11111111, false);
	/* What the relay makes of the headers before translating, with payload word 0 */
	mid = f;
	put32(mid.b + OFF_IP + 12, MEDIA_B);
	put32(mid.b + OFF_IP + 16, PEER_B);
	put16(mid.b + OFF_L4, PORT_B);
	put16(mid.b + OFF_L4 + 2, PEER_B_PORT);
	put16(mid.b + OFF_RTP + 12, 0);
	uint32_t s = udp_sum(mid.b);
	put16(f.b + OFF_RTP + 12, (uint16_t)(0xffff - s)); /* makes that sum ffff */
	put16(f.b + OFF_L4 + 6, udp_csum_fresh(f.b));
	memcpy(mid.b + OFF_RTP + 12, f.b + OFF_RTP + 12, 2);
	assert_int_equal(udp_sum(mid.b), 0xffff);
	input(&f);
	assert_int_equal(w.txq[0].n, 1);
	assert_relayed(0, &f, &to_peer_b, false);
	assert_rtp_out(0, leg_b->seq_base, leg_b->ts_base, SSRC_B);
}

static void rtcp_goes_to_the_other_peers_odd_port_untranslated(void **state)
{
	struct frame f, g;
	static const uint8_t rr[8] = {0x80, 201, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44};
	static const struct expect rtcp_to_b = {mac_b, MEDIA_B, PEER_B, PORT_B + 1,
						PEER_B_PORT + 1};

	(void)state;
	legs_new();
	leg_a->translate = leg_b->translate = 1;
	legs_publish(leg_a, leg_b);
	udp_frame(&f, mac_a, PEER_A, PEER_A_PORT + 1, MEDIA_A, PORT_A + 1, rr, sizeof(rr), true);
	input(&f);
	assert_int_equal(drops_total(), 0);
	assert_int_equal(w.txq[0].n, 1);
	assert_relayed(0, &f, &rtcp_to_b, true);
	assert_int_equal(st_of(leg_a).rtcp_pkts, 1);
	assert_int_equal(st_of(leg_a).rx_pkts, 0);
	assert_int_equal(st_of(leg_a).rtcp_peer, peer_word(PEER_A, PEER_A_PORT + 1));
	assert_int_equal(st_of(leg_a).peer, 0); /* RTP latches on its own */
	/* Relayed, not consumed: the worker's RTCP counter is for what it consumed. */
	assert_int_equal(ctr_get(&w.stats.rtcp), 0);

	/* RTCP from another port of the latched IP is not from the peer. */
	udp_frame(&g, mac_a, PEER_A, PEER_A_PORT + 3, MEDIA_A, PORT_A + 1, rr, sizeof(rr), true);
	input(&g);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_WRONG_SOURCE]), 1);
	assert_int_equal(st_of(leg_a).wrong_source, 1);
	assert_int_equal(st_of(leg_a).rtcp_pkts, 1);
	assert_int_equal(w.txq[0].n, 1);
}

static void ip_latching_takes_the_first_port_from_the_sdp_ip_and_sticks_to_it(void **state)
{
	struct frame f;
	struct msg_event ev;

	(void)state;
	pair_publish();
	/* Before latching: another IP is not the peer. */
	rtp_frame(&f, mac_a, STRANGER, PEER_A_PORT, MEDIA_A, PORT_A, 1, 1, 1, true);
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_WRONG_SOURCE]), 1);
	assert_int_equal(st_of(leg_a).wrong_source, 1);
	assert_int_equal(st_of(leg_a).peer, 0);
	assert_int_equal(ev_take(&ev), 0);

	/* The SDP peer's IP from another port (a NAT): latched. */
	rtp_frame(&f, mac_a, PEER_A, 40010, MEDIA_A, PORT_A, 2, 2, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 1);
	assert_relayed(0, &f, &to_peer_b, true);
	assert_int_equal(st_of(leg_a).peer, peer_word(PEER_A, 40010));
	assert_int_equal(ev_take(&ev), 1);
	assert_int_equal(ev.type, MSG_EV_STREAM_FIRST_RX);
	assert_int_equal(ev.worker, 0);
	assert_int_equal(ev.stream_id, leg_a->id);
	assert_int_equal(ev.local_ip, rte_cpu_to_be_32(MEDIA_A));
	assert_int_equal(ev.local_port, PORT_A);
	assert_int_equal(ev.peer_ip, rte_cpu_to_be_32(PEER_A));
	assert_int_equal(ev.peer_port, rte_cpu_to_be_16(40010));

	/* Past the learning window, even the SDP port is a wrong source. */
	skew = rte_get_tsc_hz() / 1000 * (STREAM_LEARN_MS + 100);
	rtp_frame(&f, mac_a, PEER_A, PEER_A_PORT, MEDIA_A, PORT_A, 3, 3, 1, true);
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_WRONG_SOURCE]), 2);
	assert_int_equal(st_of(leg_a).wrong_source, 2);
	assert_int_equal(w.txq[0].n, 1);

	/* The latched port again: relayed, no second event. */
	rtp_frame(&f, mac_a, PEER_A, 40010, MEDIA_A, PORT_A, 4, 4, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 2);
	assert_int_equal(st_of(leg_a).rx_pkts, 2);
	assert_int_equal(ev_take(&ev), 0);

	/* Symmetric RTP: media for A goes where A's media really comes from. */
	rtp_b(&f, 1, 1, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 3);
	const struct expect to_latched = {mac_a, MEDIA_A, PEER_A, PORT_A, 40010};
	assert_relayed(2, &f, &to_latched, true);
	assert_int_equal(drops_total(), 2);
}

/* Within the learning window a source that matches the SDP better takes the peer over:
 * the SDP's exact address beats its IP from another port, which beats any other address;
 * a worse or equal match never does, and after the window nothing does. */
static void the_sdp_address_takes_over_within_the_learning_window(void **state)
{
	struct frame f;
	struct msg_event ev;

	(void)state;
	legs_new();
	leg_a->latch = STREAM_LATCH_ANY;
	legs_publish(leg_a, leg_b);
	arp_learn(&w, rte_cpu_to_be_32(STRANGER), (const struct rte_ether_addr *)mac_a2);
	rtp_frame(&f, mac_a2, STRANGER, 1234, MEDIA_A, PORT_A, 1, 1, 1, true);
	input(&f);
	assert_int_equal(st_of(leg_a).peer, peer_word(STRANGER, 1234));
	rtp_frame(&f, mac_a, PEER_A, 40010, MEDIA_A, PORT_A, 2, 2, 1, true); /* the SDP's IP */
	input(&f);
	assert_int_equal(st_of(leg_a).peer, peer_word(PEER_A, 40010));
	rtp_frame(&f, mac_a2, STRANGER, 1234, MEDIA_A, PORT_A, 3, 3, 1, true); /* worse: no */
	input(&f);
	assert_int_equal(st_of(leg_a).peer, peer_word(PEER_A, 40010));
	assert_int_equal(st_of(leg_a).wrong_source, 1);
	rtp_a(&f, 4, 4, 1, true); /* exact */
	input(&f);
	assert_int_equal(st_of(leg_a).peer, peer_word(PEER_A, PEER_A_PORT));
	rtp_frame(&f, mac_a, PEER_A, 40010, MEDIA_A, PORT_A, 5, 5, 1, true); /* worse now */
	input(&f);
	assert_int_equal(st_of(leg_a).peer, peer_word(PEER_A, PEER_A_PORT));
	assert_int_equal(st_of(leg_a).wrong_source, 2);
	/* each takeover told the control plane where the media comes from now */
	unsigned events = 0;
	while (ev_take(&ev))
		events += ev.stream_id == leg_a->id && ev.type == MSG_EV_STREAM_FIRST_RX;
	assert_int_equal(events, 3);
	assert_int_equal(w.txq[0].n, 3);

	/* a new SDP peer (latch generation) opens a new window: past the first one, a worse
	 * source latches first and the exact address still takes over */
	skew = rte_get_tsc_hz() / 1000 * (STREAM_LEARN_MS + 100);
	rtp_frame(&f, mac_a, PEER_A, 40010, MEDIA_A, PORT_A, 6, 6, 1, true);
	input(&f);
	assert_int_equal(st_of(leg_a).wrong_source, 3);
	struct stream_cfg *a2 = leg_new(MEDIA_A, PORT_A, PEER_A, PEER_A_PORT, leg_a->id);
	struct stream_cfg *b2 = leg_new(MEDIA_B, PORT_B, PEER_B, PEER_B_PORT, leg_b->id);
	a2->latch = STREAM_LATCH_ANY;
	a2->latch_gen = 1;
	legs_publish(a2, b2);
	input(&f);
	assert_int_equal(st_of(leg_a).peer, stream_peer_word(rte_cpu_to_be_32(PEER_A),
							     rte_cpu_to_be_16(40010), 1));
	rtp_a(&f, 7, 7, 1, true);
	input(&f);
	assert_int_equal(st_of(leg_a).peer, stream_peer_word(rte_cpu_to_be_32(PEER_A),
							     rte_cpu_to_be_16(PEER_A_PORT), 1));
}

/* Hijacking, every action x latch mode: a hijacker sends to leg A before or after its
 * legitimate peer (the SDP's address), from another port of the peer's IP or from another
 * address, then again after the peer has spoken. Whatever the case, once the legitimate
 * peer has spoken nothing more goes to the hijacker and every packet it sends is dropped and
 * counted wrong_source; with "strict", and with "ip" against another address, the hijacker
 * never gets a packet at all. Before the peer speaks, "any" (and "ip" for the peer's own IP)
 * take the first sender by definition: that is what the learning window corrects. */
enum hj_action { HJ_ECHO, HJ_RELAY, HJ_TRANSCODE };

static unsigned sent_to(uint32_t ip, uint16_t port)
{
	unsigned n = 0;
	for (unsigned i = 0; i < w.txq[0].n; i++) {
		const uint8_t *r = tx_data(i);
		n += get32(r + OFF_IP + 16) == ip && get16(r + OFF_L4 + 2) == port;
	}
	return n;
}

static void hijack_case(enum hj_action action, uint8_t latch, bool before, bool other_ip)
{
	struct frame f;
	struct msg_event ev;
	const uint32_t hip = other_ip ? STRANGER : PEER_A;
	const uint16_t hport = other_ip ? PEER_A_PORT : 40020;
	const unsigned n = 5;
	uint16_t seq = 1;

	legs_new();
	leg_a->latch = latch;
	if (action == HJ_ECHO) {
		leg_a->action = STREAM_ECHO;
		leg_b->action = STREAM_DROP;
	} else if (action == HJ_TRANSCODE) {
		leg_a->remap = leg_b->remap = 1;
		leg_a->xmap = (struct stream_pt_map){.audio_in = 0, .audio_out = 8, .te_in = 101,
						     .te_out = 101, .g711 = STREAM_G711_U2A};
		leg_b->xmap = leg_a->xmap;
	}
	legs_publish(leg_a, leg_b);

	unsigned to_hijacker_early = 0, hijacker_sent = 0;
	/* one round: the hijacker's packets, and (relay) B's peer's media towards A */
	if (before) {
		for (unsigned i = 0; i < n; i++, seq++) {
			rtp_frame(&f, mac_a2, hip, hport, MEDIA_A, PORT_A, seq, seq, 0x4a4a, true);
			input(&f);
			rtp_b(&f, seq, seq, 2, true);
			input(&f);
		}
		hijacker_sent += n;
		to_hijacker_early = sent_to(hip, hport);
		tx_reset();
	}
	uint64_t ws_before = st_of(leg_a).wrong_source;
	for (unsigned i = 0; i < n; i++, seq++) {
		rtp_a(&f, seq, seq, 1, true);
		input(&f);
	}
	assert_int_equal(st_of(leg_a).peer, peer_word(PEER_A, PEER_A_PORT));
	for (unsigned i = 0; i < n; i++, seq++) {
		rtp_frame(&f, mac_a2, hip, hport, MEDIA_A, PORT_A, seq, seq, 0x4a4a, true);
		input(&f);
		rtp_b(&f, seq, seq, 2, true);
		input(&f);
		rtp_a(&f, seq, seq, 1, true);
		input(&f);
	}
	hijacker_sent += n;
	/* after the legitimate peer spoke: nothing to the hijacker, all its packets counted */
	assert_int_equal(sent_to(hip, hport), 0);
	assert_int_equal(st_of(leg_a).wrong_source - ws_before, n);
	if (action == HJ_ECHO)
		assert_int_equal(sent_to(PEER_A, PEER_A_PORT), 2 * n);
	else
		assert_int_equal(sent_to(PEER_A, PEER_A_PORT), n);
	/* before it: only where the mode lets the first sender in */
	bool may_latch = latch == STREAM_LATCH_ANY || (latch == STREAM_LATCH_IP && !other_ip);
	if (!may_latch)
		assert_int_equal(to_hijacker_early, 0);
	if (!before || !may_latch)
		assert_int_equal(st_of(leg_a).wrong_source, hijacker_sent);
	tx_reset();
	while (ev_take(&ev))
		;
	assert_int_equal(stream_table_del(dp.table, rte_cpu_to_be_32(MEDIA_A), PORT_A), 0);
	assert_int_equal(stream_table_del(dp.table, rte_cpu_to_be_32(MEDIA_B), PORT_B), 0);
	rcu_quiescent_state();
}

static void hijackers_get_nothing_once_the_peer_has_spoken(void **state)
{
	(void)state;
	arp_learn(&w, rte_cpu_to_be_32(STRANGER), (const struct rte_ether_addr *)mac_a2);
	static const uint8_t modes[] = {STREAM_LATCH_ANY, STREAM_LATCH_IP, STREAM_LATCH_OFF};
	unsigned cases = 0;
	for (int a = HJ_ECHO; a <= HJ_TRANSCODE; a++)
		for (unsigned m = 0; m < 3; m++)
			for (int before = 0; before < 2; before++)
				for (int other_ip = 0; other_ip < 2; other_ip++) {
					hijack_case((enum hj_action)a, modes[m], before, other_ip);
					cases++;
				}
	assert_int_equal(cases, 36);
}

static void any_latching_takes_the_first_sender_from_anywhere(void **state)
{
	struct frame f;
	struct msg_event ev;

	(void)state;
	legs_new();
	leg_a->peer_ip = 0; /* no SDP address: STREAM_LATCH_ANY */
	leg_a->peer_port = 0;
	leg_a->latch = STREAM_LATCH_ANY;
	legs_publish(leg_a, leg_b);
	arp_learn(&w, rte_cpu_to_be_32(STRANGER), (const struct rte_ether_addr *)mac_a2);

	/* Towards A before anyone spoke on A: nowhere to send, dropped (not to 0.0.0.0). */
	rtp_b(&f, 1, 1, 1, true);
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_STREAM]), 1);
	assert_int_equal(st_of(leg_b).drops, 1);
	assert_int_equal(st_of(leg_b).tx_pkts, 0);
	assert_int_equal(w.txq[0].n, 0);
	assert_int_equal(ev_take(&ev), 1); /* B's peer latched on B */
	assert_int_equal(ev.stream_id, leg_b->id);

	rtp_frame(&f, mac_a2, STRANGER, 1234, MEDIA_A, PORT_A, 1, 1, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 1);
	assert_int_equal(st_of(leg_a).peer, peer_word(STRANGER, 1234));
	assert_int_equal(ev_take(&ev), 1);
	assert_int_equal(ev.stream_id, leg_a->id);
	assert_int_equal(ev.peer_ip, rte_cpu_to_be_32(STRANGER));

	rtp_frame(&f, mac_a, PEER_A, PEER_A_PORT, MEDIA_A, PORT_A, 2, 2, 1, true);
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_WRONG_SOURCE]), 1);

	rtp_b(&f, 2, 2, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 2);
	const struct expect to_latched = {mac_a2, MEDIA_A, STRANGER, PORT_A, 1234};
	assert_relayed(1, &f, &to_latched, true);
}

static void strict_latching_accepts_only_the_sdp_address_and_port(void **state)
{
	struct frame f;

	(void)state;
	legs_new();
	leg_a->latch = STREAM_LATCH_OFF;
	legs_publish(leg_a, leg_b);
	rtp_frame(&f, mac_a, PEER_A, 40010, MEDIA_A, PORT_A, 1, 1, 1, true);
	input(&f);
	rtp_frame(&f, mac_a, STRANGER, PEER_A_PORT, MEDIA_A, PORT_A, 1, 1, 1, true);
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_WRONG_SOURCE]), 2);
	assert_int_equal(st_of(leg_a).peer, 0);
	assert_int_equal(w.txq[0].n, 0);
	rtp_a(&f, 2, 2, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 1);
	assert_relayed(0, &f, &to_peer_b, true);
	assert_int_equal(st_of(leg_a).peer, peer_word(PEER_A, PEER_A_PORT));
	assert_int_equal(drops_total(), 2);
}

static void a_new_version_of_the_pair_latches_the_new_peer(void **state)
{
	struct frame f;
	struct msg_event ev;

	(void)state;
	pair_publish();
	rtp_a(&f, 1, 1, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 1);
	assert_int_equal(ev_take(&ev), 1);

	/* re-INVITE: A's peer moved. The control plane publishes a new version of both legs,
	 * same stream ids, and a new latch generation for the leg whose SDP peer moved. */
	struct stream_cfg *a2 = leg_new(MEDIA_A, PORT_A, PEER_A2, 42000, leg_a->id);
	struct stream_cfg *b2 = leg_new(MEDIA_B, PORT_B, PEER_B, PEER_B_PORT, leg_b->id);
	a2->latch_gen = 1;
	legs_publish(a2, b2);
	rcu_quiescent_state(); /* the old legs may go now */

	rtp_frame(&f, mac_a2, PEER_A2, 42000, MEDIA_A, PORT_A, 2, 2, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 2);
	assert_relayed(1, &f, &to_peer_b, true);
	assert_int_equal(st_of(a2).peer,
			 stream_peer_word(rte_cpu_to_be_32(PEER_A2), rte_cpu_to_be_16(42000), 1));
	assert_int_equal(ev_take(&ev), 1);
	assert_int_equal(ev.stream_id, a2->id);
	assert_int_equal(ev.peer_ip, rte_cpu_to_be_32(PEER_A2));

	/* The old peer is now a stranger. */
	rtp_a(&f, 3, 3, 1, true);
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_WRONG_SOURCE]), 1);
	assert_int_equal(st_of(a2).wrong_source, 1);

	rtp_b(&f, 1, 1, 1, true);
	input(&f);
	const struct expect to_new = {mac_a2, MEDIA_A, PEER_A2, PORT_A, 42000};
	assert_int_equal(w.txq[0].n, 3);
	assert_relayed(2, &f, &to_new, true);
}

/* Hold, 183 -> 200, a session refresh: a new version of the pair with the same SDP peers
 * keeps what the streams learnt: the latched peer (no window in which a stranger can take
 * over), the RTP statistics and counters, and our RTP source's sequence. */
static void republication_keeps_latch_statistics_and_sequence(void **state)
{
	struct frame f;
	struct msg_event ev;

	(void)state;
	legs_new();
	leg_a->latch = STREAM_LATCH_ANY;
	leg_b->translate = 1; /* what A sends leaves as B's own source */
	legs_publish(leg_a, leg_b);
	for (uint16_t i = 1; i <= 3; i++) {
		rtp_a(&f, i, 160u * i, 1, true);
		input(&f);
	}
	assert_int_equal(w.txq[0].n, 3);
	assert_rtp_out(2, (uint16_t)(leg_b->seq_base + 2), leg_b->ts_base + 320, SSRC_B);
	assert_int_equal(ev_take(&ev), 1);

	struct stream_cfg *a2 = leg_new(MEDIA_A, PORT_A, PEER_A, PEER_A_PORT, leg_a->id);
	struct stream_cfg *b2 = leg_new(MEDIA_B, PORT_B, PEER_B, PEER_B_PORT, leg_b->id);
	a2->latch = STREAM_LATCH_ANY;
	b2->translate = 1;
	b2->ssrc = SSRC_B; /* the control plane keeps our source identity */
	b2->seq_base = leg_b->seq_base;
	b2->ts_base = leg_b->ts_base;
	b2->dir = STREAM_DIR_RECV; /* B put on hold: what A sends is still counted */
	uint16_t seq_base = leg_b->seq_base;
	uint32_t ts_base = leg_b->ts_base;
	legs_publish(a2, b2);
	rcu_quiescent_state();

	/* a stranger cannot take the stream over after the republication (latch "any") */
	rtp_frame(&f, mac_a2, STRANGER, 1234, MEDIA_A, PORT_A, 4, 640, 1, true);
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_WRONG_SOURCE]), 1);
	assert_int_equal(ev_take(&ev), 0); /* nothing latched anew */

	/* B off hold, same peers: the sequence we send continues where it was */
	struct stream_cfg *a3 = leg_new(MEDIA_A, PORT_A, PEER_A, PEER_A_PORT, a2->id);
	struct stream_cfg *b3 = leg_new(MEDIA_B, PORT_B, PEER_B, PEER_B_PORT, b2->id);
	a3->latch = STREAM_LATCH_ANY;
	b3->translate = 1;
	b3->ssrc = SSRC_B;
	b3->seq_base = seq_base;
	b3->ts_base = ts_base;
	legs_publish(a3, b3);
	rcu_quiescent_state();
	rtp_a(&f, 5, 800, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 4);
	assert_rtp_out(3, (uint16_t)(seq_base + 3), ts_base + 800 - 160, SSRC_B);
	struct stream_stats st = st_of(a3);
	assert_int_equal(st.rx_pkts, 4);
	assert_int_equal(st.tx_pkts, 4);
	assert_int_equal(st.wrong_source, 1);
	assert_int_equal(st.rtp_expected, 4);  /* probation over at seq 2; 2..5 expected */
	assert_int_equal(st.rtp_lost, 1);      /* seq 4 came from the stranger: lost */
	assert_int_equal(st.peer, peer_word(PEER_A, PEER_A_PORT));
}

static void media_direction_is_enforced_on_both_legs(void **state)
{
	struct frame f;

	(void)state;
	legs_new();
	leg_b->dir = STREAM_DIR_RECV; /* B does not send to its peer (e.g. recvonly) */
	leg_a->dir = STREAM_DIR_SEND; /* A does not accept from its peer */
	legs_publish(leg_a, leg_b);
	rtp_a(&f, 1, 1, 1, true);
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_STREAM]), 1);
	assert_int_equal(st_of(leg_a).drops, 1);
	assert_int_equal(st_of(leg_a).rx_pkts, 0);
	rtp_b(&f, 1, 1, 1, true); /* B receives, A sends: this way works */
	input(&f);
	assert_int_equal(w.txq[0].n, 1);
	assert_relayed(0, &f, &to_peer_a, true);

	tx_reset();
	leg_a->dir = STREAM_DIR_RECV | STREAM_DIR_SEND; /* only B's missing SEND is left */
	rtp_a(&f, 2, 2, 1, true);
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_STREAM]), 2);
	assert_int_equal(st_of(leg_a).drops, 2);
	assert_int_equal(st_of(leg_a).tx_pkts, 0);
	assert_int_equal(w.txq[0].n, 0);
	assert_int_equal(drops_total(), 2);
}

/* The single frame in the TX queue is an ARP request for @target. */
static void assert_arp_request(unsigned i, uint32_t target)
{
	const uint8_t *r = tx_data(i), *a = r + 14;

	assert_memory_equal(r, bcast_mac, 6);
	assert_int_equal(get16(r + 12), 0x0806);
	assert_int_equal(get16(a + 6), 1);
	assert_memory_equal(a + 8, port_mac, 6);
	assert_int_equal(get32(a + 24), target);
}

static void unresolved_next_hop_holds_a_few_packets_and_asks_once(void **state)
{
	struct frame f, first;

	(void)state;
	pair_publish();
	arp_cache_flush(&w.arp);
	rtp_a(&first, 1, 1, 1, true);
	input(&first);
	for (unsigned i = 2; i <= ARP_HOLD + 1; i++) {
		rtp_a(&f, (uint16_t)i, i, 1, true);
		input(&f);
	}
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_NO_NEIGH]), 1); /* the one beyond the queue */
	assert_int_equal(drops_total(), 1);
	assert_int_equal(st_of(leg_a).tx_pkts, ARP_HOLD); /* held for ARP counts as sent on */
	assert_int_equal(w.txq[0].n, 1); /* one request, rate-limited */
	assert_arp_request(0, PEER_B);
	tx_reset();

	/* the answer (or another worker's word) releases what was held, in order */
	arp_learn(&w, rte_cpu_to_be_32(PEER_B), (const struct rte_ether_addr *)mac_b);
	assert_int_equal(w.txq[0].n, ARP_HOLD);
	assert_relayed(0, &first, &to_peer_b, true);
	tx_reset();
	rtp_a(&f, 30, 30, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 1);
	assert_relayed(0, &f, &to_peer_b, true);
}

static void held_packets_are_dropped_when_the_request_goes_unanswered(void **state)
{
	struct frame f;

	(void)state;
	pair_publish();
	arp_cache_flush(&w.arp);
	rtp_a(&f, 1, 1, 1, true);
	input(&f);
	assert_int_equal(drops_total(), 0);
	tx_reset();
	/* the next request (after the retry interval) gives up on what the last one held */
	w.arp.req_interval = 0;
	rtp_a(&f, 2, 2, 1, true);
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_NO_NEIGH]), 1);
	tx_reset();
	arp_cache_flush(&w.arp); /* and a flush drops the rest */
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_NO_NEIGH]), 2);
	arp_cache_init(&w.arp, rte_get_tsc_hz());
}

static void off_link_peer_is_reached_through_the_gateway(void **state)
{
	struct frame f;
	static const struct expect via_gw = {mac_gw, MEDIA_B, OFF_LINK, PORT_B, PEER_B_PORT};

	(void)state;
	dp.cfg.gateway = rte_cpu_to_be_32(GATEWAY);
	legs_new();
	leg_b->peer_ip = rte_cpu_to_be_32(OFF_LINK);
	legs_publish(leg_a, leg_b);
	rtp_a(&f, 1, 1, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 1);
	assert_arp_request(0, GATEWAY); /* not the off-link peer */
	tx_reset();

	arp_learn(&w, rte_cpu_to_be_32(GATEWAY), (const struct rte_ether_addr *)mac_gw);
	assert_int_equal(w.txq[0].n, 1); /* the held packet, through the gateway */
	assert_relayed(0, &f, &via_gw, true);
	tx_reset();
	rtp_a(&f, 2, 2, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 1);
	assert_relayed(0, &f, &via_gw, true);

	/* B's peer is the off-link address, whichever router hands its media to us; and media
	 * for the on-link A peer goes to it directly. */
	rtp_b(&f, 1, 1, 1, true);
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_WRONG_SOURCE]), 1);
	rtp_frame(&f, mac_gw, OFF_LINK, PEER_B_PORT, MEDIA_B, PORT_B, 2, 2, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 2);
	assert_relayed(1, &f, &to_peer_a, true);
	assert_int_equal(drops_total(), 1); /* the wrong source; nothing was lost to ARP */
}

static int eal_setup(void)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "test_relay_%d", (int)getpid());
	char *argv[] = {"test_relay", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
			"--file-prefix", prefix, "--log-level=error", "--lcores", "0@0"};
	int argc = (int)(sizeof(argv) / sizeof(argv[0]));

	if (rte_eal_init(argc, argv) < 0)
		return -1;
	uint32_t media[2] = {rte_cpu_to_be_32(MEDIA_A), rte_cpu_to_be_32(MEDIA_B)};
	memset(&dp, 0, sizeof(dp));
	dp.cfg.media_ip = media[0];
	dp.cfg.subnet = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 0));
	dp.cfg.netmask = rte_cpu_to_be_32(0xffffff00);
	dp.table = stream_table_create(media, 2);
	dp.n_ports = 1;
	dp.n_workers = 1;
	dp.link_up[0] = 1;
	memcpy(dp.port_mac[0].addr_bytes, port_mac, 6);
	dp.pool = rte_pktmbuf_pool_create("test_relay_mbufs", N_MBUFS, 0, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	dp.ev_ring = rte_ring_create_elem("test_relay_ev", sizeof(struct msg_event), 1024,
					  (int)rte_socket_id(), RING_F_SC_DEQ);
	dp.tsc_hz = rte_get_tsc_hz();
	return dp.table && dp.pool && dp.ev_ring ? 0 : -1;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, test_setup, test_teardown)
	const struct CMUnitTest tests[] = {
		T(rtp_leaves_from_the_other_leg_to_its_peer_in_both_directions),
		T(udp_checksum_zero_stays_zero_in_the_relay),
		T(translation_sends_as_the_other_legs_own_source),
		T(translation_keeps_the_checksum_right_when_a_partial_sum_is_zero),
		T(rtcp_goes_to_the_other_peers_odd_port_untranslated),
		T(ip_latching_takes_the_first_port_from_the_sdp_ip_and_sticks_to_it),
		T(the_sdp_address_takes_over_within_the_learning_window),
		T(hijackers_get_nothing_once_the_peer_has_spoken),
		T(any_latching_takes_the_first_sender_from_anywhere),
		T(strict_latching_accepts_only_the_sdp_address_and_port),
		T(a_new_version_of_the_pair_latches_the_new_peer),
		T(republication_keeps_latch_statistics_and_sequence),
		T(media_direction_is_enforced_on_both_legs),
		T(unresolved_next_hop_holds_a_few_packets_and_asks_once),
		T(held_packets_are_dropped_when_the_request_goes_unanswered),
		T(off_link_peer_is_reached_through_the_gateway),
	};
#undef T

	if (eal_setup() != 0) {
		fprintf(stderr, "test_relay: EAL or data plane set-up failed\n");
		return 1;
	}
	rcu_register_thread();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	stream_table_destroy(dp.table);
	rcu_thread_offline();
	rcu_unregister_thread();
	rte_ring_free(dp.ev_ring);
	rte_mempool_free(dp.pool);
	rte_eal_cleanup();
	return rc;
}
