#include "controlplane/media/media.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "controlplane/media/ports.h"

#define MEDIA_CLOCK_RATE 8000

static struct ports *pools[STREAM_TABLE_MAX_ADDRS];
static unsigned n_addrs;
static struct stream_table *table;
static uint32_t addrs[STREAM_TABLE_MAX_ADDRS]; /* network order */
static uint64_t next_stream_id = 1;
static uint32_t ts_mult;

int media_init(const struct config *cfg, char *err, size_t err_len)
{
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
		snprintf(err, err_len, "media: cannot allocate the session table");
		return -1;
	}
	uint64_t hz = rte_get_tsc_hz(); /* 0 without EAL (unit tests): no jitter then */
	ts_mult = hz ? (uint32_t)(((uint64_t)MEDIA_CLOCK_RATE << 32) / hz) : 0;
	return 0;
}

void media_shutdown(void)
{
	stream_table_destroy(table);
	table = NULL;
	for (unsigned i = 0; i < n_addrs; i++) {
		ports_destroy(pools[i]);
		pools[i] = NULL;
	}
	n_addrs = 0;
}

struct stream_table *media_table(void) { return table; }
struct in_addr media_ip(void) { return (struct in_addr){.s_addr = addrs[0]}; }
unsigned media_n_addrs(void) { return n_addrs; }
struct in_addr media_addr(unsigned i) { return (struct in_addr){.s_addr = addrs[i]}; }
unsigned media_streams(void) { return table ? table->n_streams : 0; }
size_t media_stream_bytes(void) { return (sizeof(struct stream) + 63) & ~(size_t)63; }

size_t media_table_bytes(void)
{
	return (size_t)n_addrs * STREAM_SLOTS_PER_ADDR * sizeof(struct stream *);
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

int media_ep_alloc(struct media_ep *ep) { return media_ep_alloc_at(ep, 0); }

static uint32_t media_random32(void)
{
	return ((uint32_t)random() << 16) ^ (uint32_t)random();
}

static struct stream *media_stream_new(const struct media_ep *ep, uint8_t action)
{
	struct stream *s = stream_alloc();
	if (!s)
		return NULL;
	s->local_ip = addrs[ep->addr_idx];
	s->local_port = ep->port;
	s->action = action;
	s->dir = STREAM_DIR_RECV | STREAM_DIR_SEND;
	s->ssrc = media_random32();
	s->ts_base = media_random32();
	s->seq_base = (uint16_t)random();
	s->ts_mult = ts_mult;
	s->id = next_stream_id++;
	return s;
}

static int media_publish(struct media_ep *ep, struct stream *s)
{
	int rc = ep->stream_id ? stream_table_replace(table, s) : stream_table_add(table, s);
	if (rc == 0)
		ep->stream_id = s->id;
	return rc;
}

int media_ep_echo(struct media_ep *ep, struct in_addr peer, uint16_t peer_port)
{
	struct stream *s = media_stream_new(ep, STREAM_ECHO);
	if (!s)
		return -ENOMEM;
	s->peer_ip = peer.s_addr;
	s->peer_port = htons(peer_port);
	int rc = media_publish(ep, s);
	if (rc != 0)
		free(s);
	return rc;
}

int media_ep_relay(struct media_ep *a, struct media_ep *b, const struct media_peer *pa,
		   const struct media_peer *pb, uint8_t latch, bool translate)
{
	return media_ep_relay_opts(a, b, pa, pb, latch, translate, NULL, NULL);
}

static void media_leg_apply(struct stream *s, const struct media_leg_opts *o)
{
	if (!o)
		return;
	s->dir = o->dir;
	s->xmap = o->map;
	s->remap = o->map.dir != TRANSCODE_NONE || o->map.audio_in != o->map.audio_out ||
		   o->map.te_in != o->map.te_out;
}

int media_ep_relay_opts(struct media_ep *a, struct media_ep *b, const struct media_peer *pa,
			const struct media_peer *pb, uint8_t latch, bool translate,
			const struct media_leg_opts *oa, const struct media_leg_opts *ob)
{
	struct stream *sa = media_stream_new(a, STREAM_RELAY);
	struct stream *sb = media_stream_new(b, STREAM_RELAY);
	if (!sa || !sb) {
		free(sa);
		free(sb);
		return -ENOMEM;
	}
	sa->peer_ip = pa->ip.s_addr;
	sa->peer_port = htons(pa->port);
	sb->peer_ip = pb->ip.s_addr;
	sb->peer_port = htons(pb->port);
	sa->latch = pa->ip.s_addr ? latch : STREAM_LATCH_ANY;
	sb->latch = pb->ip.s_addr ? latch : STREAM_LATCH_ANY;
	sa->translate = sb->translate = translate;
	sa->other = sb;
	sb->other = sa;
	media_leg_apply(sa, oa);
	media_leg_apply(sb, ob);
	/* Publish b, then a. A worker that finds either finds its other leg valid until its
	 * next quiescent state: on republication the old legs are retired by call_rcu, and no
	 * grace period can end between the two steps because this (registered, online)
	 * thread passes no quiescent state in between. */
	int rc = media_publish(b, sb);
	if (rc != 0) {
		free(sa);
		free(sb);
		return rc;
	}
	rc = media_publish(a, sa);
	if (rc != 0) {
		free(sa);
		media_ep_release(b);
		return rc;
	}
	return 0;
}

void media_ep_release(struct media_ep *ep)
{
	if (ep->stream_id)
		stream_table_del(table, addrs[ep->addr_idx], ep->port);
	if (ep->port)
		ports_release(pools[ep->addr_idx], ep->port);
	memset(ep, 0, sizeof(*ep));
}

const struct stream *media_ep_stream(const struct media_ep *ep)
{
	if (!ep->stream_id)
		return NULL;
	return stream_table_get(table, addrs[ep->addr_idx], ep->port);
}

int media_ep_stats(const struct media_ep *ep, struct stream_rt *out)
{
	const struct stream *s = media_ep_stream(ep);
	if (!s)
		return -1;
	*out = s->rt;
	return 0;
}

void media_sync(void)
{
	rcu_thread_offline();
	synchronize_rcu();
	rcu_thread_online();
}
