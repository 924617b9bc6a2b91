#include "controlplane/media/pairs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "controlplane/media/media.h"
#include "dataplane/codec.h"
#include "util/log.h"

#define PAIR_OPUS_PT 111 /* Opus on a pair (no SDP to agree one); the benches send it (bench/audio.h) */

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

static int parse_peer(json_t *req, const char *key, struct media_peer *out, char *err,
		      size_t err_len)
{
	memset(out, 0, sizeof(*out));
	json_t *v = json_object_get(req, key);
	if (!v)
		return 0;
	const char *s = json_string_value(v);
	if (!s) {
		snprintf(err, err_len, "%s: expected a string \"ip:port\"", key);
		return -1;
	}
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

static json_t *ep_json(const struct media_ep *ep)
{
	char buf[32], ip[INET_ADDRSTRLEN];
	struct in_addr a = media_ep_addr(ep);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(buf, sizeof(buf), "%s:%u", ip, ep->port);
	return json_string(buf);
}

/* A number member that must be a whole number in [@lo, @hi], or @def when absent. */
static int get_uint(json_t *req, const char *key, unsigned def, unsigned lo, unsigned hi,
		    unsigned *out)
{
	json_t *v = json_object_get(req, key);
	if (!v) {
		*out = def;
		return 0;
	}
	double d = json_number_value(v);
	if (!json_is_number(v) || d < lo || d > hi || d != (unsigned)d)
		return -1;
	*out = (unsigned)d;
	return 0;
}

struct create_req {
	unsigned count, step;
	char tag[PAIR_TAG_MAX];
	struct media_peer pa, pb;
	uint8_t latch;
	bool translate;
	struct media_leg_opts oa, ob; /* codec_a / codec_b: what each leg speaks */
	bool codecs;
};

/* A codec member: its id and payload type, or -1 with a message. */
static int get_codec(json_t *req, const char *key, enum stream_codec *id, uint8_t *pt, char *err,
		     size_t len)
{
	const char *name = json_string_value(json_object_get(req, key));
	*id = name ? codec_named(name) : STREAM_CODEC_NONE;
	if (*id == STREAM_CODEC_NONE) {
		snprintf(err, len, "%s must be one of PCMU, PCMA, G722, G729, opus", key);
		return -1;
	}
	const struct codec_info *ci = codec_info(*id);
	*pt = ci->static_pt != 0xff ? ci->static_pt : PAIR_OPUS_PT;
	return 0;
}

/* codec_a, codec_b (and ptime_a, ptime_b): the legs speak different codecs and mgw
 * transcodes between them, as a B2BUA call would. */
static int create_codecs(json_t *req, struct create_req *c, char *err, size_t len)
{
	c->codecs = json_object_get(req, "codec_a") || json_object_get(req, "codec_b");
	if (!c->codecs)
		return 0;
	enum stream_codec ca, cb;
	uint8_t pa, pb;
	unsigned ta, tb;
	if (get_codec(req, "codec_a", &ca, &pa, err, len) ||
	    get_codec(req, "codec_b", &cb, &pb, err, len))
		return -1;
	if (get_uint(req, "ptime_a", 20, 10, 60, &ta) || get_uint(req, "ptime_b", 20, 10, 60, &tb) ||
	    !codec_ptime_ok(ca, ta) || !codec_ptime_ok(cb, tb)) {
		snprintf(err, len, "ptime_a/ptime_b: a packet time the leg's codec can send");
		return -1;
	}
	c->oa = c->ob = (struct media_leg_opts){.dir = STREAM_DIR_RECV | STREAM_DIR_SEND};
	c->oa.map.audio_in = c->ob.map.audio_out = pa;
	c->oa.map.audio_out = c->ob.map.audio_in = pb;
	bool laws = (ca == STREAM_CODEC_PCMU || ca == STREAM_CODEC_PCMA) &&
		    (cb == STREAM_CODEC_PCMU || cb == STREAM_CODEC_PCMA);
	if (ca == cb && ta == tb)
		return 0;
	if (laws && ta == tb) {
		c->oa.map.g711 = ca == STREAM_CODEC_PCMU ? STREAM_G711_U2A : STREAM_G711_A2U;
		c->ob.map.g711 = cb == STREAM_CODEC_PCMU ? STREAM_G711_U2A : STREAM_G711_A2U;
		return 0;
	}
	c->oa.xc = (struct stream_xcode){.in_codec = (uint8_t)ca, .out_codec = (uint8_t)cb,
					 .in_pt = pa, .out_pt = pb, .in_ptime = (uint8_t)ta,
					 .out_ptime = (uint8_t)tb};
	c->ob.xc = (struct stream_xcode){.in_codec = (uint8_t)cb, .out_codec = (uint8_t)ca,
					 .in_pt = pb, .out_pt = pa, .in_ptime = (uint8_t)tb,
					 .out_ptime = (uint8_t)ta};
	return 0;
}

static int create_parse(json_t *req, struct create_req *c, char *err, size_t len)
{
	if (get_uint(req, "count", 1, 1, PAIRS_MAX_PER_REQUEST, &c->count) != 0) {
		snprintf(err, len, "count must be 1..%u (repeat the request for more)",
			 PAIRS_MAX_PER_REQUEST);
		return -1;
	}
	if (get_uint(req, "peer_step", 2, 0, 65534, &c->step) != 0) {
		snprintf(err, len, "peer_step must be 0..65534");
		return -1;
	}
	json_t *t = json_object_get(req, "tag");
	if (t && !json_is_string(t)) {
		snprintf(err, len, "tag must be a string");
		return -1;
	}
	const char *tag = t ? json_string_value(t) : "";
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
	json_t *latch = json_object_get(req, "latch");
	c->latch = json_is_false(latch) ? STREAM_LATCH_OFF : STREAM_LATCH_IP;
	c->translate = json_is_true(json_object_get(req, "translate"));
	return create_codecs(req, c, err, len);
}

static struct media_peer peer_at(const struct media_peer *base, unsigned i, unsigned step)
{
	struct media_peer p = *base;
	if (p.port)
		p.port = (uint16_t)(p.port + i * step);
	return p;
}

static json_t *cmd_create(json_t *req, char *err, size_t len, void *ctx)
{
	(void)ctx;
	struct create_req c;
	if (create_parse(req, &c, err, len) != 0)
		return NULL;
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
		int rc = media_ep_relay(&p->a, &p->b, &pa, &pb, c.latch, c.translate,
					c.codecs ? &c.oa : NULL, c.codecs ? &c.ob : NULL);
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
		return NULL;
	}
	json_t *pairs = json_array();
	for (uint64_t id = next_id - n; pairs && id < next_id; id++) {
		const struct pair *p = pair_find(id);
		json_array_append_new(pairs, json_pack("{s:I, s:o, s:o}", "id", (json_int_t)p->id,
						       "a", ep_json(&p->a), "b", ep_json(&p->b)));
	}
	return json_pack("{s:s, s:o}", "tag", c.tag, "pairs", pairs);
}

static json_t *cmd_delete(json_t *req, char *err, size_t len, void *ctx)
{
	(void)ctx;
	const char *tag = json_string_value(json_object_get(req, "tag"));
	json_t *ids = json_object_get(req, "ids");
	unsigned deleted = 0;
	if (tag) {
		for (struct pair *p = all_pairs, *next; p; p = next) {
			next = p->next;
			if (strcmp(p->tag, tag) == 0) {
				pair_destroy(p);
				deleted++;
			}
		}
	} else if (json_is_array(ids)) {
		size_t i;
		json_t *v;
		json_array_foreach(ids, i, v) {
			struct pair *p = json_is_integer(v) && json_integer_value(v) > 0
						 ? pair_find((uint64_t)json_integer_value(v))
						 : NULL;
			if (p) {
				pair_destroy(p);
				deleted++;
			}
		}
	} else {
		snprintf(err, len, "media.delete needs \"tag\" or \"ids\"");
		return NULL;
	}
	/* After the reply no worker relays for these pairs any more. */
	if (deleted)
		media_sync();
	return json_pack("{s:I}", "deleted", (json_int_t)deleted);
}

static json_t *peer_json(uint64_t word)
{
	if (!word)
		return json_string("-");
	struct in_addr a = {.s_addr = stream_peer_ip(word)};
	char buf[32], ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(buf, sizeof(buf), "%s:%u", ip, ntohs(stream_peer_port(word)));
	return json_string(buf);
}

static json_t *leg_json(const struct media_ep *ep)
{
	const struct stream_cfg *s = media_ep_cfg(ep);
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "local", ep_json(ep));
	if (s) {
		struct stream_stats st;
		media_ep_stats(ep, &st);
		json_object_set_new(o, "peer",
				    peer_json(s->peer_ip ? stream_peer_word(s->peer_ip, s->peer_port, 0)
							 : 0));
		json_object_set_new(o, "latched",
				    peer_json(stream_peer_valid(st.peer, s->latch_gen) ? st.peer : 0));
		json_object_set_new(o, "rx", json_integer((json_int_t)st.rx_pkts));
		json_object_set_new(o, "relayed", json_integer((json_int_t)st.tx_pkts));
		json_object_set_new(o, "rtcp", json_integer((json_int_t)st.rtcp_pkts));
		json_object_set_new(o, "drops", json_integer((json_int_t)st.drops));
		json_object_set_new(o, "wrong_source", json_integer((json_int_t)st.wrong_source));
		json_object_set_new(o, "lost", json_integer((json_int_t)st.rtp_lost));
		json_object_set_new(o, "jitter", json_integer(st.rtp_jitter));
	}
	return o;
}

static json_t *cmd_stats(json_t *req, char *err, size_t len, void *ctx)
{
	(void)ctx;
	json_t *id = json_object_get(req, "id");
	if (id) {
		struct pair *p = json_is_integer(id) && json_integer_value(id) > 0
					 ? pair_find((uint64_t)json_integer_value(id))
					 : NULL;
		if (!p) {
			snprintf(err, len, "no pair with that id");
			return NULL;
		}
		return json_pack("{s:I, s:s, s:o, s:o}", "id", (json_int_t)p->id, "tag", p->tag, "a",
				 leg_json(&p->a), "b", leg_json(&p->b));
	}
	const char *tag = json_string_value(json_object_get(req, "tag"));
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
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "pairs", (json_int_t)pairs, "rx",
			 (json_int_t)rx, "tx", (json_int_t)relayed, "rtcp", (json_int_t)rtcp,
			 "drops", (json_int_t)drops, "wrong_source", (json_int_t)wrong, "lost",
			 (json_int_t)lost);
}

int pairs_each_leg(const char *tag, int leg, int (*fn)(const struct media_ep *ep, void *ctx),
		   void *ctx)
{
	int found = 0;
	for (struct pair *p = all_pairs; p; p = p->next) {
		if (strcmp(p->tag, tag) != 0)
			continue;
		found = 1;
		int rc = fn(leg ? &p->b : &p->a, ctx);
		if (rc != 0)
			return rc;
	}
	return found ? 0 : -ENOENT;
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
