#include "dataplane/actions/relay.h"

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dataplane/net.h"
#include "dataplane/rtp.h"
#include "dataplane/actions/transcode.h"
#include "dataplane/worker.h"

/* The peer to send to: latched if known, else from SDP. Returns 0 when there is none. */
static inline uint64_t relay_dest(const struct stream *o, int rtcp)
{
	uint64_t latched = __atomic_load_n(rtcp ? &o->rt.rtcp_peer : &o->rt.peer,
					   __ATOMIC_RELAXED);
	if (latched)
		return latched;
	if (rtcp) { /* RTCP not latched yet: next to where RTP comes from */
		uint64_t rtp = __atomic_load_n(&o->rt.peer, __ATOMIC_RELAXED);
		if (rtp) {
			uint16_t p = rte_cpu_to_be_16(rte_be_to_cpu_16((uint16_t)(rtp >> 16)) + 1);
			return (rtp & 0xffffffff00000000ull) | (uint64_t)p << 16 | 1;
		}
	}
	if (!o->peer_ip || !o->peer_port)
		return 0;
	uint16_t port = rtcp ? rte_cpu_to_be_16(rte_be_to_cpu_16(o->peer_port) + 1)
			     : o->peer_port;
	return (uint64_t)o->peer_ip << 32 | (uint64_t)port << 16 | 1;
}

/* RTP as the other leg's own source (its SSRC, sequence and timestamp bases), with the
 * translation state kept in the ingress leg @s, the only stream this worker writes. */
static inline uint16_t relay_translate(struct stream *s, const struct stream *o,
				       struct rtp_hdr *rtp, uint16_t csum)
{
	struct stream_rt *rt = &s->rt;
	uint32_t in_ts = rte_be_to_cpu_32(rtp->ts);
	if (unlikely(!rt->started)) {
		rt->started = 1;
		rt->in_ssrc = rtp->ssrc;
		rt->out_seq = o->seq_base;
		rt->ts_offset = o->ts_base - in_ts;
	} else if (unlikely(rtp->ssrc != rt->in_ssrc)) {
		rt->in_ssrc = rtp->ssrc;
		rt->ts_offset = rt->last_out_ts + 160 - in_ts;
	}
	uint32_t out_ts = in_ts + rt->ts_offset;
	rt->last_out_ts = out_ts;
	uint16_t seq = rte_cpu_to_be_16(rt->out_seq++);
	uint32_t ts = rte_cpu_to_be_32(out_ts), ssrc = rte_cpu_to_be_32(o->ssrc);
	/* Unconditionally: 0 is a valid partial sum here, not "no checksum" (the caller knows). */
	csum = net_csum_update16(csum, rtp->seq, seq);
	csum = net_csum_update32(csum, rtp->ts, ts);
	csum = net_csum_update32(csum, rtp->ssrc, ssrc);
	rtp->seq = seq;
	rtp->ts = ts;
	rtp->ssrc = ssrc;
	return csum;
}

void relay_packet(struct dp_worker *w, struct rte_mbuf *m, struct stream *s,
		  struct rte_ipv4_hdr *ip, struct rte_udp_hdr *udp, int rtcp)
{
	struct stream *o = s->other;
	uint64_t dest = relay_dest(o, rtcp);
	/* RTCP keeps flowing on hold (RFC 3264 5.1): only media obeys the direction */
	if (unlikely(!dest || (!rtcp && !(o->dir & STREAM_DIR_SEND)))) {
		s->rt.drops++;
		dp_drop(w, m, DP_DROP_STREAM);
		return;
	}
	uint32_t dst_ip = (uint32_t)(dest >> 32);
	uint16_t dst_port = (uint16_t)(dest >> 16);
	uint16_t pi = o->port_idx;
	uint32_t hop = (dst_ip & dp.cfg.netmask) == dp.cfg.subnet || !dp.cfg.gateway
			       ? dst_ip : dp.cfg.gateway;
	const struct rte_ether_addr *mac = arp_resolve(w, pi, hop);
	uint16_t src_port = rtcp ? rte_cpu_to_be_16(o->local_port + 1)
				 : rte_cpu_to_be_16(o->local_port);
	uint16_t c = udp->dgram_cksum;
	if (c) {
		c = net_csum_update32(c, ip->src_addr, o->local_ip);
		c = net_csum_update32(c, ip->dst_addr, dst_ip);
		c = net_csum_update16(c, udp->src_port, src_port);
		c = net_csum_update16(c, udp->dst_port, dst_port);
	}
	int full_csum = 0;
	if (!rtcp && s->remap) {
		/* transcoding or renumbering: the payload changes, so the checksum is redone */
		int r = transcode_rtp((uint8_t *)(udp + 1),
				      rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp), &s->xmap);
		if (unlikely(r < 0)) {
			s->rt.drops++;
			dp_drop(w, m, DP_DROP_BAD_RTP);
			return;
		}
		full_csum = r;
	}
	if (!rtcp && o->translate)
		c = relay_translate(s, o, (struct rtp_hdr *)(udp + 1), c);
	if (udp->dgram_cksum)
		udp->dgram_cksum = c ? c : 0xffff;
	udp->src_port = src_port;
	udp->dst_port = dst_port;
	ip->src_addr = o->local_ip;
	ip->dst_addr = dst_ip;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (full_csum && udp->dgram_cksum) {
		udp->dgram_cksum = 0;
		uint16_t sum = rte_ipv4_udptcp_cksum(ip, udp);
		udp->dgram_cksum = sum ? sum : 0xffff;
	}
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	rte_ether_addr_copy(&dp.port_mac[pi], &eth->src_addr);
	m->ol_flags = 0;
	if (unlikely(!mac)) {
		/* an ARP request is out: the packet waits for the answer (a few at most) */
		if (arp_hold(w, pi, hop, m) != 0)
			dp_drop(w, m, DP_DROP_NO_NEIGH);
		return;
	}
	rte_ether_addr_copy(mac, &eth->dst_addr);
	s->rt.tx_pkts++;
	dp_tx(w, pi, m);
}
