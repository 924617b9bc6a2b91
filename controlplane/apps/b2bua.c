/* b2bua: call set-up (routing to destinations, failover, redirects, early media), the
 * media plan of both legs, and teardown with call records. In-dialog traffic is in
 * b2bua_dlg.c. */
#include "controlplane/apps/b2bua_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/ops/cdr.h"
#include "dataplane/rtp.h"
#include "util/log.h"
#include "util/time.h"

#define B2B_BUCKETS 4096

const struct config *b2b_cfg;
static struct bcall *all_calls;
static unsigned n_calls;

/* Over the Call-ID's number part (before '@'), which is all b2bua_owns() is given. */
static unsigned b2b_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s && *s != '@'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h & (B2B_BUCKETS - 1);
}

static struct b2b_hnode *hbuckets[B2B_BUCKETS];

static void b2b_hash_add(struct bcall *c, int side)
{
	struct b2b_hnode *n = &c->leg[side].hnode;
	unsigned h = b2b_hash(c->leg[side].dlg.call_id);
	n->call = c;
	n->side = side;
	n->next = hbuckets[h];
	hbuckets[h] = n;
}

static void b2b_hash_del(struct bcall *c, int side)
{
	struct b2b_hnode *n = &c->leg[side].hnode;
	if (!n->call)
		return;
	struct b2b_hnode **pp = &hbuckets[b2b_hash(c->leg[side].dlg.call_id)];
	while (*pp && *pp != n)
		pp = &(*pp)->next;
	if (*pp)
		*pp = n->next;
	n->call = NULL;
}

struct bcall *b2b_find(const char *call_id, int *side)
{
	for (struct b2b_hnode *n = hbuckets[b2b_hash(call_id)]; n; n = n->next) {
		if (strcmp(n->call->leg[n->side].dlg.call_id, call_id) == 0) {
			if (side)
				*side = n->side;
			return n->call;
		}
	}
	return NULL;
}

unsigned b2bua_count(void) { return n_calls; }

struct bcall *b2b_first(void) { return all_calls; }

struct bcall *b2b_find_msg(const osip_message_t *m, int *side)
{
	char id[256];
	return m->call_id ? b2b_find(dialog_call_id_of(m, id, sizeof(id)), side) : NULL;
}

int b2bua_owns(const char *call_id)
{
	size_t len = strlen(call_id);
	for (struct b2b_hnode *n = hbuckets[b2b_hash(call_id)]; n; n = n->next) {
		const char *id = n->call->leg[n->side].dlg.call_id;
		if (strncmp(id, call_id, len) == 0 && (id[len] == '\0' || id[len] == '@'))
			return 1;
	}
	return 0;
}

int b2bua_init(const struct config *cfg)
{
	b2b_cfg = cfg;
	return 0;
}

void b2bua_shutdown(void)
{
	while (all_calls) {
		struct bcall *c = all_calls;
		/* a pending B leg gets no CANCEL on the way out: its own Timer C ends it */
		if (c->a_ist && c->state < B_ANSWERED)
			sip_txn_reply(c->a_ist, 503, NULL);
		b2b_end(c, "shutdown", c->state >= B_ANSWERED, c->state >= B_ANSWERED);
	}
}

osip_message_t *b2b_reply(const osip_message_t *req, int code, const char *reason,
			  const struct leg *l)
{
	osip_generic_param_t *tag = NULL;
	const char *t = NULL;
	if (l && l->dlg_up && osip_from_get_tag(l->dlg.local, &tag) == 0 && tag)
		t = tag->gvalue;
	osip_message_t *r = sip_response(req, code, t, NULL, 0);
	if (r && reason) {
		osip_free(r->reason_phrase);
		r->reason_phrase = osip_strdup(reason);
	}
	return r;
}

/* ---- media ---- */

static struct media_leg_opts leg_opts(const struct bcall *c, int side)
{
	const struct leg *l = &c->leg[side];
	struct media_leg_opts o = {.dir = STREAM_DIR_RECV | STREAM_DIR_SEND};
	if (l->have_sdp)
		o.dir = b2bsdp_stream_dir(&l->sdp);
	if (c->have_plan) {
		int other = !side;
		o.map.audio_in = c->plan.codec[side].pt;
		o.map.audio_out = c->plan.codec[other].pt;
		if (c->plan.te_pt[side] >= 0 && c->plan.te_pt[other] >= 0) {
			o.map.te_in = (uint8_t)c->plan.te_pt[side];
			o.map.te_out = (uint8_t)c->plan.te_pt[other];
		}
		if (c->plan.transcode)
			o.map.g711 = c->plan.codec[side].pt == 0 ? STREAM_G711_U2A
								 : STREAM_G711_A2U;
	}
	return o;
}

int b2b_apply_media(struct bcall *c)
{
	struct media_peer p[2];
	struct media_leg_opts o[2];
	for (int s = 0; s < 2; s++) {
		struct leg *l = &c->leg[s];
		memset(&p[s], 0, sizeof(p[s]));
		if (l->have_sdp && l->sdp.addr.s_addr && l->sdp.port) {
			p[s].ip = l->sdp.addr;
			p[s].port = l->sdp.port;
		}
		o[s] = leg_opts(c, s);
	}
	int rc = media_ep_relay(&c->leg[LEG_A].ep, &c->leg[LEG_B].ep, &p[LEG_A], &p[LEG_B],
				(uint8_t)b2b_cfg->media_latch, false, &o[LEG_A], &o[LEG_B]);
	if (rc != 0)
		LOG_E("b2bua", "%s: cannot publish media: %d", c->leg[LEG_A].dlg.call_id, rc);
	return rc;
}

/* Our SDP towards leg @side: an answer to @offer (that leg's offer), or an offer. */
int b2b_sdp_for(struct bcall *c, int side, const struct sdp_stream *offer, bool as_offer,
		enum sdp_dir dir)
{
	struct leg *l = &c->leg[side];
	struct in_addr local = media_addr(l->ep.addr_idx);
	unsigned ptime = b2b_cfg->media_ptime;
	int n;
	l->sdp_ver++;
	if (!as_offer) {
		struct sdp_nego nego = {.codec = c->plan.codec[side],
					.te_pt = c->plan.te_pt[side],
					.dir = dir,
					.ptime = offer->ptime ? offer->ptime : ptime};
		n = sdp_write_answer(l->sdp_out, sizeof(l->sdp_out), offer, &nego, local,
				     l->ep.port, l->sess_id, l->sdp_ver);
	} else if (c->have_plan) {
		n = b2bsdp_write_offer(l->sdp_out, sizeof(l->sdp_out), &c->plan.codec[side],
				       c->plan.te_pt[side], local, l->ep.port, ptime, l->sess_id,
				       l->sdp_ver, dir);
	} else {
		const char *names[B2BSDP_MAX_CODECS + CONFIG_MAX_CODECS];
		unsigned k = 0;
		const struct leg *o = &c->leg[!side];
		if (o->have_sdp)
			k = b2bsdp_offer_codecs(&o->sdp, names, B2BSDP_MAX_CODECS);
		if (k == 0)
			for (; k < b2b_cfg->media_n_codecs; k++)
				names[k] = b2b_cfg->media_codecs[k];
		n = sdp_write_offer_dir(l->sdp_out, sizeof(l->sdp_out), names, k, local,
					l->ep.port, ptime, l->sess_id, l->sdp_ver, dir);
	}
	l->sdp_out_len = n;
	return n < 0 ? -1 : 0;
}

/* ---- teardown ---- */

static void leg_json(struct jw *w, const struct bcall *c, int side)
{
	const struct leg *l = &c->leg[side];
	struct stream_stats st;
	media_ep_stats(&l->ep, &st);
	uint64_t rx = st.rx_pkts, relayed = st.tx_pkts;
	int64_t lost = st.rtp_lost;
	jw_obj_begin(w);
	jw_kv_str(w, "call_id", l->dlg_up ? l->dlg.call_id : "-");
	jw_kv_u64(w, "rtp_in", rx);
	jw_kv_u64(w, "rtp_relayed", relayed);
	jw_kv_i64(w, "rtp_lost", lost);
	jw_kv_u64(w, "jitter", st.rtp_jitter);
	jw_obj_end(w);
}

static void b2b_cdr(const struct bcall *c, const char *reason)
{
	struct jw w;
	jw_init(&w);
	cdr_begin(&w, "b2bua");
	jw_kv_str(&w, "call_id_a", c->leg[LEG_A].dlg.call_id);
	jw_kv_str(&w, "call_id_b", c->leg[LEG_B].dlg_up ? c->leg[LEG_B].dlg.call_id : "-");
	jw_kv_str(&w, "caller", c->from_uri ? c->from_uri : "-");
	jw_kv_str(&w, "callee", c->to_uri ? c->to_uri : "-");
	jw_kv_str(&w, "route", c->route);
	char t[32];
	cdr_time(c->created_wall_ms, t, sizeof(t));
	jw_kv_str(&w, "start", t);
	if (c->answered_wall_ms) {
		cdr_time(c->answered_wall_ms, t, sizeof(t));
		jw_kv_str(&w, "answer", t);
		jw_kv_u64(&w, "duration_ms", time_now_ms() - c->answered_ms);
	}
	jw_kv_str(&w, "end_reason", reason);
	jw_key(&w, "a_to_b");
	leg_json(&w, c, LEG_A);
	jw_key(&w, "b_to_a");
	leg_json(&w, c, LEG_B);
	cdr_emit(&w);
	jw_free(&w);
}

static void b2b_send_bye(struct leg *l)
{
	if (!l->dlg_up)
		return;
	osip_message_t *bye = dialog_request(&l->dlg, "BYE", 0);
	if (bye)
		sip_request_send(bye, &l->dlg.peer, NULL, NULL);
}

static void b2b_disown(osip_transaction_t *tr)
{
	if (tr)
		sip_txn_own(tr, NULL, NULL);
}

void b2b_end(struct bcall *c, const char *reason, bool bye_a, bool bye_b)
{
	LOG_I("b2bua", "ended %s -> %s: %s", c->leg[LEG_A].dlg.call_id,
	      c->leg[LEG_B].dlg_up ? c->leg[LEG_B].dlg.call_id : "-", reason);
	if (bye_a)
		b2b_send_bye(&c->leg[LEG_A]);
	if (bye_b)
		b2b_send_bye(&c->leg[LEG_B]);
	b2b_cdr(c, reason);
	b2b_disown(c->a_ist);
	b2b_disown(c->b_ict);
	for (int i = 0; i < B2B_MAX_FWD; i++) {
		b2b_disown(c->fwd[i].server);
		b2b_disown(c->fwd[i].client);
	}
	b2b_hash_del(c, LEG_B);
	b2b_hash_del(c, LEG_A);
	if (c->prev)
		c->prev->next = c->next;
	else
		all_calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	for (int s = 0; s < 2; s++) {
		struct leg *l = &c->leg[s];
		media_ep_release(&l->ep);
		if (l->ok)
			osip_message_free(l->ok);
		if (l->ack)
			osip_message_free(l->ack);
		if (l->dlg_up)
			dialog_free(&l->dlg);
	}
	free(c->from_uri);
	free(c->to_uri);
	free(c);
	n_calls--;
}

/* ---- set-up ---- */

static void b2b_ops_response(void *owner, osip_transaction_t *tr, osip_message_t *resp);
static void b2b_ops_timeout(void *owner, osip_transaction_t *tr);
static void b2b_ops_ended(void *owner, osip_transaction_t *tr);

const struct sip_txn_ops b2b_txn_ops = {
	.response = b2b_ops_response,
	.timeout = b2b_ops_timeout,
	.ended = b2b_ops_ended,
};

void b2b_leg_ok(struct bcall *c, int side, osip_message_t *ok)
{
	struct leg *l = &c->leg[side];
	if (l->ok)
		osip_message_free(l->ok);
	l->ok = NULL;
	if (osip_message_clone(ok, &l->ok) != 0)
		return;
	l->ok_cseq = (uint32_t)strtoul(ok->cseq->number, NULL, 10);
	uint64_t now = time_now_ms();
	l->rtx_iv_ms = sip_t1_ms();
	l->rtx_at_ms = now + l->rtx_iv_ms;
	l->ack_deadline_ms = now + 64u * sip_t1_ms();
}

/* The final answer to A when no destination is left: the best one seen (RFC 3261 16.7:
 * 6xx first, else the lowest class). */
static void b2b_fail(struct bcall *c)
{
	int code = c->best_code ? c->best_code : 480;
	if (c->a_ist) {
		osip_message_t *r = b2b_reply(c->a_ist->orig_request, code,
					      c->best_reason[0] ? c->best_reason : NULL,
					      &c->leg[LEG_A]);
		if (r)
			sip_txn_respond(c->a_ist, r);
	}
	char why[96];
	snprintf(why, sizeof(why), "no destination answered (%d)", code);
	b2b_end(c, why, false, false);
}

static void b2b_note_failure(struct bcall *c, int code, const char *reason)
{
	int best = c->best_code;
	bool better = best == 0 || (code >= 600 && best < 600) ||
		      (best < 600 && code < 600 && code / 100 < best / 100);
	if (better) {
		c->best_code = code;
		snprintf(c->best_reason, sizeof(c->best_reason), "%s", reason ? reason : "");
	}
}

static osip_uri_t *b2b_target(const char *user, const struct sockaddr_in *dst)
{
	osip_uri_t *u = NULL;
	if (osip_uri_init(&u) != 0)
		return NULL;
	char host[INET_ADDRSTRLEN], port[8];
	inet_ntop(AF_INET, &dst->sin_addr, host, sizeof(host));
	snprintf(port, sizeof(port), "%u", ntohs(dst->sin_port));
	osip_uri_set_scheme(u, osip_strdup("sip"));
	if (user[0])
		osip_uri_set_username(u, osip_strdup(user));
	osip_uri_set_host(u, osip_strdup(host));
	osip_uri_set_port(u, osip_strdup(port));
	return u;
}

/* (Re)start leg B's dialog towards @dst: same Call-ID across attempts, new CSeq. */
static int b2b_leg_b_dialog(struct bcall *c, const osip_message_t *a_req,
			    const struct sockaddr_in *dst)
{
	struct leg *b = &c->leg[LEG_B];
	char call_id[64], tag[24];
	uint32_t cseq = 0;
	if (b->dlg_up) {
		snprintf(call_id, sizeof(call_id), "%s", b->dlg.call_id);
		cseq = b->dlg.local_cseq;
		b2b_hash_del(c, LEG_B);
		dialog_free(&b->dlg);
		b->dlg_up = false;
	} else {
		char tok[24];
		sip_random_token(tok, sizeof(tok));
		snprintf(call_id, sizeof(call_id), "%s@mgw", tok);
	}
	osip_from_t *from = NULL;
	osip_to_t *to = NULL;
	osip_uri_t *target = b2b_target(c->user, dst);
	int rc = -1;
	if (target && osip_from_clone(a_req->from, &from) == 0 &&
	    osip_to_clone(a_req->to, &to) == 0) {
		osip_generic_param_t *t = NULL;
		sip_random_token(tag, sizeof(tag)); /* our own tag on leg B */
		if (osip_from_get_tag(from, &t) == 0 && t) {
			osip_free(t->gvalue);
			t->gvalue = osip_strdup(tag);
		} else {
			osip_from_set_tag(from, osip_strdup(tag));
		}
		rc = dialog_init_uac(&b->dlg, call_id, from, to, target, dst);
	}
	if (from)
		osip_from_free(from);
	if (to)
		osip_to_free(to);
	if (target)
		osip_uri_free(target);
	if (rc != 0)
		return -1;
	b->dlg.local_cseq = cseq ? cseq : 1;
	b->dlg_up = true;
	b2b_hash_add(c, LEG_B);
	return 0;
}

static int b2b_send_invite(struct bcall *c, const struct route_dest *d)
{
	const osip_message_t *a_req = c->a_ist->orig_request;
	if (b2b_leg_b_dialog(c, a_req, &d->addr) != 0)
		return -1;
	struct leg *b = &c->leg[LEG_B];
	osip_message_t *inv = dialog_request(&b->dlg, "INVITE", 0);
	if (!inv)
		return -1;
	enum sdp_dir dir = c->leg[LEG_A].have_sdp ? c->leg[LEG_A].sdp.dir : SDP_SENDRECV;
	if (b2b_sdp_for(c, LEG_B, NULL, true, dir) != 0 ||
	    dialog_copy_body(inv, NULL, b->sdp_out, b->sdp_out_len) != 0) {
		osip_message_free(inv);
		return -1;
	}
	c->b_invite_cseq = b->dlg.local_cseq;
	c->b_ict = sip_request_send(inv, &d->addr, c, &b2b_txn_ops);
	if (!c->b_ict)
		return -1;
	c->state = B_TRYING;
	LOG_I("b2bua", "%s: trying %s", c->leg[LEG_A].dlg.call_id, d->text);
	return 0;
}

static void b2b_try_next(struct bcall *c)
{
	while (c->next_dest < c->n_dests && !c->cancelled) {
		const struct route_dest *d = &c->dests[c->next_dest++];
		if (b2b_send_invite(c, d) == 0)
			return;
		b2b_note_failure(c, 503, "Service Unavailable");
	}
	if (c->cancelled)
		b2b_end(c, "cancelled by caller", false, false);
	else
		b2b_fail(c);
}

static int b2b_a_offer(struct bcall *c, const osip_message_t *req)
{
	osip_body_t *body = NULL;
	if (osip_message_get_body(req, 0, &body) != 0 || !body || !body->body || !body->length)
		return 0; /* offer-less INVITE: B's answer comes back as our offer to A */
	struct leg *a = &c->leg[LEG_A];
	int rc = sdp_parse(body->body, body->length, &a->sdp);
	if (rc == SDP_OK) {
		const char *names[B2BSDP_MAX_CODECS];
		if (b2bsdp_offer_codecs(&a->sdp, names, B2BSDP_MAX_CODECS) == 0)
			rc = SDP_ERR_NO_CODEC;
	}
	if (rc == SDP_ERR_NO_CODEC || rc == SDP_ERR_NO_AUDIO)
		return 488;
	if (rc != SDP_OK)
		return 400;
	a->have_sdp = true;
	return 0;
}

static struct bcall *b2b_new(osip_transaction_t *tr, osip_message_t *req,
			     const struct route *route)
{
	struct bcall *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	char tag[24];
	sip_random_token(tag, sizeof(tag));
	if (!ctx || dialog_init_uas(&c->leg[LEG_A].dlg, req, tag, &ctx->src) != 0) {
		dialog_free(&c->leg[LEG_A].dlg);
		free(c);
		return NULL;
	}
	c->leg[LEG_A].dlg_up = true;
	b2b_hash_add(c, LEG_A);
	c->next = all_calls;
	if (all_calls)
		all_calls->prev = c;
	all_calls = c;
	n_calls++;
	c->a_ist = tr;
	sip_txn_own(tr, c, &b2b_txn_ops);
	snprintf(c->route, sizeof(c->route), "%s", route->name);
	snprintf(c->user, sizeof(c->user), "%s", dialog_ruri_user(req));
	memcpy(c->dests, route->dests, route->n_dests * sizeof(route->dests[0]));
	c->n_dests = route->n_dests;
	c->created_ms = time_now_ms();
	c->created_wall_ms = cdr_wall_ms();
	char *s = NULL;
	if (osip_uri_to_str(req->from->url, &s) == 0 && s) {
		c->from_uri = strdup(s);
		osip_free(s);
	}
	if (osip_uri_to_str(req->to->url, &s) == 0 && s) {
		c->to_uri = strdup(s);
		osip_free(s);
	}
	for (int i = 0; i < 2; i++)
		c->leg[i].sess_id = ((uint64_t)time(NULL) << 16) ^ (uint64_t)random();
	return c;
}

void b2bua_start(osip_transaction_t *tr, osip_message_t *req, const struct route *route)
{
	struct bcall *c = b2b_new(tr, req, route);
	if (!c) {
		sip_txn_reply(tr, 500, NULL);
		return;
	}
	sip_txn_reply(tr, 100, NULL);
	int code = b2b_a_offer(c, req);
	if (code == 0 && (media_ep_alloc(&c->leg[LEG_A].ep) != 0 ||
			  media_ep_alloc(&c->leg[LEG_B].ep) != 0))
		code = 503;
	if (code == 0 && b2b_apply_media(c) != 0)
		code = 500;
	if (code) {
		osip_message_t *r = b2b_reply(req, code, NULL, &c->leg[LEG_A]);
		if (r)
			sip_txn_respond(tr, r);
		b2b_end(c, code == 488 ? "no codec mgw can carry" : "cannot set up media",
			false, false);
		return;
	}
	LOG_I("b2bua", "new %s for %s via route %s", c->leg[LEG_A].dlg.call_id, c->user,
	      c->route);
	b2b_try_next(c);
}

/* ---- responses to our INVITE ---- */

/* B's SDP (an answer to our offer) fixes the plan; A gets our answer to its offer, or, when
 * A made none, our offer. Returns 0 or a status for A. */
static int b2b_take_b_answer(struct bcall *c, const osip_message_t *resp)
{
	osip_body_t *body = NULL;
	if (osip_message_get_body(resp, 0, &body) != 0 || !body || !body->body || !body->length)
		return 0;
	struct leg *a = &c->leg[LEG_A], *b = &c->leg[LEG_B];
	struct sdp_stream ans;
	if (sdp_parse(body->body, body->length, &ans) != SDP_OK)
		return 502;
	const struct sdp_stream *a_side = a->have_sdp ? &a->sdp : &ans;
	struct b2bsdp_plan plan;
	if (b2bsdp_plan(a_side, &ans, &plan) != SDP_OK)
		return 488;
	b->sdp = ans;
	b->have_sdp = true;
	c->plan = plan;
	c->have_plan = true;
	int rc = a->have_sdp ? b2b_sdp_for(c, LEG_A, &a->sdp, false, ans.dir)
			     : b2b_sdp_for(c, LEG_A, NULL, true, ans.dir);
	if (rc != 0 || b2b_apply_media(c) != 0)
		return 500;
	return 0;
}

static void b2b_to_a(struct bcall *c, const osip_message_t *resp, bool with_sdp)
{
	struct leg *a = &c->leg[LEG_A];
	if (!c->a_ist)
		return;
	osip_message_t *r = b2b_reply(c->a_ist->orig_request, resp->status_code,
				      resp->reason_phrase, a);
	if (!r)
		return;
	if (with_sdp && a->sdp_out_len > 0)
		dialog_copy_body(r, NULL, a->sdp_out, a->sdp_out_len);
	if (resp->status_code >= 200 && resp->status_code < 300)
		b2b_leg_ok(c, LEG_A, r);
	sip_txn_respond(c->a_ist, r);
}

static void b2b_ack_b(struct bcall *c)
{
	struct leg *b = &c->leg[LEG_B];
	osip_message_t *ack = dialog_request(&b->dlg, "ACK", c->b_invite_cseq);
	if (!ack || sip_add_via(ack) != 0) {
		if (ack)
			osip_message_free(ack);
		return;
	}
	sip_send_to(ack, &b->dlg.peer);
	if (b->ack)
		osip_message_free(b->ack);
	b->ack = ack;
}

static void b2b_b_answered(struct bcall *c, osip_message_t *resp)
{
	dialog_update_from_response(&c->leg[LEG_B].dlg, resp);
	if (c->cancelled) { /* answered as the CANCEL crossed it */
		b2b_ack_b(c);
		b2b_end(c, "cancelled by caller", false, true);
		return;
	}
	/* the media plan first: B may send RTP as soon as it has our ACK */
	int code = b2b_take_b_answer(c, resp);
	b2b_ack_b(c);
	if (code == 0 && !c->have_plan)
		code = 502; /* B answered without SDP: nothing to give A */
	if (code) {
		osip_message_t *r = b2b_reply(c->a_ist->orig_request, code, NULL, &c->leg[LEG_A]);
		if (r)
			sip_txn_respond(c->a_ist, r);
		b2b_end(c, "B's answer unusable", false, true);
		return;
	}
	c->state = B_ANSWERED;
	c->answered_ms = time_now_ms();
	c->answered_wall_ms = cdr_wall_ms();
	b2b_to_a(c, resp, true);
	LOG_I("b2bua", "%s answered by %s (%s%s)", c->leg[LEG_A].dlg.call_id,
	      c->dests[c->next_dest - 1].text, c->plan.codec[LEG_B].name,
	      c->plan.transcode ? ", transcoded" : "");
}

static void b2b_redirect(struct bcall *c, const osip_message_t *resp)
{
	osip_contact_t *ct = NULL;
	if (c->redirects >= B2B_MAX_REDIRECTS || osip_message_get_contact(resp, 0, &ct) < 0 ||
	    !ct || !ct->url || !ct->url->host)
		return;
	struct route_dest d = {.transport = ROUTE_UDP};
	d.addr.sin_family = AF_INET;
	if (inet_pton(AF_INET, ct->url->host, &d.addr.sin_addr) != 1)
		return; /* names are resolved at route load only; not on the call path */
	d.addr.sin_port = htons((uint16_t)(ct->url->port ? atoi(ct->url->port) : 5060));
	snprintf(d.text, sizeof(d.text), "redirect:%s:%u", ct->url->host,
		 ntohs(d.addr.sin_port));
	if (ct->url->username)
		snprintf(c->user, sizeof(c->user), "%s", ct->url->username);
	/* the redirect target goes next, ahead of the remaining destinations */
	unsigned n = c->n_dests;
	if (n >= sizeof(c->dests) / sizeof(c->dests[0]))
		return;
	memmove(&c->dests[c->next_dest + 1], &c->dests[c->next_dest],
		(n - c->next_dest) * sizeof(c->dests[0]));
	c->dests[c->next_dest] = d;
	c->n_dests++;
	c->redirects++;
}

static void b2b_initial_response(struct bcall *c, osip_message_t *resp)
{
	int code = resp->status_code;
	if (code < 200) {
		if (code == 100 || c->cancelled)
			return;
		dialog_update_from_response(&c->leg[LEG_B].dlg, resp);
		c->state = B_EARLY;
		int rc = b2b_take_b_answer(c, resp); /* 183 with SDP: early media */
		b2b_to_a(c, resp, rc == 0 && c->have_plan);
		return;
	}
	if (code < 300) {
		b2b_b_answered(c, resp);
		return;
	}
	LOG_I("b2bua", "%s: %s answered %d", c->leg[LEG_A].dlg.call_id,
	      c->dests[c->next_dest - 1].text, code);
	/* that transaction lingers (Timer D) but no longer concerns the call */
	sip_txn_own(c->b_ict, NULL, NULL);
	c->b_ict = NULL;
	c->leg[LEG_B].have_sdp = false;
	c->have_plan = false;
	if (code < 400)
		b2b_redirect(c, resp);
	else
		b2b_note_failure(c, code, resp->reason_phrase);
	b2b_try_next(c);
}

static void b2b_ops_response(void *owner, osip_transaction_t *tr, osip_message_t *resp)
{
	struct bcall *c = owner;
	if (tr == c->b_ict)
		b2b_initial_response(c, resp);
	else
		b2b_fwd_response(c, tr, resp);
}

static void b2b_ops_timeout(void *owner, osip_transaction_t *tr)
{
	struct bcall *c = owner;
	if (tr != c->b_ict) {
		b2b_fwd_ended(c, tr);
		return;
	}
	c->b_ict = NULL;
	sip_txn_own(tr, NULL, NULL);
	LOG_I("b2bua", "%s: %s did not answer (Timer B)", c->leg[LEG_A].dlg.call_id,
	      c->dests[c->next_dest - 1].text);
	b2b_note_failure(c, 408, "Request Timeout");
	b2b_try_next(c);
}

static void b2b_ops_ended(void *owner, osip_transaction_t *tr)
{
	struct bcall *c = owner;
	if (tr == c->a_ist) {
		c->a_ist = NULL;
		return;
	}
	if (tr == c->b_ict) {
		c->b_ict = NULL;
		return;
	}
	b2b_fwd_ended(c, tr);
}
