/* call: what every application's call has in common, and the registry of live calls.
 *
 * An application (echo, the B2BUA, later announcements, conference) embeds a struct call in
 * its own and registers it; the registry counts calls (limits.max_calls), lists them for the
 * control API (each application describes its own), ends them all at shutdown, and writes
 * the common part of their call records. The router (router.h) is the front door that
 * creates calls; the dialog core (dialog.h) carries their SIP. */
#ifndef MGW_CALL_H
#define MGW_CALL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <osip2/osip.h>

struct call;

#define CALL_DTMF_KEEP 32

struct call_ops {
	const char *kind;                          /* "echo", "b2bua" */
	/* one object describing the call, for sessions.list (a new reference) */
	json_t *(*describe)(struct call *c);
	/* end the call now (shutdown): BYE what is up, refuse what is not */
	void (*shutdown)(struct call *c);
	/* forget the call without a word to anyone (mgwd stops keeping its calls in the journal
	 * for the next one): no SIP, no record */
	void (*drop)(struct call *c);
};

struct call {
	struct call *prev, *next;
	const struct call_ops *ops;
	uint64_t created_ms;      /* monotonic */
	uint64_t created_wall_ms; /* for records */
	uint64_t answered_ms, answered_wall_ms;
	char route[32];
	char *from_uri, *to_uri;  /* of the initial INVITE */
	char dtmf[2][CALL_DTMF_KEEP + 1]; /* digits received (RFC 4733) from the caller's side
					   * [0] and the callee's [1], the last CALL_DTMF_KEEP */
};

/** Register @c (zeroed by its application) with the identities of @invite. Returns 0 or -1
 *  when out of memory (then @c is not registered). */
int call_register(struct call *c, const struct call_ops *ops, const osip_message_t *invite,
		  const char *route);
/** Register @c as the journal described it (call_to_json) when mgwd restarted: identities,
 *  route and times as they were. Returns 0, or -1 (not registered) when @j is not a call. */
int call_restore(struct call *c, const struct call_ops *ops, const json_t *j);
/** The common part of @c for the journal: kind, route, caller, callee, start and answer
 *  times (wall clock). A new reference, NULL when out of memory. */
json_t *call_to_json(const struct call *c);
/** Forget @c (its application frees it afterwards). */
void call_unregister(struct call *c);
/** Note the answer (for the duration in records). */
void call_answered(struct call *c);

unsigned call_count(void);
/** sessions.list: an array of every call's description. */
json_t *call_list_json(void);
/** End every call (shutdown). */
void call_shutdown_all(void);
/** Forget every call silently (a stop that leaves them to the next mgwd). */
void call_drop_all(void);

/** A call record with the common fields (time, kind, caller, callee, route, start, answer,
 *  duration, end_reason); the application adds its own and calls call_cdr_emit(). */
json_t *call_cdr_begin(const struct call *c, const char *reason);
void call_cdr_emit(json_t *rec);

/** Digit @digit received from leg @leg (0: the caller's side, 1: the callee's) of @c (its
 *  Call-ID @call_id): logged with @duration_ms, kept for sessions.list and the record. */
void call_dtmf(struct call *c, int leg, const char *call_id, char digit, unsigned duration_ms,
	       bool cut);

/** "a.b.c.d:port" for @ip (network order) and @port (host order). */
json_t *call_json_addr(struct in_addr ip, uint16_t port);

#endif
