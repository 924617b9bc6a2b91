#include "dataplane/player.h"

#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include "dataplane/actions/xcode.h"
#include "dataplane/net.h"
#include "dataplane/rtp.h"
#include "dataplane/worker.h"

#define RTP_CLOCK_KHZ 8 /* G.711 and telephone-event alongside it */
#define DTMF_END_PACKETS 3 /* RFC 4733 2.5.1.4: the end packet, sent three times */
#define PLAYER_BATCH 32    /* entries of a wheel slot prefetched together */

int play_dtmf_event(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	switch (c) {
	case '*': return 10;
	case '#': return 11;
	case 'A': case 'a': return 12;
	case 'B': case 'b': return 13;
	case 'C': case 'c': return 14;
	case 'D': case 'd': return 15;
	default: return -1;
	}
}

/* A prompt's silence, for the rest of a last frame (G.722: a byte its encoder gives for
 * silence; ADPCM has no single one). */
static uint8_t play_silence(uint8_t pt)
{
	return pt == 8 ? 0xd5 : pt == 9 ? 0xfa : 0xff;
}

static int play_frame_audio(const struct stream_play *p, uint32_t f, uint8_t *out,
			    struct play_frame *fr)
{
	const struct stream_prompt *pr = p->prompt;
	uint32_t spf = pr && pr->pkt ? STREAM_PROMPT_PACKET : p->ptime_ms * RTP_CLOCK_KHZ;
	if (!pr || pr->n_samples == 0)
		return 0;
	uint32_t frame = pr->frame ? pr->frame : 1;
	uint32_t ts_mult = pr->ts_mult ? pr->ts_mult : 1;
	uint64_t start = (uint64_t)f * spf;
	uint64_t total = p->loops ? (uint64_t)p->loops * pr->n_samples : UINT64_MAX;
	if (p->limit && p->limit < total)
		total = p->limit - p->limit % frame; /* cut at a frame's end */
	if (start >= total)
		return 0;
	uint32_t pos = (uint32_t)(start % pr->n_samples);
	if (pr->pkt) { /* one packet of its own size */
		uint32_t i = pos / STREAM_PROMPT_PACKET, len = pr->pkt[i + 1] - pr->pkt[i];
		memcpy(out, pr->data + pr->pkt[i], len);
		fr->ts_off = (uint32_t)start * ts_mult;
		fr->len = (uint16_t)len;
		fr->marker = f == 0;
		return 1;
	}
	uint32_t left = total - start < spf ? (uint32_t)(total - start) : spf;
	uint32_t n = 0;
	while (n < left) { /* a looped prompt runs on into its beginning */
		uint32_t k = pr->n_samples - pos < left - n ? pr->n_samples - pos : left - n;
		memcpy(out + (n >> pr->shift), pr->data + (pos >> pr->shift), k >> pr->shift);
		n += k;
		pos = 0;
	}
	/* a last packet's rest: silence, or (frames of a codec) a shorter packet */
	if (n < spf && !pr->shift)
		memset(out + n, play_silence(pr->pt), spf - n);
	else
		spf = n;
	fr->ts_off = (uint32_t)start * ts_mult;
	fr->len = (uint16_t)(spf >> pr->shift);
	fr->marker = f == 0;
	return 1;
}

/* Digits: each one is digit_ms of event packets (one per frame, the duration growing), its
 * end packet three times, then nothing until the gap has passed; the next digit's event starts
 * gap_ms after the previous one's end. */
static int play_frame_dtmf(const struct stream_play *p, uint32_t f, uint8_t *out,
			   struct play_frame *fr)
{
	uint32_t n_on = (p->digit_ms + p->ptime_ms - 1) / p->ptime_ms;
	uint32_t n_gap = (p->gap_ms + p->ptime_ms - 1) / p->ptime_ms;
	if (n_on == 0)
		n_on = 1;
	if (n_gap < DTMF_END_PACKETS - 1)
		n_gap = DTMF_END_PACKETS - 1;
	uint32_t per = n_on + n_gap, spf = p->ptime_ms * RTP_CLOCK_KHZ;
	uint32_t d = f / per, k = f % per;
	size_t nd = strnlen(p->digits, STREAM_PLAY_DIGITS_MAX);
	if (d >= nd)
		return 0;
	int ev = play_dtmf_event(p->digits[d]);
	fr->ts_off = d * per * spf;
	fr->len = 0;
	fr->marker = false;
	if (ev < 0 || k >= n_on + DTMF_END_PACKETS - 1)
		return 1; /* the gap: nothing to send */
	bool end = k >= n_on - 1;
	uint32_t dur = (end ? n_on : k + 1) * spf;
	out[0] = (uint8_t)ev;
	out[1] = (uint8_t)((end ? 0x80 : 0) | (p->volume & 0x3f));
	out[2] = (uint8_t)(dur >> 8);
	out[3] = (uint8_t)dur;
	fr->len = 4;
	fr->marker = k == 0;
	return 1;
}

int play_frame(const struct stream_play *p, uint32_t f, uint8_t *payload, struct play_frame *out)
{
	if (p->ptime_ms == 0 || p->ptime_ms * RTP_CLOCK_KHZ > PLAY_FRAME_MAX)
		return 0;
	if (p->kind == STREAM_PLAY_AUDIO)
		return play_frame_audio(p, f, payload, out);
	if (p->kind == STREAM_PLAY_DTMF)
		return play_frame_dtmf(p, f, payload, out);
	return 0;
}

int player_init(struct player *pl, uint64_t tsc_hz)
{
	memset(pl, 0, sizeof(*pl));
	pl->e = calloc(PLAYER_MAX, sizeof(*pl->e));
	if (!pl->e)
		return -1;
	for (int32_t i = 0; i < PLAYER_MAX; i++)
		pl->e[i].next = i + 1 < PLAYER_MAX ? i + 1 : -1;
	pl->free = 0;
	pl->pending = -1;
	for (unsigned i = 0; i < PLAYER_SLOTS; i++)
		pl->slot[i] = -1;
	pl->tsc_ms = tsc_hz / 1000;
	pl->tsc_budget = tsc_hz / 1000000 * PLAYER_POLL_BUDGET_US;
	pl->tsc_tick = tsc_hz / 1000000 * PLAYER_TICK_US;
	if (pl->tsc_tick == 0)
		pl->tsc_tick = 1;
	return 0;
}

void player_free(struct player *pl)
{
	free(pl->e);
	pl->e = NULL;
}

static void player_event(struct dp_worker *w, const struct msg_cmd *c, uint32_t gen,
			 uint8_t status, uint8_t owner, uint32_t sent)
{
	struct msg_event ev = {
		.type = MSG_EV_PLAY,
		.worker = (uint16_t)w->id,
		.local_port = c ? c->port : 0,
		.local_ip = c ? dp.table->addrs[c->addr_idx] : 0,
		.peer_ip = gen,
		.stream_id = c ? c->stream_id : 0,
		.play = {.status = status, .owner = owner, .packets = sent},
	};
	dp_event(w, &ev);
}

static void player_insert(struct player *pl, int32_t i)
{
	struct player_entry *e = &pl->e[i];
	uint32_t s = (uint32_t)((e->due / pl->tsc_tick) % PLAYER_SLOTS);
	e->next = pl->slot[s];
	pl->slot[s] = i;
}

/* The config of entry @e's stream if it still carries the entry's play, else NULL. */
static const struct stream_cfg *player_cfg(const struct player_entry *e)
{
	const struct stream_cfg *c = stream_table_lookup(dp.table, e->addr_idx, e->port);
	if (!c || c->id != e->stream_id || !c->play || c->play->gen != e->gen)
		return NULL;
	return c;
}

/* A free entry, or -1 when the wheel is full. */
static int32_t player_take(struct player *pl)
{
	if (!pl->e || pl->free < 0)
		return -1;
	int32_t i = pl->free;
	pl->free = pl->e[i].next;
	return i;
}

/* The first entry of an empty wheel sets its clock to @now. */
static void player_open(struct player *pl, uint64_t now)
{
	if (pl->n == 0) {
		pl->tick = now / pl->tsc_tick;
		pl->next_tsc = (pl->tick + 1) * pl->tsc_tick;
	}
}

/* Entry @i, its due time set, joins the wheel. */
static void player_add(struct player *pl, int32_t i)
{
	player_insert(pl, i);
	pl->n++;
}

void player_start(struct dp_worker *w, const struct msg_cmd *cmd)
{
	struct player *pl = &w->player;
	if (!pl->e || cmd->addr_idx >= dp.table->n_addrs)
		return;
	struct player_entry probe = {.stream_id = cmd->stream_id, .gen = cmd->arg,
				     .addr_idx = cmd->addr_idx, .port = cmd->port};
	const struct stream_cfg *c = player_cfg(&probe);
	if (!c)
		return; /* stopped or replaced before it began */
	struct stream_state *st = stream_table_state(dp.table, cmd->addr_idx, cmd->port);
	int owner = net_stream_claim(w, c, st);
	if (owner >= 0) {
		player_event(w, cmd, cmd->arg, MSG_PLAY_MOVED, (uint8_t)owner, 0);
		return;
	}
	int32_t i = player_take(pl);
	if (i < 0) {
		player_event(w, cmd, cmd->arg, MSG_PLAY_FULL, 0, 0);
		return;
	}
	struct player_entry *e = &pl->e[i];
	*e = probe;
	/* On an echo stream the player is the stream's own RTP source going on: the sequence
	 * numbers continue, the timestamps follow the last one sent (echo's or an earlier
	 * play's), and echo takes the timeline up after it. On a relay the stream's source
	 * towards its peer is the other leg's (its state, its worker): the player is a source
	 * of its own there, with an SSRC of its own, as RFC 3550 has every source keep its own
	 * sequence. */
	uint32_t spf = c->play->ptime_ms * RTP_CLOCK_KHZ;
	e->ssrc = c->ssrc;
	if (c->action != STREAM_ECHO) {
		/* its timestamps from the clock, so that plays one after another (digits) have
		 * their own instants; its sequence numbers go on from its last play when the
		 * worker still remembers it */
		struct player_src *ps = &pl->src[cmd->stream_id % PLAYER_SRC_CACHE];
		e->ssrc = ~c->ssrc;
		e->seq = ps->stream_id == cmd->stream_id ? ps->seq : c->seq_base;
		e->ts0 = c->ts_base + rtp_arrival(rte_rdtsc(), c->ts_mult);
	} else if (st->src.started) {
		e->seq = st->src.out_seq;
		e->ts0 = st->src.last_out_ts + spf;
	} else {
		e->seq = c->seq_base;
		e->ts0 = c->ts_base;
	}
	player_open(pl, rte_rdtsc());
	/* The first frame within one ptime, at a phase the stream id picks: plays started
	 * together (a batch of announcements) spread over the ticks of a period instead of
	 * leaving in one burst every period. */
	uint64_t ticks = pl->tsc_ms * c->play->ptime_ms / pl->tsc_tick;
	uint64_t phase = ticks ? (uint64_t)(uint32_t)(cmd->stream_id * 2654435761u) % ticks : 0;
	e->due = (pl->tick + 1 + phase) * pl->tsc_tick;
	player_add(pl, i);
}

int player_xcode_start(struct dp_worker *w, const struct stream_cfg *c, uint64_t now,
		       unsigned delay_ms)
{
	struct player *pl = &w->player;
	int32_t i = player_take(pl);
	if (i < 0)
		return -1;
	struct player_entry *e = &pl->e[i];
	*e = (struct player_entry){.stream_id = c->id, .gen = c->xcode->gen,
				   .addr_idx = c->addr_idx, .port = c->local_port,
				   .kind = PLAYER_KIND_XCODE};
	player_open(pl, now);
	e->due = now + pl->tsc_ms * delay_ms;
	if (e->due / pl->tsc_tick <= pl->tick)
		e->due = (pl->tick + 1) * pl->tsc_tick;
	player_add(pl, i);
	return 0;
}

/* Where the player sends: the latched peer, else the SDP's. 0 = nowhere yet. */
static uint64_t player_dest(const struct stream_cfg *c, const struct stream_state *st)
{
	uint64_t peer = atomic_load_explicit(&st->peer, memory_order_relaxed);
	if (stream_peer_valid(peer, c->latch_gen))
		return peer;
	if (!c->peer_ip || !c->peer_port)
		return 0;
	return stream_peer_word(c->peer_ip, c->peer_port, c->latch_gen);
}

#define PLAYER_HDRS (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + \
		     sizeof(struct rte_udp_hdr) + RTP_HDR_LEN)

/* Send frame e->frame of @c's play. Returns 0 while the play goes on, -1 at its end. */
static int player_send(struct dp_worker *w, struct player_entry *e, const struct stream_cfg *c,
		       struct stream_state *st)
{
	struct rte_mbuf *m = dp_alloc();
	if (unlikely(!m)) {
		ctr_inc(&w->stats.play_lost);
		return 0;
	}
	uint8_t *pkt = (uint8_t *)rte_pktmbuf_append(m, PLAYER_HDRS + PLAY_FRAME_MAX);
	struct play_frame fr;
	if (!pkt || !play_frame(c->play, e->frame, pkt + PLAYER_HDRS, &fr)) {
		dp_free(m);
		return pkt ? -1 : 0;
	}
	uint64_t dest = fr.len ? player_dest(c, st) : 0;
	if (!dest) {
		if (fr.len)
			ctr_inc(&w->stats.play_lost); /* no peer known yet */
		dp_free(m);
		return 0;
	}
	rte_pktmbuf_trim(m, (uint16_t)(PLAY_FRAME_MAX - fr.len));
	struct rtp_hdr *rtp = (struct rtp_hdr *)(pkt + PLAYER_HDRS - RTP_HDR_LEN);
	uint32_t ts = e->ts0 + fr.ts_off;
	rtp_write_hdr(rtp, fr.marker, c->play->pt, e->seq, ts, e->ssrc);
	e->seq++;
	e->sent++;
	if (c->action == STREAM_ECHO) { /* echo after the play carries on from here */
		st->src.started = 1;
		st->src.out_seq = e->seq;
		st->src.last_out_ts = ts;
		st->src.in_ssrc = 0; /* echo's next packet takes up this timeline */
	}
	ctr_inc(&st->tx_pkts);
	ctr_inc(&w->stats.played);
	net_output_udp(w, c->port_idx, m, c->local_ip, rte_cpu_to_be_16(c->local_port),
		       stream_peer_ip(dest), stream_peer_port(dest));
	return 0;
}

/* Entry @i is due: send its frame, and put it back in the wheel or let it go. @c: its stream's
 * config as published now. */
static void player_due(struct dp_worker *w, struct player *pl, int32_t i,
		       const struct stream_cfg *c, uint64_t now)
{
	struct player_entry *e = &pl->e[i];
	if (now > e->due && now - e->due > ctr_get(&w->stats.play_late_max))
		ctr_set(&w->stats.play_late_max, now - e->due);
	bool more = false;
	if (e->kind == PLAYER_KIND_XCODE) {
		if (c && c->id == e->stream_id && c->xcode && c->xcode->gen == e->gen) {
			uint64_t t0 = rte_rdtsc();
			struct stream_state *st = stream_table_state(dp.table, e->addr_idx, e->port);
			/* held up for longer than a packet time: the packets missed go out
			 * now, back to back, up to PLAYER_XCODE_CATCHUP of them; past that the
			 * jitter buffer absorbs what was not sent */
			uint64_t period = pl->tsc_ms * c->xcode->out_ptime;
			unsigned runs = 0;
			while (xcode_tick(w, c, st) == 0) {
				e->due += period;
				if (e->due / pl->tsc_tick > pl->tick) {
					more = true;
					break;
				}
				if (++runs == PLAYER_XCODE_CATCHUP) {
					while (e->due / pl->tsc_tick <= pl->tick) {
						e->due += period;
						ctr_inc(&w->stats.xcode_late);
					}
					more = true;
					break;
				}
			}
			ctr_add(&w->stats.xcode_cycles, rte_rdtsc() - t0);
		}
		c = NULL;
	} else if (c && (c->id != e->stream_id || !c->play || c->play->gen != e->gen))
		c = NULL; /* stopped, replaced, or the stream is gone */
	if (c) {
		struct stream_state *st = stream_table_state(dp.table, e->addr_idx, e->port);
		if (player_send(w, e, c, st) == 0) {
			more = true;
			uint64_t period = pl->tsc_ms * c->play->ptime_ms;
			e->frame++;
			e->due += period;
			/* a worker held up for longer than a frame skips what it missed rather than
			 * send a burst: the timestamps keep the timeline */
			while (e->due / pl->tsc_tick <= pl->tick) {
				e->due += period;
				e->frame++;
				ctr_inc(&w->stats.play_lost);
			}
		} else {
			struct msg_cmd at = {.port = e->port, .addr_idx = e->addr_idx,
					     .stream_id = e->stream_id};
			player_event(w, &at, e->gen, MSG_PLAY_DONE, 0, e->sent);
		}
	}
	if (more) {
		player_insert(pl, i);
	} else {
		if (e->kind == PLAYER_KIND_PLAY) {
			struct player_src *ps = &pl->src[e->stream_id % PLAYER_SRC_CACHE];
			ps->stream_id = e->stream_id;
			ps->seq = e->seq;
		}
		e->next = pl->free;
		pl->free = i;
		pl->n--;
	}
}

/* Run the due entries of list @*head (chained by next) until it is empty (returns 1) or the
 * TSC passes @deadline (returns 0: @*head holds what is left, to go on with next loop). In
 * batches, in three passes as the receive path does: table slots and states on their way
 * while the list is walked, then the configs, then the packets. */
static int player_run_list(struct dp_worker *w, struct player *pl, int32_t *head, uint64_t t0,
			   uint64_t deadline)
{
	int32_t i = *head;
	while (i >= 0) {
		int32_t batch[PLAYER_BATCH];
		const struct stream_cfg *cfg[PLAYER_BATCH];
		unsigned n = 0;
		while (i >= 0 && n < PLAYER_BATCH) {
			int32_t cur = i;
			const struct player_entry *e = &pl->e[cur];
			i = e->next;
			if (e->due / pl->tsc_tick > pl->tick) {
				player_insert(pl, cur); /* a later turn's */
				continue;
			}
			if (i >= 0)
				rte_prefetch0(&pl->e[i]);
			rte_prefetch0(stream_table_slot(dp.table, e->addr_idx, e->port));
			rte_prefetch0(stream_table_state(dp.table, e->addr_idx, e->port));
			batch[n++] = cur;
		}
		for (unsigned k = 0; k < n; k++) {
			const struct player_entry *e = &pl->e[batch[k]];
			cfg[k] = stream_table_lookup(dp.table, e->addr_idx, e->port);
			if (cfg[k]) {
				rte_prefetch0(cfg[k]);
				rte_prefetch0((const char *)cfg[k] + RTE_CACHE_LINE_SIZE);
			}
		}
		for (unsigned k = 0; k < n; k++) {
			player_due(w, pl, batch[k], cfg[k], t0);
			if (k + 1 < n && rte_rdtsc() > deadline) {
				/* out of time: the rest of the batch, then the list, wait */
				for (unsigned r = n; r-- > k + 1;) {
					pl->e[batch[r]].next = i;
					i = batch[r];
				}
				*head = i;
				return 0;
			}
		}
		if (i >= 0 && rte_rdtsc() > deadline) {
			*head = i;
			return 0;
		}
	}
	*head = -1;
	return 1;
}

void player_poll(struct dp_worker *w)
{
	struct player *pl = &w->player;
	if (likely(pl->n == 0))
		return;
	uint64_t t0 = rte_rdtsc();
	if (t0 < pl->next_tsc && pl->pending < 0) /* within the tick already handled: a
						   * compare, no division */
		return;
	uint64_t deadline = t0 + pl->tsc_budget, xc0 = ctr_get(&w->stats.xcode_cycles);
	/* a slot's entries left over from the last loop first; the receive path has had its
	 * turn in between */
	if (pl->pending >= 0 && !player_run_list(w, pl, &pl->pending, t0, deadline))
		goto out;
	uint64_t tick = t0 / pl->tsc_tick;
	if (tick - pl->tick > PLAYER_SLOTS)
		pl->tick = tick - PLAYER_SLOTS; /* a long stall: one turn of the wheel is all */
	while (pl->tick < tick) {
		pl->tick++;
		uint32_t s = (uint32_t)(pl->tick % PLAYER_SLOTS);
		int32_t list = pl->slot[s];
		pl->slot[s] = -1;
		if (!player_run_list(w, pl, &list, t0, deadline)) {
			pl->pending = list;
			break;
		}
	}
	pl->next_tsc = (pl->tick + 1) * pl->tsc_tick;
out:
	/* the transcoding ticks counted their own share */
	ctr_add(&w->stats.play_cycles,
		rte_rdtsc() - t0 - (ctr_get(&w->stats.xcode_cycles) - xc0));
}
