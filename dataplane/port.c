/* port: data plane set-up and teardown (ports, mbuf pool, rings, worker launch), and the
 * read side of its statistics for the control plane. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dataplane/dp.h"
#include "dataplane/worker.h"
#include "util/log.h"
#include "util/tsan.h"

struct dp_ctx dp;

static bool launched;
static bool link_known[DP_MAX_PORTS];

static const char *const drop_names[DP_DROP_MAX] = {
	[DP_DROP_NOT_IPV4] = "not_ipv4",   [DP_DROP_BAD_L2] = "bad_l2",
	[DP_DROP_BAD_IP] = "bad_ip",       [DP_DROP_IP_FRAG] = "ip_frag",
	[DP_DROP_NOT_OURS] = "not_ours",   [DP_DROP_PROTO] = "ip_proto",
	[DP_DROP_ICMP] = "icmp",           [DP_DROP_BAD_UDP] = "bad_udp",
	[DP_DROP_NO_STREAM] = "no_stream", [DP_DROP_BAD_RTP] = "bad_rtp",
	[DP_DROP_STREAM] = "stream_drop",  [DP_DROP_ARP] = "arp",
	[DP_DROP_WRONG_SOURCE] = "wrong_source",
	[DP_DROP_NO_NEIGH] = "no_neighbour", [DP_DROP_TX_FULL] = "tx_full",
	[DP_DROP_LINK_DOWN] = "link_down",   [DP_DROP_HANDOFF] = "handoff_full",
};

const char *dp_drop_name(enum dp_drop d)
{
	return d < DP_DROP_MAX ? drop_names[d] : "?";
}

static int port_setup(uint16_t port_id, uint16_t pi, char *err, size_t err_len)
{
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0) {
		snprintf(err, err_len, "port %u: cannot read device info: %s", port_id,
			 rte_strerror(-rc));
		return -1;
	}
	if (info.max_rx_queues < dp.n_workers || info.max_tx_queues < dp.n_workers) {
		snprintf(err, err_len, "port %u (%s): %u workers need as many queues, it has %u",
			 port_id, info.driver_name, dp.n_workers, info.max_rx_queues);
		return -1;
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (dp.n_workers > 1) {
		/* Spread flows over the workers by UDP 4-tuple where the PMD can. */
		uint64_t hf = info.flow_type_rss_offloads &
			      (RTE_ETH_RSS_NONFRAG_IPV4_UDP | RTE_ETH_RSS_IPV4);
		if (hf) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
		}
	}
	uint64_t want = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	conf.rxmode.offloads = info.rx_offload_capa & want;
	/* RX interrupts, for workers that sleep when idle (not every PMD has them: a worker
	 * falls back to short sleeps then) */
	conf.intr_conf.rxq = dp.cfg.idle == DP_IDLE_ADAPTIVE;
	rc = rte_eth_dev_configure(port_id, (uint16_t)dp.n_workers, (uint16_t)dp.n_workers, &conf);
	if (rc != 0 && conf.intr_conf.rxq) {
		conf.intr_conf.rxq = 0;
		rc = rte_eth_dev_configure(port_id, (uint16_t)dp.n_workers, (uint16_t)dp.n_workers,
					   &conf);
	}
	if (rc != 0) {
		snprintf(err, err_len, "port %u: configure: %s", port_id, rte_strerror(-rc));
		return -1;
	}
	uint16_t nrx = (uint16_t)dp.cfg.rx_desc, ntx = (uint16_t)dp.cfg.tx_desc;
	rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nrx, &ntx);
	int socket = rte_eth_dev_socket_id(port_id);
	for (uint16_t q = 0; q < dp.n_workers; q++) {
		rc = rte_eth_rx_queue_setup(port_id, q, nrx, (unsigned)socket, NULL, dp.pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port_id, q, ntx, (unsigned)socket, NULL);
		if (rc != 0) {
			snprintf(err, err_len, "port %u: queue %u: %s", port_id, q,
				 rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_start(port_id);
	if (rc != 0) {
		snprintf(err, err_len, "port %u: start: %s", port_id, rte_strerror(-rc));
		return -1;
	}
	rte_eth_macaddr_get(port_id, &dp.port_mac[pi]);
	return 0;
}

static int dp_rings_create(char *err, size_t err_len)
{
	dp.ev_ring = rte_ring_create_elem("mgw_events", sizeof(struct msg_event),
					  MSG_EVENT_RING_SIZE, (int)rte_socket_id(),
					  RING_F_SC_DEQ);
	if (!dp.ev_ring) {
		snprintf(err, err_len, "event ring: %s", rte_strerror(rte_errno));
		return -1;
	}
	for (unsigned i = 0; i < dp.n_workers; i++) {
		char name[32];
		snprintf(name, sizeof(name), "mgw_cmd_%u", i);
		dp.workers[i] = rte_zmalloc("mgw_worker", sizeof(struct dp_worker), 64);
		if (!dp.workers[i]) {
			snprintf(err, err_len, "worker %u: out of memory", i);
			return -1;
		}
		dp.workers[i]->cmd_ring = rte_ring_create_elem(name, sizeof(struct msg_cmd),
							    MSG_CMD_RING_SIZE, (int)rte_socket_id(),
							    RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!dp.workers[i]->cmd_ring) {
			snprintf(err, err_len, "command ring %u: %s", i, rte_strerror(rte_errno));
			return -1;
		}
		snprintf(name, sizeof(name), "mgw_handoff_%u", i);
		dp.workers[i]->handoff = rte_ring_create(name, DP_HANDOFF_RING_SIZE,
						      (int)rte_socket_id(), RING_F_SC_DEQ);
		if (!dp.workers[i]->handoff) {
			snprintf(err, err_len, "hand-off ring %u: %s", i, rte_strerror(rte_errno));
			return -1;
		}
		if (player_init(&dp.workers[i]->player, rte_get_tsc_hz()) != 0 ||
		    rtcp_tx_init(&dp.workers[i]->rtcp_tx, rte_get_tsc_hz()) != 0) {
			snprintf(err, err_len, "worker %u: out of memory for its player", i);
			return -1;
		}
	}
	return 0;
}

int dp_init(const struct dp_config *cfg, struct stream_table *table, char *err, size_t err_len)
{
	memset(&dp, 0, sizeof(dp));
	dp.cfg = *cfg;
	dp.table = table;
	dp.tsc_hz = rte_get_tsc_hz();
	{ /* the wall clock beside the TSC, once: workers read it from here (dp_ntp) */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		dp.tsc0 = rte_rdtsc();
		dp.ntp0 = ((uint64_t)ts.tv_sec + 2208988800u) << 32 |
			  (uint64_t)(((unsigned __int128)ts.tv_nsec << 32) / 1000000000u);
	}
	dp.n_workers = (uint16_t)cfg->n_workers;
	if (dp.n_workers == 0 || dp.n_workers > DP_MAX_WORKERS || dp.n_workers > rte_lcore_count() - 1) {
		snprintf(err, err_len,
			 "%u workers need as many worker lcores; EAL has %u (give eal.lcores)",
			 dp.n_workers, rte_lcore_count() - 1);
		return -1;
	}
	uint16_t avail = rte_eth_dev_count_avail();
	if (avail == 0) {
		snprintf(err, err_len, "no DPDK port found (check dataplane.vdev or the NIC binding)");
		return -1;
	}
	unsigned cache = cfg->n_mbufs >= 4096 ? 256 : 32;
	dp.pool = rte_pktmbuf_pool_create("mgw_mbufs", cfg->n_mbufs, cache, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!dp.pool) {
		snprintf(err, err_len, "mbuf pool of %u: %s", cfg->n_mbufs,
			 rte_strerror(rte_errno));
		return -1;
	}
	if (dp_rings_create(err, err_len) != 0)
		return -1;
	uint16_t port_id;
	RTE_ETH_FOREACH_DEV(port_id)
	{
		if (dp.n_ports == DP_MAX_PORTS)
			break;
		uint16_t pi = dp.n_ports;
		dp.port_ids[pi] = port_id;
		if (port_setup(port_id, pi, err, err_len) != 0)
			return -1;
		dp.n_ports++;
	}
	dp_poll_links();
	return 0;
}

unsigned dp_poll_links(void)
{
	unsigned changed = 0;
	for (uint16_t pi = 0; pi < dp.n_ports; pi++) {
		struct rte_eth_link link;
		if (rte_eth_link_get_nowait(dp.port_ids[pi], &link) != 0)
			continue;
		uint8_t up = link.link_status == RTE_ETH_LINK_UP;
		if (link_known[pi] && atomic_load_explicit(&dp.link_up[pi], memory_order_relaxed) == up)
			continue;
		if (link_known[pi] || !up) {
			char name[RTE_ETH_NAME_MAX_LEN] = "";
			rte_eth_dev_get_name_by_port(dp.port_ids[pi], name);
			LOG_I("dp", "port %u (%s): link %s", pi, name, up ? "up" : "down");
		}
		link_known[pi] = true;
		atomic_store_explicit(&dp.link_up[pi], up, memory_order_relaxed);
		changed++;
	}
	return changed;
}

int dp_start(char *err, size_t err_len)
{
	unsigned lcore, i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		if (i == dp.n_workers)
			break;
		dp_worker_init(dp.workers[i], i, lcore, (uint16_t)i);
		int rc = rte_eal_remote_launch(dp_worker_main, dp.workers[i], lcore);
		if (rc != 0) {
			snprintf(err, err_len, "launch worker %u on lcore %u: %s", i, lcore,
				 rte_strerror(-rc));
			return -1;
		}
		i++;
	}
	launched = true;
	dp.launched = true;
	return 0;
}

int dp_send_cmd(int worker, const struct msg_cmd *cmd)
{
	int rc = 0;
	for (unsigned i = 0; i < dp.n_workers; i++) {
		if (worker >= 0 && (unsigned)worker != i)
			continue;
		TSAN_RELEASE(dp.workers[i]->cmd_ring);
		if (rte_ring_sp_enqueue_elem(dp.workers[i]->cmd_ring, (void *)(uintptr_t)cmd,
					     sizeof(*cmd)) != 0)
			rc = -ENOBUFS;
	}
	return rc;
}

void dp_share_neighbour(const struct msg_event *ev)
{
	struct msg_cmd cmd = {.type = MSG_CMD_NEIGH, .ip = ev->peer_ip};
	memcpy(cmd.mac, ev->mac, sizeof(cmd.mac));
	for (unsigned i = 0; i < dp.n_workers; i++)
		if (i != ev->worker)
			dp_send_cmd((int)i, &cmd);
}

void dp_stop(void)
{
	if (!launched)
		return;
	struct msg_cmd quit = {.type = MSG_CMD_QUIT};
	dp_send_cmd(-1, &quit);
	rte_eal_mp_wait_lcore();
	launched = false;
	dp.launched = false;
}

void dp_close(void)
{
	dp_stop();
	for (uint16_t pi = 0; pi < dp.n_ports; pi++) {
		rte_eth_dev_stop(dp.port_ids[pi]);
		rte_eth_dev_close(dp.port_ids[pi]);
	}
	dp.n_ports = 0;
	for (unsigned i = 0; i < dp.n_workers; i++) {
		if (!dp.workers[i])
			continue;
		rte_ring_free(dp.workers[i]->cmd_ring);
		struct rte_mbuf *m;
		while (dp.workers[i]->handoff && rte_ring_dequeue(dp.workers[i]->handoff, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(dp.workers[i]->handoff);
		player_free(&dp.workers[i]->player);
		rtcp_tx_free(&dp.workers[i]->rtcp_tx);
		rte_free(dp.workers[i]);
		dp.workers[i] = NULL;
	}
	rte_ring_free(dp.ev_ring);
	dp.ev_ring = NULL;
	rte_mempool_free(dp.pool);
	dp.pool = NULL;
}

unsigned dp_n_ports(void) { return dp.n_ports; }

int dp_port_info(unsigned pi, struct dp_port_info *out)
{
	if (pi >= dp.n_ports)
		return -1;
	memset(out, 0, sizeof(*out));
	uint16_t port_id = dp.port_ids[pi];
	rte_eth_dev_get_name_by_port(port_id, out->name);
	memcpy(out->mac, dp.port_mac[pi].addr_bytes, 6);
	out->link_up = atomic_load_explicit(&dp.link_up[pi], memory_order_relaxed);
	struct rte_eth_link link;
	if (rte_eth_link_get_nowait(port_id, &link) == 0 && link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN)
		out->speed_mbps = link.link_speed;
	struct rte_eth_stats st;
	if (rte_eth_stats_get(port_id, &st) == 0) {
		out->rx = st.ipackets;
		out->tx = st.opackets;
		out->rx_bytes = st.ibytes;
		out->tx_bytes = st.obytes;
		out->drop = st.imissed + st.ierrors + st.oerrors + st.rx_nombuf;
	}
	return 0;
}

unsigned dp_n_workers(void) { return dp.n_workers; }

unsigned dp_worker_lcore(unsigned w) { return w < dp.n_workers ? dp.workers[w]->lcore : 0; }

const struct dp_worker_stats *dp_worker_stats(unsigned w)
{
	return w < dp.n_workers && dp.workers[w] ? &dp.workers[w]->stats : NULL;
}

unsigned dp_poll_events(void (*fn)(const struct msg_event *ev, void *ctx), void *ctx,
			unsigned max)
{
	unsigned n = 0;
	struct msg_event ev;
	while (n < max && dp.ev_ring &&
	       rte_ring_sc_dequeue_elem(dp.ev_ring, &ev, sizeof(ev)) == 0) {
		TSAN_ACQUIRE(dp.ev_ring);
		fn(&ev, ctx);
		n++;
	}
	return n;
}
