/* call: calls as the SIP user agent server sees them (this release: calls answered by a local
 * application, echo), their dialogs, and the media each one holds.
 *
 * A call is created by an INVITE, answered 100/180/200 with an SDP answer (or an offer in the
 * 200 when the INVITE had none, answered in the ACK), confirmed by the ACK, and ended by BYE,
 * CANCEL, a missing ACK (64*T1), or shutdown. The 2xx is retransmitted by the call (T1..T2)
 * until the ACK arrives, since the server transaction ends when it is sent (RFC 3261 13.3.1.4).
 * Every end releases the call's media port and stream. */
#ifndef MGW_CALL_H
#define MGW_CALL_H

#include <netinet/in.h>

#include <osip2/osip.h>

#include "controlplane/config.h"
#include "util/json.h"

struct call;

struct routes;

int call_init(const struct config *cfg, char *err, size_t err_len);
/** Use @r for new calls (calls in progress keep what they took); returns the previous table
 *  for the caller to free. */
struct routes *call_set_routes(struct routes *r);
/** End every call (shutdown). */
void call_shutdown(void);

/* From the SIP layer. */
void call_on_invite(osip_transaction_t *tr, osip_message_t *req);
void call_on_request(osip_transaction_t *tr, osip_message_t *req);
/** An ACK that matched no transaction (the ACK for a 2xx). Returns 0, or -1 when it matches
 *  no dialog either. */
int call_on_ack(const osip_message_t *ack);
/** An INVITE that matched no transaction: a retransmission of one we already answered 2xx?
 *  Then resend the 2xx and return 1; otherwise 0. */
int call_absorb_invite(const osip_message_t *req, const struct sockaddr_in *src);
/** A response that matched no transaction. Returns 0 when a call took it, -1 otherwise. */
int call_on_stray_response(const osip_message_t *resp);
/** A transaction of @call terminated. */
void call_txn_ended(void *call, osip_transaction_t *tr);

/** 2xx retransmissions and ACK timeouts; returns ms until the next call timer (<= @cap). */
int call_timers(int cap);

/** Statistics for the control API. */
unsigned call_count(void);
void call_list_json(struct jw *w);

/** A worker saw the first RTP packet of the stream with @stream_id coming from @ip:@port. */
void call_media_seen(uint64_t stream_id, uint32_t ip, uint16_t port);

#endif
