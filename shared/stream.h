/* stream: the unit of the data plane, and the table that publishes streams to the workers.
 * This header is the contract between the planes: it says who writes every field.
 *
 * A stream is one local media endpoint: (local media IPv4, even UDP port). RTP arrives on the
 * port, RTCP on port+1; both map to the same stream. A stream has two parts with two owners:
 *
 *   - struct stream_cfg, its configuration: written by the control plane before it is
 *     published and never changed afterwards. A change (re-INVITE, hold, 183 -> 200)
 *     publishes a new config for the same stream id; the old one is retired after a grace
 *     period (liburcu QSBR). Workers read configs without locks.
 *   - struct stream_state, what the stream learns and counts at run time (latched peer,
 *     RTP statistics, our RTP source's sequence and timestamp, counters): written by exactly
 *     one worker, the stream's owner, and kept when a new config is published, since it
 *     belongs to the stream id, not to a config.
 *
 * Ownership: the first worker to handle a packet of a stream id claims its state (one
 * compare-and-swap per stream). A worker that receives a packet of a stream owned by another
 * worker (RSS spreads flows by their 4-tuple, so RTP and RTCP of one stream may land on two
 * queues) hands the packet to the owner through the owner's hand-off ring. So every field of
 * a state has one writer, whatever the NIC does.
 *
 * The table: per media address an array of config pointers and an array of states, both
 * indexed by port / 2. A lookup is one subtraction and one load; the state's address needs
 * no load at all, so a burst can prefetch both before it touches a packet.
 *
 * Lifetime: a config replaced or removed is retired: the control plane frees it (and gives its
 * port back, for a removed stream) after its next grace period (stream_table_reclaim(), once
 * per control loop turn), so no worker can still hold a config of a previous stream on a
 * slot when a new stream id is published there: a state's id only grows while a worker looks
 * at it. The control plane reclaims itself, rather than through liburcu's call_rcu thread,
 * so that what is freed and what the callbacks touch stay on one thread.
 */
#ifndef MGW_STREAM_H
#define MGW_STREAM_H

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <urcu-qsbr.h>

#include "util/counter.h"
#include "util/seqlock.h"

enum stream_action {
	STREAM_DROP = 0,  /* count and drop (media not yet wanted, or inactive) */
	STREAM_ECHO = 1,  /* send RTP back to its (latched) sender as a proper RTP source */
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
#define STREAM_DIR_PLAY 0x4 /* mgw's player sends to the peer (cfg->play): media echoed or
			     * relayed towards it is dropped meanwhile */

/* A prompt: audio encoded once for one payload format at 8 kHz, one byte per sample (PCMU,
 * PCMA, or G.722 in its 8 kHz mode).
 * [cp] built before any config names it, immutable, kept until shutdown (prompt.c). */
struct stream_prompt {
	const uint8_t *data;
	/* a codec whose packets vary in size (Opus): where each packet of STREAM_PROMPT_PACKET
	 * samples starts in data (n_samples / STREAM_PROMPT_PACKET + 1 offsets), played at that
	 * packet time whatever the play asks; NULL: data is sliced by samples */
	const uint32_t *pkt;
	uint32_t n_samples;   /* at 8 kHz, a whole number of frames */
	uint8_t pt;           /* 0 PCMU, 8 PCMA, 9 G.722, 18 G.729; Opus: 0xff (dynamic, the
			       * play names the stream's) */
	uint8_t codec;        /* enum stream_codec */
	uint8_t shift;        /* bytes = samples >> shift (G.729: 10 bytes per 80 samples) */
	uint8_t ts_mult;      /* RTP timestamp units per 8 kHz sample (Opus: 6), 0 = 1 */
	uint16_t frame;       /* samples per codec frame: packets carry whole frames */
};
#define STREAM_PROMPT_PACKET 160 /* 20 ms at 8 kHz */

enum stream_play_kind {
	STREAM_PLAY_AUDIO = 1, /* a prompt, @loops times (0: until stopped) */
	STREAM_PLAY_DTMF = 2,  /* RFC 4733 events for @digits */
};
#define STREAM_PLAY_DIGITS_MAX 32

/* What mgw's player sends on a stream (its worker paces it on the TSC, with the stream's own
 * SSRC, sequence numbers and timestamps). [cp] written before the first config naming it is
 * published, immutable afterwards; every config that carries it holds a reference (refs,
 * control plane only), dropped when the config is freed after its grace period. */
struct stream_play {
	uint32_t gen;          /* the play request's number, unique per mgwd run */
	uint8_t kind;          /* enum stream_play_kind */
	uint8_t pt;            /* payload type sent: the prompt's, or telephone-event's */
	uint8_t ptime_ms;      /* packet interval: 10..60 */
	uint8_t volume;        /* DTMF: dBm0 below 0 */
	uint32_t loops;        /* AUDIO: times to play, 0 = until stopped */
	uint32_t limit;        /* AUDIO: at most this many samples, 0 = no limit */
	const struct stream_prompt *prompt; /* AUDIO */
	uint16_t digit_ms;     /* DTMF: each event's length */
	uint16_t gap_ms;       /* DTMF: from an event's end to the next one's start */
	char digits[STREAM_PLAY_DIGITS_MAX + 1]; /* DTMF: 0-9 * # A-D */
	unsigned refs;         /* [cp] configs that carry it */
};

/* The audio codecs mgw decodes and encodes (dataplane/codec.h). */
enum stream_codec {
	STREAM_CODEC_NONE = 0,
	STREAM_CODEC_PCMU = 1,
	STREAM_CODEC_PCMA = 2,
	STREAM_CODEC_G722 = 3, /* 64 kbit/s */
	STREAM_CODEC_G729 = 4, /* with annex B's SID frames understood */
	STREAM_CODEC_OPUS = 5, /* mono, in-band FEC */
	STREAM_CODEC_COUNT
};

/* One direction of a transcoded relay (dataplane/xcode.c): what the leg receives in in_codec
 * is decoded, held against jitter, and encoded in out_codec for the other leg's peer, with the
 * packet time changed when the legs agreed different ones. [cp] everything but pipe: written
 * before the first config naming it is published, immutable afterwards; every config that
 * carries it holds a reference (refs), dropped when the config is freed after its grace
 * period, the last one through release(). pipe: the pipeline (codecs, jitter buffer, our RTP
 * source towards the other leg's peer), allocated by the control plane with the description
 * and written afterwards only by the worker that owns the receiving stream's state. */
struct stream_xcode {
	uint32_t gen;          /* unique per mgwd run */
	uint8_t in_codec, out_codec;   /* enum stream_codec */
	uint8_t in_pt, out_pt;         /* payload types on each side */
	uint8_t in_ptime, out_ptime;   /* ms */
	uint8_t te_in, te_out;         /* telephone-event: renumbered, sent on at once in the
					* out timeline; te_out STREAM_PT_DROP: dropped; te_in 0:
					* none */
	uint32_t ssrc, ts_base;        /* our RTP source towards the other leg's peer */
	uint16_t seq_base;
	unsigned refs;                 /* [cp] */
	void *pipe;                    /* [o] after publication */
	void (*release)(struct stream_xcode *x); /* [cp] frees pipe and x */
};

/* G.711 conversion of a relayed payload. */
enum stream_g711 {
	STREAM_G711_NONE = 0,
	STREAM_G711_U2A = 1, /* mu-law in, A-law out */
	STREAM_G711_A2U = 2,
};

/* Payload types of one direction of a relay: audio_in becomes audio_out (payload converted
 * as g711), te_in (telephone-event, RFC 4733) becomes te_out, since the legs may have
 * negotiated different dynamic numbers (e.g. 101 vs 96). */
enum stream_vad {
	STREAM_VAD_OFF = 0,
	STREAM_VAD_PCMU = 1,
	STREAM_VAD_PCMA = 2,
	STREAM_VAD_DECODED = 3, /* a transcoded leg: its pipeline judges the decoded audio */
};
#define STREAM_VAD_EVENTS 0x80 /* cfg->vad: also tell the control plane when the peer starts
				* talking and falls silent (MSG_EV_TALK) */
#define STREAM_PT_DROP 0x80 /* te_out: telephone-event the other leg did not take: dropped */
struct stream_pt_map {
	uint8_t audio_in, audio_out, te_in, te_out;
	uint8_t g711; /* enum stream_g711 */
};

/* A latched peer, one word so that the worker relaying towards it reads it whole:
 * ip << 32 | port << 16 | gen << 1 | 1, ip and port in network order, gen the config's
 * latch_gen (15 bits) at the time of latching. 0 = nothing latched. */
#define STREAM_PEER_GEN_MASK 0x7fff
static inline uint64_t stream_peer_word(uint32_t ip, uint16_t port, uint16_t gen)
{
	return (uint64_t)ip << 32 | (uint64_t)port << 16 |
	       (uint64_t)(gen & STREAM_PEER_GEN_MASK) << 1 | 1;
}
static inline uint32_t stream_peer_ip(uint64_t w) { return (uint32_t)(w >> 32); }
static inline uint16_t stream_peer_port(uint64_t w) { return (uint16_t)(w >> 16); }
/** The word names a peer latched under latch generation @gen. */
static inline int stream_peer_valid(uint64_t w, uint16_t gen)
{
	return (w & 0xffff) == ((uint64_t)(gen & STREAM_PEER_GEN_MASK) << 1 | 1);
}

/* RFC 3550 receiver statistics working state (appendix A.1, A.8). Owner only. */
struct rtp_stats {
	uint32_t received;  /* packets counted (after probation) */
	uint32_t cycles;    /* sequence number wraps, << 16 */
	uint32_t base_seq;  /* first sequence number */
	uint32_t bad_seq;   /* RTP_SEQ_MOD + 1 when no jump is suspected */
	uint16_t max_seq;   /* highest sequence number seen */
	uint16_t probation; /* sequential packets still needed to validate a new source */
	uint32_t transit;   /* relative transit time of the last packet */
	uint32_t jitter;    /* interarrival jitter in timestamp units, scaled by 16 */
	uint8_t init;       /* a first packet has been seen */
};

/* The RFC 4733 telephone-event a stream's peer is sending (owner only): one event is one RTP
 * timestamp; its end packets (E bit) come three times. */
struct stream_dtmf {
	uint32_t ts;     /* the event's RTP timestamp */
	uint16_t dur;    /* the longest duration seen, in timestamp units */
	uint8_t event;   /* 0-9, * (10), # (11), A-D (12-15), flash (16) */
	uint8_t state;   /* enum stream_dtmf_state */
};
enum stream_dtmf_state { STREAM_DTMF_IDLE = 0, STREAM_DTMF_ACTIVE = 1, STREAM_DTMF_REPORTED = 2 };

/* Our own RTP source towards a peer (ECHO back to the sender, RELAY with translation):
 * continuous sequence numbers and timestamps across changes of the sender's SSRC. Owner only. */
struct stream_src {
	uint32_t in_ssrc;     /* SSRC of the sender we follow */
	uint32_t ts_offset;   /* added to the sender's timestamp */
	uint32_t last_out_ts; /* last timestamp we sent */
	uint16_t out_seq;     /* next sequence number we send */
	uint8_t started;      /* a packet has been sent */
};

#define STREAM_OWNER_RESETTING 0x8000u

/* The run-time state of a stream. [o] = written only by the owner worker; read by the other
 * leg's worker ([x]) or the control plane ([cp]) as noted. */
struct stream_state {
	/* first cache line: what every RTP packet reads or writes, on its own stream (and, for
	 * owner and peer, on the other leg's when relaying towards it) */
	/* claimed by a worker with one CAS: stream id << 16 | (worker + 1), with
	 * STREAM_OWNER_RESETTING while the new owner clears what an older stream id left;
	 * 0 = never. Whoever reads the state checks that it belongs to the stream id of the
	 * config in hand first. */
	_Atomic uint64_t owner;
	/* [o] latched RTP peer (stream_peer_word); [x] read by the worker relaying towards it,
	 * [cp] */
	_Atomic uint64_t peer;
	/* [o] under stats_seq: what a received RTP packet updates; [cp] reads a snapshot */
	seqlock_t stats_seq;
	ctr32_t rtp_received;  /* RFC 3550 received, expected and jitter (timestamp units) */
	ctr32_t rtp_expected;
	ctr32_t rtp_jitter;
	ctr_t rx_pkts, rx_bytes;
	ctr_t last_rx_tsc;     /* rte_rdtsc() of the last RTP packet's burst, 0 = none */
	/* [o], [cp] reads it word by word */
	ctr_t tx_pkts;         /* RTP sent: ECHO back to the sender; RELAY: received here and
				* sent on from the other leg (every counter a worker writes
				* lives in the stream it received on) */
	/* second cache line: [o] only, every RTP packet */
	struct rtp_stats rtp;
	/* [o]; [x] and [cp] read it like peer */
	_Atomic uint64_t rtcp_peer;
	/* [o] counters outside the seqlock, [cp] reads them word by word */
	ctr_t rtcp_pkts;       /* RTCP accepted (consumed, or relayed on RELAY) */
	ctr_t wrong_source;    /* packets dropped: not from the latched peer */
	struct stream_dtmf dtmf; /* [o] the RFC 4733 event being received */
	/* third cache line: [o], only where translation, errors, RTCP or voice activity need it */
	ctr_t drops;           /* malformed RTP, media direction, no destination */
	struct stream_src src;
	/* [o] peer learning, [0] RTP and [1] RTCP: when the peer was latched in this latch
	 * generation (rte_rdtsc) and how well it matched the SDP (enum stream_latch_rank);
	 * within STREAM_LEARN_MS of latch_tsc a better-matching source takes the peer over */
	uint64_t latch_tsc[2];
	/* [o] RELAY: the last RTCP sender report relayed from this leg's peer (rtcp_sr_word:
	 * NTP middle bits, when, in microseconds); [x] read by the other leg's worker, whose
	 * peer's report blocks name it */
	_Atomic uint64_t last_sr;
	/* [o] voice activity (cfg->vad): rte_rdtsc() of the last packet whose audio was above
	 * the voice threshold, 0 = none yet; [cp] reads it */
	ctr_t last_talk_tsc;
	/* [o] RELAY: round trip between mgw and this leg's peer from its RTCP report blocks,
	 * microseconds, 0 = not known; [cp] reads it */
	ctr32_t rtt_us;
	uint8_t latch_rank[2];
	/* [o] voice activity: the peer talks (its last voice less than STREAM_TALK_HANGOVER_MS
	 * ago) */
	uint8_t talking;
} __attribute__((aligned(64)));

/* Voice activity events (cfg->vad with STREAM_VAD_EVENTS): talk on the first packet with
 * voice, silence once no packet has had any for this long. */
#define STREAM_TALK_HANGOVER_MS 500

/* How well a source matches the SDP peer, for learning. */
enum stream_latch_rank {
	STREAM_RANK_OTHER = 0,  /* another address (NAT, or not the peer at all) */
	STREAM_RANK_IP = 1,     /* the SDP's IP, another port (NAT keeping the address) */
	STREAM_RANK_EXACT = 2,  /* the SDP's address and port */
};

/* The learning window: for this long after a stream latched, a source that matches the SDP
 * better (exact address over same IP over anything) takes the peer over; then the peer is
 * fixed until the SDP peer moves (latch_gen). A stranger that spoke first cannot keep a
 * stream whose real peer speaks from its signalled address; nobody can take a stream over
 * mid-call. */
#define STREAM_LEARN_MS 3000

/* The configuration of a stream. [cp], immutable once published. */
struct stream_cfg {
	uint64_t id;          /* the stream id: the same for every config of one endpoint, and
			       * never reused (the state belongs to it) */
	uint32_t local_ip;    /* network order */
	uint16_t local_port;  /* host order, even */
	uint8_t addr_idx;     /* index of local_ip in the table's address list */
	uint8_t port_idx;     /* index of the DPDK port this address lives on */
	uint8_t action;       /* enum stream_action */
	uint8_t dir;          /* STREAM_DIR_* */
	uint8_t latch;        /* enum stream_latch */
	uint8_t translate;    /* RELAY: send with the other leg's own SSRC/seq/ts */
	uint16_t latch_gen;   /* a new value voids the latched peers (the SDP peer moved) */
	uint8_t remap;        /* RELAY: xmap differs from the identity */
	uint8_t te_pt;        /* the payload type of telephone-event (RFC 4733) the peer sends,
			       * 0 = none: its events are reported to the control plane */
	uint32_t peer_ip;     /* from SDP, network order, 0 = unknown */
	uint16_t peer_port;   /* from SDP, network order */
	uint16_t seq_base;    /* our first sequence number */
	uint32_t ts_mult;     /* arrival time in RTP clock units = (tsc * ts_mult) >> 32 */
	struct stream_pt_map xmap; /* RELAY: payload types renumbered / G.711 converted on the
				    * way to the other leg */
	uint8_t vad;          /* STREAM_VAD_*: the G.711 payload type whose level the worker
			       * watches (voice activity), 0 = none */
	uint8_t inband;       /* STREAM_VAD_*: the G.711 payload type in which the worker listens
			       * for in-band DTMF (only on streams without te_pt), 0 = none */
	/* RELAY: the other leg. The two legs of a pair point at each other and are published,
	 * replaced and retired together, so a worker holding one may use the other until its
	 * next quiescent state. other_st is the other leg's state (its latched peers). */
	const struct stream_cfg *other;
	struct stream_state *other_st;
	/* second cache line: what only translation and the control plane read */
	uint32_t ssrc;        /* our SSRC when we are the RTP source */
	uint32_t ts_base;     /* our first timestamp */
	/* what mgw's player sends on the stream (dir has STREAM_DIR_PLAY), NULL = nothing; the
	 * owner worker plays it once told (MSG_CMD_PLAY) and stops when a config no longer
	 * carries it */
	const struct stream_play *play;
	/* RELAY (with remap): the packets received here are transcoded on their way to the
	 * other leg (xmap then says only what the pass-through would), NULL = not */
	struct stream_xcode *xcode;
	/* [cp] reclamation */
	struct stream_cfg *retired_next;
	void (*retired)(struct stream_cfg *cfg); /* called after the grace period, and then owns
						  * @cfg; NULL: the config is freed */
	void *retired_ctx;
} __attribute__((aligned(64)));

/* mgw terminates the stream's RTCP (consumes its peer's, sends reports of its own): where it
 * terminates the media (ECHO) and on transcoded relays, whose packets are mgw's own source
 * (the peers' reports would describe streams the other peer never sees). */
static inline bool stream_rtcp_terminated(const struct stream_cfg *c)
{
	return c->action == STREAM_ECHO ||
	       (c->action == STREAM_RELAY && c->xcode && c->other && c->other->xcode);
}

/* The hot path counts on these: one line of config and two of state per packet. */
_Static_assert(sizeof(struct stream_state) == 192, "three cache lines of state per stream");
_Static_assert(offsetof(struct stream_cfg, other_st) + sizeof(void *) <= 64,
	       "a relayed packet's config fits one cache line");
_Static_assert(offsetof(struct stream_state, rtp) == 64 &&
	       offsetof(struct stream_state, dtmf) + sizeof(struct stream_dtmf) <= 128,
	       "a stream's per-packet state fits two cache lines");

#define STREAM_TABLE_MAX_ADDRS 64
#define STREAM_SLOTS_PER_ADDR 32768 /* one per even port */
#define STREAM_ID_MAX ((UINT64_C(1) << 48) - 1)

struct stream_table {
	unsigned n_addrs;                                /* [cp] set before workers start */
	uint32_t base_h;                                 /* first address, host order */
	uint8_t contiguous;                              /* addrs[i] == base + i */
	uint32_t addrs[STREAM_TABLE_MAX_ADDRS];          /* network order */
	/* [cp] published config pointers, per address, indexed by port / 2 */
	struct stream_cfg *_Atomic *cfg[STREAM_TABLE_MAX_ADDRS];
	/* per address, indexed by port / 2: [o] for each state's owner */
	struct stream_state *state[STREAM_TABLE_MAX_ADDRS];
	unsigned n_streams;                              /* [cp] */
	struct stream_cfg *retired;                      /* [cp] waiting for a grace period */
	unsigned n_retired;                              /* [cp] */
};

/** Create a table for the media addresses @addrs (network order). NULL on failure. */
struct stream_table *stream_table_create(const uint32_t *addrs, unsigned n_addrs);
/** Free the table (and what is retired). Every stream must have been removed. */
void stream_table_destroy(struct stream_table *t);
/** Wait for a grace period, then free (or hand to their ->retired callback) the configs
 *  retired before the call. Returns how many. Control plane, on its own thread; it blocks for
 *  the grace period (workers pass a quiescent state every poll loop; a sleeping worker is
 *  offline). */
unsigned stream_table_reclaim(struct stream_table *t);

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

/** The slot of (@addr_idx, @port host order, RTP or RTCP), for prefetching. */
static inline struct stream_cfg *_Atomic *stream_table_slot(const struct stream_table *t,
							    int addr_idx, uint16_t port)
{
	return &t->cfg[addr_idx][port >> 1];
}

/** Worker lookup: the published config on (@addr_idx, @port), or NULL. */
static inline const struct stream_cfg *stream_table_lookup(const struct stream_table *t,
							   int addr_idx, uint16_t port)
{
	return atomic_load_explicit(stream_table_slot(t, addr_idx, port), memory_order_acquire);
}

/** The state of (@addr_idx, @port): no load, so a burst can prefetch it with the slot. */
static inline struct stream_state *stream_table_state(const struct stream_table *t, int addr_idx,
						      uint16_t port)
{
	return &t->state[addr_idx][port >> 1];
}

/** Allocate a config (zeroed, cache-aligned) for the control plane to fill in. */
struct stream_cfg *stream_cfg_alloc(void);
/** Free a config (and its reference to its play, freeing the play with its last one). */
void stream_cfg_free(struct stream_cfg *cfg);
/** A copy of @c, ready to be published in its place: everything but the reclamation fields;
 *  the play (if any) gains a reference. NULL when out of memory. Control plane. */
struct stream_cfg *stream_cfg_dup(const struct stream_cfg *c);
/** Take a reference to @play for a config that is going to carry it. Control plane. */
static inline const struct stream_play *stream_play_ref(struct stream_play *play)
{
	if (play)
		play->refs++;
	return play;
}

/** Take a reference to @x for a config that is going to carry it. Control plane. */
static inline struct stream_xcode *stream_xcode_ref(struct stream_xcode *x)
{
	if (x)
		x->refs++;
	return x;
}

/** Publish @c at its (local_ip, local_port), replacing what is there (retired after a grace
 *  period). Returns 0, or -EINVAL if local_ip is not a table address. Control plane only. */
int stream_table_publish(struct stream_table *t, struct stream_cfg *c);
/** Unpublish the config at (@ip, @port) and retire it after a grace period. Returns 0 or
 *  -ENOENT. Control plane only. */
int stream_table_del(struct stream_table *t, uint32_t ip, uint16_t port);
/** The published config, for the control plane's own reads, or NULL. */
const struct stream_cfg *stream_table_get(const struct stream_table *t, uint32_t ip,
					  uint16_t port);

/** A reader's quiescent state (workers once per poll loop, the control thread once per
 *  loop): rcu_quiescent_state(), made visible to ThreadSanitizer builds. */
void stream_rcu_quiescent(void);
/** rcu_thread_offline(), likewise (before a reader waits). */
void stream_rcu_offline(void);

/* Statistics of one stream as the control plane sees them: a consistent snapshot. */
struct stream_stats {
	uint64_t peer, rtcp_peer;      /* latched, stream_peer_word, 0 = none */
	uint64_t rx_pkts, rx_bytes, tx_pkts, rtcp_pkts, wrong_source, drops;
	uint64_t last_rx_tsc;
	uint32_t rtp_received, rtp_expected, rtp_jitter;
	int64_t rtp_lost;              /* expected - received (negative with duplicates) */
	uint32_t rtt_us;               /* mgw <-> peer round trip from RTCP, 0 = not known */
	uint64_t last_talk_tsc;        /* last packet above the voice threshold, 0 = none */
};

/** Snapshot the state of stream @c (control plane). All zero while no worker has handled a
 *  packet of @c's stream id. */
void stream_stats_read(const struct stream_table *t, const struct stream_cfg *c,
		       struct stream_stats *out);

#endif
