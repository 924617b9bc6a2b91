/* Unit tests for shared/json.c: writer output, parser acceptance and rejection. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/json.h"

static struct json *parse_str(const char *s)
{
	return json_parse(s, strlen(s), NULL, 0);
}

static void assert_rejected(const char *s)
{
	char err[128] = "";
	struct json *j = json_parse(s, strlen(s), err, sizeof(err));

	if (j)
		fail_msg("accepted malformed input: %s", s);
	assert_true(err[0] != '\0');
}

static void writer_inserts_commas_and_nests(void **state)
{
	struct jw w;

	(void)state;
	jw_init(&w);
	jw_obj_begin(&w);
	jw_kv_str(&w, "a", "x");
	jw_kv_u64(&w, "b", 18446744073709551615ULL);
	jw_kv_i64(&w, "c", -5);
	jw_key(&w, "d");
	jw_arr_begin(&w);
	jw_bool(&w, true);
	jw_null(&w);
	jw_obj_begin(&w);
	jw_obj_end(&w);
	jw_arr_begin(&w);
	jw_arr_end(&w);
	jw_arr_end(&w);
	jw_kv_bool(&w, "e", false);
	jw_obj_end(&w);
	assert_int_equal(w.err, 0);
	assert_string_equal(w.buf,
			    "{\"a\":\"x\",\"b\":18446744073709551615,\"c\":-5,"
			    "\"d\":[true,null,{},[]],\"e\":false}");
	assert_int_equal(w.len, strlen(w.buf));
	jw_free(&w);
}

static void writer_escapes_quotes_backslashes_and_control_chars(void **state)
{
	struct jw w;

	(void)state;
	jw_init(&w);
	jw_str(&w, "q\"b\\n\nt\t\x01\x1f\xc3\xa9");
	assert_string_equal(w.buf, "\"q\\\"b\\\\n\\u000at\\u0009\\u0001\\u001f\xc3\xa9\"");
	jw_reset(&w);
	jw_strn(&w, "abcdef", 3);
	assert_string_equal(w.buf, "\"abc\"");
	jw_free(&w);
}

static void writer_prints_non_finite_doubles_as_null(void **state)
{
	struct jw w;

	(void)state;
	jw_init(&w);
	jw_arr_begin(&w);
	jw_double(&w, INFINITY);
	jw_double(&w, -INFINITY);
	jw_double(&w, NAN);
	jw_double(&w, 0.1);
	jw_double(&w, 100.0);
	jw_double(&w, -2.5e-300);
	jw_arr_end(&w);
	assert_string_equal(w.buf, "[null,null,null,0.1,100,-2.5e-300]");
	jw_free(&w);
}

static void writer_flags_misuse(void **state)
{
	struct jw w;
	int i;

	(void)state;
	jw_init(&w);
	jw_obj_end(&w);
	assert_int_not_equal(w.err, 0);
	jw_reset(&w);
	assert_int_equal(w.err, 0);
	jw_u64(&w, 1);
	jw_u64(&w, 2); /* two top-level values */
	assert_int_not_equal(w.err, 0);
	jw_reset(&w);
	for (i = 0; i < JW_MAX_DEPTH + 1; i++)
		jw_arr_begin(&w);
	assert_int_not_equal(w.err, 0);
	jw_free(&w);
}

static void doubles_round_trip_exactly(void **state)
{
	const double vals[] = { 0.1, 1.0 / 3.0, 123456789.125, -1e-310, 1.7976931348623157e308,
				4503599627370497.0, 9007199254740993.0 * 4, -0.0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		struct jw w;
		struct json *j;

		jw_init(&w);
		jw_double(&w, vals[i]);
		j = parse_str(w.buf);
		assert_non_null(j);
		assert_int_equal(j->type, JSON_NUMBER);
		assert_true(j->num == vals[i]);
		json_free(j);
		jw_free(&w);
	}
}

static void strings_round_trip_through_writer_and_parser(void **state)
{
	const char *in = "tab\there \"quoted\" back\\slash \x01\x7f caf\xc3\xa9 /";
	struct jw w;
	struct json *j;

	(void)state;
	jw_init(&w);
	jw_obj_begin(&w);
	jw_kv_str(&w, "k\"ey", in);
	jw_obj_end(&w);
	j = parse_str(w.buf);
	assert_non_null(j);
	assert_string_equal(json_get_str(j, "k\"ey", NULL), in);
	json_free(j);
	jw_free(&w);
}

static void parser_builds_nested_tree(void **state)
{
	const char *s = " {\"cmd\":\"status\",\"n\":-12.5e1,\"a\":[1,[2,{\"x\":null}],true],"
			"\"o\":{},\"f\":false} \n";
	struct json *j = parse_str(s);
	const struct json *a, *inner;

	(void)state;
	assert_non_null(j);
	assert_int_equal(j->type, JSON_OBJECT);
	assert_int_equal(j->n, 5);
	assert_string_equal(json_get_str(j, "cmd", NULL), "status");
	assert_true(json_get_num(j, "n", 0) == -125.0);
	assert_true(json_get_num(j, "cmd", 7) == 7);
	assert_string_equal(json_get_str(j, "n", "def"), "def");
	assert_null(json_get(j, "missing"));
	a = json_get(j, "a");
	assert_non_null(a);
	assert_int_equal(a->type, JSON_ARRAY);
	assert_int_equal(a->n, 3);
	assert_true(a->items[2]->type == JSON_BOOL && a->items[2]->b);
	inner = a->items[1]->items[1];
	assert_int_equal(json_get(inner, "x")->type, JSON_NULL);
	assert_int_equal(json_get(j, "o")->n, 0);
	assert_false(json_get(j, "f")->b);
	assert_null(json_get(a, "x"));
	json_free(j);
}

static void parser_decodes_escapes_and_surrogate_pairs(void **state)
{
	struct json *j = parse_str("\"\\\"\\\\\\/\\b\\f\\n\\r\\t"
				   "\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"");

	(void)state;
	assert_non_null(j);
	assert_string_equal(j->str, "\"\\/\b\f\n\r\tA\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	json_free(j);
}

static void parser_rejects_bad_escapes(void **state)
{
	(void)state;
	assert_rejected("\"\\x\"");
	assert_rejected("\"\\u12\"");
	assert_rejected("\"\\u12g4\"");
	assert_rejected("\"\\ud83d\"");          /* high surrogate alone */
	assert_rejected("\"\\ud83d\\u0041\"");   /* high surrogate + non-low */
	assert_rejected("\"\\ude00\"");          /* low surrogate alone */
	assert_rejected("\"\\u0000\"");
	assert_rejected("\"a\x01\"");            /* raw control character */
	assert_rejected("\"\\");
}

static void parser_rejects_truncated_input(void **state)
{
	const char *full = "{\"a\":[1,2.5,\"x\",true,null],\"b\":{\"c\":\"\\u00e9\"}}";
	size_t i;
	struct json *j;

	(void)state;
	/* Every strict prefix is an error, and a heap copy lets ASan catch reads past len. */
	for (i = 0; i < strlen(full); i++) {
		char *copy = malloc(i + 1);

		memcpy(copy, full, i);
		j = json_parse(copy, i, NULL, 0);
		if (j)
			fail_msg("accepted prefix of length %zu", i);
		free(copy);
	}
	j = parse_str(full);
	assert_non_null(j);
	json_free(j);
}

static void parser_rejects_malformed_documents(void **state)
{
	(void)state;
	assert_rejected("");
	assert_rejected("   ");
	assert_rejected("{\"a\":1,}");
	assert_rejected("[1,]");
	assert_rejected("[1 2]");
	assert_rejected("{\"a\" 1}");
	assert_rejected("{a:1}");
	assert_rejected("{\"a\":1} x");
	assert_rejected("{\"a\":1}{}");
	assert_rejected("tru");
	assert_rejected("nul");
	assert_rejected("True");
	assert_rejected("'x'");
}

static void parser_rejects_bad_numbers(void **state)
{
	(void)state;
	assert_rejected("01");
	assert_rejected("-");
	assert_rejected("1.");
	assert_rejected(".5");
	assert_rejected("1e");
	assert_rejected("1e+");
	assert_rejected("+1");
	assert_rejected("0x10");
	assert_rejected("1e999");
	assert_rejected("NaN");
	assert_rejected("Infinity");
	assert_rejected("1111111111111111111111111111111111111111111111111111111111111111111111");
}

static void parser_reads_numbers(void **state)
{
	const struct {
		const char *text;
		double v;
	} cases[] = { { "0", 0 }, { "-0", 0 }, { "42", 42 }, { "-7", -7 }, { "3.25", 3.25 },
		      { "1e3", 1000 }, { "2E-2", 0.02 }, { "1.5e+2", 150 },
		      { "18446744073709551615", 18446744073709551615.0 } };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json *j = parse_str(cases[i].text);

		assert_non_null(j);
		assert_int_equal(j->type, JSON_NUMBER);
		assert_true(j->num == cases[i].v);
		json_free(j);
	}
}

static char *nested(int depth, char open, char close)
{
	char *s = malloc((size_t)depth * 2 + 1);
	int i;

	for (i = 0; i < depth; i++) {
		s[i] = open;
		s[depth * 2 - 1 - i] = close;
	}
	s[depth * 2] = '\0';
	return s;
}

static void parser_limits_nesting_depth_without_crashing(void **state)
{
	char *ok = nested(64, '[', ']');
	char *deep = nested(65, '[', ']');
	char *huge = nested(1000, '[', ']');
	char *unclosed = nested(100000, '{', '}');
	char err[128];
	struct json *j;

	(void)state;
	j = parse_str(ok);
	assert_non_null(j);
	json_free(j);
	assert_null(parse_str(deep));
	assert_null(json_parse(huge, strlen(huge), err, sizeof(err)));
	assert_non_null(strstr(err, "nesting"));
	unclosed[50000] = '\0';
	assert_null(parse_str(unclosed));
	free(ok);
	free(deep);
	free(huge);
	free(unclosed);
}

static void parser_error_message_fits_small_buffer(void **state)
{
	char err[8];

	(void)state;
	memset(err, 'z', sizeof(err));
	assert_null(json_parse("[1,", 3, err, sizeof(err)));
	assert_int_equal(err[sizeof(err) - 1], '\0');
	assert_int_equal(strlen(err), sizeof(err) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(writer_inserts_commas_and_nests),
		cmocka_unit_test(writer_escapes_quotes_backslashes_and_control_chars),
		cmocka_unit_test(writer_prints_non_finite_doubles_as_null),
		cmocka_unit_test(writer_flags_misuse),
		cmocka_unit_test(doubles_round_trip_exactly),
		cmocka_unit_test(strings_round_trip_through_writer_and_parser),
		cmocka_unit_test(parser_builds_nested_tree),
		cmocka_unit_test(parser_decodes_escapes_and_surrogate_pairs),
		cmocka_unit_test(parser_rejects_bad_escapes),
		cmocka_unit_test(parser_rejects_truncated_input),
		cmocka_unit_test(parser_rejects_malformed_documents),
		cmocka_unit_test(parser_rejects_bad_numbers),
		cmocka_unit_test(parser_reads_numbers),
		cmocka_unit_test(parser_limits_nesting_depth_without_crashing),
		cmocka_unit_test(parser_error_message_fits_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
