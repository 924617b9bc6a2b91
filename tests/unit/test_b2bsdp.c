/* Unit tests for SDP across the two legs of a B2BUA call (controlplane/b2bsdp.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "controlplane/apps/b2bsdp.h"

#define HDR "v=0\r\no=peer 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
#define TE101 "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
#define TE96 "a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\n"

static void parse(const char *text, struct sdp_stream *s)
{
	assert_int_equal(sdp_parse(text, strlen(text), s), SDP_OK);
}

static struct in_addr ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* media.codecs for the tests that set it (the default: none beyond A's and the other law). */
static const char *pref[4];
static unsigned n_pref;

/* The names b2bsdp_offer_codecs() gives for @offer, joined by spaces into @buf. */
static unsigned offered(const char *offer, char *buf, size_t len)
{
	struct sdp_stream a;
	const char *names[B2BSDP_MAX_CODECS];
	unsigned n;

	parse(offer, &a);
	n = b2bsdp_offer_codecs(&a, false, pref, n_pref, names, B2BSDP_MAX_CODECS);
	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		size_t used = strlen(buf);
		snprintf(buf + used, len - used, "%s%s", i ? " " : "", names[i]);
	}
	return n;
}

static void offer_keeps_both_laws_in_a_order(void **state)
{
	char got[128];

	(void)state;
	assert_int_equal(offered(HDR "m=audio 4000 RTP/AVP 8 0\r\n", got, sizeof(got)), 2);
	assert_string_equal(got, "PCMA PCMU");
	assert_int_equal(offered(HDR "m=audio 4000 RTP/AVP 0 8\r\n", got, sizeof(got)), 2);
	assert_string_equal(got, "PCMU PCMA");
}

static void offer_adds_other_law_when_a_has_only_one(void **state)
{
	char got[128];

	(void)state;
	assert_int_equal(offered(HDR "m=audio 4000 RTP/AVP 0\r\n", got, sizeof(got)), 2);
	assert_string_equal(got, "PCMU PCMA");
	assert_int_equal(offered(HDR "m=audio 4000 RTP/AVP 8\r\n", got, sizeof(got)), 2);
	assert_string_equal(got, "PCMA PCMU");
}

static void offer_puts_telephone_event_last_when_a_has_it(void **state)
{
	char got[128];

	(void)state;
	assert_int_equal(offered(HDR "m=audio 4000 RTP/AVP 101 8\r\n" TE101, got, sizeof(got)), 3);
	assert_string_equal(got, "PCMA PCMU telephone-event");
	/* without it in A's offer, none is offered to B */
	assert_int_equal(offered(HDR "m=audio 4000 RTP/AVP 8 0\r\n", got, sizeof(got)), 2);
	assert_false(strstr(got, "telephone-event"));
}

static void offer_is_empty_when_a_has_no_known_codec(void **state)
{
	char got[128];

	(void)state;
	assert_int_equal(offered(HDR "m=audio 4000 RTP/AVP 96 101\r\n"
				     "a=rtpmap:96 iLBC/8000\r\n" TE101,
				 got, sizeof(got)),
			 0);
	assert_int_equal(offered(HDR "m=audio 4000 RTP/AVP 3\r\n", got, sizeof(got)), 0);
}

/* Wideband and compressed codecs are offered on as A has them; media.codecs adds what mgw
 * transcodes to, in its order, after A's own. */
static void offer_adds_media_codecs_after_a_own(void **state)
{
	char got[128];

	(void)state;
	assert_int_equal(offered(HDR "m=audio 4000 RTP/AVP 9 18\r\n", got, sizeof(got)), 2);
	assert_string_equal(got, "G722 G729");
	pref[0] = "opus";
	pref[1] = "PCMA";
	pref[2] = "G722";
	pref[3] = "telephone-event";
	n_pref = 4;
	assert_int_equal(offered(HDR "m=audio 4000 RTP/AVP 9 18\r\n", got, sizeof(got)), 4);
	assert_string_equal(got, "G722 G729 opus PCMA");
	assert_int_equal(offered(HDR "m=audio 4000 RTP/AVP 0\r\n", got, sizeof(got)), 4);
	assert_string_equal(got, "PCMU PCMA opus G722");
	n_pref = 0;
}

static void offer_drops_unsupported_and_duplicate_codecs(void **state)
{
	char got[128];

	(void)state;
	/* PCMU twice under two payload types, opus and G.722 in between */
	assert_int_equal(offered(HDR "m=audio 4000 RTP/AVP 96 0 9 97\r\n"
				     "a=rtpmap:96 opus/48000/2\r\na=rtpmap:97 PCMU/8000\r\n",
				 got, sizeof(got)),
			 4);
	assert_string_equal(got, "opus PCMU G722 PCMA");
}

static void offer_matches_names_case_insensitively(void **state)
{
	char got[128];

	(void)state;
	assert_int_equal(offered(HDR "m=audio 4000 RTP/AVP 97 98 101\r\n"
				     "a=rtpmap:97 pcma/8000\r\na=rtpmap:98 Pcmu/8000\r\n"
				     "a=rtpmap:101 TELEPHONE-EVENT/8000\r\n",
				 got, sizeof(got)),
			 3);
	assert_string_equal(got, "PCMA PCMU telephone-event");
}

static void offer_respects_max(void **state)
{
	struct sdp_stream a;
	const char *names[1];

	(void)state;
	parse(HDR "m=audio 4000 RTP/AVP 0 8 101\r\n" TE101, &a);
	assert_int_equal(b2bsdp_offer_codecs(&a, false, NULL, 0, names, 1), 1);
	assert_string_equal(names[0], "PCMU");
}

static void plan_keeps_codec_when_a_offered_b_choice(void **state)
{
	struct sdp_stream a, b;
	struct b2bsdp_plan p;

	(void)state;
	parse(HDR "m=audio 4000 RTP/AVP 0 8\r\n", &a);
	parse(HDR "m=audio 5000 RTP/AVP 8\r\n", &b);
	assert_int_equal(b2bsdp_plan(&a, &b, pref, n_pref, &p), SDP_OK);
	assert_false(p.transcode);
	assert_string_equal(p.codec[0].name, "PCMA");
	assert_int_equal(p.codec[0].pt, 8);
	assert_string_equal(p.codec[1].name, "PCMA");
	assert_int_equal(p.codec[1].pt, 8);
	assert_int_equal(p.te_pt[0], -1);
	assert_int_equal(p.te_pt[1], -1);
}

static void plan_transcodes_pcmu_caller_to_pcma_callee(void **state)
{
	struct sdp_stream a, b;
	struct b2bsdp_plan p;

	(void)state;
	parse(HDR "m=audio 4000 RTP/AVP 0\r\n", &a);
	parse(HDR "m=audio 5000 RTP/AVP 8\r\n", &b);
	assert_int_equal(b2bsdp_plan(&a, &b, pref, n_pref, &p), SDP_OK);
	assert_true(p.transcode);
	assert_string_equal(p.codec[0].name, "PCMU");
	assert_int_equal(p.codec[0].pt, 0);
	assert_int_equal(p.codec[0].clock_rate, 8000);
	assert_string_equal(p.codec[1].name, "PCMA");
	assert_int_equal(p.codec[1].pt, 8);
}

static void plan_keeps_each_leg_telephone_event_pt(void **state)
{
	struct sdp_stream a, b;
	struct b2bsdp_plan p;

	(void)state;
	parse(HDR "m=audio 4000 RTP/AVP 0 101\r\n" TE101, &a);
	parse(HDR "m=audio 5000 RTP/AVP 0 96\r\n" TE96, &b);
	assert_int_equal(b2bsdp_plan(&a, &b, pref, n_pref, &p), SDP_OK);
	assert_int_equal(p.te_pt[0], 101);
	assert_int_equal(p.te_pt[1], 96);
}

static void plan_keeps_each_telephone_event_whatever_the_other_leg_took(void **state)
{
	struct sdp_stream a, b;
	struct b2bsdp_plan p;

	(void)state;
	/* A's digits are taken by mgw (and go to B as SIP INFO) */
	parse(HDR "m=audio 4000 RTP/AVP 0 101\r\n" TE101, &a);
	parse(HDR "m=audio 5000 RTP/AVP 0\r\n", &b);
	assert_int_equal(b2bsdp_plan(&a, &b, pref, n_pref, &p), SDP_OK);
	assert_int_equal(p.te_pt[0], 101);
	assert_int_equal(p.te_pt[1], -1);

	/* B's kept when A has none: A's SIP INFO digits reach B as RFC 4733 */
	parse(HDR "m=audio 4000 RTP/AVP 0\r\n", &a);
	parse(HDR "m=audio 5000 RTP/AVP 0 96\r\n" TE96, &b);
	assert_int_equal(b2bsdp_plan(&a, &b, pref, n_pref, &p), SDP_OK);
	assert_int_equal(p.te_pt[0], -1);
	assert_int_equal(p.te_pt[1], 96);
}

static void offer_adds_telephone_event_when_mgw_interworks(void **state)
{
	struct sdp_stream a;
	const char *names[B2BSDP_MAX_CODECS];

	(void)state;
	parse(HDR "m=audio 4000 RTP/AVP 8\r\n", &a);
	assert_int_equal(b2bsdp_offer_codecs(&a, true, NULL, 0, names, B2BSDP_MAX_CODECS), 3);
	assert_string_equal(names[2], "telephone-event");
	assert_int_equal(b2bsdp_offer_codecs(&a, false, NULL, 0, names, B2BSDP_MAX_CODECS), 2);
	/* no room: the codecs first */
	assert_int_equal(b2bsdp_offer_codecs(&a, true, NULL, 0, names, 2), 2);
	assert_string_equal(names[1], "PCMU");
}

/* No codec in common and not the two laws: transcoded, A's codec chosen in media.codecs
 * order among those A offered. */
static void plan_transcodes_any_pair_in_media_codecs_order(void **state)
{
	struct sdp_stream a, b;
	struct b2bsdp_plan p;

	(void)state;
	parse(HDR "m=audio 4000 RTP/AVP 0 18 101\r\n" TE101, &a);
	parse(HDR "m=audio 5000 RTP/AVP 9\r\n", &b);
	assert_int_equal(b2bsdp_plan(&a, &b, pref, n_pref, &p), SDP_OK);
	assert_true(p.transcode);
	assert_false(b2bsdp_byte_map(&p));
	assert_string_equal(p.codec[0].name, "PCMU"); /* A's first, with no media.codecs */
	assert_string_equal(p.codec[1].name, "G722");
	assert_int_equal(p.te_pt[0], 101);
	pref[0] = "G729";
	n_pref = 1;
	assert_int_equal(b2bsdp_plan(&a, &b, pref, n_pref, &p), SDP_OK);
	assert_string_equal(p.codec[0].name, "G729");
	n_pref = 0;
	/* Opus answered: its leg keeps no telephone-event of 8 kHz (the digits go as SIP INFO) */
	parse(HDR "m=audio 5000 RTP/AVP 96 101\r\na=rtpmap:96 opus/48000/2\r\n" TE101, &b);
	assert_int_equal(b2bsdp_plan(&a, &b, pref, n_pref, &p), SDP_OK);
	assert_string_equal(p.codec[1].name, "opus");
	assert_int_equal(p.codec[1].pt, 96);
	assert_int_equal(p.te_pt[1], -1);
	/* the two laws stay the byte map */
	parse(HDR "m=audio 4000 RTP/AVP 9 8\r\n", &a);
	parse(HDR "m=audio 5000 RTP/AVP 0\r\n", &b);
	assert_int_equal(b2bsdp_plan(&a, &b, pref, n_pref, &p), SDP_OK);
	assert_string_equal(p.codec[0].name, "PCMA");
	assert_true(b2bsdp_byte_map(&p));
}

static void plan_fails_when_a_side_has_no_known_codec(void **state)
{
	struct sdp_stream a, b;
	struct b2bsdp_plan p;

	(void)state;
	parse(HDR "m=audio 4000 RTP/AVP 3\r\n", &a);
	parse(HDR "m=audio 5000 RTP/AVP 0\r\n", &b);
	assert_int_equal(b2bsdp_plan(&a, &b, pref, n_pref, &p), SDP_ERR_NO_CODEC);
	parse(HDR "m=audio 4000 RTP/AVP 0\r\n", &a);
	parse(HDR "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 iLBC/8000\r\n", &b);
	assert_int_equal(b2bsdp_plan(&a, &b, pref, n_pref, &p), SDP_ERR_NO_CODEC);
}

static uint8_t dir_of(const char *sdp)
{
	struct sdp_stream s;

	parse(sdp, &s);
	return b2bsdp_stream_dir(&s);
}

static void stream_dir_follows_leg_direction_attribute(void **state)
{
	(void)state;
	assert_int_equal(dir_of(HDR "m=audio 4000 RTP/AVP 0\r\n"),
			 STREAM_DIR_RECV | STREAM_DIR_SEND);
	assert_int_equal(dir_of(HDR "m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n"),
			 STREAM_DIR_RECV | STREAM_DIR_SEND);
	assert_int_equal(dir_of(HDR "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n"), STREAM_DIR_RECV);
	assert_int_equal(dir_of(HDR "m=audio 4000 RTP/AVP 0\r\na=recvonly\r\n"), STREAM_DIR_SEND);
	assert_int_equal(dir_of(HDR "m=audio 4000 RTP/AVP 0\r\na=inactive\r\n"), 0);
}

static void stream_dir_never_sends_to_null_address(void **state)
{
	const char *held = "v=0\r\no=peer 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\n"
			   "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
	const char *held_recvonly = "v=0\r\no=peer 1 2 IN IP4 192.0.2.1\r\ns=-\r\n"
				    "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
				    "a=recvonly\r\n";

	(void)state;
	assert_int_equal(dir_of(held), STREAM_DIR_RECV);
	assert_int_equal(dir_of(held_recvonly), 0);
}

static void write_offer_gives_exact_text_with_telephone_event(void **state)
{
	const struct sdp_codec pcma = { .pt = 8, .name = "PCMA", .clock_rate = 8000 };
	const char *want = "v=0\r\no=mgw 7 9 IN IP4 198.18.0.2\r\ns=mgw\r\nc=IN IP4 198.18.0.2\r\n"
			   "t=0 0\r\nm=audio 20000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
			   "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
			   "a=ptime:20\r\na=sendonly\r\n";
	char buf[512];
	int n;

	(void)state;
	n = b2bsdp_write_offer(buf, sizeof(buf), &pcma, 101, ip4("198.18.0.2"), 20000, 20, 7, 9,
			       SDP_SENDONLY);
	assert_int_equal(n, (int)strlen(want));
	assert_string_equal(buf, want);
}

static void write_offer_without_telephone_event(void **state)
{
	const struct sdp_codec pcmu = { .pt = 0, .name = "PCMU", .clock_rate = 8000 };
	const char *want = "v=0\r\no=mgw 1 2 IN IP4 198.18.0.2\r\ns=mgw\r\nc=IN IP4 198.18.0.2\r\n"
			   "t=0 0\r\nm=audio 20002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
			   "a=ptime:20\r\na=sendrecv\r\n";
	char buf[512];

	(void)state;
	assert_int_equal(b2bsdp_write_offer(buf, sizeof(buf), &pcmu, -1, ip4("198.18.0.2"),
					    20002, 20, 1, 2, SDP_SENDRECV),
			 (int)strlen(want));
	assert_string_equal(buf, want);
	assert_null(strstr(buf, "telephone-event"));
}

static void write_offer_direction_attribute_and_parses_back(void **state)
{
	const struct sdp_codec pcmu = { .pt = 0, .name = "PCMU", .clock_rate = 8000 };
	static const struct {
		enum sdp_dir dir;
		const char *attr;
	} cases[] = {
		{ SDP_SENDRECV, "a=sendrecv\r\n" },
		{ SDP_SENDONLY, "a=sendonly\r\n" },
		{ SDP_RECVONLY, "a=recvonly\r\n" },
		{ SDP_INACTIVE, "a=inactive\r\n" },
	};
	char buf[512];
	struct sdp_stream s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = b2bsdp_write_offer(buf, sizeof(buf), &pcmu, 101, ip4("198.18.0.2"), 20000,
					   20, 1, 1, cases[i].dir);
		assert_true(n > 0);
		assert_non_null(strstr(buf, cases[i].attr));
		assert_int_equal(sdp_parse(buf, (size_t)n, &s), SDP_OK);
		assert_int_equal(s.dir, cases[i].dir);
		assert_int_equal(s.n_codecs, 2);
		assert_int_equal(s.codecs[1].pt, 101);
	}
}

static void write_offer_fails_when_buffer_too_small(void **state)
{
	const struct sdp_codec pcmu = { .pt = 0, .name = "PCMU", .clock_rate = 8000 };
	char buf[64];

	(void)state;
	assert_int_equal(b2bsdp_write_offer(buf, sizeof(buf), &pcmu, 101, ip4("198.18.0.2"), 20000,
					    20, 1, 1, SDP_SENDRECV),
			 -1);
}

/* A's offer in, B's offer out: mgw's own address and port, A's codecs (Opus under mgw's own
 * number, with its rtpmap channels and FEC) plus the other law and telephone-event, nothing
 * of A's address or unsupported codecs. */
static void b_offer_carries_mgw_address_and_a_codecs(void **state)
{
	const char *a_offer = "v=0\r\no=alice 5 5 IN IP4 203.0.113.9\r\ns=-\r\n"
			      "c=IN IP4 203.0.113.9\r\nt=0 0\r\n"
			      "m=audio 49170 RTP/AVP 96 97 0 101\r\na=rtpmap:96 opus/48000/2\r\n"
			      "a=rtpmap:97 iLBC/8000\r\n"
			      "a=rtpmap:0 PCMU/8000\r\n" TE101 "a=ptime:20\r\n";
	struct sdp_stream a, b;
	const char *names[B2BSDP_MAX_CODECS];
	char buf[1024];
	unsigned n;
	int len;

	(void)state;
	parse(a_offer, &a);
	n = b2bsdp_offer_codecs(&a, false, NULL, 0, names, B2BSDP_MAX_CODECS);
	assert_int_equal(n, 4);
	len = sdp_write_offer_dir(buf, sizeof(buf), names, n, ip4("198.18.0.2"), 20004, 20, 11, 11,
				  SDP_SENDRECV);
	assert_true(len > 0);
	assert_null(strstr(buf, "203.0.113.9"));
	assert_null(strstr(buf, "iLBC"));
	assert_non_null(strstr(buf, "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1\r\n"));

	assert_int_equal(sdp_parse(buf, (size_t)len, &b), SDP_OK);
	assert_int_equal(b.addr.s_addr, ip4("198.18.0.2").s_addr);
	assert_int_equal(b.port, 20004);
	assert_int_equal(b.dir, SDP_SENDRECV);
	assert_int_equal(b.n_codecs, 4);
	assert_string_equal(b.codecs[0].name, "opus");
	assert_int_equal(b.codecs[0].pt, 111);
	assert_int_equal(b.codecs[0].clock_rate, 48000);
	assert_string_equal(b.codecs[1].name, "PCMU");
	assert_int_equal(b.codecs[1].pt, 0);
	assert_string_equal(b.codecs[2].name, "PCMA");
	assert_int_equal(b.codecs[2].pt, 8);
	assert_string_equal(b.codecs[3].name, "telephone-event");
	assert_int_equal(b.codecs[3].clock_rate, 8000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(offer_keeps_both_laws_in_a_order),
		cmocka_unit_test(offer_adds_other_law_when_a_has_only_one),
		cmocka_unit_test(offer_puts_telephone_event_last_when_a_has_it),
		cmocka_unit_test(offer_is_empty_when_a_has_no_known_codec),
		cmocka_unit_test(offer_adds_media_codecs_after_a_own),
		cmocka_unit_test(offer_drops_unsupported_and_duplicate_codecs),
		cmocka_unit_test(offer_matches_names_case_insensitively),
		cmocka_unit_test(offer_respects_max),
		cmocka_unit_test(plan_keeps_codec_when_a_offered_b_choice),
		cmocka_unit_test(plan_transcodes_pcmu_caller_to_pcma_callee),
		cmocka_unit_test(plan_keeps_each_leg_telephone_event_pt),
		cmocka_unit_test(plan_keeps_each_telephone_event_whatever_the_other_leg_took),
		cmocka_unit_test(offer_adds_telephone_event_when_mgw_interworks),
		cmocka_unit_test(plan_transcodes_any_pair_in_media_codecs_order),
		cmocka_unit_test(plan_fails_when_a_side_has_no_known_codec),
		cmocka_unit_test(stream_dir_follows_leg_direction_attribute),
		cmocka_unit_test(stream_dir_never_sends_to_null_address),
		cmocka_unit_test(write_offer_gives_exact_text_with_telephone_event),
		cmocka_unit_test(write_offer_without_telephone_event),
		cmocka_unit_test(write_offer_direction_attribute_and_parses_back),
		cmocka_unit_test(write_offer_fails_when_buffer_too_small),
		cmocka_unit_test(b_offer_carries_mgw_address_and_a_codecs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
