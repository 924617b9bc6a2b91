/* persist: how the applications write a call's media state into the call journal and read
 * it back after a restart: SDP descriptions, negotiation results, media endpoints. Field by
 * field (never a struct's bytes), so that a journal outlives an upgrade of mgwd. */
#ifndef MGW_PERSIST_H
#define MGW_PERSIST_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "controlplane/apps/b2bsdp.h"
#include "controlplane/media/media.h"
#include "controlplane/sip/sdp.h"

json_t *persist_sdp(const struct sdp_stream *s);
int persist_sdp_read(const json_t *j, struct sdp_stream *out);
json_t *persist_codec(const struct sdp_codec *c);
int persist_codec_read(const json_t *j, struct sdp_codec *out);
json_t *persist_nego(const struct sdp_nego *n);
int persist_nego_read(const json_t *j, struct sdp_nego *out);
json_t *persist_plan(const struct b2bsdp_plan *p);
int persist_plan_read(const json_t *j, struct b2bsdp_plan *out);
/** A media endpoint: its address (not its index: the pool may have changed) and port. */
json_t *persist_ep(const struct media_ep *ep);
/** Take the endpoint @j names back (media_ep_restore); -1 when its address is no longer in
 *  the pool or the port is not free. */
int persist_ep_restore(const json_t *j, struct media_ep *ep);
/** "a.b.c.d" and port, as persist writes them. */
json_t *persist_addr(struct in_addr ip, uint16_t port);
int persist_addr_read(const json_t *j, struct in_addr *ip, uint16_t *port);

#endif
