#include "controlplane/media/quality.h"

#include <math.h>

/* Equipment impairment Ie and packet-loss robustness Bpl (G.113 Appendix I): G.711 with
 * packet loss concealment at the endpoints 0 / 25.1, G.729 10 / 19.0. The wideband codecs
 * (G.722, Opus) are judged on the narrowband scale as G.711 (their gain is not credited). */
#define G711_IE 0.0
#define G711_BPL 25.1
#define G729_IE 10.0
#define G729_BPL 19.0
#define PACKET_MS 20.0

double emodel_r(double delay_ms, double loss_pct, double ie, double bpl)
{
	if (delay_ms < 0)
		delay_ms = 0;
	if (loss_pct < 0)
		loss_pct = 0;
	if (loss_pct > 100)
		loss_pct = 100;
	/* delay impairment: the usual closed form of G.107's Idd for the default echo loss,
	 * a slope of 0.024 per ms and a knee at 177.3 ms */
	double id = 0.024 * delay_ms + (delay_ms > 177.3 ? 0.11 * (delay_ms - 177.3) : 0.0);
	/* effective equipment impairment with random loss (BurstR = 1) */
	double ie_eff = ie + (95.0 - ie) * loss_pct / (loss_pct + bpl);
	return 93.2 - id - ie_eff;
}

double emodel_mos(double r)
{
	if (r <= 0)
		return 1.0;
	if (r >= 100)
		return 4.5;
	double m = 1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6;
	return m < 1.0 ? 1.0 : m;
}

void quality_of(const struct stream_stats *st, unsigned clock_hz, enum stream_codec codec,
		struct leg_quality *q)
{
	bool g729 = codec == STREAM_CODEC_G729;
	double rtt_ms = st->rtt_us ? st->rtt_us / 1000.0 : -1;
	q->valid = st->rtp_expected > 0;
	q->rtt_ms = rtt_ms;
	q->loss = 0;
	q->jitter_ms = 0;
	q->mos = 0;
	if (!q->valid)
		return;
	if (st->rtp_lost > 0)
		q->loss = (double)st->rtp_lost / (double)st->rtp_expected;
	if (q->loss > 1)
		q->loss = 1;
	q->jitter_ms = clock_hz ? (double)st->rtp_jitter * 1000.0 / clock_hz : 0;
	double delay = (rtt_ms > 0 ? rtt_ms / 2 : 0) + 2 * q->jitter_ms + PACKET_MS;
	q->mos = emodel_mos(emodel_r(delay, q->loss * 100.0, g729 ? G729_IE : G711_IE,
				     g729 ? G729_BPL : G711_BPL));
}

static struct quality_hist hists[] = {
	{"mgw_call_mos", "MOS estimate (G.107 E-model) of each ended leg's received media",
	 9, {1.0, 2.0, 2.5, 3.0, 3.5, 3.8, 4.0, 4.2, 4.4}, {0}, 0, 0},
	{"mgw_call_loss_ratio", "RTP packet loss ratio of each ended leg's received media",
	 9, {0.0005, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5}, {0}, 0, 0},
	{"mgw_call_jitter_seconds", "RFC 3550 interarrival jitter of each ended leg's media",
	 9, {0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2}, {0}, 0, 0},
};

static void hist_add(struct quality_hist *h, double v)
{
	for (unsigned i = 0; i < h->n; i++)
		if (v <= h->le[i])
			h->count[i]++;
	h->total++;
	h->sum += v;
}

void quality_observe(const struct leg_quality *q)
{
	if (!q->valid)
		return;
	hist_add(&hists[0], q->mos);
	hist_add(&hists[1], q->loss);
	hist_add(&hists[2], q->jitter_ms / 1000.0);
}

const struct quality_hist *quality_hists(unsigned *n)
{
	*n = sizeof(hists) / sizeof(hists[0]);
	return hists;
}
