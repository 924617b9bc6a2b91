/* What the relay reads of RTCP (dataplane/rtcp.c): sender reports' NTP middle bits, the first
 * report block of a compound packet, the round trip from LSR/DLSR, and what is not RTCP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/rtcp.h"

static uint8_t buf[256];

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* SR with @rc report blocks at @p; returns its length */
static size_t sr(uint8_t *p, uint32_t ntp_sec, uint32_t ntp_frac, unsigned rc, uint32_t lsr,
		 uint32_t dlsr)
{
	size_t len = 28 + 24 * rc;
	memset(p, 0, len);
	p[0] = (uint8_t)(0x80 | rc);
	p[1] = 200;
	p[2] = 0;
	p[3] = (uint8_t)(len / 4 - 1);
	put32(p + 4, 0x1111);
	put32(p + 8, ntp_sec);
	put32(p + 12, ntp_frac);
	for (unsigned i = 0; i < rc; i++) {
		uint8_t *b = p + 28 + 24 * i;
		put32(b, 0x2222);
		b[4] = 25; /* ~10 % */
		put32(b + 12, 77);
		put32(b + 16, lsr);
		put32(b + 20, dlsr);
	}
	return len;
}

static size_t rr(uint8_t *p, uint32_t lsr, uint32_t dlsr)
{
	memset(p, 0, 32);
	p[0] = 0x81;
	p[1] = 201;
	p[3] = 7;
	put32(p + 4, 0x2222);
	put32(p + 8, 0x1111);
	p[12] = 3;
	put32(p + 20, 12);
	put32(p + 24, lsr);
	put32(p + 28, dlsr);
	return 32;
}

static void sender_and_receiver_reports_are_read(void **state)
{
	(void)state;
	struct rtcp_info ri;
	/* an SR alone, followed by an SDES as in every compound packet */
	size_t n = sr(buf, 0xaabbccdd, 0x11223344, 0, 0, 0);
	buf[n] = 0x81, buf[n + 1] = 202, buf[n + 2] = 0, buf[n + 3] = 1;
	memset(buf + n + 4, 0, 4);
	assert_int_equal(rtcp_parse(buf, n + 8, &ri), 0);
	assert_true(ri.sr);
	assert_int_equal(ri.sr_ntp_mid, 0xccdd1122u);
	assert_false(ri.rb);
	/* an SR with a report block */
	n = sr(buf, 1, 2, 1, 0x12345678, 0x00010000);
	assert_int_equal(rtcp_parse(buf, n, &ri), 0);
	assert_true(ri.sr && ri.rb);
	assert_int_equal(ri.lsr, 0x12345678);
	assert_int_equal(ri.dlsr, 0x10000);
	assert_int_equal(ri.fraction_lost, 25);
	assert_int_equal(ri.jitter, 77);
	/* an RR */
	n = rr(buf, 0xcafe0001, 0x8000);
	assert_int_equal(rtcp_parse(buf, n, &ri), 0);
	assert_false(ri.sr);
	assert_true(ri.rb);
	assert_int_equal(ri.lsr, 0xcafe0001);
	assert_int_equal(ri.fraction_lost, 3);
}

static void what_is_not_rtcp_is_refused(void **state)
{
	(void)state;
	struct rtcp_info ri;
	size_t n = rr(buf, 1, 1);
	assert_int_equal(rtcp_parse(buf, 4, &ri), -1);      /* too short */
	assert_int_equal(rtcp_parse(buf, n - 1, &ri), -1);  /* length beyond the datagram */
	buf[0] = 0x41;                                       /* version 1 */
	assert_int_equal(rtcp_parse(buf, n, &ri), -1);
	n = rr(buf, 1, 1);
	buf[0] = 0x85;                                       /* 5 blocks in 28 bytes */
	assert_int_equal(rtcp_parse(buf, n, &ri), -1);
	n = rr(buf, 1, 1);
	memset(buf + n, 0xab, 14);                           /* an SRTCP trailer */
	assert_int_equal(rtcp_parse(buf, n + 14, &ri), -1);
}

static void round_trip_from_lsr_and_dlsr(void **state)
{
	(void)state;
	uint64_t w = rtcp_sr_word(0x00050000, 1000000); /* SR seen at t = 1 s */
	/* the report 300 ms later, held 200 ms by its sender: 100 ms round trip */
	assert_int_equal(rtcp_rtt_us(w, 0x00050000, 200 * 65536 / 1000, 1300000), 100004);
	/* another SR named: unknown */
	assert_int_equal(rtcp_rtt_us(w, 0x00060000, 0, 1300000), -1);
	/* no SR yet, or LSR 0 (the reporter had none) */
	assert_int_equal(rtcp_rtt_us(0, 0, 0, 5), -1);
	assert_int_equal(rtcp_rtt_us(rtcp_sr_word(0, 1), 0, 0, 5), -1);
	/* a reporter whose clock runs a little fast: 0, not negative; far off: unknown */
	assert_int_equal(rtcp_rtt_us(w, 0x00050000, 301 * 65536 / 1000, 1300000), 0);
	assert_int_equal(rtcp_rtt_us(w, 0x00050000, 400 * 65536 / 1000, 1300000), -1);
	/* the microsecond clock wraps between the SR and the report */
	uint64_t late = rtcp_sr_word(7, 0xffff0000u);
	int64_t rtt = rtcp_rtt_us(late, 7, 0, 0x00010000u);
	assert_int_equal(rtt, 0x20000);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* What mgw writes (rtcp_write_report) reads back, field by field, and as RTCP. */
static void own_reports_are_well_formed(void **state)
{
	(void)state;
	uint8_t out[RTCP_REPORT_MAX];
	struct rtcp_report r = {.ssrc = 0x11223344, .sender = true, .ntp = 0xe8000000abcd1234ull,
				.rtp_ts = 160000, .pkts = 50, .octets = 8000, .block = true,
				.peer_ssrc = 0x4d47, .fraction = 25, .lost = -3, .ext_max = 0x10005,
				.jitter = 12, .lsr = 0x12345678, .dlsr = 65536, .cname = "mgw@10.0.0.1"};
	size_t n = rtcp_write_report(out, &r);
	assert_int_equal(n % 4, 0);
	assert_int_equal(out[0], 0x81); /* V=2, one report block */
	assert_int_equal(out[1], 200);
	assert_int_equal(4 * ((size_t)(out[2] << 8 | out[3]) + 1), 52);
	assert_int_equal(be32(out + 4), 0x11223344);
	assert_int_equal(be32(out + 8), 0xe8000000);
	assert_int_equal(be32(out + 12), 0xabcd1234);
	assert_int_equal(be32(out + 16), 160000);
	assert_int_equal(be32(out + 20), 50);
	assert_int_equal(be32(out + 24), 8000);
	assert_int_equal(be32(out + 28), 0x4d47);
	assert_int_equal(be32(out + 32), 25u << 24 | 0xfffffd); /* -3 in 24 bits */
	assert_int_equal(be32(out + 36), 0x10005);
	assert_int_equal(be32(out + 40), 12);
	assert_int_equal(be32(out + 44), 0x12345678);
	assert_int_equal(be32(out + 48), 65536);
	assert_int_equal(out[52], 0x81);
	assert_int_equal(out[53], 202); /* SDES */
	assert_int_equal(be32(out + 56), 0x11223344);
	assert_int_equal(out[60], 1); /* CNAME */
	assert_int_equal(out[61], 12);
	assert_memory_equal(out + 62, "mgw@10.0.0.1", 12);
	assert_int_equal(out[74], 0); /* the end of the items */
	assert_int_equal(n, 52 + 4 * ((size_t)(out[54] << 8 | out[55]) + 1));
	struct rtcp_info ri;
	assert_int_equal(rtcp_parse(out, n, &ri), 0);
	assert_true(ri.sr && ri.rb);
	assert_int_equal(ri.sr_ntp_mid, 0x0000abcd);
	assert_int_equal(ri.lsr, 0x12345678);
	assert_int_equal(ri.fraction_lost, 25);
	/* a receiver report without a block: 8 bytes, then the SDES */
	struct rtcp_report rr = {.ssrc = 7, .cname = "x"};
	n = rtcp_write_report(out, &rr);
	assert_int_equal(out[0], 0x80);
	assert_int_equal(out[1], 201);
	assert_int_equal(out[9], 202);
	assert_int_equal(n, 8 + 12);
	assert_int_equal(rtcp_parse(out, n, &ri), 0);
	assert_false(ri.sr || ri.rb);
	/* a huge loss is clamped to 24 bits */
	r.lost = 1 << 30;
	rtcp_write_report(out, &r);
	assert_int_equal(be32(out + 32) & 0xffffff, 0x7fffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sender_and_receiver_reports_are_read),
		cmocka_unit_test(what_is_not_rtcp_is_refused),
		cmocka_unit_test(round_trip_from_lsr_and_dlsr),
		cmocka_unit_test(own_reports_are_well_formed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
