/* sip: SIP over UDP on libosip2 for the control plane: the transport, the four transaction
 * state machines, and the helpers that build and read messages.
 *
 * Received datagrams are parsed, checked for the mandatory headers, and matched to their
 * transaction by an index on the top Via branch (RFC 3261 17.1.3, 17.2.3; RFC 2543 requests
 * by Call-ID, CSeq, From tag and sent-by), so that osip absorbs retransmitted requests and
 * retransmits final responses. What opens a new server transaction, and what matches no
 * transaction (the ACK for a 2xx, a 2xx retransmitted after its client transaction ended, an
 * INVITE retransmitted after our 2xx), goes to the one user above (sip_set_user(): the
 * dialog core). Messages that do not parse are answered 400 when enough of them can be read
 * to address a response, dropped otherwise, and counted either way.
 *
 * Transactions never sit in osip's own lists, which osip walks on every add, remove, match
 * and timer round: each one's timers are scheduled on the control plane's timer wheel
 * (util/timer.h) from the deadlines osip keeps in its context, and the transactions given an
 * event are queued and run directly. No work per message or per tick grows with the number
 * of live transactions.
 */
#ifndef MGW_SIP_H
#define MGW_SIP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <osip2/osip.h>

#include "controlplane/config.h"
#include "util/timer.h"

/* Request methods as counted (sip_stats.requests_by_method). */
enum sip_method_idx {
	SIP_M_INVITE, SIP_M_ACK, SIP_M_BYE, SIP_M_CANCEL, SIP_M_OPTIONS, SIP_M_INFO,
	SIP_M_UPDATE, SIP_M_NOTIFY, SIP_M_REGISTER, SIP_M_OTHER, SIP_M_MAX
};
extern const char *const sip_method_names[SIP_M_MAX];

struct sip_stats {
	uint64_t rx;           /* datagrams received */
	uint64_t tx;           /* messages sent */
	uint64_t tx_errors;    /* sendto failures */
	uint64_t bad;          /* malformed or incomplete requests (400 sent or dropped) */
	uint64_t bad_answered; /* of those, answered with 400 */
	uint64_t stray;        /* responses or ACKs matching nothing */
	uint64_t retransmits;  /* retransmitted requests absorbed */
	uint64_t no_memory;    /* messages dropped for want of memory */
	uint64_t requests;     /* requests that opened a server transaction */
	uint64_t responses;    /* responses to our client transactions */
	uint64_t source_limited; /* datagrams dropped unread: their source was over
				    limits.source_rps */
	uint64_t source_evictions; /* sources whose rate bucket went to a newcomer */
	uint64_t txn_limited;  /* new requests answered 503 (stateless): limits.max_transactions
				  transactions were alive */
	uint64_t requests_by_method[SIP_M_MAX]; /* well-formed requests received, by method */
	uint64_t responses_by_class[7];         /* well-formed responses received, [1]..[6] */
};

/* What the owner of a transaction hears about it. */
struct sip_txn_ops {
	/* a response to a client transaction (every 1xx-6xx, retransmitted 2xx excepted) */
	void (*response)(void *owner, osip_transaction_t *tr, osip_message_t *resp);
	/* Timer B/F: no final response */
	void (*timeout)(void *owner, osip_transaction_t *tr);
	/* the transaction terminated; the owner must forget it */
	void (*ended)(void *owner, osip_transaction_t *tr);
};

/* The layer above: the dialog core. */
struct sip_user {
	/* a request that opened server transaction @tr (any method but ACK) */
	void (*request)(osip_transaction_t *tr, osip_message_t *req, const struct sockaddr_in *src);
	/* a request matching no transaction: an ACK for a 2xx, or a retransmitted INVITE whose
	 * transaction ended with our 2xx. Returns 0 when it was taken, -1 when it is stray. */
	int (*unmatched_request)(const osip_message_t *req, const struct sockaddr_in *src);
	/* a response matching no transaction (a 2xx retransmitted after our ICT ended).
	 * Returns 0 when it was taken, -1 when it is stray. */
	int (*unmatched_response)(const osip_message_t *resp);
};

int sip_init(const struct config *cfg, char *err, size_t err_len);
void sip_shutdown(void);
void sip_set_user(const struct sip_user *user);
int sip_fd(void);
/** Read and process every pending datagram. */
void sip_on_readable(void);
/** Run the transactions that were given events (their sends go out) and free those that
 *  terminated. The control loop calls it after every batch of input and timers. */
void sip_run(void);
const struct sip_stats *sip_get_stats(void);
/** Live transactions. */
unsigned sip_transactions(void);

/** Process one datagram from @src (exposed for unit tests). */
void sip_input(const char *buf, size_t len, const struct sockaddr_in *src);

/* ---- transactions ---- */

/** Hand @resp (owned by osip afterwards) to server transaction @tr. */
void sip_txn_respond(osip_transaction_t *tr, osip_message_t *resp);
/** Shorthand: build and hand a bodiless response (@to_tag as sip_response()). */
void sip_txn_reply(osip_transaction_t *tr, int code, const char *to_tag);
/**
 * Send @req (owned by osip afterwards) to @dst in a new client transaction (ICT for INVITE,
 * NICT otherwise) owned by @owner (may be NULL: nobody hears of it). Our Via with a fresh
 * branch is added on top unless @keep_via (CANCEL: the INVITE's own branch). Returns the
 * transaction, or NULL (and @req freed) on failure.
 */
osip_transaction_t *sip_request_send(osip_message_t *req, const struct sockaddr_in *dst,
				     bool keep_via, void *owner, const struct sip_txn_ops *ops);
/** Make @tr report to @owner (NULL: to nobody). */
void sip_txn_own(osip_transaction_t *tr, void *owner, const struct sip_txn_ops *ops);
/** The owner of @tr, or NULL. */
void *sip_txn_owner(osip_transaction_t *tr);
/** Where server transaction @tr's request came from. */
const struct sockaddr_in *sip_txn_source(osip_transaction_t *tr);
/** The live INVITE server transaction that CANCEL @cancel is for (same branch), or NULL. */
osip_transaction_t *sip_txn_find_invite(const osip_message_t *cancel);

/* ---- messages ---- */

/**
 * A response to @req: Via, From, To (with @to_tag added when the request's To has none and
 * @code > 100; NULL for a fresh one), Call-ID and CSeq copied; Server; Contact on a 2xx to an
 * INVITE; an SDP body when @sdp is not NULL. NULL on allocation failure.
 */
osip_message_t *sip_response(const osip_message_t *req, int code, const char *to_tag,
			     const char *sdp, size_t sdp_len);
/** Send @msg outside any transaction (2xx retransmissions, ACK for a 2xx). Returns 0 or -1. */
int sip_send_to(const osip_message_t *msg, const struct sockaddr_in *dst);
/** Add our Via with a fresh branch on top of @req. Returns 0 or -1. */
int sip_add_via(osip_message_t *req);
/** A random token of hex digits for tags, branches and Call-IDs (@len >= 17). */
void sip_random_token(char *buf, size_t len);
/** Our Contact URI, e.g. "<sip:mgw@127.0.0.1:5060>". */
const char *sip_contact(void);
const char *sip_listen_str(void);
unsigned sip_t1_ms(void);
/** RFC 3261 T2, the cap of retransmission intervals (4 s). */
#define SIP_T2_MS 4000

/** The tag of a From or To header, or NULL. */
const char *sip_tag(const osip_from_t *h);
/** @m's whole Call-ID ("number@host", or "number"), or NULL when it has none; a pointer into
 *  @buf when it must be assembled (@len must hold it: Call-IDs longer are refused at input). */
const char *sip_call_id(const osip_message_t *m, char *buf, size_t len);
#define SIP_CALL_ID_MAX 1024
/** The CSeq number, or 0 when it is not a number below 2^31 (RFC 3261 8.1.1.5). */
uint32_t sip_cseq(const osip_message_t *m);
/** The body of @m if its Content-Type is application/sdp, else NULL. */
const char *sip_sdp_body(const osip_message_t *m, size_t *len);
/** The body of @m when its Content-Type is application/@subtype, else NULL. */
const char *sip_app_body(const osip_message_t *m, const char *subtype, size_t *len);
/** @m has a body (of any type). */
bool sip_has_body(const osip_message_t *m);
/** The user part of a request's Request-URI ("" when none). */
const char *sip_ruri_user(const osip_message_t *req);
/** The address of a SIP URI with a literal IPv4 host; port 5060 when it has none. Returns 0,
 *  or -1 when the host is a name or the port is not a number in 1..65535. */
int sip_uri_addr(const osip_uri_t *u, struct sockaddr_in *out);
/** Copy @src's body and Content-Type into @dst, or @sdp as application/sdp when not NULL. */
int sip_copy_body(osip_message_t *dst, const osip_message_t *src, const char *sdp, size_t sdp_len);

#endif
