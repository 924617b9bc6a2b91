/* dp: the data plane as the control plane sees it.
 *
 * dp_init() sets up ports (one RX and one TX queue per worker on every port), the mbuf pool,
 * and the rings between the planes; dp_start() launches one poll-mode worker per worker lcore;
 * dp_stop() tells them to leave through their command rings and joins them. Statistics are read
 * straight from the per-worker blocks (single writer, word-sized counters). */
#ifndef MGW_DP_H
#define MGW_DP_H

#include <stddef.h>
#include <stdint.h>

#include "shared/msg.h"
#include "shared/stream.h"

#define DP_MAX_PORTS 4
#define DP_MAX_WORKERS 16
#define DP_BURST 32

struct dp_config {
	unsigned n_workers;
	unsigned n_mbufs;
	unsigned rx_desc, tx_desc;
	uint32_t media_ip;     /* network order */
	uint32_t subnet;       /* on-link subnet of the media address, network order */
	uint32_t netmask;      /* network order */
	uint32_t gateway;      /* next hop for off-link peers, network order, 0 = none */
};

/* Why a packet was dropped. Every received packet is either transmitted, consumed (RTCP, ARP)
 * or counted under exactly one of these. */
enum dp_drop {
	DP_DROP_NOT_IPV4,   /* ethertype other than IPv4 or ARP (IPv6, LLDP...) */
	DP_DROP_BAD_L2,     /* runt frame */
	DP_DROP_BAD_IP,     /* IPv4 header: version, length, checksum */
	DP_DROP_IP_FRAG,    /* fragments (RTP never needs them) */
	DP_DROP_NOT_OURS,   /* IPv4 destination is not a media address */
	DP_DROP_PROTO,      /* IP protocol other than UDP or ICMP */
	DP_DROP_ICMP,       /* ICMP other than echo request, or malformed */
	DP_DROP_BAD_UDP,    /* UDP length or checksum */
	DP_DROP_NO_STREAM,  /* no stream on the destination port */
	DP_DROP_BAD_RTP,    /* not RTP version 2, or shorter than its header */
	DP_DROP_STREAM,     /* the stream's action or direction drops media (inactive, no peer) */
	DP_DROP_WRONG_SOURCE, /* not from the stream's (latched) peer */
	DP_DROP_ARP,        /* ARP not for us, or malformed */
	DP_DROP_NO_NEIGH,   /* next hop not resolved yet (an ARP request was sent) */
	DP_DROP_TX_FULL,    /* the TX queue did not take the packet */
	DP_DROP_MAX
};

struct dp_worker_stats {
	uint64_t rx, tx;          /* packets received from / given to the ports */
	uint64_t loops;           /* poll loop iterations */
	uint64_t busy, idle;      /* polls that returned packets / none */
	uint64_t rtcp;            /* RTCP packets consumed */
	uint64_t arp_replies;     /* ARP requests answered */
	uint64_t icmp_replies;    /* ICMP echo replies sent */
	uint64_t events_lost;     /* event ring full */
	uint64_t loop_gap_max;    /* worst tsc ticks between two poll loops since the last reset */
	uint64_t drop[DP_DROP_MAX];
} __attribute__((aligned(64)));

struct dp_port_info {
	char name[64];
	uint8_t mac[6];
	uint64_t rx, tx, drop;    /* from the port: packets in, out, missed/errors */
};

int dp_init(const struct dp_config *cfg, struct stream_table *table, char *err, size_t err_len);
int dp_start(char *err, size_t err_len);
/** Ask every worker to leave its loop and wait for it. Safe to call twice. */
void dp_stop(void);
/** Stop and close the ports (a net_tap port removes its kernel interface). */
void dp_close(void);

unsigned dp_n_ports(void);
int dp_port_info(unsigned port, struct dp_port_info *out);
unsigned dp_n_workers(void);
unsigned dp_worker_lcore(unsigned worker);
const struct dp_worker_stats *dp_worker_stats(unsigned worker);
const char *dp_drop_name(enum dp_drop d);

/** Deliver up to @max pending worker events to @fn. Returns how many were delivered. */
unsigned dp_poll_events(void (*fn)(const struct msg_event *ev, void *ctx), void *ctx,
			unsigned max);
/** Send a command to one worker (or every worker with @worker = -1). Returns 0 or -ENOBUFS. */
int dp_send_cmd(int worker, const struct msg_cmd *cmd);
/** A worker learnt a neighbour (MSG_EV_ARP_LEARNT): tell the others, whose ARP replies may
 *  land on another queue than their requests left from. */
void dp_share_neighbour(const struct msg_event *ev);

#endif
