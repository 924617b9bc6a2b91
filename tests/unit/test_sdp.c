/* Unit tests for SDP offer/answer (controlplane/sdp.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controlplane/sip/sdp.h"

static const char *const ours[] = { "PCMU", "PCMA", "telephone-event" };
#define N_OURS (sizeof(ours) / sizeof(ours[0]))

#define HDR "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"

static int parse(const char *text, struct sdp_stream *m)
{
	return sdp_parse(text, strlen(text), m);
}

static struct in_addr ip4(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* Parse and negotiate @offer, then write the answer into @buf. */
static void answer_for(const char *offer, char *buf, size_t len)
{
	struct sdp_stream m;
	struct sdp_nego n;

	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(sdp_negotiate(&m, ours, N_OURS, &n), SDP_OK);
	assert_true(sdp_write_answer(buf, len, &m, &n, ip4("198.51.100.7"), 30000, 42, 43) > 0);
}

static void offer_with_several_codecs_is_parsed_in_order(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=audio 4000 RTP/AVP 8 0 96 101\r\n"
			    "a=rtpmap:96 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n"
			    "a=ptime:30\r\n";
	struct sdp_stream m;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(m.port, 4000);
	assert_int_equal(m.addr.s_addr, ip4("192.0.2.1").s_addr);
	assert_int_equal(m.n_codecs, 4);
	assert_int_equal(m.codecs[0].pt, 8);
	assert_string_equal(m.codecs[0].name, "PCMA");
	assert_int_equal(m.codecs[0].clock_rate, 8000);
	assert_string_equal(m.codecs[1].name, "PCMU");
	assert_string_equal(m.codecs[2].name, "opus");
	assert_int_equal(m.codecs[2].clock_rate, 48000);
	assert_string_equal(m.codecs[3].name, "telephone-event");
	assert_int_equal(m.ptime, 30);
	assert_int_equal(m.dir, SDP_SENDRECV);
	assert_int_equal(m.n_media, 1);
	assert_int_equal(m.audio_index, 0);
}

static void offerer_codec_order_wins_over_ours(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=audio 4000 RTP/AVP 96 8 0\r\na=rtpmap:96 opus/48000/2\r\n";
	struct sdp_stream m;
	struct sdp_nego n;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(sdp_negotiate(&m, ours, N_OURS, &n), SDP_OK);
	assert_int_equal(n.codec.pt, 8);
	assert_string_equal(n.codec.name, "PCMA");
	assert_int_equal(n.te_pt, -1);
}

static void codec_names_match_case_insensitively(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 pcma/8000\r\n";
	struct sdp_stream m;
	struct sdp_nego n;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(sdp_negotiate(&m, ours, N_OURS, &n), SDP_OK);
	assert_int_equal(n.codec.pt, 97);
}

static void offer_without_common_codec_is_refused(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=audio 4000 RTP/AVP 18 96 101\r\na=rtpmap:96 opus/48000/2\r\n"
			    "a=rtpmap:101 telephone-event/8000\r\n";
	struct sdp_stream m;
	struct sdp_nego n;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(sdp_negotiate(&m, ours, N_OURS, &n), SDP_ERR_NO_CODEC);
}

static void dynamic_pt_without_rtpmap_is_not_a_codec(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96\r\n";
	struct sdp_stream m;
	struct sdp_nego n;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_string_equal(m.codecs[0].name, "");
	assert_int_equal(sdp_negotiate(&m, ours, N_OURS, &n), SDP_ERR_NO_CODEC);
}

static void telephone_event_keeps_the_offered_pt(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=audio 4000 RTP/AVP 0 96\r\na=rtpmap:96 telephone-event/8000\r\n"
			    "a=fmtp:96 0-15\r\n";
	char buf[1024];

	(void)state;
	answer_for(offer, buf, sizeof(buf));
	assert_non_null(strstr(buf, "m=audio 30000 RTP/AVP 0 96\r\n"));
	assert_non_null(strstr(buf, "a=rtpmap:96 telephone-event/8000\r\n"));
	assert_non_null(strstr(buf, "a=fmtp:96 0-16\r\n"));
}

static void telephone_event_absent_from_offer_is_absent_from_answer(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
	char buf[1024];

	(void)state;
	answer_for(offer, buf, sizeof(buf));
	assert_non_null(strstr(buf, "m=audio 30000 RTP/AVP 0\r\n"));
	assert_null(strstr(buf, "telephone-event"));
	assert_null(strstr(buf, "fmtp"));
}

static void telephone_event_at_other_clock_rate_is_ignored(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=audio 4000 RTP/AVP 0 100 101\r\n"
			    "a=rtpmap:100 telephone-event/16000\r\n"
			    "a=rtpmap:101 telephone-event/8000\r\n";
	struct sdp_stream m;
	struct sdp_nego n;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(sdp_negotiate(&m, ours, N_OURS, &n), SDP_OK);
	assert_int_equal(n.te_pt, 101);
}

static void telephone_event_is_not_negotiated_unless_we_support_it(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=audio 4000 RTP/AVP 101 0\r\na=rtpmap:101 telephone-event/8000\r\n";
	const char *const only_pcmu[] = { "PCMU" };
	struct sdp_stream m;
	struct sdp_nego n;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(sdp_negotiate(&m, only_pcmu, 1, &n), SDP_OK);
	assert_int_equal(n.codec.pt, 0);
	assert_int_equal(n.te_pt, -1);
}

static void missing_connection_line_is_refused(void **state)
{
	const char *offer = HDR "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
	struct sdp_stream m;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_ERR_NO_CONN);
}

static void ipv6_connection_is_refused(void **state)
{
	const char *offer = HDR "c=IN IP6 2001:db8::1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
	struct sdp_stream m;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_ERR_NO_CONN);
}

static void session_level_connection_applies_to_audio(void **state)
{
	const char *offer = HDR "c=IN IP4 203.0.113.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
	struct sdp_stream m;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(m.addr.s_addr, ip4("203.0.113.9").s_addr);
}

static void media_level_connection_wins(void **state)
{
	const char *offer = HDR "c=IN IP4 203.0.113.9\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
			    "c=IN IP4 203.0.113.10\r\n";
	struct sdp_stream m;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(m.addr.s_addr, ip4("203.0.113.10").s_addr);
}

static void hold_address_is_kept(void **state)
{
	const char *offer = HDR "c=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
	struct sdp_stream m;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(m.addr.s_addr, 0);
}

/* Number of m= lines in a written description. */
static unsigned count_mlines(const char *buf)
{
	unsigned n = strncmp(buf, "m=", 2) == 0;

	for (const char *p = buf; (p = strstr(p, "\r\nm=")) != NULL; p += 4)
		n++;
	return n;
}

static void video_before_audio_is_rejected_echoing_the_offer(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=video 5002 RTP/AVP 31 34\r\na=rtpmap:31 H261/90000\r\n"
			    "m=audio 4000 RTP/AVP 0\r\n";
	struct sdp_stream m;
	char buf[1024];

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(m.n_media, 2);
	assert_int_equal(m.audio_index, 1);
	assert_int_equal(m.port, 4000);
	assert_string_equal(m.mlines[0].media, "video");
	assert_string_equal(m.mlines[0].proto, "RTP/AVP");
	assert_string_equal(m.mlines[0].fmt, "31");
	answer_for(offer, buf, sizeof(buf));
	assert_non_null(strstr(buf, "t=0 0\r\nm=video 0 RTP/AVP 31\r\nm=audio 30000 RTP/AVP 0\r\n"));
	assert_int_equal(count_mlines(buf), 2);
}

static void second_audio_line_is_rejected_with_its_first_format(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=audio 4000 RTP/AVP 8 0\r\nm=audio 4002 RTP/AVP 18 0\r\n";
	char buf[1024];
	const char *tail = "a=sendrecv\r\nm=audio 0 RTP/AVP 18\r\n";

	(void)state;
	answer_for(offer, buf, sizeof(buf));
	assert_non_null(strstr(buf, "t=0 0\r\nm=audio 30000 RTP/AVP 8\r\n"));
	assert_true(strlen(buf) > strlen(tail));
	assert_string_equal(buf + strlen(buf) - strlen(tail), tail);
	assert_int_equal(count_mlines(buf), 2);
}

static void long_media_proto_and_format_are_truncated(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=applicationapplicationapplication 9 "
			    "UDP/TLS/RTP/SAVPF/with/a/very/long/profile/name "
			    "0123456789abcdefghijklmnopqrstuvwxyz 1\r\n"
			    "m=audioaudioaudioaudio 4000 RTP/AVP 0\r\n"
			    "m=audio 4002 RTP/AVPRTP/AVPRTP/AVPRTP/AVPRTP/AVP 0\r\n"
			    "m=audio 4004 RTP/AVP 8\r\n";
	struct sdp_stream m;
	char buf[2048];

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(m.n_media, 4);
	assert_string_equal(m.mlines[0].media, "applicationappl");
	assert_string_equal(m.mlines[0].proto, "UDP/TLS/RTP/SAVPF/with/a/very/l");
	assert_string_equal(m.mlines[0].fmt, "0123456789abcde");
	/* a truncated token must not pass for "audio" or "RTP/AVP" */
	assert_string_equal(m.mlines[1].media, "audioaudioaudio");
	assert_string_equal(m.mlines[2].proto, "RTP/AVPRTP/AVPRTP/AVPRTP/AVPRTP");
	assert_int_equal(m.audio_index, 3);
	assert_int_equal(m.port, 4004);
	answer_for(offer, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\r\nm=applicationappl 0 UDP/TLS/RTP/SAVPF/with/a/very/l "
				    "0123456789abcde\r\nm=audioaudioaudio 0 RTP/AVP 0\r\n"
				    "m=audio 0 RTP/AVPRTP/AVPRTP/AVPRTP/AVPRTP 0\r\n"
				    "m=audio 30000 RTP/AVP 8\r\n"));
	assert_int_equal(count_mlines(buf), 4);
}

/* @n video lines and then one audio line. */
static void offer_with_mlines(char *buf, size_t len, unsigned n)
{
	int pos = snprintf(buf, len, HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n");

	for (unsigned i = 0; i < n; i++)
		pos += snprintf(buf + pos, len - (size_t)pos, "m=video %u RTP/AVP 31\r\n",
				5000 + 2 * i);
	snprintf(buf + pos, len - (size_t)pos, "m=audio 4000 RTP/AVP 0\r\n");
}

static void more_than_max_media_lines_is_a_parse_error(void **state)
{
	char offer[1024], buf[2048];
	struct sdp_stream m;

	(void)state;
	offer_with_mlines(offer, sizeof(offer), SDP_MAX_MEDIA - 1);
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(m.n_media, SDP_MAX_MEDIA);
	assert_int_equal(m.audio_index, SDP_MAX_MEDIA - 1);
	answer_for(offer, buf, sizeof(buf));
	assert_int_equal(count_mlines(buf), SDP_MAX_MEDIA);
	offer_with_mlines(offer, sizeof(offer), SDP_MAX_MEDIA);
	assert_int_equal(parse(offer, &m), SDP_ERR_PARSE);
}

static void media_line_without_format_is_a_parse_error(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=video 5000 RTP/AVP\r\nm=audio 4000 RTP/AVP 0\r\n";
	struct sdp_stream m;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_ERR_PARSE);
}

static void answer_to_inconsistent_offer_fails(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
	struct sdp_stream m;
	struct sdp_nego n;
	char buf[1024];

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(sdp_negotiate(&m, ours, N_OURS, &n), SDP_OK);
	m.audio_index = 1;
	assert_int_equal(sdp_write_answer(buf, sizeof(buf), &m, &n, ip4("198.51.100.7"), 30000,
					  1, 1), -1);
	m.audio_index = 0;
	m.n_media = SDP_MAX_MEDIA + 1;
	assert_int_equal(sdp_write_answer(buf, sizeof(buf), &m, &n, ip4("198.51.100.7"), 30000,
					  1, 1), -1);
}

static void secure_audio_only_is_not_supported(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n";
	struct sdp_stream m;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_ERR_NO_AUDIO);
}

static void first_plain_rtp_audio_line_is_chosen(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=audio 4000 RTP/SAVP 0\r\nm=audio 4002 RTP/AVP 8\r\n"
			    "m=audio 4004 RTP/AVP 0\r\n";
	struct sdp_stream m;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(m.audio_index, 1);
	assert_int_equal(m.port, 4002);
	assert_int_equal(m.n_media, 3);
}

static void sendonly_offer_gets_recvonly_answer(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
			    "a=sendonly\r\n";
	char buf[1024];

	(void)state;
	answer_for(offer, buf, sizeof(buf));
	assert_non_null(strstr(buf, "a=recvonly\r\n"));
	assert_null(strstr(buf, "a=sendonly"));
}

static void media_level_direction_wins_over_session_level(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\na=inactive\r\n"
			    "m=audio 4000 RTP/AVP 0\r\na=recvonly\r\n";
	const char *session_only = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\na=inactive\r\n"
				   "m=audio 4000 RTP/AVP 0\r\n";
	struct sdp_stream m;
	struct sdp_nego n;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(m.dir, SDP_RECVONLY);
	assert_int_equal(sdp_negotiate(&m, ours, N_OURS, &n), SDP_OK);
	assert_int_equal(n.dir, SDP_SENDONLY);
	assert_int_equal(parse(session_only, &m), SDP_OK);
	assert_int_equal(m.dir, SDP_INACTIVE);
	assert_int_equal(sdp_negotiate(&m, ours, N_OURS, &n), SDP_OK);
	assert_int_equal(n.dir, SDP_INACTIVE);
}

static void garbage_is_a_parse_error(void **state)
{
	static const char *const bad[] = {
		"",
		"hello world",
		"v=0\r\n",
		"\x01\x02\xff\xfe\r\n\r\n",
		HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 99999 RTP/AVP 0\r\n",
		HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP x\r\n",
		HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 300\r\n",
		HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio -1 RTP/AVP 0\r\n",
	};
	struct sdp_stream m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], &m), SDP_ERR_PARSE);
	/* not NUL-terminated: only @len bytes may be read */
	assert_int_equal(sdp_parse("v=0\r\nzzzz", 3, &m), SDP_ERR_PARSE);
}

/* libosip2 5.3 reads past the end of an SDP text that ends in a bare CR (found by fuzzing;
 * the ASan build catches the read): such bodies are refused or parsed, never overread, and an
 * offer written with bare CRs or bare LFs parses like the same offer with CRLFs. */
static void bare_cr_line_ends_are_read_safely(void **state)
{
	static const char crash[] = "v=0\no=- 2 2 I 4 0\rt=0 0\rm=e 0 1\r";
	const char *crlf = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n";
	char cr[512], lf[512];
	struct sdp_stream a, b, c;

	(void)state;
	/* exactly its bytes, in a buffer of its own size: a read past it is an ASan error */
	char *heap = malloc(sizeof(crash) - 1);
	assert_non_null(heap);
	memcpy(heap, crash, sizeof(crash) - 1);
	(void)sdp_parse(heap, sizeof(crash) - 1, &a);
	free(heap);
	for (size_t cut = 1; cut < sizeof(crash); cut++)
		(void)sdp_parse(crash, cut, &a);

	size_t n = strlen(crlf), j = 0, k = 0;
	for (size_t i = 0; i < n; i++) {
		if (crlf[i] == '\n')
			continue;
		cr[j++] = crlf[i];
		lf[k++] = crlf[i] == '\r' ? '\n' : crlf[i];
	}
	cr[j] = lf[k] = '\0';
	assert_int_equal(parse(crlf, &a), SDP_OK);
	assert_int_equal(parse(cr, &b), SDP_OK);
	assert_int_equal(parse(lf, &c), SDP_OK);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_memory_equal(&a, &c, sizeof(a));
	/* a NUL inside the body is not SDP */
	assert_int_equal(sdp_parse("v=0\r\n\0o=- 1 1 IN IP4 1.2.3.4\r\n", 34, &a), SDP_ERR_PARSE);
}

static void malformed_attributes_do_not_break_parsing(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=audio 4000 RTP/AVP 0 96 97 98\r\n"
			    "a=rtpmap:96\r\na=rtpmap:97 averyveryveryverylongcodecname/8000\r\n"
			    "a=rtpmap:98 x/\r\na=rtpmap:0 /8000\r\na=rtpmap:999 foo/8000\r\n"
			    "a=ptime:abc\r\na=ptime\r\n";
	struct sdp_stream m;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(m.n_codecs, 4);
	assert_string_equal(m.codecs[0].name, "PCMU");
	assert_string_equal(m.codecs[1].name, "");
	assert_string_equal(m.codecs[2].name, "");
	assert_string_equal(m.codecs[3].name, "");
	assert_int_equal(m.ptime, 0);
}

static void too_many_payload_types_are_truncated(void **state)
{
	char offer[1024];
	int n = snprintf(offer, sizeof(offer),
			 HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP");
	struct sdp_stream m;

	(void)state;
	for (int pt = 60; pt < 60 + SDP_MAX_PT + 5; pt++)
		n += snprintf(offer + n, sizeof(offer) - (size_t)n, " %d", pt);
	snprintf(offer + n, sizeof(offer) - (size_t)n, " 0\r\n");
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(m.n_codecs, SDP_MAX_PT);
}

static void answer_contains_the_expected_lines(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\n"
			    "m=audio 4000 RTP/AVP 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
			    "a=ptime:20\r\n";
	const char *expect = "v=0\r\no=mgw 42 43 IN IP4 198.51.100.7\r\ns=mgw\r\n"
			     "c=IN IP4 198.51.100.7\r\nt=0 0\r\n"
			     "m=audio 30000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
			     "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
			     "a=ptime:20\r\na=sendrecv\r\n";
	char buf[1024];

	(void)state;
	answer_for(offer, buf, sizeof(buf));
	assert_string_equal(buf, expect);
}

static void answer_into_small_buffer_fails(void **state)
{
	const char *offer = HDR "c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
	struct sdp_stream m;
	struct sdp_nego n;
	char buf[1024];
	int len;

	(void)state;
	assert_int_equal(parse(offer, &m), SDP_OK);
	assert_int_equal(sdp_negotiate(&m, ours, N_OURS, &n), SDP_OK);
	len = sdp_write_answer(buf, sizeof(buf), &m, &n, ip4("198.51.100.7"), 30000, 1, 1);
	assert_true(len > 0);
	assert_int_equal((size_t)len, strlen(buf));
	assert_int_equal(sdp_write_answer(buf, (size_t)len, &m, &n, ip4("198.51.100.7"), 30000,
					  1, 1), -1);
	assert_int_equal(sdp_write_answer(buf, (size_t)len + 1, &m, &n, ip4("198.51.100.7"),
					  30000, 1, 1), len);
}

static void written_offer_parses_back(void **state)
{
	char buf[1024];
	struct sdp_stream m;
	int len;

	(void)state;
	len = sdp_write_offer(buf, sizeof(buf), ours, N_OURS, ip4("198.51.100.7"), 30002, 20, 7,
			      8);
	assert_true(len > 0);
	assert_non_null(strstr(buf, "m=audio 30002 RTP/AVP 0 8 101\r\n"));
	assert_non_null(strstr(buf, "a=fmtp:101 0-16\r\n"));
	assert_non_null(strstr(buf, "o=mgw 7 8 IN IP4 198.51.100.7\r\n"));
	assert_int_equal(sdp_parse(buf, (size_t)len, &m), SDP_OK);
	assert_int_equal(m.port, 30002);
	assert_int_equal(m.addr.s_addr, ip4("198.51.100.7").s_addr);
	assert_int_equal(m.n_codecs, 3);
	assert_string_equal(m.codecs[0].name, "PCMU");
	assert_string_equal(m.codecs[1].name, "PCMA");
	assert_string_equal(m.codecs[2].name, "telephone-event");
	assert_int_equal(m.codecs[2].pt, 101);
	assert_int_equal(m.ptime, 20);
	assert_int_equal(m.dir, SDP_SENDRECV);
}

static void offer_of_only_unknown_codecs_fails(void **state)
{
	const char *const unknown[] = { "iLBC" };
	char buf[1024];

	(void)state;
	assert_int_equal(sdp_write_offer(buf, sizeof(buf), unknown, 1, ip4("198.51.100.7"), 30002,
					 20, 1, 1), -1);
}

static void answer_with_offered_codec_is_taken(void **state)
{
	const char *answer = "v=0\r\no=bob 5 5 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\n"
			     "t=0 0\r\nm=audio 5004 RTP/AVP 8 101\r\n"
			     "a=rtpmap:101 telephone-event/8000\r\na=recvonly\r\n";
	struct sdp_stream m;
	struct sdp_nego n;

	(void)state;
	assert_int_equal(sdp_take_answer(answer, strlen(answer), ours, N_OURS, &m, &n), SDP_OK);
	assert_int_equal(m.port, 5004);
	assert_int_equal(n.codec.pt, 8);
	assert_int_equal(n.te_pt, 101);
	assert_int_equal(n.dir, SDP_SENDONLY);
}

static void answer_with_codec_we_did_not_offer_is_refused(void **state)
{
	const char *answer = "v=0\r\no=bob 5 5 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\n"
			     "t=0 0\r\nm=audio 5004 RTP/AVP 18\r\n";
	const char *rejected = "v=0\r\no=bob 5 5 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\n"
			       "t=0 0\r\nm=audio 0 RTP/AVP 0\r\n";
	const char *const pcmu_only[] = { "PCMU", "telephone-event" };
	struct sdp_stream m;
	struct sdp_nego n;

	(void)state;
	assert_int_equal(sdp_take_answer(answer, strlen(answer), pcmu_only, 2, &m, &n),
			 SDP_ERR_NO_CODEC);
	assert_int_equal(sdp_take_answer(rejected, strlen(rejected), pcmu_only, 2, &m, &n),
			 SDP_ERR_NO_CODEC);
	assert_int_equal(sdp_take_answer("junk", 4, pcmu_only, 2, &m, &n), SDP_ERR_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(offer_with_several_codecs_is_parsed_in_order),
		cmocka_unit_test(offerer_codec_order_wins_over_ours),
		cmocka_unit_test(codec_names_match_case_insensitively),
		cmocka_unit_test(offer_without_common_codec_is_refused),
		cmocka_unit_test(dynamic_pt_without_rtpmap_is_not_a_codec),
		cmocka_unit_test(telephone_event_keeps_the_offered_pt),
		cmocka_unit_test(telephone_event_absent_from_offer_is_absent_from_answer),
		cmocka_unit_test(telephone_event_at_other_clock_rate_is_ignored),
		cmocka_unit_test(telephone_event_is_not_negotiated_unless_we_support_it),
		cmocka_unit_test(missing_connection_line_is_refused),
		cmocka_unit_test(ipv6_connection_is_refused),
		cmocka_unit_test(session_level_connection_applies_to_audio),
		cmocka_unit_test(media_level_connection_wins),
		cmocka_unit_test(hold_address_is_kept),
		cmocka_unit_test(video_before_audio_is_rejected_echoing_the_offer),
		cmocka_unit_test(second_audio_line_is_rejected_with_its_first_format),
		cmocka_unit_test(long_media_proto_and_format_are_truncated),
		cmocka_unit_test(more_than_max_media_lines_is_a_parse_error),
		cmocka_unit_test(media_line_without_format_is_a_parse_error),
		cmocka_unit_test(answer_to_inconsistent_offer_fails),
		cmocka_unit_test(secure_audio_only_is_not_supported),
		cmocka_unit_test(first_plain_rtp_audio_line_is_chosen),
		cmocka_unit_test(sendonly_offer_gets_recvonly_answer),
		cmocka_unit_test(media_level_direction_wins_over_session_level),
		cmocka_unit_test(garbage_is_a_parse_error),
		cmocka_unit_test(malformed_attributes_do_not_break_parsing),
		cmocka_unit_test(too_many_payload_types_are_truncated),
		cmocka_unit_test(answer_contains_the_expected_lines),
		cmocka_unit_test(answer_into_small_buffer_fails),
		cmocka_unit_test(written_offer_parses_back),
		cmocka_unit_test(bare_cr_line_ends_are_read_safely),
		cmocka_unit_test(offer_of_only_unknown_codecs_fails),
		cmocka_unit_test(answer_with_offered_codec_is_taken),
		cmocka_unit_test(answer_with_codec_we_did_not_offer_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
