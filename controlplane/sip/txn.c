/* txn: libosip2's transactions without osip's walks. Each transaction is indexed by its
 * branch key, kept out of osip's global lists (removed right after osip creates it, while it
 * is the only one there), run directly when it is given an event, and woken by the timer
 * wheel when the first of its timers (A..K, whose deadlines osip keeps in the transaction's
 * context) is due. Terminated transactions are freed after the run, never inside osip's kill
 * callback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <osip2/osip_time.h>

#include "controlplane/sip/sip_int.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/time.h"

/* libosip2 exports these (its own timer walks use them) without declaring them in its public
 * headers: they decide whether a timer is due, with the state conditions of RFC 3261. */
osip_event_t *__osip_ict_need_timer_a_event(osip_ict_t *ict, state_t state, int id);
osip_event_t *__osip_ict_need_timer_b_event(osip_ict_t *ict, state_t state, int id);
osip_event_t *__osip_ict_need_timer_d_event(osip_ict_t *ict, state_t state, int id);
osip_event_t *__osip_nict_need_timer_e_event(osip_nict_t *nict, state_t state, int id);
osip_event_t *__osip_nict_need_timer_f_event(osip_nict_t *nict, state_t state, int id);
osip_event_t *__osip_nict_need_timer_k_event(osip_nict_t *nict, state_t state, int id);
osip_event_t *__osip_ist_need_timer_g_event(osip_ist_t *ist, state_t state, int id);
osip_event_t *__osip_ist_need_timer_h_event(osip_ist_t *ist, state_t state, int id);
osip_event_t *__osip_ist_need_timer_i_event(osip_ist_t *ist, state_t state, int id);
osip_event_t *__osip_nist_need_timer_j_event(osip_nist_t *nist, state_t state, int id);

#define TXN_MIN_BUCKETS 4096

static struct sip_txn **index_buckets;
static size_t n_buckets, n_indexed;
static struct sip_txn *run_head, *run_tail;
static unsigned n_live;
unsigned sip_timer_j_ms = 64 * DEFAULT_T1;
/* transactions terminated during a run: freed after it */
static struct sip_txn **killed;
static size_t n_killed, cap_killed;

unsigned sip_txn_count(void) { return n_live; }

/* ---- the branch index ---- */

/* Append the strings of @parts (NULL-terminated) to @buf, or to a malloc'd copy when they do
 * not fit; NULL when out of memory. No printf: this runs for every message. */
static char *key_join(char *buf, size_t len, const char *const *parts)
{
	size_t n = 0;
	for (const char *const *p = parts; *p; p++)
		n += strlen(*p);
	char *out = n < len ? buf : malloc(n + 1);
	if (!out)
		return NULL;
	char *w = out;
	for (const char *const *p = parts; *p; p++) {
		size_t l = strlen(*p);
		memcpy(w, *p, l);
		w += l;
	}
	*w = '\0';
	return out;
}

char *sip_txn_key(char side, const osip_message_t *m, const char *method, char *buf, size_t len)
{
	osip_via_t *via = NULL;
	osip_generic_param_t *br = NULL;
	if (osip_message_get_via(m, 0, &via) < 0 || !via || !method)
		return NULL;
	const char *host = via->host ? via->host : "";
	const char *port = via->port ? via->port : "";
	const char *sd = side == 's' ? "s:" : "c:";
	if (osip_via_param_get_byname(via, "branch", &br) == 0 && br && br->gvalue &&
	    strncmp(br->gvalue, "z9hG4bK", 7) == 0) {
		const char *parts[] = {sd, br->gvalue, "|", host, ":", port, "|", method, NULL};
		return key_join(buf, len, parts);
	}
	/* RFC 2543: no branch to trust; what identifies the request instead (17.2.3) */
	const char *cid = m->call_id && m->call_id->number ? m->call_id->number : "";
	const char *cidh = m->call_id && m->call_id->host ? m->call_id->host : "";
	const char *cseq = m->cseq && m->cseq->number ? m->cseq->number : "";
	const char *ftag = sip_tag(m->from);
	const char *parts[] = {sd, "2543|", cid, "@", cidh, "|", cseq, "|", ftag ? ftag : "",
			       "|", host, ":", port, "|", method, NULL};
	return key_join(buf, len, parts);
}

static void index_grow(void)
{
	size_t nb = n_buckets ? n_buckets * 2 : TXN_MIN_BUCKETS;
	struct sip_txn **b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	for (size_t i = 0; i < n_buckets; i++) {
		struct sip_txn *c = index_buckets[i];
		while (c) {
			struct sip_txn *next = c->hnext;
			size_t h = hash_str(c->key) & (nb - 1);
			c->hnext = b[h];
			b[h] = c;
			c = next;
		}
	}
	free(index_buckets);
	index_buckets = b;
	n_buckets = nb;
}

/* Index @ctx under @key (copied). Returns 0 or -1 (out of memory: the caller refuses). */
static int index_add(struct sip_txn *ctx, const char *key)
{
	if (n_indexed >= n_buckets * 2 || !index_buckets)
		index_grow();
	if (!index_buckets || !(ctx->key = strdup(key)))
		return -1;
	size_t h = hash_str(key) & (n_buckets - 1);
	ctx->hnext = index_buckets[h];
	index_buckets[h] = ctx;
	n_indexed++;
	return 0;
}

static void index_del(struct sip_txn *ctx)
{
	if (!ctx->key)
		return;
	struct sip_txn **pp = &index_buckets[hash_str(ctx->key) & (n_buckets - 1)];
	while (*pp && *pp != ctx)
		pp = &(*pp)->hnext;
	if (*pp) {
		*pp = ctx->hnext;
		n_indexed--;
	}
	free(ctx->key);
	ctx->key = NULL;
}

struct sip_txn *sip_txn_lookup(const char *key)
{
	if (!index_buckets)
		return NULL;
	for (struct sip_txn *c = index_buckets[hash_str(key) & (n_buckets - 1)]; c; c = c->hnext)
		if (strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

/* ---- timers ---- */

/* Milliseconds from @now until osip's deadline @tv passes (osip fires when now > tv). */
static int64_t tv_due_ms(const struct timeval *tv, const struct timeval *now)
{
	int64_t us = (int64_t)(tv->tv_sec - now->tv_sec) * 1000000 + (tv->tv_usec - now->tv_usec);
	return us < 0 ? 0 : us / 1000 + 1;
}

static void earliest(int64_t *best, const struct timeval *tv, bool armed, const struct timeval *now)
{
	if (!armed || tv->tv_sec == -1)
		return;
	int64_t d = tv_due_ms(tv, now);
	if (*best < 0 || d < *best)
		*best = d;
}

/* The next of @tr's timers in its current state, in ms from now, or -1 for none. */
static int64_t txn_next_timer(const osip_transaction_t *tr)
{
	struct timeval now;
	int64_t best = -1;
	osip_gettimeofday(&now, NULL);
	switch (tr->ctx_type) {
	case ICT:
		earliest(&best, &tr->ict_context->timer_a_start, tr->state == ICT_CALLING, &now);
		earliest(&best, &tr->ict_context->timer_b_start, tr->state == ICT_CALLING, &now);
		earliest(&best, &tr->ict_context->timer_d_start, tr->state == ICT_COMPLETED, &now);
		break;
	case NICT:
		earliest(&best, &tr->nict_context->timer_e_start,
			 tr->state == NICT_TRYING || tr->state == NICT_PROCEEDING, &now);
		earliest(&best, &tr->nict_context->timer_f_start,
			 tr->state == NICT_TRYING || tr->state == NICT_PROCEEDING, &now);
		earliest(&best, &tr->nict_context->timer_k_start, tr->state == NICT_COMPLETED, &now);
		break;
	case IST:
		earliest(&best, &tr->ist_context->timer_g_start, tr->state == IST_COMPLETED, &now);
		earliest(&best, &tr->ist_context->timer_h_start, tr->state == IST_COMPLETED, &now);
		earliest(&best, &tr->ist_context->timer_i_start, tr->state == IST_CONFIRMED, &now);
		break;
	case NIST:
		earliest(&best, &tr->nist_context->timer_j_start, tr->state == NIST_COMPLETED, &now);
		break;
	}
	return best;
}

/* The event of the first of @tr's timers that is due, or NULL: the ones that end the
 * transaction first, as osip's own walks do. */
static osip_event_t *txn_due_event(osip_transaction_t *tr)
{
	osip_event_t *ev = NULL;
	int id = tr->transactionid;
	switch (tr->ctx_type) {
	case ICT:
		if (!(ev = __osip_ict_need_timer_d_event(tr->ict_context, tr->state, id)) &&
		    !(ev = __osip_ict_need_timer_b_event(tr->ict_context, tr->state, id)))
			ev = __osip_ict_need_timer_a_event(tr->ict_context, tr->state, id);
		break;
	case NICT:
		if (!(ev = __osip_nict_need_timer_k_event(tr->nict_context, tr->state, id)) &&
		    !(ev = __osip_nict_need_timer_f_event(tr->nict_context, tr->state, id)))
			ev = __osip_nict_need_timer_e_event(tr->nict_context, tr->state, id);
		break;
	case IST:
		if (!(ev = __osip_ist_need_timer_i_event(tr->ist_context, tr->state, id)) &&
		    !(ev = __osip_ist_need_timer_h_event(tr->ist_context, tr->state, id)))
			ev = __osip_ist_need_timer_g_event(tr->ist_context, tr->state, id);
		break;
	case NIST:
		ev = __osip_nist_need_timer_j_event(tr->nist_context, tr->state, id);
		break;
	}
	return ev;
}

static void txn_timer_fired(struct timer *t);

static void txn_schedule(struct sip_txn *ctx)
{
	int64_t d = ctx->killed ? -1 : txn_next_timer(ctx->tr);
	if (d < 0)
		timer_stop(&ctx->timer);
	else
		timer_start(&ctx->timer, (uint64_t)d, txn_timer_fired);
}

static void txn_queue(struct sip_txn *ctx)
{
	if (ctx->pending || ctx->killed)
		return;
	ctx->pending = true;
	ctx->pnext = NULL;
	if (run_tail)
		run_tail->pnext = ctx;
	else
		run_head = ctx;
	run_tail = ctx;
}

static void txn_timer_fired(struct timer *t)
{
	struct sip_txn *ctx = (struct sip_txn *)((char *)t - offsetof(struct sip_txn, timer));
	osip_event_t *ev = txn_due_event(ctx->tr);
	if (!ev) { /* osip's clock and ours differ by a hair: look again in a millisecond */
		timer_start(&ctx->timer, 1, txn_timer_fired);
		return;
	}
	osip_fifo_add(ctx->tr->transactionff, ev);
	txn_queue(ctx); /* run (and rescheduled) by sip_run() */
}

/* ---- life cycle ---- */

void sip_txn_event(osip_transaction_t *tr, osip_event_t *ev)
{
	osip_transaction_add_event(tr, ev);
	txn_queue(osip_transaction_get_your_instance(tr));
}

/* A transaction osip just made: out of osip's list (it is the only one there), into ours. */
static struct sip_txn *txn_adopt(osip_transaction_t *tr, const struct sockaddr_in *addr,
				 const char *key)
{
	osip_remove_transaction(sip_osip, tr);
	struct sip_txn *ctx = calloc(1, sizeof(*ctx));
	if (!ctx || (key && index_add(ctx, key) != 0)) {
		free(ctx);
		return NULL;
	}
	ctx->tr = tr;
	ctx->addr = *addr;
	osip_transaction_set_your_instance(tr, ctx);
	if (tr->ctx_type == NIST && tr->nist_context)
		tr->nist_context->timer_j_length = (int)sip_timer_j_ms; /* set before it starts */
	n_live++;
	return ctx;
}

osip_transaction_t *sip_txn_new_server(osip_event_t *ev, const struct sockaddr_in *src,
				       const char *key)
{
	osip_transaction_t *tr = osip_create_transaction(sip_osip, ev);
	if (!tr)
		return NULL;
	if (!txn_adopt(tr, src, key)) {
		sip_stats.no_memory++;
		osip_transaction_free(tr);
		return NULL;
	}
	sip_txn_event(tr, ev);
	return tr;
}

osip_transaction_t *sip_request_send(osip_message_t *req, const struct sockaddr_in *dst,
				     bool keep_via, void *owner, const struct sip_txn_ops *ops)
{
	osip_transaction_t *tr = NULL;
	char buf[256], *key = NULL;
	if ((!keep_via && sip_add_via(req) != 0) ||
	    osip_transaction_init(&tr, MSG_IS_INVITE(req) ? ICT : NICT, sip_osip, req) != 0) {
		osip_message_free(req);
		return NULL;
	}
	key = sip_txn_key('c', req, req->sip_method, buf, sizeof(buf));
	struct sip_txn *ctx = key ? txn_adopt(tr, dst, key) : NULL;
	if (key && key != buf)
		free(key);
	osip_event_t *ev = ctx ? osip_new_outgoing_sipmessage(req) : NULL;
	if (!ev) {
		/* the transaction does not own @req until the event is added */
		sip_stats.no_memory++;
		if (ctx) {
			index_del(ctx);
			free(ctx);
			n_live--;
		}
		osip_remove_transaction(sip_osip, tr);
		osip_transaction_set_your_instance(tr, NULL);
		osip_transaction_free(tr);
		osip_message_free(req);
		return NULL;
	}
	ctx->owner = owner;
	ctx->ops = ops;
	ev->transactionid = tr->transactionid;
	sip_txn_event(tr, ev);
	return tr;
}

void sip_txn_own(osip_transaction_t *tr, void *owner, const struct sip_txn_ops *ops)
{
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	if (ctx) {
		ctx->owner = owner;
		ctx->ops = ops;
	}
}

void *sip_txn_owner(osip_transaction_t *tr)
{
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	return ctx ? ctx->owner : NULL;
}

const struct sockaddr_in *sip_txn_source(osip_transaction_t *tr)
{
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	return &ctx->addr;
}

osip_transaction_t *sip_txn_find_invite(const osip_message_t *cancel)
{
	char buf[256];
	char *key = sip_txn_key('s', cancel, "INVITE", buf, sizeof(buf));
	struct sip_txn *ctx = key ? sip_txn_lookup(key) : NULL;
	if (key && key != buf)
		free(key);
	return ctx && !ctx->killed ? ctx->tr : NULL;
}

static void txn_free(struct sip_txn *ctx)
{
	timer_stop(&ctx->timer);
	index_del(ctx);
	osip_transaction_set_your_instance(ctx->tr, NULL);
	osip_transaction_free(ctx->tr);
	free(ctx);
	n_live--;
}

/* osip: @tr terminated. Forget it, tell its owner, free it after the run. */
static void cb_kill(int type, osip_transaction_t *tr)
{
	(void)type;
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	if (!ctx || ctx->killed)
		return;
	ctx->killed = true;
	timer_stop(&ctx->timer);
	index_del(ctx);
	if (ctx->owner && ctx->ops && ctx->ops->ended)
		ctx->ops->ended(ctx->owner, tr);
	if (n_killed == cap_killed) {
		size_t cap = cap_killed ? cap_killed * 2 : 256;
		void *p = realloc(killed, cap * sizeof(*killed));
		if (!p) {
			LOG_E("sip", "out of memory: a terminated transaction stays allocated");
			sip_stats.no_memory++;
			return;
		}
		killed = p;
		cap_killed = cap;
	}
	killed[n_killed++] = ctx;
}

void sip_run(void)
{
	while (run_head) {
		struct sip_txn *ctx = run_head;
		run_head = ctx->pnext;
		if (!run_head)
			run_tail = NULL;
		ctx->pending = false;
		osip_event_t *ev;
		while (!ctx->killed && (ev = osip_fifo_tryget(ctx->tr->transactionff)) != NULL)
			osip_transaction_execute(ctx->tr, ev);
		txn_schedule(ctx);
	}
	for (size_t i = 0; i < n_killed; i++)
		txn_free(killed[i]);
	n_killed = 0;
}

static void cb_send_failed(int type, osip_transaction_t *tr, int error)
{
	(void)type;
	(void)tr;
	LOG_W("sip", "transport error %d", error);
}

static void cb_response(int type, osip_transaction_t *tr, osip_message_t *msg)
{
	(void)type;
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	sip_stats.responses++;
	if (ctx && ctx->owner && ctx->ops && ctx->ops->response)
		ctx->ops->response(ctx->owner, tr, msg);
}

static void cb_timeout(int type, osip_transaction_t *tr, osip_message_t *msg)
{
	(void)type;
	(void)msg;
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	if (ctx && ctx->owner && ctx->ops && ctx->ops->timeout)
		ctx->ops->timeout(ctx->owner, tr);
}

void sip_txn_set_callbacks(void)
{
	static const int responses[] = {
		OSIP_ICT_STATUS_1XX_RECEIVED,  OSIP_ICT_STATUS_2XX_RECEIVED,
		OSIP_ICT_STATUS_3XX_RECEIVED,  OSIP_ICT_STATUS_4XX_RECEIVED,
		OSIP_ICT_STATUS_5XX_RECEIVED,  OSIP_ICT_STATUS_6XX_RECEIVED,
		OSIP_NICT_STATUS_1XX_RECEIVED, OSIP_NICT_STATUS_2XX_RECEIVED,
		OSIP_NICT_STATUS_3XX_RECEIVED, OSIP_NICT_STATUS_4XX_RECEIVED,
		OSIP_NICT_STATUS_5XX_RECEIVED, OSIP_NICT_STATUS_6XX_RECEIVED,
	};
	for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++)
		osip_set_message_callback(sip_osip, responses[i], cb_response);
	osip_set_message_callback(sip_osip, OSIP_ICT_STATUS_TIMEOUT, cb_timeout);
	osip_set_message_callback(sip_osip, OSIP_NICT_STATUS_TIMEOUT, cb_timeout);
	osip_set_kill_transaction_callback(sip_osip, OSIP_ICT_KILL_TRANSACTION, cb_kill);
	osip_set_kill_transaction_callback(sip_osip, OSIP_IST_KILL_TRANSACTION, cb_kill);
	osip_set_kill_transaction_callback(sip_osip, OSIP_NICT_KILL_TRANSACTION, cb_kill);
	osip_set_kill_transaction_callback(sip_osip, OSIP_NIST_KILL_TRANSACTION, cb_kill);
	osip_set_transport_error_callback(sip_osip, OSIP_IST_TRANSPORT_ERROR, cb_send_failed);
	osip_set_transport_error_callback(sip_osip, OSIP_NIST_TRANSPORT_ERROR, cb_send_failed);
	osip_set_transport_error_callback(sip_osip, OSIP_ICT_TRANSPORT_ERROR, cb_send_failed);
	osip_set_transport_error_callback(sip_osip, OSIP_NICT_TRANSPORT_ERROR, cb_send_failed);
}

/* Free every transaction (shutdown): those in the index, the run queue, the killed list. */
void sip_txn_shutdown(void)
{
	sip_run();
	for (size_t i = 0; i < n_buckets; i++) {
		while (index_buckets[i])
			txn_free(index_buckets[i]); /* index_del unlinks it */
	}
	free(index_buckets);
	index_buckets = NULL;
	n_buckets = n_indexed = 0;
	free(killed);
	killed = NULL;
	n_killed = cap_killed = 0;
	run_head = run_tail = NULL;
}
