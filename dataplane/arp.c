#include "dataplane/arp.h"

#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>

#include "dataplane/worker.h"

#define ARP_TTL_S 300
#define ARP_REQ_INTERVAL_MS 500

void arp_cache_init(struct arp_cache *c, uint64_t tsc_hz)
{
	memset(c, 0, sizeof(*c));
	c->ttl = tsc_hz * ARP_TTL_S;
	c->req_interval = tsc_hz / 1000 * ARP_REQ_INTERVAL_MS;
}

static void arp_drop_held(struct dp_worker *w, struct arp_entry *e)
{
	for (uint8_t i = 0; i < e->n_held; i++)
		dp_drop(w, e->held[i], DP_DROP_NO_NEIGH);
	e->n_held = 0;
}

void arp_cache_flush(struct arp_cache *c)
{
	struct dp_worker *w = container_of(c, struct dp_worker, arp);
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
		arp_drop_held(w, &c->e[i]);
	memset(c->e, 0, sizeof(c->e));
}

static inline unsigned arp_hash(uint32_t ip)
{
	return (rte_be_to_cpu_32(ip) * 2654435761u) >> 24 & (ARP_CACHE_SIZE - 1);
}

/* The entry for @ip, or the slot to use for it (empty, or the one a full probe run evicts). */
static struct arp_entry *arp_slot(struct arp_cache *c, uint32_t ip)
{
	unsigned h = arp_hash(ip);
	struct arp_entry *victim = &c->e[h];
	for (unsigned i = 0; i < 8; i++) {
		struct arp_entry *e = &c->e[(h + i) & (ARP_CACHE_SIZE - 1)];
		if (e->ip == ip || e->ip == 0)
			return e;
		if (e->expires < victim->expires)
			victim = e;
	}
	struct dp_worker *w = container_of(c, struct dp_worker, arp);
	arp_drop_held(w, victim);
	memset(victim, 0, sizeof(*victim));
	return victim;
}

int arp_learn(struct dp_worker *w, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct arp_entry *e = arp_slot(&w->arp, ip);
	int changed = !e->valid || !rte_is_same_ether_addr(&e->mac, mac);
	e->ip = ip;
	rte_ether_addr_copy(mac, &e->mac);
	e->valid = 1;
	e->expires = rte_rdtsc() + w->arp.ttl;
	for (uint8_t i = 0; i < e->n_held; i++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(e->held[i], struct rte_ether_hdr *);
		rte_ether_addr_copy(mac, &eth->dst_addr);
		dp_tx(w, e->held_pi[i], e->held[i]);
	}
	e->n_held = 0;
	return changed;
}

int arp_hold(struct dp_worker *w, uint16_t pi, uint32_t ip, struct rte_mbuf *m)
{
	struct arp_entry *e = arp_slot(&w->arp, ip);
	if (e->ip != ip || e->n_held == ARP_HOLD)
		return -1;
	e->held[e->n_held] = m;
	e->held_pi[e->n_held++] = (uint8_t)pi;
	return 0;
}

static void arp_send_request(struct dp_worker *w, uint16_t pi, uint32_t ip)
{
	struct rte_mbuf *m = dp_alloc();
	if (!m)
		return;
	size_t len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)len);
	if (!eth) {
		dp_free(m);
		return;
	}
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
	rte_ether_addr_copy(&dp.port_mac[pi], &eth->src_addr);
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
	arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
	rte_ether_addr_copy(&dp.port_mac[pi], &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = dp.cfg.media_ip;
	memset(&arp->arp_data.arp_tha, 0, sizeof(arp->arp_data.arp_tha));
	arp->arp_data.arp_tip = ip;
	dp_tx(w, pi, m);
}

const struct rte_ether_addr *arp_resolve(struct dp_worker *w, uint16_t pi, uint32_t ip)
{
	struct arp_entry *e = arp_slot(&w->arp, ip);
	uint64_t now = w->now; /* the burst's time: one TSC read per burst, not per packet */
	if (e->ip == ip && e->valid && e->expires > now)
		return &e->mac;
	if (e->ip != ip) {
		arp_drop_held(w, e);
		memset(e, 0, sizeof(*e));
		e->ip = ip;
	}
	if (e->req_sent == 0 || now - e->req_sent >= w->arp.req_interval) {
		arp_drop_held(w, e); /* the last request went unanswered */
		e->req_sent = now;
		arp_send_request(w, pi, ip);
	}
	return NULL;
}

static void arp_post_learnt(struct dp_worker *w, uint32_t ip, const struct rte_ether_addr *mac)
{
	struct msg_event ev = {.type = MSG_EV_ARP_LEARNT, .worker = (uint16_t)w->id, .peer_ip = ip};
	memcpy(ev.mac, mac->addr_bytes, sizeof(ev.mac));
	dp_event(w, &ev);
}

void arp_glean(struct dp_worker *w, uint32_t ip, const struct rte_ether_addr *mac)
{
	if ((ip & dp.cfg.netmask) == dp.cfg.subnet && arp_learn(w, ip, mac))
		arp_post_learnt(w, ip, mac);
}

void arp_input(struct dp_worker *w, uint16_t pi, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	if (rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*arp) ||
	    arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
	    arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
	    arp->arp_hlen != RTE_ETHER_ADDR_LEN || arp->arp_plen != 4) {
		dp_drop(w, m, DP_DROP_ARP);
		return;
	}
	uint32_t sip = arp->arp_data.arp_sip;
	uint32_t tip = arp->arp_data.arp_tip;
	int ours = stream_table_addr_index(dp.table, tip) >= 0;
	/* Learn senders on our subnet only (RFC 826: merge when we are the target). */
	if (ours && sip != 0 && (sip & dp.cfg.netmask) == dp.cfg.subnet &&
	    arp_learn(w, sip, &arp->arp_data.arp_sha))
		arp_post_learnt(w, sip, &arp->arp_data.arp_sha);
	if (!ours || arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST)) {
		if (ours) /* a reply to our request: learnt above */
			dp_free(m);
		else
			dp_drop(w, m, DP_DROP_ARP);
		return;
	}
	arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
	rte_ether_addr_copy(&arp->arp_data.arp_sha, &arp->arp_data.arp_tha);
	arp->arp_data.arp_tip = sip;
	rte_ether_addr_copy(&dp.port_mac[pi], &arp->arp_data.arp_sha);
	arp->arp_data.arp_sip = tip;
	rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
	rte_ether_addr_copy(&dp.port_mac[pi], &eth->src_addr);
	ctr_inc(&w->stats.arp_replies);
	dp_tx(w, pi, m);
}
