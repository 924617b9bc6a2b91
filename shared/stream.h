/* stream: the unit of the data plane, and the session table that publishes streams to workers.
 *
 * A stream is one local media endpoint: (local media IPv4, even UDP port). RTP arrives on the
 * port, RTCP on port+1; both map to the same stream. The table is a flat array of RCU-published
 * pointers indexed by (media address index, port / 2): one dependent load per lookup, easy to
 * prefetch for a burst. The key space is dense and small (addresses x 32768 slots), which is
 * what makes the flat array beat a hash here.
 *
 * Concurrency (liburcu QSBR):
 *   - The control plane is the only writer of the table and of every field marked [cp]. Those
 *     fields are written before the stream is published and never change afterwards; a change
 *     means publishing a new stream and retiring the old one with call_rcu.
 *   - Fields marked [w] are written only by the worker that receives the stream's packets
 *     (RSS keeps one peer's flow on one queue) and read, word by word, by the control plane
 *     for statistics. Word-sized, so a reader never sees a torn value.
 *   - Workers read under QSBR: no rcu_read_lock cost, a quiescent state once per poll loop.
 */
#ifndef MGW_STREAM_H
#define MGW_STREAM_H

#include <arpa/inet.h>
#include <stdint.h>

#include <urcu-qsbr.h>

#include "dataplane/actions/transcode.h"

enum stream_action {
	STREAM_DROP = 0,  /* count and drop (media not yet wanted, or inactive) */
	STREAM_ECHO = 1,  /* send RTP back to its sender as a proper RTP source */
	STREAM_RELAY = 2, /* send to the other leg's peer, from the other leg's address */
};

/* Who may send to a stream (symmetric RTP). */
enum stream_latch {
	STREAM_LATCH_ANY = 0, /* the first valid packet from anywhere fixes the peer */
	STREAM_LATCH_IP = 1,  /* the first packet from the SDP peer's IP (any port) fixes it */
	STREAM_LATCH_OFF = 2, /* only the SDP peer's exact address:port is accepted */
};

/* Media direction as the data plane enforces it (from the SDP a= attributes). */
#define STREAM_DIR_RECV 0x1 /* accept media from the peer */
#define STREAM_DIR_SEND 0x2 /* send media to the peer */

/* RFC 3550 receiver statistics (appendix A.1, A.8), kept by the receiving worker. [w] */
struct rtp_stats {
	uint32_t received;   /* packets counted (after probation) */
	uint32_t cycles;     /* sequence number wraps, << 16 */
	uint32_t base_seq;   /* first sequence number */
	uint32_t bad_seq;    /* RTP_SEQ_MOD + 1 when no jump is suspected */
	uint16_t max_seq;    /* highest sequence number seen */
	uint16_t probation;  /* sequential packets still needed to validate a new source */
	uint32_t transit;    /* relative transit time of the last packet */
	uint32_t jitter;     /* interarrival jitter in timestamp units, scaled by 16 */
	uint8_t init;        /* a first packet has been seen */
};

/* Worker-written receive/transmit state and counters. [w] The first cache line holds all
 * that a relayed packet writes; the second what echo, translation, RTCP and drops add. */
struct stream_rt {
	/* the latched RTP peer, one word so that the other leg's worker reads it whole:
	 * ip << 32 | port << 16 | 1, network order fields, 0 = none yet */
	uint64_t peer;
	uint64_t rx_pkts, rx_bytes;     /* RTP received */
	uint64_t tx_pkts;               /* RTP sent: ECHO back to the sender; RELAY: received
					 * here and sent on from the other leg (so that every
					 * counter a worker writes lives in the stream it
					 * received on) */
	struct rtp_stats rtp;
	/* second cache line */
	uint64_t rtcp_peer;             /* the latched RTCP peer, same encoding */
	uint64_t last_rx_tsc;           /* rte_rdtsc() at the first RTP packet and every 64th
					 * after it (media timeouts need no finer grain), 0 = none */
	uint64_t wrong_source;          /* packets dropped: not from the latched peer */
	uint64_t rtcp_pkts;             /* RTCP accepted (consumed, or relayed on RELAY) */
	uint64_t drops;                 /* malformed RTP, media direction */
	/* our own RTP source: ECHO back, or RELAY with translation towards the other leg */
	uint32_t in_ssrc;               /* SSRC of the sender we are reflecting */
	uint32_t ts_offset;             /* added to the sender's timestamp */
	uint32_t last_out_ts;           /* last timestamp we sent */
	uint16_t out_seq;               /* next sequence number we send */
	uint8_t started;                /* a packet has been sent */
	uint32_t src_ip;                /* first sender seen (network order), 0 = none */
	uint16_t src_port;              /* its port (network order) */
};

struct stream {
	/* [cp] identity and action, immutable once published */
	uint32_t local_ip;      /* network order */
	uint16_t local_port;    /* host order, even */
	uint8_t action;         /* enum stream_action */
	uint8_t addr_idx;       /* index of local_ip in the table's address list */
	uint32_t peer_ip;       /* from SDP, network order, 0 = unknown */
	uint16_t peer_port;     /* from SDP, network order */
	uint16_t pad0;
	uint32_t ssrc;          /* our SSRC when we are the RTP source */
	uint32_t ts_base;       /* our first timestamp */
	uint16_t seq_base;      /* our first sequence number */
	uint8_t latch;          /* enum stream_latch */
	uint8_t dir;            /* STREAM_DIR_* */
	uint64_t id;            /* control-plane id, for events */
	/* RELAY: the other leg. The two legs of a pair point at each other and are published,
	 * replaced and retired together, so a worker holding one may use the other until its
	 * next quiescent state. */
	struct stream *other;
	uint8_t port_idx;       /* index of the DPDK port this stream's address lives on */
	uint8_t translate;      /* RELAY: send with the other leg's own SSRC/seq/ts */
	uint16_t pad2;
	uint32_t ts_mult;       /* arrival time in RTP clock units = (tsc * ts_mult) >> 32 */
	/* RELAY: payload types renumbered / G.711 converted on the way to the other leg */
	uint8_t remap;          /* xmap differs from the identity */
	struct transcode_pt_map xmap;
	/* [w], from the second cache line on */
	struct stream_rt rt __attribute__((aligned(64)));
	/* [cp] reclamation */
	struct rcu_head rcu;
};

#define STREAM_TABLE_MAX_ADDRS 64
#define STREAM_SLOTS_PER_ADDR 32768 /* one per even port */

struct stream_table {
	unsigned n_addrs;                                /* [cp] set before workers start */
	uint32_t base_h;                                 /* first address, host order */
	uint8_t contiguous;                              /* addrs[i] == base + i */
	uint32_t addrs[STREAM_TABLE_MAX_ADDRS];          /* network order */
	struct stream **slots[STREAM_TABLE_MAX_ADDRS];   /* [cp] RCU pointers, per address */
	unsigned n_streams;                              /* [cp] */
};

/** Create a table for the media addresses @addrs (network order). NULL on failure. */
struct stream_table *stream_table_create(const uint32_t *addrs, unsigned n_addrs);
/** Free the table. Every stream must have been removed and rcu_barrier() called. */
void stream_table_destroy(struct stream_table *t);

/** Address index of @ip (network order) or -1. Workers call it per packet. */
static inline int stream_table_addr_index(const struct stream_table *t, uint32_t ip)
{
	if (t->contiguous) { /* the usual pool: one subtraction */
		uint32_t i = ntohl(ip) - t->base_h;
		return i < t->n_addrs ? (int)i : -1;
	}
	for (unsigned i = 0; i < t->n_addrs; i++)
		if (t->addrs[i] == ip)
			return (int)i;
	return -1;
}

/** Worker lookup: the stream on (@addr_idx, @port host order, RTP or RTCP), or NULL. */
static inline struct stream *stream_table_lookup(const struct stream_table *t, int addr_idx,
						 uint16_t port)
{
	return rcu_dereference(t->slots[addr_idx][port >> 1]);
}

/** Allocate a stream (zeroed, cache-aligned) for the control plane to fill in. */
struct stream *stream_alloc(void);
/** Publish @s at its (local_ip, local_port). Returns 0, -EEXIST if the slot is taken, -EINVAL
 *  if local_ip is not a table address. Control plane only. */
int stream_table_add(struct stream_table *t, struct stream *s);
/** Replace the published stream at @s's slot by @s (e.g. a new action); the old one is retired
 *  with call_rcu. Returns 0 or -ENOENT. */
int stream_table_replace(struct stream_table *t, struct stream *s);
/** Unpublish the stream at (@ip, @port) and free it after a grace period. Returns 0 or -ENOENT. */
int stream_table_del(struct stream_table *t, uint32_t ip, uint16_t port);
/** The published stream for the control plane's own reads (statistics), or NULL. */
struct stream *stream_table_get(const struct stream_table *t, uint32_t ip, uint16_t port);

#endif
