/* Fuzz target: an Ethernet frame arriving on a worker's port, through the worker's input as
 * mgwd runs it (dataplane/net.c, arp.c and the stream actions): Ethernet, ARP, IPv4 (options,
 * fragments, checksums), ICMP, UDP, then RTP/RTCP on published streams: an echo stream that
 * latches any source, and a relay pair between two media addresses with SDP peers and IP
 * latching. DPDK runs without hugepages or devices; frames go straight to net_input(), and
 * what the worker would send is freed. The mbuf pool is small and bounded: a path that loses
 * an mbuf exhausts it and the harness aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <urcu-qsbr.h>

#include "dataplane/net.h"
#include "dataplane/worker.h"

#define N_MBUFS 511
#define MEDIA_A RTE_IPV4(10, 0, 0, 10)
#define MEDIA_B RTE_IPV4(10, 0, 0, 11)

static struct dp_worker w;
static uint64_t next_id = 1;

static struct stream_cfg *leg(uint32_t ip, uint8_t addr_idx, uint16_t port, uint8_t action,
			      uint32_t peer_ip, uint16_t peer_port, uint8_t latch)
{
	struct stream_cfg *s = stream_cfg_alloc();
	if (s == NULL)
		abort();
	s->local_ip = rte_cpu_to_be_32(ip);
	s->local_port = port;
	s->addr_idx = addr_idx;
	s->action = action;
	s->dir = STREAM_DIR_RECV | STREAM_DIR_SEND;
	s->peer_ip = rte_cpu_to_be_32(peer_ip);
	s->peer_port = rte_cpu_to_be_16(peer_port);
	s->latch = latch;
	s->te_pt = 101; /* RFC 4733 events reported (dataplane/dtmf.c) */
	s->ssrc = 0x5eed0000u + (uint32_t)next_id;
	s->seq_base = 1000;
	s->ts_base = 160000;
	s->ts_mult = (uint32_t)((8000ull << 32) / dp.tsc_hz);
	s->id = next_id++;
	return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "mgw_fuzz_frames_%d", (int)getpid());
	char *eal[] = {"fuzz_frames", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
		       "--file-prefix", prefix, "--log-level=error", "--lcores", "0@0"};
	if (rte_eal_init((int)(sizeof(eal) / sizeof(eal[0])), eal) < 0)
		abort();
	rcu_register_thread();
	uint32_t media[2] = {rte_cpu_to_be_32(MEDIA_A), rte_cpu_to_be_32(MEDIA_B)};
	static const uint8_t port_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
	memset(&dp, 0, sizeof(dp));
	dp.cfg.media_ip = media[0];
	dp.cfg.subnet = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 0));
	dp.cfg.netmask = rte_cpu_to_be_32(0xffffff00);
	dp.table = stream_table_create(media, 2);
	dp.n_ports = 1;
	dp.n_workers = 1;
	dp.link_up[0] = 1;
	memcpy(dp.port_mac[0].addr_bytes, port_mac, 6);
	dp.pool = rte_pktmbuf_pool_create("fuzz_mbufs", N_MBUFS, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	dp.ev_ring = rte_ring_create_elem("fuzz_ev", sizeof(struct msg_event), 1024,
					  (int)rte_socket_id(), RING_F_SC_DEQ);
	dp.tsc_hz = rte_get_tsc_hz();
	if (dp.table == NULL || dp.pool == NULL || dp.ev_ring == NULL)
		abort();
	dp_worker_init(&w, 0, 0, 0);

	/* 10.0.0.10:30000 echo (any source); 10.0.0.10:30002 <-> 10.0.0.11:30004 relay */
	struct stream_cfg *echo = leg(MEDIA_A, 0, 30000, STREAM_ECHO, 0, 0, STREAM_LATCH_ANY);
	struct stream_cfg *a = leg(MEDIA_A, 0, 30002, STREAM_RELAY, RTE_IPV4(10, 0, 0, 2), 40000,
				   STREAM_LATCH_IP);
	struct stream_cfg *b = leg(MEDIA_B, 1, 30004, STREAM_RELAY, RTE_IPV4(10, 0, 0, 3), 50000,
				   STREAM_LATCH_IP);
	a->other = b;
	b->other = a;
	a->other_st = stream_table_state(dp.table, b->addr_idx, b->local_port);
	b->other_st = stream_table_state(dp.table, a->addr_idx, a->local_port);
	if (stream_table_publish(dp.table, echo) != 0 || stream_table_publish(dp.table, b) != 0 ||
	    stream_table_publish(dp.table, a) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msg_event ev;
	struct rte_mbuf *m;

	if (size > RTE_MBUF_DEFAULT_DATAROOM)
		return 0;
	m = rte_pktmbuf_alloc(dp.pool);
	if (m == NULL) {
		fprintf(stderr, "fuzz_frames: mbuf pool exhausted: a path keeps its mbuf\n");
		abort();
	}
	char *p = rte_pktmbuf_append(m, (uint16_t)size);
	if (p == NULL)
		abort();
	memcpy(p, data, size);
	w.now = rte_rdtsc(); /* as worker_rx() does for each burst */
	net_input(&w, 0, m);
	for (unsigned q = 0; q < RTE_DIM(w.txq); q++) {
		for (unsigned i = 0; i < w.txq[q].n; i++)
			rte_pktmbuf_free(w.txq[q].pkts[i]);
		w.txq[q].n = 0;
	}
	while (rte_ring_sc_dequeue_elem(dp.ev_ring, &ev, sizeof(ev)) == 0)
		;
	rcu_quiescent_state();
	return 0;
}
