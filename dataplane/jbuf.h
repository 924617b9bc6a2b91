/* jbuf: the adaptive jitter buffer in front of a decoder. Packets go in as they arrive, in any
 * order; the playout takes one packet per packet time on its own clock (xcode.c's ticks), in
 * sequence order, and learns what to do with each step: play a packet, conceal a lost one
 * (the packet after it is at hand, for Opus's FEC), or nothing to play yet.
 *
 * Adaptive both ways: a step that finds the buffer empty keeps its place, so the delay grows
 * by one packet and a packet that was merely late still plays; a buffer that never held fewer
 * than JB_SLACK + 1 packets over a window of JB_WINDOW steps gives one packet up, so the delay
 * shrinks again once the jitter has calmed. A sender whose clock runs faster or slower than
 * ours is absorbed the same way. Sequence numbers order the packets (16-bit arithmetic, so a
 * wrap is nothing special); a new SSRC, or a jump further than the buffer holds, starts over.
 *
 * One jitter buffer belongs to one direction of a call and to the worker that owns its
 * receiving stream; it makes no system call and allocates nothing. */
#ifndef MGW_JBUF_H
#define MGW_JBUF_H

#include <stddef.h>
#include <stdint.h>

#define JB_SLOTS 16        /* packets held at most: 320 ms of 20 ms packets */
#define JB_FRAME_MAX 480   /* the largest payload held (60 ms of G.711) */
#define JB_WINDOW 50       /* playout steps over which the buffer's lowest fill is watched */
#define JB_SLACK 2         /* packets the buffer may always hold before it shrinks */
#define JB_IDLE_STEPS 5    /* empty steps in a row after which the stream is taken as paused */

struct jb_slot {
	uint32_t ts;
	uint16_t seq;
	uint16_t len;
	uint8_t used;
	uint8_t data[JB_FRAME_MAX];
};

/* What a jitter buffer has seen; the owner worker writes, the control plane may read them
 * word by word (approximate). */
struct jb_stats {
	uint32_t played, lost, late, dup, too_big, reset, shrunk, underrun;
};

struct jbuf {
	uint32_t ssrc;
	uint16_t next_seq;   /* the packet the next step plays */
	uint8_t started;     /* a packet has set next_seq */
	uint8_t n;           /* packets held */
	uint8_t empty_run;   /* steps in a row that found nothing */
	uint8_t win_min;     /* the lowest fill seen in this window */
	uint16_t win_steps;
	struct jb_stats st;
	struct jb_slot slot[JB_SLOTS];
};

enum jb_put_result { JB_PUT_OK = 0, JB_PUT_LATE, JB_PUT_DUP, JB_PUT_TOO_BIG, JB_PUT_RESET };

enum jb_step {
	JB_PLAY = 0,  /* out->pkt is the packet to decode */
	JB_LOSS = 1,  /* the packet due is lost: conceal it (out->next: the one after, if held) */
	JB_EMPTY = 2, /* nothing held: conceal, the delay grows by a packet */
	JB_IDLE = 3,  /* nothing for JB_IDLE_STEPS steps: the sender paused; the buffer starts
		       * over with the next packet */
};

struct jb_out {
	const struct jb_slot *pkt;  /* JB_PLAY; valid until the next jb_put or jb_step */
	const struct jb_slot *next; /* JB_LOSS: the following packet when held, else NULL */
};

void jb_init(struct jbuf *jb);
/** A packet arrived. Returns what became of it (all but OK and RESET: not kept, counted). */
enum jb_put_result jb_put(struct jbuf *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
			  const uint8_t *data, size_t len);
/** One playout step: what to play now. */
enum jb_step jb_step(struct jbuf *jb, struct jb_out *out);

#endif
