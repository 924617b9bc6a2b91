/* sip: SIP over UDP on libosip2 for the control plane.
 *
 * Owns the SIP socket, the osip_t stack and its four transaction state machines. Received
 * datagrams are parsed, checked for the mandatory headers, and matched to transactions (osip
 * absorbs retransmitted requests and retransmits final responses); new requests are handed to
 * the call layer (call.h). Messages that do not parse are answered 400 when enough of them
 * can be read to address a response, dropped otherwise, and counted either way. */
#ifndef MGW_SIP_H
#define MGW_SIP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <osip2/osip.h>

#include "controlplane/config.h"

struct sip_stats {
	uint64_t rx;          /* datagrams received */
	uint64_t tx;          /* messages sent */
	uint64_t tx_errors;   /* sendto failures */
	uint64_t bad;         /* malformed or incomplete requests (400 sent or dropped) */
	uint64_t bad_answered;/* of those, answered with 400 */
	uint64_t stray;       /* responses or ACKs matching nothing */
	uint64_t retransmits; /* retransmitted requests absorbed */
};

/* What a transaction's owner hears about it. Transactions without ops belong to the
 * call layer (call.h) for server transactions of locally answered calls. */
struct sip_txn_ops {
	/* a response to a client transaction (every 1xx-6xx, retransmitted 2xx excepted) */
	void (*response)(void *owner, osip_transaction_t *tr, osip_message_t *resp);
	/* Timer B/F: no final response */
	void (*timeout)(void *owner, osip_transaction_t *tr);
	/* the transaction terminated; the owner must forget it */
	void (*ended)(void *owner, osip_transaction_t *tr);
};

/* Per-transaction context (osip "your instance"). */
struct sip_txn {
	struct sockaddr_in src; /* server: where the request came from (responses go back there);
				 * client: where the request goes */
	void *call;             /* the owner (a call), or NULL */
	const struct sip_txn_ops *ops;
	/* sip.c's own bookkeeping: the branch index and the queue of transactions with events
	 * to run (libosip2 would otherwise walk every transaction for both) */
	osip_transaction_t *tr;
	struct sip_txn *hnext, *pnext;
	char *key;
	bool pending, killed;
};

int sip_init(const struct config *cfg, char *err, size_t err_len);
void sip_shutdown(void);
int sip_fd(void);
/** Read and process every pending datagram. */
void sip_on_readable(void);
/** Run the transactions that have events, every 10 ms the timers of all, and free those that
 *  terminated. */
void sip_run(void);
const struct sip_stats *sip_get_stats(void);
unsigned sip_transactions(void);

/** Process one datagram from @src (exposed for unit tests). */
void sip_input(const char *buf, size_t len, const struct sockaddr_in *src);

/**
 * Build a response to @req: Via, From, To (with @to_tag added when the request's To has none
 * and @code > 100), Call-ID and CSeq copied; Server, and an SDP body when @sdp is not NULL.
 * Returns NULL on allocation failure.
 */
osip_message_t *sip_response(const osip_message_t *req, int code, const char *to_tag,
			     const char *sdp, size_t sdp_len);
/** Hand @resp (owned by osip afterwards) to server transaction @tr. */
void sip_txn_respond(osip_transaction_t *tr, osip_message_t *resp);
/** Shorthand: build and hand a bodiless response. */
void sip_txn_reply(osip_transaction_t *tr, int code, const char *to_tag);
/** Send @msg outside any transaction (2xx retransmission). Returns 0 or -1. */
int sip_send_to(const osip_message_t *msg, const struct sockaddr_in *dst);
/**
 * Send @req (owned by osip afterwards) to @dst in a new client transaction (ICT for INVITE,
 * NICT otherwise) owned by @owner. Our Via (fresh branch) is added on top. Returns the
 * transaction, or NULL (and @req freed) on failure.
 */
osip_transaction_t *sip_request_send(osip_message_t *req, const struct sockaddr_in *dst,
				     void *owner, const struct sip_txn_ops *ops);
/** The same for a request that already carries its Via (CANCEL: the INVITE's own branch). */
osip_transaction_t *sip_request_send_as_is(osip_message_t *req, const struct sockaddr_in *dst,
					   void *owner, const struct sip_txn_ops *ops);
/** Make @tr (a server transaction) report to @owner. */
void sip_txn_own(osip_transaction_t *tr, void *owner, const struct sip_txn_ops *ops);
/** Add our Via with a fresh branch on top of @req. Returns 0 or -1. */
int sip_add_via(osip_message_t *req);
/** A random token for tags and Call-IDs. */
void sip_random_token(char *buf, size_t len);
/** Our Contact URI, e.g. "<sip:mgw@127.0.0.1:5060>". */
const char *sip_contact(void);
const char *sip_listen_str(void);
unsigned sip_t1_ms(void);

#endif
