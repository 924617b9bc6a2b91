/* The E-model (G.107) figures quality.c gives, and what it makes of RTP statistics. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "controlplane/media/quality.h"

static void test_mos_of_r(void **state)
{
	(void)state;
	assert_true(emodel_mos(-5) == 1.0);
	assert_true(emodel_mos(0) == 1.0);
	assert_true(emodel_mos(100) == 4.5);
	assert_true(emodel_mos(120) == 4.5);
	/* G.107 Annex B: R 93.2 -> 4.41; R 50 -> 2.58 (to two decimals) */
	assert_true(fabs(emodel_mos(93.2) - 4.41) < 0.005);
	assert_true(fabs(emodel_mos(50) - 2.58) < 0.005);
	/* monotonic over the whole scale */
	for (double r = 0; r < 100; r += 0.5)
		assert_true(emodel_mos(r + 0.5) >= emodel_mos(r));
}

static void test_r_impairments(void **state)
{
	(void)state;
	/* nothing impaired: the default rating */
	assert_true(fabs(emodel_r(0, 0, 0, 25.1) - 93.2) < 1e-9);
	/* delay: 0.024 per ms below the knee, steeper after */
	assert_true(fabs(emodel_r(100, 0, 0, 25.1) - (93.2 - 2.4)) < 1e-9);
	double r300 = emodel_r(300, 0, 0, 25.1);
	assert_true(fabs(r300 - (93.2 - 7.2 - 0.11 * (300 - 177.3))) < 1e-9);
	/* loss: Ie_eff = 95 * Ppl / (Ppl + Bpl) for G.711 */
	assert_true(fabs(emodel_r(0, 5, 0, 25.1) - (93.2 - 95.0 * 5 / 30.1)) < 1e-9);
	/* more loss, lower rating; a codec with less robustness suffers more */
	assert_true(emodel_r(0, 10, 0, 25.1) < emodel_r(0, 2, 0, 25.1));
	assert_true(emodel_r(0, 2, 0, 4.3) < emodel_r(0, 2, 0, 25.1));
	/* out of range inputs are clamped, not propagated */
	assert_true(emodel_r(-10, -1, 0, 25.1) == emodel_r(0, 0, 0, 25.1));
	assert_true(emodel_r(0, 150, 0, 25.1) == emodel_r(0, 100, 0, 25.1));
}

static void test_quality_of_stats(void **state)
{
	(void)state;
	struct stream_stats st = {0};
	struct leg_quality clean, lossy, jittery, none;
	quality_of(&st, 8000, STREAM_CODEC_NONE, &none);
	assert_false(none.valid);

	st.rtp_expected = 1000;
	st.rtp_received = 1000;
	st.rtp_lost = 0;
	st.rtp_jitter = 8; /* 1 ms at 8 kHz */
	quality_of(&st, 8000, STREAM_CODEC_NONE, &clean);
	assert_true(clean.valid);
	assert_true(fabs(clean.jitter_ms - 1.0) < 1e-9);
	assert_true(clean.loss == 0);
	assert_true(clean.mos > 4.3 && clean.mos <= 4.5);

	st.rtp_lost = 50; /* 5 % */
	quality_of(&st, 8000, STREAM_CODEC_NONE, &lossy);
	assert_true(fabs(lossy.loss - 0.05) < 1e-9);
	assert_true(lossy.mos < clean.mos - 0.3 && lossy.mos > 3.7 && lossy.mos < 4.1);

	st.rtp_lost = 0;
	st.rtp_jitter = 8 * 80; /* 80 ms */
	st.rtt_us = 200000;
	quality_of(&st, 8000, STREAM_CODEC_NONE, &jittery);
	st.rtt_us = 0;
	assert_true(jittery.mos < clean.mos);

	/* G.729: its own impairment, and less robust to the same loss than G.711 with PLC */
	struct leg_quality g729, g729_lossy, g711_lossy;
	st.rtp_jitter = 8;
	quality_of(&st, 8000, STREAM_CODEC_G729, &g729);
	assert_true(fabs(g729.mos - emodel_mos(emodel_r(2 + 20, 0, 10, 19))) < 1e-9);
	assert_true(g729.mos < clean.mos - 0.2 && g729.mos > 3.9);
	st.rtp_lost = 20;
	quality_of(&st, 8000, STREAM_CODEC_G729, &g729_lossy);
	quality_of(&st, 8000, STREAM_CODEC_PCMU, &g711_lossy);
	assert_true(g711_lossy.mos - g729_lossy.mos > clean.mos - g729.mos);
	/* jitter in the codec's clock: 48 kHz units */
	struct leg_quality opus;
	st.rtp_lost = 0;
	st.rtp_jitter = 48;
	quality_of(&st, 48000, STREAM_CODEC_OPUS, &opus);
	assert_true(fabs(opus.jitter_ms - 1.0) < 1e-9);
	assert_true(fabs(opus.mos - clean.mos) < 1e-9);

	/* duplicates make the loss negative: counted as none */
	st.rtp_lost = -3;
	st.rtp_jitter = 8;
	quality_of(&st, 8000, STREAM_CODEC_NONE, &none);
	assert_true(none.loss == 0);
}

static void test_histograms(void **state)
{
	(void)state;
	unsigned n;
	const struct quality_hist *h = quality_hists(&n);
	assert_int_equal(n, 3);
	uint64_t before = h[0].total;
	struct leg_quality q = {.valid = true, .loss = 0.03, .jitter_ms = 4, .mos = 3.9};
	quality_observe(&q);
	struct leg_quality invalid = {.valid = false};
	quality_observe(&invalid);
	assert_int_equal(h[0].total, before + 1);
	/* cumulative buckets: 3.9 is in every bucket from 4.0 up, none below */
	for (unsigned b = 0; b < h[0].n; b++)
		assert_int_equal(h[0].count[b], h[0].le[b] >= 3.9 ? 1 : 0);
	for (unsigned b = 0; b < h[1].n; b++)
		assert_int_equal(h[1].count[b], h[1].le[b] >= 0.03 ? 1 : 0);
	for (unsigned b = 0; b < h[2].n; b++)
		assert_int_equal(h[2].count[b], h[2].le[b] >= 0.004 ? 1 : 0);
	assert_true(fabs(h[2].sum - 0.004) < 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mos_of_r),
		cmocka_unit_test(test_r_impairments),
		cmocka_unit_test(test_quality_of_stats),
		cmocka_unit_test(test_histograms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
