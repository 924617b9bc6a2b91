#include "controlplane/media/pairs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/media/media.h"
#include "dataplane/rtp.h"
#include "util/log.h"

#define PAIR_BUCKETS 65536
#define PAIR_TAG_MAX 32

struct pair {
	uint64_t id;
	char tag[PAIR_TAG_MAX];
	struct media_ep a, b;
	struct pair *prev, *next; /* all pairs */
	struct pair *hnext;       /* by id */
};

static struct pair *all_pairs;
static struct pair *by_id[PAIR_BUCKETS];
static unsigned n_pairs;
static uint64_t next_id = 1;
static unsigned next_addr; /* round-robin over the media address pool */

unsigned pairs_count(void) { return n_pairs; }

static struct pair *pair_find(uint64_t id)
{
	for (struct pair *p = by_id[id % PAIR_BUCKETS]; p; p = p->hnext)
		if (p->id == id)
			return p;
	return NULL;
}

static void pair_link(struct pair *p)
{
	p->next = all_pairs;
	if (all_pairs)
		all_pairs->prev = p;
	all_pairs = p;
	p->hnext = by_id[p->id % PAIR_BUCKETS];
	by_id[p->id % PAIR_BUCKETS] = p;
	n_pairs++;
}

static void pair_destroy(struct pair *p)
{
	media_ep_release(&p->a);
	media_ep_release(&p->b);
	if (p->prev)
		p->prev->next = p->next;
	else
		all_pairs = p->next;
	if (p->next)
		p->next->prev = p->prev;
	struct pair **pp = &by_id[p->id % PAIR_BUCKETS];
	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	n_pairs--;
	free(p);
}

/* Two endpoints on two addresses of the pool (the same one when the pool has one). */
static int pair_alloc_eps(struct pair *p)
{
	unsigned n = media_n_addrs();
	for (unsigned tries = 0; tries < n; tries++) {
		unsigned ia = next_addr++ % n, ib = (ia + 1) % n;
		if (media_ep_alloc_at(&p->a, ia) != 0)
			continue;
		if (media_ep_alloc_at(&p->b, ib) == 0 || media_ep_alloc_at(&p->b, ia) == 0)
			return 0;
		media_ep_release(&p->a);
	}
	return -1;
}

static int parse_peer(const struct json *req, const char *key, struct media_peer *out,
		      char *err, size_t err_len)
{
	memset(out, 0, sizeof(*out));
	const char *s = json_get_str(req, key, NULL);
	if (!s)
		return 0;
	char ip[INET_ADDRSTRLEN];
	unsigned port;
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(ip) || sscanf(colon + 1, "%u", &port) != 1 ||
	    port == 0 || port > 65534) {
		snprintf(err, err_len, "%s: expected \"ip:port\", got \"%s\"", key, s);
		return -1;
	}
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = '\0';
	if (inet_pton(AF_INET, ip, &out->ip) != 1) {
		snprintf(err, err_len, "%s: bad IPv4 address \"%s\"", key, ip);
		return -1;
	}
	out->port = (uint16_t)port;
	return 0;
}

static void jw_ep(struct jw *w, const char *key, const struct media_ep *ep)
{
	char buf[32], ip[INET_ADDRSTRLEN];
	struct in_addr a = media_addr(ep->addr_idx);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(buf, sizeof(buf), "%s:%u", ip, ep->port);
	jw_kv_str(w, key, buf);
}

struct create_req {
	unsigned count, step;
	char tag[PAIR_TAG_MAX];
	struct media_peer pa, pb;
	uint8_t latch;
	bool translate;
};

static int create_parse(const struct json *req, struct create_req *c, char *err, size_t len)
{
	double count = json_get_num(req, "count", 1), step = json_get_num(req, "peer_step", 2);
	if (count < 1 || count > PAIRS_MAX_PER_REQUEST || count != (unsigned)count) {
		snprintf(err, len, "count must be 1..%u (repeat the request for more)",
			 PAIRS_MAX_PER_REQUEST);
		return -1;
	}
	if (step < 0 || step > 65534 || step != (unsigned)step) {
		snprintf(err, len, "peer_step must be 0..65534");
		return -1;
	}
	c->count = (unsigned)count;
	c->step = (unsigned)step;
	const char *tag = json_get_str(req, "tag", "");
	if (strlen(tag) >= PAIR_TAG_MAX) {
		snprintf(err, len, "tag longer than %d characters", PAIR_TAG_MAX - 1);
		return -1;
	}
	snprintf(c->tag, sizeof(c->tag), "%s", tag);
	if (parse_peer(req, "peer_a", &c->pa, err, len) || parse_peer(req, "peer_b", &c->pb, err, len))
		return -1;
	unsigned last = c->step * (c->count - 1);
	if ((c->pa.port && c->pa.port + last > 65534) || (c->pb.port && c->pb.port + last > 65534)) {
		snprintf(err, len, "peer ports run past 65534 for %u pairs", c->count);
		return -1;
	}
	const struct json *latch = json_get(req, "latch");
	c->latch = latch && latch->type == JSON_BOOL && !latch->b ? STREAM_LATCH_OFF
								   : STREAM_LATCH_IP;
	const struct json *tr = json_get(req, "translate");
	c->translate = tr && tr->type == JSON_BOOL && tr->b;
	return 0;
}

static struct media_peer peer_at(const struct media_peer *base, unsigned i, unsigned step)
{
	struct media_peer p = *base;
	if (p.port)
		p.port = (uint16_t)(p.port + i * step);
	return p;
}

static int cmd_create(const struct json *req, struct jw *w, char *err, size_t len, void *ctx)
{
	(void)ctx;
	struct create_req c;
	if (create_parse(req, &c, err, len) != 0)
		return -1;
	unsigned n = 0; /* this request's pairs get the ids next_id - n .. next_id - 1 */
	for (; n < c.count; n++) {
		struct pair *p = calloc(1, sizeof(*p));
		if (!p || pair_alloc_eps(p) != 0) {
			free(p);
			snprintf(err, len, "media address pool exhausted after %u of %u pairs "
				 "(none created)", n, c.count);
			break;
		}
		struct media_peer pa = peer_at(&c.pa, n, c.step), pb = peer_at(&c.pb, n, c.step);
		int rc = media_ep_relay(&p->a, &p->b, &pa, &pb, c.latch, c.translate, NULL, NULL);
		if (rc != 0) {
			media_ep_release(&p->a);
			media_ep_release(&p->b);
			free(p);
			snprintf(err, len, "cannot publish a pair: %s", strerror(-rc));
			break;
		}
		p->id = next_id++;
		snprintf(p->tag, sizeof(p->tag), "%s", c.tag);
		pair_link(p);
	}
	if (n < c.count) {
		/* All or nothing: undo this request's pairs (the newest n ids). */
		for (uint64_t id = next_id - n; id < next_id; id++)
			pair_destroy(pair_find(id));
		return -1;
	}
	jw_obj_begin(w);
	jw_kv_str(w, "tag", c.tag);
	jw_key(w, "pairs");
	jw_arr_begin(w);
	for (uint64_t id = next_id - n; id < next_id; id++) {
		const struct pair *p = pair_find(id);
		jw_obj_begin(w);
		jw_kv_u64(w, "id", p->id);
		jw_ep(w, "a", &p->a);
		jw_ep(w, "b", &p->b);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
	return 0;
}

static int cmd_delete(const struct json *req, struct jw *w, char *err, size_t len, void *ctx)
{
	(void)ctx;
	const char *tag = json_get_str(req, "tag", NULL);
	const struct json *ids = json_get(req, "ids");
	unsigned deleted = 0;
	if (tag) {
		for (struct pair *p = all_pairs, *next; p; p = next) {
			next = p->next;
			if (strcmp(p->tag, tag) == 0) {
				pair_destroy(p);
				deleted++;
			}
		}
	} else if (ids && ids->type == JSON_ARRAY) {
		for (size_t i = 0; i < ids->n; i++) {
			struct pair *p = ids->items[i]->type == JSON_NUMBER
						 ? pair_find((uint64_t)ids->items[i]->num)
						 : NULL;
			if (p) {
				pair_destroy(p);
				deleted++;
			}
		}
	} else {
		snprintf(err, len, "media.delete needs \"tag\" or \"ids\"");
		return -1;
	}
	/* After the reply no worker relays for these pairs any more. */
	if (deleted)
		media_sync();
	jw_obj_begin(w);
	jw_kv_u64(w, "deleted", deleted);
	jw_obj_end(w);
	return 0;
}

static void jw_peer(struct jw *w, const char *key, uint64_t word)
{
	if (!word) {
		jw_kv_str(w, key, "-");
		return;
	}
	struct in_addr a = {.s_addr = (uint32_t)(word >> 32)};
	char buf[32], ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(buf, sizeof(buf), "%s:%u", ip, ntohs((uint16_t)(word >> 16)));
	jw_kv_str(w, key, buf);
}

static void jw_leg(struct jw *w, const char *key, const struct media_ep *ep)
{
	const struct stream_cfg *s = media_ep_cfg(ep);
	jw_key(w, key);
	jw_obj_begin(w);
	jw_ep(w, "local", ep);
	if (s) {
		struct stream_stats st;
		media_ep_stats(ep, &st);
		jw_peer(w, "peer", s->peer_ip ? stream_peer_word(s->peer_ip, s->peer_port, 0) : 0);
		jw_peer(w, "latched", stream_peer_valid(st.peer, s->latch_gen) ? st.peer : 0);
		jw_kv_u64(w, "rx", st.rx_pkts);
		jw_kv_u64(w, "relayed", st.tx_pkts);
		jw_kv_u64(w, "rtcp", st.rtcp_pkts);
		jw_kv_u64(w, "drops", st.drops);
		jw_kv_u64(w, "wrong_source", st.wrong_source);
		jw_kv_i64(w, "lost", st.rtp_lost);
		jw_kv_u64(w, "jitter", st.rtp_jitter);
	}
	jw_obj_end(w);
}

static int cmd_stats(const struct json *req, struct jw *w, char *err, size_t len, void *ctx)
{
	(void)ctx;
	const struct json *id = json_get(req, "id");
	if (id) {
		struct pair *p = id->type == JSON_NUMBER ? pair_find((uint64_t)id->num) : NULL;
		if (!p) {
			snprintf(err, len, "no pair with that id");
			return -1;
		}
		jw_obj_begin(w);
		jw_kv_u64(w, "id", p->id);
		jw_kv_str(w, "tag", p->tag);
		jw_leg(w, "a", &p->a);
		jw_leg(w, "b", &p->b);
		jw_obj_end(w);
		return 0;
	}
	const char *tag = json_get_str(req, "tag", NULL);
	uint64_t pairs = 0, rx = 0, relayed = 0, drops = 0, wrong = 0, rtcp = 0;
	int64_t lost = 0;
	for (struct pair *p = all_pairs; p; p = p->next) {
		if (tag && strcmp(p->tag, tag) != 0)
			continue;
		pairs++;
		const struct media_ep *legs[2] = {&p->a, &p->b};
		for (int i = 0; i < 2; i++) {
			struct stream_stats st;
			if (media_ep_stats(legs[i], &st) != 0)
				continue;
			rx += st.rx_pkts;
			relayed += st.tx_pkts;
			drops += st.drops;
			wrong += st.wrong_source;
			rtcp += st.rtcp_pkts;
			lost += st.rtp_lost;
		}
	}
	jw_obj_begin(w);
	jw_kv_u64(w, "pairs", pairs);
	jw_kv_u64(w, "rx", rx);
	jw_kv_u64(w, "tx", relayed);
	jw_kv_u64(w, "rtcp", rtcp);
	jw_kv_u64(w, "drops", drops);
	jw_kv_u64(w, "wrong_source", wrong);
	jw_kv_i64(w, "lost", lost);
	jw_obj_end(w);
	return 0;
}

void pairs_shutdown(void)
{
	while (all_pairs)
		pair_destroy(all_pairs);
}

void pairs_register(struct api *api)
{
	api_register(api, "media.create", cmd_create, NULL);
	api_register(api, "media.delete", cmd_delete, NULL);
	api_register(api, "media.stats", cmd_stats, NULL);
}
