#include "controlplane/dialog/dialog.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/log.h"

#define DLG_MIN_BUCKETS 1024
#define DLG_MAX_STREAMS 4
#define WATCH_BUCKETS 65536

static const char *const known_methods[] = {"REGISTER", "INFO",  "NOTIFY", "SUBSCRIBE",
					    "PRACK",    "UPDATE", "REFER", "MESSAGE",
					    "PUBLISH",  NULL};

/* A dialog's own bookkeeping, around the public part. */
struct dlg_impl {
	struct dlg d;
	struct sockaddr_in ok_dst;            /* where our 2xx goes again */
	osip_transaction_t **txns;            /* transactions reporting to this leg */
	unsigned n_txns, cap_txns;
	uint64_t streams[DLG_MAX_STREAMS];    /* watched stream ids */
};

struct watch {
	struct watch *next;
	uint64_t stream_id;
	struct dlg *d;
};

static struct dlg **buckets;
static size_t n_buckets;
static unsigned n_dialogs;
static struct dlg_config conf;
static dlg_router_fn router;
static struct dlg_stats stats;
static struct watch *watches[WATCH_BUCKETS];

const struct dlg_stats *dlg_get_stats(void) { return &stats; }
unsigned dlg_count(void) { return n_dialogs; }
void dlg_set_router(dlg_router_fn fn) { router = fn; }

static struct dlg_impl *impl(struct dlg *d) { return (struct dlg_impl *)d; }

/* ---- the table ---- */

static size_t bucket_of(const char *call_id) { return hash_str(call_id) & (n_buckets - 1); }

static void table_add(struct dlg *d)
{
	size_t b = bucket_of(d->call_id);
	d->hnext = buckets[b];
	buckets[b] = d;
	n_dialogs++;
}

static void table_del(struct dlg *d)
{
	struct dlg **pp = &buckets[bucket_of(d->call_id)];
	while (*pp && *pp != d)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = d->hnext;
		n_dialogs--;
	}
}

/* The leg whose Call-ID is @call_id and whose local tag is @tag. */
static struct dlg *find_local(const char *call_id, const char *tag)
{
	if (!call_id || !tag)
		return NULL;
	for (struct dlg *d = buckets[bucket_of(call_id)]; d; d = d->hnext)
		if (strcmp(d->local_tag, tag) == 0 && strcmp(d->call_id, call_id) == 0)
			return d;
	return NULL;
}

/* The UAS leg whose Call-ID is @call_id and whose peer's tag is @tag. */
static struct dlg *find_remote(const char *call_id, const char *tag)
{
	if (!call_id || !tag)
		return NULL;
	for (struct dlg *d = buckets[bucket_of(call_id)]; d; d = d->hnext)
		if (d->role == DLG_UAS && d->remote_tag && strcmp(d->remote_tag, tag) == 0 &&
		    strcmp(d->call_id, call_id) == 0)
			return d;
	return NULL;
}

/* ---- transactions that report to a leg ---- */

static void dlg_txn_response(void *owner, osip_transaction_t *tr, osip_message_t *resp);
static void dlg_txn_timeout(void *owner, osip_transaction_t *tr);
static void dlg_txn_ended(void *owner, osip_transaction_t *tr);

static const struct sip_txn_ops dlg_txn_ops = {
	.response = dlg_txn_response,
	.timeout = dlg_txn_timeout,
	.ended = dlg_txn_ended,
};

static int txn_track(struct dlg *d, osip_transaction_t *tr)
{
	struct dlg_impl *di = impl(d);
	if (di->n_txns == di->cap_txns) {
		unsigned cap = di->cap_txns ? di->cap_txns * 2 : 4;
		void *p = realloc(di->txns, cap * sizeof(*di->txns));
		if (!p)
			return -1;
		di->txns = p;
		di->cap_txns = cap;
	}
	di->txns[di->n_txns++] = tr;
	sip_txn_own(tr, d, &dlg_txn_ops);
	return 0;
}

static void txn_untrack(struct dlg *d, osip_transaction_t *tr)
{
	struct dlg_impl *di = impl(d);
	for (unsigned i = 0; i < di->n_txns; i++)
		if (di->txns[i] == tr) {
			di->txns[i] = di->txns[--di->n_txns];
			return;
		}
}

static void dlg_txn_response(void *owner, osip_transaction_t *tr, osip_message_t *resp)
{
	struct dlg *d = owner;
	if (d->ops->response)
		d->ops->response(d, tr, resp);
}

static void dlg_txn_timeout(void *owner, osip_transaction_t *tr)
{
	struct dlg *d = owner;
	if (d->ops->timeout)
		d->ops->timeout(d, tr);
}

static void dlg_txn_ended(void *owner, osip_transaction_t *tr)
{
	struct dlg *d = owner;
	txn_untrack(d, tr);
	if (tr == d->invite_tr)
		d->invite_tr = NULL;
	if (d->ops->txn_ended)
		d->ops->txn_ended(d, tr);
}

/* ---- creating and freeing legs ---- */

static struct dlg *dlg_alloc(const char *call_id, const struct dlg_ops *ops, void *app, int side)
{
	struct dlg_impl *di = calloc(1, sizeof(*di));
	if (!di)
		return NULL;
	struct dlg *d = &di->d;
	d->call_id = strdup(call_id);
	d->ops = ops;
	d->app = app;
	d->side = side;
	if (!d->call_id) {
		free(di);
		return NULL;
	}
	return d;
}

static void dlg_destroy(struct dlg *d)
{
	free(d->call_id);
	if (d->local)
		osip_from_free(d->local);
	if (d->remote)
		osip_to_free(d->remote);
	if (d->target)
		osip_uri_free(d->target);
	free(impl(d)->txns);
	free(impl(d));
}

static void tags_refresh(struct dlg *d)
{
	d->local_tag = sip_tag(d->local);
	d->remote_tag = sip_tag(d->remote);
}

static osip_uri_t *contact_uri(const osip_message_t *m)
{
	osip_contact_t *c = NULL;
	if (osip_message_get_contact(m, 0, &c) < 0 || !c || !c->url)
		return NULL;
	return c->url;
}

struct dlg *dlg_new_uas(osip_transaction_t *tr, const osip_message_t *req,
			const struct sockaddr_in *src, const struct dlg_ops *ops, void *app,
			int side)
{
	char buf[SIP_CALL_ID_MAX], tag[32];
	const char *cid = sip_call_id(req, buf, sizeof(buf));
	struct dlg *d = cid ? dlg_alloc(cid, ops, app, side) : NULL;
	if (!d)
		return NULL;
	d->role = DLG_UAS;
	sip_random_token(tag, sizeof(tag));
	osip_uri_t *c = contact_uri(req);
	if (osip_to_clone(req->to, &d->local) != 0 || osip_from_clone(req->from, &d->remote) != 0 ||
	    osip_to_set_tag(d->local, osip_strdup(tag)) != 0 ||
	    osip_uri_clone(c ? c : req->from->url, &d->target) != 0 || txn_track(d, tr) != 0) {
		dlg_destroy(d);
		return NULL;
	}
	tags_refresh(d);
	d->remote_cseq = sip_cseq(req);
	d->invite_cseq = d->remote_cseq;
	d->local_cseq = (uint32_t)(random() & 0xffff) + 1;
	d->peer = *src; /* requests go back where the peer signals from (symmetric, NAT) */
	d->invite_tr = tr;
	table_add(d);
	return d;
}

struct dlg *dlg_new_uac(const char *call_id, const osip_from_t *from, const osip_to_t *to,
			const osip_uri_t *target, const struct sockaddr_in *dst,
			const struct dlg_ops *ops, void *app, int side)
{
	char cid[64], tag[32];
	if (!call_id) {
		char tok[32];
		sip_random_token(tok, sizeof(tok));
		snprintf(cid, sizeof(cid), "%s@mgw", tok);
		call_id = cid;
	}
	struct dlg *d = dlg_alloc(call_id, ops, app, side);
	if (!d)
		return NULL;
	d->role = DLG_UAC;
	sip_random_token(tag, sizeof(tag));
	osip_generic_param_t *t = NULL;
	if (osip_from_clone((osip_from_t *)from, &d->local) != 0 ||
	    osip_to_clone((osip_to_t *)to, &d->remote) != 0 ||
	    osip_uri_clone(target, &d->target) != 0) {
		dlg_destroy(d);
		return NULL;
	}
	/* our own tag on this leg; the peer's To gets its tag from the peer */
	if (osip_from_get_tag(d->local, &t) == 0 && t) {
		osip_free(t->gvalue);
		t->gvalue = osip_strdup(tag);
	} else {
		osip_from_set_tag(d->local, osip_strdup(tag));
	}
	tags_refresh(d);
	d->local_cseq = 1;
	d->peer = *dst;
	table_add(d);
	return d;
}

void dlg_free(struct dlg *d)
{
	if (!d)
		return;
	struct dlg_impl *di = impl(d);
	timer_stop(&d->ok_timer);
	timer_stop(&d->ack_deadline);
	timer_stop(&d->ack_linger);
	if (d->ok)
		osip_message_free(d->ok);
	if (d->ack)
		osip_message_free(d->ack);
	for (unsigned i = 0; i < di->n_txns; i++)
		sip_txn_own(di->txns[i], NULL, NULL);
	for (unsigned i = 0; i < DLG_MAX_STREAMS; i++)
		if (di->streams[i])
			dlg_unwatch_stream(di->streams[i]);
	table_del(d);
	dlg_destroy(d);
}

/* ---- the journal's view of an established leg ---- */

json_t *dlg_to_json(const struct dlg *d)
{
	char *local = NULL, *remote = NULL, *target = NULL, peer[INET_ADDRSTRLEN];
	json_t *o = NULL;
	if (osip_from_to_str(d->local, &local) == 0 && osip_to_to_str(d->remote, &remote) == 0 &&
	    osip_uri_to_str(d->target, &target) == 0 &&
	    inet_ntop(AF_INET, &d->peer.sin_addr, peer, sizeof(peer)))
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:i}", "call_id", d->call_id,
			      "role", d->role == DLG_UAS ? "uas" : "uac", "local", local, "remote",
			      remote, "target", target, "local_cseq", (json_int_t)d->local_cseq,
			      "remote_cseq", (json_int_t)d->remote_cseq, "peer", peer, "peer_port",
			      (int)ntohs(d->peer.sin_port));
	osip_free(local);
	osip_free(remote);
	osip_free(target);
	return o;
}

struct dlg *dlg_restore(const json_t *j, const struct dlg_ops *ops, void *app, int side)
{
	const char *cid = NULL, *role = NULL, *local = NULL, *remote = NULL, *target = NULL;
	const char *peer = NULL;
	json_int_t lcseq = 0, rcseq = 0;
	int pport = 0;
	if (json_unpack((json_t *)j, "{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:i}", "call_id",
			&cid, "role", &role, "local", &local, "remote", &remote, "target", &target,
			"local_cseq", &lcseq, "remote_cseq", &rcseq, "peer", &peer, "peer_port",
			&pport) != 0 ||
	    !*cid || strlen(cid) >= SIP_CALL_ID_MAX || pport <= 0 || pport > 65535 || lcseq < 0 ||
	    lcseq > UINT32_MAX || rcseq < 0 || rcseq > UINT32_MAX)
		return NULL;
	struct dlg *d = dlg_alloc(cid, ops, app, side);
	if (!d)
		return NULL;
	d->role = strcmp(role, "uas") == 0 ? DLG_UAS : DLG_UAC;
	d->peer.sin_family = AF_INET;
	d->peer.sin_port = htons((uint16_t)pport);
	if (osip_from_init(&d->local) != 0 || osip_from_parse(d->local, local) != 0 ||
	    osip_to_init(&d->remote) != 0 || osip_to_parse(d->remote, remote) != 0 ||
	    osip_uri_init(&d->target) != 0 || osip_uri_parse(d->target, target) != 0 ||
	    inet_pton(AF_INET, peer, &d->peer.sin_addr) != 1) {
		dlg_destroy(d);
		return NULL;
	}
	tags_refresh(d);
	if (!d->local_tag || !d->remote_tag || find_local(d->call_id, d->local_tag)) {
		dlg_destroy(d);
		return NULL;
	}
	d->local_cseq = (uint32_t)lcseq;
	d->remote_cseq = (uint32_t)rcseq;
	d->answered = true;
	table_add(d);
	return d;
}

/* ---- answering ---- */

osip_message_t *dlg_response(struct dlg *d, const osip_message_t *req, int code,
			     const char *reason, const char *sdp, size_t sdp_len)
{
	osip_message_t *r = sip_response(req, code, d->local_tag, sdp, sdp_len);
	if (r && reason) {
		osip_free(r->reason_phrase);
		r->reason_phrase = osip_strdup(reason);
	}
	return r;
}

void dlg_reply(struct dlg *d, osip_transaction_t *tr, int code, const char *reason)
{
	osip_message_t *r = dlg_response(d, tr->orig_request, code, reason, NULL, 0);
	if (r)
		dlg_respond(d, tr, r);
}

static void ok_resend(struct timer *t);
static void ack_missed(struct timer *t);

void dlg_respond(struct dlg *d, osip_transaction_t *tr, osip_message_t *resp)
{
	int code = resp->status_code;
	bool invite = MSG_IS_INVITE(tr->orig_request);
	if (tr == d->invite_tr && code >= 200)
		d->answered = true;
	if (invite && code >= 200 && code < 300) {
		/* the server transaction ends with the 2xx (RFC 3261 17.2.1): we retransmit it
		 * ourselves until the ACK (13.3.1.4) */
		osip_message_t *copy = NULL;
		if (osip_message_clone(resp, &copy) == 0) {
			if (d->ok)
				osip_message_free(d->ok);
			d->ok = copy;
			d->ok_cseq = sip_cseq(resp);
			impl(d)->ok_dst = *sip_txn_source(tr);
			d->ok_interval_ms = conf.t1_ms;
			timer_start(&d->ok_timer, d->ok_interval_ms, ok_resend);
			timer_start(&d->ack_deadline, conf.ack_timeout_ms, ack_missed);
		}
	}
	sip_txn_respond(tr, resp);
}

static struct dlg *dlg_of_timer(struct timer *t, size_t off)
{
	return (struct dlg *)((char *)t - off);
}

static void ok_resend(struct timer *t)
{
	struct dlg *d = dlg_of_timer(t, offsetof(struct dlg, ok_timer));
	if (!d->ok)
		return;
	sip_send_to(d->ok, &impl(d)->ok_dst);
	stats.retransmitted_2xx++;
	d->ok_interval_ms = d->ok_interval_ms * 2 > SIP_T2_MS ? SIP_T2_MS : d->ok_interval_ms * 2;
	timer_start(&d->ok_timer, d->ok_interval_ms, ok_resend);
}

static void ack_missed(struct timer *t)
{
	struct dlg *d = dlg_of_timer(t, offsetof(struct dlg, ack_deadline));
	timer_stop(&d->ok_timer);
	if (d->ok)
		osip_message_free(d->ok);
	d->ok = NULL;
	stats.ack_timeouts++;
	if (d->ops->ack_timeout)
		d->ops->ack_timeout(d); /* may free @d */
}

/* ---- requests ---- */

osip_message_t *dlg_request(struct dlg *d, const char *method)
{
	osip_message_t *m = NULL;
	if (osip_message_init(&m) != 0)
		return NULL;
	char num[16];
	snprintf(num, sizeof(num), "%u", ++d->local_cseq);
	osip_cseq_t *cs = NULL;
	int rc = osip_cseq_init(&cs);
	if (rc == 0) {
		osip_cseq_set_number(cs, osip_strdup(num));
		osip_cseq_set_method(cs, osip_strdup(method));
		m->cseq = cs;
	}
	osip_message_set_method(m, osip_strdup(method));
	osip_message_set_version(m, osip_strdup("SIP/2.0"));
	if (rc == 0)
		rc = osip_uri_clone(d->target, &m->req_uri);
	if (rc == 0)
		rc = osip_from_clone(d->local, &m->from);
	if (rc == 0)
		rc = osip_to_clone(d->remote, &m->to);
	if (rc == 0)
		rc = osip_message_set_call_id(m, d->call_id);
	if (rc == 0)
		rc = osip_message_set_max_forwards(m, "70");
	if (rc == 0)
		rc = osip_message_set_contact(m, sip_contact());
	if (rc != 0) {
		osip_message_free(m);
		return NULL;
	}
	return m;
}

osip_transaction_t *dlg_send(struct dlg *d, osip_message_t *req)
{
	osip_transaction_t *tr = sip_request_send(req, &d->peer, false, d, &dlg_txn_ops);
	if (tr && txn_track(d, tr) != 0) {
		sip_txn_own(tr, NULL, NULL);
		return NULL; /* it goes out, but nobody would hear of it: report a failure */
	}
	return tr;
}

osip_transaction_t *dlg_send_invite(struct dlg *d, osip_message_t *inv)
{
	uint32_t cseq = sip_cseq(inv);
	osip_transaction_t *tr = dlg_send(d, inv);
	if (tr && !d->invite_cseq)
		d->invite_cseq = cseq;
	return tr;
}

static void ack_expired(struct timer *t)
{
	struct dlg *d = dlg_of_timer(t, offsetof(struct dlg, ack_linger));
	if (d->ack)
		osip_message_free(d->ack);
	d->ack = NULL;
}

void dlg_ack(struct dlg *d, const osip_message_t *resp, const char *sdp, size_t sdp_len)
{
	osip_message_t *ack = dlg_request(d, "ACK");
	if (!ack)
		return;
	d->local_cseq--; /* the ACK takes the INVITE's CSeq, not a new one */
	osip_free(ack->cseq->number);
	ack->cseq->number = osip_strdup(resp->cseq->number);
	osip_message_set_max_forwards(ack, "70");
	if ((sdp && sip_copy_body(ack, NULL, sdp, sdp_len) != 0) || sip_add_via(ack) != 0) {
		osip_message_free(ack);
		return;
	}
	sip_send_to(ack, &d->peer);
	if (d->ack)
		osip_message_free(d->ack);
	d->ack = ack;
	timer_start(&d->ack_linger, conf.ack_timeout_ms, ack_expired);
}

void dlg_bye(struct dlg *d)
{
	osip_message_t *bye = dlg_request(d, "BYE");
	if (bye)
		sip_request_send(bye, &d->peer, false, NULL, NULL);
}

void dlg_cancel(struct dlg *d, osip_transaction_t *ict)
{
	const osip_message_t *inv = ict->orig_request;
	osip_message_t *m = NULL;
	osip_via_t *via = NULL, *v = NULL;
	if (!inv || osip_message_init(&m) != 0)
		return;
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
	if (rc == 0 && osip_list_add(&m->vias, v, 0) < 0) {
		osip_via_free(v);
		rc = -1;
	}
	if (rc == 0)
		rc = osip_message_set_max_forwards(m, "70");
	if (rc != 0) {
		osip_message_free(m);
		return;
	}
	sip_request_send(m, &d->peer, true, NULL, NULL);
}

void dlg_take_target(struct dlg *d, const osip_message_t *m)
{
	osip_uri_t *c = contact_uri(m), *copy = NULL;
	if (!c || osip_uri_clone(c, &copy) != 0)
		return;
	osip_uri_free(d->target);
	d->target = copy;
	/* in-dialog requests follow the target when it is a literal address */
	struct sockaddr_in a;
	if (sip_uri_addr(copy, &a) == 0)
		d->peer = a;
}

void dlg_take_response(struct dlg *d, const osip_message_t *resp)
{
	const char *tag = sip_tag(resp->to);
	if (tag && !d->remote_tag) {
		osip_to_set_tag(d->remote, osip_strdup(tag));
		tags_refresh(d);
	}
	dlg_take_target(d, resp);
}

/* ---- from the SIP layer ---- */

static void reply_out_of_dialog(osip_transaction_t *tr, const osip_message_t *req)
{
	const char *m = req->sip_method;
	if (MSG_IS_OPTIONS(req)) {
		sip_txn_reply(tr, 200, NULL);
		return;
	}
	if (MSG_IS_BYE(req) || MSG_IS_CANCEL(req) || sip_tag(req->to)) {
		stats.no_dialog++;
		sip_txn_reply(tr, 481, NULL);
		return;
	}
	for (const char *const *k = known_methods; *k; k++)
		if (strcmp(m, *k) == 0) {
			sip_txn_reply(tr, 405, NULL);
			return;
		}
	sip_txn_reply(tr, 501, NULL);
}

/* CANCEL: for the INVITE server transaction with its branch (RFC 3261 9.2). */
static void dlg_on_cancel(osip_transaction_t *tr, const osip_message_t *cancel)
{
	osip_transaction_t *ist = sip_txn_find_invite(cancel);
	struct dlg *d = ist ? sip_txn_owner(ist) : NULL;
	if (!d) {
		stats.no_dialog++;
		sip_txn_reply(tr, 481, NULL);
		return;
	}
	sip_txn_reply(tr, 200, d->local_tag);
	if (d->answered || d->cancelled || ist != d->invite_tr)
		return; /* answered already: the CANCEL has no effect */
	d->cancelled = true;
	dlg_reply(d, ist, 487, NULL);
	if (d->ops->cancelled)
		d->ops->cancelled(d);
}

static void dlg_on_request(osip_transaction_t *tr, osip_message_t *req,
			   const struct sockaddr_in *src)
{
	char buf[SIP_CALL_ID_MAX];
	const char *cid = sip_call_id(req, buf, sizeof(buf));
	if (MSG_IS_CANCEL(req)) {
		dlg_on_cancel(tr, req);
		return;
	}
	const char *to_tag = sip_tag(req->to);
	if (!to_tag) {
		if (!MSG_IS_INVITE(req)) {
			reply_out_of_dialog(tr, req);
			return;
		}
		/* our own request come back (a routing loop), or a copy of a request we are
		 * already handling that took another path (RFC 3261 8.2.2.2) */
		const char *ftag = sip_tag(req->from);
		struct dlg *mine = find_local(cid, ftag), *same = find_remote(cid, ftag);
		if ((mine && mine->role == DLG_UAC) || same) {
			stats.loops++;
			sip_txn_reply(tr, 482, NULL);
			return;
		}
		if (router)
			router(tr, req, src);
		else
			sip_txn_reply(tr, 503, NULL);
		return;
	}
	struct dlg *d = find_local(cid, to_tag);
	if (!d) {
		reply_out_of_dialog(tr, req);
		return;
	}
	uint32_t cseq = sip_cseq(req);
	if (d->remote_cseq && cseq <= d->remote_cseq) {
		/* out of order (RFC 3261 12.2.2) */
		stats.cseq_errors++;
		dlg_reply(d, tr, 500, "CSeq Out of Order");
		return;
	}
	d->remote_cseq = cseq;
	if (txn_track(d, tr) != 0) {
		dlg_reply(d, tr, 500, NULL);
		return;
	}
	d->ops->request(d, tr, req);
}

/* The ACK for a 2xx, or an INVITE sent again after our 2xx ended its transaction. */
static int dlg_on_unmatched_request(const osip_message_t *req, const struct sockaddr_in *src)
{
	char buf[SIP_CALL_ID_MAX];
	const char *cid = sip_call_id(req, buf, sizeof(buf));
	uint32_t cseq = sip_cseq(req);
	const char *to_tag = sip_tag(req->to);
	if (MSG_IS_ACK(req)) {
		struct dlg *d = find_local(cid, to_tag);
		if (!d)
			return -1;
		if (!d->ok || d->ok_cseq != cseq)
			return 0; /* an ACK sent again */
		timer_stop(&d->ok_timer);
		timer_stop(&d->ack_deadline);
		osip_message_free(d->ok);
		d->ok = NULL;
		if (d->ops->ack)
			d->ops->ack(d, req);
		return 0;
	}
	struct dlg *d = to_tag ? find_local(cid, to_tag) : find_remote(cid, sip_tag(req->from));
	if (!d || d->role != DLG_UAS)
		return -1;
	if (d->ok && d->ok_cseq == cseq) {
		sip_send_to(d->ok, src);
		stats.absorbed_invites++;
		return 0;
	}
	/* the initial INVITE once more, answered and acknowledged already */
	if (!to_tag && cseq == d->invite_cseq) {
		stats.absorbed_invites++;
		return 0;
	}
	return -1;
}

/* A 2xx to our INVITE after its client transaction ended: our ACK was lost. */
static int dlg_on_unmatched_response(const osip_message_t *resp)
{
	char buf[SIP_CALL_ID_MAX];
	if (!MSG_IS_RESPONSE_FOR(resp, "INVITE") || resp->status_code < 200 ||
	    resp->status_code >= 300)
		return -1;
	struct dlg *d = find_local(sip_call_id(resp, buf, sizeof(buf)), sip_tag(resp->from));
	if (!d || !d->ack || sip_cseq(d->ack) != sip_cseq(resp))
		return -1;
	sip_send_to(d->ack, &d->peer);
	stats.acks_resent++;
	return 0;
}

static const struct sip_user dlg_sip_user = {
	.request = dlg_on_request,
	.unmatched_request = dlg_on_unmatched_request,
	.unmatched_response = dlg_on_unmatched_response,
};

/* ---- media ---- */

static size_t watch_bucket(uint64_t id) { return hash_u64(id) & (WATCH_BUCKETS - 1); }

void dlg_watch_stream(struct dlg *d, uint64_t stream_id)
{
	struct dlg_impl *di = impl(d);
	unsigned slot = DLG_MAX_STREAMS;
	for (unsigned i = 0; i < DLG_MAX_STREAMS; i++) {
		if (di->streams[i] == stream_id)
			return;
		if (!di->streams[i] && slot == DLG_MAX_STREAMS)
			slot = i;
	}
	struct watch *w = slot < DLG_MAX_STREAMS ? malloc(sizeof(*w)) : NULL;
	if (!w)
		return; /* the leg just hears nothing of that stream */
	di->streams[slot] = stream_id;
	w->stream_id = stream_id;
	w->d = d;
	size_t b = watch_bucket(stream_id);
	w->next = watches[b];
	watches[b] = w;
}

void dlg_unwatch_stream(uint64_t stream_id)
{
	struct watch **pp = &watches[watch_bucket(stream_id)];
	while (*pp && (*pp)->stream_id != stream_id)
		pp = &(*pp)->next;
	struct watch *w = *pp;
	if (!w)
		return;
	*pp = w->next;
	struct dlg_impl *di = impl(w->d);
	for (unsigned i = 0; i < DLG_MAX_STREAMS; i++)
		if (di->streams[i] == stream_id)
			di->streams[i] = 0;
	free(w);
}

void dlg_media_seen(uint64_t stream_id, uint32_t ip, uint16_t port)
{
	for (struct watch *w = watches[watch_bucket(stream_id)]; w; w = w->next) {
		if (w->stream_id != stream_id)
			continue;
		if (w->d->ops->media)
			w->d->ops->media(w->d, stream_id, (struct in_addr){.s_addr = ip},
					 ntohs(port));
		return;
	}
}

bool dlg_dtmf(uint64_t stream_id, const struct media_dtmf *ev)
{
	for (struct watch *w = watches[watch_bucket(stream_id)]; w; w = w->next)
		if (w->stream_id == stream_id) {
			if (w->d->ops->dtmf)
				w->d->ops->dtmf(w->d, stream_id, ev);
			return true;
		}
	return false;
}

void dlg_play_done(uint64_t stream_id, uint32_t gen, bool ok)
{
	for (struct watch *w = watches[watch_bucket(stream_id)]; w; w = w->next)
		if (w->stream_id == stream_id) {
			if (w->d->ops->play_done)
				w->d->ops->play_done(w->d, stream_id, gen, ok);
			return;
		}
}

void dlg_talk(uint64_t stream_id, bool talking)
{
	for (struct watch *w = watches[watch_bucket(stream_id)]; w; w = w->next)
		if (w->stream_id == stream_id) {
			if (w->d->ops->talk)
				w->d->ops->talk(w->d, stream_id, talking);
			return;
		}
}

/* ---- life cycle ---- */

int dlg_init(const struct dlg_config *cfg)
{
	conf = *cfg;
	n_buckets = DLG_MIN_BUCKETS;
	while (n_buckets < (size_t)cfg->max_dialogs * 2 && n_buckets < (1u << 24))
		n_buckets *= 2;
	buckets = calloc(n_buckets, sizeof(*buckets));
	if (!buckets)
		return -1;
	memset(&stats, 0, sizeof(stats));
	sip_set_user(&dlg_sip_user);
	return 0;
}

void dlg_shutdown(void)
{
	for (size_t b = 0; b < n_buckets && buckets; b++)
		while (buckets[b]) {
			LOG_W("dialog", "%s still open at shutdown", buckets[b]->call_id);
			dlg_free(buckets[b]);
		}
	free(buckets);
	buckets = NULL;
	n_buckets = 0;
	sip_set_user(NULL);
}
