#include "controlplane/sip/sip_int.h"

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

#include <limits.h>

#include "util/log.h"
#include "util/rate.h"
#include "util/timer.h"

#define SIP_MAX_DATAGRAM 65535
#define SIP_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO, NOTIFY"

osip_t *sip_osip;
struct sip_stats sip_stats;
static const struct sip_user *user;
static int sip_sock = -1;
static char contact[128];
static char listen_str[64];
static char user_agent[64];
static unsigned t1_ms;
static unsigned max_transactions = UINT_MAX; /* limits.max_transactions */
static struct rate_table *source_limit;      /* limits.source_rps, NULL = off */

const struct sip_stats *sip_get_stats(void) { return &sip_stats; }

const char *const sip_method_names[SIP_M_MAX] = {
	"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO", "UPDATE", "NOTIFY", "REGISTER", "other"};

static void sip_count(const osip_message_t *m)
{
	if (MSG_IS_REQUEST(m)) {
		unsigned i = 0;
		while (i < SIP_M_OTHER && strcmp(m->sip_method, sip_method_names[i]) != 0)
			i++;
		sip_stats.requests_by_method[i]++;
	} else {
		int c = m->status_code / 100;
		if (c >= 1 && c <= 6)
			sip_stats.responses_by_class[c]++;
	}
}
const char *sip_contact(void) { return contact; }
const char *sip_listen_str(void) { return listen_str; }
unsigned sip_t1_ms(void) { return t1_ms; }
int sip_fd(void) { return sip_sock; }
unsigned sip_transactions(void) { return sip_txn_count(); }
void sip_set_user(const struct sip_user *u) { user = u; }

static int sip_sendto(const char *buf, size_t len, const struct sockaddr_in *dst)
{
	if (sendto(sip_sock, buf, len, 0, (const struct sockaddr *)dst, sizeof(*dst)) < 0) {
		sip_stats.tx_errors++;
		LOG_W("sip", "sendto %s:%u: %s", inet_ntoa(dst->sin_addr), ntohs(dst->sin_port),
		      strerror(errno));
		return -1;
	}
	sip_stats.tx++;
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

/* osip sends for a transaction: to where its request came from (server), or to the
 * destination chosen when it was started (client). */
static int cb_send(osip_transaction_t *tr, osip_message_t *msg, char *host, int port, int sock)
{
	(void)host;
	(void)port;
	(void)sock;
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	if (!ctx)
		return -1;
	return sip_send_to(msg, &ctx->addr) == 0 ? 0 : -1;
}

/* osip: a request opened server transaction @tr (its first delivery, not retransmissions). */
static void cb_request(int type, osip_transaction_t *tr, osip_message_t *msg)
{
	(void)type;
	struct sip_txn *ctx = osip_transaction_get_your_instance(tr);
	sip_stats.requests++;
	if (user && ctx)
		user->request(tr, msg, &ctx->addr);
	else
		sip_txn_reply(tr, 503, NULL);
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
		char fresh[32];
		if (!to_tag) {
			sip_random_token(fresh, sizeof(fresh));
			to_tag = fresh;
		}
		if (osip_to_get_tag(r->to, &tag) != 0)
			osip_to_set_tag(r->to, osip_strdup(to_tag));
	}
	if (rc == 0)
		rc = osip_message_set_header(r, "Server", user_agent);
	if (rc == 0 && code >= 101 && code < 300 && code != 100 && req->cseq && req->cseq->method &&
	    (strcmp(req->cseq->method, "INVITE") == 0 || strcmp(req->cseq->method, "UPDATE") == 0))
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
	if (!resp)
		return;
	osip_event_t *ev = osip_new_outgoing_sipmessage(resp);
	if (!ev) {
		osip_message_free(resp);
		return;
	}
	ev->transactionid = tr->transactionid;
	sip_txn_event(tr, ev);
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
		sip_stats.bad_answered++;
}

/* Mandatory headers of a request (RFC 3261 8.1.1); NULL when all are there. */
static const char *sip_request_defect(const osip_message_t *m)
{
	char cid[SIP_CALL_ID_MAX];
	if (osip_list_size(&m->vias) <= 0)
		return "Missing Via";
	if (!m->from || !m->from->url)
		return "Missing From";
	if (!m->to || !m->to->url)
		return "Missing To";
	if (!m->call_id || !m->call_id->number)
		return "Missing Call-ID";
	if (!sip_call_id(m, cid, sizeof(cid)))
		return "Call-ID Too Long";
	if (!m->cseq || !m->cseq->number || !m->cseq->method)
		return "Missing CSeq";
	if (!sip_cseq(m))
		return "Bad CSeq";
	if (!m->sip_method || strcmp(m->cseq->method, m->sip_method) != 0)
		return "CSeq Method Mismatch";
	if (!m->req_uri)
		return "Bad Request-URI";
	return NULL;
}

/* A response sent without a transaction (the request opened none), with one extra header
 * when @hname is not NULL. */
static void sip_reply_stateless(const osip_message_t *m, int code, const char *hname,
				const char *hvalue, const struct sockaddr_in *src)
{
	if (osip_list_size(&m->vias) <= 0 || MSG_IS_ACK(m))
		return;
	osip_message_t *r = sip_response(m, code, NULL, NULL, 0);
	if (!r)
		return;
	if (hname)
		osip_message_set_header(r, hname, hvalue);
	sip_send_to(r, src);
	osip_message_free(r);
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
		sip_stats.bad_answered++;
	osip_message_free(r);
}

/* A request that matched no transaction: the ACK for a 2xx and a retransmitted INVITE go to
 * the user first; anything else opens a server transaction. */
static void sip_unmatched_request(osip_event_t *ev, const char *key, const struct sockaddr_in *src)
{
	osip_message_t *m = ev->sip;
	if (MSG_IS_ACK(m) || MSG_IS_INVITE(m)) {
		int taken = user ? user->unmatched_request(m, src) : -1;
		if (MSG_IS_ACK(m)) {
			if (taken != 0)
				sip_stats.stray++;
			osip_event_free(ev);
			return;
		}
		if (taken == 0) {
			sip_stats.retransmits++;
			osip_event_free(ev);
			return;
		}
	}
	if (sip_transactions() >= max_transactions) {
		/* no room for one more: answered without one (ACKs never get here) */
		sip_stats.txn_limited++;
		sip_reply_stateless(m, 503, "Retry-After", "5", src);
		osip_event_free(ev);
		return;
	}
	if (!sip_txn_new_server(ev, src, key)) {
		sip_stats.bad++;
		sip_reply_defect(m, "Bad Request", src);
		osip_event_free(ev);
	}
}

void sip_input(const char *buf, size_t len, const struct sockaddr_in *src)
{
	sip_stats.rx++;
	/* a source over its rate costs a table lookup, never a parse */
	if (source_limit && !rate_table_take(source_limit, src->sin_addr.s_addr, timer_now())) {
		sip_stats.source_limited++;
		sip_stats.source_evictions = rate_table_evictions(source_limit);
		return;
	}
	if (len < 4 || (len == 4 && memcmp(buf, "\r\n\r\n", 4) == 0))
		return; /* keep-alive */
	osip_event_t *ev = osip_parse(buf, len);
	if (!ev || !ev->sip) {
		if (ev)
			osip_event_free(ev);
		sip_stats.bad++;
		sip_reply_unparsable(buf, len, src);
		return;
	}
	osip_message_t *m = ev->sip;
	char cid[SIP_CALL_ID_MAX];
	if (MSG_IS_REQUEST(m)) {
		const char *defect = sip_request_defect(m);
		if (defect) {
			sip_stats.bad++;
			sip_reply_defect(m, defect, src);
			osip_event_free(ev);
			return;
		}
	} else if (!m->cseq || !m->cseq->method || osip_list_size(&m->vias) <= 0 ||
		   !sip_call_id(m, cid, sizeof(cid))) {
		sip_stats.bad++;
		osip_event_free(ev);
		return;
	}
	sip_count(m);
	bool req = MSG_IS_REQUEST(m);
	const char *method = req ? (MSG_IS_ACK(m) ? "INVITE" : m->sip_method) : m->cseq->method;
	char kbuf[256];
	char *key = sip_txn_key(req ? 's' : 'c', m, method, kbuf, sizeof(kbuf));
	if (!key) {
		sip_stats.no_memory++;
		osip_event_free(ev);
		return;
	}
	struct sip_txn *ctx = sip_txn_lookup(key);
	if (ctx && !ctx->killed) {
		if (req && !MSG_IS_ACK(m))
			sip_stats.retransmits++;
		sip_txn_event(ctx->tr, ev);
	} else if (!req) {
		/* a 2xx to an INVITE after its client transaction ended (RFC 3261 17.1.1.2) */
		if (!user || user->unmatched_response(m) != 0)
			sip_stats.stray++;
		osip_event_free(ev);
	} else if (MSG_IS_ACK(m)) {
		sip_unmatched_request(ev, NULL, src);
	} else {
		/* the ACK of a non-2xx has its INVITE's key: only other requests open a new one */
		char kb2[256];
		char *skey = sip_txn_key('s', m, m->sip_method, kb2, sizeof(kb2));
		if (!skey) {
			sip_stats.no_memory++;
			osip_event_free(ev);
		} else {
			sip_unmatched_request(ev, skey, src);
			if (skey != kb2)
				free(skey);
		}
	}
	if (key != kbuf)
		free(key);
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

static void sip_set_callbacks(void)
{
	osip_set_cb_send_message(sip_osip, cb_send);
	osip_set_message_callback(sip_osip, OSIP_IST_INVITE_RECEIVED, cb_request);
	static const int requests[] = {
		OSIP_NIST_REGISTER_RECEIVED, OSIP_NIST_BYE_RECEIVED,
		OSIP_NIST_OPTIONS_RECEIVED,  OSIP_NIST_INFO_RECEIVED,
		OSIP_NIST_CANCEL_RECEIVED,   OSIP_NIST_NOTIFY_RECEIVED,
		OSIP_NIST_SUBSCRIBE_RECEIVED, OSIP_NIST_UNKNOWN_REQUEST_RECEIVED,
	};
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		osip_set_message_callback(sip_osip, requests[i], cb_request);
	sip_txn_set_callbacks();
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
	sip_timer_j_ms = cfg->sip_timer_j_ms;
	max_transactions = cfg->limits_max_transactions ? cfg->limits_max_transactions : UINT_MAX;
	memset(&sip_stats, 0, sizeof(sip_stats));
	if (cfg->limits_source_rps) {
		/* 64k sources in 1.5 MB; burst: two seconds' worth */
		source_limit = rate_table_create(65536, cfg->limits_source_rps,
						 2 * cfg->limits_source_rps);
		if (!source_limit) {
			snprintf(err, err_len, "sip: out of memory");
			return -1;
		}
	}
	osip_trace_initialize_func(OSIP_INFO1, sip_osip_trace);
	if (osip_init(&sip_osip) != 0) {
		snprintf(err, err_len, "sip: osip_init failed");
		return -1;
	}
	sip_set_callbacks();
	sip_sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sip_sock < 0) {
		snprintf(err, err_len, "sip: socket: %s", strerror(errno));
		return -1;
	}
	int one = 1, rcvbuf = 8 << 20;
	setsockopt(sip_sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(sip_sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(sip_sock, SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof(rcvbuf));
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

void sip_shutdown(void)
{
	if (sip_osip) {
		sip_txn_shutdown();
		osip_release(sip_osip);
		sip_osip = NULL;
	}
	if (sip_sock >= 0)
		close(sip_sock);
	sip_sock = -1;
	rate_table_destroy(source_limit);
	source_limit = NULL;
}
