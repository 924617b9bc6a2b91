#include "controlplane/media/media.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "controlplane/media/ports.h"
#include "controlplane/media/prompt.h"
#include "dataplane/actions/xcode.h"
#include "dataplane/codec.h"
#include "dataplane/dp.h"
#include "util/log.h"

#define MEDIA_CLOCK_RATE 8000

static struct ports *pools[STREAM_TABLE_MAX_ADDRS];
static unsigned n_addrs;
static struct stream_table *table;
static uint32_t addrs[STREAM_TABLE_MAX_ADDRS]; /* network order */
static uint64_t next_stream_id = 1;
static uint32_t ts_mult;
/* Commands (plays, RTCP reports) a full command ring did not take, sent again on the next
 * turns of the control loop (media_poll), oldest first. */
struct play_pending {
	struct msg_cmd cmd;
	int worker;
};
static struct play_pending *pending;
static size_t n_pending, cap_pending;
static uint64_t tsc_hz;

/* Ports released whose last config waits for its grace period. */
static unsigned n_cooling;

/* A stream's arrival clock multiplier for RTP clock @clock (stream_cfg.ts_mult). */
static uint32_t media_ts_mult(uint32_t clock)
{
	return tsc_hz ? (uint32_t)(((uint64_t)clock << 32) / tsc_hz) : 0;
}

int media_init(const struct config *cfg, char *err, size_t err_len)
{
	if (prompt_init(cfg->media_tone_plan, (const char(*)[128])cfg->media_tones,
			cfg->media_n_tones, err, err_len) != 0)
		return -1;
	codec_opus_complexity(cfg->media_opus_complexity);
	n_addrs = cfg->dp_media_ip_count ? cfg->dp_media_ip_count : 1;
	for (unsigned i = 0; i < n_addrs; i++) {
		addrs[i] = htonl(ntohl(cfg->dp_media_ip.s_addr) + i);
		pools[i] = ports_create(cfg->media_port_min, cfg->media_port_max);
		if (!pools[i]) {
			snprintf(err, err_len, "media: bad port range %u-%u", cfg->media_port_min,
				 cfg->media_port_max);
			return -1;
		}
	}
	table = stream_table_create(addrs, n_addrs);
	if (!table) {
		snprintf(err, err_len, "media: cannot allocate the stream table");
		return -1;
	}
	tsc_hz = rte_get_tsc_hz(); /* 0 without EAL (unit tests): no jitter then */
	ts_mult = media_ts_mult(MEDIA_CLOCK_RATE);
	return 0;
}

void media_shutdown(void)
{
	media_poll();
	prompt_shutdown(); /* no worker plays any more */
	free(pending);
	pending = NULL;
	n_pending = cap_pending = 0;
	stream_table_destroy(table);
	table = NULL;
	for (unsigned i = 0; i < n_addrs; i++) {
		ports_destroy(pools[i]);
		pools[i] = NULL;
	}
	n_addrs = 0;
}

struct stream_table *media_table(void) { return table; }
unsigned media_n_addrs(void) { return n_addrs; }
struct in_addr media_addr(unsigned i) { return (struct in_addr){.s_addr = addrs[i]}; }
unsigned media_streams(void) { return table ? table->n_streams : 0; }
unsigned media_ports_cooling(void) { return n_cooling; }

size_t media_stream_bytes(void)
{
	return sizeof(struct stream_cfg) + sizeof(struct stream_state);
}

size_t media_table_bytes(void)
{
	return (size_t)n_addrs * STREAM_SLOTS_PER_ADDR *
	       (sizeof(struct stream_cfg *) + sizeof(struct stream_state));
}

uint64_t media_tsc_age_us(uint64_t tsc)
{
	if (!tsc || !tsc_hz)
		return 0;
	uint64_t now = rte_rdtsc();
	return now > tsc ? (now - tsc) * 1000000 / tsc_hz : 0;
}

unsigned media_ports_free(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < n_addrs; i++)
		n += ports_free(pools[i]);
	return n;
}

unsigned media_ports_total(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < n_addrs; i++)
		n += ports_total(pools[i]);
	return n;
}

int media_ep_alloc_at(struct media_ep *ep, unsigned addr_idx)
{
	memset(ep, 0, sizeof(*ep));
	if (addr_idx >= n_addrs)
		return -1;
	ep->addr_idx = (uint8_t)addr_idx;
	ep->port = ports_alloc(pools[addr_idx]);
	return ep->port ? 0 : -1;
}

int media_ep_restore(struct media_ep *ep, unsigned addr_idx, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	if (addr_idx >= n_addrs || ports_reserve(pools[addr_idx], port) != 0)
		return -1;
	ep->addr_idx = (uint8_t)addr_idx;
	ep->port = port;
	return 0;
}

void media_restore_done(void)
{
	for (unsigned i = 0; i < n_addrs; i++)
		ports_compact(pools[i]);
}

int media_ep_alloc(struct media_ep *ep)
{
	unsigned best = 0, best_free = 0;
	for (unsigned i = 0; i < n_addrs; i++) {
		unsigned f = ports_free(pools[i]);
		if (f > best_free) {
			best = i;
			best_free = f;
		}
	}
	if (best_free == 0) {
		memset(ep, 0, sizeof(*ep));
		return -1;
	}
	return media_ep_alloc_at(ep, best);
}

static uint32_t media_random32(void)
{
	return ((uint32_t)random() << 16) ^ (uint32_t)random();
}

/* A new config for @ep, with the endpoint's stream id (given at its first publication). */
static struct stream_cfg *media_cfg_new(struct media_ep *ep, uint8_t action,
					const struct media_peer *peer, uint8_t latch)
{
	struct stream_cfg *c = stream_cfg_alloc();
	if (!c)
		return NULL;
	if (!ep->stream_id)
		ep->stream_id = next_stream_id++;
	c->id = ep->stream_id;
	c->local_ip = addrs[ep->addr_idx];
	c->local_port = ep->port;
	c->addr_idx = ep->addr_idx;
	c->action = action;
	c->dir = STREAM_DIR_RECV | STREAM_DIR_SEND;
	c->ssrc = media_random32();
	c->ts_base = media_random32();
	c->seq_base = (uint16_t)random();
	c->ts_mult = ts_mult;
	c->peer_ip = peer ? peer->ip.s_addr : 0;
	c->peer_port = peer ? htons(peer->port) : 0;
	c->te_pt = peer && peer->te_pt >= 96 && peer->te_pt <= 127 ? peer->te_pt : 0;
	/* a leg whose peer is unknown can only learn it by latching */
	c->latch = c->peer_ip ? latch : STREAM_LATCH_ANY;
	/* the latch holds across republication unless the SDP peer moved */
	if (c->peer_ip && ep->sdp_ip && (c->peer_ip != ep->sdp_ip || c->peer_port != ep->sdp_port))
		ep->latch_gen = (ep->latch_gen + 1) & STREAM_PEER_GEN_MASK;
	if (c->peer_ip) {
		ep->sdp_ip = c->peer_ip;
		ep->sdp_port = c->peer_port;
	}
	c->latch_gen = ep->latch_gen;
	return c;
}

/* Keep the source identity across republication: a re-INVITE must not make mgw a new RTP
 * source towards a peer (new SSRC, jumping sequence numbers). */
static void media_cfg_keep_source(struct stream_cfg *c, const struct media_ep *ep)
{
	const struct stream_cfg *old = media_ep_cfg(ep);
	if (!old)
		return;
	c->ssrc = old->ssrc;
	c->ts_base = old->ts_base;
	c->seq_base = old->seq_base;
	/* and what mgw plays there goes on */
	c->play = stream_play_ref((struct stream_play *)old->play);
}

static int media_publish(struct media_ep *ep, struct stream_cfg *c)
{
	if (c->play)
		c->dir |= STREAM_DIR_PLAY;
	int rc = stream_table_publish(table, c);
	if (rc == 0)
		ep->published = true;
	return rc;
}

static int media_play_worker(const struct stream_cfg *c);
static void media_tell(int worker, const struct msg_cmd *cmd);

/* mgw terminates the stream's RTCP: its owner worker sends reports on it. */
static void media_rtcp_start(const struct stream_cfg *c, int worker)
{
	struct msg_cmd cmd = {.type = MSG_CMD_RTCP, .port = c->local_port,
			      .addr_idx = c->addr_idx, .stream_id = c->id};
	if (worker >= 0)
		media_tell(worker, &cmd);
}

int media_ep_echo(struct media_ep *ep, const struct media_peer *peer, uint8_t latch)
{
	const struct stream_cfg *old = media_ep_cfg(ep);
	bool was_echo = old && old->action == STREAM_ECHO;
	struct stream_cfg *c = media_cfg_new(ep, STREAM_ECHO, peer, latch);
	if (!c)
		return -ENOMEM;
	media_cfg_keep_source(c, ep);
	int rc = media_publish(ep, c);
	if (rc != 0)
		stream_cfg_free(c);
	else if (!was_echo)
		media_rtcp_start(c, media_play_worker(c));
	return rc;
}

void media_rtcp_moved(const struct msg_event *ev)
{
	int ai = media_addr_index(ev->local_ip);
	const struct stream_cfg *c = ai < 0 ? NULL
				   : stream_table_get(table, ev->local_ip, ev->local_port);
	if (c && c->id == ev->stream_id && stream_rtcp_terminated(c))
		media_rtcp_start(c, ev->play.owner);
}

/* The transcoding direction @o asks for: the one @old carries when it is the same (its codecs,
 * jitter buffer and RTP source go on across a re-INVITE), else a new one. */
static struct stream_xcode *media_xcode(const struct stream_cfg *old,
					const struct media_leg_opts *o)
{
	if (old && xcode_same(old->xcode, &o->xc))
		return stream_xcode_ref(old->xcode);
	static uint32_t xcode_gen;
	struct stream_xcode d = o->xc;
	d.gen = ++xcode_gen;
	d.ssrc = media_random32();
	d.ts_base = media_random32();
	d.seq_base = (uint16_t)media_random32();
	return stream_xcode_ref(xcode_new(&d));
}

static const char *codec_name(unsigned c)
{
	const struct codec_info *i = codec_info((enum stream_codec)c);
	return i ? i->name : "-";
}

static int media_leg_apply(struct stream_cfg *c, const struct media_leg_opts *o,
			   const struct stream_cfg *old)
{
	if (!o)
		return 0;
	c->dir = o->dir;
	if (o->clock && o->clock != MEDIA_CLOCK_RATE)
		c->ts_mult = media_ts_mult(o->clock);
	c->xmap = o->map;
	c->vad = o->vad;
	c->inband = c->te_pt ? STREAM_VAD_OFF : o->inband;
	c->remap = o->map.g711 != STREAM_G711_NONE || o->map.audio_in != o->map.audio_out ||
		   o->map.te_in != o->map.te_out;
	if (o->xc.in_codec != STREAM_CODEC_NONE) {
		c->xcode = media_xcode(old, o);
		if (!c->xcode)
			return -EINVAL;
		c->remap = 1;
	}
	return 0;
}

int media_ep_relay(struct media_ep *a, struct media_ep *b, const struct media_peer *pa,
		   const struct media_peer *pb, uint8_t latch, bool translate,
		   const struct media_leg_opts *oa, const struct media_leg_opts *ob)
{
	struct media_ep na = *a, nb = *b; /* committed only once both are published */
	const struct stream_cfg *was_a = media_ep_cfg(a), *was_b = media_ep_cfg(b);
	bool rtcp_a = was_a && stream_rtcp_terminated(was_a);
	bool rtcp_b = was_b && stream_rtcp_terminated(was_b);
	struct stream_cfg *sa = media_cfg_new(&na, STREAM_RELAY, pa, latch);
	struct stream_cfg *sb = media_cfg_new(&nb, STREAM_RELAY, pb, latch);
	if (!sa || !sb) {
		stream_cfg_free(sa);
		stream_cfg_free(sb);
		return -ENOMEM;
	}
	media_cfg_keep_source(sa, a);
	media_cfg_keep_source(sb, b);
	sa->translate = sb->translate = translate;
	sa->other = sb;
	sb->other = sa;
	sa->other_st = stream_table_state(table, sb->addr_idx, sb->local_port);
	sb->other_st = stream_table_state(table, sa->addr_idx, sa->local_port);
	if (media_leg_apply(sa, oa, media_ep_cfg(a)) != 0 ||
	    media_leg_apply(sb, ob, media_ep_cfg(b)) != 0) {
		LOG_E("media", "cannot transcode %s <-> %s",
		      oa ? codec_name(oa->xc.in_codec) : "-", ob ? codec_name(ob->xc.in_codec) : "-");
		stream_cfg_free(sa);
		stream_cfg_free(sb);
		return -EINVAL;
	}
	/* Publish b, then a. A worker that finds either finds its other leg valid until its
	 * next quiescent state: on republication the old configs are retired after a grace
	 * period, and no grace period can end between the two steps because this (registered,
	 * online) thread passes no quiescent state in between. */
	int rc = media_publish(&nb, sb);
	if (rc != 0) {
		stream_cfg_free(sa);
		stream_cfg_free(sb);
		return rc;
	}
	*b = nb;
	rc = media_publish(&na, sa);
	if (rc != 0) {
		stream_cfg_free(sa);
		media_ep_release(b);
		return rc;
	}
	*a = na;
	/* transcoded from now on: the legs' owners send RTCP reports of mgw's sources */
	if (!rtcp_a && stream_rtcp_terminated(sa))
		media_rtcp_start(sa, media_play_worker(sa));
	if (!rtcp_b && stream_rtcp_terminated(sb))
		media_rtcp_start(sb, media_play_worker(sb));
	return 0;
}

/* @c's grace period has passed: its port may be handed out again. */
static void media_cfg_cooled(struct stream_cfg *c)
{
	ports_release(pools[c->addr_idx], c->local_port);
	n_cooling--;
	stream_cfg_free(c);
}

static void media_play_resend(void);

void media_poll(void)
{
	if (n_pending)
		media_play_resend();
	if (table)
		stream_table_reclaim(table);
}

void media_ep_release(struct media_ep *ep)
{
	struct stream_cfg *c = ep->published ? (struct stream_cfg *)media_ep_cfg(ep) : NULL;
	if (c) {
		/* the port returns once no worker can hold this config any more; retired is
		 * control-plane bookkeeping that no worker reads */
		c->retired = media_cfg_cooled;
		n_cooling++;
		stream_table_del(table, addrs[ep->addr_idx], ep->port);
	} else if (ep->port) {
		ports_release(pools[ep->addr_idx], ep->port);
	}
	memset(ep, 0, sizeof(*ep));
}

const struct stream_cfg *media_ep_cfg(const struct media_ep *ep)
{
	if (!ep->published)
		return NULL;
	return stream_table_get(table, addrs[ep->addr_idx], ep->port);
}

int media_ep_stats(const struct media_ep *ep, struct stream_stats *out)
{
	const struct stream_cfg *c = media_ep_cfg(ep);
	if (!c) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	stream_stats_read(table, c, out);
	return 0;
}

static uint32_t play_gen;

/* The worker that plays @c: its state's owner, or one chosen by its id. -1 = no worker. */
static int media_play_worker(const struct stream_cfg *c)
{
	unsigned n = dp_n_workers();
	if (n == 0)
		return -1;
	const struct stream_state *st = stream_table_state(table, c->addr_idx, c->local_port);
	uint64_t o = atomic_load_explicit(&st->owner, memory_order_acquire);
	unsigned w = (unsigned)(o & 0xffff & ~STREAM_OWNER_RESETTING);
	if (o >> 16 == c->id && w >= 1 && w <= n)
		return (int)w - 1;
	return (int)(c->id % n);
}


static void media_play_resend(void)
{
	size_t k = 0;
	while (k < n_pending && dp_send_cmd(pending[k].worker, &pending[k].cmd) == 0)
		k++;
	memmove(pending, pending + k, (n_pending - k) * sizeof(*pending));
	n_pending -= k;
}

size_t media_play_pending(void)
{
	return n_pending;
}

/* Send @cmd to @worker, or queue it while the worker's ring is full (or older ones wait).
 * Returns 0 or -ENOMEM. */
static int media_tell_(int worker, const struct msg_cmd *cmd)
{
	if (n_pending == 0 && dp_send_cmd(worker, cmd) == 0)
		return 0;
	if (n_pending == cap_pending) {
		size_t cap = cap_pending ? cap_pending * 2 : 1024;
		struct play_pending *p = realloc(pending, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		pending = p;
		cap_pending = cap;
	}
	pending[n_pending++] = (struct play_pending){.cmd = *cmd, .worker = worker};
	return 0;
}

static void media_tell(int worker, const struct msg_cmd *cmd)
{
	if (media_tell_(worker, cmd) != 0)
		LOG_W("media", "a command to worker %d is lost: out of memory", worker);
}

static int media_play_tell(const struct stream_cfg *c, int worker)
{
	if (worker < 0)
		return 0;
	struct msg_cmd cmd = {.type = MSG_CMD_PLAY, .arg = c->play->gen, .port = c->local_port,
			      .addr_idx = c->addr_idx, .stream_id = c->id};
	return media_tell_(worker, &cmd);
}

int media_addr_index(uint32_t ip)
{
	for (unsigned i = 0; i < n_addrs; i++)
		if (addrs[i] == ip)
			return (int)i;
	return -1;
}

/* Republish the stream at (@addr_idx, @port) carrying @play (NULL: none) and tell its
 * worker. */
static int media_play_at(unsigned addr_idx, uint16_t port, struct stream_play *play)
{
	if (addr_idx >= n_addrs)
		return -ENOENT;
	const struct stream_cfg *old = stream_table_get(table, addrs[addr_idx], port);
	if (!old)
		return -ENOENT;
	if (!play && !old->play)
		return 0;
	struct stream_cfg *c = stream_cfg_dup(old), *o = NULL;
	if (c && old->other)
		o = stream_cfg_dup(old->other);
	if (!c || (old->other && !o)) {
		stream_cfg_free(c);
		stream_cfg_free(o);
		return -ENOMEM;
	}
	if (c->play) { /* the old config keeps its own reference */
		((struct stream_play *)c->play)->refs--;
		c->play = NULL;
	}
	c->play = stream_play_ref(play);
	c->dir = (uint8_t)(play ? c->dir | STREAM_DIR_PLAY : c->dir & ~STREAM_DIR_PLAY);
	int rc;
	if (o) {
		/* a relay's legs point at each other: both are republished, as media_ep_relay does */
		c->other = o;
		o->other = c;
		rc = stream_table_publish(table, o);
		if (rc != 0) {
			stream_cfg_free(c);
			stream_cfg_free(o);
			return rc;
		}
	}
	rc = stream_table_publish(table, c);
	if (rc != 0) {
		stream_cfg_free(c);
		return rc;
	}
	if (play && media_play_tell(c, media_play_worker(c)) != 0)
		return -ENOMEM;
	return 0;
}

uint32_t media_play_copy(unsigned addr_idx, uint16_t port, const struct stream_play *tmpl,
			 int *rc)
{
	struct stream_play *p = malloc(sizeof(*p));
	int r = -ENOMEM;
	if (p) {
		*p = *tmpl;
		p->gen = ++play_gen ? play_gen : ++play_gen;
		p->refs = 0;
		if (!p->ptime_ms || (p->prompt && p->prompt->pkt)) /* (Opus prompts: 20 ms) */
			p->ptime_ms = p->prompt && p->prompt->pkt ? STREAM_PROMPT_PACKET / 8 : 20;
		r = media_play_at(addr_idx, port, p);
		if (r != 0 && p->refs == 0)
			free(p); /* no config took it */
	}
	if (rc)
		*rc = r;
	return r == 0 ? p->gen : 0;
}

int media_play_stop(unsigned addr_idx, uint16_t port)
{
	return media_play_at(addr_idx, port, NULL);
}

int media_play_event(const struct msg_event *ev, uint32_t *gen)
{
	*gen = ev->peer_ip;
	int ai = media_addr_index(ev->local_ip);
	const struct stream_cfg *c = ai < 0 ? NULL
				   : stream_table_get(table, ev->local_ip, ev->local_port);
	bool current = c && c->id == ev->stream_id && c->play && c->play->gen == *gen;
	switch (ev->play.status) {
	case MSG_PLAY_MOVED: /* the stream's state is another worker's: that one plays */
		if (current && media_play_tell(c, ev->play.owner) != 0)
			LOG_W("media", "play %u: out of memory", *gen);
		return 0;
	case MSG_PLAY_FULL:
		LOG_W("media", "play %u: worker %u plays as many streams as it can", *gen,
		      ev->worker);
		break;
	default:
		break;
	}
	/* ended: the stream goes back to what it did before (echo, relay) */
	if (current)
		media_play_at((unsigned)ai, ev->local_port, NULL);
	return ev->play.status == MSG_PLAY_DONE ? 1 : -1;
}

void media_sync(void)
{
	stream_rcu_offline();
	synchronize_rcu();
	rcu_thread_online();
}
