#include "dataplane/actions/relay.h"

#include <stdbool.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dataplane/actions/src.h"
#include "dataplane/actions/transcode.h"
#include "dataplane/actions/xcode.h"
#include "dataplane/net.h"
#include "dataplane/rtp.h"
#include "dataplane/worker.h"

void relay_packet(struct dp_worker *w, struct pkt *p)
{
	const struct stream_cfg *s = p->cfg, *o = s->other;
	struct rte_ipv4_hdr *ip = p->ip;
	struct rte_udp_hdr *udp = p->udp;
	int rtcp = p->rtcp;
	uint64_t dest = relay_dest(o, s->other_st, rtcp);
	/* RTCP keeps flowing on hold (RFC 3264 5.1): only media obeys the direction, and
	 * mgw's player, while it plays towards the other leg's peer */
	if (unlikely(!dest ||
		     (!rtcp && (o->dir & (STREAM_DIR_SEND | STREAM_DIR_PLAY)) != STREAM_DIR_SEND))) {
		ctr_inc(&p->st->drops);
		dp_drop(w, p->m, DP_DROP_STREAM);
		return;
	}
	uint32_t dst_ip = stream_peer_ip(dest);
	uint16_t dst_port = stream_peer_port(dest);
	uint16_t pi = o->port_idx;
	uint32_t hop = (dst_ip & dp.cfg.netmask) == dp.cfg.subnet || !dp.cfg.gateway
			       ? dst_ip : dp.cfg.gateway;
	const struct rte_ether_addr *mac = arp_resolve(w, pi, hop);
	uint16_t src_port = rtcp ? rte_cpu_to_be_16(o->local_port + 1)
				 : rte_cpu_to_be_16(o->local_port);
	int full_csum = 0, own_src = 0;
	if (!rtcp && s->remap) {
		if (unlikely(s->xcode != NULL)) {
			/* transcoding: audio into the jitter buffer, events renumbered in its
			 * timeline */
			int r = xcode_rx(w, p);
			if (r == XCODE_TAKEN) {
				dp_free(p->m);
				return;
			}
			if (r < 0) {
				ctr_inc(&p->st->drops);
				dp_drop(w, p->m, r == XCODE_DROP_TE ? DP_DROP_STREAM : DP_DROP_BAD_RTP);
				return;
			}
			full_csum = own_src = 1;
		} else {
			/* transcoding or renumbering: the payload changes, so the checksum is
			 * redone */
			int r = transcode_rtp((uint8_t *)(udp + 1),
					      rte_be_to_cpu_16(udp->dgram_len) - sizeof(*udp),
					      &s->xmap);
			if (unlikely(r < 0)) {
				ctr_inc(&p->st->drops);
				dp_drop(w, p->m, r == -2 ? DP_DROP_STREAM : DP_DROP_BAD_RTP);
				return;
			}
			full_csum = r;
		}
	}
	uint16_t c = udp->dgram_cksum;
	if (c && !full_csum) {
		c = net_csum_update32(c, ip->src_addr, o->local_ip);
		c = net_csum_update32(c, ip->dst_addr, dst_ip);
		c = net_csum_update16(c, udp->src_port, src_port);
		c = net_csum_update16(c, udp->dst_port, dst_port);
	}
	if (!rtcp && o->translate && !own_src)
		c = src_rewrite(&p->st->src, o->ssrc, o->seq_base, o->ts_base,
				(struct rtp_hdr *)(udp + 1), c);
	if (udp->dgram_cksum && !full_csum)
		udp->dgram_cksum = c ? c : 0xffff;
	udp->src_port = src_port;
	udp->dst_port = dst_port;
	/* The IPv4 checksum was verified on input: update it for the three fields that change
	 * rather than reread the header just written (the wide reload stalls on those stores). */
	uint16_t ttl_proto, ttl_proto_new;
	memcpy(&ttl_proto, &ip->time_to_live, sizeof(ttl_proto));
	ttl_proto_new = ttl_proto;
	((uint8_t *)&ttl_proto_new)[0] = 64;
	uint16_t ic = net_csum_update32(ip->hdr_checksum, ip->src_addr, o->local_ip);
	ic = net_csum_update32(ic, ip->dst_addr, dst_ip);
	ip->hdr_checksum = net_csum_update16(ic, ttl_proto, ttl_proto_new);
	ip->src_addr = o->local_ip;
	ip->dst_addr = dst_ip;
	ip->time_to_live = 64;
	if (full_csum && udp->dgram_cksum) {
		udp->dgram_cksum = 0;
		uint16_t sum = rte_ipv4_udptcp_cksum(ip, udp);
		udp->dgram_cksum = sum ? sum : 0xffff;
	}
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(p->m, struct rte_ether_hdr *);
	rte_ether_addr_copy(&dp.port_mac[pi], &eth->src_addr);
	p->m->ol_flags = 0;
	if (unlikely(!mac)) {
		/* an ARP request is out: the packet waits for the answer (a few at most) */
		if (arp_hold(w, pi, hop, p->m) != 0) {
			dp_drop(w, p->m, DP_DROP_NO_NEIGH);
			return;
		}
		ctr_inc(&p->st->tx_pkts);
		return;
	}
	rte_ether_addr_copy(mac, &eth->dst_addr);
	ctr_inc(&p->st->tx_pkts);
	dp_tx(w, pi, p->m);
}
