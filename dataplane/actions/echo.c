#include "dataplane/actions/echo.h"

#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dataplane/net.h"
#include "dataplane/rtp.h"
#include "dataplane/worker.h"

/* Timestamp step assumed across a change of the sender's SSRC (20 ms at 8 kHz). */
#define ECHO_TS_GAP 160


static void echo_first_rx(struct dp_worker *w, struct stream *s, const struct rte_ipv4_hdr *ip,
			  const struct rte_udp_hdr *udp)
{
	s->rt.src_ip = ip->src_addr;
	s->rt.src_port = udp->src_port;
	net_post_first_rx(w, s, ip->src_addr, udp->src_port);
}

void echo_rtp(struct dp_worker *w, uint16_t pi, struct rte_mbuf *m, struct stream *s,
	      struct rte_ipv4_hdr *ip, struct rte_udp_hdr *udp)
{
	struct stream_rt *rt = &s->rt;
	struct rtp_hdr *rtp = (struct rtp_hdr *)(udp + 1);
	uint32_t in_ts = rte_be_to_cpu_32(rtp->ts);
	uint32_t in_ssrc = rtp->ssrc;

	rt->rx_pkts++;
	rt->rx_bytes += m->pkt_len;
	if (unlikely((rt->rx_pkts & 63) == 1))
		rt->last_rx_tsc = w->now;
	rtp_stats_update(&rt->rtp, rte_be_to_cpu_16(rtp->seq), in_ts, rtp_arrival(w->now, s->ts_mult));
	if (unlikely(rt->src_ip == 0))
		echo_first_rx(w, s, ip, udp);

	if (unlikely(!rt->started)) {
		rt->started = 1;
		rt->in_ssrc = in_ssrc;
		rt->out_seq = s->seq_base;
		rt->ts_offset = s->ts_base - in_ts;
	} else if (unlikely(in_ssrc != rt->in_ssrc)) {
		/* A new source at the far end: keep our timeline continuous. */
		rt->in_ssrc = in_ssrc;
		rt->ts_offset = rt->last_out_ts + ECHO_TS_GAP - in_ts;
	}
	uint32_t out_ts = in_ts + rt->ts_offset;
	uint16_t out_seq = rt->out_seq++;
	rt->last_out_ts = out_ts;

	uint16_t new_seq = rte_cpu_to_be_16(out_seq);
	uint32_t new_ts = rte_cpu_to_be_32(out_ts);
	uint32_t new_ssrc = rte_cpu_to_be_32(s->ssrc);
	if (udp->dgram_cksum != 0) {
		/* Swapping addresses and ports leaves the sum alone; the RTP words do not. */
		uint16_t c = udp->dgram_cksum;
		c = net_csum_update16(c, rtp->seq, new_seq);
		c = net_csum_update32(c, rtp->ts, new_ts);
		c = net_csum_update32(c, rtp->ssrc, new_ssrc);
		udp->dgram_cksum = c == 0 ? 0xffff : c;
	}
	rtp->seq = new_seq;
	rtp->ts = new_ts;
	rtp->ssrc = new_ssrc;

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
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&dp.port_mac[pi], &eth->src_addr);
	m->ol_flags = 0;

	rt->tx_pkts++;
	dp_tx(w, pi, m);
}
