#include "dataplane/actions/echo.h"

#include <rte_ip.h>
#include <rte_udp.h>

#include "dataplane/actions/src.h"
#include "dataplane/net.h"
#include "dataplane/worker.h"

void echo_rtp(struct dp_worker *w, struct pkt *p)
{
	const struct stream_cfg *c = p->cfg;
	struct rte_ipv4_hdr *ip = p->ip;
	struct rte_udp_hdr *udp = p->udp;
	struct rtp_hdr *rtp = (struct rtp_hdr *)(udp + 1);

	/* Swapping addresses and ports leaves the UDP sum alone; the RTP words do not. */
	uint16_t csum = src_rewrite(&p->st->src, c->ssrc, c->seq_base, c->ts_base, rtp,
				    udp->dgram_cksum);
	if (udp->dgram_cksum != 0)
		udp->dgram_cksum = csum == 0 ? 0xffff : csum;
	uint16_t port = udp->src_port;
	udp->src_port = udp->dst_port;
	udp->dst_port = port;
	uint32_t addr = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = addr;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);

	/* Back to whoever handed us the frame: the sender, or the router in front of it. */
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(p->m, struct rte_ether_hdr *);
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&dp.port_mac[p->pi], &eth->src_addr);
	p->m->ol_flags = 0;
	ctr_inc(&p->st->tx_pkts);
	dp_tx(w, p->pi, p->m);
}
