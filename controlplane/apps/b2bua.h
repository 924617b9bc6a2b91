/* b2bua: routed calls. An INVITE whose route has destinations becomes a call with two legs:
 * A (mgw as UAS towards the caller) and B (mgw as UAC towards a destination, tried in order,
 * 3xx followed). Both legs' media is anchored in the data plane as one relay pair; each side
 * sees only mgw's media address, and G.711 is transcoded when the legs share no codec.
 * Provisional and final responses, BYE, CANCEL, re-INVITE, UPDATE, INFO and in-dialog
 * OPTIONS cross between the legs; calls silent too long are ended with BYE on both sides. */
#ifndef MGW_B2BUA_H
#define MGW_B2BUA_H

#include <netinet/in.h>

#include <osip2/osip.h>

#include "controlplane/config.h"
#include "controlplane/apps/routes.h"
#include "util/json.h"

int b2bua_init(const struct config *cfg);
/** End every call with BYE (shutdown). */
void b2bua_shutdown(void);

/** Start a routed call for the initial INVITE @req in server transaction @tr. */
void b2bua_start(osip_transaction_t *tr, osip_message_t *req, const struct route *route);

/* From the call layer: each returns 1 when the message belonged to a B2BUA call. */
int b2bua_on_invite(osip_transaction_t *tr, osip_message_t *req);
int b2bua_on_request(osip_transaction_t *tr, osip_message_t *req);
int b2bua_on_ack(const osip_message_t *ack);
int b2bua_absorb_invite(const osip_message_t *req, const struct sockaddr_in *src);
int b2bua_on_stray_response(const osip_message_t *resp);
void b2bua_media_seen(uint64_t stream_id, uint32_t ip, uint16_t port);

/** Retransmissions, media timeouts; returns ms until the next timer (<= @cap). */
int b2bua_timers(int cap);

unsigned b2bua_count(void);
/** 1 when @call_id is one of a B2BUA call's legs. */
int b2bua_owns(const char *call_id);
/** Append one object per call to the array being written in @w. */
void b2bua_list_json(struct jw *w);

#endif
