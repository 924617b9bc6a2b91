/* dp: the data plane as the control plane sees it.
 *
 * dp_init() sets up ports (one RX and one TX queue per worker on every port), the mbuf pool,
 * and the rings between the planes; dp_start() launches one poll-mode worker per worker lcore;
 * dp_stop() tells them to leave through their command rings and joins them. Statistics are read
 * straight from the per-worker blocks: each counter has one writer, its worker, and is an
 * atomic word (util/counter.h); the control plane sums them. dp_poll_links() (control plane,
 * a few times a second) publishes each port's link state, which the workers follow: a port
 * whose link is down is not polled, and what would leave through it is dropped and counted. */
#ifndef MGW_DP_H
#define MGW_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/msg.h"
#include "shared/stream.h"
#include "util/counter.h"

#define DP_MAX_PORTS 4
#define DP_MAX_WORKERS 16
#define DP_BURST 32

/* What a worker does when its queues stay empty. */
enum dp_idle {
	DP_IDLE_ADAPTIVE = 0, /* back off after an idle spell: pause, then sleep (RX interrupts
			       * where the PMD has them, short sleeps otherwise) */
	DP_IDLE_POLL = 1,     /* poll without pause: for cores dedicated to mgw */
};

struct dp_config {
	unsigned n_workers;
	unsigned idle;         /* enum dp_idle */
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
	DP_DROP_LINK_DOWN,  /* the port it would leave through has no link */
	DP_DROP_HANDOFF,    /* the owner worker's hand-off ring was full */
	DP_DROP_MAX
};

/* One worker's counters: written by that worker only, read by the control plane. */
struct dp_worker_stats {
	ctr_t rx, tx;             /* packets received from / given to the ports */
	ctr_t loops;              /* poll loop iterations */
	ctr_t busy, idle;         /* polls that returned packets / none */
	ctr_t rtcp;               /* RTCP packets consumed */
	ctr_t arp_replies;        /* ARP requests answered */
	ctr_t icmp_replies;       /* ICMP echo replies sent */
	ctr_t events_lost;        /* event ring full */
	ctr_t handoff_out;        /* packets handed to the stream's owner worker */
	ctr_t handoff_in;         /* packets handed to this worker by another */
	ctr_t sleeps;             /* idle back-offs that slept (adaptive idle) */
	ctr_t dtmf;               /* RFC 4733 events reported to the control plane */
	ctr_t dtmf_absurd;        /* RFC 4733 events that ended with a duration of 0 */
	ctr_t played;             /* packets mgw's player sent (announcements, tones, DTMF) */
	ctr_t play_lost;          /* player frames not sent: no mbuf, no peer known yet, or
				   * due while the worker was held up */
	ctr_t play_cycles;        /* TSC cycles spent sending them (the player's share of the
				   * core) */
	ctr_t play_late_max;      /* worst lateness of a frame against its due time, TSC
				   * cycles, since the last reset */
	ctr_t xcode_sent;         /* packets the transcoding pipelines encoded and sent */
	ctr_t xcode_concealed;    /* packets' worth of audio they concealed (lost, late, a
				   * jitter buffer run dry) */
	ctr_t xcode_bad;          /* packets they could not use: corrupt or too long for the
				   * codec, a payload type the leg did not agree, duplicates, late */
	ctr_t xcode_late;         /* packet times they did not send: the worker was held up for
				   * longer than PLAYER_XCODE_CATCHUP of them, or no mbuf was
				   * free */
	ctr_t xcode_cycles;       /* TSC cycles spent in them (decode, buffer, encode, send) */
	ctr_t rtcp_sent;          /* RTCP reports mgw sent itself (echo, announcements,
				   * transcoded legs) */
	ctr_t rtcp_tx_full;       /* streams left without reports: the worker's table full */
	ctr_t loop_gap_max;       /* worst tsc ticks between two poll loops since the last
				   * reset, time asleep excluded */
	ctr_t drop[DP_DROP_MAX];
} __attribute__((aligned(64)));

struct dp_port_info {
	char name[64];
	uint8_t mac[6];
	bool link_up;
	uint32_t speed_mbps;
	uint64_t rx, tx, drop;    /* from the port: packets in, out, missed/errors */
	uint64_t rx_bytes, tx_bytes;
};

int dp_init(const struct dp_config *cfg, struct stream_table *table, char *err, size_t err_len);
int dp_start(char *err, size_t err_len);
/** Ask every worker to leave its loop and wait for it. Safe to call twice. */
void dp_stop(void);
/** Stop and close the ports (a net_tap port removes its kernel interface). */
void dp_close(void);
/** Read every port's link state and publish it to the workers; logs changes. Returns the
 *  number of ports whose state changed. Control plane, a few times a second. */
unsigned dp_poll_links(void);
/** Hold every worker outside its PMDs' rx and tx functions until dp_workers_resume(); returns
 *  once they all are. For a thread about to take memory away from a port (pmd_guard.c). */
void dp_workers_pause(void);
void dp_workers_resume(void);

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
