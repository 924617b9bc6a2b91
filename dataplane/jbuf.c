#include "dataplane/jbuf.h"

#include <string.h>

/* Beyond this far behind the playout, a packet is not late but from a sender that started
 * over (a new sequence): the buffer starts over with it too. */
#define JB_BEHIND_RESET 1000

void jb_init(struct jbuf *jb)
{
	memset(jb, 0, sizeof(*jb));
}

static void jb_flush(struct jbuf *jb)
{
	for (unsigned i = 0; i < JB_SLOTS; i++)
		jb->slot[i].used = 0;
	jb->n = 0;
	jb->started = 0;
	jb->empty_run = 0;
	jb->win_steps = 0;
	jb->win_min = 0xff;
}

static inline struct jb_slot *jb_slot_of(struct jbuf *jb, uint16_t seq)
{
	return &jb->slot[seq % JB_SLOTS];
}

enum jb_put_result jb_put(struct jbuf *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
			  const uint8_t *data, size_t len)
{
	enum jb_put_result r = JB_PUT_OK;
	if (len > JB_FRAME_MAX) {
		jb->st.too_big++;
		return JB_PUT_TOO_BIG;
	}
	if (jb->started) {
		int16_t ahead = (int16_t)(uint16_t)(seq - jb->next_seq);
		if (ssrc != jb->ssrc || ahead >= JB_SLOTS || ahead < -JB_BEHIND_RESET) {
			jb_flush(jb);
			jb->st.reset++;
			r = JB_PUT_RESET;
		} else if (ahead < 0) {
			jb->st.late++;
			return JB_PUT_LATE;
		}
	}
	if (!jb->started) {
		jb->started = 1;
		jb->ssrc = ssrc;
		jb->next_seq = seq;
		jb->win_min = 0xff;
	}
	struct jb_slot *s = jb_slot_of(jb, seq);
	if (s->used) { /* within the window, so the same sequence number */
		jb->st.dup++;
		return JB_PUT_DUP;
	}
	s->used = 1;
	s->seq = seq;
	s->ts = ts;
	s->len = (uint16_t)len;
	memcpy(s->data, data, len);
	jb->n++;
	jb->empty_run = 0;
	return r;
}

/* Give the packet due up (played, lost, or dropped to shrink). */
static void jb_advance(struct jbuf *jb)
{
	struct jb_slot *s = jb_slot_of(jb, jb->next_seq);
	if (s->used) {
		s->used = 0;
		jb->n--;
	}
	jb->next_seq++;
}

/* The lowest fill over a window: above the slack all along, the delay can lose a packet. */
static void jb_watch(struct jbuf *jb)
{
	if (jb->n < jb->win_min)
		jb->win_min = jb->n;
	if (++jb->win_steps < JB_WINDOW)
		return;
	if (jb->win_min != 0xff && jb->win_min > JB_SLACK && jb->n > JB_SLACK) {
		jb_advance(jb);
		jb->st.shrunk++;
	}
	jb->win_steps = 0;
	jb->win_min = 0xff;
}

enum jb_step jb_step(struct jbuf *jb, struct jb_out *out)
{
	out->pkt = out->next = NULL;
	if (!jb->started || jb->n == 0) {
		if (jb->started && ++jb->empty_run >= JB_IDLE_STEPS) {
			jb_flush(jb);
			return JB_IDLE;
		}
		if (jb->started) {
			jb->st.underrun++;
			jb->win_min = 0; /* the buffer ran dry: no shrinking in this window */
		}
		return jb->started ? JB_EMPTY : JB_IDLE;
	}
	jb->empty_run = 0;
	jb_watch(jb);
	struct jb_slot *s = jb_slot_of(jb, jb->next_seq);
	if (s->used && s->seq == jb->next_seq) {
		jb->st.played++;
		s->used = 0;
		jb->n--;
		jb->next_seq++;
		out->pkt = s; /* its bytes stay until a put reuses the slot */
		return JB_PLAY;
	}
	/* missing, and later packets are held: lost (a late arrival finds its place passed) */
	jb->next_seq++;
	struct jb_slot *nx = jb_slot_of(jb, jb->next_seq);
	if (nx->used && nx->seq == jb->next_seq)
		out->next = nx;
	jb->st.lost++;
	return JB_LOSS;
}
