/* pairs: direct media sessions. Relay pairs created through the control API without SIP
 * (media.create / media.delete / media.stats), for the benchmark harness today and an
 * rtpengine-compatible control front end later. Each pair is two media endpoints, spread
 * round-robin over the media address pool, relaying to each other. */
#ifndef MGW_PAIRS_H
#define MGW_PAIRS_H

#include "controlplane/ops/api.h"

#define PAIRS_MAX_PER_REQUEST 10000

/** Register media.create, media.delete and media.stats on @api. */
void pairs_register(struct api *api);
/** Delete every pair (shutdown). */
void pairs_shutdown(void);
unsigned pairs_count(void);
/** Call @fn with leg a (@leg 0) or b (1) of every pair tagged @tag; stops at the first
 *  non-zero return and returns it (0 when all went well; -ENOENT when no pair has the tag). */
struct media_ep;
int pairs_each_leg(const char *tag, int leg, int (*fn)(const struct media_ep *ep, void *ctx),
		   void *ctx);

#endif
