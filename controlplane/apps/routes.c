/* routes: the route table, read from the `routes` list of the config file (see routes.h).
 *
 * Loading checks everything an operator can get wrong (shape, types, patterns, destinations,
 * resolution) and names file, line and key path ("routes[2].regex") like config.c does, so that
 * a reload with a typo keeps the old table and says why. */
#include "controlplane/apps/routes.h"
#include "controlplane/media/prompt.h"

#include "controlplane/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct routes {
	unsigned n;
	struct route r[]; /* n entries */
};

/* Where a load reports its error. */
struct routes_err {
	const char *path;
	char *buf;
	size_t len;
};

static const char *const routes_apps[] = {
	[ROUTE_APP_NONE] = "none",
	[ROUTE_APP_ECHO] = "echo",
	[ROUTE_APP_ANNOUNCE] = "announce",
};

#define N_APPS (sizeof(routes_apps) / sizeof(routes_apps[0]))

const char *routes_app_name(enum route_app app)
{
	return (unsigned)app < N_APPS ? routes_apps[app] : "unknown";
}

static struct routes *routes_alloc(unsigned n)
{
	struct routes *r = calloc(1, sizeof(*r) + (size_t)n * sizeof(r->r[0]));
	if (r)
		r->n = n;
	return r;
}

static struct routes *routes_default(struct routes_err *e)
{
	struct routes *r = routes_alloc(1);
	if (!r) {
		snprintf(e->buf, e->len, "routes: out of memory");
		return NULL;
	}
	snprintf(r->r[0].name, sizeof(r->r[0].name), "default");
	r->r[0].app = ROUTE_APP_ECHO;
	return r;
}

void routes_free(struct routes *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < r->n; i++)
		if (r->r[i].is_regex)
			regfree(&r->r[i].re);
	free(r);
}

unsigned routes_count(const struct routes *r)
{
	return r->n;
}

const struct route *routes_get(const struct routes *r, unsigned i)
{
	return i < r->n ? &r->r[i] : NULL;
}

const struct route *routes_match(const struct routes *r, const char *user)
{
	if (!user)
		user = "";
	for (unsigned i = 0; i < r->n; i++) {
		const struct route *rt = &r->r[i];
		if (rt->is_regex ? regexec(&rt->re, user, 0, NULL, 0) == 0
				 : strncmp(user, rt->pattern, strlen(rt->pattern)) == 0)
			return rt;
	}
	return NULL;
}

/* ---- loading ---- */

/* Writes "FILE:LINE: KEY: MSG" for setting @s into @e; always returns -1. */
static int routes_error(struct routes_err *e, const config_setting_t *s, const char *key,
			const char *msg)
{
	const char *file = config_setting_source_file(s);
	snprintf(e->buf, e->len, "%s:%u: %s: %s", file ? file : e->path,
		 (unsigned)config_setting_source_line(s), key, msg);
	return -1;
}

/* Copies string setting @s into @dst[@size]; on a wrong type or length reports under @key. */
static int get_string(struct routes_err *e, const config_setting_t *s, const char *key, char *dst,
		      size_t size, bool nonempty)
{
	char msg[128];
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		snprintf(msg, sizeof(msg), "must be a string, not %s",
			 config_type_name(config_setting_type(s)));
		return routes_error(e, s, key, msg);
	}
	const char *v = config_setting_get_string(s);
	if (nonempty && v[0] == '\0')
		return routes_error(e, s, key, "must not be empty");
	if (strlen(v) >= size) {
		snprintf(msg, sizeof(msg), "too long (at most %zu characters)", size - 1);
		return routes_error(e, s, key, msg);
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

/* Resolves @host (IPv4 literal or name) into @sa; on failure writes @msg. */
static int resolve_host(const char *host, struct sockaddr_in *sa, char *msg, size_t len)
{
	if (inet_pton(AF_INET, host, &sa->sin_addr) == 1)
		return 0;
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || !res) {
		snprintf(msg, len, "cannot resolve \"%s\": %s", host,
			 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	sa->sin_addr = ((const struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return 0;
}

/* Parses "[udp:]host:port" into @d; on failure writes @msg. */
static int parse_dest(struct route_dest *d, const char *text, char *msg, size_t len)
{
	static const char syntax[] = "(expected \"host:port\" or \"udp:host:port\")";
	const char *hp = text;
	if (strncmp(text, "udp:", 4) == 0) {
		hp = text + 4;
	} else if (strncmp(text, "tcp:", 4) == 0 || strncmp(text, "tls:", 4) == 0) {
		snprintf(msg, len, "transport \"%.3s\" is not supported yet (only udp)", text);
		return -1;
	}
	const char *colon = strrchr(hp, ':');
	char host[sizeof(d->text)];
	if (!colon || colon == hp || (size_t)(colon - hp) >= sizeof(host)) {
		snprintf(msg, len, "\"%s\": %s", text, syntax);
		return -1;
	}
	memcpy(host, hp, (size_t)(colon - hp));
	host[colon - hp] = '\0';
	if (strchr(host, ':')) {
		snprintf(msg, len, "\"%s\": unknown transport or not an IPv4 host %s", text,
			 syntax);
		return -1;
	}
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno || port < 1 ||
	    port > 65535) {
		snprintf(msg, len, "\"%s\": port must be an integer between 1 and 65535", text);
		return -1;
	}
	memset(&d->addr, 0, sizeof(d->addr));
	d->addr.sin_family = AF_INET;
	d->addr.sin_port = htons((uint16_t)port);
	if (resolve_host(host, &d->addr, msg, len) < 0)
		return -1;
	d->transport = ROUTE_UDP;
	snprintf(d->text, sizeof(d->text), "%s", text);
	return 0;
}

static int load_dests(struct routes_err *e, struct route *rt, const config_setting_t *s,
		      const char *key)
{
	char msg[200], ekey[80]; /* key + "[i]" */
	int type = config_setting_type(s);
	if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY) {
		snprintf(msg, sizeof(msg), "must be a list of strings ( \"host:port\", ... ), "
			 "not %s", config_type_name(type));
		return routes_error(e, s, key, msg);
	}
	int n = config_setting_length(s);
	if (n < 1 || n > ROUTE_MAX_DESTS) {
		snprintf(msg, sizeof(msg), "must list 1 to %d destinations (got %d)",
			 ROUTE_MAX_DESTS, n);
		return routes_error(e, s, key, msg);
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *d = config_setting_get_elem(s, (unsigned)i);
		struct route_dest *dest = &rt->dests[i];
		snprintf(ekey, sizeof(ekey), "%s[%d]", key, i);
		if (get_string(e, d, ekey, dest->text, sizeof(dest->text), true) < 0)
			return -1;
		if (parse_dest(dest, config_setting_get_string(d), msg, sizeof(msg)) < 0)
			return routes_error(e, d, ekey, msg);
	}
	rt->n_dests = (unsigned)n;
	return 0;
}

static int load_app(struct routes_err *e, struct route *rt, const config_setting_t *s,
		    const char *key)
{
	char name[32], msg[128];
	if (get_string(e, s, key, name, sizeof(name), true) < 0)
		return -1;
	for (unsigned a = ROUTE_APP_NONE + 1; a < N_APPS; a++) {
		if (strcmp(name, routes_apps[a]) == 0) {
			rt->app = (enum route_app)a;
			return 0;
		}
	}
	snprintf(msg, sizeof(msg), "unknown app \"%s\" (known: echo, announce)", name);
	return routes_error(e, s, key, msg);
}

#define REGEX_MAX_COPIES 10000

/* What glibc's regcomp will build for @p, roughly: every atom counts one, and a repetition
 * copies what it repeats (a{m,n}: n copies; +: two; * and ?: one), so that nested and stacked
 * repetitions multiply. regcomp's memory and time grow with that (exponentially for stacked
 * quantifiers like "1+++++"): a pattern whose estimate passes REGEX_MAX_COPIES is refused
 * before regcomp sees it. Returns the estimate, or REGEX_MAX_COPIES + 1. */
static unsigned long regex_cost(const char *p)
{
	unsigned long stack[32], total = 0, last = 0;
	unsigned depth = 0;
	bool quantified = false; /* the previous token was a quantifier */
	stack[0] = 0;
	for (size_t i = 0; p[i]; i++) {
		unsigned long mult = 0;
		char c = p[i];
		if (c == '\\' && p[i + 1] >= '1' && p[i + 1] <= '9') {
			/* a back-reference: matching it backtracks, and the user part matched
			 * comes from the network */
			return REGEX_MAX_COPIES + 1;
		} else if (c == '\\' && p[i + 1]) {
			i++;
			last = 1;
		} else if (c == '[') {
			size_t j = i + 1;
			if (p[j] == '^')
				j++;
			if (p[j] == ']')
				j++;
			while (p[j] && p[j] != ']')
				j++;
			if (!p[j])
				return 0; /* malformed: regcomp says how */
			i = j;
			last = 1;
		} else if (c == '(') {
			if (depth + 1 >= sizeof(stack) / sizeof(stack[0]))
				return REGEX_MAX_COPIES + 1;
			stack[++depth] = 0;
			quantified = false;
			continue;
		} else if (c == ')' && depth == 0) {
			last = 1; /* glibc takes an unmatched ')' as a literal */
		} else if (c == ')') {
			last = stack[depth--] + 1;
		} else if (c == '*' || c == '?') {
			mult = 1;
		} else if (c == '+') {
			mult = 2;
		} else if (c == '{') {
			unsigned long a = 0, b = 0;
			size_t j = i + 1;
			while (p[j] >= '0' && p[j] <= '9' && a <= REGEX_MAX_COPIES)
				a = a * 10 + (unsigned long)(p[j++] - '0');
			b = a;
			if (p[j] == ',') {
				j++;
				b = 0;
				while (p[j] >= '0' && p[j] <= '9' && b <= REGEX_MAX_COPIES)
					b = b * 10 + (unsigned long)(p[j++] - '0');
				if (b == 0)
					b = a + 1; /* {m,}: m copies and a star */
			}
			if (p[j] != '}' || j == i + 1) {
				last = 1; /* not a bound: count it as a literal, to be safe */
			} else {
				i = j;
				mult = b > a ? b : a;
				if (mult == 0)
					mult = 1;
			}
		} else if (c == '|') {
			last = 0;
			quantified = false;
			continue;
		} else {
			last = 1;
		}
		if (mult) {
			if (quantified)
				return REGEX_MAX_COPIES + 1; /* a quantifier on a quantifier */
			/* the repeated thing is already counted once: add the other copies */
			stack[depth] += last * (mult - 1);
			quantified = true;
		} else {
			stack[depth] += last;
			quantified = false;
		}
		total = stack[0];
		for (unsigned d = 1; d <= depth; d++)
			total += stack[d];
		if (total > REGEX_MAX_COPIES)
			return REGEX_MAX_COPIES + 1;
	}
	return depth ? 0 : stack[0]; /* an unclosed group: regcomp says how */
}

static int load_pattern(struct routes_err *e, struct route *rt, const config_setting_t *s,
			const char *key, bool is_regex)
{
	char msg[200], reason[128];
	if (get_string(e, s, key, rt->pattern, sizeof(rt->pattern), false) < 0)
		return -1;
	if (!is_regex)
		return 0;
	if (regex_cost(rt->pattern) > REGEX_MAX_COPIES) {
		snprintf(msg, sizeof(msg),
			 "regular expression too complex (repetitions that multiply past %u "
			 "copies, a quantifier on a quantifier, or a back-reference)",
			 REGEX_MAX_COPIES);
		return routes_error(e, s, key, msg);
	}
	int rc = regcomp(&rt->re, rt->pattern, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &rt->re, reason, sizeof(reason));
		snprintf(msg, sizeof(msg), "bad regular expression: %s", reason);
		return routes_error(e, s, key, msg);
	}
	rt->is_regex = true;
	return 0;
}

/* The settings of one route group, by key; NULL when absent. */
struct route_keys {
	const config_setting_t *name, *prefix, *regex, *app, *dests, *play, *then, *loops;
};

static int collect_keys(struct routes_err *e, const config_setting_t *g, unsigned idx,
			struct route_keys *k)
{
	char key[64];
	memset(k, 0, sizeof(*k));
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		if (strcmp(name, "name") == 0)
			k->name = s;
		else if (strcmp(name, "prefix") == 0)
			k->prefix = s;
		else if (strcmp(name, "regex") == 0)
			k->regex = s;
		else if (strcmp(name, "app") == 0)
			k->app = s;
		else if (strcmp(name, "destinations") == 0)
			k->dests = s;
		else if (strcmp(name, "play") == 0)
			k->play = s;
		else if (strcmp(name, "then") == 0)
			k->then = s;
		else if (strcmp(name, "loops") == 0)
			k->loops = s;
		else {
			snprintf(key, sizeof(key), "routes[%u].%s", idx, name);
			return routes_error(e, s, key, "unknown key (known: name, prefix, regex, "
					    "app, destinations, play, then, loops)");
		}
	}
	return 0;
}

/* An announce route's play (loaded now in both laws, so that a file that is not audio is
 * refused here, naming the key), then and loops. */
static int load_announce(struct routes_err *e, struct route *rt, const struct route_keys *k,
			 unsigned idx)
{
	char key[64], msg[256];
	if (rt->app != ROUTE_APP_ANNOUNCE) {
		if (!k->play && !k->then && !k->loops)
			return 0;
		snprintf(key, sizeof(key), "routes[%u]", idx);
		return routes_error(e, k->app, key,
				    "play, then and loops belong to app \"announce\"");
	}
	snprintf(key, sizeof(key), "routes[%u].play", idx);
	if (!k->play)
		return routes_error(e, k->app, key, "app \"announce\" needs play (a WAV file, or "
				    "\"tone:NAME\")");
	if (get_string(e, k->play, key, rt->play, sizeof(rt->play), true) < 0)
		return -1;
	if (!prompt_get(rt->play, 0, msg, sizeof(msg)) || !prompt_get(rt->play, 8, msg, sizeof(msg)))
		return routes_error(e, k->play, key, msg);
	rt->loops = 1;
	if (k->loops) {
		snprintf(key, sizeof(key), "routes[%u].loops", idx);
		if (config_setting_type(k->loops) != CONFIG_TYPE_INT ||
		    config_setting_get_int(k->loops) < 0 || config_setting_get_int(k->loops) > 1000)
			return routes_error(e, k->loops, key, "must be an integer from 0 to 1000 "
					    "(0: until the caller hangs up)");
		rt->loops = (unsigned)config_setting_get_int(k->loops);
	}
	if (k->then) {
		char then[16];
		snprintf(key, sizeof(key), "routes[%u].then", idx);
		if (get_string(e, k->then, key, then, sizeof(then), true) < 0)
			return -1;
		if (strcmp(then, "echo") != 0 && strcmp(then, "hangup") != 0)
			return routes_error(e, k->then, key, "must be \"hangup\" or \"echo\"");
		rt->then_echo = strcmp(then, "echo") == 0;
	}
	return 0;
}

static int load_route(struct routes_err *e, struct routes *r, unsigned idx,
		      const config_setting_t *g)
{
	struct route *rt = &r->r[idx];
	struct route_keys k;
	char key[64], msg[128];
	snprintf(key, sizeof(key), "routes[%u]", idx);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		snprintf(msg, sizeof(msg), "must be a group { ... }, not %s",
			 config_type_name(config_setting_type(g)));
		return routes_error(e, g, key, msg);
	}
	if (collect_keys(e, g, idx, &k) < 0)
		return -1;
	if (!k.prefix == !k.regex)
		return routes_error(e, g, key, "needs exactly one of prefix or regex");
	if (!k.app == !k.dests)
		return routes_error(e, g, key, "needs exactly one of app or destinations");

	snprintf(rt->name, sizeof(rt->name), "route%u", idx);
	snprintf(key, sizeof(key), "routes[%u].name", idx);
	if (k.name && get_string(e, k.name, key, rt->name, sizeof(rt->name), true) < 0)
		return -1;
	for (unsigned i = 0; i < idx; i++) {
		if (strcmp(r->r[i].name, rt->name) == 0) {
			snprintf(msg, sizeof(msg), "route name \"%s\" already used by routes[%u]",
				 rt->name, i);
			return routes_error(e, k.name ? k.name : g, key, msg);
		}
	}
	snprintf(key, sizeof(key), "routes[%u].%s", idx, k.regex ? "regex" : "prefix");
	if (load_pattern(e, rt, k.regex ? k.regex : k.prefix, key, k.regex != NULL) < 0)
		return -1;
	snprintf(key, sizeof(key), "routes[%u].%s", idx, k.app ? "app" : "destinations");
	if (k.app) {
		if (load_app(e, rt, k.app, key) < 0)
			return -1;
		return load_announce(e, rt, &k, idx);
	}
	if (k.play || k.then || k.loops) {
		snprintf(key, sizeof(key), "routes[%u]", idx);
		return routes_error(e, g, key, "play, then and loops belong to app \"announce\"");
	}
	return load_dests(e, rt, k.dests, key);
}

static struct routes *load_list(struct routes_err *e, const config_setting_t *list)
{
	char msg[128];
	int type = config_setting_type(list);
	if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY) {
		snprintf(msg, sizeof(msg), "must be a list of groups ( { ... }, ... ), not %s",
			 config_type_name(type));
		routes_error(e, list, "routes", msg);
		return NULL;
	}
	int n = config_setting_length(list);
	if (n > ROUTES_MAX) {
		snprintf(msg, sizeof(msg), "at most %d routes (got %d)", ROUTES_MAX, n);
		routes_error(e, list, "routes", msg);
		return NULL;
	}
	struct routes *r = routes_alloc((unsigned)n);
	if (!r) {
		snprintf(e->buf, e->len, "%s: routes: out of memory", e->path);
		return NULL;
	}
	for (unsigned i = 0; i < (unsigned)n; i++) {
		if (load_route(e, r, i, config_setting_get_elem(list, i)) < 0) {
			routes_free(r);
			return NULL;
		}
	}
	return r;
}

struct routes *routes_load(const char *path, char *err, size_t err_len)
{
	struct routes_err e = {path ? path : "config", err, err_len};
	if (!path)
		return routes_default(&e);

	/* as config_load: libconfig does not tell an unreadable file apart well */
	FILE *f = fopen(path, "r");
	if (!f || (getc(f) == EOF && ferror(f))) {
		snprintf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);

	config_t lc;
	config_init(&lc);
	struct routes *r = NULL;
	if (config_read_file(&lc, path) != CONFIG_TRUE) {
		snprintf(err, err_len, "%s:%d: syntax error: %s",
			 config_error_file(&lc) ? config_error_file(&lc) : path,
			 config_error_line(&lc), config_error_text(&lc));
	} else {
		const config_setting_t *list = config_lookup(&lc, "routes");
		r = list ? load_list(&e, list) : routes_default(&e);
	}
	config_destroy(&lc);
	return r;
}
