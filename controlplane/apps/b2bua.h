/* b2bua: routed calls. An INVITE whose route has destinations becomes a call with two legs:
 * A (mgw as UAS towards the caller) and B (mgw as UAC towards a destination, tried in order,
 * 3xx followed, a 6xx ending the search). Both legs' media is anchored in the data plane as
 * one relay pair; each side sees only mgw's media address, and G.711 is transcoded when the
 * legs share no codec. Provisional and final responses, BYE, CANCEL, re-INVITE, UPDATE, INFO,
 * NOTIFY and in-dialog OPTIONS cross between the legs; calls silent too long are ended with
 * BYE on both sides. The legs are dialogs of the dialog core (dialog.h). Established calls are
 * kept in the call journal (journal.h) and taken back after a restart. */
#ifndef MGW_B2BUA_H
#define MGW_B2BUA_H

#include <netinet/in.h>

#include <jansson.h>
#include <osip2/osip.h>

#include "controlplane/apps/routes.h"
#include "controlplane/config.h"

void b2bua_init(const struct config *cfg);
/** Start a routed call for the initial INVITE @req in server transaction @tr; the B leg's
 *  INVITE carries Max-Forwards @hops. */
void b2bua_start(osip_transaction_t *tr, osip_message_t *req, const struct sockaddr_in *src,
		 const struct route *route, int hops);
/** Take back the established call the journal kept under @key (a restart). Returns 0, or -1
 *  when it cannot be restored (nothing kept). */
int b2bua_restore(const char *key, const json_t *j);

#endif
