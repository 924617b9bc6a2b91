/* b2bua_dlg: what crosses an established (or early) B2BUA call: CANCEL, BYE, ACK,
 * re-INVITE, UPDATE, INFO and OPTIONS from either leg, retransmissions, media timeouts, and
 * reporting. */
#include "controlplane/apps/b2bua_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/rtp.h"
#include "util/log.h"
#include "util/time.h"

#define SIP_T2_MS 4000

static const char *const side_name[2] = {"caller", "callee"};

static const char *tag_of(osip_from_t *f)
{
	osip_generic_param_t *t = NULL;
	return f && osip_from_get_tag(f, &t) == 0 && t ? t->gvalue : NULL;
}

/* The call and leg an in-dialog request belongs to: its Call-ID and our tag (To) match. */
static struct bcall *b2b_dialog_of(const osip_message_t *m, int *side)
{
	struct bcall *c = b2b_find_msg(m, side);
	if (!c)
		return NULL;
	const char *ours = tag_of(c->leg[*side].dlg.local);
	const char *theirs = tag_of(m->to);
	return ours && theirs && strcmp(ours, theirs) == 0 ? c : NULL;
}

static void b2b_respond(osip_transaction_t *tr, const struct leg *l, int code)
{
	osip_message_t *r = b2b_reply(tr->orig_request, code, NULL, l);
	if (r)
		sip_txn_respond(tr, r);
}

/* ---- CANCEL ---- */

static osip_message_t *b2b_cancel_for(const osip_message_t *inv)
{
	osip_message_t *m = NULL;
	osip_via_t *via = NULL, *v = NULL;
	if (!inv || osip_message_init(&m) != 0)
		return NULL;
	osip_message_set_method(m, osip_strdup("CANCEL"));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	int rc = osip_uri_clone(inv->req_uri, &m->req_uri);
	if (rc == 0)
		rc = osip_from_clone(inv->from, &m->from);
	if (rc == 0)
		rc = osip_to_clone(inv->to, &m->to);
	if (rc == 0)
		rc = osip_call_id_clone(inv->call_id, &m->call_id);
	if (rc == 0)
		rc = osip_cseq_clone(inv->cseq, &m->cseq);
	if (rc == 0) {
		osip_free(m->cseq->method);
		m->cseq->method = osip_strdup("CANCEL");
		rc = osip_message_get_via(inv, 0, &via) < 0 || osip_via_clone(via, &v) != 0;
	}
	if (rc == 0)
		rc = osip_list_add(&m->vias, v, 0) < 0;
	if (rc == 0)
		rc = osip_message_set_max_forwards(m, "70");
	if (rc != 0) {
		osip_message_free(m);
		return NULL;
	}
	return m;
}

static void b2b_on_cancel(struct bcall *c, osip_transaction_t *tr, const osip_message_t *req)
{
	struct leg *a = &c->leg[LEG_A];
	b2b_respond(tr, a, 200);
	if (!c->a_ist || c->state >= B_ANSWERED || c->cancelled)
		return; /* answered already: the CANCEL has no effect (RFC 3261 9.2) */
	(void)req;
	b2b_respond(c->a_ist, a, 487);
	c->cancelled = true;
	LOG_I("b2bua", "%s cancelled by the caller", a->dlg.call_id);
	if (!c->b_ict) {
		b2b_end(c, "cancelled by caller", false, false);
		return;
	}
	/* B's 487 (or its 200, then BYE) ends the call; Timer B if it says nothing */
	osip_message_t *cancel = b2b_cancel_for(c->b_ict->orig_request);
	if (cancel)
		sip_request_send_as_is(cancel, &c->leg[LEG_B].dlg.peer, NULL, NULL);
}

/* ---- forwarding ---- */

static struct b2b_fwd *fwd_slot(struct bcall *c)
{
	for (int i = 0; i < B2B_MAX_FWD; i++)
		if (!c->fwd[i].server && !c->fwd[i].client)
			return &c->fwd[i];
	return NULL;
}

static const char *body_sdp(const osip_message_t *m, size_t *len)
{
	osip_body_t *b = NULL;
	const osip_content_type_t *ct = m->content_type;
	if (!ct || !ct->subtype || strcasecmp(ct->subtype, "sdp") != 0 ||
	    osip_message_get_body(m, 0, &b) != 0 || !b || !b->body || !b->length)
		return NULL;
	*len = b->length;
	return b->body;
}

static void b2b_forward(struct bcall *c, osip_transaction_t *tr, osip_message_t *req, int from)
{
	struct leg *x = &c->leg[from], *y = &c->leg[!from];
	bool inv = MSG_IS_INVITE(req), refresh = inv || MSG_IS_UPDATE(req);
	x->dlg.remote_cseq = (uint32_t)strtoul(req->cseq->number, NULL, 10);
	if (refresh)
		dialog_update_target(&x->dlg, req);
	size_t len = 0;
	const char *sdp = refresh ? body_sdp(req, &len) : NULL;
	if (inv && !sdp) {
		/* an offer-less re-INVITE (session refresh): mgw answers it with what it has */
		osip_message_t *r = b2b_reply(req, 200, NULL, x);
		if (r && dialog_copy_body(r, NULL, x->sdp_out, x->sdp_out_len) == 0) {
			b2b_leg_ok(c, from, r);
			sip_txn_respond(tr, r);
		} else if (r) {
			osip_message_free(r);
		}
		return;
	}
	struct b2b_fwd *f = fwd_slot(c);
	if (!f || !y->dlg_up || c->state < B_ANSWERED) {
		b2b_respond(tr, x, inv ? 491 : 500);
		return;
	}
	struct sdp_stream offer;
	if (sdp) {
		if (sdp_parse(sdp, len, &offer) != SDP_OK) {
			b2b_respond(tr, x, 488);
			return;
		}
		if (b2b_sdp_for(c, !from, NULL, true, offer.dir) != 0) {
			b2b_respond(tr, x, 500);
			return;
		}
	}
	osip_message_t *out = dialog_request(&y->dlg, req->sip_method, 0);
	if (!out || dialog_copy_body(out, req, sdp ? y->sdp_out : NULL, y->sdp_out_len) != 0) {
		if (out)
			osip_message_free(out);
		b2b_respond(tr, x, 500);
		return;
	}
	f->client = sip_request_send(out, &y->dlg.peer, c, &b2b_txn_ops);
	if (!f->client) {
		b2b_respond(tr, x, 500);
		return;
	}
	f->server = tr;
	f->from = from;
	f->invite = inv;
	f->offer = sdp != NULL;
	if (sdp)
		f->sdp = offer;
	sip_txn_own(tr, c, &b2b_txn_ops);
}

/* The answer to a forwarded offer: the plan keeps its codecs; telephone-event numbering
 * follows what the leg now says. */
static int b2b_fwd_answer(struct bcall *c, struct b2b_fwd *f, const osip_message_t *resp)
{
	size_t len = 0;
	const char *sdp = body_sdp(resp, &len);
	struct leg *x = &c->leg[f->from], *y = &c->leg[!f->from];
	struct sdp_stream ans;
	if (!sdp || sdp_parse(sdp, len, &ans) != SDP_OK)
		return -1;
	y->sdp = ans;
	x->sdp = f->sdp; /* not before: a rejected offer leaves the leg as it was */
	int te = -1;
	for (unsigned i = 0; i < ans.n_codecs; i++)
		if (strcasecmp(ans.codecs[i].name, "telephone-event") == 0)
			te = ans.codecs[i].pt;
	c->plan.te_pt[!f->from] = c->plan.te_pt[!f->from] >= 0 ? te : -1;
	if (b2b_sdp_for(c, f->from, &x->sdp, false, ans.dir) != 0)
		return -1;
	return b2b_apply_media(c);
}

static void b2b_ack_leg(struct leg *y, uint32_t cseq)
{
	osip_message_t *ack = dialog_request(&y->dlg, "ACK", cseq);
	if (!ack || sip_add_via(ack) != 0) {
		if (ack)
			osip_message_free(ack);
		return;
	}
	sip_send_to(ack, &y->dlg.peer);
	if (y->ack)
		osip_message_free(y->ack);
	y->ack = ack;
}

void b2b_fwd_response(struct bcall *c, osip_transaction_t *tr, osip_message_t *resp)
{
	struct b2b_fwd *f = NULL;
	for (int i = 0; i < B2B_MAX_FWD && !f; i++)
		if (c->fwd[i].client == tr)
			f = &c->fwd[i];
	int code = resp->status_code;
	if (!f || code < 200)
		return;
	struct leg *x = &c->leg[f->from], *y = &c->leg[!f->from];
	bool ok = code < 300;
	if (ok && (f->invite || MSG_IS_RESPONSE_FOR(resp, "UPDATE")))
		dialog_update_target(&y->dlg, resp);
	if (ok && f->offer && b2b_fwd_answer(c, f, resp) != 0)
		LOG_W("b2bua", "%s: unusable SDP answer from the %s", c->leg[LEG_A].dlg.call_id,
		      side_name[!f->from]);
	if (ok && f->invite)
		b2b_ack_leg(y, (uint32_t)strtoul(resp->cseq->number, NULL, 10));
	if (f->server) {
		osip_message_t *r = b2b_reply(f->server->orig_request, code, resp->reason_phrase, x);
		if (r && ok && f->offer)
			dialog_copy_body(r, NULL, x->sdp_out, x->sdp_out_len);
		else if (r && ok && !f->invite)
			dialog_copy_body(r, resp, NULL, 0);
		if (r && ok && f->invite)
			b2b_leg_ok(c, f->from, r);
		if (r)
			sip_txn_respond(f->server, r);
		sip_txn_own(f->server, NULL, NULL);
	}
	sip_txn_own(tr, NULL, NULL);
	memset(f, 0, sizeof(*f));
}

void b2b_fwd_ended(struct bcall *c, osip_transaction_t *tr)
{
	for (int i = 0; i < B2B_MAX_FWD; i++) {
		struct b2b_fwd *f = &c->fwd[i];
		if (f->server == tr) {
			f->server = NULL;
		} else if (f->client == tr) {
			/* no final answer from the other leg (Timer B/F) */
			if (f->server) {
				b2b_respond(f->server, &c->leg[f->from], 408);
				sip_txn_own(f->server, NULL, NULL);
			}
			sip_txn_own(tr, NULL, NULL);
			memset(f, 0, sizeof(*f));
		}
	}
}

/* ---- entry points from the call layer ---- */

int b2bua_on_invite(osip_transaction_t *tr, osip_message_t *req)
{
	int side;
	struct bcall *c = b2b_dialog_of(req, &side);
	if (!c)
		return 0;
	if (c->state != B_CONFIRMED || c->leg[side].ok) {
		b2b_respond(tr, &c->leg[side], 491); /* our own offer/answer is still pending */
		return 1;
	}
	b2b_forward(c, tr, req, side);
	return 1;
}

int b2bua_on_request(osip_transaction_t *tr, osip_message_t *req)
{
	int side;
	struct bcall *c;
	if (MSG_IS_CANCEL(req)) {
		c = b2b_find_msg(req, &side);
		if (!c || side != LEG_A || tag_of(req->to))
			return 0;
		b2b_on_cancel(c, tr, req);
		return 1;
	}
	c = b2b_dialog_of(req, &side);
	if (!c)
		return 0;
	const char *m = req->sip_method;
	if (MSG_IS_BYE(req)) {
		b2b_respond(tr, &c->leg[side], 200);
		char why[48];
		snprintf(why, sizeof(why), "BYE from %s", side_name[side]);
		b2b_end(c, why, side == LEG_B, side == LEG_A);
	} else if (MSG_IS_UPDATE(req) || MSG_IS_INFO(req) || MSG_IS_OPTIONS(req) ||
		   strcmp(m, "NOTIFY") == 0) {
		b2b_forward(c, tr, req, side);
	} else {
		b2b_respond(tr, &c->leg[side], 405);
	}
	return 1;
}

/* A's ACK answered our offer (A's INVITE had none): A's telephone-event numbering. */
static void b2b_a_answer_in_ack(struct bcall *c, const osip_message_t *ack)
{
	size_t len = 0;
	const char *sdp = body_sdp(ack, &len);
	struct sdp_stream ans;
	if (!sdp || sdp_parse(sdp, len, &ans) != SDP_OK) {
		b2b_end(c, "no usable SDP answer in the caller's ACK", true, true);
		return;
	}
	c->leg[LEG_A].sdp = ans;
	c->leg[LEG_A].have_sdp = true;
	int te = -1;
	for (unsigned i = 0; i < ans.n_codecs; i++)
		if (strcasecmp(ans.codecs[i].name, "telephone-event") == 0)
			te = ans.codecs[i].pt;
	if (c->plan.te_pt[LEG_A] >= 0)
		c->plan.te_pt[LEG_A] = te;
	b2b_apply_media(c);
}

int b2bua_on_ack(const osip_message_t *ack)
{
	int side;
	struct bcall *c = b2b_dialog_of(ack, &side);
	if (!c)
		return 0;
	struct leg *l = &c->leg[side];
	uint32_t cseq = (uint32_t)strtoul(ack->cseq->number, NULL, 10);
	if (!l->ok || l->ok_cseq != cseq)
		return 1; /* a retransmitted ACK */
	osip_message_free(l->ok);
	l->ok = NULL;
	if (side == LEG_A && c->state == B_ANSWERED) {
		c->state = B_CONFIRMED;
		if (!l->have_sdp)
			b2b_a_answer_in_ack(c, ack);
	}
	return 1;
}

int b2bua_absorb_invite(const osip_message_t *req, const struct sockaddr_in *src)
{
	int side;
	struct bcall *c = b2b_find_msg(req, &side);
	if (!c || side != LEG_A || tag_of(req->to))
		return 0;
	struct leg *a = &c->leg[LEG_A];
	if (a->ok && a->ok_cseq == strtoul(req->cseq->number, NULL, 10))
		sip_send_to(a->ok, src);
	return 1;
}

int b2bua_on_stray_response(const osip_message_t *resp)
{
	int side;
	if (!resp->call_id || !resp->cseq || !MSG_IS_RESPONSE_FOR(resp, "INVITE") ||
	    resp->status_code < 200 || resp->status_code >= 300)
		return -1;
	struct bcall *c = b2b_find_msg(resp, &side);
	struct leg *l = c ? &c->leg[side] : NULL;
	if (!l || !l->ack || strcmp(l->ack->cseq->number, resp->cseq->number) != 0)
		return -1;
	sip_send_to(l->ack, &l->dlg.peer); /* our ACK was lost: the 2xx is retransmitted */
	return 0;
}

void b2bua_media_seen(uint64_t stream_id, uint32_t ip, uint16_t port)
{
	for (struct bcall *c = b2b_first(); c; c = c->next)
		for (int s = 0; s < 2; s++)
			if (c->leg[s].ep.stream_id == stream_id) {
				c->leg[s].seen_ip.s_addr = ip;
				c->leg[s].seen_port = ntohs(port);
				return;
			}
}

/* ---- timers ---- */

/* When the once-a-second check last saw the leg's packet count move. The data plane's
 * last_rx_tsc moves only every 64th packet (over a second at 20 ms ptime), too coarse for a
 * timeout of a few seconds. */
static uint64_t leg_last_rx_ms(struct leg *l, uint64_t now_ms)
{
	struct stream_stats st;
	media_ep_stats(&l->ep, &st);
	uint64_t n = st.rx_pkts;
	if (n != l->rx_seen) {
		l->rx_seen = n;
		l->rx_seen_ms = now_ms;
	}
	return l->rx_seen_ms;
}

/* Milliseconds both legs have been silent, counted from the answer at the earliest. */
static uint64_t b2b_silence_ms(struct bcall *c, uint64_t now_ms)
{
	uint64_t last = c->answered_ms;
	for (int s = 0; s < 2; s++) {
		uint64_t t = leg_last_rx_ms(&c->leg[s], now_ms);
		if (t > last)
			last = t;
	}
	return now_ms - last;
}

static bool b2b_on_hold(const struct bcall *c)
{
	for (int s = 0; s < 2; s++)
		if (c->leg[s].have_sdp && (c->leg[s].sdp.dir != SDP_SENDRECV ||
					   !c->leg[s].sdp.addr.s_addr))
			return true;
	return false;
}

/* Returns true when the call was ended. */
static bool b2b_leg_timers(struct bcall *c, int side, uint64_t now, uint64_t *next)
{
	struct leg *l = &c->leg[side];
	if (!l->ok)
		return false;
	if (now >= l->ack_deadline_ms) {
		char why[48];
		snprintf(why, sizeof(why), "no ACK from the %s", side_name[side]);
		b2b_end(c, why, true, true);
		return true;
	}
	if (now >= l->rtx_at_ms) {
		sip_send_to(l->ok, &l->dlg.peer);
		l->rtx_iv_ms = l->rtx_iv_ms * 2 > SIP_T2_MS ? SIP_T2_MS : l->rtx_iv_ms * 2;
		l->rtx_at_ms = now + l->rtx_iv_ms;
	}
	if (l->rtx_at_ms < *next)
		*next = l->rtx_at_ms;
	return false;
}

int b2bua_timers(int cap)
{
	static uint64_t next_media_check;
	uint64_t now = time_now_ms(), next = now + (uint64_t)cap;
	bool media_check = now >= next_media_check;
	if (media_check)
		next_media_check = now + 1000;
	for (struct bcall *c = b2b_first(), *n; c; c = n) {
		n = c->next;
		if (b2b_leg_timers(c, LEG_A, now, &next) || b2b_leg_timers(c, LEG_B, now, &next))
			continue;
		if (!media_check || c->state != B_CONFIRMED)
			continue;
		unsigned limit = b2b_on_hold(c) ? b2b_cfg->media_hold_timeout_s
						: b2b_cfg->media_timeout_s;
		if (limit && b2b_silence_ms(c, now) >= (uint64_t)limit * 1000) {
			LOG_W("b2bua", "%s: no media either way for %u s", c->leg[LEG_A].dlg.call_id,
			      limit);
			b2b_end(c, "media timeout", true, true);
		}
	}
	return next <= now ? 0 : (int)(next - now);
}

/* ---- reporting ---- */

static void jw_addr(struct jw *w, const char *key, struct in_addr a, uint16_t port)
{
	char ip[INET_ADDRSTRLEN], buf[32];
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(buf, sizeof(buf), "%s:%u", ip, port);
	jw_kv_str(w, key, buf);
}

static void leg_list_json(struct jw *w, const struct bcall *c, int side)
{
	const struct leg *l = &c->leg[side];
	struct stream_stats st;
	media_ep_stats(&l->ep, &st);
	jw_obj_begin(w);
	jw_kv_str(w, "leg", side == LEG_A ? "a" : "b");
	jw_kv_str(w, "call_id", l->dlg_up ? l->dlg.call_id : "-");
	jw_addr(w, "local", media_addr(l->ep.addr_idx), l->ep.port);
	if (l->seen_port)
		jw_addr(w, "remote", l->seen_ip, l->seen_port);
	else if (l->have_sdp)
		jw_addr(w, "remote", l->sdp.addr, l->sdp.port);
	else
		jw_kv_str(w, "remote", "-");
	jw_kv_str(w, "codec", c->have_plan ? c->plan.codec[side].name : "-");
	jw_kv_u64(w, "pkts_in", st.rx_pkts);
	jw_kv_u64(w, "pkts_relayed", st.tx_pkts);
	jw_kv_u64(w, "wrong_source", st.wrong_source);
	jw_kv_i64(w, "lost", st.rtp_lost);
	jw_kv_u64(w, "jitter", st.rtp_jitter);
	jw_obj_end(w);
}

void b2bua_list_json(struct jw *w)
{
	static const char *const states[] = {"trying", "early", "answered", "confirmed"};
	uint64_t now = time_now_ms();
	for (const struct bcall *c = b2b_first(); c; c = c->next) {
		const struct leg *a = &c->leg[LEG_A], *b = &c->leg[LEG_B];
		struct stream_stats sa, sb;
		media_ep_stats(&a->ep, &sa);
		media_ep_stats(&b->ep, &sb);
		jw_obj_begin(w);
		jw_kv_str(w, "call_id", a->dlg.call_id);
		jw_kv_str(w, "state", states[c->state]);
		jw_kv_str(w, "from", c->from_uri ? c->from_uri : "-");
		jw_kv_str(w, "to", c->to_uri ? c->to_uri : "-");
		jw_kv_str(w, "route", c->route);
		jw_addr(w, "local", media_addr(a->ep.addr_idx), a->ep.port);
		if (a->have_sdp)
			jw_addr(w, "remote", a->sdp.addr, a->sdp.port);
		else
			jw_kv_str(w, "remote", "-");
		jw_kv_str(w, "codec", c->have_plan ? c->plan.codec[LEG_A].name : "-");
		jw_kv_str(w, "action", c->plan.transcode ? "relay+transcode" : "relay");
		jw_kv_u64(w, "pkts_in", sa.rx_pkts);
		jw_kv_u64(w, "pkts_out", sb.tx_pkts);
		jw_kv_u64(w, "age_s", (now - c->created_ms) / 1000);
		jw_key(w, "legs");
		jw_arr_begin(w);
		leg_list_json(w, c, LEG_A);
		leg_list_json(w, c, LEG_B);
		jw_arr_end(w);
		jw_obj_end(w);
	}
}
