#include "controlplane/apps/call.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/media/media.h"
#include "controlplane/ops/cdr.h"
#include "util/log.h"
#include "util/time.h"

static struct call *all_calls;
static unsigned n_calls;

unsigned call_count(void) { return n_calls; }

static char *uri_str(const osip_from_t *f)
{
	char *s = NULL;
	if (!f || !f->url || osip_uri_to_str(f->url, &s) != 0 || !s)
		return strdup("-");
	char *r = strdup(s);
	osip_free(s);
	return r;
}

static void call_link(struct call *c);

int call_register(struct call *c, const struct call_ops *ops, const osip_message_t *invite,
		  const char *route)
{
	c->ops = ops;
	c->from_uri = uri_str(invite->from);
	c->to_uri = uri_str(invite->to);
	if (!c->from_uri || !c->to_uri) {
		free(c->from_uri);
		free(c->to_uri);
		c->from_uri = c->to_uri = NULL;
		return -1;
	}
	snprintf(c->route, sizeof(c->route), "%s", route ? route : "-");
	c->created_ms = time_now_ms();
	c->created_wall_ms = cdr_wall_ms();
	call_link(c);
	return 0;
}

static void call_link(struct call *c)
{
	c->prev = NULL;
	c->next = all_calls;
	if (all_calls)
		all_calls->prev = c;
	all_calls = c;
	n_calls++;
}

json_t *call_to_json(const struct call *c)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "kind", c->ops->kind, "route", c->route,
			 "from", c->from_uri ? c->from_uri : "-", "to", c->to_uri ? c->to_uri : "-",
			 "created_wall_ms", (json_int_t)c->created_wall_ms, "answered_wall_ms",
			 (json_int_t)c->answered_wall_ms);
}

int call_restore(struct call *c, const struct call_ops *ops, const json_t *j)
{
	const char *route = NULL, *from = NULL, *to = NULL;
	json_int_t created = 0, answered = 0;
	if (json_unpack((json_t *)j, "{s:s, s:s, s:s, s:I, s:I}", "route", &route, "from", &from,
			"to", &to, "created_wall_ms", &created, "answered_wall_ms", &answered) != 0 ||
	    created < 0 || answered < 0)
		return -1;
	c->ops = ops;
	c->from_uri = strdup(from);
	c->to_uri = strdup(to);
	if (!c->from_uri || !c->to_uri) {
		free(c->from_uri);
		free(c->to_uri);
		c->from_uri = c->to_uri = NULL;
		return -1;
	}
	snprintf(c->route, sizeof(c->route), "%s", route);
	/* the monotonic times as far in the past as the wall-clock ones */
	uint64_t now = time_now_ms(), wall = cdr_wall_ms();
	c->created_wall_ms = (uint64_t)created;
	c->answered_wall_ms = (uint64_t)answered;
	c->created_ms = now - (wall > (uint64_t)created ? wall - (uint64_t)created : 0);
	c->answered_ms = answered ? now - (wall > (uint64_t)answered ? wall - (uint64_t)answered : 0)
				  : 0;
	call_link(c);
	return 0;
}

void call_unregister(struct call *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (all_calls == c)
		all_calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	n_calls--;
	free(c->from_uri);
	free(c->to_uri);
	c->from_uri = c->to_uri = NULL;
}

void call_answered(struct call *c)
{
	c->answered_ms = time_now_ms();
	c->answered_wall_ms = cdr_wall_ms();
}

json_t *call_list_json(void)
{
	json_t *arr = json_array();
	for (struct call *c = all_calls; c && arr; c = c->next) {
		json_t *o = c->ops->describe(c);
		if (o) {
			json_object_set_new(o, "age_s",
					    json_integer((json_int_t)((time_now_ms() - c->created_ms) /
								      1000)));
			json_array_append_new(arr, o);
		}
	}
	return arr;
}

void call_shutdown_all(void)
{
	while (all_calls)
		all_calls->ops->shutdown(all_calls); /* unregisters it */
}

void call_drop_all(void)
{
	while (all_calls)
		all_calls->ops->drop(all_calls); /* unregisters it */
}

json_t *call_cdr_begin(const struct call *c, const char *reason)
{
	char t[32];
	json_t *rec = cdr_begin(c->ops->kind);
	if (!rec)
		return NULL;
	json_object_set_new(rec, "caller", json_string(c->from_uri ? c->from_uri : "-"));
	json_object_set_new(rec, "callee", json_string(c->to_uri ? c->to_uri : "-"));
	json_object_set_new(rec, "route", json_string(c->route));
	cdr_time(c->created_wall_ms, t, sizeof(t));
	json_object_set_new(rec, "start", json_string(t));
	if (c->answered_wall_ms) {
		cdr_time(c->answered_wall_ms, t, sizeof(t));
		json_object_set_new(rec, "answer", json_string(t));
		json_object_set_new(rec, "duration_ms",
				    json_integer((json_int_t)(time_now_ms() - c->answered_ms)));
	}
	json_object_set_new(rec, "end_reason", json_string(reason));
	if (c->dtmf[0][0])
		json_object_set_new(rec, "dtmf_caller", json_string(c->dtmf[0]));
	if (c->dtmf[1][0])
		json_object_set_new(rec, "dtmf_callee", json_string(c->dtmf[1]));
	return rec;
}

void call_cdr_emit(json_t *rec)
{
	cdr_emit(rec);
}

json_t *call_json_addr(struct in_addr ip, uint16_t port)
{
	char a[INET_ADDRSTRLEN], buf[32];
	inet_ntop(AF_INET, &ip, a, sizeof(a));
	snprintf(buf, sizeof(buf), "%s:%u", a, port);
	return json_string(buf);
}

void call_dtmf(struct call *c, int leg, const char *call_id, char digit, unsigned duration_ms,
	       bool cut)
{
	media_dtmf_keep(c->dtmf[leg ? 1 : 0], sizeof(c->dtmf[0]), digit);
	LOG_I("call", "%s: DTMF '%c' from the %s, %u ms%s", call_id, digit,
	      leg ? "callee" : "caller", duration_ms, cut ? " (no end packet)" : "");
}
