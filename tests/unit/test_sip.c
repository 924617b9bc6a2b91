/* Unit tests for the SIP user agent server (controlplane/sip.c + call.c + media.c).
 *
 * Each test brings up the real stack (media pool and session table, call layer, osip on a SIP
 * socket bound to a free loopback port) and plays the UAC: requests go in through sip_input()
 * with the test's own UDP socket as source, so the responses mgw sends arrive on that socket.
 * The receive loop runs call_timers() and sip_run() so that retransmissions and timeouts
 * happen as they do in mgwd's control loop. T1 is 20 ms to keep timer tests short. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "controlplane/apps/call.h"
#include "controlplane/apps/router.h"
#include "controlplane/apps/routes.h"
#include "controlplane/dialog/dialog.h"
#include "controlplane/config.h"
#include "controlplane/media/media.h"
#include "controlplane/sip/sip.h"
#include "tests/unit/sip_stack.h"
#include "util/log.h"
#include "util/time.h"

#define T1_MS 20
#define PORT_MIN 30000
#define PORT_MAX 30010 /* six even ports */
#define WAIT_MS 1500   /* for a message we expect */
#define QUIET_MS 150   /* to conclude that nothing comes */
#define MSG_MAX 8192

static struct config cfg;
static int peer_fd = -1;
static struct sockaddr_in peer;
static unsigned serial;

#define SDP_HEAD                                                                             \
	"v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"

static const char offer_pcmu_pcma_te[] =
	SDP_HEAD "m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\n"
	"a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";
static const char answer_pcmu_te[] = SDP_HEAD "m=audio 40002 RTP/AVP 0 101\r\n"
				     "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
static const char offer_g729[] = SDP_HEAD "m=audio 40000 RTP/AVP 18\r\n"
				 "a=rtpmap:18 G729/8000\r\n";

/* ---- the stack under test ---- */

/* limits { } for the next stack_up (the tests of admission control set them) */
static unsigned limit_max_cps, limit_max_txns, limit_source_rps;

static int stack_up(unsigned answer_delay_ms)
{
	char err[256];

	config_defaults(&cfg);
	cfg.limits_max_cps = limit_max_cps;
	cfg.limits_source_rps = limit_source_rps;
	if (limit_max_txns)
		cfg.limits_max_transactions = limit_max_txns;
	cfg.media_port_min = PORT_MIN;
	cfg.media_port_max = PORT_MAX;
	cfg.sip_t1_ms = T1_MS;
	cfg.sip_answer_delay_ms = answer_delay_ms;
	struct dlg_config dc = {.t1_ms = cfg.sip_t1_ms, .ack_timeout_ms = 64 * cfg.sip_t1_ms,
				.max_dialogs = 64};
	if (media_init(&cfg, err, sizeof(err)) != 0 || dlg_init(&dc) != 0 ||
	    router_init(&cfg, err, sizeof(err)) != 0)
		return -1;
	if (stack_sip_init(&cfg, err, sizeof(err)) != 0)
		return -1;
	peer_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(peer);
	if (peer_fd < 0 || bind(peer_fd, (struct sockaddr *)&peer, sizeof(peer)) != 0 ||
	    getsockname(peer_fd, (struct sockaddr *)&peer, &sl) != 0)
		return -1;
	return 0;
}

/* The initial state is the echo app's answer delay in ms. */
static int setup(void **state)
{
	return stack_up((unsigned)(uintptr_t)*state);
}

static int setup_limits(void **state)
{
	const unsigned *l = *state;
	limit_max_cps = l[0];
	limit_max_txns = l[1];
	limit_source_rps = l[2];
	int rc = stack_up(0);
	limit_max_cps = limit_max_txns = limit_source_rps = 0;
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	stack_down();
	if (peer_fd >= 0)
		close(peer_fd);
	peer_fd = -1;
	return 0;
}

/* What mgwd's control loop does between two waits. */
static void pump(void)
{
	timer_run();
	sip_run();
	media_poll();
	rcu_quiescent_state();
}

/* From an exactly sized heap copy, so that ASan sees any read past the end. */
static void inject_n(const char *msg, size_t len)
{
	char *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, msg, len);
	sip_input(copy, len, &peer);
	free(copy);
	pump();
}

static void inject(const char *msg)
{
	inject_n(msg, strlen(msg));
}

/* Next datagram to the peer within @timeout_ms (NUL-terminated in @buf), or -1. */
static int wait_msg(char *buf, int timeout_ms)
{
	uint64_t end = time_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		ssize_t n = recv(peer_fd, buf, MSG_MAX - 1, MSG_DONTWAIT);
		if (n >= 0) {
			buf[n] = '\0';
			return (int)n;
		}
		uint64_t now = time_now_ms();
		if (now >= end)
			return -1;
		pump();
		struct pollfd p = {.fd = peer_fd, .events = POLLIN};
		poll(&p, 1, end - now < 5 ? (int)(end - now) : 5);
	}
}

/* Datagrams already queued to the peer, discarded. */
static void drain(void)
{
	char buf[MSG_MAX];

	while (recv(peer_fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

static int status_of(const char *msg)
{
	int code;

	return sscanf(msg, "SIP/2.0 %d", &code) == 1 ? code : -1;
}

/* Value of header @name (full name, first occurrence) into @out; false when absent. */
static bool header(const char *msg, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);
	const char *p = strstr(msg, "\r\n");

	while (p && p[2] != '\r' && p[2] != '\0') {
		p += 2;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			const char *e = strstr(v, "\r\n");
			snprintf(out, cap, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
			return true;
		}
		p = strstr(p, "\r\n");
	}
	return false;
}

static bool to_tag(const char *msg, char *out, size_t cap)
{
	char to[512];

	if (!header(msg, "To", to, sizeof(to)))
		return false;
	const char *t = strstr(to, ";tag=");
	if (!t)
		return false;
	t += 5;
	snprintf(out, cap, "%.*s", (int)strcspn(t, ";> "), t);
	return out[0] != '\0';
}

static const char *body_of(const char *msg)
{
	const char *b = strstr(msg, "\r\n\r\n");
	return b ? b + 4 : "";
}

static void expect(int code, char *buf)
{
	if (wait_msg(buf, WAIT_MS) < 0)
		fail_msg("no response, expected %d", code);
	if (status_of(buf) != code)
		fail_msg("expected %d, got:\n%s", code, buf);
}

static void expect_nothing(int ms)
{
	char buf[MSG_MAX];

	if (wait_msg(buf, ms) >= 0)
		fail_msg("unexpected message:\n%s", buf);
}

/* ---- the UAC side ---- */

struct uac {
	char call_id[48];
	char from_tag[24];
	char to_tag[64];  /* learnt from the responses */
	char branch[48];  /* the INVITE's */
	unsigned cseq;    /* the INVITE's */
};

static void new_branch(char *out, size_t cap)
{
	snprintf(out, cap, "z9hG4bK-t%u", ++serial);
}

static void uac_new(struct uac *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->call_id, sizeof(d->call_id), "call-%u-%ld@test", ++serial, random());
	snprintf(d->from_tag, sizeof(d->from_tag), "ft%u", serial);
	new_branch(d->branch, sizeof(d->branch));
	d->cseq = 1;
}

/* A request in @d's dialog; @ttag NULL for none, @extra are whole header lines. */
static int request(char *out, size_t cap, const char *method, const struct uac *d,
		   unsigned cseq, const char *branch, const char *ttag, const char *extra,
		   const char *sdp)
{
	return snprintf(out, cap,
			"%s sip:echo@127.0.0.1:%u SIP/2.0\r\n"
			"Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
			"Max-Forwards: 70\r\n"
			"From: <sip:alice@127.0.0.1>;tag=%s\r\n"
			"To: <sip:echo@127.0.0.1>%s%s\r\n"
			"Call-ID: %s\r\n"
			"CSeq: %u %s\r\n"
			"Contact: <sip:alice@127.0.0.1:%u>\r\n"
			"%s%s"
			"Content-Length: %zu\r\n\r\n%s",
			method, cfg.sip_port, ntohs(peer.sin_port), branch, d->from_tag,
			ttag ? ";tag=" : "", ttag ? ttag : "", d->call_id, cseq, method,
			ntohs(peer.sin_port), extra ? extra : "",
			sdp ? "Content-Type: application/sdp\r\n" : "", sdp ? strlen(sdp) : 0,
			sdp ? sdp : "");
}

static void send_request(const struct uac *d, const char *method, unsigned cseq,
			 const char *branch, const char *ttag, const char *extra, const char *sdp)
{
	char msg[MSG_MAX];

	request(msg, sizeof(msg), method, d, cseq, branch, ttag, extra, sdp);
	inject(msg);
}

static void send_invite(const struct uac *d, const char *extra, const char *sdp)
{
	send_request(d, "INVITE", d->cseq, d->branch, NULL, extra, sdp);
}

static void send_in_dialog(const struct uac *d, const char *method, unsigned cseq,
			   const char *sdp)
{
	char branch[48];

	new_branch(branch, sizeof(branch));
	send_request(d, method, cseq, branch, d->to_tag, NULL, sdp);
}

/* The ACK for a 2xx: a transaction of its own. */
static void send_ack(const struct uac *d, const char *sdp)
{
	send_in_dialog(d, "ACK", d->cseq, sdp);
}

/* INVITE answered 100, 180, 200 (left in @ok); learns the To tag. */
static void call_up(struct uac *d, const char *sdp, char *ok)
{
	char buf[MSG_MAX], tag180[64], hv[256];

	send_invite(d, NULL, sdp);
	expect(100, buf);
	assert_false(to_tag(buf, tag180, sizeof(tag180)));
	expect(180, buf);
	assert_true(to_tag(buf, tag180, sizeof(tag180)));
	expect(200, ok);
	assert_true(to_tag(ok, d->to_tag, sizeof(d->to_tag)));
	assert_string_equal(d->to_tag, tag180);
	assert_true(header(ok, "Call-ID", hv, sizeof(hv)));
	assert_string_equal(hv, d->call_id);
	assert_true(header(ok, "Contact", hv, sizeof(hv)));
	assert_non_null(strstr(hv, "sip:mgw@127.0.0.1"));
}

static unsigned sdp_audio_port(const char *msg, char *fmts, size_t cap)
{
	const char *m = strstr(body_of(msg), "m=audio ");
	unsigned port = 0;
	int off = 0;

	assert_non_null(m);
	assert_int_equal(sscanf(m, "m=audio %u RTP/AVP %n", &port, &off), 1);
	snprintf(fmts, cap, "%.*s", (int)strcspn(m + off, "\r\n"), m + off);
	return port;
}

/* Released ports come back to the pool once no worker can hold their streams: a grace
 * period, then the reclamation callbacks, then the control loop's media_poll(). */
static void media_settle(void)
{
	media_poll();
}

static void assert_media_all_free(void)
{
	media_settle();
	assert_int_equal(call_count(), 0);
	assert_int_equal(media_ports_free(), media_ports_total());
	assert_int_equal(media_streams(), 0);
}

/* ---- calls ---- */

static void invite_with_offer_is_answered_then_bye_releases_media(void **state)
{
	char ok[MSG_MAX], buf[MSG_MAX], fmts[64], hv[256];
	struct uac d;

	(void)state;
	assert_int_equal(media_ports_total(), 6);
	uac_new(&d);
	call_up(&d, offer_pcmu_pcma_te, ok);
	assert_true(header(ok, "Content-Type", hv, sizeof(hv)));
	assert_string_equal(hv, "application/sdp");
	assert_non_null(strstr(body_of(ok), "c=IN IP4 198.18.0.2\r\n"));
	unsigned port = sdp_audio_port(ok, fmts, sizeof(fmts));
	assert_string_equal(fmts, "0 101");
	assert_true(port >= PORT_MIN && port <= PORT_MAX && port % 2 == 0);
	assert_int_equal(call_count(), 1);
	assert_int_equal(media_streams(), 1);
	assert_int_equal(media_ports_free(), media_ports_total() - 1);

	send_ack(&d, NULL);
	send_in_dialog(&d, "BYE", d.cseq + 1, NULL);
	expect(200, buf);
	assert_true(header(buf, "CSeq", hv, sizeof(hv)));
	assert_string_equal(hv, "2 BYE");
	assert_media_all_free();
}

static void ok_is_retransmitted_until_the_ack(void **state)
{
	char ok[MSG_MAX], buf[MSG_MAX];
	struct uac d;

	(void)state;
	uac_new(&d);
	call_up(&d, offer_pcmu_pcma_te, ok);
	expect(200, buf); /* T1 later */
	assert_string_equal(body_of(buf), body_of(ok));
	expect(200, buf); /* 2*T1 after that */
	drain();
	send_ack(&d, NULL);
	expect_nothing(8 * T1_MS);
	assert_int_equal(call_count(), 1);
}

static void unacknowledged_ok_ends_the_call_after_64_t1(void **state)
{
	char ok[MSG_MAX];
	struct uac d;

	(void)state;
	uac_new(&d);
	uint64_t t0 = time_now_ms();
	call_up(&d, offer_pcmu_pcma_te, ok);
	while (call_count() > 0 && time_now_ms() - t0 < 64 * T1_MS + 1000) {
		pump();
		drain();
		usleep(2000);
	}
	uint64_t took = time_now_ms() - t0;
	assert_int_equal(call_count(), 0);
	assert_true(took >= 64 * T1_MS - 5);
	assert_media_all_free();
	drain();
	expect_nothing(8 * T1_MS); /* retransmissions stopped with the call */
}

static void retransmitted_invite_makes_one_call_and_gets_the_ok_again(void **state)
{
	char invite[MSG_MAX], buf[MSG_MAX], tag[64];
	struct uac d;

	(void)state;
	uac_new(&d);
	int len = request(invite, sizeof(invite), "INVITE", &d, 1, d.branch, NULL, NULL,
			  offer_pcmu_pcma_te);
	inject_n(invite, (size_t)len);
	expect(100, buf);
	expect(180, buf);
	assert_true(to_tag(buf, d.to_tag, sizeof(d.to_tag)));
	inject_n(invite, (size_t)len); /* while ringing: osip resends the provisional */
	expect(180, buf);
	assert_int_equal(call_count(), 1);
	expect(200, buf);
	assert_true(to_tag(buf, tag, sizeof(tag)));
	assert_string_equal(tag, d.to_tag);
	drain();
	inject_n(invite, (size_t)len); /* after the 200: the call resends it */
	expect(200, buf);
	assert_true(to_tag(buf, tag, sizeof(tag)));
	assert_string_equal(tag, d.to_tag);
	assert_int_equal(call_count(), 1);
	assert_int_equal(media_streams(), 1);
	assert_int_equal(media_ports_free(), media_ports_total() - 1);
	assert_int_equal(sip_get_stats()->retransmits, 2);
}

/* The "codec" of the only call in the control API's list. */
static void only_call_codec(char *out, size_t cap)
{
	json_t *j = call_list_json();
	assert_non_null(j);
	assert_int_equal(json_array_size(j), 1);
	const char *codec = json_string_value(json_object_get(json_array_get(j, 0), "codec"));
	snprintf(out, cap, "%s", codec ? codec : "?");
	json_decref(j);
}

static void invite_without_sdp_gets_an_offer_and_the_ack_answer_sets_the_codec(void **state)
{
	char ok[MSG_MAX], buf[MSG_MAX], fmts[64], codec[32];
	struct uac d;

	(void)state;
	uac_new(&d);
	call_up(&d, NULL, ok);
	unsigned port = sdp_audio_port(ok, fmts, sizeof(fmts));
	assert_true(port >= PORT_MIN && port <= PORT_MAX && port % 2 == 0);
	assert_string_equal(fmts, "0 8 101");
	assert_non_null(strstr(body_of(ok), "a=rtpmap:0 PCMU/8000"));
	assert_non_null(strstr(body_of(ok), "a=rtpmap:8 PCMA/8000"));
	assert_non_null(strstr(body_of(ok), "a=rtpmap:101 telephone-event/8000"));
	only_call_codec(codec, sizeof(codec));
	assert_string_equal(codec, "-");

	send_ack(&d, answer_pcmu_te);
	assert_int_equal(call_count(), 1);
	only_call_codec(codec, sizeof(codec));
	assert_string_equal(codec, "PCMU");
	send_in_dialog(&d, "BYE", 2, NULL);
	expect(200, buf);
	assert_media_all_free();
}

static void ack_without_answer_to_our_offer_ends_the_call(void **state)
{
	char ok[MSG_MAX];
	struct uac d;

	(void)state;
	uac_new(&d);
	call_up(&d, NULL, ok);
	assert_int_equal(call_count(), 1);
	send_ack(&d, NULL);
	assert_media_all_free();
}

static void offer_without_common_codec_is_refused_488(void **state)
{
	char buf[MSG_MAX];
	struct uac d;

	(void)state;
	uac_new(&d);
	send_invite(&d, NULL, offer_g729);
	expect(488, buf);
	assert_true(to_tag(buf, d.to_tag, sizeof(d.to_tag)));
	assert_media_all_free();
	send_request(&d, "ACK", 1, d.branch, d.to_tag, NULL, NULL);
	expect_nothing(QUIET_MS);
	assert_media_all_free();
}

static void port_exhaustion_is_refused_503(void **state)
{
	char ok[MSG_MAX], buf[MSG_MAX];
	struct uac d[7];

	(void)state;
	for (int i = 0; i < 6; i++) {
		uac_new(&d[i]);
		call_up(&d[i], offer_pcmu_pcma_te, ok);
		send_ack(&d[i], NULL);
	}
	assert_int_equal(media_ports_free(), 0);
	uac_new(&d[6]);
	send_invite(&d[6], NULL, offer_pcmu_pcma_te);
	expect(503, buf);
	assert_true(to_tag(buf, d[6].to_tag, sizeof(d[6].to_tag)));
	assert_int_equal(call_count(), 6);
	assert_int_equal(media_streams(), 6);

	send_in_dialog(&d[0], "BYE", 2, NULL); /* a port comes back: calls are accepted again */
	expect(200, buf);
	media_settle();
	uac_new(&d[6]);
	call_up(&d[6], offer_pcmu_pcma_te, ok);
	assert_int_equal(call_count(), 6);
}

/* ---- CANCEL ---- */

static void cancel_while_ringing_gets_200_and_the_invite_487(void **state)
{
	char buf[MSG_MAX], hv[64], tag180[64];
	struct uac d;
	bool got200 = false, got487 = false;

	(void)state;
	uac_new(&d);
	send_invite(&d, NULL, offer_pcmu_pcma_te);
	expect(100, buf);
	expect(180, buf);
	assert_true(to_tag(buf, tag180, sizeof(tag180)));
	assert_int_equal(call_count(), 1);

	send_request(&d, "CANCEL", 1, d.branch, NULL, NULL, NULL);
	for (int i = 0; i < 2; i++) {
		assert_true(wait_msg(buf, WAIT_MS) > 0);
		assert_true(header(buf, "CSeq", hv, sizeof(hv)));
		if (strcmp(hv, "1 CANCEL") == 0) {
			assert_int_equal(status_of(buf), 200);
			got200 = true;
		} else {
			assert_string_equal(hv, "1 INVITE");
			assert_int_equal(status_of(buf), 487);
			assert_true(to_tag(buf, d.to_tag, sizeof(d.to_tag)));
			assert_string_equal(d.to_tag, tag180);
			got487 = true;
		}
	}
	assert_true(got200 && got487);
	send_request(&d, "ACK", 1, d.branch, d.to_tag, NULL, NULL);
	assert_media_all_free();
	expect_nothing(QUIET_MS); /* no 487 retransmission after the ACK, no late 200 */
}

static void cancel_for_unknown_call_gets_481(void **state)
{
	char buf[MSG_MAX];
	struct uac d;

	(void)state;
	uac_new(&d);
	send_request(&d, "CANCEL", 1, d.branch, NULL, NULL, NULL);
	expect(481, buf);
	assert_true(to_tag(buf, d.to_tag, sizeof(d.to_tag)));
	assert_media_all_free();
}

/* ---- other requests ---- */

static void bye_for_unknown_dialog_gets_481(void **state)
{
	char buf[MSG_MAX];
	struct uac d;

	(void)state;
	uac_new(&d);
	snprintf(d.to_tag, sizeof(d.to_tag), "nosuchtag");
	send_in_dialog(&d, "BYE", 2, NULL);
	expect(481, buf);
}

static void request_answered_with_status(const char *method, int code, char *buf)
{
	char tag[64];
	struct uac d;

	uac_new(&d);
	send_request(&d, method, 1, d.branch, NULL, NULL, NULL);
	expect(code, buf);
	assert_true(to_tag(buf, tag, sizeof(tag))); /* RFC 3261 8.2.6.2 */
}

static void options_gets_200_with_allow_naming_invite(void **state)
{
	char buf[MSG_MAX], hv[256];

	(void)state;
	request_answered_with_status("OPTIONS", 200, buf);
	assert_true(header(buf, "Allow", hv, sizeof(hv)));
	assert_non_null(strstr(hv, "INVITE"));
	assert_non_null(strstr(hv, "BYE"));
	assert_int_equal(call_count(), 0);
}

static void register_gets_405_with_allow(void **state)
{
	char buf[MSG_MAX], hv[256];

	(void)state;
	request_answered_with_status("REGISTER", 405, buf);
	assert_true(header(buf, "Allow", hv, sizeof(hv)));
	assert_non_null(strstr(hv, "INVITE"));
}

static void unknown_method_gets_501(void **state)
{
	char buf[MSG_MAX];

	(void)state;
	request_answered_with_status("FOO", 501, buf);
}

static void invite_requiring_100rel_gets_420_with_unsupported(void **state)
{
	char buf[MSG_MAX], hv[256];
	struct uac d;

	(void)state;
	uac_new(&d);
	send_invite(&d, "Require: 100rel\r\n", offer_pcmu_pcma_te);
	expect(420, buf);
	assert_true(to_tag(buf, d.to_tag, sizeof(d.to_tag)));
	assert_true(header(buf, "Unsupported", hv, sizeof(hv)));
	assert_string_equal(hv, "100rel");
	assert_media_all_free();
}

/* ---- malformed input ---- */

static void unparsable_request_with_via_gets_400_echoing_via_and_call_id(void **state)
{
	static const char msg[] = "INVITE\r\n"
				  "Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-bad1\r\n"
				  "From: <sip:alice@127.0.0.1>;tag=x1\r\n"
				  "To: <sip:echo@127.0.0.1>\r\n"
				  "Call-ID: broken-1@test\r\n"
				  "CSeq: 1 INVITE\r\n"
				  "Content-Length: 0\r\n\r\n";
	char buf[MSG_MAX], hv[256];

	(void)state;
	inject(msg);
	expect(400, buf);
	assert_true(header(buf, "Via", hv, sizeof(hv)));
	assert_string_equal(hv, "SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-bad1");
	assert_true(header(buf, "Call-ID", hv, sizeof(hv)));
	assert_string_equal(hv, "broken-1@test");
	assert_true(header(buf, "CSeq", hv, sizeof(hv)));
	assert_string_equal(hv, "1 INVITE");
	assert_int_equal(sip_get_stats()->bad, 1);
	assert_int_equal(sip_get_stats()->bad_answered, 1);
}

static void garbage_without_via_is_dropped_and_counted(void **state)
{
	(void)state;
	inject("HELLO WORLD\r\nFoo: bar\r\nCall-ID: x\r\n\r\n");
	expect_nothing(QUIET_MS);
	assert_int_equal(sip_get_stats()->bad, 1);
	assert_int_equal(sip_get_stats()->bad_answered, 0);
}

static void invite_without_call_id_is_refused_and_counted(void **state)
{
	char buf[MSG_MAX], msg[MSG_MAX];
	struct uac d;

	(void)state;
	uac_new(&d);
	request(msg, sizeof(msg), "INVITE", &d, 1, d.branch, NULL, NULL, offer_pcmu_pcma_te);
	char *cid = strstr(msg, "Call-ID: ");
	char *eol = strstr(cid, "\r\n") + 2;
	memmove(cid, eol, strlen(eol) + 1);
	inject(msg);
	assert_int_equal(sip_get_stats()->bad, 1);
	expect(400, buf);
	assert_non_null(strstr(buf, "SIP/2.0 400 Missing Call-ID\r\n"));
	assert_int_equal(sip_get_stats()->bad_answered, 1);
	assert_media_all_free();
}

static void cseq_method_mismatch_gets_400(void **state)
{
	char buf[MSG_MAX], msg[MSG_MAX];
	struct uac d;

	(void)state;
	uac_new(&d);
	request(msg, sizeof(msg), "INVITE", &d, 1, d.branch, NULL, NULL, offer_pcmu_pcma_te);
	char *cseq = strstr(msg, "CSeq: 1 INVITE");
	memcpy(cseq, "CSeq: 1 BYE   ", 14);
	inject(msg);
	expect(400, buf);
	assert_non_null(strstr(buf, "SIP/2.0 400 CSeq Method Mismatch\r\n"));
	assert_true(to_tag(buf, d.to_tag, sizeof(d.to_tag)));
	assert_int_equal(sip_get_stats()->bad, 1);
	assert_media_all_free();
}

static void ack_matching_no_dialog_is_counted_stray(void **state)
{
	struct uac d;

	(void)state;
	uac_new(&d);
	snprintf(d.to_tag, sizeof(d.to_tag), "nosuchtag");
	send_ack(&d, NULL);
	expect_nothing(QUIET_MS);
	assert_int_equal(sip_get_stats()->stray, 1);
	assert_int_equal(call_count(), 0);
}

static void response_matching_nothing_is_counted_stray(void **state)
{
	char msg[MSG_MAX];
	struct uac d;

	(void)state;
	uac_new(&d);
	int n = request(msg, sizeof(msg), "INVITE", &d, 1, d.branch, "t9", NULL, NULL);
	char *rest = strstr(msg, "\r\n");
	char resp[MSG_MAX];
	snprintf(resp, sizeof(resp), "SIP/2.0 200 OK%.*s", (int)(msg + n - rest), rest);
	inject(resp);
	expect_nothing(QUIET_MS);
	assert_int_equal(sip_get_stats()->stray, 1);
	assert_int_equal(sip_get_stats()->bad, 0);
}

static void random_bytes_and_truncated_invites_are_survived(void **state)
{
	char blob[2000], invite[MSG_MAX], ok[MSG_MAX];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct uac d;

	(void)state;
	for (int round = 0; round < 8; round++) {
		for (size_t i = 0; i < sizeof(blob); i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			blob[i] = (char)x;
		}
		if (round % 2) /* looks like a request up to the first random byte */
			memcpy(blob, "INVITE sip:a@b SIP/2.0\r\nVia: ", 29);
		inject_n(blob, sizeof(blob));
	}
	drain();
	uac_new(&d);
	int len = request(invite, sizeof(invite), "INVITE", &d, 1, d.branch, NULL, NULL,
			  offer_pcmu_pcma_te);
	for (int i = 0; i < len; i++) {
		inject_n(invite, (size_t)i);
		drain();
	}
	assert_true(call_count() <= 1);
	assert_int_equal(sip_get_stats()->rx, 8 + (unsigned)len);
	call_shutdown_all();
	pump();
	assert_media_all_free();

	/* and the stack still works */
	drain();
	uac_new(&d);
	call_up(&d, offer_pcmu_pcma_te, ok);
	send_ack(&d, NULL);
	assert_int_equal(call_count(), 1);
}

/* ---- admission control (limits { }) ---- */

static const unsigned cps_one[3] = {1, 0, 0};   /* max_cps 1: a bucket of one call */
static const unsigned txns_two[3] = {0, 2, 0};  /* max_transactions 2 */
static const unsigned source_one[3] = {0, 0, 1}; /* source_rps 1: two datagrams of burst */

/* max_cps: a new call beyond the rate is refused 503 with Retry-After before it takes a port;
 * once the bucket has refilled, the next is taken. */
static void calls_over_max_cps_get_503_with_retry_after(void **state)
{
	char buf[MSG_MAX], ok[MSG_MAX], hv[64];
	struct uac a, b, c;

	(void)state;
	uac_new(&a);
	call_up(&a, offer_pcmu_pcma_te, ok);
	send_ack(&a, NULL);
	unsigned free_ports = media_ports_free();
	uac_new(&b);
	send_invite(&b, NULL, offer_pcmu_pcma_te);
	expect(503, buf);
	assert_true(header(buf, "Retry-After", hv, sizeof(hv)));
	assert_string_equal(hv, "1");
	assert_int_equal(call_count(), 1);
	assert_int_equal(router_get_stats()->max_cps_refused, 1);
	assert_int_equal(media_ports_free(), free_ports);
	send_request(&b, "ACK", 1, b.branch, NULL, NULL, NULL); /* the 503's ACK */
	usleep(1100 * 1000); /* a second: one token back */
	uac_new(&c);
	call_up(&c, offer_pcmu_pcma_te, ok);
	assert_int_equal(call_count(), 2);
	assert_int_equal(router_get_stats()->max_cps_refused, 1);
}

/* max_transactions: with that many alive, a new request is answered 503 (Retry-After)
 * without a transaction, and counted. */
static void requests_over_max_transactions_get_503_without_a_transaction(void **state)
{
	char buf[MSG_MAX], hv[64];

	(void)state;
	request_answered_with_status("OPTIONS", 200, buf);
	request_answered_with_status("OPTIONS", 200, buf); /* both linger (Timer J) */
	assert_int_equal(sip_transactions(), 2);
	struct uac d;
	uac_new(&d);
	send_request(&d, "OPTIONS", 1, d.branch, NULL, NULL, NULL);
	expect(503, buf);
	assert_true(header(buf, "Retry-After", hv, sizeof(hv)));
	assert_int_equal(sip_transactions(), 2);
	assert_int_equal(sip_get_stats()->txn_limited, 1);
}

/* source_rps: a source past its burst is dropped before its datagram is parsed: no answer,
 * counted. */
static void a_source_over_its_rate_is_dropped_unread(void **state)
{
	char buf[MSG_MAX];

	(void)state;
	request_answered_with_status("OPTIONS", 200, buf);
	request_answered_with_status("OPTIONS", 200, buf);
	uint64_t bad = sip_get_stats()->bad;
	struct uac d;
	uac_new(&d);
	send_request(&d, "OPTIONS", 1, d.branch, NULL, NULL, NULL);
	expect_nothing(QUIET_MS);
	inject("this is not SIP at all"); /* dropped before the parser: not counted bad */
	assert_int_equal(sip_get_stats()->source_limited, 2);
	assert_int_equal(sip_get_stats()->bad, bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)0)
#define T_ANSWER_AFTER(fn, ms)                                                               \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, (void *)(uintptr_t)(ms))
		T(invite_with_offer_is_answered_then_bye_releases_media),
		T(ok_is_retransmitted_until_the_ack),
		T(unacknowledged_ok_ends_the_call_after_64_t1),
		T_ANSWER_AFTER(retransmitted_invite_makes_one_call_and_gets_the_ok_again, 300),
		T(invite_without_sdp_gets_an_offer_and_the_ack_answer_sets_the_codec),
		T(ack_without_answer_to_our_offer_ends_the_call),
		T(offer_without_common_codec_is_refused_488),
		T(port_exhaustion_is_refused_503),
		T_ANSWER_AFTER(cancel_while_ringing_gets_200_and_the_invite_487, 5000),
		T(cancel_for_unknown_call_gets_481),
		T(bye_for_unknown_dialog_gets_481),
		T(options_gets_200_with_allow_naming_invite),
		T(register_gets_405_with_allow),
		T(unknown_method_gets_501),
		T(invite_requiring_100rel_gets_420_with_unsupported),
		T(unparsable_request_with_via_gets_400_echoing_via_and_call_id),
		T(garbage_without_via_is_dropped_and_counted),
		T(invite_without_call_id_is_refused_and_counted),
		T(cseq_method_mismatch_gets_400),
		T(response_matching_nothing_is_counted_stray),
		T(ack_matching_no_dialog_is_counted_stray),
		T(random_bytes_and_truncated_invites_are_survived),
		cmocka_unit_test_prestate_setup_teardown(
			calls_over_max_cps_get_503_with_retry_after, setup_limits, teardown,
			(void *)cps_one),
		cmocka_unit_test_prestate_setup_teardown(
			requests_over_max_transactions_get_503_without_a_transaction, setup_limits,
			teardown, (void *)txns_two),
		cmocka_unit_test_prestate_setup_teardown(a_source_over_its_rate_is_dropped_unread,
							 setup_limits, teardown,
							 (void *)source_one),
#undef T
#undef T_ANSWER_AFTER
	};

	log_set_level(LOG_ERR);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	rcu_register_thread();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
