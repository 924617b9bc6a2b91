/* routes: where an incoming INVITE goes, chosen by its Request-URI user part.
 *
 * The route table is the `routes` list of the config file (docs/configuration.md, "routes").
 * Each route has one pattern (a prefix of the user part, "" matching everything, or a POSIX
 * extended regular expression matched against the whole user part, unanchored unless the
 * expression says ^...$) and one target (a local application, or 1..8 destinations tried in
 * order: failover). Routes are tried in file order and the first match wins; no match means
 * the caller answers 404. A file without `routes` (or no file) gives a single default route,
 * { "default", prefix "", app echo }, so that mgwd answers every call with echo out of the box.
 *
 * Destinations are resolved once, at load time, so that no call waits for DNS.
 *
 * Reload: the caller loads a new table with routes_load(), swaps it in on success and frees the
 * old one; on failure it keeps the old table and logs the error. Calls in progress copy what
 * they need from a route (its name, app, destinations) when they are routed and keep no
 * pointer into the table, so the old table may be freed right after a swap. A table is
 * read-only once loaded: routes_match() may be called from several threads at once. */
#ifndef MGW_ROUTES_H
#define MGW_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <regex.h>

#define ROUTES_MAX 64     /* routes in one table */
#define ROUTE_MAX_DESTS 8 /* destinations of one route */

/* Local applications a route can hand a call to. */
enum route_app {
	ROUTE_APP_NONE = 0, /* the route has destinations instead */
	ROUTE_APP_ECHO,     /* answer and send the caller's media back */
	ROUTE_APP_ANNOUNCE, /* answer and play `play` (a WAV file or "tone:NAME") `loops` times,
			     * then hang up, or go on as echo (then = "echo") */
};

enum route_transport {
	ROUTE_UDP = 0,
};

struct route_dest {
	char text[80];           /* as written in the config, e.g. "udp:127.0.0.1:5070" */
	struct sockaddr_in addr; /* resolved at load time */
	enum route_transport transport;
};

struct route {
	char name[32];    /* "name" from the config, default "route<N>" (N = index from 0) */
	bool is_regex;    /* pattern is a regex (compiled in re), else a prefix */
	char pattern[128];
	regex_t re;       /* valid only when is_regex */
	enum route_app app;  /* ROUTE_APP_NONE when the route has destinations */
	unsigned n_dests;    /* 0 when the route has an app, else 1..ROUTE_MAX_DESTS */
	struct route_dest dests[ROUTE_MAX_DESTS]; /* in failover order */
	char play[200];      /* ROUTE_APP_ANNOUNCE: what it plays (prompt.h names) */
	unsigned loops;      /* ROUTE_APP_ANNOUNCE: times, 0 = until the caller hangs up */
	bool then_echo;      /* ROUTE_APP_ANNOUNCE: echo afterwards instead of hanging up */
};

/* A loaded route table (opaque). */
struct routes;

/**
 * Load the `routes` list of the config file @path (other top-level settings are ignored: they
 * belong to config_load()). @path NULL, or a file without `routes`, gives the default table
 * (one route "default", prefix "", app echo); `routes = ();` gives an empty table (every call
 * is answered 404).
 * On error returns NULL and writes one line naming file, line and key into @err, e.g.
 * "mgw.conf:12: routes[2].regex: bad regular expression: Unmatched ( or \\(".
 * Returns the table, to be freed with routes_free().
 */
struct routes *routes_load(const char *path, char *err, size_t err_len);

/**
 * The first route of @r whose pattern matches @user (the Request-URI user part, may be "";
 * NULL is taken as ""). Returns NULL when none matches: the caller answers 404.
 */
const struct route *routes_match(const struct routes *r, const char *user);

/** Number of routes in @r. */
unsigned routes_count(const struct routes *r);

/** Route @i of @r (0 = tried first), or NULL when @i >= routes_count(@r). */
const struct route *routes_get(const struct routes *r, unsigned i);

/** Name of @app as written in the config ("echo"), "none" for ROUTE_APP_NONE. */
const char *routes_app_name(enum route_app app);

/** Free @r and its compiled regexes. NULL is allowed. */
void routes_free(struct routes *r);

#endif /* MGW_ROUTES_H */
