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

#include <stdint.h>

#include <urcu-qsbr.h>

enum stream_action {
	STREAM_DROP = 0, /* count and drop (media not yet wanted, or inactive) */
	STREAM_ECHO = 1, /* send RTP back to its sender as a proper RTP source */
};

/* Worker-written receive/transmit state and counters. [w] */
struct stream_rt {
	uint64_t rx_pkts, rx_bytes;     /* RTP received */
	uint64_t tx_pkts, tx_bytes;     /* RTP sent */
	uint64_t rtcp_pkts;             /* RTCP received (consumed) */
	uint64_t drops;                 /* malformed RTP, media direction */
	uint64_t last_rx_tsc;           /* rte_rdtsc() of the last packet, 0 = none yet */
	uint32_t src_ip;                /* first sender seen (network order), 0 = none */
	uint16_t src_port;              /* its port (network order) */
	/* echo rewrite: our own RTP source */
	uint16_t out_seq;               /* next sequence number we send */
	uint32_t in_ssrc;               /* SSRC of the sender we are reflecting */
	uint32_t ts_offset;             /* added to the sender's timestamp */
	uint32_t last_out_ts;           /* last timestamp we sent */
	uint8_t started;                /* a packet has been sent */
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
	uint16_t pad1;
	uint64_t id;            /* control-plane id, for events */
	/* [w] */
	struct stream_rt rt;
	/* [cp] reclamation */
	struct rcu_head rcu;
};

#define STREAM_TABLE_MAX_ADDRS 64
#define STREAM_SLOTS_PER_ADDR 32768 /* one per even port */

struct stream_table {
	unsigned n_addrs;                                /* [cp] set before workers start */
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
