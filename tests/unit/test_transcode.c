/* Unit tests for G.711 transcoding (dataplane/transcode.c): the two laws against the values
 * ITU-T G.711 defines, the quantisation error of every 16-bit input, the derived mu-law <->
 * A-law tables, and the in-place rewrite of RTP packets, including malformed ones. Each
 * packet is copied into a buffer of exactly its length, so that a read or write past the end
 * shows up under the AddressSanitizer build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/actions/transcode.h"

#define ULAW_CLIP 32635 /* inputs above it saturate at the top level */
#define PT_TE_IN 101
#define PT_TE_OUT 96
#define PT_CN 13
#define PKT_MAX 512

static const struct stream_pt_map u2a_map = {
	.audio_in = TRANSCODE_PT_PCMU,
	.audio_out = TRANSCODE_PT_PCMA,
	.te_in = PT_TE_IN,
	.te_out = PT_TE_OUT,
	.g711 = STREAM_G711_U2A,
};

static int setup(void **state)
{
	(void)state;
	transcode_init();
	return 0;
}

/* Distance between neighbouring levels of the segment that holds @code, in 16-bit units:
 * mu-law levels are (2m + 33) << (seg + 2) - 132, A-law (2m + 33) << (seg + 2) (seg >= 1) and
 * (2m + 1) << 3 (seg 0), so the steps are 8 << seg, and 16 in A-law's segments 0 and 1. */
static int ulaw_step(uint8_t code)
{
	return 8 << ((uint8_t)~code >> 4 & 7);
}

static int alaw_step(uint8_t code)
{
	int seg = (code ^ 0x55) >> 4 & 7;

	return seg ? 8 << seg : 16;
}

static void ulaw_decodes_to_g711_levels(void **state)
{
	(void)state;
	/* G.711 Table 2a: mu-law has a zero level (codes 0xFF and 0x7F, +0 and -0) and its top
	 * decoder output is 8031 in 14-bit units, i.e. 8031 << 2 = 32124, line code 0x80 for
	 * positive and 0x00 for negative (the line code is the bit-inverted sign-segment-step). */
	assert_int_equal(transcode_ulaw_to_linear(0xff), 0);
	assert_int_equal(transcode_ulaw_to_linear(0x7f), 0);
	assert_int_equal(transcode_ulaw_to_linear(0x80), 32124);
	assert_int_equal(transcode_ulaw_to_linear(0x00), -32124);
	/* (2 * 15 + 33) << 2 - 132 = 120: the last level of segment 0 (code ~0x0f = 0xf0) */
	assert_int_equal(transcode_ulaw_to_linear(0xf0), 120);
	/* (2 * 0 + 33) << 3 - 132 = 132: the first level of segment 1 (code ~0x10 = 0xef) */
	assert_int_equal(transcode_ulaw_to_linear(0xef), 132);
}

static void alaw_decodes_to_g711_levels(void **state)
{
	(void)state;
	/* G.711 Table 1a: A-law has no zero level; the smallest decoder output is 1 and the
	 * largest 4032 in 13-bit units (<< 3: 8 and 32256). Line codes are sign-segment-step
	 * with the even bits inverted (^ 0x55), sign bit set for positive values. */
	assert_int_equal(transcode_alaw_to_linear(0xd5), 8);
	assert_int_equal(transcode_alaw_to_linear(0x55), -8);
	assert_int_equal(transcode_alaw_to_linear(0xaa), 32256);
	assert_int_equal(transcode_alaw_to_linear(0x2a), -32256);
	/* segment 1 starts at decoder output 33 (<< 3 = 264): sign-segment-step 0x90 ^ 0x55 */
	assert_int_equal(transcode_alaw_to_linear(0x90 ^ 0x55), 264);
	/* segment 2 starts at 66 (<< 3 = 528): 0xa0 ^ 0x55 */
	assert_int_equal(transcode_alaw_to_linear(0xa0 ^ 0x55), 528);
}

static void both_laws_decode_symmetric_and_monotonic(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 128; i++) {
		/* sign-segment-step i grows with the magnitude; the sign bit flips the sign */
		uint8_t u = (uint8_t)~i, a = (uint8_t)((0x80 | i) ^ 0x55);

		assert_int_equal(transcode_ulaw_to_linear(u), -transcode_ulaw_to_linear(u ^ 0x80));
		assert_int_equal(transcode_alaw_to_linear(a), -transcode_alaw_to_linear(a ^ 0x80));
		if (i == 0)
			continue;
		assert_true(transcode_ulaw_to_linear(u) >
			    transcode_ulaw_to_linear((uint8_t)~(i - 1)));
		assert_true(transcode_alaw_to_linear(a) >
			    transcode_alaw_to_linear((uint8_t)((0x80 | (i - 1)) ^ 0x55)));
	}
}

static void encoders_treat_both_signs_alike(void **state)
{
	(void)state;
	/* G.711 quantises the magnitude; the sign only sets the sign bit (mu-law's 0x7F, -0,
	 * comes from small negative inputs, -1..-3, while 0 gives 0xFF) */
	for (int32_t x = 1; x <= INT16_MAX; x++) {
		assert_int_equal(transcode_linear_to_ulaw((int16_t)-x),
				 transcode_linear_to_ulaw((int16_t)x) ^ 0x80);
		assert_int_equal(transcode_linear_to_alaw((int16_t)-x),
				 transcode_linear_to_alaw((int16_t)x) ^ 0x80);
	}
	/* -32768 has no positive twin: it saturates at the top level */
	assert_int_equal(transcode_linear_to_ulaw(INT16_MIN), 0x00);
	assert_int_equal(transcode_linear_to_alaw(INT16_MIN), 0x2a);
}

static void encoding_any_sample_errs_by_half_a_step_at_most(void **state)
{
	(void)state;
	for (int32_t x = INT16_MIN; x <= INT16_MAX; x++) {
		uint8_t u = transcode_linear_to_ulaw((int16_t)x);
		uint8_t a = transcode_linear_to_alaw((int16_t)x);
		int eu = abs(transcode_ulaw_to_linear(u) - x);
		int ea = abs(transcode_alaw_to_linear(a) - x);

		/* mu-law saturates above 32635 (top level 32124): still within one step there */
		if (abs(x) > ULAW_CLIP)
			assert_true(eu <= ulaw_step(u));
		else if (2 * eu > ulaw_step(u))
			fail_msg("mu-law: %d -> 0x%02x errs by %d", x, u, eu);
		if (2 * ea > alaw_step(a))
			fail_msg("A-law: %d -> 0x%02x errs by %d", x, a, ea);
	}
}

static void every_code_survives_decode_then_encode(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		uint8_t u = transcode_linear_to_ulaw(transcode_ulaw_to_linear((uint8_t)c));
		uint8_t a = transcode_linear_to_alaw(transcode_alaw_to_linear((uint8_t)c));

		/* mu-law's negative zero 0x7F decodes to 0, which encodes as positive zero 0xFF */
		assert_int_equal(u, c == 0x7f ? 0xff : c);
		assert_int_equal(a, c);
	}
}

static void ulaw_through_alaw_and_back_stays_within_a_step(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		uint8_t buf = (uint8_t)c;
		int d;

		transcode_g711(&buf, 1, STREAM_G711_U2A);
		transcode_g711(&buf, 1, STREAM_G711_A2U);
		d = abs(transcode_ulaw_to_linear(buf) - transcode_ulaw_to_linear((uint8_t)c));
		if (d > ulaw_step((uint8_t)c))
			fail_msg("0x%02x came back as 0x%02x, %d apart", c, buf, d);
	}
	/* where A-law is coarser (segment 0), levels move by one mu-law step, not more */
	uint8_t zero = 0xff;
	transcode_g711(&zero, 1, STREAM_G711_U2A);
	assert_int_equal(zero, 0xd5);
}

/* @out is @in converted from mu-law to A-law, sample by sample. */
static void assert_converted(const uint8_t *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(out[i], transcode_linear_to_alaw(transcode_ulaw_to_linear(in[i])));
}

static void g711_buffer_matches_per_sample_conversion(void **state)
{
	uint8_t buf[256], orig[256];

	(void)state;
	for (unsigned c = 0; c < 256; c++)
		orig[c] = (uint8_t)(255 - c);
	transcode_init(); /* idempotent: the tables stay as they are */

	memcpy(buf, orig, sizeof(buf));
	transcode_g711(buf, sizeof(buf), STREAM_G711_U2A);
	assert_converted(buf, orig, sizeof(buf));

	memcpy(buf, orig, sizeof(buf));
	transcode_g711(buf, sizeof(buf), STREAM_G711_A2U);
	for (unsigned i = 0; i < 256; i++) {
		uint8_t u = transcode_linear_to_ulaw(transcode_alaw_to_linear(orig[i]));

		assert_int_equal(buf[i], u);
	}

	memcpy(buf, orig, sizeof(buf));
	transcode_g711(buf, sizeof(buf), STREAM_G711_NONE);
	assert_memory_equal(buf, orig, sizeof(buf));
}

/* An RTP packet: fixed header with @b0 (V=2 plus P/X/CC) and @pt, then @n bytes of @body
 * (CSRCs, extension, payload, padding as the test lays them out). */
static size_t rtp_build(uint8_t *pkt, uint8_t b0, uint8_t mpt, const uint8_t *body, size_t n)
{
	static const uint8_t hdr[12] = { 0,    0,    0x12, 0x34, 0,    0,
					 0x0f, 0xa0, 0xde, 0xad, 0xbe, 0xef };

	memcpy(pkt, hdr, sizeof(hdr));
	pkt[0] = b0;
	pkt[1] = mpt;
	memcpy(pkt + sizeof(hdr), body, n);
	return sizeof(hdr) + n;
}

/* Run transcode_rtp on a heap copy of exactly @len bytes; the result is copied back. */
static int rtp_run(uint8_t *pkt, size_t len, const struct stream_pt_map *map)
{
	uint8_t *exact = malloc(len ? len : 1);
	int rc;

	assert_non_null(exact);
	memcpy(exact, pkt, len);
	rc = transcode_rtp(exact, len, map);
	memcpy(pkt, exact, len);
	free(exact);
	return rc;
}

static void fill_payload(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 37 + 11);
}

static void rtp_pcmu_becomes_pcma_with_marker_kept(void **state)
{
	uint8_t body[160], pkt[PKT_MAX], orig[PKT_MAX];
	size_t len;

	(void)state;
	fill_payload(body, sizeof(body));
	len = rtp_build(pkt, 0x80, 0x80 | TRANSCODE_PT_PCMU, body, sizeof(body));
	memcpy(orig, pkt, len);

	assert_int_equal(rtp_run(pkt, len, &u2a_map), 1);
	assert_int_equal(pkt[1], 0x80 | TRANSCODE_PT_PCMA);
	assert_int_equal(pkt[0], orig[0]);
	assert_memory_equal(pkt + 2, orig + 2, 10);
	assert_converted(pkt + 12, body, sizeof(body));
}

static void rtp_pcma_becomes_pcmu(void **state)
{
	const struct stream_pt_map a2u = { TRANSCODE_PT_PCMA, TRANSCODE_PT_PCMU, 96, 101,
					      STREAM_G711_A2U };
	uint8_t body[80], pkt[PKT_MAX];
	size_t len;

	(void)state;
	fill_payload(body, sizeof(body));
	len = rtp_build(pkt, 0x80, TRANSCODE_PT_PCMA, body, sizeof(body));
	assert_int_equal(rtp_run(pkt, len, &a2u), 1);
	assert_int_equal(pkt[1], TRANSCODE_PT_PCMU);
	for (size_t i = 0; i < sizeof(body); i++)
		assert_int_equal(pkt[12 + i],
				 transcode_linear_to_ulaw(transcode_alaw_to_linear(body[i])));
}

static void rtp_telephone_event_is_renumbered_not_converted(void **state)
{
	/* RFC 4733 event: digit 5, end bit, volume 10, duration 800 */
	const uint8_t body[4] = { 5, 0x8a, 0x03, 0x20 };
	struct stream_pt_map same = u2a_map;
	uint8_t pkt[PKT_MAX];
	size_t len;

	(void)state;
	len = rtp_build(pkt, 0x80, 0x80 | PT_TE_IN, body, sizeof(body));
	assert_int_equal(rtp_run(pkt, len, &u2a_map), 1);
	assert_int_equal(pkt[1], 0x80 | PT_TE_OUT);
	assert_memory_equal(pkt + 12, body, sizeof(body));

	/* the same number on both legs: nothing to change */
	same.te_out = PT_TE_IN;
	len = rtp_build(pkt, 0x80, PT_TE_IN, body, sizeof(body));
	assert_int_equal(rtp_run(pkt, len, &same), 0);
	assert_int_equal(pkt[1], PT_TE_IN);
}

static void rtp_other_payload_type_is_left_alone(void **state)
{
	uint8_t body[1] = { 0x40 }, pkt[PKT_MAX], orig[PKT_MAX];
	size_t len;

	(void)state;
	len = rtp_build(pkt, 0x80, PT_CN, body, sizeof(body));
	memcpy(orig, pkt, len);
	assert_int_equal(rtp_run(pkt, len, &u2a_map), 0);
	assert_memory_equal(pkt, orig, len);
}

static void rtp_without_conversion_or_renumbering_is_unchanged(void **state)
{
	const struct stream_pt_map none = { 0, 0, PT_TE_IN, PT_TE_IN, STREAM_G711_NONE };
	uint8_t body[160], pkt[PKT_MAX], orig[PKT_MAX];
	size_t len;

	(void)state;
	fill_payload(body, sizeof(body));
	len = rtp_build(pkt, 0x80, TRANSCODE_PT_PCMU, body, sizeof(body));
	memcpy(orig, pkt, len);
	assert_int_equal(rtp_run(pkt, len, &none), 0);
	assert_memory_equal(pkt, orig, len);
}

static void rtp_non_version_2_is_left_alone(void **state)
{
	/* a STUN binding request starts 0x00 0x01: version 0 */
	uint8_t body[8] = { 0 }, pkt[PKT_MAX], orig[PKT_MAX];
	size_t len;

	(void)state;
	len = rtp_build(pkt, 0x00, 0x01, body, sizeof(body));
	pkt[1] = TRANSCODE_PT_PCMU; /* even with a payload type byte that would match */
	memcpy(orig, pkt, len);
	assert_int_equal(rtp_run(pkt, len, &u2a_map), 0);
	assert_memory_equal(pkt, orig, len);
}

static void rtp_csrcs_and_extension_are_skipped(void **state)
{
	/* CC=2: two CSRCs; X: profile 0xBEDE, length 2 words (one-byte elements, RFC 8285) */
	uint8_t body[8 + 4 + 8 + 20], pkt[PKT_MAX], orig[PKT_MAX];
	const size_t pl = 20, poff = 12 + 8 + 4 + 8;
	size_t len;

	(void)state;
	fill_payload(body, sizeof(body));
	body[8] = 0xbe;
	body[9] = 0xde;
	body[10] = 0;
	body[11] = 2;
	len = rtp_build(pkt, 0x80 | 0x10 | 2, TRANSCODE_PT_PCMU, body, sizeof(body));
	memcpy(orig, pkt, len);

	assert_int_equal(rtp_run(pkt, len, &u2a_map), 1);
	assert_memory_equal(pkt + 2, orig + 2, poff - 2);
	assert_converted(pkt + poff, orig + poff, pl);
}

static void rtp_padding_is_not_converted(void **state)
{
	uint8_t body[4 + 160 + 4], pkt[PKT_MAX], orig[PKT_MAX];
	size_t len;

	(void)state;
	fill_payload(body, sizeof(body));
	memset(body + 4 + 160, 0, 3);
	body[4 + 160 + 3] = 4; /* four bytes of padding, the count included */
	len = rtp_build(pkt, 0x80 | 0x20 | 1, TRANSCODE_PT_PCMU, body, sizeof(body));
	memcpy(orig, pkt, len);

	assert_int_equal(rtp_run(pkt, len, &u2a_map), 1);
	assert_memory_equal(pkt + 12, orig + 12, 4); /* the CSRC */
	assert_converted(pkt + 16, orig + 16, 160);
	assert_memory_equal(pkt + len - 4, orig + len - 4, 4);
}

static void rtp_all_padding_only_renumbers(void **state)
{
	uint8_t body[4] = { 0, 0, 0, 4 }, pkt[PKT_MAX], orig[PKT_MAX];
	size_t len;

	(void)state;
	len = rtp_build(pkt, 0x80 | 0x20, TRANSCODE_PT_PCMU, body, sizeof(body));
	memcpy(orig, pkt, len);
	assert_int_equal(rtp_run(pkt, len, &u2a_map), 1);
	assert_int_equal(pkt[1], TRANSCODE_PT_PCMA);
	assert_memory_equal(pkt + 12, orig + 12, 4);
}

/* A malformed packet is refused and left exactly as it was. */
static void assert_refused(uint8_t *pkt, size_t len)
{
	uint8_t orig[PKT_MAX];

	memcpy(orig, pkt, len);
	assert_int_equal(rtp_run(pkt, len, &u2a_map), -1);
	assert_memory_equal(pkt, orig, len);
}

static void rtp_with_inconsistent_lengths_is_refused(void **state)
{
	uint8_t body[PKT_MAX - 12], pkt[PKT_MAX];
	size_t len;

	(void)state;
	fill_payload(body, sizeof(body));

	/* shorter than the fixed header */
	len = rtp_build(pkt, 0x80, TRANSCODE_PT_PCMU, body, 0);
	assert_refused(pkt, len - 1);

	/* CC = 15 CSRCs (60 bytes) in a 20-byte packet */
	len = rtp_build(pkt, 0x80 | 15, TRANSCODE_PT_PCMU, body, 8);
	assert_refused(pkt, len);

	/* X set, but the extension header itself is cut (2 of 4 bytes) */
	len = rtp_build(pkt, 0x80 | 0x10, TRANSCODE_PT_PCMU, body, 2);
	assert_refused(pkt, len);

	/* extension claims 100 words, the packet holds 8 bytes after its header */
	body[2] = 0;
	body[3] = 100;
	len = rtp_build(pkt, 0x80 | 0x10, TRANSCODE_PT_PCMU, body, 12);
	assert_refused(pkt, len);

	/* padding count larger than the payload (10 bytes after the header, count 200) */
	body[9] = 200;
	len = rtp_build(pkt, 0x80 | 0x20, TRANSCODE_PT_PCMU, body, 10);
	assert_refused(pkt, len);

	/* padding count 0: the count includes itself, so at least 1 */
	body[9] = 0;
	len = rtp_build(pkt, 0x80 | 0x20, TRANSCODE_PT_PCMU, body, 10);
	assert_refused(pkt, len);

	/* P set, but no byte left after the CSRC to hold the count */
	len = rtp_build(pkt, 0x80 | 0x20 | 1, TRANSCODE_PT_PCMU, body, 4);
	assert_refused(pkt, len);

	/* padding would reach back into the extension */
	body[0] = 0xbe;
	body[1] = 0xde;
	body[2] = 0;
	body[3] = 1;
	body[8 + 2] = 9; /* 11 bytes: 8 header extension bytes + 3 after; count 9 > 3 */
	len = rtp_build(pkt, 0x80 | 0x30, TRANSCODE_PT_PCMU, body, 11);
	assert_refused(pkt, len);
}

static void rtp_malformed_other_type_is_refused_too(void **state)
{
	uint8_t body[8] = { 0 }, pkt[PKT_MAX];
	size_t len;

	(void)state;
	len = rtp_build(pkt, 0x80 | 15, PT_CN, body, sizeof(body));
	assert_refused(pkt, len);
}

/* The pipelines encode whole packets through 64 KiB tables: every 16-bit sample gives what
 * the G.711 arithmetic gives. */
static void packet_encoding_tables_match_the_arithmetic(void **state)
{
	(void)state;
	static int16_t pcm[65536];
	static uint8_t u[65536], a[65536];
	for (unsigned x = 0; x < 65536; x++)
		pcm[x] = (int16_t)(uint16_t)x;
	transcode_encode(pcm, 65536, u, 0);
	transcode_encode(pcm, 65536, a, 1);
	for (unsigned x = 0; x < 65536; x++) {
		assert_int_equal(u[x], transcode_linear_to_ulaw(pcm[x]));
		assert_int_equal(a[x], transcode_linear_to_alaw(pcm[x]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(packet_encoding_tables_match_the_arithmetic),
		cmocka_unit_test(ulaw_decodes_to_g711_levels),
		cmocka_unit_test(alaw_decodes_to_g711_levels),
		cmocka_unit_test(both_laws_decode_symmetric_and_monotonic),
		cmocka_unit_test(encoders_treat_both_signs_alike),
		cmocka_unit_test(encoding_any_sample_errs_by_half_a_step_at_most),
		cmocka_unit_test(every_code_survives_decode_then_encode),
		cmocka_unit_test(ulaw_through_alaw_and_back_stays_within_a_step),
		cmocka_unit_test(g711_buffer_matches_per_sample_conversion),
		cmocka_unit_test(rtp_pcmu_becomes_pcma_with_marker_kept),
		cmocka_unit_test(rtp_pcma_becomes_pcmu),
		cmocka_unit_test(rtp_telephone_event_is_renumbered_not_converted),
		cmocka_unit_test(rtp_other_payload_type_is_left_alone),
		cmocka_unit_test(rtp_without_conversion_or_renumbering_is_unchanged),
		cmocka_unit_test(rtp_non_version_2_is_left_alone),
		cmocka_unit_test(rtp_csrcs_and_extension_are_skipped),
		cmocka_unit_test(rtp_padding_is_not_converted),
		cmocka_unit_test(rtp_all_padding_only_renumbers),
		cmocka_unit_test(rtp_with_inconsistent_lengths_is_refused),
		cmocka_unit_test(rtp_malformed_other_type_is_refused_too),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
