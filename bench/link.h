/* link: mgw-bench's DPDK side: the EAL (no hugepages, no PCI, its own file prefix), one
 * net_memif port in client role towards the target, and two mbuf pools. Frames are built in
 * the TX pool, whose data areas are zeroed once at start so that the payload after the stamp
 * is always zero (the precomputed UDP checksums rely on it); received frames use the RX pool. */
#ifndef MGW_BENCH_LINK_H
#define MGW_BENCH_LINK_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mempool.h>

#include "bench/opts.h"

#define LINK_BURST 32

struct link {
	uint16_t port;
	struct rte_mempool *tx_pool, *rx_pool;
	struct rte_ether_addr mac;
	int started;
};

/** rte_eal_init with the arguments @o asks for; returns 0 or -1 (message on stderr). */
int link_eal_init(const struct opts *o, const char *argv0);
/** Wait for the memif socket, configure and start the port, wait for the link to come up. */
int link_open(struct link *l, const struct opts *o, char *err, size_t errlen);
void link_close(struct link *l);

#endif
