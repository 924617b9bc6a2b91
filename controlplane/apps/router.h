/* router: the applications' front door. Every new INVITE comes here from the dialog core;
 * the router refuses what it must (420 for an unsupported extension, 483 when Max-Forwards
 * is spent, 503 with Retry-After above limits.max_calls or limits.max_cps, 404 when no route
 * matches) and hands the rest to the
 * route's application: echo, or the B2BUA with the route's destinations. Routes are
 * reloaded without touching calls in progress (routes.h). */
#ifndef MGW_ROUTER_H
#define MGW_ROUTER_H

#include <stdint.h>

#include <jansson.h>

#include "controlplane/apps/routes.h"
#include "controlplane/config.h"

/** Take the dialog core's new INVITEs; default routes until router_set_routes(). */
int router_init(const struct config *cfg, char *err, size_t err_len);
/** Use @r for new calls; returns the previous table for the caller to free. */
struct routes *router_set_routes(struct routes *r);
/** Take back the calls the journal kept (key -> call, as journal_take_restored gives them;
 *  the reference is consumed), each by its application; those that cannot be restored are
 *  removed from the journal. Before any other call or port allocation. Returns how many came
 *  back. */
unsigned router_restore(json_t *calls);

struct router_stats {
	uint64_t max_calls_refused; /* 503: limits.max_calls calls were up */
	uint64_t max_cps_refused;   /* 503: over limits.max_cps */
};
const struct router_stats *router_get_stats(void);

/** End every call (shutdown). */
void router_shutdown(void);

#endif
