/* Unit tests for bencode (controlplane/ng/bencode.c) and the NG request handling
 * (controlplane/ng/ng.c, ng_handle) without a socket: well-formed values decode to what they
 * say (keys in any order), every malformed shape is refused with a reason (truncations,
 * huge lengths, bad integers, non-string keys, duplicate keys, nesting past the limit, too
 * many values, trailing data), the encoder writes what the decoder reads back, and ng_handle
 * answers ping with pong, a command it does not carry out with an NG error, a request without
 * a cookie with nothing, and a retransmitted request with the reply it already gave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/ng/bencode.h"
#include "controlplane/ng/ng.h"
#include "controlplane/ng/ngcall.h"

static struct be_doc doc;

static const struct be_node *dec(const char *s)
{
	return be_decode(&doc, s, strlen(s));
}

static void values_decode_to_what_they_say(void **state)
{
	(void)state;
	const struct be_node *r = dec("d7:command4:ping4:listli1ei-42e3:abce5:emptyle1:n0:e");
	assert_non_null(r);
	assert_int_equal(r->type, BE_DICT);
	assert_int_equal(r->n, 4);
	assert_true(be_str_is(be_dict_get(r, "command"), "ping"));
	const struct be_node *l = be_dict_get(r, "list");
	assert_int_equal(l->type, BE_LIST);
	assert_int_equal(l->n, 3);
	assert_int_equal(l->first->i, 1);
	assert_int_equal(l->first->next->i, -42);
	assert_true(be_str_is(l->first->next->next, "abc"));
	assert_int_equal(be_dict_get(r, "empty")->n, 0);
	assert_int_equal(be_dict_get(r, "n")->n, 0);
	assert_null(be_dict_get(r, "nope"));
	/* keys in any order, as real peers send them */
	assert_non_null(dec("d1:bi2e1:ai1ee"));
	/* a string may hold anything, NULs included */
	static const char bin[] = "3:a\0b";
	const struct be_node *b = be_decode(&doc, bin, sizeof(bin) - 1);
	assert_non_null(b);
	assert_int_equal(b->n, 3);
	assert_int_equal(b->s[1], '\0');
	assert_non_null(dec("i9223372036854775e"));
}

static void malformed_values_are_refused_with_a_reason(void **state)
{
	(void)state;
	static const struct {
		const char *in, *why;
	} bad[] = {
		{"", "truncated"},
		{"d", "unterminated dictionary"},
		{"l", "unterminated list"},
		{"d7:command4:pinge", NULL}, /* valid: skipped here, checked below */
		{"d3:key", "truncated"},
		{"di1ei2ee", "dictionary key is not a string"},
		{"d1:ai1e1:ai2ee", "duplicate key"},
		{"5:abc", "string longer than the message"},
		{"9999999999999999999:x", "bad string length"},
		{"4294967296:x", "string longer than the message"},
		{"01:a", "bad string length"},
		{"ie", "bad integer"},
		{"i-0e", "bad integer"},
		{"i03e", "bad integer"},
		{"i12", "bad integer"},
		{"i99999999999999999999e", "bad integer"},
		{"x", "not a bencoded value"},
		{"i1ei2e", "data after the message"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (i == 3)
			continue; /* that one is valid: see below */
		const struct be_node *r = dec(bad[i].in);
		if (r || !doc.err || strcmp(doc.err, bad[i].why) != 0)
			fail_msg("\"%s\": got %s, expected \"%s\"", bad[i].in,
				 r ? "a value" : doc.err, bad[i].why);
	}
	assert_non_null(dec("d7:command4:pinge"));
}

static void nesting_and_size_are_bounded(void **state)
{
	(void)state;
	char deep[2 * (BE_MAX_DEPTH + 2) + 1];
	size_t n = 0;
	for (int i = 0; i < BE_MAX_DEPTH + 2; i++)
		deep[n++] = 'l';
	for (int i = 0; i < BE_MAX_DEPTH + 2; i++)
		deep[n++] = 'e';
	deep[n] = '\0';
	assert_null(dec(deep));
	assert_string_equal(doc.err, "nested too deep");
	/* more values than a message may hold */
	size_t cap = 3 * (BE_MAX_NODES + 10) + 3;
	char *many = malloc(cap);
	assert_non_null(many);
	n = 0;
	many[n++] = 'l';
	for (int i = 0; i < BE_MAX_NODES + 5; i++) {
		memcpy(many + n, "i0e", 3);
		n += 3;
	}
	many[n++] = 'e';
	assert_null(be_decode(&doc, many, n));
	assert_string_equal(doc.err, "too many values");
	/* too many keys in one dictionary */
	n = 0;
	many[n++] = 'd';
	for (int i = 0; i < BE_MAX_KEYS + 1 && n + 16 < cap; i++)
		n += (size_t)snprintf(many + n, cap - n, "4:k%03d0:", i);
	many[n++] = 'e';
	assert_null(be_decode(&doc, many, n));
	assert_string_equal(doc.err, "too many keys");
	free(many);
}

static void the_encoder_writes_what_the_decoder_reads(void **state)
{
	(void)state;
	struct be_buf b = {0};
	be_dict(&b);
	be_kv_str(&b, "result", "ok");
	be_kv_int(&b, "n", -7);
	be_cstr(&b, "l");
	be_list(&b);
	be_str(&b, "x\0y", 3);
	be_end(&b);
	be_end(&b);
	assert_false(b.oom);
	const struct be_node *r = be_decode(&doc, b.p, b.len);
	assert_non_null(r);
	assert_true(be_str_is(be_dict_get(r, "result"), "ok"));
	assert_int_equal(be_dict_get(r, "n")->i, -7);
	assert_int_equal(be_dict_get(r, "l")->first->n, 3);
	be_buf_free(&b);
}

/* ---- ng_handle ---- */

static struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = 0x1234};

static const struct be_node *ask(const char *req, struct be_buf *out, const char *cookie)
{
	ng_handle(req, strlen(req), &src, out);
	if (out->len == 0)
		return NULL;
	size_t cl = strlen(cookie);
	assert_true(out->len > cl + 1);
	assert_memory_equal(out->p, cookie, cl);
	assert_int_equal(out->p[cl], ' ');
	return be_decode(&doc, out->p + cl + 1, out->len - cl - 1);
}

static void ng_answers_ping_and_refuses_clearly(void **state)
{
	(void)state;
	struct be_buf out = {0};
	src.sin_addr.s_addr = htonl(0x7f000001);
	const struct be_node *r = ask("c1 d7:command4:pinge", &out, "c1");
	assert_true(be_str_is(be_dict_get(r, "result"), "pong"));
	uint64_t pings = ng_get_stats()->pings;

	/* the same request again: the same reply, the command not run twice */
	r = ask("c1 d7:command4:pinge", &out, "c1");
	assert_true(be_str_is(be_dict_get(r, "result"), "pong"));
	assert_int_equal(ng_get_stats()->pings, pings);
	assert_true(ng_get_stats()->resent >= 1);

	r = ask("c2 d7:command15:start recording7:call-id1:xe", &out, "c2");
	assert_true(be_str_is(be_dict_get(r, "result"), "error"));
	const struct be_node *why = be_dict_get(r, "error-reason");
	assert_non_null(why);
	assert_non_null(memmem(why->s, why->n, "not supported", 13));
	r = ask("c2b d7:command5:offer7:call-id1:xe", &out, "c2b"); /* no from-tag */
	assert_true(be_str_is(be_dict_get(r, "error-reason"), "offer needs call-id and from-tag"));

	r = ask("c3 d7:command5:dance", &out, "c3"); /* truncated */
	assert_true(be_str_is(be_dict_get(r, "result"), "error"));
	r = ask("c4 d7:command5:dancee", &out, "c4");
	why = be_dict_get(r, "error-reason");
	assert_non_null(memmem(why->s, why->n, "unknown command", 15));
	r = ask("c5 d4:call1:xe", &out, "c5");
	assert_true(be_str_is(be_dict_get(r, "error-reason"), "no command"));
	r = ask("c6 li1ee", &out, "c6");
	assert_true(be_str_is(be_dict_get(r, "result"), "error"));

	uint64_t bad = ng_get_stats()->bad;
	assert_null(ask("nocookie", &out, ""));
	assert_null(ask(" d7:command4:pinge", &out, ""));
	assert_int_equal(ng_get_stats()->bad, bad + 2);
	be_buf_free(&out);
	ng_shutdown(); /* frees the reply cache */
}

/* The SDP an NG offer or answer hands on: mgw's address in every c= line, mgw's port in the
 * audio m= line, other media refused, RTCP and ICE attributes gone, the rest as it was. */
static void sdp_is_rewritten_for_mgw(void **state)
{
	(void)state;
	static const char in[] = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
				 "t=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtcp:4001\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\na=ice-ufrag:x\r\n"
				 "a=candidate:1 1 UDP 1 10.0.0.1 4000 typ host\r\n"
				 "m=video 5000 RTP/AVP 96\r\nc=IN IP4 10.0.0.1\r\n";
	static const char want[] = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n"
				   "c=IN IP4 198.18.0.2\r\nt=0 0\r\nm=audio 10002 RTP/AVP 0 101\r\n"
				   "a=rtpmap:101 telephone-event/8000\r\nm=video 0 RTP/AVP 96\r\n"
				   "c=IN IP4 198.18.0.2\r\n";
	char out[1024];
	int n = ngcall_sdp_rewrite(in, sizeof(in) - 1, "198.18.0.2", 10002, NULL, out, sizeof(out));
	assert_int_equal(n, (int)strlen(want));
	assert_memory_equal(out, want, (size_t)n);
	/* LF-only input comes out CRLF; no audio is an error; no room is an error */
	static const char lf[] = "v=0\nc=IN IP4 1.2.3.4\nm=audio 9 RTP/AVP 8\n";
	n = ngcall_sdp_rewrite(lf, sizeof(lf) - 1, "5.6.7.8", 7000, NULL, out, sizeof(out));
	assert_int_equal(n, (int)strlen("v=0\r\nc=IN IP4 5.6.7.8\r\nm=audio 7000 RTP/AVP 8\r\n"));
	static const char novideo[] = "v=0\r\nm=video 9 RTP/AVP 96\r\n";
	assert_int_equal(ngcall_sdp_rewrite(novideo, sizeof(novideo) - 1, "1.1.1.1", 2, NULL, out,
					    sizeof(out)), -1);
	assert_int_equal(ngcall_sdp_rewrite(in, sizeof(in) - 1, "1.1.1.1", 2, NULL, out, 20), -1);
	static const char badm[] = "m=audio\r\n";
	assert_int_equal(ngcall_sdp_rewrite(badm, sizeof(badm) - 1, "1.1.1.1", 2, NULL, out,
					    sizeof(out)), -1);
}

/* What Kamailio's flags ask of the SDP: origin replaced, codecs stripped (their attributes
 * with them, telephone-event kept by "all"), the transport protocol, ptime; stripping every
 * audio codec is refused. */
static void sdp_options_are_applied(void **state)
{
	(void)state;
	static const char in[] = "v=0\r\no=- 7 7 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
				 "t=0 0\r\nm=audio 4000 RTP/AVP 0 8 96 101\r\na=rtpmap:96 opus/48000/2\r\n"
				 "a=fmtp:96 useinbandfec=1\r\na=rtpmap:101 telephone-event/8000\r\n"
				 "a=ptime:30\r\n";
	struct ngcall_sdp_opts o = {.replace_origin = true, .ptime = 20, .n_strip = 2};
	snprintf(o.strip[0], sizeof(o.strip[0]), "PCMA");
	snprintf(o.strip[1], sizeof(o.strip[1]), "opus");
	snprintf(o.proto, sizeof(o.proto), "RTP/AVPF");
	static const char want[] = "v=0\r\no=- 7 7 IN IP4 198.18.0.2\r\ns=-\r\nc=IN IP4 198.18.0.2\r\n"
				   "t=0 0\r\nm=audio 10004 RTP/AVPF 0 101\r\na=ptime:20\r\n"
				   "a=rtpmap:101 telephone-event/8000\r\n";
	char out[1024];
	int n = ngcall_sdp_rewrite(in, sizeof(in) - 1, "198.18.0.2", 10004, &o, out, sizeof(out));
	if (n != (int)strlen(want) || memcmp(out, want, (size_t)n) != 0)
		fail_msg("got:\n%.*s", n > 0 ? n : 0, out);
	struct ngcall_sdp_opts all = {.n_strip = 1};
	snprintf(all.strip[0], sizeof(all.strip[0]), "all");
	assert_int_equal(ngcall_sdp_rewrite(in, sizeof(in) - 1, "1.1.1.1", 2, &all, out,
					    sizeof(out)), -1);
}

/* Transcoding's edits: codec offer keeps exactly what it names; a codec added for
 * transcoding goes after the audio codecs (before telephone-event) with its a=rtpmap, or first
 * in an answer; a codec already there is not added twice; the codecs are listed in order. */
static void sdp_codecs_are_added_and_kept(void **state)
{
	(void)state;
	static const char in[] = "v=0\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
				 "m=audio 4000 RTP/AVP 101 9 0\r\na=rtpmap:101 telephone-event/8000\r\n"
				 "a=rtpmap:9 G722/8000\r\n";
	struct ngcall_codec cs[8];
	assert_int_equal(ngcall_sdp_codecs(in, sizeof(in) - 1, cs, 8), 3);
	assert_int_equal(cs[0].pt, 101);
	assert_string_equal(cs[0].name, "telephone-event");
	assert_string_equal(cs[1].name, "G722");
	assert_string_equal(cs[2].name, "PCMU");
	assert_int_equal(cs[1].clock, 8000);
	assert_int_equal(cs[2].clock, 8000); /* static, no rtpmap */
	static const char opus[] = "v=0\r\nm=audio 4000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n";
	assert_int_equal(ngcall_sdp_codecs(opus, sizeof(opus) - 1, cs, 8), 1);
	assert_string_equal(cs[0].name, "opus");
	assert_int_equal(cs[0].clock, 48000);
	assert_int_equal(ngcall_sdp_codecs("v=0\r\n", 5, cs, 8), -1);

	char out[1024];
	struct ngcall_sdp_opts o = {.n_keep = 1, .n_add = 1,
				    .add = {{.pt = 8, .name = "PCMA", .clock_rate = 8000}}};
	snprintf(o.keep[0], sizeof(o.keep[0]), "PCMA");
	static const char want[] = "v=0\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
				   "m=audio 6 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
				   "a=rtpmap:101 telephone-event/8000\r\n";
	int n = ngcall_sdp_rewrite(in, sizeof(in) - 1, "1.2.3.4", 6, &o, out, sizeof(out));
	if (n != (int)strlen(want) || memcmp(out, want, (size_t)n) != 0)
		fail_msg("got:\n%.*s", n > 0 ? n : 0, out);

	struct ngcall_sdp_opts first = {.n_add = 2,
					.add = {{.pt = 0, .name = "PCMU", .clock_rate = 8000},
						{.pt = 8, .name = "PCMA", .clock_rate = 8000}},
					.add_first = true};
	n = ngcall_sdp_rewrite(in, sizeof(in) - 1, "1.2.3.4", 6, &first, out, sizeof(out));
	assert_true(n > 0);
	out[n] = '\0';
	assert_non_null(strstr(out, "m=audio 6 RTP/AVP 8 9 0 101\r\na=rtpmap:8 PCMA/8000\r\n"));
	assert_null(strstr(out, "a=rtpmap:0 PCMU"));

	/* a dynamic codec added after the others, with its rtpmap and fmtp */
	struct ngcall_sdp_opts dyn = {.n_add = 2,
				      .add = {{.pt = 96, .name = "opus", .clock_rate = 48000},
					      {.pt = 18, .name = "G729", .clock_rate = 8000}}};
	n = ngcall_sdp_rewrite(in, sizeof(in) - 1, "1.2.3.4", 6, &dyn, out, sizeof(out));
	assert_true(n > 0);
	out[n] = '\0';
	assert_non_null(strstr(out, "m=audio 6 RTP/AVP 9 0 96 18 101\r\n"
				    "a=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\n"
				    "a=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values_decode_to_what_they_say),
		cmocka_unit_test(malformed_values_are_refused_with_a_reason),
		cmocka_unit_test(nesting_and_size_are_bounded),
		cmocka_unit_test(the_encoder_writes_what_the_decoder_reads),
		cmocka_unit_test(ng_answers_ping_and_refuses_clearly),
		cmocka_unit_test(sdp_is_rewritten_for_mgw),
		cmocka_unit_test(sdp_codecs_are_added_and_kept),
		cmocka_unit_test(sdp_options_are_applied),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
