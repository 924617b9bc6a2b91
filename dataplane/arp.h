/* arp: answers ARP for our media addresses and keeps a per-worker neighbour cache, so that no
 * state is shared between workers. Entries are learnt from ARP requests and replies and expire;
 * an unknown next hop triggers a (rate-limited) ARP request. */
#ifndef MGW_ARP_H
#define MGW_ARP_H

#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#define ARP_CACHE_SIZE 256 /* power of two, open addressing */
#define ARP_HOLD 8         /* packets held per unresolved neighbour */

struct arp_entry {
	uint32_t ip; /* network order, 0 = empty */
	struct rte_ether_addr mac;
	uint8_t valid;
	uint8_t n_held;
	uint64_t expires;  /* tsc */
	uint64_t req_sent; /* tsc of the last request, for rate limiting */
	/* packets ready to go but for the neighbour's MAC: sent when it is learnt (here, or
	 * by another worker, which tells this one), dropped when a request goes unanswered */
	struct rte_mbuf *held[ARP_HOLD];
	uint8_t held_pi[ARP_HOLD];
};

struct arp_cache {
	struct arp_entry e[ARP_CACHE_SIZE];
	uint64_t ttl;          /* tsc ticks an entry stays valid */
	uint64_t req_interval; /* tsc ticks between requests for one address */
};

struct dp_worker;

void arp_cache_init(struct arp_cache *c, uint64_t tsc_hz);
void arp_cache_flush(struct arp_cache *c);
/** Handle an ARP frame received on port index @pi; consumes @m (reply sent in place). */
void arp_input(struct dp_worker *w, uint16_t pi, struct rte_mbuf *m);
/** The MAC for @ip (network order), or NULL; sends a rate-limited request when unknown.
 *  Time is @w->now, the current burst's TSC (set by the worker before it hands packets on). */
const struct rte_ether_addr *arp_resolve(struct dp_worker *w, uint16_t pi, uint32_t ip);
/** A stream latched a peer at @ip whose frames come from @mac: when @ip is on-link, that is
 *  its MAC (learnt, and shared with the other workers, at no cost per packet since a stream
 *  latches once). */
void arp_glean(struct dp_worker *w, uint32_t ip, const struct rte_ether_addr *mac);
/** Keep @m (complete but for its destination MAC) until @ip is resolved. Returns 0, or -1
 *  when the neighbour's queue is full (the caller drops @m). */
int arp_hold(struct dp_worker *w, uint16_t pi, uint32_t ip, struct rte_mbuf *m);
/** Record @ip at @mac and send what was held for it; returns 1 if the entry is new or
 *  changed. */
int arp_learn(struct dp_worker *w, uint32_t ip, const struct rte_ether_addr *mac);

#endif
