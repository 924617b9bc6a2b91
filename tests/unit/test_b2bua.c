/* Unit tests for the B2BUA (controlplane/apps/b2bua*.c) and the UAC side of the dialog core,
 * on the real stack in process: a caller peer A and two callee peers B1, B2 on loopback,
 * mgwd's routes pointing at B1 then B2. What each peer receives is checked as text: the
 * identities of the two legs, Max-Forwards, failover and a 6xx ending it, CANCEL held back
 * until the callee's first provisional response, re-INVITE with hold crossing the call and
 * the data plane's stream direction following it, our ACK sent again for a retransmitted 2xx,
 * a request looping back refused 482, and every port back in the pool afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "controlplane/apps/call.h"
#include "controlplane/apps/router.h"
#include "controlplane/apps/routes.h"
#include "controlplane/config.h"
#include "controlplane/dialog/dialog.h"
#include "controlplane/media/media.h"
#include "tests/unit/sip_peer.h"
#include "tests/unit/sip_stack.h"
#include "util/log.h"

#define PORT_MIN 30000
#define PORT_MAX 30040

static struct config cfg;
static struct peer a, b1, b2;
static unsigned serial;
static char conf_path[64];

static int setup(void **state)
{
	(void)state;
	char err[256];
	if (peer_open(&a, "A") || peer_open(&b1, "B1") || peer_open(&b2, "B2"))
		return -1;
	config_defaults(&cfg);
	cfg.media_port_min = PORT_MIN;
	cfg.media_port_max = PORT_MAX;
	cfg.sip_t1_ms = 50;
	snprintf(conf_path, sizeof(conf_path), "/tmp/test_b2bua_%d.conf", (int)getpid());
	FILE *f = fopen(conf_path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"routes = ( { name = \"two\"; prefix = \"1\"; destinations = ( \"127.0.0.1:%u\", "
		"\"127.0.0.1:%u\" ); } );\n",
		peer_port(&b1), peer_port(&b2));
	fclose(f);
	struct dlg_config dc = {.t1_ms = cfg.sip_t1_ms, .ack_timeout_ms = 64 * cfg.sip_t1_ms,
				.max_dialogs = 64};
	struct routes *r = routes_load(conf_path, err, sizeof(err));
	if (!r || media_init(&cfg, err, sizeof(err)) != 0 || dlg_init(&dc) != 0 ||
	    router_init(&cfg, err, sizeof(err)) != 0) {
		print_error("set-up: %s\n", err);
		return -1;
	}
	routes_free(router_set_routes(r));
	return stack_sip_init(&cfg, err, sizeof(err));
}

static int teardown(void **state)
{
	(void)state;
	stack_down();
	peer_close(&a);
	peer_close(&b1);
	peer_close(&b2);
	unlink(conf_path);
	return 0;
}

static void settle(void)
{
	for (int i = 0; i < 5; i++)
		stack_pump();
	peer_drain(&a);
	peer_drain(&b1);
	peer_drain(&b2);
}

static void assert_all_free(void)
{
	stack_pump();
	assert_int_equal(call_count(), 0);
	assert_int_equal(dlg_count(), 0);
	assert_int_equal(media_streams(), 0);
	assert_int_equal(media_ports_free(), media_ports_total());
}

/* The caller's side of a call. */
struct caller {
	char call_id[64], from_tag[32], to_tag[64], branch[48];
	unsigned cseq;
};

static void caller_new(struct caller *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->call_id, sizeof(c->call_id), "b2b-%u-%ld@a", ++serial, random());
	snprintf(c->from_tag, sizeof(c->from_tag), "af%u", serial);
	snprintf(c->branch, sizeof(c->branch), "z9hG4bK-a%u", serial);
	c->cseq = 1;
}

static void caller_request(struct caller *c, const char *method, unsigned cseq, const char *branch,
			   const char *user, const char *extra, const char *sdp)
{
	char msg[PEER_MSG_MAX];
	snprintf(msg, sizeof(msg),
		 "%s sip:%s@127.0.0.1:%u SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
		 "%s"
		 "From: <sip:alice@127.0.0.1>;tag=%s\r\n"
		 "To: <sip:%s@127.0.0.1>%s%s\r\n"
		 "Call-ID: %s\r\nCSeq: %u %s\r\nContact: <sip:alice@127.0.0.1:%u>\r\n"
		 "%sContent-Length: %zu\r\n\r\n%s",
		 method, user, cfg.sip_port, peer_port(&a), branch,
		 extra && strstr(extra, "Max-Forwards") ? "" : "Max-Forwards: 70\r\n",
		 c->from_tag, user, c->to_tag[0] ? ";tag=" : "", c->to_tag, c->call_id, cseq,
		 method, peer_port(&a), extra ? extra : "",
		 sdp ? strlen(sdp) : 0, sdp ? sdp : "");
	if (sdp) { /* Content-Type ahead of Content-Length */
		char *cl = strstr(msg, "Content-Length:");
		char tail[PEER_MSG_MAX];
		snprintf(tail, sizeof(tail), "%s", cl);
		snprintf(cl, sizeof(msg) - (size_t)(cl - msg), "Content-Type: application/sdp\r\n%s",
			 tail);
	}
	peer_send(&a, (uint16_t)cfg.sip_port, msg);
}

static void caller_invite(struct caller *c, const char *extra)
{
	char sdp[512];
	caller_request(c, "INVITE", c->cseq, c->branch, "1000", extra,
		       peer_sdp(sdp, sizeof(sdp), 6000, NULL));
}

static void caller_in_dialog(struct caller *c, const char *method, unsigned cseq, const char *sdp)
{
	char branch[48];
	snprintf(branch, sizeof(branch), "z9hG4bK-a%u", ++serial);
	caller_request(c, method, cseq, branch, "1000", NULL, sdp);
}

/* Expect a message at @p: a request @method (or a response @code when @method is NULL). */
static void expect_at(struct peer *p, const char *method, int code, char *buf)
{
	char m[32];
	if (peer_recv(p, buf, PEER_WAIT_MS) < 0)
		fail_msg("%s: nothing, expected %s %d", p->name, method ? method : "", code);
	if (method ? strcmp(msg_method(buf, m, sizeof(m)), method) != 0 : msg_status(buf) != code)
		fail_msg("%s: expected %s %d, got:\n%s", p->name, method ? method : "", code, buf);
}

static void expect_silence(struct peer *p, int ms)
{
	char buf[PEER_MSG_MAX];
	if (peer_recv(p, buf, ms) >= 0)
		fail_msg("%s: unexpected:\n%s", p->name, buf);
}

/* A's INVITE, B1 answers 180 and 200: the call up and acknowledged on both legs. */
static void call_up(struct caller *c, char *b_inv)
{
	char buf[PEER_MSG_MAX], sdp[512];
	caller_invite(c, NULL);
	expect_at(&a, NULL, 100, buf);
	expect_at(&b1, "INVITE", 0, b_inv);
	peer_answer(&b1, (uint16_t)cfg.sip_port, b_inv, 180, "Ringing", "b1tag", NULL);
	expect_at(&a, NULL, 180, buf);
	peer_answer(&b1, (uint16_t)cfg.sip_port, b_inv, 200, "OK", "b1tag",
		    peer_sdp(sdp, sizeof(sdp), 7000, NULL));
	expect_at(&b1, "ACK", 0, buf);
	expect_at(&a, NULL, 200, buf);
	assert_true(msg_tag(buf, "To", c->to_tag, sizeof(c->to_tag)));
	caller_in_dialog(c, "ACK", c->cseq, NULL);
}

static void legs_have_their_own_identities_and_bye_crosses(void **state)
{
	(void)state;
	struct caller c;
	char b_inv[PEER_MSG_MAX], buf[PEER_MSG_MAX], h[256], tag[64];
	caller_new(&c);
	call_up(&c, b_inv);
	/* B's leg: a Call-ID, a From tag and a Via of mgw's own; one hop fewer */
	assert_true(msg_header(b_inv, "Call-ID", h, sizeof(h)));
	assert_string_not_equal(h, c.call_id);
	assert_true(msg_tag(b_inv, "From", tag, sizeof(tag)));
	assert_string_not_equal(tag, c.from_tag);
	assert_true(msg_header(b_inv, "Max-Forwards", h, sizeof(h)));
	assert_string_equal(h, "69");
	assert_true(msg_header(b_inv, "Via", h, sizeof(h)));
	assert_null(strstr(h, "z9hG4bK-a"));
	/* media: each side sees mgw's address, on two different ports */
	unsigned b_port = msg_audio_port(b_inv);
	assert_true(b_port >= PORT_MIN && b_port <= PORT_MAX);
	assert_non_null(strstr(msg_body(b_inv), "c=IN IP4 198.18.0.2"));
	assert_int_equal(media_streams(), 2);
	assert_int_equal(call_count(), 1);
	assert_int_equal(dlg_count(), 2);

	caller_in_dialog(&c, "BYE", c.cseq + 1, NULL);
	expect_at(&a, NULL, 200, buf);
	expect_at(&b1, "BYE", 0, buf);
	assert_true(msg_tag(buf, "To", tag, sizeof(tag)));
	assert_string_equal(tag, "b1tag");
	peer_answer(&b1, (uint16_t)cfg.sip_port, buf, 200, "OK", NULL, NULL);
	settle();
	assert_all_free();
}

static void a_5xx_fails_over_and_a_6xx_ends_the_search(void **state)
{
	(void)state;
	struct caller c;
	char inv[PEER_MSG_MAX], buf[PEER_MSG_MAX], sdp[512];
	caller_new(&c);
	caller_invite(&c, NULL);
	expect_at(&a, NULL, 100, buf);
	expect_at(&b1, "INVITE", 0, inv);
	peer_answer(&b1, (uint16_t)cfg.sip_port, inv, 503, "Busy Here", "x", NULL);
	expect_at(&b1, "ACK", 0, buf); /* the ICT acknowledges the failure */
	expect_at(&b2, "INVITE", 0, inv);
	char h[256], first_cid[256];
	assert_true(msg_header(inv, "Call-ID", first_cid, sizeof(first_cid)));
	peer_answer(&b2, (uint16_t)cfg.sip_port, inv, 200, "OK", "b2tag",
		    peer_sdp(sdp, sizeof(sdp), 7002, NULL));
	expect_at(&b2, "ACK", 0, buf);
	expect_at(&a, NULL, 200, buf);
	assert_true(msg_tag(buf, "To", c.to_tag, sizeof(c.to_tag)));
	caller_in_dialog(&c, "ACK", c.cseq, NULL);
	caller_in_dialog(&c, "BYE", c.cseq + 1, NULL);
	expect_at(&b2, "BYE", 0, buf);
	assert_true(msg_header(buf, "Call-ID", h, sizeof(h)));
	assert_string_equal(h, first_cid);
	peer_answer(&b2, (uint16_t)cfg.sip_port, buf, 200, "OK", NULL, NULL);
	settle();
	assert_all_free();

	/* 603: no other destination is tried, the caller gets the 603 */
	caller_new(&c);
	caller_invite(&c, NULL);
	expect_at(&b1, "INVITE", 0, inv);
	peer_answer(&b1, (uint16_t)cfg.sip_port, inv, 603, "Decline", "x", NULL);
	expect_at(&a, NULL, 100, buf);
	expect_at(&a, NULL, 603, buf);
	expect_silence(&b2, 200);
	settle();
	assert_all_free();
}

static void max_forwards_spent_is_483(void **state)
{
	(void)state;
	struct caller c;
	char buf[PEER_MSG_MAX];
	caller_new(&c);
	caller_invite(&c, "Max-Forwards: 0\r\n");
	expect_at(&a, NULL, 483, buf);
	expect_silence(&b1, 200);
	caller_new(&c);
	caller_invite(&c, "Max-Forwards: 1\r\n");
	expect_at(&a, NULL, 100, buf);
	expect_at(&b1, "INVITE", 0, buf);
	char h[32];
	assert_true(msg_header(buf, "Max-Forwards", h, sizeof(h)));
	assert_string_equal(h, "0");
	peer_answer(&b1, (uint16_t)cfg.sip_port, buf, 486, "Busy Here", "x", NULL);
	expect_at(&b2, "INVITE", 0, buf); /* a 4xx fails over */
	peer_answer(&b2, (uint16_t)cfg.sip_port, buf, 486, "Busy Here", "y", NULL);
	expect_at(&a, NULL, 486, buf);
	settle();
	assert_all_free();
}

static void cancel_waits_for_the_callee_to_say_something(void **state)
{
	(void)state;
	struct caller c;
	char inv[PEER_MSG_MAX], buf[PEER_MSG_MAX];
	caller_new(&c);
	caller_invite(&c, NULL);
	expect_at(&a, NULL, 100, buf);
	expect_at(&b1, "INVITE", 0, inv);
	/* CANCEL: same branch as the INVITE */
	caller_request(&c, "CANCEL", c.cseq, c.branch, "1000", NULL, NULL);
	expect_at(&a, NULL, 200, buf);
	expect_at(&a, NULL, 487, buf);
	expect_silence(&b1, 150); /* nothing to cancel before B says something (RFC 3261 9.1) */
	peer_answer(&b1, (uint16_t)cfg.sip_port, inv, 180, "Ringing", "b1tag", NULL);
	expect_at(&b1, "CANCEL", 0, buf);
	char inv_branch[64], cancel_branch[64];
	assert_true(msg_branch(inv, inv_branch, sizeof(inv_branch)));
	assert_true(msg_branch(buf, cancel_branch, sizeof(cancel_branch)));
	assert_string_equal(inv_branch, cancel_branch);
	peer_answer(&b1, (uint16_t)cfg.sip_port, buf, 200, "OK", NULL, NULL);
	peer_answer(&b1, (uint16_t)cfg.sip_port, inv, 487, "Request Terminated", "b1tag", NULL);
	expect_at(&b1, "ACK", 0, buf);
	expect_silence(&a, 100); /* A has had its 487 */
	settle();
	assert_all_free();
}

static void hold_crosses_the_call_and_the_stream_follows(void **state)
{
	(void)state;
	struct caller c;
	char b_inv[PEER_MSG_MAX], buf[PEER_MSG_MAX], sdp[512], h[128];
	caller_new(&c);
	call_up(&c, b_inv);
	/* B puts A on hold: a re-INVITE in B's dialog, sendonly */
	char msg[PEER_MSG_MAX], b_from[256], b_to[256], b_cid[256];
	assert_true(msg_header(b_inv, "From", b_from, sizeof(b_from)));
	assert_true(msg_header(b_inv, "To", b_to, sizeof(b_to)));
	assert_true(msg_header(b_inv, "Call-ID", b_cid, sizeof(b_cid)));
	peer_sdp(sdp, sizeof(sdp), 7000, "sendonly");
	snprintf(msg, sizeof(msg),
		 "INVITE sip:mgw@127.0.0.1:%u SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-b%u\r\n"
		 "Max-Forwards: 70\r\nFrom: %s;tag=b1tag\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: 7 INVITE\r\n"
		 "Contact: <sip:peer@127.0.0.1:%u>\r\nContent-Type: application/sdp\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 cfg.sip_port, peer_port(&b1), ++serial, b_to, b_from, b_cid, peer_port(&b1),
		 strlen(sdp), sdp);
	peer_send(&b1, (uint16_t)cfg.sip_port, msg);
	expect_at(&a, "INVITE", 0, buf);
	assert_non_null(strstr(msg_body(buf), "a=sendonly"));
	assert_true(msg_header(buf, "Call-ID", h, sizeof(h)));
	assert_string_equal(h, c.call_id);
	peer_answer(&a, (uint16_t)cfg.sip_port, buf, 200, "OK", NULL,
		    peer_sdp(sdp, sizeof(sdp), 6000, "recvonly"));
	expect_at(&a, "ACK", 0, buf);
	expect_at(&b1, NULL, 200, buf);
	assert_non_null(strstr(msg_body(buf), "a=recvonly"));
	/* the data plane: B's stream receives only, A's only sends towards A */
	unsigned b_port = msg_audio_port(b_inv);
	const struct stream_cfg *sb = stream_table_get(media_table(), htonl(0xc6120002), (uint16_t)b_port);
	assert_non_null(sb);
	assert_int_equal(sb->dir, STREAM_DIR_RECV);
	assert_int_equal(sb->other->dir, STREAM_DIR_SEND);
	caller_in_dialog(&c, "BYE", c.cseq + 1, NULL);
	expect_at(&a, NULL, 200, buf);
	expect_at(&b1, "BYE", 0, buf);
	peer_answer(&b1, (uint16_t)cfg.sip_port, buf, 200, "OK", NULL, NULL);
	settle();
	assert_all_free();
}

static void a_retransmitted_2xx_gets_our_ack_again(void **state)
{
	(void)state;
	struct caller c;
	char inv[PEER_MSG_MAX], buf[PEER_MSG_MAX], ok[PEER_MSG_MAX], sdp[512];
	caller_new(&c);
	caller_invite(&c, NULL);
	expect_at(&b1, "INVITE", 0, inv);
	peer_response(&b1, ok, sizeof(ok), inv, 200, "OK", "b1tag",
		      peer_sdp(sdp, sizeof(sdp), 7000, NULL));
	peer_send(&b1, (uint16_t)cfg.sip_port, ok);
	expect_at(&b1, "ACK", 0, buf);
	char cseq1[64], cseq2[64];
	assert_true(msg_header(buf, "CSeq", cseq1, sizeof(cseq1)));
	peer_send(&b1, (uint16_t)cfg.sip_port, ok); /* our ACK "was lost" */
	expect_at(&b1, "ACK", 0, buf);
	assert_true(msg_header(buf, "CSeq", cseq2, sizeof(cseq2)));
	assert_string_equal(cseq1, cseq2);
	assert_non_null(strstr(cseq2, "ACK"));
	assert_true(dlg_get_stats()->acks_resent >= 1);
	router_shutdown(); /* BYE to both, and every port back */
	settle();
	assert_all_free();
}

static void a_request_of_ours_coming_back_is_a_loop(void **state)
{
	(void)state;
	struct caller c;
	char inv[PEER_MSG_MAX], buf[PEER_MSG_MAX];
	caller_new(&c);
	caller_invite(&c, NULL);
	expect_at(&b1, "INVITE", 0, inv);
	/* B1 is a proxy that sends it back to mgw (with a Via of its own on top) */
	char looped[PEER_MSG_MAX];
	const char *v = strstr(inv, "Via:");
	assert_non_null(v);
	snprintf(looped, sizeof(looped), "%.*sVia: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK-loop%u\r\n%s",
		 (int)(v - inv), inv, peer_port(&b1), ++serial, v);
	uint64_t loops = dlg_get_stats()->loops;
	peer_send(&b1, (uint16_t)cfg.sip_port, looped);
	expect_at(&b1, NULL, 482, buf);
	assert_int_equal(dlg_get_stats()->loops, loops + 1);
	peer_answer(&b1, (uint16_t)cfg.sip_port, inv, 600, "Busy Everywhere", "x", NULL);
	expect_at(&a, NULL, 100, buf);
	expect_at(&a, NULL, 600, buf);
	settle();
	assert_all_free();
}

int main(void)
{
	log_set_level(LOG_WARN);
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(legs_have_their_own_identities_and_bye_crosses),
		T(a_5xx_fails_over_and_a_6xx_ends_the_search),
		T(max_forwards_spent_is_483),
		T(cancel_waits_for_the_callee_to_say_something),
		T(hold_crosses_the_call_and_the_stream_follows),
		T(a_retransmitted_2xx_gets_our_ack_again),
		T(a_request_of_ours_coming_back_is_a_loop),
	};
#undef T
	rcu_register_thread();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
