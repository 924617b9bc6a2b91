/* echo: the echo application. A call routed to it is answered by mgw (100, 180, then 200 with
 * an SDP answer, after sip.answer_delay_ms), and the data plane sends the caller's RTP back
 * to it as an RTP source of mgw's own. An INVITE without an offer gets our offer in the 200
 * and its answer in the ACK. A re-INVITE renegotiates; BYE, CANCEL, a missing ACK or
 * shutdown end the call and release its media. Established calls are kept in the call
 * journal (journal.h) and taken back after a restart. */
#ifndef MGW_ECHO_H
#define MGW_ECHO_H

#include <netinet/in.h>

#include <jansson.h>
#include <osip2/osip.h>

#include "controlplane/apps/routes.h"
#include "controlplane/config.h"

void echo_init(const struct config *cfg);
/** Take back the established call the journal kept under @key (a restart). Returns 0, or -1
 *  when it cannot be restored (nothing kept). */
int echo_restore(const char *key, const json_t *j);
/** Answer the initial INVITE @req in server transaction @tr with the echo application. */
void echo_start(osip_transaction_t *tr, osip_message_t *req, const struct sockaddr_in *src,
		const struct route *route);

#endif
