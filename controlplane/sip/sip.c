#include "controlplane/sip/sip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "controlplane/apps/call.h"
#include "util/log.h"
#include "util/time.h"

#define SIP_MAX_DATAGRAM 65535
#define SIP_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS"

static osip_t *osip;
static int sip_sock = -1;
static struct sip_stats stats;
static char contact[128];
static char listen_str[64];
static char user_agent[64];
static unsigned t1_ms;

/* Transactions terminated during an execute round: freed after it (never inside the kill
 * callback, where osip still uses them). */
static osip_transaction_t **killed;
static size_t n_killed, cap_killed;

const struct sip_stats *sip_get_stats(void) { return &stats; }
const char *sip_contact(void) { return contact; }
const char *sip_listen_str(void) { return listen_str; }
unsigned sip_t1_ms(void) { return t1_ms; }
int sip_fd(void) { return sip_sock; }

static int sip_sendto(const char *buf, size_t len, const struct sockaddr_in *dst)
{
	if (sendto(sip_sock, buf, len, 0, (const struct sockaddr *)dst, sizeof(*dst)) < 0) {
		stats.tx_errors++;
		LOG_W("sip", "sendto %s:%u: %s", inet_ntoa(dst->sin_addr), ntohs(dst->sin_port),
		      strerror(errno));
		return -1;
	}
	stats.tx++;
	return 0;
}

int sip_send_to(const osip_message_t *msg, const struct sockaddr_in *dst)
{
	char *buf = NULL;
	size_t len = 0;
	if (osip_message_to_str((osip_message_t *)msg, &buf, &len) != 0 || !buf)
		return -1;
	int rc = sip_sendto(buf, len, dst);
	osip_free(buf);
	return rc;
}

static int cb_send(osip_transaction_t *tr, osip_message_t *msg, char *host, int port, int sock)
{
	(void)sock;
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	struct sockaddr_in dst;
	if (ctx && ctx->src.sin_family == AF_INET) {
		dst = ctx->src;
	} else {
		memset(&dst, 0, sizeof(dst));
		dst.sin_family = AF_INET;
		dst.sin_port = htons((uint16_t)port);
		if (!host || inet_pton(AF_INET, host, &dst.sin_addr) != 1)
			return -1;
	}
	return sip_send_to(msg, &dst) == 0 ? 0 : -1;
}

static void txn_del(struct sip_txn *ctx);

static void cb_kill(int type, osip_transaction_t *tr)
{
	(void)type;
	osip_remove_transaction(osip, tr);
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	if (ctx) {
		ctx->killed = true;
		txn_del(ctx);
	}
	if (ctx && ctx->call) {
		if (ctx->ops)
			ctx->ops->ended(ctx->call, tr);
		else
			call_txn_ended(ctx->call, tr);
	}
	if (n_killed == cap_killed) {
		size_t cap = cap_killed ? cap_killed * 2 : 64;
		void *p = realloc(killed, cap * sizeof(*killed));
		if (!p) {
			LOG_E("sip", "out of memory: leaking a terminated transaction");
			return;
		}
		killed = p;
		cap_killed = cap;
	}
	killed[n_killed++] = tr;
}

/* ---- transaction index and run queue ----
 * libosip2 finds a message's transaction by walking every transaction, and its *_execute
 * functions walk every transaction to find queued events: both grow with the number of live
 * transactions (thousands at a few hundred calls per second, since a BYE's transaction lives
 * 64*T1). Transactions are indexed here by their top Via branch (RFC 3261 17.2.3), and the
 * ones given an event are queued and run directly. osip's walks remain for its timers, every
 * SIP_TIMER_TICK_MS, and for messages without an RFC 3261 branch. */

#define SIP_TXN_BUCKETS 16384
#define SIP_TIMER_TICK_MS 10

static struct sip_txn *txn_index[SIP_TXN_BUCKETS];
static struct sip_txn *run_head, *run_tail;
static uint64_t next_timer_tick;

static unsigned txn_hash(const char *key)
{
	uint32_t h = 2166136261u;
	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 16777619u;
	return h & (SIP_TXN_BUCKETS - 1);
}

/* "s:" or "c:" (server, client), the branch, and the method the transaction was made for. */
static char *txn_key(char side, const osip_message_t *m, const char *method)
{
	osip_via_t *via = NULL;
	osip_generic_param_t *br = NULL;
	if (osip_message_get_via(m, 0, &via) < 0 || !via ||
	    osip_via_param_get_byname(via, "branch", &br) != 0 || !br || !br->gvalue ||
	    strncmp(br->gvalue, "z9hG4bK", 7) != 0 || !method)
		return NULL;
	size_t n = strlen(br->gvalue) + strlen(method) + 4;
	char *key = malloc(n);
	if (key)
		snprintf(key, n, "%c:%s|%s", side, br->gvalue, method);
	return key;
}

static void txn_add(struct sip_txn *ctx, char *key)
{
	ctx->key = key;
	if (!key)
		return;
	unsigned h = txn_hash(key);
	ctx->hnext = txn_index[h];
	txn_index[h] = ctx;
}

static void txn_del(struct sip_txn *ctx)
{
	if (!ctx->key)
		return;
	struct sip_txn **pp = &txn_index[txn_hash(ctx->key)];
	while (*pp && *pp != ctx)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = ctx->hnext;
	free(ctx->key);
	ctx->key = NULL;
}

static struct sip_txn *txn_find(const char *key)
{
	for (struct sip_txn *c = txn_index[txn_hash(key)]; c; c = c->hnext)
		if (strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

/* @ctx's transaction has an event to run. */
static void txn_queue(struct sip_txn *ctx)
{
	if (!ctx || ctx->pending || ctx->killed)
		return;
	ctx->pending = true;
	ctx->pnext = NULL;
	if (run_tail)
		run_tail->pnext = ctx;
	else
		run_head = ctx;
	run_tail = ctx;
}

static void txn_add_event(osip_transaction_t *tr, osip_event_t *ev)
{
	osip_transaction_add_event(tr, ev);
	txn_queue(osip_transaction_get_your_instance(tr));
}

static void sip_txn_free(osip_transaction_t *tr)
{
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	if (ctx)
		txn_del(ctx);
	free(ctx);
	osip_transaction_free(tr);
}

static void cb_invite(int type, osip_transaction_t *tr, osip_message_t *msg)
{
	(void)type;
	call_on_invite(tr, msg);
}

static void cb_request(int type, osip_transaction_t *tr, osip_message_t *msg)
{
	(void)type;
	call_on_request(tr, msg);
}

static void cb_response(int type, osip_transaction_t *tr, osip_message_t *msg)
{
	(void)type;
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	if (ctx && ctx->call && ctx->ops)
		ctx->ops->response(ctx->call, tr, msg);
}

static void cb_timeout(int type, osip_transaction_t *tr, osip_message_t *msg)
{
	(void)type;
	(void)msg;
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	if (ctx && ctx->call && ctx->ops)
		ctx->ops->timeout(ctx->call, tr);
}

static void cb_transport_error(int type, osip_transaction_t *tr, int error)
{
	(void)type;
	(void)tr;
	LOG_W("sip", "transport error %d", error);
}

osip_message_t *sip_response(const osip_message_t *req, int code, const char *to_tag,
			     const char *sdp, size_t sdp_len)
{
	osip_message_t *r;
	if (osip_message_init(&r) != 0)
		return NULL;
	osip_message_set_version(r, osip_strdup("SIP/2.0"));
	osip_message_set_status_code(r, code);
	const char *reason = osip_message_get_reason(code);
	osip_message_set_reason_phrase(r, osip_strdup(reason ? reason : "Unknown"));
	int rc = osip_list_clone(&req->vias, &r->vias, (int (*)(void *, void **))osip_via_clone);
	if (rc == 0 && req->from)
		rc = osip_from_clone(req->from, &r->from);
	if (rc == 0 && req->to)
		rc = osip_to_clone(req->to, &r->to);
	if (rc == 0 && req->call_id)
		rc = osip_call_id_clone(req->call_id, &r->call_id);
	if (rc == 0 && req->cseq)
		rc = osip_cseq_clone(req->cseq, &r->cseq);
	if (rc == 0 && r->to && code > 100) {
		/* Every response but 100 to a request without a To tag carries one (RFC 3261
		 * 8.2.6.2): refusals outside any call get a fresh tag. */
		osip_generic_param_t *tag = NULL;
		char fresh[20];
		if (!to_tag) {
			snprintf(fresh, sizeof(fresh), "%08lx%08lx", random(), random());
			to_tag = fresh;
		}
		if (osip_to_get_tag(r->to, &tag) != 0)
			osip_to_set_tag(r->to, osip_strdup(to_tag));
	}
	if (rc == 0)
		rc = osip_message_set_header(r, "Server", user_agent);
	if (rc == 0 && code >= 200 && code < 300 && req->cseq && req->cseq->method &&
	    strcmp(req->cseq->method, "INVITE") == 0)
		rc = osip_message_set_contact(r, contact);
	if (rc == 0 && sdp) {
		rc = osip_message_set_body(r, sdp, sdp_len);
		if (rc == 0)
			rc = osip_message_set_content_type(r, "application/sdp");
	}
	if (rc != 0) {
		osip_message_free(r);
		return NULL;
	}
	return r;
}

void sip_txn_respond(osip_transaction_t *tr, osip_message_t *resp)
{
	osip_event_t *ev = osip_new_outgoing_sipmessage(resp);
	if (!ev) {
		osip_message_free(resp);
		return;
	}
	ev->transactionid = tr->transactionid;
	txn_add_event(tr, ev);
}

void sip_txn_reply(osip_transaction_t *tr, int code, const char *to_tag)
{
	osip_message_t *r = sip_response(tr->orig_request, code, to_tag, NULL, 0);
	if (!r)
		return;
	if (code == 405 || (code == 200 && MSG_IS_OPTIONS(tr->orig_request))) {
		osip_message_set_allow(r, SIP_ALLOW);
		if (code == 200)
			osip_message_set_accept(r, "application/sdp");
	}
	sip_txn_respond(tr, r);
}

/* ---- client side ---- */

void sip_random_token(char *buf, size_t len)
{
	snprintf(buf, len, "%08lx%08lx", random(), random());
}

int sip_add_via(osip_message_t *req)
{
	char branch[24], via[160];
	sip_random_token(branch, sizeof(branch));
	snprintf(via, sizeof(via), "SIP/2.0/UDP %s;branch=z9hG4bK%s;rport", listen_str, branch);
	osip_via_t *v = NULL;
	if (osip_via_init(&v) != 0)
		return -1;
	if (osip_via_parse(v, via) != 0) {
		osip_via_free(v);
		return -1;
	}
	return osip_list_add(&req->vias, v, 0) < 0 ? -1 : 0;
}

void sip_txn_own(osip_transaction_t *tr, void *owner, const struct sip_txn_ops *ops)
{
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	if (ctx) {
		ctx->call = owner;
		ctx->ops = ops;
	}
}

static osip_transaction_t *sip_request_start(osip_message_t *req, const struct sockaddr_in *dst,
					     void *owner, const struct sip_txn_ops *ops,
					     bool add_via)
{
	struct sip_txn *ctx = calloc(1, sizeof(*ctx));
	osip_transaction_t *tr = NULL;
	if (!ctx || (add_via && sip_add_via(req) != 0) ||
	    osip_transaction_init(&tr, MSG_IS_INVITE(req) ? ICT : NICT, osip, req) != 0) {
		free(ctx);
		osip_message_free(req);
		return NULL;
	}
	ctx->src = *dst;
	ctx->call = owner;
	ctx->ops = ops;
	ctx->tr = tr;
	osip_transaction_set_your_instance(tr, ctx);
	txn_add(ctx, txn_key('c', req, req->sip_method));
	osip_event_t *ev = osip_new_outgoing_sipmessage(req);
	if (!ev) {
		/* the transaction does not own @req until the event is added */
		osip_remove_transaction(osip, tr);
		osip_transaction_set_your_instance(tr, NULL);
		txn_del(ctx);
		free(ctx);
		osip_transaction_free(tr);
		osip_message_free(req);
		return NULL;
	}
	ev->transactionid = tr->transactionid;
	txn_add_event(tr, ev);
	return tr;
}

osip_transaction_t *sip_request_send(osip_message_t *req, const struct sockaddr_in *dst,
				     void *owner, const struct sip_txn_ops *ops)
{
	return sip_request_start(req, dst, owner, ops, true);
}

osip_transaction_t *sip_request_send_as_is(osip_message_t *req, const struct sockaddr_in *dst,
					   void *owner, const struct sip_txn_ops *ops)
{
	return sip_request_start(req, dst, owner, ops, false);
}

/* ---- input ---- */

static int header_is(const char *line, size_t n, const char *const *names)
{
	const char *colon = memchr(line, ':', n);
	if (!colon)
		return 0;
	size_t k = (size_t)(colon - line);
	while (k > 0 && (line[k - 1] == ' ' || line[k - 1] == '\t'))
		k--;
	for (; *names; names++)
		if (strlen(*names) == k && strncasecmp(line, *names, k) == 0)
			return 1;
	return 0;
}

/* A request osip could not parse: answer 400 from the headers we can still read, copied
 * verbatim, when there is a Via to answer along; drop it otherwise (RFC 3261 16.3/18.2). */
static void sip_reply_unparsable(const char *buf, size_t len, const struct sockaddr_in *src)
{
	static const char *const keep[] = {"via", "v", "from", "f", "to", "t", "call-id",
					   "i", "cseq", NULL};
	static const char *const via[] = {"via", "v", NULL};
	const char *end = buf + len;
	const char *eol = memchr(buf, '\n', len);
	if (!eol || len < 8 || strncmp(buf, "SIP/", 4) == 0 || strncmp(buf, "ACK ", 4) == 0)
		return;
	char out[4096];
	int n = snprintf(out, sizeof(out), "SIP/2.0 400 Bad Request\r\n");
	int have_via = 0;
	for (const char *p = eol + 1; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);
		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break;
		int clean = 1;
		for (size_t i = 0; i < ll; i++)
			if ((unsigned char)p[i] < 0x20 && p[i] != '\t')
				clean = 0;
		if (clean && ll < 1024 && header_is(p, ll, keep) &&
		    (size_t)n + ll + 2 < sizeof(out) - 128) {
			have_via |= header_is(p, ll, via);
			memcpy(out + n, p, ll);
			n += (int)ll;
			out[n++] = '\r';
			out[n++] = '\n';
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	if (!have_via)
		return;
	n += snprintf(out + n, sizeof(out) - (size_t)n, "Server: %s\r\nContent-Length: 0\r\n\r\n",
		      user_agent);
	if (sip_sendto(out, (size_t)n, src) == 0)
		stats.bad_answered++;
}

/* Mandatory headers of a request (RFC 3261 8.1.1); NULL when all are there. */
static const char *sip_request_defect(const osip_message_t *m)
{
	if (osip_list_size(&m->vias) <= 0)
		return "Missing Via";
	if (!m->from || !m->from->url)
		return "Missing From";
	if (!m->to || !m->to->url)
		return "Missing To";
	if (!m->call_id || !m->call_id->number)
		return "Missing Call-ID";
	if (!m->cseq || !m->cseq->number || !m->cseq->method)
		return "Missing CSeq";
	if (!m->sip_method || strcmp(m->cseq->method, m->sip_method) != 0)
		return "CSeq Method Mismatch";
	if (!m->req_uri)
		return "Bad Request-URI";
	return NULL;
}

static void sip_reply_defect(const osip_message_t *m, const char *why,
			     const struct sockaddr_in *src)
{
	if (osip_list_size(&m->vias) <= 0 || MSG_IS_ACK(m))
		return;
	osip_message_t *r = sip_response(m, 400, NULL, NULL, 0);
	if (!r)
		return;
	osip_free(r->reason_phrase);
	r->reason_phrase = osip_strdup(why);
	if (sip_send_to(r, src) == 0)
		stats.bad_answered++;
	osip_message_free(r);
}

static void sip_new_request(osip_event_t *ev, const struct sockaddr_in *src)
{
	osip_message_t *m = ev->sip;
	if (MSG_IS_ACK(m)) {
		if (call_on_ack(m) != 0)
			stats.stray++;
		osip_event_free(ev);
		return;
	}
	if (MSG_IS_INVITE(m) && call_absorb_invite(m, src)) {
		stats.retransmits++;
		osip_event_free(ev);
		return;
	}
	struct sip_txn *ctx = calloc(1, sizeof(*ctx));
	osip_transaction_t *tr = ctx ? osip_create_transaction(osip, ev) : NULL;
	if (!tr) {
		free(ctx);
		stats.bad++;
		sip_reply_defect(m, "Bad Request", src);
		osip_event_free(ev);
		return;
	}
	ctx->src = *src;
	ctx->tr = tr;
	osip_transaction_set_your_instance(tr, ctx);
	txn_add(ctx, txn_key('s', m, m->sip_method));
	txn_add_event(tr, ev);
}

/* The transaction @ev belongs to: by branch, or by osip's own walk for messages without an
 * RFC 3261 branch. Returns 0 when found (the event is then the transaction's). */
static int sip_match(osip_event_t *ev)
{
	osip_message_t *m = ev->sip;
	const char *method = MSG_IS_REQUEST(m) ? (MSG_IS_ACK(m) ? "INVITE" : m->sip_method)
					       : m->cseq->method;
	char *key = txn_key(MSG_IS_REQUEST(m) ? 's' : 'c', m, method);
	if (!key) {
		next_timer_tick = 0; /* osip queued it: its walk runs it in this round */
		return osip_find_transaction_and_add_event(osip, ev) == 0 ? 0 : -1;
	}
	struct sip_txn *ctx = txn_find(key);
	free(key);
	if (!ctx)
		return -1;
	txn_add_event(ctx->tr, ev);
	return 0;
}

void sip_input(const char *buf, size_t len, const struct sockaddr_in *src)
{
	stats.rx++;
	if (len < 4 || (len == 4 && memcmp(buf, "\r\n\r\n", 4) == 0))
		return; /* keep-alive */
	osip_event_t *ev = osip_parse(buf, len);
	if (!ev || !ev->sip) {
		if (ev)
			osip_event_free(ev);
		stats.bad++;
		sip_reply_unparsable(buf, len, src);
		return;
	}
	osip_message_t *m = ev->sip;
	if (MSG_IS_REQUEST(m)) {
		const char *defect = sip_request_defect(m);
		if (defect) {
			stats.bad++;
			sip_reply_defect(m, defect, src);
			osip_event_free(ev);
			return;
		}
	} else if (!m->call_id || !m->cseq || osip_list_size(&m->vias) <= 0) {
		stats.bad++;
		osip_event_free(ev);
		return;
	}
	if (sip_match(ev) == 0) {
		if (MSG_IS_REQUEST(m) && !MSG_IS_ACK(m))
			stats.retransmits++;
		return;
	}
	if (MSG_IS_RESPONSE(m)) {
		/* a 2xx to an INVITE arrives after its client transaction ended (RFC 3261
		 * 17.1.1.2): the call acknowledges it again */
		if (call_on_stray_response(m) != 0)
			stats.stray++;
		osip_event_free(ev);
		return;
	}
	sip_new_request(ev, src);
}

void sip_on_readable(void)
{
	static char buf[SIP_MAX_DATAGRAM + 1];
	for (int i = 0; i < 256; i++) {
		struct sockaddr_in src;
		socklen_t sl = sizeof(src);
		ssize_t n = recvfrom(sip_sock, buf, SIP_MAX_DATAGRAM, MSG_DONTWAIT,
				     (struct sockaddr *)&src, &sl);
		if (n < 0)
			return;
		buf[n] = '\0';
		sip_input(buf, (size_t)n, &src);
	}
}

/* ---- state machines ---- */

static void sip_walk_all(void)
{
	osip_timers_ist_execute(osip);
	osip_timers_nist_execute(osip);
	osip_timers_ict_execute(osip);
	osip_timers_nict_execute(osip);
	osip_ist_execute(osip);
	osip_nist_execute(osip);
	osip_ict_execute(osip);
	osip_nict_execute(osip);
}

void sip_run(void)
{
	uint64_t now = time_now_ms();
	if (now >= next_timer_tick) {
		next_timer_tick = now + SIP_TIMER_TICK_MS;
		sip_walk_all(); /* timers, and what they queued (and messages matched by osip) */
	}
	while (run_head) {
		struct sip_txn *ctx = run_head;
		run_head = ctx->pnext;
		if (!run_head)
			run_tail = NULL;
		ctx->pending = false;
		osip_event_t *ev;
		while (!ctx->killed && (ev = osip_fifo_tryget(ctx->tr->transactionff)) != NULL)
			osip_transaction_execute(ctx->tr, ev);
	}
	for (size_t i = 0; i < n_killed; i++)
		sip_txn_free(killed[i]);
	n_killed = 0;
}

static unsigned list_size(osip_list_t *l) { return (unsigned)osip_list_size(l); }

unsigned sip_transactions(void)
{
	return list_size(&osip->osip_ist_transactions) + list_size(&osip->osip_nist_transactions) +
	       list_size(&osip->osip_ict_transactions) + list_size(&osip->osip_nict_transactions);
}

static void sip_set_callbacks(void)
{
	osip_set_cb_send_message(osip, cb_send);
	osip_set_message_callback(osip, OSIP_IST_INVITE_RECEIVED, cb_invite);
	static const int requests[] = {
		OSIP_NIST_REGISTER_RECEIVED, OSIP_NIST_BYE_RECEIVED,
		OSIP_NIST_OPTIONS_RECEIVED,  OSIP_NIST_INFO_RECEIVED,
		OSIP_NIST_CANCEL_RECEIVED,   OSIP_NIST_NOTIFY_RECEIVED,
		OSIP_NIST_SUBSCRIBE_RECEIVED, OSIP_NIST_UNKNOWN_REQUEST_RECEIVED,
	};
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		osip_set_message_callback(osip, requests[i], cb_request);
	static const int responses[] = {
		OSIP_ICT_STATUS_1XX_RECEIVED,  OSIP_ICT_STATUS_2XX_RECEIVED,
		OSIP_ICT_STATUS_3XX_RECEIVED,  OSIP_ICT_STATUS_4XX_RECEIVED,
		OSIP_ICT_STATUS_5XX_RECEIVED,  OSIP_ICT_STATUS_6XX_RECEIVED,
		OSIP_NICT_STATUS_1XX_RECEIVED, OSIP_NICT_STATUS_2XX_RECEIVED,
		OSIP_NICT_STATUS_3XX_RECEIVED, OSIP_NICT_STATUS_4XX_RECEIVED,
		OSIP_NICT_STATUS_5XX_RECEIVED, OSIP_NICT_STATUS_6XX_RECEIVED,
	};
	for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++)
		osip_set_message_callback(osip, responses[i], cb_response);
	osip_set_message_callback(osip, OSIP_ICT_STATUS_TIMEOUT, cb_timeout);
	osip_set_message_callback(osip, OSIP_NICT_STATUS_TIMEOUT, cb_timeout);
	osip_set_kill_transaction_callback(osip, OSIP_ICT_KILL_TRANSACTION, cb_kill);
	osip_set_kill_transaction_callback(osip, OSIP_IST_KILL_TRANSACTION, cb_kill);
	osip_set_kill_transaction_callback(osip, OSIP_NICT_KILL_TRANSACTION, cb_kill);
	osip_set_kill_transaction_callback(osip, OSIP_NIST_KILL_TRANSACTION, cb_kill);
	osip_set_transport_error_callback(osip, OSIP_IST_TRANSPORT_ERROR, cb_transport_error);
	osip_set_transport_error_callback(osip, OSIP_NIST_TRANSPORT_ERROR, cb_transport_error);
	osip_set_transport_error_callback(osip, OSIP_ICT_TRANSPORT_ERROR, cb_transport_error);
	osip_set_transport_error_callback(osip, OSIP_NICT_TRANSPORT_ERROR, cb_transport_error);
}

/* osip traces every datagram it cannot parse to stdout: route its traces to our log at debug
 * level instead, so that the log level holds and a peer cannot flood the log. */
static void sip_osip_trace(const char *file, int line, osip_trace_level_t level, const char *fmt,
			   va_list ap)
{
	(void)level;
	if (log_get_level() < LOG_DEBUG)
		return;
	char text[512];
	vsnprintf(text, sizeof(text), fmt, ap);
	text[strcspn(text, "\r\n")] = '\0';
	LOG_D("sip", "osip %s:%d: %s", file, line, text);
}

int sip_init(const struct config *cfg, char *err, size_t err_len)
{
	char ip[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &cfg->sip_listen, ip, sizeof(ip));
	snprintf(listen_str, sizeof(listen_str), "%s:%u", ip, cfg->sip_port);
	snprintf(contact, sizeof(contact), "<sip:mgw@%s:%u>", ip, cfg->sip_port);
	snprintf(user_agent, sizeof(user_agent), "%s", cfg->sip_user_agent);
	t1_ms = cfg->sip_t1_ms;
	memset(&stats, 0, sizeof(stats));
	osip_trace_initialize_func(OSIP_INFO1, sip_osip_trace);
	if (osip_init(&osip) != 0) {
		snprintf(err, err_len, "sip: osip_init failed");
		return -1;
	}
	sip_set_callbacks();
	sip_sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sip_sock < 0) {
		snprintf(err, err_len, "sip: socket: %s", strerror(errno));
		return -1;
	}
	int one = 1, rcvbuf = 4 << 20;
	setsockopt(sip_sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(sip_sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)cfg->sip_port),
				 .sin_addr = cfg->sip_listen};
	if (bind(sip_sock, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		snprintf(err, err_len, "sip: bind %s: %s", listen_str, strerror(errno));
		close(sip_sock);
		sip_sock = -1;
		return -1;
	}
	return 0;
}

static void sip_free_list(osip_list_t *l)
{
	while (osip_list_size(l) > 0) {
		osip_transaction_t *tr = osip_list_get(l, 0);
		osip_list_remove(l, 0);
		sip_txn_free(tr);
	}
}

void sip_shutdown(void)
{
	if (osip) {
		for (size_t i = 0; i < n_killed; i++)
			sip_txn_free(killed[i]);
		n_killed = 0;
		sip_free_list(&osip->osip_ist_transactions);
		sip_free_list(&osip->osip_nist_transactions);
		sip_free_list(&osip->osip_ict_transactions);
		sip_free_list(&osip->osip_nict_transactions);
		osip_release(osip);
		osip = NULL;
	}
	free(killed);
	killed = NULL;
	cap_killed = 0;
	if (sip_sock >= 0)
		close(sip_sock);
	sip_sock = -1;
}
