/* Stress test of the planes' contract with two workers (run under ThreadSanitizer by
 * `make test`): relay pairs are republished by the control thread while the RTP and RTCP of
 * the same streams arrive on two different queues of one port (a net_ring port: each worker
 * polls its own queue), so that every stream's packets meet on two workers and all but the
 * owner's are handed over. The control thread reads statistics snapshots all along.
 *
 * What must hold: every packet fed is relayed (none lost, none dropped, each from the right
 * leg to the right peer); each stream's counters equal what was fed to it, whichever queue
 * carried it; RTP loss read as a snapshot is never anything but 0 (a torn read of the
 * statistics would show one); hand-offs happened both ways; no sanitizer report.
 *
 * Then mgw's player: echo streams whose plays (tones, digits) the control thread starts,
 * replaces, stops and outlives by republication while both workers play them and report
 * their ends; every play's memory is freed after its last config's grace period (ASan),
 * and no data race on the way (TSan).
 *
 * Then transcoding: PCMU <-> G.722 pairs fed 20 ms audio both ways on both queues while the
 * control thread republishes them, keeping a pipeline (same codecs and packet times) or
 * replacing it (leg B's packet time changed); both workers decode, buffer, encode and send
 * through their timing wheels meanwhile. Both peers hear their codec; every pipeline is
 * freed after its last config's grace period (ASan); no data race (TSan). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "controlplane/config.h"
#include "controlplane/media/media.h"
#include "controlplane/media/prompt.h"
#include "dataplane/arp.h"
#include "dataplane/net.h"
#include "dataplane/worker.h"
#include "tests/unit/frames.h"
#include "util/tsan.h"

#define N_PAIRS 32
#define N_WORKERS 2
#define ROUNDS 600              /* RTP packets per stream */
#define RTCP_EVERY 8            /* one RTCP packet per this many RTP packets */
#define N_MBUFS 8191
#define RING_SIZE 1024

#define MEDIA_IP RTE_IPV4(10, 9, 0, 10) /* host order; two addresses: .10 and .11 */
#define PEER_A RTE_IPV4(10, 9, 0, 2)
#define PEER_B RTE_IPV4(10, 9, 0, 3)
#define PEER_A_PORT 20000 /* + 2 * pair */
#define PEER_B_PORT 40000

static const uint8_t port_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0xaa};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0xbb};

static struct rte_ring *rx_ring[N_WORKERS], *tx_ring[N_WORKERS];
static atomic_bool play_mode; /* the drainer counts played packets instead */
static atomic_bool xcode_mode; /* the drainer counts transcoded packets per peer instead */
static atomic_ulong xcode_rx_a, xcode_rx_b; /* PCMU to peer A, G.722 to peer B */
static atomic_ulong played_rx;
static struct media_ep ep_a[N_PAIRS], ep_b[N_PAIRS]; /* the control thread's */
/* what the peers know of the endpoints (their SDP): host order */
static uint32_t a_ip[N_PAIRS], b_ip[N_PAIRS];
static uint16_t a_port[N_PAIRS], b_port[N_PAIRS];
static atomic_bool workers_stop, drain_stop;
static atomic_ulong drained, misrouted;

/* One UDP frame from @sip:@sport to @dip:@dport: RTP (seq @seq) or, on odd ports, RTCP. */
static struct rte_mbuf *frame(const uint8_t *smac, uint32_t sip, uint16_t sport, uint32_t dip,
			      uint16_t dport, uint16_t seq)
{
	struct frame f;
	uint8_t *ip = f.b + 14, *udp = f.b + 34, *rtp = f.b + 42;
	uint16_t plen = 12 + 160;

	memcpy(f.b, port_mac, 6);
	memcpy(f.b + 6, smac, 6);
	put16(f.b + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + 8 + plen));
	ip[8] = 64;
	ip[9] = 17;
	put32(ip + 12, sip);
	put32(ip + 16, dip);
	put16(ip + 10, (uint16_t)~sum16(ip, 20, 0));
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)(8 + plen));
	put16(udp + 6, 0); /* no UDP checksum: the relay keeps it 0 */
	rtp[0] = 0x80;
	rtp[1] = (dport & 1) ? 200 : 0; /* an RTCP SR type, or PCMU */
	put16(rtp + 2, seq);
	put32(rtp + 4, 160u * seq);
	put32(rtp + 8, 0x1234);
	memset(rtp + 12, 0xd5, 160);
	f.len = (uint16_t)(42 + plen);
	struct rte_mbuf *m = dp_alloc();
	if (m)
		memcpy(rte_pktmbuf_append(m, f.len), f.b, f.len);
	return m;
}

static void feed(unsigned q, struct rte_mbuf *m)
{
	assert_non_null(m);
	TSAN_RELEASE(m); /* as a NIC's DMA would be before the worker reads it */
	while (rte_ring_sp_enqueue(rx_ring[q], m) != 0)
		sched_yield();
}

/* The peers: A's RTP on queue 0 and its RTCP on queue 1, B's RTP on queue 1 and its RTCP on
 * queue 0; once the streams are validated, every 5th RTP of A arrives on queue 1 (a flow that
 * RSS moved: it overtakes or falls behind its neighbours). Sequence numbers wrap. */
static void *feeder(void *arg)
{
	(void)arg;
	for (unsigned i = 1; i <= ROUNDS; i++) {
		uint16_t seq = (uint16_t)(65500 + i);
		for (unsigned p = 0; p < N_PAIRS; p++) {
			uint16_t pa = (uint16_t)(PEER_A_PORT + 2 * p), pb = (uint16_t)(PEER_B_PORT + 2 * p);
			feed(i > 10 && i % 5 == 0 ? 1 : 0,
			     frame(mac_a, PEER_A, pa, a_ip[p], a_port[p], seq));
			feed(1, frame(mac_b, PEER_B, pb, b_ip[p], b_port[p], seq));
			if (i % RTCP_EVERY == 0) {
				feed(1, frame(mac_a, PEER_A, pa + 1, a_ip[p], a_port[p] + 1, seq));
				feed(0, frame(mac_b, PEER_B, pb + 1, b_ip[p], b_port[p] + 1, seq));
			}
		}
		/* keep the two queues within a few rounds of each other, as a NIC's would be:
		 * RFC 3550 takes a packet more than 100 behind for a stray one */
		while (rte_ring_count(rx_ring[0]) > 2 * N_PAIRS || rte_ring_count(rx_ring[1]) > 2 * N_PAIRS)
			sched_yield();
	}
	return NULL;
}

static void *worker(void *arg)
{
	struct dp_worker *w = arg;
	rcu_register_thread();
	while (!atomic_load(&workers_stop)) {
		w->now = rte_rdtsc();
		dp_worker_poll(w);
		dp_worker_commands(w);
		stream_rcu_quiescent();
	}
	stream_rcu_offline();
	rcu_unregister_thread();
	return NULL;
}

/* What left: every packet goes from the other leg's address to the other leg's peer. */
static void *drainer(void *arg)
{
	(void)arg;
	struct rte_mbuf *m[32];
	for (;;) {
		unsigned got = 0;
		for (unsigned q = 0; q < N_WORKERS; q++) {
			unsigned n = rte_ring_sc_dequeue_burst(tx_ring[q], (void **)m, 32, NULL);
			for (unsigned i = 0; i < n; i++) {
				TSAN_ACQUIRE(m[i]);
				const uint8_t *f = rte_pktmbuf_mtod(m[i], const uint8_t *);
				if (atomic_load(&xcode_mode)) {
					bool rtp = !(get16(f + 36) & 1) && (f[42] >> 6) == 2;
					if (rtp && get32(f + 30) == PEER_A && (f[43] & 0x7f) == 0)
						atomic_fetch_add(&xcode_rx_a, 1);
					else if (rtp && get32(f + 30) == PEER_B && (f[43] & 0x7f) == 9)
						atomic_fetch_add(&xcode_rx_b, 1);
					dp_free(m[i]);
					continue;
				}
				if (atomic_load(&play_mode)) {
					/* RTP (not the echo streams' RTCP reports) to peer A */
					if (get32(f + 30) == PEER_A && !(get16(f + 36) & 1) &&
					    (f[42] >> 6) == 2)
						atomic_fetch_add(&played_rx, 1);
					dp_free(m[i]);
					continue;
				}
				uint32_t sip = get32(f + 26), dip = get32(f + 30);
				uint16_t sport = get16(f + 34), dport = get16(f + 36);
				unsigned p = (dport & ~1u) >= PEER_B_PORT ? (dport - PEER_B_PORT) / 2
									 : (dport - PEER_A_PORT) / 2;
				bool to_b = dip == PEER_B;
				if (p >= N_PAIRS || sip != (to_b ? b_ip[p] : a_ip[p]) ||
				    (sport & ~1u) != (to_b ? b_port[p] : a_port[p]) ||
				    (sport & 1) != (dport & 1))
					atomic_fetch_add(&misrouted, 1);
				dp_free(m[i]);
			}
			got += n;
		}
		atomic_fetch_add(&drained, got);
		if (!got) {
			if (atomic_load(&drain_stop))
				break;
			sched_yield();
		}
	}
	return NULL;
}

/* The workers and the drainer, started and stopped around each test's traffic. */
static pthread_t worker_th[N_WORKERS], drain_th;

static void threads_start(void)
{
	atomic_store(&workers_stop, false);
	atomic_store(&drain_stop, false);
	for (unsigned i = 0; i < N_WORKERS; i++)
		assert_int_equal(pthread_create(&worker_th[i], NULL, worker, dp.workers[i]), 0);
	assert_int_equal(pthread_create(&drain_th, NULL, drainer, NULL), 0);
}

/* Workers first (the control thread offline meanwhile: they may wait for a grace period),
 * then the drainer once nothing more can come. */
static void threads_stop(void)
{
	atomic_store(&workers_stop, true);
	stream_rcu_offline();
	for (unsigned i = 0; i < N_WORKERS; i++)
		assert_int_equal(pthread_join(worker_th[i], NULL), 0);
	atomic_store(&drain_stop, true);
	assert_int_equal(pthread_join(drain_th, NULL), 0);
	rcu_thread_online();
}

/* @n pairs, leg A on the first media address and B on the second, published by @publish;
 * what their peers know of them noted. */
static void pairs_setup(unsigned n, void (*publish)(unsigned p))
{
	for (unsigned p = 0; p < n; p++) {
		assert_int_equal(media_ep_alloc_at(&ep_a[p], 0), 0);
		assert_int_equal(media_ep_alloc_at(&ep_b[p], 1), 0);
		publish(p);
		a_ip[p] = ntohl(media_ep_addr(&ep_a[p]).s_addr);
		b_ip[p] = ntohl(media_ep_addr(&ep_b[p]).s_addr);
		a_port[p] = ep_a[p].port;
		b_port[p] = ep_b[p].port;
	}
}

static void pairs_release(unsigned n)
{
	for (unsigned p = 0; p < n; p++) {
		media_ep_release(&ep_a[p]);
		media_ep_release(&ep_b[p]);
	}
	media_poll();
	assert_int_equal(media_ports_free(), media_ports_total());
}

static void republish(unsigned p, bool translate)
{
	struct media_peer pa = {.ip.s_addr = htonl(PEER_A), .port = (uint16_t)(PEER_A_PORT + 2 * p)};
	struct media_peer pb = {.ip.s_addr = htonl(PEER_B), .port = (uint16_t)(PEER_B_PORT + 2 * p)};
	assert_int_equal(media_ep_relay(&ep_a[p], &ep_b[p], &pa, &pb, STREAM_LATCH_IP, translate,
					NULL, NULL),
			 0);
}

static void publish_plain(unsigned p)
{
	republish(p, false);
}

static void relay_pairs_survive_republication_with_rtp_and_rtcp_on_two_workers(void **state)
{
	(void)state;
	pthread_t feed_th;
	pairs_setup(N_PAIRS, publish_plain);
	threads_start();
	assert_int_equal(pthread_create(&feed_th, NULL, feeder, NULL), 0);

	/* the control plane: republish and read snapshots until the feed is done */
	unsigned republished = 0, reads = 0, seed = 7;
	uint64_t fed_total = (uint64_t)N_PAIRS * ROUNDS * 2 + (uint64_t)N_PAIRS * 2 * (ROUNDS / RTCP_EVERY);
	while (atomic_load(&drained) < fed_total) {
		unsigned p = (unsigned)rand_r(&seed) % N_PAIRS;
		republish(p, rand_r(&seed) & 1);
		republished++;
		for (unsigned k = 0; k < N_PAIRS; k++) {
			struct stream_stats st;
			/* reordering by the hand-off is bounded by the rings; a torn read across
			 * the wrap would be off by 65,535 */
			media_ep_stats(&ep_a[k], &st);
			assert_true(st.rtp_lost >= -64 && st.rtp_lost <= 64);
			assert_true(st.rtp_received <= st.rx_pkts);
			media_ep_stats(&ep_b[k], &st);
			assert_int_equal(st.rtp_lost, 0); /* one queue: in order */
			reads += 2;
		}
		media_poll(); /* a grace period, and the retired configs freed */
		stream_rcu_quiescent();
	}
	assert_int_equal(pthread_join(feed_th, NULL), 0);
	threads_stop();

	assert_int_equal(atomic_load(&misrouted), 0);
	assert_int_equal(atomic_load(&drained), fed_total);
	for (unsigned p = 0; p < N_PAIRS; p++) {
		struct stream_stats a, b;
		media_ep_stats(&ep_a[p], &a);
		media_ep_stats(&ep_b[p], &b);
		assert_int_equal(a.rx_pkts, ROUNDS);
		assert_int_equal(b.rx_pkts, ROUNDS);
		assert_int_equal(a.rtcp_pkts, ROUNDS / RTCP_EVERY);
		assert_int_equal(b.rtcp_pkts, ROUNDS / RTCP_EVERY);
		assert_int_equal(a.tx_pkts, a.rx_pkts + a.rtcp_pkts);
		assert_int_equal(a.drops + a.wrong_source + b.drops + b.wrong_source, 0);
		assert_int_equal(a.rtp_expected, ROUNDS - 1); /* the first is on probation */
		assert_int_equal(a.rtp_lost, 0);
	}
	uint64_t out = 0, in = 0;
	for (unsigned i = 0; i < N_WORKERS; i++) {
		const struct dp_worker_stats *s = dp_worker_stats(i);
		out += ctr_get(&s->handoff_out);
		in += ctr_get(&s->handoff_in);
		for (unsigned d = 0; d < DP_DROP_MAX; d++)
			assert_int_equal(ctr_get(&s->drop[d]), 0);
	}
	assert_int_equal(out, in);
	assert_true(in > 0); /* every stream's packets met on both workers */
	assert_true(republished > 10);
	assert_true(reads > 100);
	print_message("republished %u times, %u snapshots, %llu hand-offs\n", republished, reads,
		      (unsigned long long)in);
	pairs_release(N_PAIRS);
}

#define N_PLAYS 16

static unsigned plays_ended, plays_failed;

static void on_play_event(const struct msg_event *ev, void *ctx)
{
	(void)ctx;
	uint32_t gen;
	if (ev->type != MSG_EV_PLAY)
		return;
	int r = media_play_event(ev, &gen);
	if (r > 0)
		plays_ended++;
	else if (r < 0)
		plays_failed++;
}

static void plays_start_stop_and_end_while_two_workers_play(void **state)
{
	(void)state;
	char err[256];
	const struct stream_prompt *tone = prompt_get("tone:busy", 0, err, sizeof(err));
	assert_non_null(tone);
	struct media_ep ep[N_PLAYS];
	memset(ep, 0, sizeof(ep));
	for (unsigned p = 0; p < N_PLAYS; p++) {
		struct media_peer pa = {.ip.s_addr = htonl(PEER_A),
					.port = (uint16_t)(PEER_A_PORT + 2 * p)};
		assert_int_equal(media_ep_alloc_at(&ep[p], p & 1), 0);
		assert_int_equal(media_ep_echo(&ep[p], &pa, STREAM_LATCH_IP), 0);
	}
	atomic_store(&play_mode, true);
	threads_start();
	unsigned seed = 11, started = 0, stopped = 0, republished = 0;
	uint64_t end = rte_rdtsc() + rte_get_tsc_hz() * 2;
	while (rte_rdtsc() < end) {
		unsigned p = (unsigned)rand_r(&seed) % N_PLAYS, what = (unsigned)rand_r(&seed) % 4;
		if (what == 0) {
			assert_int_equal(media_ep_play_stop(&ep[p]), 0);
			stopped++;
		} else if (what == 1) {
			struct media_peer pa = {.ip.s_addr = htonl(PEER_A),
						.port = (uint16_t)(PEER_A_PORT + 2 * p)};
			assert_int_equal(media_ep_echo(&ep[p], &pa, STREAM_LATCH_IP), 0);
			republished++;
		} else {
			const struct stream_play tone_play = {.kind = STREAM_PLAY_AUDIO, .pt = 0,
							      .loops = 1, .prompt = tone};
			const struct stream_play digits = {.kind = STREAM_PLAY_DTMF, .pt = 101,
							   .digit_ms = 40, .gap_ms = 40,
							   .digits = "1#"};
			assert_true(media_ep_play_copy(&ep[p], what == 2 ? &tone_play : &digits));
			started++;
		}
		dp_poll_events(on_play_event, NULL, 256);
		media_poll(); /* grace periods: replaced configs and their plays freed */
		stream_rcu_quiescent();
		usleep(2000);
	}
	for (unsigned p = 0; p < N_PLAYS; p++)
		media_ep_play_stop(&ep[p]);
	media_poll();
	usleep(20000);
	threads_stop();
	dp_poll_events(on_play_event, NULL, 4096);
	uint64_t played = 0;
	for (unsigned i = 0; i < N_WORKERS; i++)
		played += ctr_get(&dp_worker_stats(i)->played);
	print_message("%u plays started, %u stopped, %u republished; %u ended, %llu packets "
		      "played, %lu drained\n", started, stopped, republished, plays_ended,
		      (unsigned long long)played, atomic_load(&played_rx));
	assert_true(started > 100 && played > 100);
	assert_int_equal(plays_failed, 0);
	assert_true(plays_ended > 0);
	assert_int_equal(atomic_load(&played_rx), played); /* every packet played left */
	for (unsigned p = 0; p < N_PLAYS; p++)
		media_ep_release(&ep[p]);
	media_poll();
	assert_int_equal(media_ports_free(), media_ports_total());
}

static int setup(void)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "test_stress_%d", (int)getpid());
	char *argv[] = {"test_stress", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			"--file-prefix", prefix, "--log-level=error", "--lcores", "0@0"};
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])), argv) < 0) {
		fprintf(stderr, "EAL: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	struct config cfg;
	config_defaults(&cfg);
	cfg.dp_media_ip.s_addr = htonl(MEDIA_IP);
	cfg.dp_media_ip_count = 2;
	char err[256];
	if (media_init(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	memset(&dp, 0, sizeof(dp));
	dp.cfg.media_ip = htonl(MEDIA_IP);
	dp.cfg.subnet = htonl(MEDIA_IP & 0xffffff00);
	dp.cfg.netmask = htonl(0xffffff00);
	dp.table = media_table();
	dp.tsc_hz = rte_get_tsc_hz();
	dp.pool = rte_pktmbuf_pool_create("stress_mbufs", N_MBUFS, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	dp.ev_ring = rte_ring_create_elem("stress_ev", sizeof(struct msg_event), 4096,
					  (int)rte_socket_id(), RING_F_SC_DEQ);
	if (!dp.pool || !dp.ev_ring)
		return -1;
	for (unsigned q = 0; q < N_WORKERS; q++) {
		char name[32];
		snprintf(name, sizeof(name), "stress_rx%u", q);
		rx_ring[q] = rte_ring_create(name, RING_SIZE, (int)rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "stress_tx%u", q);
		tx_ring[q] = rte_ring_create(name, RING_SIZE * 4, (int)rte_socket_id(),
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!rx_ring[q] || !tx_ring[q])
			return -1;
	}
	int port = rte_eth_from_rings("stress_port", rx_ring, N_WORKERS, tx_ring, N_WORKERS,
				      (unsigned)rte_socket_id());
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	int rc = port < 0 ? -rte_errno
			  : rte_eth_dev_configure((uint16_t)port, N_WORKERS, N_WORKERS, &conf);
	if (rc == 0)
		rc = rte_eth_dev_start((uint16_t)port);
	if (rc != 0) {
		fprintf(stderr, "ring port: %s\n", rte_strerror(-rc));
		return -1;
	}
	dp.n_ports = 1;
	dp.port_ids[0] = (uint16_t)port;
	memcpy(dp.port_mac[0].addr_bytes, port_mac, 6);
	dp.link_up[0] = 1;
	dp.n_workers = N_WORKERS;
	for (unsigned i = 0; i < N_WORKERS; i++) {
		char name[32];
		dp.workers[i] = rte_zmalloc("stress_worker", sizeof(struct dp_worker), 64);
		snprintf(name, sizeof(name), "stress_cmd%u", i);
		dp.workers[i]->cmd_ring = rte_ring_create_elem(name, sizeof(struct msg_cmd), 64,
							       (int)rte_socket_id(),
							       RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "stress_handoff%u", i);
		dp.workers[i]->handoff = rte_ring_create(name, DP_HANDOFF_RING_SIZE,
							 (int)rte_socket_id(), RING_F_SC_DEQ);
		if (player_init(&dp.workers[i]->player, rte_get_tsc_hz()) != 0 ||
		    rtcp_tx_init(&dp.workers[i]->rtcp_tx, rte_get_tsc_hz()) != 0)
			return -1;
		dp_worker_init(dp.workers[i], i, 0, (uint16_t)i);
		arp_learn(dp.workers[i], htonl(PEER_A), (const struct rte_ether_addr *)mac_a);
		arp_learn(dp.workers[i], htonl(PEER_B), (const struct rte_ether_addr *)mac_b);
	}
	struct msg_event ev; /* the neighbours just learnt */
	while (rte_ring_sc_dequeue_elem(dp.ev_ring, &ev, sizeof(ev)) == 0)
		;
	return 0;
}

#define N_XPAIRS 8
#define XROUNDS 60 /* 20 ms apart: 1.2 s */
#define G722_PT 9

static atomic_bool xfeed_done;

/* Each round, every pair's A sends PCMU (on either queue) and its B G.722 (queue 1). */
static void *xfeeder(void *arg)
{
	(void)arg;
	uint64_t next = rte_rdtsc(), step = rte_get_tsc_hz() / 50;
	for (unsigned i = 1; i <= XROUNDS; i++) {
		while (rte_rdtsc() < next)
			sched_yield();
		next += step;
		for (unsigned p = 0; p < N_XPAIRS; p++) {
			uint16_t pa = (uint16_t)(PEER_A_PORT + 2 * p), pb = (uint16_t)(PEER_B_PORT + 2 * p);
			feed(i % 3 == 0 ? 1 : 0, frame(mac_a, PEER_A, pa, a_ip[p], a_port[p], (uint16_t)i));
			struct rte_mbuf *m = frame(mac_b, PEER_B, pb, b_ip[p], b_port[p], (uint16_t)i);
			assert_non_null(m);
			rte_pktmbuf_mtod(m, uint8_t *)[43] = G722_PT;
			feed(1, m);
		}
	}
	atomic_store(&xfeed_done, true);
	return NULL;
}

/* Pair @p as PCMU (A) <-> G.722 (B), leg B at @ptime_b ms. */
static void xrepublish(unsigned p, unsigned ptime_b)
{
	struct media_peer pa = {.ip.s_addr = htonl(PEER_A), .port = (uint16_t)(PEER_A_PORT + 2 * p)};
	struct media_peer pb = {.ip.s_addr = htonl(PEER_B), .port = (uint16_t)(PEER_B_PORT + 2 * p)};
	struct media_leg_opts oa = {.dir = STREAM_DIR_RECV | STREAM_DIR_SEND}, ob = oa;
	oa.map.audio_in = ob.map.audio_out = 0;
	oa.map.audio_out = ob.map.audio_in = G722_PT;
	oa.xc = (struct stream_xcode){.in_codec = STREAM_CODEC_PCMU, .out_codec = STREAM_CODEC_G722,
				      .in_pt = 0, .out_pt = G722_PT, .in_ptime = 20,
				      .out_ptime = (uint8_t)ptime_b};
	ob.xc = (struct stream_xcode){.in_codec = STREAM_CODEC_G722, .out_codec = STREAM_CODEC_PCMU,
				      .in_pt = G722_PT, .out_pt = 0, .in_ptime = (uint8_t)ptime_b,
				      .out_ptime = 20};
	assert_int_equal(media_ep_relay(&ep_a[p], &ep_b[p], &pa, &pb, STREAM_LATCH_IP, false, &oa,
					&ob),
			 0);
}

static void publish_xcode(unsigned p)
{
	xrepublish(p, 20);
}

static void transcoding_pipelines_survive_republication_on_two_workers(void **state)
{
	(void)state;
	pthread_t feed_th;
	pairs_setup(N_XPAIRS, publish_xcode);
	atomic_store(&xcode_mode, true);
	uint64_t sent0 = 0;
	for (unsigned i = 0; i < N_WORKERS; i++)
		sent0 += ctr_get(&dp_worker_stats(i)->xcode_sent);
	threads_start();
	assert_int_equal(pthread_create(&feed_th, NULL, xfeeder, NULL), 0);
	unsigned republished = 0, seed = 5;
	while (!atomic_load(&xfeed_done)) {
		unsigned p = (unsigned)rand_r(&seed) % N_XPAIRS;
		xrepublish(p, rand_r(&seed) % 4 ? 20 : 30); /* mostly kept, now and then replaced */
		republished++;
		media_poll();
		stream_rcu_quiescent();
		usleep(2000);
	}
	assert_int_equal(pthread_join(feed_th, NULL), 0);
	for (int i = 0; i < 20; i++) { /* the buffers' last packets go out */
		media_poll();
		stream_rcu_quiescent();
		usleep(10000);
	}
	threads_stop();
	uint64_t sent = 0;
	for (unsigned i = 0; i < N_WORKERS; i++)
		sent += ctr_get(&dp_worker_stats(i)->xcode_sent);
	sent -= sent0;
	print_message("republished %u times; %llu transcoded packets sent, %lu PCMU to A, %lu "
		      "G.722 to B\n", republished, (unsigned long long)sent,
		      atomic_load(&xcode_rx_a), atomic_load(&xcode_rx_b));
	/* most of what was fed came out, each peer in its own codec */
	assert_true(atomic_load(&xcode_rx_a) > N_XPAIRS * XROUNDS / 2);
	assert_true(atomic_load(&xcode_rx_b) > N_XPAIRS * XROUNDS / 3);
	assert_true(sent >= atomic_load(&xcode_rx_a) + atomic_load(&xcode_rx_b));
	assert_true(republished > 10);
	pairs_release(N_XPAIRS);
	atomic_store(&xcode_mode, false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(relay_pairs_survive_republication_with_rtp_and_rtcp_on_two_workers),
		cmocka_unit_test(plays_start_stop_and_end_while_two_workers_play),
		cmocka_unit_test(transcoding_pipelines_survive_republication_on_two_workers),
	};
	rcu_register_thread();
	if (setup() != 0) {
		fprintf(stderr, "test_stress_dataplane: set-up failed\n");
		return 1;
	}
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	for (unsigned i = 0; i < N_WORKERS; i++) {
		player_free(&dp.workers[i]->player);
		rtcp_tx_free(&dp.workers[i]->rtcp_tx);
	}
	media_shutdown();
	rcu_thread_offline();
	rcu_unregister_thread();
	return rc;
}
