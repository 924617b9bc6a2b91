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

#endif
