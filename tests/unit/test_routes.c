/* Unit tests for controlplane/routes.c: the default table, matching order and patterns,
 * destinations, and the operator-facing load errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "controlplane/apps/routes.h"

#include <arpa/inet.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tr_path[64];
static char tr_err[512];

/* Writes @text to a fresh temporary file and loads its routes; the file name is left in
 * tr_path, the error in tr_err. */
static struct routes *tr_load(const char *text)
{
	snprintf(tr_path, sizeof(tr_path), "/tmp/mgw-test-routes-XXXXXX");
	int fd = mkstemp(tr_path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	tr_err[0] = '\0';
	struct routes *r = routes_load(tr_path, tr_err, sizeof(tr_err));
	unlink(tr_path);
	return r;
}

static struct routes *tr_load_ok(const char *text)
{
	struct routes *r = tr_load(text);
	if (!r)
		fail_msg("unexpected error: %s", tr_err);
	return r;
}

/* Asserts that loading @text fails with an error "<tr_path>:<line>: " containing @needle. */
static void tr_expect_err(const char *text, int line, const char *needle)
{
	struct routes *r = tr_load(text);
	if (r) {
		routes_free(r);
		fail_msg("loaded, expected \"%s\" for:\n%s", needle, text);
	}
	char prefix[96];
	snprintf(prefix, sizeof(prefix), "%s:%d: ", tr_path, line);
	if (strncmp(tr_err, prefix, strlen(prefix)) != 0 || !strstr(tr_err, needle))
		fail_msg("error \"%s\" lacks \"%s\" or \"%s\"", tr_err, prefix, needle);
}

/* Name of the route @user matches, "404" when none does. */
static const char *tr_route_of(const struct routes *r, const char *user)
{
	const struct route *rt = routes_match(r, user);
	return rt ? rt->name : "404";
}

static void assert_default_table(const struct routes *r)
{
	assert_int_equal(routes_count(r), 1);
	const struct route *rt = routes_get(r, 0);
	assert_non_null(rt);
	assert_string_equal(rt->name, "default");
	assert_false(rt->is_regex);
	assert_string_equal(rt->pattern, "");
	assert_int_equal(rt->app, ROUTE_APP_ECHO);
	assert_int_equal(rt->n_dests, 0);
	assert_null(routes_get(r, 1));
	assert_ptr_equal(routes_match(r, "anything"), rt);
	assert_ptr_equal(routes_match(r, ""), rt);
}

static void no_file_gives_a_default_route_answering_every_call_with_echo(void **state)
{
	(void)state;
	struct routes *r = routes_load(NULL, tr_err, sizeof(tr_err));
	assert_non_null(r);
	assert_default_table(r);
	routes_free(r);
}

static void file_without_routes_gives_the_default_route(void **state)
{
	(void)state;
	struct routes *r = tr_load_ok("sip: { port = 5062; };\nlog: { level = \"debug\"; };\n");
	assert_default_table(r);
	routes_free(r);
}

static void empty_routes_list_answers_every_call_404(void **state)
{
	(void)state;
	struct routes *r = tr_load_ok("routes = ();\n");
	assert_int_equal(routes_count(r), 0);
	assert_null(routes_match(r, "echo"));
	assert_null(routes_match(r, ""));
	routes_free(r);
}

static void routes_are_tried_in_order_and_the_first_match_wins(void **state)
{
	(void)state;
	struct routes *r = tr_load_ok(
		"routes = (\n"
		"  { name = \"uk-mobile\"; prefix = \"447\"; app = \"echo\"; },\n"
		"  { name = \"uk\"; prefix = \"44\"; app = \"echo\"; },\n"
		"  { name = \"short\"; regex = \"^4\"; app = \"echo\"; },\n"
		"  { name = \"uk-late\"; prefix = \"4477\"; app = \"echo\"; }\n"
		");\n");
	assert_int_equal(routes_count(r), 4);
	assert_string_equal(tr_route_of(r, "447700900123"), "uk-mobile");
	assert_string_equal(tr_route_of(r, "442071234567"), "uk");
	assert_string_equal(tr_route_of(r, "4"), "short");
	assert_string_equal(tr_route_of(r, "33123"), "404");
	assert_string_equal(tr_route_of(r, "447712345"), "uk-mobile"); /* never "uk-late" */
	assert_string_equal(routes_get(r, 3)->name, "uk-late");
	routes_free(r);
}

static void unnamed_routes_are_named_after_their_index(void **state)
{
	(void)state;
	struct routes *r = tr_load_ok(
		"routes = (\n"
		"  { prefix = \"1\"; app = \"echo\"; },\n"
		"  { name = \"x\"; prefix = \"2\"; app = \"echo\"; },\n"
		"  { prefix = \"3\"; app = \"echo\"; }\n"
		");\n");
	assert_string_equal(routes_get(r, 0)->name, "route0");
	assert_string_equal(routes_get(r, 1)->name, "x");
	assert_string_equal(routes_get(r, 2)->name, "route2");
	routes_free(r);
}

static void empty_prefix_matches_every_user(void **state)
{
	(void)state;
	struct routes *r = tr_load_ok(
		"routes = (\n"
		"  { name = \"one\"; prefix = \"1\"; app = \"echo\"; },\n"
		"  { name = \"any\"; prefix = \"\"; app = \"echo\"; }\n"
		");\n");
	assert_string_equal(tr_route_of(r, "123"), "one");
	assert_string_equal(tr_route_of(r, "alice"), "any");
	assert_string_equal(tr_route_of(r, "+44"), "any");
	assert_string_equal(tr_route_of(r, ""), "any");
	assert_string_equal(tr_route_of(r, NULL), "any");
	routes_free(r);
}

static void regex_is_anchored_only_where_written(void **state)
{
	(void)state;
	struct routes *r = tr_load_ok(
		"routes = (\n"
		"  { name = \"exact\"; regex = \"^1[0-9]{3}$\"; app = \"echo\"; },\n"
		"  { name = \"inside\"; regex = \"9{2}\"; app = \"echo\"; },\n"
		"  { name = \"alt\"; regex = \"^(bob|carol)$\"; app = \"echo\"; }\n"
		");\n");
	assert_true(routes_get(r, 0)->is_regex);
	assert_string_equal(routes_get(r, 0)->pattern, "^1[0-9]{3}$");
	assert_string_equal(tr_route_of(r, "1234"), "exact");
	assert_string_equal(tr_route_of(r, "12345"), "404");
	assert_string_equal(tr_route_of(r, "01234"), "404");
	assert_string_equal(tr_route_of(r, "123"), "404");
	assert_string_equal(tr_route_of(r, "a99b"), "inside"); /* unanchored: anywhere */
	assert_string_equal(tr_route_of(r, "bob"), "alt");
	assert_string_equal(tr_route_of(r, "bobby"), "404");
	routes_free(r);
}

static void empty_user_matches_only_empty_prefix_or_a_regex_accepting_it(void **state)
{
	(void)state;
	struct routes *r = tr_load_ok(
		"routes = (\n"
		"  { name = \"p\"; prefix = \"0\"; app = \"echo\"; },\n"
		"  { name = \"r\"; regex = \"^.+$\"; app = \"echo\"; },\n"
		"  { name = \"r0\"; regex = \"^[0-9]*$\"; app = \"echo\"; }\n"
		");\n");
	assert_string_equal(tr_route_of(r, ""), "r0");
	assert_string_equal(tr_route_of(r, "x"), "r");
	routes_free(r);
	r = tr_load_ok("routes = ( { prefix = \"0\"; app = \"echo\"; },\n"
		       "  { regex = \"^a\"; app = \"echo\"; } );\n");
	assert_string_equal(tr_route_of(r, ""), "404");
	routes_free(r);
}

static void assert_dest(const struct route_dest *d, const char *text, const char *ip,
			unsigned port)
{
	char buf[INET_ADDRSTRLEN];
	assert_string_equal(d->text, text);
	assert_int_equal(d->addr.sin_family, AF_INET);
	assert_string_equal(inet_ntop(AF_INET, &d->addr.sin_addr, buf, sizeof(buf)), ip);
	assert_int_equal(ntohs(d->addr.sin_port), port);
	assert_int_equal(d->transport, ROUTE_UDP);
}

static void destinations_are_parsed_in_failover_order(void **state)
{
	(void)state;
	struct routes *r = tr_load_ok(
		"routes = (\n"
		"  { name = \"uk\"; prefix = \"44\";\n"
		"    destinations = ( \"127.0.0.1:5070\", \"udp:10.1.2.3:1\",\n"
		"                     \"localhost:65535\", \"udp:localhost:5072\" ); }\n"
		");\n");
	const struct route *rt = routes_get(r, 0);
	assert_int_equal(rt->app, ROUTE_APP_NONE);
	assert_int_equal(rt->n_dests, 4);
	assert_dest(&rt->dests[0], "127.0.0.1:5070", "127.0.0.1", 5070);
	assert_dest(&rt->dests[1], "udp:10.1.2.3:1", "10.1.2.3", 1);
	assert_dest(&rt->dests[2], "localhost:65535", "127.0.0.1", 65535);
	assert_dest(&rt->dests[3], "udp:localhost:5072", "127.0.0.1", 5072);
	routes_free(r);

	r = tr_load_ok("routes = ( { prefix = \"\"; destinations = [ \"192.0.2.1:5060\" ]; } );\n");
	assert_dest(&routes_get(r, 0)->dests[0], "192.0.2.1:5060", "192.0.2.1", 5060);
	routes_free(r);
}

/* The first route is valid, the second (line 3) is @route. */
#define TR_BAD(route) "routes = (\n  { prefix = \"\"; app = \"echo\"; },\n  " route "\n);\n"

static void route_shape_errors_name_file_line_and_route(void **state)
{
	(void)state;
	tr_expect_err(TR_BAD("{ prefix = \"1\"; regex = \"^1\"; app = \"echo\"; }"), 3,
		      "routes[1]: needs exactly one of prefix or regex");
	tr_expect_err(TR_BAD("{ app = \"echo\"; }"), 3,
		      "routes[1]: needs exactly one of prefix or regex");
	tr_expect_err(TR_BAD("{ prefix = \"1\"; app = \"echo\"; destinations = (\"1.2.3.4:5\"); }"),
		      3, "routes[1]: needs exactly one of app or destinations");
	tr_expect_err(TR_BAD("{ prefix = \"1\"; }"), 3,
		      "routes[1]: needs exactly one of app or destinations");
	tr_expect_err(TR_BAD("{ match = \"echo\"; prefix = \"1\"; app = \"echo\"; }"), 3,
		      "routes[1].match: unknown key");
	/* (libconfig dates a scalar in a list by the token after it: keep that on its line) */
	tr_expect_err("routes = (\n  { prefix = \"\"; app = \"echo\"; },\n"
		      "  \"echo\", { prefix = \"2\"; app = \"echo\"; }\n);\n",
		      3, "routes[1]: must be a group { ... }, not a string");
	tr_expect_err("routes = { prefix = \"\"; };\n", 1,
		      "routes: must be a list of groups ( { ... }, ... ), not a group");
}

static void value_errors_name_file_line_and_key_path(void **state)
{
	(void)state;
	tr_expect_err(TR_BAD("{ regex = \"(1\"; app = \"echo\"; }"), 3,
		      "routes[1].regex: bad regular expression: ");
	/* patterns whose compilation would take gigabytes (found by fuzz_config: glibc's regcomp
	 * is exponential in stacked quantifiers) are refused before regcomp sees them */
	tr_expect_err(TR_BAD("{ regex = \"1++++++++++++++++++++++++++++++\"; app = \"echo\"; }"), 3,
		      "routes[1].regex: regular expression too complex");
	tr_expect_err(TR_BAD("{ regex = \"((a{100}){100}){100}\"; app = \"echo\"; }"), 3,
		      "routes[1].regex: regular expression too complex");
	tr_expect_err(TR_BAD("{ regex = \"a{5}{5}\"; app = \"echo\"; }"), 3,
		      "routes[1].regex: regular expression too complex");
	tr_expect_err(TR_BAD("{ regex = \"^(1+)\\\\1$\"; app = \"echo\"; }"), 3,
		      "routes[1].regex: regular expression too complex");
	/* an unmatched ')' is a literal to glibc: what follows still counts */
	tr_expect_err(TR_BAD("{ regex = \"1)+++*++++++++++++\"; app = \"echo\"; }"), 3,
		      "routes[1].regex: regular expression too complex");
	routes_free(tr_load_ok("routes = ( { regex = \"^(00|\\\\+)?49[0-9]{3,12}$\"; app = \"echo\"; },\n"
			       "  { regex = \"^(1|2)*[a-z]?x+$\"; app = \"echo\"; },\n"
			       "  { regex = \"^[+*?{]+$\"; app = \"echo\"; } );\n"));
	tr_expect_err(TR_BAD("{ prefix = 44; app = \"echo\"; }"), 3,
		      "routes[1].prefix: must be a string, not an integer");
	tr_expect_err(TR_BAD("{ regex = true; app = \"echo\"; }"), 3,
		      "routes[1].regex: must be a string, not a boolean");
	tr_expect_err(TR_BAD("{ name = 7; prefix = \"1\"; app = \"echo\"; }"), 3,
		      "routes[1].name: must be a string, not an integer");
	tr_expect_err(TR_BAD("{ name = \"\"; prefix = \"1\"; app = \"echo\"; }"), 3,
		      "routes[1].name: must not be empty");
	tr_expect_err(TR_BAD("{ name = \"0123456789012345678901234567890123\"; prefix = \"1\"; "
			     "app = \"echo\"; }"), 3, "routes[1].name: too long");
	tr_expect_err(TR_BAD("{ name = \"route0\"; prefix = \"1\"; app = \"echo\"; }"), 3,
		      "routes[1].name: route name \"route0\" already used by routes[0]");
	tr_expect_err(TR_BAD("{ prefix = \"1\"; app = \"tone\"; }"), 3,
		      "routes[1].app: unknown app \"tone\"");
	tr_expect_err(TR_BAD("{ prefix = \"1\"; app = 1; }"), 3,
		      "routes[1].app: must be a string, not an integer");
	tr_expect_err(TR_BAD("{ prefix = \"1\"; destinations = \"127.0.0.1:5070\"; }"), 3,
		      "routes[1].destinations: must be a list of strings");
	tr_expect_err(TR_BAD("{ prefix = \"1\"; destinations = (); }"), 3,
		      "routes[1].destinations: must list 1 to 8 destinations (got 0)");
	tr_expect_err(TR_BAD("{ prefix = \"1\"; destinations = [ \"a:1\", \"a:2\", \"a:3\", "
			     "\"a:4\", \"a:5\", \"a:6\", \"a:7\", \"a:8\", \"a:9\" ]; }"), 3,
		      "routes[1].destinations: must list 1 to 8 destinations (got 9)");
	tr_expect_err(TR_BAD("{ prefix = \"1\"; destinations = ( \"1.2.3.4:5\", 5060 ); }"), 3,
		      "routes[1].destinations[1]: must be a string, not an integer");
}

static void bad_destinations_are_named_with_their_index(void **state)
{
	(void)state;
	static const struct {
		const char *dest, *needle;
	} cases[] = {
		{"no-such-host.invalid:5070", "cannot resolve \"no-such-host.invalid\": "},
		{"127.0.0.1", "(expected \"host:port\" or \"udp:host:port\")"},
		{":5070", "(expected \"host:port\" or \"udp:host:port\")"},
		{"udp::5070", "(expected \"host:port\" or \"udp:host:port\")"},
		{"127.0.0.1:0", "port must be an integer between 1 and 65535"},
		{"127.0.0.1:65536", "port must be an integer between 1 and 65535"},
		{"127.0.0.1:", "port must be an integer between 1 and 65535"},
		{"127.0.0.1:50x", "port must be an integer between 1 and 65535"},
		{"127.0.0.1:-1", "port must be an integer between 1 and 65535"},
		{"sctp:127.0.0.1:5070", "unknown transport"},
		{"tcp:127.0.0.1:5070", "transport \"tcp\" is not supported yet (only udp)"},
		{"", "must not be empty"},
	};
	char text[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
			 "routes = (\n  { prefix = \"\";\n"
			 "    destinations = ( \"127.0.0.1:5070\",\n"
			 "      \"%s\" ); }\n);\n", cases[i].dest);
		tr_expect_err(text, 4, "routes[0].destinations[1]: ");
		if (!strstr(tr_err, cases[i].needle))
			fail_msg("error \"%s\" lacks \"%s\"", tr_err, cases[i].needle);
	}
}

static void more_than_64_routes_are_rejected(void **state)
{
	(void)state;
	char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text), "# many\nroutes = (\n");
	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "  { prefix = \"%d\"; app = \"echo\"; }%s\n", i,
				      i < 64 ? "," : "");
	snprintf(text + n, sizeof(text) - n, ");\n");
	tr_expect_err(text, 2, "routes: at most 64 routes (got 65)");

	/* 64 is fine */
	char *last = strstr(text, "  { prefix = \"64\"");
	snprintf(last, sizeof(text) - (size_t)(last - text), ");\n");
	last[-2] = ' '; /* the comma before it */
	struct routes *r = tr_load_ok(text);
	assert_int_equal(routes_count(r), 64);
	assert_string_equal(tr_route_of(r, "63"), "route6"); /* prefix "6" comes first */
	routes_free(r);
}

static void unreadable_and_malformed_files_are_reported(void **state)
{
	(void)state;
	assert_null(routes_load("/nonexistent/mgw.conf", tr_err, sizeof(tr_err)));
	assert_string_equal(tr_err,
			    "/nonexistent/mgw.conf: cannot read: No such file or directory");
	tr_expect_err("routes = (\n  { prefix = = \"\"; app = \"echo\"; }\n);\n", 2,
		      "syntax error");
}

static void example_b2bua_conf_routes_echo_and_the_callee(void **state)
{
	(void)state;
	char self[512], path[600];
	snprintf(self, sizeof(self), "%s", __FILE__);
	snprintf(path, sizeof(path), "%s/../../docs/examples/b2bua.conf", dirname(self));
	struct routes *r = routes_load(path, tr_err, sizeof(tr_err));
	if (!r)
		fail_msg("%s", tr_err);

	const struct route *echo = routes_match(r, "echo");
	assert_non_null(echo);
	assert_int_equal(echo->app, ROUTE_APP_ECHO);
	assert_int_equal(echo->n_dests, 0);

	const struct route *callee = routes_match(r, "1234");
	assert_non_null(callee);
	assert_int_equal(callee->app, ROUTE_APP_NONE);
	assert_int_equal(callee->n_dests, 1);
	char buf[INET_ADDRSTRLEN];
	assert_string_equal(inet_ntop(AF_INET, &callee->dests[0].addr.sin_addr, buf, sizeof(buf)),
			    "127.0.0.1");
	assert_int_equal(ntohs(callee->dests[0].addr.sin_port), 5070);
	assert_int_equal(callee->dests[0].transport, ROUTE_UDP);

	const struct route *busy = routes_match(r, "busy");
	assert_non_null(busy);
	assert_int_equal(busy->app, ROUTE_APP_ANNOUNCE);
	assert_string_equal(busy->play, "tone:busy");
	assert_int_equal(busy->loops, 3);
	assert_false(busy->then_echo);

	assert_null(routes_match(r, "echo2"));  /* exact */
	assert_null(routes_match(r, "alice"));  /* no catch-all: 404 */
	assert_null(routes_match(r, ""));
	routes_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_file_gives_a_default_route_answering_every_call_with_echo),
		cmocka_unit_test(file_without_routes_gives_the_default_route),
		cmocka_unit_test(empty_routes_list_answers_every_call_404),
		cmocka_unit_test(routes_are_tried_in_order_and_the_first_match_wins),
		cmocka_unit_test(unnamed_routes_are_named_after_their_index),
		cmocka_unit_test(empty_prefix_matches_every_user),
		cmocka_unit_test(regex_is_anchored_only_where_written),
		cmocka_unit_test(empty_user_matches_only_empty_prefix_or_a_regex_accepting_it),
		cmocka_unit_test(destinations_are_parsed_in_failover_order),
		cmocka_unit_test(route_shape_errors_name_file_line_and_route),
		cmocka_unit_test(value_errors_name_file_line_and_key_path),
		cmocka_unit_test(bad_destinations_are_named_with_their_index),
		cmocka_unit_test(more_than_64_routes_are_rejected),
		cmocka_unit_test(unreadable_and_malformed_files_are_reported),
		cmocka_unit_test(example_b2bua_conf_routes_echo_and_the_callee),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
