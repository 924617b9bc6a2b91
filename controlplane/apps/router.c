#include "controlplane/apps/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/apps/b2bua.h"
#include "controlplane/apps/call.h"
#include "controlplane/apps/echo.h"
#include "controlplane/dialog/dialog.h"
#include "controlplane/media/media.h"
#include "controlplane/ops/journal.h"
#include "util/log.h"
#include "util/rate.h"
#include "util/timer.h"

static const struct config *cfg;
static struct routes *routes;
static struct rate_bucket cps;          /* limits.max_cps */
static struct router_stats stats;

const struct router_stats *router_get_stats(void) { return &stats; }

/* 503 with Retry-After, before the call costs a port or any memory of its own */
static void router_refuse(osip_transaction_t *tr, const osip_message_t *req, const char *after)
{
	osip_message_t *r = sip_response(req, 503, NULL, NULL, 0);
	if (r) {
		osip_message_set_header(r, "Retry-After", after);
		sip_txn_respond(tr, r);
	}
}

/* Require: mgw supports no extension a request could require (RFC 3261 8.2.2.3). */
static bool router_requires(osip_transaction_t *tr, const osip_message_t *req)
{
	osip_header_t *h = NULL;
	if (osip_message_header_get_byname(req, "require", 0, &h) < 0 || !h || !h->hvalue)
		return false;
	osip_message_t *r = sip_response(req, 420, NULL, NULL, 0);
	if (r) {
		osip_message_set_header(r, "Unsupported", h->hvalue);
		sip_txn_respond(tr, r);
	}
	return true;
}

/* Max-Forwards left for the next hop, or -1 when there is none left (483). */
static int router_hops(const osip_message_t *req)
{
	osip_header_t *h = NULL;
	if (osip_message_get_max_forwards(req, 0, &h) < 0 || !h || !h->hvalue)
		return 70;
	char *end = NULL;
	long v = strtol(h->hvalue, &end, 10);
	if (end == h->hvalue || v < 0)
		return 70;
	return v > 70 ? 69 : (int)v - 1;
}

static void router_new_invite(osip_transaction_t *tr, osip_message_t *req,
			      const struct sockaddr_in *src)
{
	if (router_requires(tr, req))
		return;
	int hops = router_hops(req);
	if (hops < 0) {
		sip_txn_reply(tr, 483, NULL);
		return;
	}
	if (call_count() >= cfg->limits_max_calls) {
		stats.max_calls_refused++;
		router_refuse(tr, req, "5");
		return;
	}
	/* burst: a tenth of a second's worth, at least one call */
	if (cfg->limits_max_cps &&
	    !rate_take(&cps, cfg->limits_max_cps, cfg->limits_max_cps / 10 + 1, timer_now())) {
		stats.max_cps_refused++;
		router_refuse(tr, req, "1");
		return;
	}
	const struct route *route = routes_match(routes, sip_ruri_user(req));
	if (!route) {
		sip_txn_reply(tr, 404, NULL);
		return;
	}
	if (route->n_dests)
		b2bua_start(tr, req, src, route, hops);
	else
		echo_start(tr, req, src, route);
}

unsigned router_restore(json_t *calls)
{
	const char *key;
	json_t *call;
	unsigned n = 0, ok = 0;
	json_object_foreach(calls, key, call) {
		const char *kind = json_string_value(json_object_get(json_object_get(call, "call"),
								     "kind"));
		int rc = -1;
		n++;
		if (kind && strcmp(kind, "echo") == 0)
			rc = echo_restore(key, call);
		else if (kind && strcmp(kind, "b2bua") == 0)
			rc = b2bua_restore(key, call);
		if (rc == 0)
			ok++;
		else
			journal_del(key);
	}
	media_restore_done();
	json_decref(calls);
	if (n)
		LOG_I("journal", "%u of %u call(s) restored", ok, n);
	return ok;
}

int router_init(const struct config *config, char *err, size_t err_len)
{
	cfg = config;
	memset(&stats, 0, sizeof(stats));
	rate_bucket_init(&cps, cfg->limits_max_cps / 10 + 1, timer_now());
	if (!routes)
		routes = routes_load(NULL, err, err_len); /* every call to echo */
	if (!routes)
		return -1;
	echo_init(cfg);
	b2bua_init(cfg);
	dlg_set_router(router_new_invite);
	return 0;
}

struct routes *router_set_routes(struct routes *r)
{
	struct routes *old = routes;
	routes = r;
	return old;
}

void router_shutdown(void)
{
	call_shutdown_all();
	dlg_set_router(NULL);
}
