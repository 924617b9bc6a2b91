/* b2bua: call set-up (routing to destinations, failover, redirects, early media), the media
 * plan of both legs, media timeouts, and teardown with call records. What crosses an
 * established call is in b2bua_fwd.c. */
#include "controlplane/apps/b2bua_int.h"
#include "controlplane/media/prompt.h"
#include "dataplane/codec.h"

#include <arpa/inet.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>

#include "controlplane/apps/persist.h"
#include "controlplane/media/quality.h"
#include "controlplane/ops/journal.h"
#include "util/log.h"
#include "util/time.h"

const struct config *b2b_cfg;
static const struct call_ops b2b_call_ops;
static const char *const side_name[2] = {"caller", "callee"};

void b2bua_init(const struct config *cfg) { b2b_cfg = cfg; }

/* media.codecs lists telephone-event: mgw offers it to a callee even when the caller did not,
 * and plays the caller's SIP INFO digits as RFC 4733. */
static bool b2b_offers_te(void)
{
	for (unsigned i = 0; i < b2b_cfg->media_n_codecs; i++)
		if (strcasecmp(b2b_cfg->media_codecs[i], "telephone-event") == 0)
			return true;
	return false;
}

/* media.codecs, as the names b2bsdp ranks by. */
static unsigned b2b_pref(const char **out)
{
	for (unsigned i = 0; i < b2b_cfg->media_n_codecs; i++)
		out[i] = b2b_cfg->media_codecs[i];
	return b2b_cfg->media_n_codecs;
}

/* ---- media ---- */

unsigned b2b_ptime(const struct bcall *c, int side)
{
	const struct leg *l = &c->leg[side];
	unsigned p = l->have_sdp && l->sdp.ptime ? l->sdp.ptime : b2b_cfg->media_ptime;
	enum stream_codec id = sdp_codec_id(&c->plan.codec[side]);
	return codec_ptime_ok(id, p) ? p : 20;
}

/* The legs share no codec and are not the two G.711 laws: what @side receives is decoded
 * and encoded in the other leg's codec, at the other leg's packet time. */
static void b2b_xcode_opts(const struct bcall *c, int side, struct media_leg_opts *o)
{
	int other = !side;
	const struct sdp_codec *in = &c->plan.codec[side], *out = &c->plan.codec[other];
	o->xc = (struct stream_xcode){
		.in_codec = (uint8_t)sdp_codec_id(in),
		.out_codec = (uint8_t)sdp_codec_id(out),
		.in_pt = in->pt,
		.out_pt = out->pt,
		.in_ptime = (uint8_t)b2b_ptime(c, side),
		.out_ptime = (uint8_t)b2b_ptime(c, other),
		.te_in = o->map.te_in,
		.te_out = o->map.te_out,
	};
}

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
		o.clock = c->plan.codec[side].clock_rate;
		if (c->plan.te_pt[side] >= 0) {
			/* renumbered for the other leg, or dropped when it took none (the digits
			 * reach it as SIP INFO) */
			o.map.te_in = (uint8_t)c->plan.te_pt[side];
			o.map.te_out = c->plan.te_pt[other] >= 0 ? (uint8_t)c->plan.te_pt[other]
								  : STREAM_PT_DROP;
		}
		if (b2bsdp_byte_map(&c->plan))
			o.map.g711 = c->plan.codec[side].pt == 0 ? STREAM_G711_U2A : STREAM_G711_A2U;
		else if (c->plan.transcode)
			b2b_xcode_opts(c, side, &o);
		/* voice activity for media.silence_timeout_s: the level of what this leg's
		 * peer sends */
		uint8_t law = c->plan.codec[side].pt == 0   ? STREAM_VAD_PCMU
			      : c->plan.codec[side].pt == 8 ? STREAM_VAD_PCMA
							    : STREAM_VAD_OFF;
		/* a transcoded leg's pipeline hears its decoded audio, whatever the codec */
		uint8_t heard = o.xc.in_codec ? STREAM_VAD_DECODED : law;
		if (b2b_cfg->media_silence_timeout_s || b2b_cfg->media_talk_events)
			o.vad = heard;
		if (b2b_cfg->media_talk_events && heard)
			o.vad |= STREAM_VAD_EVENTS;
		/* in-band DTMF from a leg that took no telephone-event */
		if (b2b_cfg->media_inband_dtmf && c->plan.te_pt[side] < 0)
			o.inband = heard;
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
		if (c->have_plan && c->plan.te_pt[s] >= 0)
			p[s].te_pt = (uint8_t)c->plan.te_pt[s];
		o[s] = leg_opts(c, s);
	}
	int rc = media_ep_relay(&c->leg[LEG_A].ep, &c->leg[LEG_B].ep, &p[LEG_A], &p[LEG_B],
				(uint8_t)b2b_cfg->media_latch, false, &o[LEG_A], &o[LEG_B]);
	if (rc != 0) {
		LOG_E("b2bua", "%s: cannot publish media: %d", b2b_id(c), rc);
	} else {
		b2b_media_watch(c);
		b2b_persist(c);
	}
	return rc;
}

/* ---- the journal ---- */

static void b2b_key(const struct bcall *c, char *out, size_t len)
{
	const struct dlg *a = c->leg[LEG_A].dlg;
	snprintf(out, len, "%s;%s", a->call_id, a->local_tag);
}

static json_t *leg_journal(const struct leg *l)
{
	json_t *o = json_pack("{s:o, s:o, s:I, s:I, s:s%}", "dlg", dlg_to_json(l->dlg), "ep",
			      persist_ep(&l->ep), "sess_id", (json_int_t)l->sess_id, "sdp_ver",
			      (json_int_t)l->sdp_ver, "sdp_out", l->sdp_out,
			      (size_t)(l->sdp_out_len > 0 ? l->sdp_out_len : 0));
	if (o && l->have_sdp)
		json_object_set_new(o, "sdp", persist_sdp(&l->sdp));
	if (o && l->seen_port)
		json_object_set_new(o, "seen", persist_addr(l->seen_ip, l->seen_port));
	return o;
}

void b2b_persist(struct bcall *c)
{
	if (!journal_active() || c->state != B_CONFIRMED || !c->leg[LEG_A].dlg ||
	    !c->leg[LEG_B].dlg || !c->have_plan)
		return;
	char key[SIP_CALL_ID_MAX + 64];
	b2b_key(c, key, sizeof(key));
	json_t *o = json_pack("{s:o, s:[o,o], s:o, s:s, s:s, s:i}", "call", call_to_json(&c->call),
			      "legs", leg_journal(&c->leg[LEG_A]), leg_journal(&c->leg[LEG_B]), "plan",
			      persist_plan(&c->plan), "user", c->user, "b_call_id", c->b_call_id,
			      "hops", c->hops);
	journal_put(key, o);
	c->journaled = o != NULL;
}

/* One leg back from the journal: its dialog, port and SDP. Returns NULL or what failed. */
static const char *leg_restore(struct bcall *c, int side, const json_t *j)
{
	struct leg *l = &c->leg[side];
	const json_t *out = json_object_get(j, "sdp_out"), *sdp = json_object_get(j, "sdp");
	json_int_t sess = 0, ver = 0;
	if (!json_is_string(out) || json_string_length(out) >= B2B_SDP_MAX ||
	    json_unpack((json_t *)j, "{s:I, s:I}", "sess_id", &sess, "sdp_ver", &ver) != 0)
		return "its SDP";
	l->dlg = dlg_restore(json_object_get(j, "dlg"), &b2b_dlg_ops, c, side);
	if (!l->dlg)
		return "a dialog";
	if (persist_ep_restore(json_object_get(j, "ep"), &l->ep) != 0)
		return "a media port (address gone from the pool, or taken)";
	if (sdp && persist_sdp_read(sdp, &l->sdp) != 0)
		return "an SDP";
	l->have_sdp = sdp != NULL;
	l->sess_id = (uint64_t)sess;
	l->sdp_ver = (uint64_t)ver;
	l->sdp_out_len = (int)json_string_length(out);
	memcpy(l->sdp_out, json_string_value(out), (size_t)l->sdp_out_len);
	persist_addr_read(json_object_get(j, "seen"), &l->seen_ip, &l->seen_port);
	return NULL;
}

static void b2b_media_check(struct timer *t);

int b2bua_restore(const char *key, const json_t *j)
{
	const json_t *legs = json_object_get(j, "legs");
	const char *user = NULL, *bcid = NULL;
	int hops = 0;
	if (!json_is_array(legs) || json_array_size(legs) != 2 ||
	    json_unpack((json_t *)j, "{s:s, s:s, s:i}", "user", &user, "b_call_id", &bcid, "hops",
			&hops) != 0)
		return -1;
	struct bcall *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	if (call_restore(&c->call, &b2b_call_ops, json_object_get(j, "call")) != 0) {
		free(c);
		return -1;
	}
	snprintf(c->user, sizeof(c->user), "%s", user);
	snprintf(c->b_call_id, sizeof(c->b_call_id), "%s", bcid);
	c->hops = hops;
	const char *why = leg_restore(c, LEG_A, json_array_get(legs, 0));
	if (!why)
		why = leg_restore(c, LEG_B, json_array_get(legs, 1));
	if (!why && persist_plan_read(json_object_get(j, "plan"), &c->plan) != 0)
		why = "its media plan";
	c->have_plan = true;
	c->state = B_CONFIRMED;
	if (!why && b2b_apply_media(c) != 0)
		why = "its streams";
	if (why) {
		LOG_W("journal", "call %s not restored: %s", key, why);
		for (int s = 0; s < 2; s++) {
			media_ep_release(&c->leg[s].ep);
			dlg_free(c->leg[s].dlg);
		}
		call_unregister(&c->call);
		free(c);
		return -1;
	}
	timer_start(&c->media_timer, 1000, b2b_media_check);
	LOG_I("b2bua", "restored %s -> %s", b2b_id(c), c->leg[LEG_B].dlg->call_id);
	return 0;
}

void b2b_media_watch(struct bcall *c)
{
	for (int s = 0; s < 2; s++)
		if (c->leg[s].dlg && c->leg[s].ep.stream_id)
			dlg_watch_stream(c->leg[s].dlg, c->leg[s].ep.stream_id);
}

/* Our SDP towards leg @side: an answer to @offer (that leg's offer), or an offer. */
int b2b_sdp_for(struct bcall *c, int side, const struct sdp_stream *offer, bool as_offer,
		enum sdp_dir dir)
{
	struct leg *l = &c->leg[side];
	struct in_addr local = media_ep_addr(&l->ep);
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
		const char *names[B2BSDP_MAX_CODECS + CONFIG_MAX_CODECS], *pref[CONFIG_MAX_CODECS];
		unsigned k = 0, np = b2b_pref(pref);
		const struct leg *o = &c->leg[!side];
		if (o->have_sdp)
			k = b2bsdp_offer_codecs(&o->sdp, b2b_offers_te(), pref, np, names,
						B2BSDP_MAX_CODECS);
		if (k == 0)
			for (; k < b2b_cfg->media_n_codecs; k++)
				names[k] = b2b_cfg->media_codecs[k];
		n = sdp_write_offer_dir(l->sdp_out, sizeof(l->sdp_out), names, k, local,
					l->ep.port, ptime, l->sess_id, l->sdp_ver, dir);
	}
	l->sdp_out_len = n;
	return n < 0 ? -1 : 0;
}

static bool b2b_on_hold(const struct bcall *c)
{
	for (int s = 0; s < 2; s++)
		if (c->leg[s].have_sdp &&
		    (c->leg[s].sdp.dir != SDP_SENDRECV || !c->leg[s].sdp.addr.s_addr))
			return true;
	return false;
}

/* The media timeout: when the last RTP packet either way is older than the limit, the call
 * is over; otherwise look again when it would be. One timer per call, no scan. */
/* media.silence_timeout_s: a leg whose peer sends packets but no voice (one-way audio, a
 * classic carrier fault) for that long ends the call. Returns true when it did. */
static bool b2b_silence_check(struct bcall *c, uint64_t *next_ms)
{
	unsigned limit_s = b2b_cfg->media_silence_timeout_s;
	if (!limit_s || b2b_on_hold(c) || c->state != B_CONFIRMED)
		return false;
	uint64_t limit_ms = (uint64_t)limit_s * 1000, up_ms = time_now_ms() - c->call.answered_ms;
	for (int s = 0; s < 2; s++) {
		struct stream_stats st;
		media_ep_stats(&c->leg[s].ep, &st);
		if (!st.last_rx_tsc || media_tsc_age_us(st.last_rx_tsc) > 2000000)
			continue; /* no packets: the media timeout's business */
		uint64_t quiet_ms = st.last_talk_tsc ? media_tsc_age_us(st.last_talk_tsc) / 1000
						      : up_ms;
		if (quiet_ms > up_ms)
			quiet_ms = up_ms;
		if (quiet_ms >= limit_ms) {
			LOG_W("b2bua", "%s: only silence from the %s for %u s", b2b_id(c),
			      s == LEG_A ? "caller" : "callee", limit_s);
			b2b_end(c, s == LEG_A ? "silence from the caller" : "silence from the callee",
				true, true);
			return true;
		}
		if (limit_ms - quiet_ms < *next_ms)
			*next_ms = limit_ms - quiet_ms;
	}
	return false;
}

static void b2b_media_check(struct timer *t)
{
	struct bcall *c = (struct bcall *)((char *)t - offsetof(struct bcall, media_timer));
	uint64_t next_silence = UINT64_MAX;
	if (b2b_silence_check(c, &next_silence))
		return;
	unsigned limit_s = b2b_on_hold(c) ? b2b_cfg->media_hold_timeout_s : b2b_cfg->media_timeout_s;
	if (!limit_s) {
		timer_start(t, 1000, b2b_media_check); /* the hold state may change */
		return;
	}
	uint64_t limit_ms = (uint64_t)limit_s * 1000, silent_ms = time_now_ms() - c->call.answered_ms;
	for (int s = 0; s < 2; s++) {
		struct stream_stats st;
		media_ep_stats(&c->leg[s].ep, &st);
		if (st.last_rx_tsc) {
			uint64_t age = media_tsc_age_us(st.last_rx_tsc) / 1000;
			if (age < silent_ms)
				silent_ms = age;
		}
	}
	if (silent_ms >= limit_ms) {
		LOG_W("b2bua", "%s: no media either way for %u s", b2b_id(c), limit_s);
		b2b_end(c, "media timeout", true, true);
		return;
	}
	uint64_t next = limit_ms - silent_ms;
	if (next_silence < next)
		next = next_silence;
	timer_start(t, next < 1000 ? 1000 : next, b2b_media_check);
}

/* ---- teardown ---- */

static json_t *leg_cdr(const struct bcall *c, int side, const struct stream_stats *st,
		       const struct leg_quality *q)
{
	const struct leg *l = &c->leg[side];
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "call_id", json_string(l->dlg ? l->dlg->call_id : "-"));
	json_object_set_new(o, "rtp_in", json_integer((json_int_t)st->rx_pkts));
	json_object_set_new(o, "rtp_relayed", json_integer((json_int_t)st->tx_pkts));
	json_object_set_new(o, "rtp_lost", json_integer((json_int_t)st->rtp_lost));
	json_object_set_new(o, "jitter", json_integer(st->rtp_jitter));
	if (st->rtt_us)
		json_object_set_new(o, "rtt_ms", json_real(round(st->rtt_us / 100.0) / 10));
	if (q->valid) {
		json_object_set_new(o, "loss", json_real(q->loss));
		json_object_set_new(o, "jitter_ms", json_real(q->jitter_ms));
		json_object_set_new(o, "mos", json_real(round(q->mos * 100) / 100));
	}
	return o;
}

static void b2b_cdr(const struct bcall *c, const char *reason)
{
	struct leg_quality q[2];
	struct stream_stats st[2];
	for (int s = 0; s < 2; s++) {
		media_ep_stats(&c->leg[s].ep, &st[s]);
		const struct sdp_codec *pc = &c->plan.codec[s];
		quality_of(&st[s], c->have_plan ? pc->clock_rate : 8000,
			   c->have_plan ? sdp_codec_id(pc) : STREAM_CODEC_NONE,
			   &q[s]);
		quality_observe(&q[s]);
		if (q[s].valid)
			LOG_I("b2bua", "%s: %s received: loss %.2f%%, jitter %.1f ms, MOS %.2f",
			      b2b_id(c), s == LEG_A ? "A" : "B", q[s].loss * 100, q[s].jitter_ms,
			      q[s].mos);
	}
	json_t *rec = call_cdr_begin(&c->call, reason);
	if (!rec)
		return;
	json_object_set_new(rec, "call_id_a", json_string(b2b_id(c)));
	json_object_set_new(rec, "call_id_b",
			    json_string(c->leg[LEG_B].dlg ? c->leg[LEG_B].dlg->call_id : "-"));
	json_object_set_new(rec, "a_to_b", leg_cdr(c, LEG_A, &st[LEG_A], &q[LEG_A]));
	json_object_set_new(rec, "b_to_a", leg_cdr(c, LEG_B, &st[LEG_B], &q[LEG_B]));
	if (b2b_cfg->media_talk_events) {
		json_object_set_new(rec, "talk_spurts_caller", json_integer(c->talk_spurts[LEG_A]));
		json_object_set_new(rec, "talk_spurts_callee", json_integer(c->talk_spurts[LEG_B]));
	}
	call_cdr_emit(rec);
}

void b2b_end(struct bcall *c, const char *reason, bool bye_a, bool bye_b)
{
	LOG_I("b2bua", "ended %s -> %s: %s", b2b_id(c),
	      c->leg[LEG_B].dlg ? c->leg[LEG_B].dlg->call_id : "-", reason);
	if (c->journaled) {
		char key[SIP_CALL_ID_MAX + 64];
		b2b_key(c, key, sizeof(key));
		journal_del(key);
	}
	if (bye_a && c->leg[LEG_A].dlg)
		dlg_bye(c->leg[LEG_A].dlg);
	if (bye_b && c->leg[LEG_B].dlg)
		dlg_bye(c->leg[LEG_B].dlg);
	b2b_cdr(c, reason);
	timer_stop(&c->media_timer);
	b2b_fwd_free_all(c);
	for (int s = 0; s < 2; s++) {
		media_ep_release(&c->leg[s].ep);
		dlg_free(c->leg[s].dlg); /* its transactions report to nobody any more */
	}
	call_unregister(&c->call);
	free(c);
}

/* ---- set-up ---- */

/* The final answer to A when no destination is left: the best one seen (RFC 3261 16.7:
 * 6xx first, else the lowest class). */
static void b2b_fail(struct bcall *c)
{
	int code = c->best_code ? c->best_code : 480;
	struct dlg *a = c->leg[LEG_A].dlg;
	if (a->invite_tr)
		dlg_reply(a, a->invite_tr, code, c->best_reason[0] ? c->best_reason : NULL);
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

/* Leg B's dialog for an attempt at @dst: a new one each time (a new tag), the same Call-ID
 * and a growing CSeq across attempts. */
static struct dlg *b2b_leg_b_dialog(struct bcall *c, const osip_message_t *a_req,
				    const struct sockaddr_in *dst)
{
	uint32_t cseq = 0;
	struct dlg *old = c->leg[LEG_B].dlg;
	if (old) {
		cseq = old->local_cseq;
		dlg_free(old);
		c->leg[LEG_B].dlg = NULL;
	}
	osip_uri_t *target = b2b_target(c->user, dst);
	struct dlg *d = NULL;
	if (target)
		d = dlg_new_uac(c->b_call_id[0] ? c->b_call_id : NULL, a_req->from, a_req->to, target,
				dst, &b2b_dlg_ops, c, LEG_B);
	if (target)
		osip_uri_free(target);
	if (!d)
		return NULL;
	if (!c->b_call_id[0])
		snprintf(c->b_call_id, sizeof(c->b_call_id), "%s", d->call_id);
	if (cseq)
		d->local_cseq = cseq;
	c->leg[LEG_B].dlg = d;
	return d;
}

static int b2b_send_invite(struct bcall *c, const struct route_dest *d)
{
	struct dlg *a = c->leg[LEG_A].dlg;
	struct dlg *b = b2b_leg_b_dialog(c, a->invite_tr->orig_request, &d->addr);
	if (!b)
		return -1;
	osip_message_t *inv = dlg_request(b, "INVITE");
	if (!inv)
		return -1;
	char hops[16];
	snprintf(hops, sizeof(hops), "%d", c->hops);
	osip_header_t *mf = NULL;
	if (osip_message_get_max_forwards(inv, 0, &mf) >= 0 && mf) {
		osip_free(mf->hvalue);
		mf->hvalue = osip_strdup(hops);
	}
	struct leg *lb = &c->leg[LEG_B];
	enum sdp_dir dir = c->leg[LEG_A].have_sdp ? c->leg[LEG_A].sdp.dir : SDP_SENDRECV;
	if (b2b_sdp_for(c, LEG_B, NULL, true, dir) != 0 ||
	    sip_copy_body(inv, NULL, lb->sdp_out, (size_t)lb->sdp_out_len) != 0) {
		osip_message_free(inv);
		return -1;
	}
	c->b_ict = dlg_send_invite(b, inv);
	if (!c->b_ict)
		return -1;
	c->state = B_TRYING;
	c->b_provisional = false;
	LOG_D("b2bua", "%s: trying %s", b2b_id(c), d->text);
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

/* A's offer, when its INVITE has one. Returns 0 or a status to refuse A with. */
static int b2b_a_offer(struct bcall *c, const osip_message_t *req)
{
	size_t len = 0;
	const char *body = sip_sdp_body(req, &len);
	if (!body)
		return sip_has_body(req) ? 415 : 0; /* offer-less: B's answer is our offer to A */
	struct leg *a = &c->leg[LEG_A];
	int rc = sdp_parse(body, len, &a->sdp);
	if (rc == SDP_OK) {
		const char *names[B2BSDP_MAX_CODECS];
		if (b2bsdp_offer_codecs(&a->sdp, false, NULL, 0, names, B2BSDP_MAX_CODECS) == 0)
			rc = SDP_ERR_NO_CODEC;
	}
	if (rc == SDP_ERR_NO_CODEC || rc == SDP_ERR_NO_AUDIO)
		return 488;
	if (rc != SDP_OK)
		return 400;
	a->have_sdp = true;
	return 0;
}

void b2bua_start(osip_transaction_t *tr, osip_message_t *req, const struct sockaddr_in *src,
		 const struct route *route, int hops)
{
	struct bcall *c = calloc(1, sizeof(*c));
	if (!c || call_register(&c->call, &b2b_call_ops, req, route->name) != 0) {
		free(c);
		sip_txn_reply(tr, 500, NULL);
		return;
	}
	struct dlg *a = dlg_new_uas(tr, req, src, &b2b_dlg_ops, c, LEG_A);
	if (!a) {
		call_unregister(&c->call);
		free(c);
		sip_txn_reply(tr, 500, NULL);
		return;
	}
	c->leg[LEG_A].dlg = a;
	c->hops = hops;
	snprintf(c->user, sizeof(c->user), "%s", sip_ruri_user(req));
	memcpy(c->dests, route->dests, route->n_dests * sizeof(route->dests[0]));
	c->n_dests = route->n_dests;
	for (int i = 0; i < 2; i++)
		c->leg[i].sess_id = ((uint64_t)time(NULL) << 16) ^ (uint64_t)random();
	sip_txn_reply(tr, 100, NULL);
	int code = b2b_a_offer(c, req);
	if (code == 0 && (media_ep_alloc(&c->leg[LEG_A].ep) != 0 ||
			  media_ep_alloc(&c->leg[LEG_B].ep) != 0))
		code = 503;
	if (code == 0 && b2b_apply_media(c) != 0)
		code = 500;
	if (code) {
		dlg_reply(a, tr, code, NULL);
		b2b_end(c, code == 488 ? "no codec mgw can carry" : "cannot set up media", false,
			false);
		return;
	}
	LOG_I("b2bua", "new %s for %s via route %s", a->call_id, c->user, c->call.route);
	b2b_try_next(c);
}

/* ---- responses to our INVITE ---- */

/* B's SDP (an answer to our offer) fixes the plan; A gets our answer to its offer, or, when
 * A made none, our offer. Returns 0 or a status for A. */
static int b2b_take_b_answer(struct bcall *c, const osip_message_t *resp)
{
	size_t len = 0;
	const char *body = sip_sdp_body(resp, &len);
	if (!body)
		return 0;
	struct leg *a = &c->leg[LEG_A], *b = &c->leg[LEG_B];
	struct sdp_stream ans;
	if (sdp_parse(body, len, &ans) != SDP_OK)
		return 502;
	const struct sdp_stream *a_side = a->have_sdp ? &a->sdp : &ans;
	struct b2bsdp_plan plan;
	const char *pref[CONFIG_MAX_CODECS];
	unsigned np = b2b_pref(pref);
	if (b2bsdp_plan(a_side, &ans, pref, np, &plan) != SDP_OK)
		return 488;
	if (c->early_a) { /* A has our answer already: its codec stays */
		plan.codec[LEG_A] = c->early_codec;
		plan.te_pt[LEG_A] = c->early_te;
		plan.transcode = strcasecmp(plan.codec[LEG_A].name, plan.codec[LEG_B].name) != 0;
	}
	b->sdp = ans;
	b->have_sdp = true;
	c->plan = plan;
	c->have_plan = true;
	int rc = a->have_sdp ? b2b_sdp_for(c, LEG_A, &a->sdp, false, ans.dir)
			     : b2b_sdp_for(c, LEG_A, NULL, true, ans.dir);
	if (rc != 0 || b2b_apply_media(c) != 0)
		return 500;
	if (c->ringback_gen) { /* B's own media (early or answered) from now on */
		media_ep_play_stop(&a->ep);
		c->ringback_gen = 0;
	}
	return 0;
}

/* media.ringback while B rings without early media: A gets our answer now (its first G.711
 * codec, which stays A's for the call) and hears the ringback until B answers or sends early
 * media. Returns 0 when A's provisional response may carry our SDP. */
static int b2b_ringback(struct bcall *c)
{
	struct leg *a = &c->leg[LEG_A];
	if (c->ringback_gen)
		return 0;
	if (!b2b_cfg->media_ringback[0] || !a->have_sdp)
		return -1;
	const struct sdp_codec *x = NULL;
	int te = -1;
	for (unsigned i = 0; i < a->sdp.n_codecs; i++) {
		const struct sdp_codec *k = &a->sdp.codecs[i];
		enum stream_codec id = sdp_codec_id(k);
		if (!x && id != STREAM_CODEC_NONE) /* prompts come in every codec mgw knows */
			x = k;
		if (te < 0 && strcasecmp(k->name, "telephone-event") == 0 && k->clock_rate == 8000)
			te = k->pt;
	}
	char err[256];
	const struct stream_prompt *pr =
		x ? prompt_for(b2b_cfg->media_ringback, sdp_codec_id(x), err,
			       sizeof(err))
		  : NULL;
	if (!pr)
		return -1;
	c->early_a = true;
	c->early_codec = *x;
	c->early_te = te;
	c->plan.codec[LEG_A] = *x;
	c->plan.te_pt[LEG_A] = te;
	if (b2b_sdp_for(c, LEG_A, &a->sdp, false, SDP_SENDRECV) != 0 || b2b_apply_media(c) != 0)
		return -1;
	struct stream_play p = {.kind = STREAM_PLAY_AUDIO, .pt = x->pt, .prompt = pr,
				.ptime_ms = (uint8_t)b2b_ptime(c, LEG_A)};
	c->ringback_gen = media_ep_play_copy(&a->ep, &p);
	if (!c->ringback_gen)
		return -1;
	LOG_I("b2bua", "%s: the callee rings: ringback to the caller", b2b_id(c));
	return 0;
}

static void b2b_to_a(struct bcall *c, const osip_message_t *resp, bool with_sdp)
{
	struct dlg *a = c->leg[LEG_A].dlg;
	struct leg *la = &c->leg[LEG_A];
	if (!a->invite_tr)
		return;
	osip_message_t *r = dlg_response(a, a->invite_tr->orig_request, resp->status_code,
					 resp->reason_phrase, with_sdp ? la->sdp_out : NULL,
					 with_sdp && la->sdp_out_len > 0 ? (size_t)la->sdp_out_len : 0);
	if (r)
		dlg_respond(a, a->invite_tr, r);
}

static void b2b_b_answered(struct bcall *c, osip_message_t *resp)
{
	struct dlg *b = c->leg[LEG_B].dlg, *a = c->leg[LEG_A].dlg;
	dlg_take_response(b, resp);
	c->b_ict = NULL; /* the 2xx ends it */
	if (c->cancelled) { /* answered as the CANCEL crossed it */
		dlg_ack(b, resp, NULL, 0);
		b2b_end(c, "cancelled by caller", false, true);
		return;
	}
	/* the media plan first: B may send RTP as soon as it has our ACK */
	int code = b2b_take_b_answer(c, resp);
	dlg_ack(b, resp, NULL, 0);
	if (code == 0 && !c->have_plan)
		code = 502; /* B answered without SDP: nothing to give A */
	if (code) {
		if (a->invite_tr)
			dlg_reply(a, a->invite_tr, code, NULL);
		b2b_end(c, "B's answer unusable", false, true);
		return;
	}
	c->state = B_ANSWERED;
	call_answered(&c->call);
	b2b_to_a(c, resp, true);
	LOG_I("b2bua", "%s answered by %s (%s%s)", a->call_id, c->dests[c->next_dest - 1].text,
	      c->plan.codec[LEG_B].name, c->plan.transcode ? ", transcoded" : "");
}

static void b2b_redirect(struct bcall *c, const osip_message_t *resp)
{
	osip_contact_t *ct = NULL;
	if (c->redirects >= B2B_MAX_REDIRECTS || osip_message_get_contact(resp, 0, &ct) < 0 ||
	    !ct || !ct->url)
		return;
	struct route_dest d = {.transport = ROUTE_UDP};
	if (sip_uri_addr(ct->url, &d.addr) != 0)
		return; /* names are resolved at route load only; not on the call path */
	snprintf(d.text, sizeof(d.text), "redirect:%s:%u", ct->url->host, ntohs(d.addr.sin_port));
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

static void b2b_initial_response(struct bcall *c, osip_transaction_t *tr, osip_message_t *resp)
{
	int code = resp->status_code;
	struct dlg *b = c->leg[LEG_B].dlg;
	if (code < 200) {
		if (!c->b_provisional) {
			c->b_provisional = true;
			if (c->cancelled) /* A cancelled before B said anything: now we may */
				dlg_cancel(b, tr);
		}
		if (code == 100 || c->cancelled)
			return;
		dlg_take_response(b, resp);
		c->state = B_EARLY;
		int rc = b2b_take_b_answer(c, resp); /* 183 with SDP: early media */
		bool sdp = rc == 0 && (c->have_plan || b2b_ringback(c) == 0);
		b2b_to_a(c, resp, sdp);
		return;
	}
	if (code < 300) {
		b2b_b_answered(c, resp);
		return;
	}
	LOG_I("b2bua", "%s: %s answered %d", b2b_id(c), c->dests[c->next_dest - 1].text, code);
	c->b_ict = NULL; /* that transaction lingers (Timer D) but no longer concerns the call */
	c->leg[LEG_B].have_sdp = false;
	c->have_plan = false;
	if (code < 400)
		b2b_redirect(c, resp);
	else
		b2b_note_failure(c, code, resp->reason_phrase);
	if (code >= 600)
		c->next_dest = c->n_dests; /* a global failure: no other destination (16.7) */
	b2b_try_next(c);
}

/* ---- the legs' events ---- */

static void b2b_response(struct dlg *d, osip_transaction_t *tr, osip_message_t *resp)
{
	struct bcall *c = b2b_of(d);
	if (d->side == LEG_B && tr == c->b_ict)
		b2b_initial_response(c, tr, resp);
	else
		b2b_fwd_response(c, tr, resp);
}

static void b2b_timeout(struct dlg *d, osip_transaction_t *tr)
{
	struct bcall *c = b2b_of(d);
	if (d->side != LEG_B || tr != c->b_ict) {
		b2b_fwd_ended(c, tr);
		return;
	}
	c->b_ict = NULL;
	LOG_I("b2bua", "%s: %s did not answer (Timer B)", b2b_id(c),
	      c->dests[c->next_dest - 1].text);
	b2b_note_failure(c, 408, "Request Timeout");
	b2b_try_next(c);
}

static void b2b_txn_ended(struct dlg *d, osip_transaction_t *tr)
{
	struct bcall *c = b2b_of(d);
	if (tr == c->b_ict) {
		c->b_ict = NULL;
		return;
	}
	b2b_fwd_ended(c, tr);
}

static void b2b_cancelled(struct dlg *d)
{
	struct bcall *c = b2b_of(d);
	if (c->state >= B_ANSWERED || c->cancelled)
		return;
	c->cancelled = true;
	LOG_I("b2bua", "%s cancelled by the caller", d->call_id);
	if (!c->b_ict) {
		b2b_end(c, "cancelled by caller", false, false);
		return;
	}
	/* B's 487 (or its 200, then BYE) ends the call; Timer B if it says nothing. A CANCEL
	 * may only follow a provisional response (RFC 3261 9.1). */
	if (c->b_provisional)
		dlg_cancel(c->leg[LEG_B].dlg, c->b_ict);
}

static void b2b_ack_timeout(struct dlg *d)
{
	char why[48];
	snprintf(why, sizeof(why), "no ACK from the %s", side_name[d->side]);
	b2b_end(b2b_of(d), why, true, true);
}

static void b2b_ack(struct dlg *d, const osip_message_t *ack)
{
	struct bcall *c = b2b_of(d);
	if (d->side == LEG_A && c->state == B_ANSWERED) {
		c->state = B_CONFIRMED;
		timer_start(&c->media_timer, 1000, b2b_media_check);
		bool had_sdp = c->leg[LEG_A].have_sdp;
		b2b_a_ack(d, ack); /* without A's SDP yet: its answer, media applied (or ended) */
		if (had_sdp)
			b2b_persist(c);
	}
}

static void b2b_media(struct dlg *d, uint64_t stream_id, struct in_addr ip, uint16_t port)
{
	(void)stream_id;
	struct leg *l = &b2b_of(d)->leg[d->side];
	l->seen_ip = ip;
	l->seen_port = port;
	b2b_persist(b2b_of(d));
}

int b2b_play_digit(struct bcall *c, int to, char digit, unsigned ms)
{
	struct stream_play p = {.kind = STREAM_PLAY_DTMF, .pt = (uint8_t)c->plan.te_pt[to],
				.digit_ms = (uint16_t)(ms < 40 ? 40 : ms > 5000 ? 5000 : ms),
				.gap_ms = 60, .volume = 10, .digits = {digit}};
	if (!media_ep_play_copy(&c->leg[to].ep, &p))
		return -1;
	c->dtmf_4733_sent++;
	return 0;
}

/* @digit as its tone pair in leg @to's audio (@ms long), for a leg without telephone-event
 * (media.inband_dtmf). Returns 0 or -1. */
static int b2b_play_inband(struct bcall *c, int to, char digit, unsigned ms)
{
	char name[8], err[128];
	snprintf(name, sizeof(name), "dtmf:%c", digit);
	const struct sdp_codec *k = &c->plan.codec[to];
	const struct stream_prompt *pr = prompt_for(name, sdp_codec_id(k), err,
						    sizeof(err));
	if (!pr)
		return -1;
	struct stream_play p = {.kind = STREAM_PLAY_AUDIO, .pt = k->pt, .loops = 1,
				.limit = (ms < 40 ? 40 : ms > 1000 ? 1000 : ms) * 8, .prompt = pr,
				.ptime_ms = (uint8_t)b2b_ptime(c, to)};
	return media_ep_play_copy(&c->leg[to].ep, &p) ? 0 : -1;
}

/* A digit from one leg. The other leg gets it in the RTP it was negotiated for; when that
 * leg took no telephone-event, it gets a SIP INFO (application/dtmf-relay) instead. */
static void b2b_dtmf(struct dlg *d, uint64_t stream_id, const struct media_dtmf *ev)
{
	(void)stream_id;
	struct bcall *c = b2b_of(d);
	call_dtmf(&c->call, d->side, b2b_id(c), ev->digit, ev->duration / 8u, ev->cut);
	struct leg *o = &c->leg[!d->side];
	if (ev->inband && c->have_plan && c->plan.te_pt[!d->side] >= 0 &&
	    c->state == B_CONFIRMED) { /* tones in one leg's audio: RFC 4733 to the other */
		if (b2b_play_digit(c, !d->side, ev->digit, ev->duration / 8u) == 0)
			LOG_I("b2bua", "%s: in-band DTMF '%c' from the %s played as RFC 4733",
			      b2b_id(c), ev->digit, d->side ? "callee" : "caller");
		return;
	}
	if (!c->have_plan || c->plan.te_pt[!d->side] >= 0 || c->state != B_CONFIRMED || !o->dlg)
		return;
	if (!ev->inband && b2b_cfg->media_inband_dtmf &&
	    b2b_play_inband(c, !d->side, ev->digit, ev->duration / 8u) == 0) {
		LOG_I("b2bua", "%s: DTMF '%c' from the %s played in-band", b2b_id(c), ev->digit,
		      d->side ? "callee" : "caller");
		return;
	}
	char body[64];
	int n = snprintf(body, sizeof(body), "Signal=%c\r\nDuration=%u\r\n", ev->digit,
			 ev->duration / 8u);
	osip_message_t *info = dlg_request(o->dlg, "INFO");
	if (info && (osip_message_set_content_type(info, "application/dtmf-relay") != 0 ||
		     osip_message_set_body(info, body, (size_t)n) != 0)) {
		osip_message_free(info);
		info = NULL;
	}
	if (!info || !dlg_send(o->dlg, info)) { /* dlg_send frees what it cannot send */
		LOG_W("b2bua", "%s: cannot send DTMF '%c' as SIP INFO", b2b_id(c), ev->digit);
		return;
	}
	c->dtmf_info_sent++;
}

/* Voice activity (media.talk_events): a leg's peer started talking or fell silent. */
static void b2b_talk(struct dlg *d, uint64_t stream_id, bool talking)
{
	(void)stream_id;
	struct bcall *c = b2b_of(d);
	if (talking)
		c->talk_spurts[d->side]++;
	LOG_I("b2bua", "%s: the %s %s", b2b_id(c), d->side ? "callee" : "caller",
	      talking ? "talks" : "falls silent");
}

const struct dlg_ops b2b_dlg_ops = {
	.talk = b2b_talk,
	.request = b2b_request,
	.cancelled = b2b_cancelled,
	.ack = b2b_ack,
	.ack_timeout = b2b_ack_timeout,
	.response = b2b_response,
	.timeout = b2b_timeout,
	.txn_ended = b2b_txn_ended,
	.media = b2b_media,
	.dtmf = b2b_dtmf,
};

/* ---- the registry's view ---- */

static json_t *leg_json(const struct bcall *c, int side)
{
	const struct leg *l = &c->leg[side];
	struct stream_stats st;
	media_ep_stats(&l->ep, &st);
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "leg", json_string(side == LEG_A ? "a" : "b"));
	json_object_set_new(o, "call_id", json_string(l->dlg ? l->dlg->call_id : "-"));
	json_object_set_new(o, "local", call_json_addr(media_ep_addr(&l->ep), l->ep.port));
	if (l->seen_port)
		json_object_set_new(o, "remote", call_json_addr(l->seen_ip, l->seen_port));
	else if (l->have_sdp)
		json_object_set_new(o, "remote", call_json_addr(l->sdp.addr, l->sdp.port));
	else
		json_object_set_new(o, "remote", json_string("-"));
	json_object_set_new(o, "codec", json_string(c->have_plan ? c->plan.codec[side].name : "-"));
	json_object_set_new(o, "pkts_in", json_integer((json_int_t)st.rx_pkts));
	json_object_set_new(o, "pkts_relayed", json_integer((json_int_t)st.tx_pkts));
	json_object_set_new(o, "wrong_source", json_integer((json_int_t)st.wrong_source));
	json_object_set_new(o, "lost", json_integer((json_int_t)st.rtp_lost));
	json_object_set_new(o, "jitter", json_integer(st.rtp_jitter));
	if (st.rtt_us)
		json_object_set_new(o, "rtt_ms", json_real(round(st.rtt_us / 100.0) / 10));
	json_object_set_new(o, "dtmf", json_string(c->call.dtmf[side]));
	return o;
}

static json_t *b2b_describe(struct call *call)
{
	static const char *const states[] = {"trying", "early", "answered", "confirmed"};
	struct bcall *c = (struct bcall *)call;
	const struct leg *a = &c->leg[LEG_A];
	struct stream_stats sa, sb;
	media_ep_stats(&a->ep, &sa);
	media_ep_stats(&c->leg[LEG_B].ep, &sb);
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "call_id", json_string(b2b_id(c)));
	json_object_set_new(o, "state", json_string(states[c->state]));
	json_object_set_new(o, "from", json_string(c->call.from_uri));
	json_object_set_new(o, "to", json_string(c->call.to_uri));
	json_object_set_new(o, "route", json_string(c->call.route));
	json_object_set_new(o, "local", call_json_addr(media_ep_addr(&a->ep), a->ep.port));
	if (a->have_sdp)
		json_object_set_new(o, "remote", call_json_addr(a->sdp.addr, a->sdp.port));
	else
		json_object_set_new(o, "remote", json_string("-"));
	json_object_set_new(o, "codec", json_string(c->have_plan ? c->plan.codec[LEG_A].name : "-"));
	json_object_set_new(o, "action",
			    json_string(c->plan.transcode ? "relay+transcode" : "relay"));
	json_object_set_new(o, "pkts_in", json_integer((json_int_t)sa.rx_pkts));
	json_object_set_new(o, "pkts_out", json_integer((json_int_t)sb.tx_pkts));
	json_t *legs = json_array();
	json_array_append_new(legs, leg_json(c, LEG_A));
	json_array_append_new(legs, leg_json(c, LEG_B));
	json_object_set_new(o, "legs", legs);
	/* DTMF interworking: digits sent as SIP INFO, and SIP INFO digits played as RFC 4733 */
	json_object_set_new(o, "dtmf_info_sent", json_integer(c->dtmf_info_sent));
	json_object_set_new(o, "dtmf_rfc4733_sent", json_integer(c->dtmf_4733_sent));
	if (b2b_cfg->media_talk_events)
		json_object_set_new(o, "talk_spurts", json_pack("[i, i]", c->talk_spurts[LEG_A],
								 c->talk_spurts[LEG_B]));
	return o;
}

static void b2b_shutdown(struct call *call)
{
	struct bcall *c = (struct bcall *)call;
	struct dlg *a = c->leg[LEG_A].dlg;
	/* a pending B leg gets no CANCEL on the way out: its own Timer C ends it */
	if (a->invite_tr && c->state < B_ANSWERED)
		dlg_reply(a, a->invite_tr, 503, NULL);
	b2b_end(c, "shutdown", c->state >= B_ANSWERED, c->state >= B_ANSWERED);
}

static void b2b_drop(struct call *call)
{
	struct bcall *c = (struct bcall *)call;
	timer_stop(&c->media_timer);
	b2b_fwd_free_all(c);
	for (int s = 0; s < 2; s++) {
		media_ep_release(&c->leg[s].ep);
		dlg_free(c->leg[s].dlg);
	}
	call_unregister(&c->call);
	free(c);
}

static const struct call_ops b2b_call_ops = {
	.kind = "b2bua",
	.describe = b2b_describe,
	.shutdown = b2b_shutdown,
	.drop = b2b_drop,
};
