/* Unit tests for the data plane's packet path (dataplane/net.c, arp.c, echo.c) without a NIC:
 * frames are built by hand into mbufs, handed to net_input(), and the worker's TX buffer, drop
 * counters, stream counters and event ring are inspected. Headers are read back with byte
 * offsets and checksums recomputed here, independently of the code under test. */
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

#define MEDIA_IP RTE_IPV4(10, 0, 0, 1) /* host order in this file */
#define PEER_IP RTE_IPV4(10, 0, 0, 2)
#define OTHER_IP RTE_IPV4(10, 0, 0, 99)
#define STREAM_PORT 30000
#define PEER_PORT 40000

static const uint8_t port_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct dp_worker w;

/* The UDP checksum of the datagram at @f's L4 offset, computed from scratch (0 sent as ffff). */
static uint16_t udp_csum_fresh(const uint8_t *f)
{
	uint8_t copy[512];
	uint16_t ulen = get16(f + OFF_L4 + 4);
	uint32_t sum = sum16(f + OFF_IP + 12, 8, 0) + 17 + ulen;

	memcpy(copy, f + OFF_L4, ulen);
	put16(copy + 6, 0);
	uint16_t c = (uint16_t)~sum16(copy, ulen, sum);
	return c == 0 ? 0xffff : c;
}

static void ip_csum_fix(struct frame *f)
{
	put16(f->b + OFF_IP + 10, 0);
	put16(f->b + OFF_IP + 10, (uint16_t)~sum16(f->b + OFF_IP, 20, 0));
}

static void udp_csum_fix(struct frame *f)
{
	put16(f->b + OFF_L4 + 6, udp_csum_fresh(f->b));
}

static void eth_build(struct frame *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f->b, dst, 6);
	memcpy(f->b + 6, peer_mac, 6);
	put16(f->b + 12, type);
}

/* Ethernet + IPv4 header (DF set, TTL 60) for @l4_len bytes of protocol @proto. */
static void ip_build(struct frame *f, uint8_t proto, uint32_t dst, uint16_t l4_len)
{
	uint8_t *ip = f->b + OFF_IP;

	eth_build(f, port_mac, 0x0800);
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(20 + l4_len));
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000); /* DF is not a fragment */
	ip[8] = 60;
	ip[9] = proto;
	put32(ip + 12, PEER_IP);
	put32(ip + 16, dst);
	ip_csum_fix(f);
	f->len = (uint16_t)(OFF_IP + 20 + l4_len);
}

/* A UDP datagram from the peer carrying @plen bytes of @payload, checksummed if @csum. */
static void udp_build(struct frame *f, uint16_t dport, const uint8_t *payload, uint16_t plen,
		      bool csum)
{
	uint8_t *udp = f->b + OFF_L4;

	ip_build(f, 17, MEDIA_IP, (uint16_t)(8 + plen));
	put16(udp, PEER_PORT);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)(8 + plen));
	put16(udp + 6, 0);
	memcpy(udp + 8, payload, plen);
	if (csum)
		udp_csum_fix(f);
}

/* RTP (PT 0, 160 bytes of audio) from the peer to @dport. */
static void rtp_build(struct frame *f, uint16_t dport, uint16_t seq, uint32_t ts, uint32_t ssrc,
		      bool csum)
{
	uint8_t rtp[12 + 160];

	rtp[0] = 0x80;
	rtp[1] = 0x00;
	put16(rtp + 2, seq);
	put32(rtp + 4, ts);
	put32(rtp + 8, ssrc);
	for (unsigned i = 0; i < 160; i++)
		rtp[12 + i] = (uint8_t)(i * 7 + seq);
	udp_build(f, dport, rtp, sizeof(rtp), csum);
}

static void arp_build(struct frame *f, uint16_t op, uint32_t spa, uint32_t tpa)
{
	uint8_t *a = f->b + 14;

	memset(f->b, 0, 60);
	eth_build(f, bcast_mac, 0x0806);
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, peer_mac, 6);
	put32(a + 14, spa);
	put32(a + 24, tpa);
	f->len = 60; /* padded to the Ethernet minimum, as on the wire */
}

/* Hand @f to the data plane as received with the NIC's checksum verdicts @ol_flags. */
static void input_flags(const struct frame *f, uint64_t ol_flags)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp.pool);
	assert_non_null(m);
	char *p = rte_pktmbuf_append(m, f->len);
	assert_non_null(p);
	memcpy(p, f->b, f->len);
	m->ol_flags = ol_flags;
	w.now = rte_rdtsc(); /* as worker_rx() does for each burst */
	net_input(&w, 0, m);
}

#define input(f) input_flags(f, 0)

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

/* The next event that is not a neighbour learnt (a latching stream also learns its peer's
 * MAC). */
static unsigned ev_take_stream(struct msg_event *ev)
{
	while (ev_take(ev))
		if (ev->type != MSG_EV_ARP_LEARNT)
			return 1;
	return 0;
}

static uint64_t drops_total(void)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < DP_DROP_MAX; i++)
		n += ctr_get(&w.stats.drop[i]);
	return n;
}

/* Every test's stream is a new stream id (ids are never reused: a state belongs to its id). */
static uint64_t next_id = 77;

static const struct stream_cfg *stream_publish(uint16_t port, uint8_t action, uint16_t seq_base,
					       uint32_t ts_base)
{
	struct stream_cfg *s = stream_cfg_alloc();
	assert_non_null(s);
	s->local_ip = rte_cpu_to_be_32(MEDIA_IP);
	s->local_port = port;
	s->action = action;
	s->dir = STREAM_DIR_RECV | STREAM_DIR_SEND;
	s->ssrc = 0x11223344;
	s->seq_base = seq_base;
	s->ts_base = ts_base;
	s->id = next_id++;
	assert_int_equal(stream_table_publish(dp.table, s), 0);
	return s;
}

static struct stream_stats stats_of(const struct stream_cfg *s)
{
	struct stream_stats st;
	stream_stats_read(dp.table, s, &st);
	return st;
}

static void stream_unpublish(uint16_t port)
{
	assert_int_equal(stream_table_del(dp.table, rte_cpu_to_be_32(MEDIA_IP), port), 0);
}

static int test_setup(void **state)
{
	struct msg_event ev;

	(void)state;
	dp_worker_init(&w, 0, 0, 0);
	w.now = rte_rdtsc();
	while (ev_take(&ev))
		;
	return 0;
}

/* Every path must have consumed its mbuf exactly once. */
static int test_teardown(void **state)
{
	(void)state;
	tx_reset();
	/* A test that failed half-way leaves its stream behind. */
	if (stream_table_get(dp.table, rte_cpu_to_be_32(MEDIA_IP), STREAM_PORT))
		stream_unpublish(STREAM_PORT);
	rcu_quiescent_state();
	return rte_mempool_avail_count(dp.pool) == N_MBUFS ? 0 : -1;
}

static void arp_request_for_the_media_ip_is_answered_and_the_sender_learnt(void **state)
{
	struct frame f;
	struct msg_event ev;

	(void)state;
	arp_build(&f, 1, PEER_IP, MEDIA_IP);
	input(&f);
	assert_int_equal(w.txq[0].n, 1);
	const uint8_t *r = tx_data(0), *a = r + 14;
	assert_memory_equal(r, peer_mac, 6);
	assert_memory_equal(r + 6, port_mac, 6);
	assert_int_equal(get16(r + 12), 0x0806);
	assert_int_equal(get16(a), 1);
	assert_int_equal(get16(a + 2), 0x0800);
	assert_int_equal(get16(a + 6), 2);
	assert_memory_equal(a + 8, port_mac, 6);
	assert_int_equal(get32(a + 14), MEDIA_IP);
	assert_memory_equal(a + 18, peer_mac, 6);
	assert_int_equal(get32(a + 24), PEER_IP);
	assert_int_equal(ctr_get(&w.stats.arp_replies), 1);
	assert_int_equal(drops_total(), 0);

	assert_int_equal(ev_take(&ev), 1);
	assert_int_equal(ev.type, MSG_EV_ARP_LEARNT);
	assert_int_equal(ev.peer_ip, rte_cpu_to_be_32(PEER_IP));
	assert_memory_equal(ev.mac, peer_mac, 6);
	assert_int_equal(ev_take(&ev), 0);

	const struct rte_ether_addr *mac = arp_resolve(&w, 0, rte_cpu_to_be_32(PEER_IP));
	assert_non_null(mac);
	assert_memory_equal(mac->addr_bytes, peer_mac, 6);
	assert_int_equal(w.txq[0].n, 1); /* no request needed */

	/* The same neighbour again is answered but is no news for the control plane. */
	input(&f);
	assert_int_equal(w.txq[0].n, 2);
	assert_int_equal(ev_take(&ev), 0);
}

static void arp_for_another_address_is_dropped(void **state)
{
	struct frame f;
	struct msg_event ev;

	(void)state;
	arp_build(&f, 1, PEER_IP, OTHER_IP);
	input(&f);
	assert_int_equal(w.txq[0].n, 0);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_ARP]), 1);
	assert_int_equal(drops_total(), 1);
	assert_int_equal(ev_take(&ev), 0);
	assert_null(arp_resolve(&w, 0, rte_cpu_to_be_32(PEER_IP))); /* not learnt */
}

static void arp_reply_to_us_is_learnt_without_answer(void **state)
{
	struct frame f;
	struct msg_event ev;

	(void)state;
	arp_build(&f, 2, PEER_IP, MEDIA_IP);
	input(&f);
	assert_int_equal(w.txq[0].n, 0);
	assert_int_equal(drops_total(), 0);
	assert_int_equal(ev_take(&ev), 1);
	assert_int_equal(ev.type, MSG_EV_ARP_LEARNT);
	assert_non_null(arp_resolve(&w, 0, rte_cpu_to_be_32(PEER_IP)));
}

static void unknown_neighbour_gets_one_rate_limited_arp_request(void **state)
{
	uint32_t target = RTE_IPV4(10, 0, 0, 50);

	(void)state;
	assert_null(arp_resolve(&w, 0, rte_cpu_to_be_32(target)));
	assert_int_equal(w.txq[0].n, 1);
	const uint8_t *r = tx_data(0), *a = r + 14;
	assert_int_equal(rte_pktmbuf_data_len(w.txq[0].pkts[0]), 14 + 28);
	assert_memory_equal(r, bcast_mac, 6);
	assert_memory_equal(r + 6, port_mac, 6);
	assert_int_equal(get16(r + 12), 0x0806);
	assert_int_equal(get16(a), 1);
	assert_int_equal(get16(a + 2), 0x0800);
	assert_int_equal(a[4], 6);
	assert_int_equal(a[5], 4);
	assert_int_equal(get16(a + 6), 1);
	assert_memory_equal(a + 8, port_mac, 6);
	assert_int_equal(get32(a + 14), MEDIA_IP);
	assert_int_equal(get32(a + 24), target);

	/* Within the interval: still unknown, nothing more on the wire. */
	assert_null(arp_resolve(&w, 0, rte_cpu_to_be_32(target)));
	assert_int_equal(w.txq[0].n, 1);
}

static void icmp_echo_request_gets_a_valid_echo_reply(void **state)
{
	struct frame f;
	uint8_t *icmp = f.b + OFF_L4;
	const uint16_t l4 = 8 + 37; /* odd payload length on purpose */

	(void)state;
	ip_build(&f, 1, MEDIA_IP, l4);
	icmp[0] = 8;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, 0xbeef);
	put16(icmp + 6, 3);
	for (unsigned i = 8; i < l4; i++)
		icmp[i] = (uint8_t)(0xa0 + i);
	put16(icmp + 2, (uint16_t)~sum16(icmp, l4, 0));
	input(&f);

	assert_int_equal(w.txq[0].n, 1);
	const uint8_t *r = tx_data(0), *rip = r + OFF_IP, *ricmp = r + OFF_L4;
	assert_int_equal(rte_pktmbuf_data_len(w.txq[0].pkts[0]), f.len);
	assert_memory_equal(r, peer_mac, 6);
	assert_memory_equal(r + 6, port_mac, 6);
	assert_int_equal(get32(rip + 12), MEDIA_IP);
	assert_int_equal(get32(rip + 16), PEER_IP);
	assert_int_equal(rip[8], 64);
	assert_int_equal(sum16(rip, 20, 0), 0xffff);
	assert_int_equal(ricmp[0], 0);
	assert_int_equal(ricmp[1], 0);
	assert_memory_equal(ricmp + 4, icmp + 4, l4 - 4); /* id, sequence, data */
	assert_int_equal(sum16(ricmp, l4, 0), 0xffff);
	uint8_t fresh[64];
	memcpy(fresh, ricmp, l4);
	put16(fresh + 2, 0);
	assert_int_equal(get16(ricmp + 2), (uint16_t)~sum16(fresh, l4, 0));
	assert_int_equal(ctr_get(&w.stats.icmp_replies), 1);
	assert_int_equal(drops_total(), 0);
}

static void icmp_with_a_bad_checksum_or_not_a_request_is_dropped(void **state)
{
	struct frame f;
	uint8_t *icmp = f.b + OFF_L4;

	(void)state;
	ip_build(&f, 1, MEDIA_IP, 16);
	memset(icmp, 0x11, 16);
	icmp[0] = 8;
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 2, (uint16_t)(~sum16(icmp, 16, 0) + 1)); /* off by one */
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_ICMP]), 1);

	icmp[0] = 13; /* timestamp request, correctly summed */
	put16(icmp + 2, 0);
	put16(icmp + 2, (uint16_t)~sum16(icmp, 16, 0));
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_ICMP]), 2);
	assert_int_equal(drops_total(), 2);
	assert_int_equal(w.txq[0].n, 0);
	assert_int_equal(ctr_get(&w.stats.icmp_replies), 0);
}

/* Headers of echo reply @i: back to the peer, from our stream, TTL 64, checksums valid. */
static void assert_echo_reply_headers(unsigned i, const struct frame *in)
{
	const uint8_t *r = tx_data(i), *ip = r + OFF_IP, *udp = r + OFF_L4;

	assert_int_equal(rte_pktmbuf_data_len(w.txq[0].pkts[i]), in->len);
	assert_memory_equal(r, peer_mac, 6);
	assert_memory_equal(r + 6, port_mac, 6);
	assert_int_equal(get16(r + 12), 0x0800);
	assert_int_equal(get32(ip + 12), MEDIA_IP);
	assert_int_equal(get32(ip + 16), PEER_IP);
	assert_int_equal(ip[8], 64);
	assert_int_equal(get16(ip + 2), get16(in->b + OFF_IP + 2));
	assert_int_equal(sum16(ip, 20, 0), 0xffff);
	assert_int_equal(get16(udp), STREAM_PORT);
	assert_int_equal(get16(udp + 2), PEER_PORT);
	assert_int_equal(get16(udp + 4), get16(in->b + OFF_L4 + 4));
	if (get16(in->b + OFF_L4 + 6) == 0)
		assert_int_equal(get16(udp + 6), 0);
	else
		assert_int_equal(get16(udp + 6), udp_csum_fresh(r));
	/* Marker/payload type and the media are untouched. */
	assert_int_equal(r[OFF_RTP], in->b[OFF_RTP]);
	assert_int_equal(r[OFF_RTP + 1], in->b[OFF_RTP + 1]);
	assert_memory_equal(r + OFF_RTP + 12, in->b + OFF_RTP + 12, in->len - OFF_RTP - 12);
}

static void assert_rtp_out(unsigned i, uint16_t seq, uint32_t ts)
{
	const uint8_t *rtp = tx_data(i) + OFF_RTP;

	assert_int_equal(get16(rtp + 2), seq);
	assert_int_equal(get32(rtp + 4), ts);
	assert_int_equal(get32(rtp + 8), 0x11223344);
}

static void rtp_on_an_echo_stream_goes_back_as_our_own_source(void **state)
{
	struct frame f[3];
	struct msg_event ev;
	const struct stream_cfg *s = stream_publish(STREAM_PORT, STREAM_ECHO, 1000, 50000);
	const uint32_t ts0 = 0xffffff60; /* the sender's timestamp wraps on the second packet */

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		rtp_build(&f[i], STREAM_PORT, (uint16_t)(5 + i), ts0 + 160 * i, 0xaabbccdd, true);
		input(&f[i]);
	}
	assert_int_equal(w.txq[0].n, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_echo_reply_headers(i, &f[i]);
		assert_rtp_out(i, (uint16_t)(1000 + i), 50000 + 160 * i);
	}
	struct stream_stats st = stats_of(s);
	assert_int_equal(st.rx_pkts, 3);
	assert_int_equal(st.tx_pkts, 3);
	assert_int_equal(st.rx_bytes, 3 * f[0].len);
	assert_int_equal(stream_peer_ip(st.peer), rte_cpu_to_be_32(PEER_IP));
	assert_int_equal(stream_peer_port(st.peer), rte_cpu_to_be_16(PEER_PORT));
	assert_int_equal(drops_total(), 0);

	assert_int_equal(ev_take_stream(&ev), 1);
	assert_int_equal(ev.type, MSG_EV_STREAM_FIRST_RX);
	assert_int_equal(ev.worker, 0);
	assert_int_equal(ev.local_port, STREAM_PORT);
	assert_int_equal(ev.local_ip, rte_cpu_to_be_32(MEDIA_IP));
	assert_int_equal(ev.peer_ip, rte_cpu_to_be_32(PEER_IP));
	assert_int_equal(ev.peer_port, rte_cpu_to_be_16(PEER_PORT));
	assert_int_equal(ev.stream_id, s->id);
	assert_int_equal(ev_take_stream(&ev), 0); /* only the first packet is news */
	stream_unpublish(STREAM_PORT);
}

static void udp_checksum_zero_stays_zero_in_the_echo(void **state)
{
	struct frame f;

	(void)state;
	stream_publish(STREAM_PORT, STREAM_ECHO, 7, 1);
	rtp_build(&f, STREAM_PORT, 1, 1000, 0xaabbccdd, false);
	input(&f);
	assert_int_equal(w.txq[0].n, 1);
	assert_echo_reply_headers(0, &f);
	assert_int_equal(get16(tx_data(0) + OFF_L4 + 6), 0);
	assert_rtp_out(0, 7, 1);
	stream_unpublish(STREAM_PORT);
}

static void sender_ssrc_change_keeps_our_sequence_and_timeline(void **state)
{
	struct frame f[4];

	(void)state;
	stream_publish(STREAM_PORT, STREAM_ECHO, 200, 9000);
	rtp_build(&f[0], STREAM_PORT, 10, 4000, 0xaaaa0001, true);
	rtp_build(&f[1], STREAM_PORT, 11, 4160, 0xaaaa0001, true);
	rtp_build(&f[2], STREAM_PORT, 60000, 123456789, 0xbbbb0002, true);
	rtp_build(&f[3], STREAM_PORT, 60001, 123456789 + 320, 0xbbbb0002, true);
	for (unsigned i = 0; i < 4; i++)
		input(&f[i]);
	assert_int_equal(w.txq[0].n, 4);
	for (unsigned i = 0; i < 4; i++)
		assert_echo_reply_headers(i, &f[i]);
	assert_rtp_out(0, 200, 9000);
	assert_rtp_out(1, 201, 9160);
	assert_rtp_out(2, 202, 9320);
	assert_rtp_out(3, 203, 9640);
	stream_unpublish(STREAM_PORT);
}

static void our_sequence_number_wraps_to_zero(void **state)
{
	struct frame f;

	(void)state;
	stream_publish(STREAM_PORT, STREAM_ECHO, 65535, 0);
	for (unsigned i = 0; i < 3; i++) {
		rtp_build(&f, STREAM_PORT, (uint16_t)(100 + i), 160 * i, 0xaabbccdd, true);
		input(&f);
		assert_echo_reply_headers(i, &f);
	}
	assert_rtp_out(0, 65535, 0);
	assert_rtp_out(1, 0, 160);
	assert_rtp_out(2, 1, 320);
	stream_unpublish(STREAM_PORT);
}

static void rtcp_on_the_odd_port_is_consumed(void **state)
{
	struct frame f;
	uint8_t rr[8] = {0x80, 201, 0x00, 0x01, 0xaa, 0xbb, 0xcc, 0xdd};
	const struct stream_cfg *s = stream_publish(STREAM_PORT, STREAM_ECHO, 0, 0);

	(void)state;
	udp_build(&f, STREAM_PORT + 1, rr, sizeof(rr), true);
	input(&f);
	assert_int_equal(ctr_get(&w.stats.rtcp), 1);
	assert_int_equal(stats_of(s).rtcp_pkts, 1);
	assert_int_equal(stats_of(s).rx_pkts, 0);
	assert_int_equal(w.txq[0].n, 0);
	assert_int_equal(drops_total(), 0);
	stream_unpublish(STREAM_PORT);
}

static void media_on_a_drop_stream_is_counted(void **state)
{
	struct frame f;
	const struct stream_cfg *s = stream_publish(STREAM_PORT, STREAM_DROP, 0, 0);

	(void)state;
	rtp_build(&f, STREAM_PORT, 1, 1, 1, true);
	input(&f);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_STREAM]), 1);
	assert_int_equal(stats_of(s).drops, 1);
	assert_int_equal(w.txq[0].n, 0);
	stream_unpublish(STREAM_PORT);
}

static void ethernet_padding_is_not_part_of_the_datagram(void **state)
{
	struct frame f;
	uint8_t rtp[12] = {0x80, 0, 0, 9, 0, 0, 0, 100, 1, 2, 3, 4};

	(void)state;
	stream_publish(STREAM_PORT, STREAM_ECHO, 500, 4242);
	udp_build(&f, STREAM_PORT, rtp, sizeof(rtp), true);
	assert_int_equal(f.len, 54);
	struct frame padded = f;
	memset(padded.b + f.len, 0x5a, 60 - f.len); /* junk that would break the checksum */
	padded.len = 60;
	input(&padded);
	assert_int_equal(drops_total(), 0);
	assert_int_equal(w.txq[0].n, 1);
	assert_echo_reply_headers(0, &f); /* 54 bytes out, checksum over the datagram only */
	assert_rtp_out(0, 500, 4242);
	stream_unpublish(STREAM_PORT);
}

/* Malformed or unwanted frames: each is a valid RTP frame to the echo stream, then mutated. */
static void mut_ipv6(struct frame *f) { put16(f->b + 12, 0x86dd); }
static void mut_runt(struct frame *f) { f->len = 13; }
static void mut_ip_truncated(struct frame *f) { f->len = OFF_IP + 19; }
static void mut_ip_version(struct frame *f) { f->b[OFF_IP] = 0x65; ip_csum_fix(f); }
static void mut_ip_ihl(struct frame *f) { f->b[OFF_IP] = 0x44; ip_csum_fix(f); }
static void mut_ip_csum(struct frame *f) { f->b[OFF_IP + 10] ^= 0x01; }

static void add16(uint8_t *p, int d) { put16(p, (uint16_t)(get16(p) + d)); }
static void mut_ip_too_long(struct frame *f) { add16(f->b + OFF_IP + 2, 1); ip_csum_fix(f); }

static void mut_ip_mf(struct frame *f) { put16(f->b + OFF_IP + 6, 0x2000); ip_csum_fix(f); }
static void mut_ip_offset(struct frame *f) { put16(f->b + OFF_IP + 6, 0x0001); ip_csum_fix(f); }

static void mut_not_ours(struct frame *f)
{
	put32(f->b + OFF_IP + 16, OTHER_IP);
	ip_csum_fix(f);
	udp_csum_fix(f);
}

static void mut_tcp(struct frame *f) { f->b[OFF_IP + 9] = 6; ip_csum_fix(f); }
static void mut_udp_csum(struct frame *f) { f->b[OFF_L4 + 7] ^= 0x04; }

/* UDP length off by @d, checksum off so that only the length is wrong. */
static void udp_len_off(struct frame *f, int d)
{
	add16(f->b + OFF_L4 + 4, d);
	put16(f->b + OFF_L4 + 6, 0);
}

static void mut_udp_len_short(struct frame *f) { udp_len_off(f, -2); }
static void mut_udp_len_long(struct frame *f) { udp_len_off(f, 2); }

static void mut_no_stream(struct frame *f) { put16(f->b + OFF_L4 + 2, 30100); udp_csum_fix(f); }
static void mut_rtp_v1(struct frame *f) { f->b[OFF_RTP] = 0x40; udp_csum_fix(f); }

/* Cut the IP datagram to @l4 bytes, consistently when it still holds a UDP header. */
static void udp_cut(struct frame *f, uint16_t l4)
{
	put16(f->b + OFF_IP + 2, (uint16_t)(20 + l4));
	put16(f->b + OFF_L4 + 4, l4);
	f->len = (uint16_t)(OFF_L4 + l4);
	ip_csum_fix(f);
	if (l4 >= 8)
		udp_csum_fix(f);
}

static void mut_udp_truncated(struct frame *f) { udp_cut(f, 7); }
static void mut_rtp_short(struct frame *f) { udp_cut(f, 8 + 11); } /* one short of RTP's 12 */

static void mut_arp_short(struct frame *f) { arp_build(f, 1, PEER_IP, MEDIA_IP); f->len = 41; }
static void mut_arp_proto(struct frame *f) { arp_build(f, 1, PEER_IP, MEDIA_IP); f->b[16] = 0x86; }

struct drop_case {
	const char *name;
	void (*mutate)(struct frame *f);
	enum dp_drop why;
};

static const struct drop_case drop_cases[] = {
	{"ipv6", mut_ipv6, DP_DROP_NOT_IPV4},
	{"runt", mut_runt, DP_DROP_BAD_L2},
	{"ip truncated", mut_ip_truncated, DP_DROP_BAD_IP},
	{"ip version 6", mut_ip_version, DP_DROP_BAD_IP},
	{"ip ihl 4", mut_ip_ihl, DP_DROP_BAD_IP},
	{"ip checksum", mut_ip_csum, DP_DROP_BAD_IP},
	{"ip total length over frame", mut_ip_too_long, DP_DROP_BAD_IP},
	{"ip more fragments", mut_ip_mf, DP_DROP_IP_FRAG},
	{"ip fragment offset", mut_ip_offset, DP_DROP_IP_FRAG},
	{"not ours", mut_not_ours, DP_DROP_NOT_OURS},
	{"tcp", mut_tcp, DP_DROP_PROTO},
	{"udp checksum", mut_udp_csum, DP_DROP_BAD_UDP},
	{"udp header truncated", mut_udp_truncated, DP_DROP_BAD_UDP},
	{"udp length short", mut_udp_len_short, DP_DROP_BAD_UDP},
	{"udp length long", mut_udp_len_long, DP_DROP_BAD_UDP},
	{"no stream", mut_no_stream, DP_DROP_NO_STREAM},
	{"rtp version 1", mut_rtp_v1, DP_DROP_BAD_RTP},
	{"rtp short", mut_rtp_short, DP_DROP_BAD_RTP},
	{"arp short", mut_arp_short, DP_DROP_ARP},
	{"arp protocol not ipv4", mut_arp_proto, DP_DROP_ARP},
};

static void each_bad_frame_is_dropped_under_its_own_reason(void **state)
{
	struct frame f;
	struct msg_event ev;
	const struct stream_cfg *s = stream_publish(STREAM_PORT, STREAM_ECHO, 0, 0);

	(void)state;
	for (size_t i = 0; i < sizeof(drop_cases) / sizeof(drop_cases[0]); i++) {
		const struct drop_case *c = &drop_cases[i];
		for (unsigned d = 0; d < DP_DROP_MAX; d++)
			ctr_set(&w.stats.drop[d], 0);
		rtp_build(&f, STREAM_PORT, 1, 1, 1, true);
		c->mutate(&f);
		input(&f);
		if (ctr_get(&w.stats.drop[c->why]) != 1 || drops_total() != 1 || w.txq[0].n != 0)
			fail_msg("%s: not dropped as %s (%u transmitted)", c->name,
				 dp_drop_name(c->why), w.txq[0].n);
	}
	assert_int_equal(stats_of(s).rx_pkts, 0);
	assert_int_equal(stats_of(s).drops, 2); /* the two RTP cases */
	assert_int_equal(ev_take(&ev), 0);

	/* The unmutated frame does get through: the cases above fail for their mutation only. */
	rtp_build(&f, STREAM_PORT, 1, 1, 1, true);
	input(&f);
	assert_int_equal(w.txq[0].n, 1);
	stream_unpublish(STREAM_PORT);
}

static void nic_checksum_verdicts_are_trusted(void **state)
{
	struct frame f;

	(void)state;
	stream_publish(STREAM_PORT, STREAM_ECHO, 0, 0);
	rtp_build(&f, STREAM_PORT, 1, 1, 1, true);
	input_flags(&f, RTE_MBUF_F_RX_IP_CKSUM_BAD);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_BAD_IP]), 1);
	input_flags(&f, RTE_MBUF_F_RX_L4_CKSUM_BAD);
	assert_int_equal(ctr_get(&w.stats.drop[DP_DROP_BAD_UDP]), 1);
	assert_int_equal(w.txq[0].n, 0);
	/* Checked by the NIC: no software check (the corrupted sums pass), no stale flags on TX. */
	mut_ip_csum(&f);
	mut_udp_csum(&f);
	input_flags(&f, RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	assert_int_equal(drops_total(), 2);
	assert_int_equal(w.txq[0].n, 1);
	assert_int_equal(w.txq[0].pkts[0]->ol_flags, 0);
	stream_unpublish(STREAM_PORT);
}

static int eal_setup(void)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "test_net_%d", (int)getpid());
	char *argv[] = {"test_net", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
			"--file-prefix", prefix, "--log-level=error", "--lcores", "0@0"};
	int argc = (int)(sizeof(argv) / sizeof(argv[0]));

	if (rte_eal_init(argc, argv) < 0)
		return -1;
	uint32_t media = rte_cpu_to_be_32(MEDIA_IP);
	memset(&dp, 0, sizeof(dp));
	dp.cfg.media_ip = media;
	dp.cfg.subnet = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 0));
	dp.cfg.netmask = rte_cpu_to_be_32(0xffffff00);
	dp.table = stream_table_create(&media, 1);
	dp.n_ports = 1;
	dp.n_workers = 1;
	dp.link_up[0] = 1;
	memcpy(dp.port_mac[0].addr_bytes, port_mac, 6);
	dp.pool = rte_pktmbuf_pool_create("test_net_mbufs", N_MBUFS, 0, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	dp.ev_ring = rte_ring_create_elem("test_net_ev", sizeof(struct msg_event), 1024,
					  (int)rte_socket_id(), RING_F_SC_DEQ);
	dp.tsc_hz = rte_get_tsc_hz();
	return dp.table && dp.pool && dp.ev_ring ? 0 : -1;
}

/* The eight-bytes-at-a-time checksum agrees with DPDK's reference sum for every length,
 * alignment and start value (odd tails included). */
static void checksum_sum_matches_the_reference_for_every_length(void **state)
{
	(void)state;
	uint8_t buf[300];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (uint32_t off = 0; off < 8; off++) {
		for (uint32_t len = 0; len + off <= 290; len++) {
			uint32_t init = (len * 7919u) & 0xffff;
			uint32_t ref = rte_raw_cksum(buf + off, len) + init;
			ref = (ref & 0xffff) + (ref >> 16);
			ref = (ref & 0xffff) + (ref >> 16);
			uint16_t got = net_cksum_sum(buf + off, len, init);
			/* 0 and 0xffff are the same number in one's complement */
			if (!((got == 0 || got == 0xffff) && (ref == 0 || ref == 0xffff)))
				assert_int_equal(got, ref);
		}
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, test_setup, test_teardown)
	const struct CMUnitTest tests[] = {
		T(arp_request_for_the_media_ip_is_answered_and_the_sender_learnt),
		T(arp_for_another_address_is_dropped),
		T(arp_reply_to_us_is_learnt_without_answer),
		T(unknown_neighbour_gets_one_rate_limited_arp_request),
		T(icmp_echo_request_gets_a_valid_echo_reply),
		T(icmp_with_a_bad_checksum_or_not_a_request_is_dropped),
		T(rtp_on_an_echo_stream_goes_back_as_our_own_source),
		T(udp_checksum_zero_stays_zero_in_the_echo),
		T(sender_ssrc_change_keeps_our_sequence_and_timeline),
		T(our_sequence_number_wraps_to_zero),
		T(rtcp_on_the_odd_port_is_consumed),
		T(media_on_a_drop_stream_is_counted),
		T(ethernet_padding_is_not_part_of_the_datagram),
		T(each_bad_frame_is_dropped_under_its_own_reason),
		T(nic_checksum_verdicts_are_trusted),
		cmocka_unit_test(checksum_sum_matches_the_reference_for_every_length),
	};
#undef T

	if (eal_setup() != 0) {
		fprintf(stderr, "test_net: EAL or data plane set-up failed\n");
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
