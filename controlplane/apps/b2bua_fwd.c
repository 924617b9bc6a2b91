/* b2bua_fwd: what crosses an established (or early) B2BUA call: BYE, re-INVITE, UPDATE,
 * INFO, NOTIFY and OPTIONS from either leg, forwarded with SDP rewritten, and their answers
 * carried back; the answer to our offer in the caller's ACK. */
#include "controlplane/apps/b2bua_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "controlplane/media/prompt.h"
#include "dataplane/player.h"
#include "util/log.h"

static const char *const side_name[2] = {"caller", "callee"};

static struct b2b_fwd *fwd_slot(struct bcall *c)
{
	for (int i = 0; i < B2B_MAX_FWD; i++)
		if (!c->fwd[i].server && !c->fwd[i].client)
			return &c->fwd[i];
	return NULL;
}

static void b2b_forward(struct bcall *c, osip_transaction_t *tr, osip_message_t *req, int from)
{
	struct leg *x = &c->leg[from], *y = &c->leg[!from];
	bool inv = MSG_IS_INVITE(req), refresh = inv || MSG_IS_UPDATE(req);
	if (refresh)
		dlg_take_target(x->dlg, req);
	size_t len = 0;
	const char *sdp = refresh ? sip_sdp_body(req, &len) : NULL;
	if (inv && !sdp) {
		/* an offer-less re-INVITE (session refresh): mgw answers it with what it has */
		osip_message_t *r = dlg_response(x->dlg, req, 200, NULL, x->sdp_out,
						 (size_t)x->sdp_out_len);
		if (r)
			dlg_respond(x->dlg, tr, r);
		return;
	}
	struct b2b_fwd *f = fwd_slot(c);
	if (!f || !y->dlg || c->state < B_ANSWERED) {
		dlg_reply(x->dlg, tr, inv ? 491 : 500, NULL);
		return;
	}
	struct sdp_stream *offer = NULL;
	if (sdp) {
		offer = malloc(sizeof(*offer));
		if (!offer || sdp_parse(sdp, len, offer) != SDP_OK) {
			dlg_reply(x->dlg, tr, offer ? 488 : 500, NULL);
			free(offer);
			return;
		}
		if (b2b_sdp_for(c, !from, NULL, true, offer->dir) != 0) {
			dlg_reply(x->dlg, tr, 500, NULL);
			free(offer);
			return;
		}
	}
	osip_message_t *out = dlg_request(y->dlg, req->sip_method);
	if (!out || sip_copy_body(out, req, sdp ? y->sdp_out : NULL,
				  sdp ? (size_t)y->sdp_out_len : 0) != 0) {
		if (out)
			osip_message_free(out);
		dlg_reply(x->dlg, tr, 500, NULL);
		free(offer);
		return;
	}
	f->client = inv ? dlg_send_invite(y->dlg, out) : dlg_send(y->dlg, out);
	if (!f->client) {
		dlg_reply(x->dlg, tr, 500, NULL);
		free(offer);
		return;
	}
	f->server = tr;
	f->from = from;
	f->invite = inv;
	f->offer = offer;
}

/* The forwarding is over (answered, or nobody will answer). */
static void fwd_clear(struct b2b_fwd *f)
{
	free(f->offer);
	memset(f, 0, sizeof(*f));
}

void b2b_fwd_free_all(struct bcall *c)
{
	for (int i = 0; i < B2B_MAX_FWD; i++)
		fwd_clear(&c->fwd[i]);
}

/* A digit as SIP INFO (application/dtmf-relay: "Signal=5", "Duration=160" in ms) from a leg
 * that took no telephone-event, towards a leg that did: answered here and played to the other
 * leg's peer as RFC 4733 events (its payload type), the relayed audio held meanwhile. Returns
 * false when the INFO is not such a digit or cannot be played (then it is forwarded). */
static bool b2b_info_dtmf(struct bcall *c, osip_transaction_t *tr, osip_message_t *req,
			  int side)
{
	size_t len = 0;
	const char *body = sip_app_body(req, "dtmf-relay", &len);
	if (!body || !c->have_plan || c->plan.te_pt[side] >= 0 || c->plan.te_pt[!side] < 0 ||
	    c->state != B_CONFIRMED)
		return false;
	char text[256], sig = 0;
	unsigned dur = 250;
	snprintf(text, sizeof(text), "%.*s", (int)(len < sizeof(text) ? len : sizeof(text) - 1),
		 body);
	for (char *line = strtok(text, "\r\n"); line; line = strtok(NULL, "\r\n")) {
		while (*line == ' ')
			line++;
		if (strncasecmp(line, "Signal=", 7) == 0) {
			const char *v = line + 7;
			while (*v == ' ')
				v++;
			sig = *v;
		} else if (strncasecmp(line, "Duration=", 9) == 0) {
			dur = (unsigned)strtoul(line + 9, NULL, 10);
		}
	}
	if (play_dtmf_event(sig) < 0) {
		dlg_reply(c->leg[side].dlg, tr, 400, "Bad dtmf-relay Signal");
		return true;
	}
	if (b2b_play_digit(c, !side, sig, dur) != 0)
		return false;
	dlg_reply(c->leg[side].dlg, tr, 200, NULL);
	LOG_I("b2bua", "%s: DTMF '%c' (%u ms) from the %s's INFO played as RFC 4733", b2b_id(c),
	      sig, dur, side_name[side]);
	return true;
}

void b2b_request(struct dlg *d, osip_transaction_t *tr, osip_message_t *req)
{
	struct bcall *c = b2b_of(d);
	int side = d->side;
	if (MSG_IS_BYE(req)) {
		dlg_reply(d, tr, 200, NULL);
		char why[48];
		snprintf(why, sizeof(why), "BYE from %s", side_name[side]);
		b2b_end(c, why, side == LEG_B, side == LEG_A);
		return;
	}
	if (MSG_IS_INVITE(req) && (c->state != B_CONFIRMED || d->ok)) {
		dlg_reply(d, tr, 491, NULL); /* our own offer/answer is still pending */
		return;
	}
	if (MSG_IS_INFO(req) && b2b_info_dtmf(c, tr, req, side))
		return;
	if (MSG_IS_INVITE(req) || MSG_IS_UPDATE(req) || MSG_IS_INFO(req) || MSG_IS_OPTIONS(req) ||
	    strcmp(req->sip_method, "NOTIFY") == 0) {
		b2b_forward(c, tr, req, side);
		return;
	}
	dlg_reply(d, tr, 405, NULL);
}

/* Music on hold (media.moh): when leg @from's offer puts the other leg on hold (sendonly or
 * inactive), the other leg hears the music instead of what @from sends; when @from resumes,
 * the music stops. */
static void b2b_moh(struct bcall *c, int from)
{
	int held = !from;
	bool hold = c->leg[from].sdp.dir == SDP_SENDONLY || c->leg[from].sdp.dir == SDP_INACTIVE;
	if (!b2b_cfg->media_moh[0] || !c->have_plan || hold == (c->moh_gen[held] != 0))
		return;
	if (!hold) {
		media_ep_play_stop(&c->leg[held].ep);
		c->moh_gen[held] = 0;
		LOG_I("b2bua", "%s: the %s is back: music on hold stops", b2b_id(c), side_name[from]);
		return;
	}
	char err[256];
	const struct sdp_codec *k = &c->plan.codec[held];
	const struct stream_prompt *pr = prompt_for(b2b_cfg->media_moh, sdp_codec_id(k), err,
						    sizeof(err));
	if (!pr) {
		LOG_W("b2bua", "%s: no music on hold: %s", b2b_id(c), err);
		return;
	}
	struct stream_play p = {.kind = STREAM_PLAY_AUDIO, .pt = k->pt, .prompt = pr,
				.ptime_ms = (uint8_t)b2b_ptime(c, held)};
	c->moh_gen[held] = media_ep_play_copy(&c->leg[held].ep, &p);
	if (!c->moh_gen[held])
		return;
	LOG_I("b2bua", "%s: the %s holds: music on hold to the %s", b2b_id(c), side_name[from],
	      side_name[held]);
}

/* The answer to a forwarded offer: the plan keeps its codecs; telephone-event numbering
 * follows what the leg now says. */
static int b2b_fwd_answer(struct bcall *c, struct b2b_fwd *f, const osip_message_t *resp)
{
	size_t len = 0;
	const char *sdp = sip_sdp_body(resp, &len);
	struct leg *x = &c->leg[f->from], *y = &c->leg[!f->from];
	struct sdp_stream ans;
	if (!sdp || sdp_parse(sdp, len, &ans) != SDP_OK)
		return -1;
	y->sdp = ans;
	x->sdp = *f->offer; /* not before: a rejected offer leaves the leg as it was */
	int te = -1;
	for (unsigned i = 0; i < ans.n_codecs; i++)
		if (strcasecmp(ans.codecs[i].name, "telephone-event") == 0)
			te = ans.codecs[i].pt;
	c->plan.te_pt[!f->from] = c->plan.te_pt[!f->from] >= 0 ? te : -1;
	if (b2b_sdp_for(c, f->from, &x->sdp, false, ans.dir) != 0)
		return -1;
	int rc = b2b_apply_media(c);
	if (rc == 0)
		b2b_moh(c, f->from);
	return rc;
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
		dlg_take_target(y->dlg, resp);
	if (ok && f->offer && b2b_fwd_answer(c, f, resp) != 0)
		LOG_W("b2bua", "%s: unusable SDP answer from the %s", c->leg[LEG_A].dlg->call_id,
		      side_name[!f->from]);
	if (ok && f->invite)
		dlg_ack(y->dlg, resp, NULL, 0);
	if (f->server) {
		osip_message_t *r = dlg_response(x->dlg, f->server->orig_request, code,
						 resp->reason_phrase, NULL, 0);
		if (r && ok && f->offer)
			sip_copy_body(r, NULL, x->sdp_out, (size_t)x->sdp_out_len);
		else if (r && ok && !f->invite)
			sip_copy_body(r, resp, NULL, 0);
		if (r)
			dlg_respond(x->dlg, f->server, r);
	}
	fwd_clear(f);
}

void b2b_fwd_ended(struct bcall *c, osip_transaction_t *tr)
{
	for (int i = 0; i < B2B_MAX_FWD; i++) {
		struct b2b_fwd *f = &c->fwd[i];
		if (f->server == tr) {
			f->server = NULL;
		} else if (f->client == tr) {
			/* no final answer from the other leg (Timer B/F) */
			if (f->server)
				dlg_reply(c->leg[f->from].dlg, f->server, 408, NULL);
			fwd_clear(f);
		}
	}
}

/* A's ACK answered our offer (A's INVITE had none): A's telephone-event numbering. */
void b2b_a_ack(struct dlg *d, const osip_message_t *ack)
{
	struct bcall *c = b2b_of(d);
	if (c->leg[LEG_A].have_sdp)
		return;
	size_t len = 0;
	const char *sdp = sip_sdp_body(ack, &len);
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
