#include "dataplane/rtp.h"

static void rtp_stats_init_seq(struct rtp_stats *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = RTP_SEQ_MOD + 1;
	s->cycles = 0;
	s->received = 0;
}

/* RFC 3550 A.1: returns 1 when the packet is counted. */
static int rtp_stats_seq(struct rtp_stats *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);
	if (s->probation) {
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				rtp_stats_init_seq(s, seq);
				s->received++;
				return 1;
			}
		} else {
			s->probation = RTP_MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		return 0;
	}
	if (udelta < RTP_MAX_DROPOUT) {
		if (seq < s->max_seq)
			s->cycles += RTP_SEQ_MOD;
		s->max_seq = seq;
	} else if (udelta <= RTP_SEQ_MOD - RTP_MAX_MISORDER) {
		/* a very large jump: a restarted source, or a stray packet */
		if (seq == s->bad_seq) {
			rtp_stats_init_seq(s, seq);
		} else {
			s->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
			return 0;
		}
	}
	/* else: duplicate or reordered packet, counted */
	s->received++;
	return 1;
}

void rtp_stats_update(struct rtp_stats *s, uint16_t seq, uint32_t ts, uint32_t arrival)
{
	if (!s->init) {
		rtp_stats_init_seq(s, seq);
		s->max_seq = (uint16_t)(seq - 1);
		s->probation = RTP_MIN_SEQUENTIAL;
		s->init = 1;
		s->transit = arrival - ts;
	}
	if (!rtp_stats_seq(s, seq))
		return;
	/* A.8: J += (|D| - J) / 16, kept scaled by 16 */
	uint32_t transit = arrival - ts;
	int32_t d = (int32_t)(transit - s->transit);
	s->transit = transit;
	if (d < 0)
		d = -d;
	s->jitter += (uint32_t)d - ((s->jitter + 8) >> 4);
}

uint32_t rtp_stats_expected(const struct rtp_stats *s)
{
	if (!s->init || (s->received == 0 && s->probation))
		return 0;
	return s->cycles + s->max_seq - s->base_seq + 1;
}

int64_t rtp_stats_lost(const struct rtp_stats *s)
{
	return (int64_t)rtp_stats_expected(s) - (int64_t)s->received;
}
