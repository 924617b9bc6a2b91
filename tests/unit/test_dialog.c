/* Unit tests for the dialog core (controlplane/dialog/dialog.c), UAS side, on the real stack
 * with the echo application as the leg's user and the timer wheel on a clock the test moves:
 * the 2xx retransmitted at T1, 2*T1, 4*T1... capped at T2 until the ACK, the call ended with
 * a BYE at the ACK deadline, an INVITE sent again after the 2xx answered with the 2xx, a
 * request with an out-of-order CSeq refused 500, one for no dialog 481, and a second INVITE
 * of the same dialog-to-be (same Call-ID and From tag, another CSeq) refused 482. */
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

#define T1 500

static struct config cfg;
static struct peer uac;
static unsigned serial;
static uint64_t fake_now;

static uint64_t fake_clock(void) { return fake_now; }

static void advance(uint64_t ms)
{
	fake_now += ms;
	stack_pump();
}

static int setup(void **state)
{
	(void)state;
	char err[256];
	fake_now = 5000000;
	timer_set_clock(fake_clock);
	if (peer_open(&uac, "UAC"))
		return -1;
	config_defaults(&cfg);
	cfg.media_port_min = 31000;
	cfg.media_port_max = 31020;
	cfg.sip_t1_ms = T1;
	struct dlg_config dc = {.t1_ms = T1, .ack_timeout_ms = 64 * T1, .max_dialogs = 16};
	if (media_init(&cfg, err, sizeof(err)) != 0 || dlg_init(&dc) != 0 ||
	    router_init(&cfg, err, sizeof(err)) != 0)
		return -1;
	return stack_sip_init(&cfg, err, sizeof(err));
}

static int teardown(void **state)
{
	(void)state;
	stack_down();
	peer_close(&uac);
	timer_set_clock(NULL);
	return 0;
}

struct call_ids {
	char call_id[512], from_tag[32], to_tag[64], branch[48];
};

static void ids_new(struct call_ids *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->call_id, sizeof(c->call_id), "dlg-%u-%ld@uac", ++serial, random());
	snprintf(c->from_tag, sizeof(c->from_tag), "uf%u", serial);
	snprintf(c->branch, sizeof(c->branch), "z9hG4bK-d%u", serial);
}

static void send_req(const struct call_ids *c, const char *method, unsigned cseq,
		     const char *branch, const char *to_tag, bool sdp)
{
	char msg[PEER_MSG_MAX], body[512] = "";
	if (sdp)
		peer_sdp(body, sizeof(body), 6000, NULL);
	snprintf(msg, sizeof(msg),
		 "%s sip:echo@127.0.0.1:%u SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%u;branch=%s\r\n"
		 "Max-Forwards: 70\r\nFrom: <sip:bob@127.0.0.1>;tag=%s\r\nTo: <sip:echo@127.0.0.1>%s%s\r\n"
		 "Call-ID: %s\r\nCSeq: %u %s\r\nContact: <sip:bob@127.0.0.1:%u>\r\n%s"
		 "Content-Length: %zu\r\n\r\n%s",
		 method, cfg.sip_port, peer_port(&uac), branch, c->from_tag, to_tag ? ";tag=" : "",
		 to_tag ? to_tag : "", c->call_id, cseq, method, peer_port(&uac),
		 sdp ? "Content-Type: application/sdp\r\n" : "", strlen(body), body);
	peer_send(&uac, (uint16_t)cfg.sip_port, msg);
}

static void in_dialog(const struct call_ids *c, const char *method, unsigned cseq)
{
	char branch[48];
	snprintf(branch, sizeof(branch), "z9hG4bK-d%u", ++serial);
	send_req(c, method, cseq, branch, c->to_tag, false);
}

static int next_status(char *buf)
{
	return peer_recv(&uac, buf, 300) < 0 ? -1 : msg_status(buf);
}

/* INVITE, 100 180 200: the 2xx in @ok. */
static void answered(struct call_ids *c, char *ok)
{
	char buf[PEER_MSG_MAX];
	send_req(c, "INVITE", 1, c->branch, NULL, true);
	assert_int_equal(next_status(buf), 100);
	assert_int_equal(next_status(buf), 180);
	assert_int_equal(next_status(ok), 200);
	assert_true(msg_tag(ok, "To", c->to_tag, sizeof(c->to_tag)));
}

static void the_2xx_goes_again_at_t1_doubling_to_t2_then_the_call_ends_with_bye(void **state)
{
	(void)state;
	struct call_ids c;
	char ok[PEER_MSG_MAX], buf[PEER_MSG_MAX];
	ids_new(&c);
	answered(&c, ok);
	/* RFC 3261 13.3.1.4: T1, 2*T1, 4*T1, ... capped at T2 (4 s) until 64*T1 */
	static const uint64_t gaps[] = {500, 1000, 2000, 4000, 4000, 4000, 4000, 4000, 4000, 4000};
	uint64_t elapsed = 0;
	for (size_t i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++) {
		advance(gaps[i] - 1);
		assert_int_equal(peer_recv(&uac, buf, 20), -1); /* not a millisecond early */
		advance(1);
		assert_int_equal(next_status(buf), 200);
		assert_string_equal(buf, ok); /* the same 2xx, byte for byte */
		elapsed += gaps[i];
	}
	assert_int_equal(elapsed, 31500);
	advance(64 * T1 - elapsed - 1);
	assert_int_equal(peer_recv(&uac, buf, 20), -1);
	assert_int_equal(call_count(), 1);
	advance(1); /* the ACK deadline: the dialog is ended with a BYE (13.3.1.4) */
	char m[16];
	assert_true(peer_recv(&uac, buf, 300) >= 0);
	assert_string_equal(msg_method(buf, m, sizeof(m)), "BYE");
	assert_int_equal(call_count(), 0);
	assert_true(dlg_get_stats()->ack_timeouts >= 1);
}

static void the_ack_stops_the_2xx_and_a_late_invite_gets_it_again(void **state)
{
	(void)state;
	struct call_ids c;
	char ok[PEER_MSG_MAX], buf[PEER_MSG_MAX];
	ids_new(&c);
	answered(&c, ok);
	/* the INVITE once more (its transaction ended with the 2xx): the 2xx once more */
	send_req(&c, "INVITE", 1, c.branch, NULL, true);
	assert_int_equal(next_status(buf), 200);
	assert_string_equal(buf, ok);
	assert_int_equal(call_count(), 1);
	in_dialog(&c, "ACK", 1);
	advance(10000);
	assert_int_equal(peer_recv(&uac, buf, 50), -1);
	assert_int_equal(call_count(), 1);
	in_dialog(&c, "BYE", 2);
	assert_int_equal(next_status(buf), 200);
	assert_int_equal(call_count(), 0);
}

static void cseq_out_of_order_is_500_and_no_dialog_is_481(void **state)
{
	(void)state;
	struct call_ids c;
	char ok[PEER_MSG_MAX], buf[PEER_MSG_MAX];
	ids_new(&c);
	answered(&c, ok);
	in_dialog(&c, "ACK", 1);
	in_dialog(&c, "OPTIONS", 5);
	assert_int_equal(next_status(buf), 200);
	uint64_t before = dlg_get_stats()->cseq_errors;
	in_dialog(&c, "OPTIONS", 4);
	assert_int_equal(next_status(buf), 500);
	assert_int_equal(dlg_get_stats()->cseq_errors, before + 1);
	/* a BYE with a tag that names no dialog */
	struct call_ids other = c;
	snprintf(other.to_tag, sizeof(other.to_tag), "%s", "nosuchtag");
	in_dialog(&other, "BYE", 9);
	assert_int_equal(next_status(buf), 481);
	assert_int_equal(call_count(), 1);
	in_dialog(&c, "BYE", 6);
	assert_int_equal(next_status(buf), 200);
}

static void a_second_invite_of_the_same_dialog_to_be_is_482(void **state)
{
	(void)state;
	struct call_ids c;
	char ok[PEER_MSG_MAX], buf[PEER_MSG_MAX];
	ids_new(&c);
	answered(&c, ok);
	char branch[48];
	snprintf(branch, sizeof(branch), "z9hG4bK-d%u", ++serial);
	send_req(&c, "INVITE", 2, branch, NULL, true); /* merged request (RFC 3261 8.2.2.2) */
	assert_int_equal(next_status(buf), 482);
	assert_int_equal(call_count(), 1);
	in_dialog(&c, "ACK", 1);
	in_dialog(&c, "BYE", 3);
	assert_int_equal(next_status(buf), 200);
	assert_int_equal(call_count(), 0);
}

/* A Call-ID is compared whole, however long: two that share their first 400 characters are
 * two calls, and a BYE ends only its own. */
static void long_call_ids_that_differ_only_at_the_end_are_two_calls(void **state)
{
	(void)state;
	struct call_ids a, b;
	char ok[PEER_MSG_MAX], buf[PEER_MSG_MAX], prefix[420];
	memset(prefix, 'x', 400);
	prefix[400] = '\0';
	ids_new(&a);
	snprintf(a.call_id, sizeof(a.call_id), "%s-1@uac", prefix);
	ids_new(&b);
	snprintf(b.call_id, sizeof(b.call_id), "%s-2@uac", prefix);
	answered(&a, ok);
	in_dialog(&a, "ACK", 1);
	answered(&b, ok);
	in_dialog(&b, "ACK", 1);
	assert_int_equal(call_count(), 2);
	in_dialog(&a, "BYE", 2);
	assert_int_equal(next_status(buf), 200);
	assert_int_equal(call_count(), 1);
	in_dialog(&b, "BYE", 2);
	assert_int_equal(next_status(buf), 200);
	assert_int_equal(call_count(), 0);
}

int main(void)
{
	log_set_level(LOG_WARN);
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(the_2xx_goes_again_at_t1_doubling_to_t2_then_the_call_ends_with_bye),
		T(the_ack_stops_the_2xx_and_a_late_invite_gets_it_again),
		T(cseq_out_of_order_is_500_and_no_dialog_is_481),
		T(a_second_invite_of_the_same_dialog_to_be_is_482),
		T(long_call_ids_that_differ_only_at_the_end_are_two_calls),
	};
#undef T
	rcu_register_thread();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
