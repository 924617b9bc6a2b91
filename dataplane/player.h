/* player: mgw as a paced RTP source on its worker. A stream whose config carries a play
 * (stream_cfg.play: a prompt, or RFC 4733 digits) is played by the worker that owns the
 * stream's state: one packet per ptime, due on the TSC, with the stream's SSRC, sequence
 * numbers that continue the stream's own, timestamps that advance by the samples sent, and
 * the marker bit on the first packet of a play (and of each RFC 4733 event).
 *
 * The control plane publishes a config carrying the play, then tells the owner worker
 * (MSG_CMD_PLAY). The worker keeps each playing stream in a timing wheel of PLAYER_TICK_US
 * slots, so a loop costs nothing while no packet is due and one visit per packet sent. A
 * play stops when it ends (reported, MSG_EV_PLAY) or when the stream's published config no
 * longer carries it (stopped, replaced or the stream removed: nothing reported, the control
 * plane knows). Everything here belongs to the worker's thread. */
#ifndef MGW_PLAYER_H
#define MGW_PLAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "shared/msg.h"
#include "shared/stream.h"

struct dp_worker;

#define PLAYER_TICK_US 250
#define PLAYER_SLOTS 512 /* a wheel turn: 128 ms, more than the longest ptime */
#define PLAYER_MAX 65536 /* streams one worker plays at once */
/* The longest one poll works through due entries before the worker's loop goes back to its
 * receive queues (a wheel slot of transcoding ticks can take milliseconds). */
#define PLAYER_POLL_BUDGET_US 50
#define PLAYER_XCODE_CATCHUP 4 /* packets a transcoding direction sends at once to catch up */

struct player_entry {
	uint64_t stream_id;
	uint64_t due;        /* rte_rdtsc() when the next frame is due */
	uint32_t gen;        /* the play's gen (a config carrying another play stops this one) */
	uint32_t frame;      /* next frame of the play */
	uint32_t ts0;        /* RTP timestamp of frame 0 */
	uint32_t sent;
	uint32_t ssrc;       /* the SSRC it sends with */
	int32_t next;        /* next entry in the same wheel slot, or the free list; -1 = end */
	uint16_t port;       /* the stream's local port, host order */
	uint16_t seq;        /* next sequence number */
	uint8_t addr_idx;
	uint8_t kind;        /* PLAYER_KIND_* */
};
#define PLAYER_KIND_PLAY 0  /* the stream's play (cfg->play, gen) */
#define PLAYER_KIND_XCODE 1 /* the stream's transcoding direction's ticks (cfg->xcode, gen) */

/* Where a relay leg's player source left off (its last sequence number), for its next play:
 * a direct-mapped cache by stream id, PLAYER_SRC_CACHE entries. */
#define PLAYER_SRC_CACHE 4096
struct player_src {
	uint64_t stream_id;
	uint16_t seq;
};

struct player {
	struct player_entry *e;   /* PLAYER_MAX */
	struct player_src src[PLAYER_SRC_CACHE];
	int32_t slot[PLAYER_SLOTS];
	int32_t free;
	int32_t pending;          /* due entries a poll ran out of time for, -1 = none */
	uint32_t n;               /* streams playing */
	uint64_t tick;            /* the last tick handled */
	uint64_t next_tsc;        /* where the next tick begins */
	uint64_t tsc_tick;        /* TSC ticks per wheel tick */
	uint64_t tsc_ms;          /* TSC ticks per millisecond */
	uint64_t tsc_budget;      /* TSC ticks of PLAYER_POLL_BUDGET_US */
};

/** Allocate a worker's player. Returns 0 or -1. */
int player_init(struct player *pl, uint64_t tsc_hz);
void player_free(struct player *pl);
/** MSG_CMD_PLAY: start playing what the stream's config carries. */
void player_start(struct dp_worker *w, const struct msg_cmd *cmd);
/** Tick @c's transcoding direction (xcode_tick) every out packet time, the first @delay_ms
 *  after @now, until it pauses or a config no longer carries it. Returns 0, or -1 when the
 *  wheel is full. */
int player_xcode_start(struct dp_worker *w, const struct stream_cfg *c, uint64_t now,
		       unsigned delay_ms);
/** Send what is due. Every poll loop; nothing to do costs a load and a compare. */
void player_poll(struct dp_worker *w);

/* What one frame of a play sends, computed from the play alone (no packet, no state), so
 * that tests can check it. */
struct play_frame {
	uint32_t ts_off;      /* RTP timestamp, from the play's start */
	uint16_t len;         /* payload bytes written (0: nothing to send in this frame) */
	bool marker;
};
#define PLAY_FRAME_MAX 480 /* the longest ptime's G.711 samples */
/** Frame @f of @p: its payload written to @payload (room for PLAY_FRAME_MAX bytes). Returns
 *  1, or 0 when the play has ended before frame @f. */
int play_frame(const struct stream_play *p, uint32_t f, uint8_t *payload, struct play_frame *out);
/** RFC 4733 event code of DTMF character @c (0-9 * # A-D), -1 for anything else. */
int play_dtmf_event(char c);

#endif
