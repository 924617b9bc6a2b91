/* link: EAL, memif port and pools (see link.h). */
#include "bench/link.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#define LINK_WAIT_MS 10000
#define LINK_DESC 1024

int link_eal_init(const struct opts *o, const char *argv0)
{
	char mem[16], vdev[512];
	snprintf(mem, sizeof(mem), "%u", o->memory_mb);
	/* A socket file rather than an abstract name: it works across network namespaces. */
	snprintf(vdev, sizeof(vdev), "net_memif0,role=client,socket=%s,socket-abstract=no,id=0%s",
		 o->memif_socket, o->zero_copy ? ",zero-copy=yes" : "");
	char *argv[] = {
		(char *)argv0, "--no-huge", "-m", mem, "--no-pci", "--file-prefix",
		(char *)o->file_prefix, "--lcores", (char *)o->lcores, "--vdev", vdev,
		"--log-level", "notice", NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "mgw-bench: EAL init failed: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static void link_zero_data(struct rte_mempool *mp, void *arg, void *obj, unsigned idx)
{
	(void)mp;
	(void)arg;
	(void)idx;
	struct rte_mbuf *m = obj;
	memset(m->buf_addr, 0, m->buf_len);
}

static int link_pools(struct link *l, const struct opts *o, char *err, size_t errlen)
{
	int socket = (int)rte_socket_id();
	l->tx_pool = rte_pktmbuf_pool_create("bench_tx", o->mbufs, 256, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	l->rx_pool = rte_pktmbuf_pool_create("bench_rx", o->mbufs, 256, 0,
					     RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (!l->tx_pool || !l->rx_pool) {
		snprintf(err, errlen, "mbuf pools of %u: %s", o->mbufs, rte_strerror(rte_errno));
		return -1;
	}
	rte_mempool_obj_iter(l->tx_pool, link_zero_data, NULL);
	return 0;
}

static int link_wait_socket(const char *path, char *err, size_t errlen)
{
	struct stat sb;
	for (int ms = 0; ms < LINK_WAIT_MS; ms += 10) {
		if (stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode))
			return 0;
		usleep(10000);
	}
	snprintf(err, errlen, "memif socket %s did not appear within %d s", path,
		 LINK_WAIT_MS / 1000);
	return -1;
}

static int link_wait_up(struct link *l, char *err, size_t errlen)
{
	struct rte_eth_link ln;
	for (int ms = 0; ms < LINK_WAIT_MS; ms += 10) {
		if (rte_eth_link_get_nowait(l->port, &ln) == 0 && ln.link_status)
			return 0;
		usleep(10000);
	}
	snprintf(err, errlen, "memif link not up within %d s (is the target serving it?)",
		 LINK_WAIT_MS / 1000);
	return -1;
}

int link_open(struct link *l, const struct opts *o, char *err, size_t errlen)
{
	struct rte_eth_conf conf = { 0 };
	int rc;

	memset(l, 0, sizeof(*l));
	if (rte_eth_dev_count_avail() < 1) {
		snprintf(err, errlen, "no DPDK port (memif vdev not created)");
		return -1;
	}
	l->port = 0;
	if (link_pools(l, o, err, errlen) != 0 || link_wait_socket(o->memif_socket, err, errlen))
		return -1;
	rc = rte_eth_dev_configure(l->port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(l->port, 0, LINK_DESC, rte_socket_id(), NULL,
					    l->rx_pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(l->port, 0, LINK_DESC, rte_socket_id(), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(l->port);
	if (rc != 0) {
		snprintf(err, errlen, "memif port: %s", rte_strerror(-rc));
		return -1;
	}
	l->started = 1;
	rte_eth_macaddr_get(l->port, &l->mac);
	return link_wait_up(l, err, errlen);
}

void link_close(struct link *l)
{
	if (l->started) {
		rte_eth_dev_stop(l->port);
		rte_eth_dev_close(l->port);
		l->started = 0;
	}
}
