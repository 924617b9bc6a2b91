#include "controlplane/apps/echo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/apps/call.h"
#include "controlplane/apps/persist.h"
#include "controlplane/dialog/dialog.h"
#include "controlplane/media/media.h"
#include "controlplane/media/prompt.h"
#include "controlplane/media/quality.h"
#include "controlplane/ops/journal.h"
#include "controlplane/sip/sdp.h"
#include "util/log.h"
#include "util/time.h"

#define ECHO_SDP_MAX 1024

enum echo_state { ECHO_EARLY, ECHO_ANSWERED, ECHO_CONFIRMED };
static const char *const state_names[] = {"early", "answered", "confirmed"};

struct echo_call {
	struct call call;
	struct dlg *dlg;
	enum echo_state state;
	struct media_ep ep;
	bool delayed_offer;  /* INVITE without SDP: our offer is in the 2xx */
	bool have_nego;
	struct sdp_stream remote;
	struct sdp_nego nego;
	struct in_addr seen_ip; /* where RTP really comes from (first packet) */
	uint16_t seen_port;
	uint64_t sdp_sess_id, sdp_ver;
	char sdp[ECHO_SDP_MAX];
	int sdp_len;
	struct timer answer_timer;
	bool journaled;         /* the journal holds it (established) */
	/* app announce, copied from the route (a reload may free the route table): */
	char play[200];         /* the prompt, "" once it has been started */
	unsigned loops;
	bool then_echo;
	uint32_t play_gen;      /* the announcement playing, 0 = none */
};

static const struct config *cfg;
static const char *codecs[CONFIG_MAX_CODECS];

static const struct dlg_ops echo_dlg_ops;
static const struct call_ops echo_call_ops;

static struct echo_call *echo_of(struct dlg *d) { return d->app; }

/* The call's key in the journal: its dialog's identity. */
static void echo_key(const struct echo_call *c, char *out, size_t len)
{
	snprintf(out, len, "%s;%s", c->dlg->call_id, c->dlg->local_tag);
}

/* Keep the established call in the journal as it is now. */
static void echo_persist(struct echo_call *c)
{
	if (!journal_active() || c->state != ECHO_CONFIRMED)
		return;
	char key[SIP_CALL_ID_MAX + 64];
	echo_key(c, key, sizeof(key));
	json_t *o = json_pack("{s:o, s:o, s:o, s:s%, s:I, s:I}", "call", call_to_json(&c->call),
			      "dlg", dlg_to_json(c->dlg), "ep", persist_ep(&c->ep), "sdp", c->sdp,
			      (size_t)(c->sdp_len > 0 ? c->sdp_len : 0), "sess_id",
			      (json_int_t)c->sdp_sess_id, "sdp_ver", (json_int_t)c->sdp_ver);
	if (o && c->have_nego) {
		json_object_set_new(o, "remote", persist_sdp(&c->remote));
		json_object_set_new(o, "nego", persist_nego(&c->nego));
	}
	if (o && c->seen_port)
		json_object_set_new(o, "seen", persist_addr(c->seen_ip, c->seen_port));
	journal_put(key, o);
	c->journaled = o != NULL;
}

static void echo_end(struct echo_call *c, const char *reason)
{
	struct stream_stats st;
	media_ep_stats(&c->ep, &st);
	struct leg_quality q;
	quality_of(&st, 8000, STREAM_CODEC_NONE, &q);
	quality_observe(&q);
	LOG_I("call", "ended %s (%s) after %llu ms: %s, rtp in %llu out %llu, MOS %.2f",
	      c->dlg->call_id, state_names[c->state],
	      (unsigned long long)(time_now_ms() - c->call.created_ms), reason,
	      (unsigned long long)st.rx_pkts, (unsigned long long)st.tx_pkts, q.mos);
	json_t *rec = call_cdr_begin(&c->call, reason);
	if (rec) {
		json_object_set_new(rec, "call_id", json_string(c->dlg->call_id));
		json_object_set_new(rec, "rtp_in", json_integer((json_int_t)st.rx_pkts));
		json_object_set_new(rec, "rtp_out", json_integer((json_int_t)st.tx_pkts));
		json_object_set_new(rec, "rtp_lost", json_integer((json_int_t)st.rtp_lost));
		if (q.valid) {
			json_object_set_new(rec, "loss", json_real(q.loss));
			json_object_set_new(rec, "jitter_ms", json_real(q.jitter_ms));
			json_object_set_new(rec, "mos", json_real(round(q.mos * 100) / 100));
		}
		call_cdr_emit(rec);
	}
	timer_stop(&c->answer_timer);
	if (c->journaled) {
		char key[SIP_CALL_ID_MAX + 64];
		echo_key(c, key, sizeof(key));
		journal_del(key);
	}
	media_ep_release(&c->ep);
	dlg_free(c->dlg);
	call_unregister(&c->call);
	free(c);
}

/* Negotiate @req's offer (if any) and write our answer (or, without one, our offer) into
 * c->sdp. Returns 0, or the SIP status to refuse with. */
static int echo_negotiate(struct echo_call *c, const osip_message_t *req)
{
	size_t len = 0;
	const char *body = sip_sdp_body(req, &len);
	struct in_addr local = media_ep_addr(&c->ep);
	if (!body) {
		if (sip_has_body(req))
			return 415;
		if (c->have_nego) /* re-INVITE without offer: offer what we use */
			return 0;
		c->delayed_offer = true;
		c->sdp_len = sdp_write_offer(c->sdp, sizeof(c->sdp), codecs, cfg->media_n_codecs,
					     local, c->ep.port, cfg->media_ptime, c->sdp_sess_id,
					     c->sdp_ver);
		return c->sdp_len < 0 ? 500 : 0;
	}
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
	int n = sdp_write_answer(c->sdp, sizeof(c->sdp), &offer, &nego, local, c->ep.port,
				 c->sdp_sess_id, c->sdp_ver);
	if (n < 0)
		return 500;
	c->sdp_len = n;
	c->remote = offer;
	c->nego = nego;
	c->have_nego = true;
	return 0;
}

/* Publish the echo stream for what is negotiated (the SDP peer, or none yet). */
static int echo_publish(struct echo_call *c)
{
	struct media_peer peer = {0};
	if (c->have_nego) {
		peer.ip = c->remote.addr;
		peer.port = c->remote.port;
		if (c->nego.te_pt >= 0)
			peer.te_pt = (uint8_t)c->nego.te_pt;
	}
	int rc = media_ep_echo(&c->ep, &peer, (uint8_t)cfg->media_latch);
	if (rc == 0)
		dlg_watch_stream(c->dlg, c->ep.stream_id);
	return rc;
}

/* app announce: play the route's prompt in the negotiated law, once media is known. */
static void echo_announce(struct echo_call *c)
{
	if (!c->play[0] || !c->have_nego)
		return;
	char err[256];
	const struct stream_prompt *pr = prompt_get(c->play, (uint8_t)c->nego.codec.pt, err,
						    sizeof(err));
	int rc = -EINVAL;
	if (pr) {
		unsigned pt = c->nego.ptime;
		struct stream_play p = {.kind = STREAM_PLAY_AUDIO, .pt = pr->pt,
					.ptime_ms = (uint8_t)(pt >= 10 && pt <= 60 && pt % 10 == 0
								      ? pt : 20),
					.loops = c->loops, .prompt = pr};
		c->play_gen = media_play_copy(c->ep.addr_idx, c->ep.port, &p, &rc);
	}
	if (c->play_gen)
		LOG_I("call", "%s: playing %s", c->dlg->call_id, c->play);
	else
		LOG_W("call", "%s: cannot play %s: %s", c->dlg->call_id, c->play,
		      pr ? strerror(-rc) : err);
	c->play[0] = '\0';
}

static void echo_answer(struct echo_call *c)
{
	osip_transaction_t *tr = c->dlg->invite_tr;
	osip_message_t *ok = NULL;
	int rc = echo_publish(c);
	if (rc == 0 && tr)
		ok = dlg_response(c->dlg, tr->orig_request, 200, NULL, c->sdp, (size_t)c->sdp_len);
	if (!ok) {
		LOG_E("call", "%s: cannot answer (media %d)", c->dlg->call_id, rc);
		if (tr)
			dlg_reply(c->dlg, tr, 500, NULL);
		echo_end(c, "answer failed");
		return;
	}
	dlg_respond(c->dlg, tr, ok);
	c->state = ECHO_ANSWERED;
	call_answered(&c->call);
	echo_announce(c);
}

static void echo_answer_due(struct timer *t)
{
	struct echo_call *c = (struct echo_call *)((char *)t - offsetof(struct echo_call, answer_timer));
	echo_answer(c);
}

void echo_start(osip_transaction_t *tr, osip_message_t *req, const struct sockaddr_in *src,
		const struct route *route)
{
	struct echo_call *c = calloc(1, sizeof(*c));
	if (!c || call_register(&c->call, &echo_call_ops, req, route->name) != 0) {
		free(c);
		sip_txn_reply(tr, 500, NULL);
		return;
	}
	c->dlg = dlg_new_uas(tr, req, src, &echo_dlg_ops, c, 0);
	if (!c->dlg) {
		call_unregister(&c->call);
		free(c);
		sip_txn_reply(tr, 500, NULL);
		return;
	}
	if (route->app == ROUTE_APP_ANNOUNCE) {
		snprintf(c->play, sizeof(c->play), "%s", route->play);
		c->loops = route->loops;
		c->then_echo = route->then_echo;
	}
	c->sdp_sess_id = ((uint64_t)time(NULL) << 16) ^ (uint64_t)random();
	c->sdp_ver = 1;
	if (media_ep_alloc(&c->ep) != 0) {
		dlg_reply(c->dlg, tr, 503, NULL);
		echo_end(c, "no media port free");
		return;
	}
	int code = echo_negotiate(c, req);
	if (code) {
		dlg_reply(c->dlg, tr, code, NULL);
		echo_end(c, code == 488 ? "no common codec" : "bad offer");
		return;
	}
	LOG_I("call", "new %s from %s to %s, media %s:%u codec %s", c->dlg->call_id,
	      c->call.from_uri, c->call.to_uri, inet_ntoa(media_ep_addr(&c->ep)), c->ep.port,
	      c->have_nego ? c->nego.codec.name : "(offer in 200)");
	sip_txn_reply(tr, 100, NULL);
	dlg_reply(c->dlg, tr, 180, NULL);
	if (cfg->sip_answer_delay_ms == 0)
		echo_answer(c);
	else
		timer_start(&c->answer_timer, cfg->sip_answer_delay_ms, echo_answer_due);
}

/* ---- the dialog's events ---- */

static void echo_reinvite(struct echo_call *c, osip_transaction_t *tr, osip_message_t *req)
{
	if (c->state != ECHO_CONFIRMED || c->dlg->ok) {
		dlg_reply(c->dlg, tr, 491, NULL); /* our own offer/answer is still pending */
		return;
	}
	c->sdp_ver++;
	int code = echo_negotiate(c, req);
	if (code) {
		c->sdp_ver--;
		dlg_reply(c->dlg, tr, code, NULL);
		return;
	}
	dlg_take_target(c->dlg, req);
	if (echo_publish(c) != 0) {
		dlg_reply(c->dlg, tr, 500, NULL);
		return;
	}
	osip_message_t *ok = dlg_response(c->dlg, req, 200, NULL, c->sdp, (size_t)c->sdp_len);
	if (ok)
		dlg_respond(c->dlg, tr, ok);
	echo_persist(c);
}

static void echo_request(struct dlg *d, osip_transaction_t *tr, osip_message_t *req)
{
	struct echo_call *c = echo_of(d);
	if (MSG_IS_BYE(req)) {
		dlg_reply(d, tr, 200, NULL);
		echo_end(c, "BYE from caller");
	} else if (MSG_IS_INVITE(req)) {
		echo_reinvite(c, tr, req);
	} else if (MSG_IS_OPTIONS(req)) {
		dlg_reply(d, tr, 200, NULL);
	} else {
		dlg_reply(d, tr, 405, NULL);
	}
}

static void echo_cancelled(struct dlg *d)
{
	echo_end(echo_of(d), "cancelled");
}

static void echo_ack(struct dlg *d, const osip_message_t *ack)
{
	struct echo_call *c = echo_of(d);
	if (c->state == ECHO_ANSWERED)
		c->state = ECHO_CONFIRMED;
	if (!c->delayed_offer || c->have_nego) {
		echo_persist(c);
		return;
	}
	size_t len = 0;
	const char *body = sip_sdp_body(ack, &len);
	struct sdp_stream media;
	struct sdp_nego nego;
	if (!body ||
	    sdp_take_answer(body, len, codecs, cfg->media_n_codecs, &media, &nego) != SDP_OK) {
		/* without a usable answer there is no session (RFC 3264 5) */
		dlg_bye(d);
		echo_end(c, "no usable SDP answer in ACK");
		return;
	}
	c->remote = media;
	c->nego = nego;
	c->have_nego = true;
	echo_publish(c);
	echo_persist(c);
	echo_announce(c); /* an announcement waited for the answer in the ACK */
}

static void echo_ack_timeout(struct dlg *d)
{
	LOG_W("call", "%s: no ACK within %u ms", d->call_id, 64 * sip_t1_ms());
	dlg_bye(d); /* RFC 3261 13.3.1.4 */
	echo_end(echo_of(d), "no ACK");
}

static void echo_txn_ended(struct dlg *d, osip_transaction_t *tr)
{
	(void)tr;
	struct echo_call *c = echo_of(d);
	if (!d->invite_tr && c->state == ECHO_EARLY && !d->cancelled)
		echo_end(c, "INVITE transaction ended unanswered");
}

static void echo_media(struct dlg *d, uint64_t stream_id, struct in_addr ip, uint16_t port)
{
	(void)stream_id;
	struct echo_call *c = echo_of(d);
	c->seen_ip = ip;
	c->seen_port = port;
	LOG_I("call", "%s: media from %s:%u", d->call_id, inet_ntoa(ip), port);
	echo_persist(c);
}

static void echo_dtmf(struct dlg *d, uint64_t stream_id, const struct media_dtmf *ev)
{
	(void)stream_id;
	call_dtmf(&echo_of(d)->call, 0, d->call_id, ev->digit, ev->duration / 8u, ev->cut);
}

static void echo_play_done(struct dlg *d, uint64_t stream_id, uint32_t gen, bool ok)
{
	(void)stream_id;
	struct echo_call *c = echo_of(d);
	if (gen != c->play_gen)
		return;
	c->play_gen = 0;
	if (c->then_echo)
		return; /* the stream echoes again (media_play_event) */
	dlg_bye(d);
	echo_end(c, ok ? "announcement played" : "announcement could not be played");
}

static const struct dlg_ops echo_dlg_ops = {
	.play_done = echo_play_done,
	.request = echo_request,
	.cancelled = echo_cancelled,
	.ack = echo_ack,
	.ack_timeout = echo_ack_timeout,
	.txn_ended = echo_txn_ended,
	.media = echo_media,
	.dtmf = echo_dtmf,
};

/* ---- the registry's view ---- */

static json_t *echo_describe(struct call *call)
{
	struct echo_call *c = (struct echo_call *)call;
	struct stream_stats st;
	media_ep_stats(&c->ep, &st);
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "call_id", json_string(c->dlg->call_id));
	json_object_set_new(o, "state", json_string(state_names[c->state]));
	json_object_set_new(o, "from", json_string(c->call.from_uri));
	json_object_set_new(o, "to", json_string(c->call.to_uri));
	json_object_set_new(o, "route", json_string(c->call.route));
	json_object_set_new(o, "local", call_json_addr(media_ep_addr(&c->ep), c->ep.port));
	if (c->seen_port)
		json_object_set_new(o, "remote", call_json_addr(c->seen_ip, c->seen_port));
	else if (c->have_nego)
		json_object_set_new(o, "remote", call_json_addr(c->remote.addr, c->remote.port));
	else
		json_object_set_new(o, "remote", json_string("-"));
	json_object_set_new(o, "codec", json_string(c->have_nego ? c->nego.codec.name : "-"));
	if (c->have_nego && c->nego.te_pt >= 0)
		json_object_set_new(o, "telephone_event_pt", json_integer(c->nego.te_pt));
	json_object_set_new(o, "dtmf", json_string(c->call.dtmf[0]));
	json_object_set_new(o, "action", json_string(c->play_gen ? "announce" : "echo"));
	json_object_set_new(o, "pkts_in", json_integer((json_int_t)st.rx_pkts));
	json_object_set_new(o, "pkts_out", json_integer((json_int_t)st.tx_pkts));
	json_object_set_new(o, "rtcp_in", json_integer((json_int_t)st.rtcp_pkts));
	json_object_set_new(o, "wrong_source", json_integer((json_int_t)st.wrong_source));
	json_object_set_new(o, "lost", json_integer((json_int_t)st.rtp_lost));
	json_object_set_new(o, "jitter", json_integer(st.rtp_jitter));
	return o;
}

static void echo_shutdown(struct call *call)
{
	struct echo_call *c = (struct echo_call *)call;
	if (c->state == ECHO_EARLY && c->dlg->invite_tr)
		dlg_reply(c->dlg, c->dlg->invite_tr, 503, NULL);
	else
		dlg_bye(c->dlg);
	echo_end(c, "shutdown");
}

static void echo_drop(struct call *call)
{
	struct echo_call *c = (struct echo_call *)call;
	timer_stop(&c->answer_timer);
	media_ep_release(&c->ep);
	dlg_free(c->dlg);
	call_unregister(&c->call);
	free(c);
}

static const struct call_ops echo_call_ops = {
	.kind = "echo",
	.describe = echo_describe,
	.shutdown = echo_shutdown,
	.drop = echo_drop,
};

int echo_restore(const char *key, const json_t *j)
{
	const json_t *sdp = json_object_get(j, "sdp"), *remote = json_object_get(j, "remote");
	json_int_t sess = 0, ver = 0;
	if (!json_is_string(sdp) || json_string_length(sdp) >= ECHO_SDP_MAX ||
	    json_unpack((json_t *)j, "{s:I, s:I}", "sess_id", &sess, "sdp_ver", &ver) != 0)
		return -1;
	struct echo_call *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	if (call_restore(&c->call, &echo_call_ops, json_object_get(j, "call")) != 0) {
		free(c);
		return -1;
	}
	c->dlg = dlg_restore(json_object_get(j, "dlg"), &echo_dlg_ops, c, 0);
	const char *why = NULL;
	if (!c->dlg)
		why = "its dialog";
	else if (persist_ep_restore(json_object_get(j, "ep"), &c->ep) != 0)
		why = "its media port (address gone from the pool, or taken)";
	else if (remote && (persist_sdp_read(remote, &c->remote) != 0 ||
			    persist_nego_read(json_object_get(j, "nego"), &c->nego) != 0))
		why = "its SDP";
	if (why) {
		LOG_W("journal", "call %s not restored: %s", key, why);
		media_ep_release(&c->ep);
		if (c->dlg)
			dlg_free(c->dlg);
		call_unregister(&c->call);
		free(c);
		return -1;
	}
	c->have_nego = remote != NULL;
	c->state = ECHO_CONFIRMED;
	c->sdp_sess_id = (uint64_t)sess;
	c->sdp_ver = (uint64_t)ver;
	c->sdp_len = (int)json_string_length(sdp);
	memcpy(c->sdp, json_string_value(sdp), (size_t)c->sdp_len);
	persist_addr_read(json_object_get(j, "seen"), &c->seen_ip, &c->seen_port);
	if (echo_publish(c) != 0) {
		LOG_W("journal", "call %s not restored: its stream", key);
		echo_end(c, "not restored");
		return -1;
	}
	echo_persist(c);
	LOG_I("call", "restored %s from %s, media %s:%u", c->dlg->call_id, c->call.from_uri,
	      inet_ntoa(media_ep_addr(&c->ep)), c->ep.port);
	return 0;
}

void echo_init(const struct config *config)
{
	cfg = config;
	for (unsigned i = 0; i < cfg->media_n_codecs; i++)
		codecs[i] = cfg->media_codecs[i];
}
