#include "controlplane/apps/call.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "controlplane/apps/b2bua.h"
#include "controlplane/ops/cdr.h"
#include "controlplane/dialog/dialog.h"
#include "controlplane/media/media.h"
#include "controlplane/apps/routes.h"
#include "controlplane/sip/sdp.h"
#include "controlplane/sip/sip.h"
#include "dataplane/rtp.h"
#include "util/log.h"
#include "util/time.h"

#define CALL_BUCKETS 4096
#define CALL_SDP_MAX 1024
#define SIP_T2_MS 4000

enum call_state { CALL_EARLY, CALL_ANSWERED, CALL_CONFIRMED };
static const char *const state_names[] = {"early", "answered", "confirmed"};

struct call {
	struct call *hnext;              /* hash chain by Call-ID */
	struct call *prev, *next;        /* all calls */
	struct call *tprev, *tnext;      /* calls with a pending timer (early, answered) */
	bool on_timers;
	char *call_id;
	char *from_tag;
	char to_tag[20];
	char *from_uri, *to_uri;
	char route[32];
	uint32_t invite_cseq;
	enum call_state state;
	osip_transaction_t *ist;         /* while the INVITE server transaction lives */
	osip_message_t *ok;              /* our 2xx, retransmitted until the ACK */
	struct sockaddr_in peer;         /* signalling address of the caller */
	uint64_t created_ms, answered_ms;
	uint64_t answer_at_ms;           /* early: when the echo app answers */
	uint64_t rtx_at_ms, rtx_interval_ms, ack_deadline_ms;
	struct media_ep ep;
	bool delayed_offer;              /* INVITE without SDP: our offer is in the 2xx */
	bool have_nego;
	struct sdp_stream remote;
	struct sdp_nego nego;
	struct in_addr seen_ip;          /* where RTP really comes from (first packet) */
	uint16_t seen_port;
	uint64_t sdp_sess_id, sdp_ver;
	char sdp[CALL_SDP_MAX];
	int sdp_len;
};

static struct call *buckets[CALL_BUCKETS];
static struct call *all_calls, *timer_calls;
static unsigned n_calls;
static const struct config *cfg;
static struct routes *routes;
static const char *codecs[CONFIG_MAX_CODECS];

static unsigned call_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h & (CALL_BUCKETS - 1);
}

static const char *msg_tag(osip_from_t *f)
{
	osip_generic_param_t *tag = NULL;
	if (!f || osip_from_get_tag(f, &tag) != 0 || !tag || !tag->gvalue)
		return NULL;
	return tag->gvalue;
}

static struct call *call_find(const osip_message_t *m)
{
	const char *id = m->call_id ? m->call_id->number : NULL;
	const char *ftag = msg_tag(m->from);
	if (!id)
		return NULL;
	for (struct call *c = buckets[call_hash(id)]; c; c = c->hnext)
		if (strcmp(c->call_id, id) == 0 &&
		    (!ftag || !c->from_tag || strcmp(ftag, c->from_tag) == 0))
			return c;
	return NULL;
}

static bool call_id_taken(const char *id)
{
	for (struct call *c = buckets[call_hash(id)]; c; c = c->hnext)
		if (strcmp(c->call_id, id) == 0)
			return true;
	return false;
}

static void timers_add(struct call *c)
{
	if (c->on_timers)
		return;
	c->on_timers = true;
	c->tprev = NULL;
	c->tnext = timer_calls;
	if (timer_calls)
		timer_calls->tprev = c;
	timer_calls = c;
}

static void timers_del(struct call *c)
{
	if (!c->on_timers)
		return;
	c->on_timers = false;
	if (c->tprev)
		c->tprev->tnext = c->tnext;
	else
		timer_calls = c->tnext;
	if (c->tnext)
		c->tnext->tprev = c->tprev;
}

static void call_cdr(const struct call *c, const char *reason, const struct stream_stats *rt)
{
	struct jw w;
	jw_init(&w);
	cdr_begin(&w, "echo");
	jw_kv_str(&w, "call_id", c->call_id);
	jw_kv_str(&w, "caller", c->from_uri);
	jw_kv_str(&w, "callee", c->to_uri);
	jw_kv_str(&w, "route", c->route);
	jw_kv_u64(&w, "duration_ms", time_now_ms() - c->created_ms);
	jw_kv_str(&w, "end_reason", reason);
	jw_kv_u64(&w, "rtp_in", rt->rx_pkts);
	jw_kv_u64(&w, "rtp_out", rt->tx_pkts);
	jw_kv_i64(&w, "rtp_lost", rt->rtp_lost);
	cdr_emit(&w);
	jw_free(&w);
}

static void call_end(struct call *c, const char *reason)
{
	struct stream_stats rt;
	media_ep_stats(&c->ep, &rt);
	LOG_I("call", "ended %s (%s) after %llu ms: %s, rtp in %llu out %llu", c->call_id,
	      state_names[c->state], (unsigned long long)(time_now_ms() - c->created_ms), reason,
	      (unsigned long long)rt.rx_pkts, (unsigned long long)rt.tx_pkts);
	call_cdr(c, reason, &rt);
	media_ep_release(&c->ep);
	timers_del(c);
	struct call **pp = &buckets[call_hash(c->call_id)];
	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	if (c->prev)
		c->prev->next = c->next;
	else
		all_calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->ist) {
		struct sip_txn *ctx = osip_transaction_get_your_instance(c->ist);
		if (ctx)
			ctx->call = NULL;
	}
	if (c->ok)
		osip_message_free(c->ok);
	free(c->call_id);
	free(c->from_tag);
	free(c->from_uri);
	free(c->to_uri);
	free(c);
	n_calls--;
}

static char *url_str(osip_from_t *f)
{
	char *s = NULL;
	if (!f || !f->url || osip_uri_to_str(f->url, &s) != 0)
		return strdup("-");
	char *r = strdup(s);
	osip_free(s);
	return r;
}

static struct call *call_new(osip_transaction_t *tr, const osip_message_t *req)
{
	struct call *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	const char *ftag = msg_tag(req->from);
	c->call_id = strdup(req->call_id->number);
	c->from_tag = ftag ? strdup(ftag) : NULL;
	c->from_uri = url_str(req->from);
	c->to_uri = url_str(req->to);
	if (!c->call_id || (ftag && !c->from_tag) || !c->from_uri || !c->to_uri) {
		free(c->call_id);
		free(c->from_tag);
		free(c->from_uri);
		free(c->to_uri);
		free(c);
		return NULL;
	}
	snprintf(c->to_tag, sizeof(c->to_tag), "%08lx%08lx", random(), random());
	c->invite_cseq = (uint32_t)strtoul(req->cseq->number, NULL, 10);
	c->ist = tr;
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	if (ctx) {
		ctx->call = c;
		c->peer = ctx->src;
	}
	c->created_ms = time_now_ms();
	c->sdp_sess_id = ((uint64_t)time(NULL) << 16) ^ (uint64_t)random();
	c->sdp_ver = 1;
	unsigned h = call_hash(c->call_id);
	c->hnext = buckets[h];
	buckets[h] = c;
	c->next = all_calls;
	if (all_calls)
		all_calls->prev = c;
	all_calls = c;
	n_calls++;
	return c;
}

/* ---- answering ---- */

static const char *sdp_body(const osip_message_t *m, size_t *len)
{
	osip_body_t *body = NULL;
	if (osip_message_get_body(m, 0, &body) != 0 || !body || !body->body || body->length == 0)
		return NULL;
	*len = body->length;
	return body->body;
}

static bool content_is_sdp(const osip_message_t *m)
{
	const osip_content_type_t *ct = m->content_type;
	return ct && ct->type && ct->subtype && strcasecmp(ct->type, "application") == 0 &&
	       strcasecmp(ct->subtype, "sdp") == 0;
}

/* Negotiate @req's offer (if any) into @c and write our answer or offer into c->sdp.
 * Returns 0, or the SIP status to refuse with. */
static int call_negotiate(struct call *c, const osip_message_t *req)
{
	size_t len = 0;
	const char *body = sdp_body(req, &len);
	if (!body) {
		if (c->have_nego) /* re-INVITE without offer: offer what we use */
			return 0;
		c->delayed_offer = true;
		c->sdp_len = sdp_write_offer(c->sdp, sizeof(c->sdp), codecs, cfg->media_n_codecs,
					     media_ep_addr(&c->ep), c->ep.port, cfg->media_ptime,
					     c->sdp_sess_id, c->sdp_ver);
		return c->sdp_len < 0 ? 500 : 0;
	}
	if (!content_is_sdp(req))
		return 415;
	struct sdp_stream offer;
	struct sdp_nego nego;
	int rc = sdp_parse(body, len, &offer);
	if (rc == SDP_OK)
		rc = sdp_negotiate(&offer, codecs, cfg->media_n_codecs, &nego);
	switch (rc) {
	case SDP_OK:
		break;
	case SDP_ERR_NO_AUDIO:
	case SDP_ERR_NO_CODEC:
		return 488;
	default:
		return 400;
	}
	if (nego.ptime == 0)
		nego.ptime = cfg->media_ptime;
	int n = sdp_write_answer(c->sdp, sizeof(c->sdp), &offer, &nego, media_ep_addr(&c->ep), c->ep.port,
				 c->sdp_sess_id, c->sdp_ver);
	if (n < 0)
		return 500;
	c->sdp_len = n;
	c->remote = offer;
	c->nego = nego;
	c->have_nego = true;
	return 0;
}

static void call_answer(struct call *c)
{
	struct in_addr peer = c->have_nego ? c->remote.addr : (struct in_addr){0};
	uint16_t pport = c->have_nego ? c->remote.port : 0;
	struct media_peer mp = {.ip = peer, .port = pport};
	int rc = media_ep_echo(&c->ep, &mp, (uint8_t)cfg->media_latch);
	osip_message_t *ok = NULL;
	if (rc == 0 && c->ist)
		ok = sip_response(c->ist->orig_request, 200, c->to_tag, c->sdp, (size_t)c->sdp_len);
	if (!ok || osip_message_clone(ok, &c->ok) != 0) {
		LOG_E("call", "%s: cannot answer (media %d)", c->call_id, rc);
		if (ok)
			osip_message_free(ok);
		c->ok = NULL;
		if (c->ist)
			sip_txn_reply(c->ist, 500, c->to_tag);
		call_end(c, "answer failed");
		return;
	}
	sip_txn_respond(c->ist, ok);
	c->state = CALL_ANSWERED;
	c->answered_ms = time_now_ms();
	c->rtx_interval_ms = sip_t1_ms();
	c->rtx_at_ms = c->answered_ms + c->rtx_interval_ms;
	c->ack_deadline_ms = c->answered_ms + 64u * sip_t1_ms();
	timers_add(c);
}

static int call_require_check(osip_transaction_t *tr, const osip_message_t *req)
{
	osip_header_t *h = NULL;
	if (osip_message_header_get_byname(req, "require", 0, &h) < 0 || !h || !h->hvalue)
		return 0;
	osip_message_t *r = sip_response(req, 420, NULL, NULL, 0);
	if (r) {
		osip_message_set_header(r, "Unsupported", h->hvalue);
		sip_txn_respond(tr, r);
	}
	return -1;
}

static void call_reinvite(osip_transaction_t *tr, osip_message_t *req)
{
	struct call *c = call_find(req);
	const char *ttag = msg_tag(req->to);
	if (!c || !ttag || strcmp(ttag, c->to_tag) != 0) {
		sip_txn_reply(tr, 481, NULL);
		return;
	}
	if (c->state != CALL_CONFIRMED) {
		sip_txn_reply(tr, 491, NULL);
		return;
	}
	c->sdp_ver++;
	int code = call_negotiate(c, req);
	if (code) {
		c->sdp_ver--;
		sip_txn_reply(tr, code, NULL);
		return;
	}
	/* Echo reflects to whoever sends, so a new remote address needs no new stream. */
	sip_txn_respond(tr, sip_response(req, 200, NULL, c->sdp, (size_t)c->sdp_len));
}

void call_on_invite(osip_transaction_t *tr, osip_message_t *req)
{
	if (msg_tag(req->to)) {
		if (!b2bua_on_invite(tr, req))
			call_reinvite(tr, req);
		return;
	}
	if (call_require_check(tr, req) != 0)
		return;
	if (call_id_taken(req->call_id->number) || b2bua_owns(req->call_id->number)) {
		sip_txn_reply(tr, 482, NULL);
		return;
	}
	if (call_count() >= cfg->limits_max_calls) {
		osip_message_t *r = sip_response(req, 503, NULL, NULL, 0);
		if (r) {
			osip_message_set_header(r, "Retry-After", "5");
			sip_txn_respond(tr, r);
		}
		return;
	}
	const struct route *route = routes_match(routes, dialog_ruri_user(req));
	if (!route) {
		sip_txn_reply(tr, 404, NULL);
		return;
	}
	if (route->n_dests) {
		b2bua_start(tr, req, route);
		return;
	}
	struct call *c = call_new(tr, req);
	if (!c) {
		sip_txn_reply(tr, 500, NULL);
		return;
	}
	snprintf(c->route, sizeof(c->route), "%s", route->name);
	if (media_ep_alloc(&c->ep) != 0) {
		sip_txn_reply(tr, 503, NULL);
		call_end(c, "no media port free");
		return;
	}
	int code = call_negotiate(c, req);
	if (code) {
		sip_txn_reply(tr, code, NULL);
		call_end(c, code == 488 ? "no common codec" : "bad offer");
		return;
	}
	LOG_I("call", "new %s from %s to %s, media %s:%u codec %s", c->call_id, c->from_uri,
	      c->to_uri, inet_ntoa(media_ep_addr(&c->ep)), c->ep.port,
	      c->have_nego ? c->nego.codec.name : "(offer in 200)");
	sip_txn_reply(tr, 100, NULL);
	sip_txn_reply(tr, 180, c->to_tag);
	if (cfg->sip_answer_delay_ms == 0) {
		call_answer(c);
		return;
	}
	c->answer_at_ms = time_now_ms() + cfg->sip_answer_delay_ms;
	timers_add(c);
}

/* ---- in-dialog and out-of-dialog requests ---- */

static void call_on_cancel(osip_transaction_t *tr, const osip_message_t *req)
{
	struct call *c = call_find(req);
	if (!c || c->invite_cseq != strtoul(req->cseq->number, NULL, 10)) {
		sip_txn_reply(tr, 481, NULL);
		return;
	}
	sip_txn_reply(tr, 200, c->to_tag);
	if (c->state != CALL_EARLY || !c->ist)
		return; /* already answered: the CANCEL has no effect (RFC 3261 9.2) */
	sip_txn_reply(c->ist, 487, c->to_tag);
	call_end(c, "cancelled");
}

static void call_on_bye(osip_transaction_t *tr, const osip_message_t *req)
{
	struct call *c = call_find(req);
	const char *ttag = msg_tag(req->to);
	if (!c || !ttag || strcmp(ttag, c->to_tag) != 0 || c->state == CALL_EARLY) {
		sip_txn_reply(tr, 481, NULL);
		return;
	}
	sip_txn_reply(tr, 200, NULL);
	call_end(c, "BYE from caller");
}

static bool method_known(const char *m)
{
	static const char *const known[] = {"REGISTER", "INFO",  "NOTIFY", "SUBSCRIBE", "PRACK",
					    "UPDATE",   "REFER", "MESSAGE", "PUBLISH",  NULL};
	for (const char *const *k = known; *k; k++)
		if (strcmp(m, *k) == 0)
			return true;
	return false;
}

void call_on_request(osip_transaction_t *tr, osip_message_t *req)
{
	if (b2bua_on_request(tr, req))
		return;
	const char *m = req->sip_method;
	if (strcmp(m, "CANCEL") == 0)
		call_on_cancel(tr, req);
	else if (strcmp(m, "BYE") == 0)
		call_on_bye(tr, req);
	else if (strcmp(m, "OPTIONS") == 0)
		sip_txn_reply(tr, 200, msg_tag(req->to) ? NULL : "options");
	else
		sip_txn_reply(tr, method_known(m) ? 405 : 501, NULL);
}

int call_on_ack(const osip_message_t *ack)
{
	if (b2bua_on_ack(ack))
		return 0;
	struct call *c = call_find(ack);
	const char *ttag = msg_tag(ack->to);
	if (!c || !ttag || strcmp(ttag, c->to_tag) != 0 ||
	    strtoul(ack->cseq->number, NULL, 10) != c->invite_cseq) {
		LOG_D("call", "stray ACK for %s", ack->call_id->number);
		return -1;
	}
	if (c->state != CALL_ANSWERED)
		return 0; /* retransmitted ACK */
	c->state = CALL_CONFIRMED;
	timers_del(c);
	osip_message_free(c->ok);
	c->ok = NULL;
	if (!c->delayed_offer)
		return 0;
	size_t len = 0;
	const char *body = sdp_body(ack, &len);
	struct sdp_stream media;
	struct sdp_nego nego;
	if (!body || !content_is_sdp(ack) ||
	    sdp_take_answer(body, len, codecs, cfg->media_n_codecs, &media, &nego) != SDP_OK) {
		/* Without a usable answer there is no session (RFC 3264 5); no UAC leg to BYE
		 * with in this release, so the call is released here. */
		call_end(c, "no usable SDP answer in ACK");
		return 0;
	}
	c->remote = media;
	c->nego = nego;
	c->have_nego = true;
	return 0;
}

int call_on_stray_response(const osip_message_t *resp)
{
	return b2bua_on_stray_response(resp);
}

int call_absorb_invite(const osip_message_t *req, const struct sockaddr_in *src)
{
	if (b2bua_absorb_invite(req, src))
		return 1;
	struct call *c = call_find(req);
	if (!c || msg_tag(req->to) || strtoul(req->cseq->number, NULL, 10) != c->invite_cseq)
		return 0;
	if (c->state == CALL_ANSWERED && c->ok)
		sip_send_to(c->ok, src);
	return 1;
}

void call_txn_ended(void *call, osip_transaction_t *tr)
{
	struct call *c = call;
	if (c->ist != tr)
		return;
	c->ist = NULL;
	if (c->state == CALL_EARLY)
		call_end(c, "INVITE transaction ended unanswered");
}

/* ---- timers ---- */

int call_timers(int cap)
{
	uint64_t now = time_now_ms();
	uint64_t next = now + (uint64_t)cap;
	struct call *c = timer_calls;
	while (c) {
		struct call *n = c->tnext;
		if (c->state == CALL_EARLY && c->answer_at_ms && now >= c->answer_at_ms) {
			c->answer_at_ms = 0;
			timers_del(c);
			call_answer(c); /* may end the call */
		} else if (c->state == CALL_ANSWERED && now >= c->ack_deadline_ms) {
			LOG_W("call", "%s: no ACK within 64*T1", c->call_id);
			call_end(c, "no ACK");
		} else if (c->state == CALL_ANSWERED && now >= c->rtx_at_ms) {
			sip_send_to(c->ok, &c->peer);
			c->rtx_interval_ms *= 2;
			if (c->rtx_interval_ms > SIP_T2_MS)
				c->rtx_interval_ms = SIP_T2_MS;
			c->rtx_at_ms = now + c->rtx_interval_ms;
		}
		c = n;
	}
	for (c = timer_calls; c; c = c->tnext) {
		uint64_t t = c->state == CALL_EARLY ? c->answer_at_ms
			     : c->rtx_at_ms < c->ack_deadline_ms ? c->rtx_at_ms
								  : c->ack_deadline_ms;
		if (t && t < next)
			next = t;
	}
	/* B2BUA calls are many and their timers coarse: every 10 ms is soon enough */
	static uint64_t next_b2b;
	int b2b = cap;
	if (now >= next_b2b) {
		next_b2b = now + 10;
		b2b = b2bua_timers(cap);
	}
	int own = next <= now ? 0 : (int)(next - now);
	return b2b < own ? b2b : own;
}

/* ---- reporting ---- */

unsigned call_count(void) { return n_calls + b2bua_count(); }

static void jw_addr(struct jw *w, const char *key, struct in_addr a, uint16_t port)
{
	char buf[32];
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(buf, sizeof(buf), "%s:%u", ip, port);
	jw_kv_str(w, key, buf);
}

void call_list_json(struct jw *w)
{
	uint64_t now = time_now_ms();
	jw_arr_begin(w);
	for (struct call *c = all_calls; c; c = c->next) {
		struct stream_stats rt;
		media_ep_stats(&c->ep, &rt);
		jw_obj_begin(w);
		jw_kv_str(w, "call_id", c->call_id);
		jw_kv_str(w, "state", state_names[c->state]);
		jw_kv_str(w, "from", c->from_uri);
		jw_kv_str(w, "to", c->to_uri);
		jw_addr(w, "local", media_ep_addr(&c->ep), c->ep.port);
		if (c->seen_port)
			jw_addr(w, "remote", c->seen_ip, c->seen_port);
		else if (c->have_nego)
			jw_addr(w, "remote", c->remote.addr, c->remote.port);
		else
			jw_kv_str(w, "remote", "-");
		jw_kv_str(w, "codec", c->have_nego ? c->nego.codec.name : "-");
		if (c->have_nego && c->nego.te_pt >= 0)
			jw_kv_i64(w, "telephone_event_pt", c->nego.te_pt);
		jw_kv_str(w, "action", "echo");
		jw_kv_u64(w, "pkts_in", rt.rx_pkts);
		jw_kv_u64(w, "pkts_out", rt.tx_pkts);
		jw_kv_u64(w, "rtcp_in", rt.rtcp_pkts);
		jw_kv_u64(w, "age_s", (now - c->created_ms) / 1000);
		jw_obj_end(w);
	}
	b2bua_list_json(w);
	jw_arr_end(w);
}

void call_media_seen(uint64_t stream_id, uint32_t ip, uint16_t port)
{
	for (struct call *c = all_calls; c; c = c->next) {
		if (c->ep.stream_id != stream_id)
			continue;
		c->seen_ip.s_addr = ip;
		c->seen_port = ntohs(port);
		LOG_I("call", "%s: media from %s:%u", c->call_id, inet_ntoa(c->seen_ip),
		      c->seen_port);
		return;
	}
	b2bua_media_seen(stream_id, ip, port);
}

/* ---- life cycle ---- */

int call_init(const struct config *config, char *err, size_t err_len)
{
	cfg = config;
	for (unsigned i = 0; i < cfg->media_n_codecs; i++)
		codecs[i] = cfg->media_codecs[i];
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	b2bua_init(cfg);
	if (!routes)
		routes = routes_load(NULL, err, err_len); /* every call to echo */
	return routes ? 0 : -1;
}

struct routes *call_set_routes(struct routes *r)
{
	struct routes *old = routes;
	routes = r;
	return old;
}

void call_shutdown(void)
{
	b2bua_shutdown();
	while (all_calls)
		call_end(all_calls, "shutdown");
}
