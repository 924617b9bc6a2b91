#include "dataplane/rtp.h"

static void rtp_stats_init_seq(struct rtp_stats *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = RTP_SEQ_MOD + 1;
	s->cycles = 0;
	s->received = 0;
}

/* What rtp_stats_seq() made of a packet. */
enum rtp_seq_verdict {
	RTP_SEQ_IGNORED,   /* a stray jump: not counted, not part of the timeline */
	RTP_SEQ_PROBATION, /* a new source not yet validated: not counted */
	RTP_SEQ_COUNTED,   /* counted, in the same timeline as the previous packet */
	RTP_SEQ_RESTART,   /* counted, first packet of a restarted source */
};

/* RFC 3550 A.1 */
static enum rtp_seq_verdict rtp_stats_seq(struct rtp_stats *s, uint16_t seq)
{
	uint16_t udelta = (uint16_t)(seq - s->max_seq);
	if (s->probation) {
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				rtp_stats_init_seq(s, seq);
				s->received++;
				return RTP_SEQ_COUNTED;
			}
		} else {
			s->probation = RTP_MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		return RTP_SEQ_PROBATION;
	}
	if (udelta < RTP_MAX_DROPOUT) {
		if (seq < s->max_seq)
			s->cycles += RTP_SEQ_MOD;
		s->max_seq = seq;
	} else if (udelta <= RTP_SEQ_MOD - RTP_MAX_MISORDER) {
		/* a very large jump: a restarted source, or a stray packet */
		if (seq != s->bad_seq) {
			s->bad_seq = (seq + 1) & (RTP_SEQ_MOD - 1);
			return RTP_SEQ_IGNORED;
		}
		rtp_stats_init_seq(s, seq);
		s->received++;
		return RTP_SEQ_RESTART;
	} else if (s->cycles == 0 && (int16_t)(seq - (uint16_t)s->base_seq) < 0) {
		/* late, and older than the packet that validated the source (overtaken during
		 * probation, e.g. on its way through another worker): the statistics start at
		 * base_seq, so it stays out of them like the probation packets it belongs to */
		return RTP_SEQ_IGNORED;
	}
	/* else: in order, or a duplicate or reordered packet: counted */
	s->received++;
	return RTP_SEQ_COUNTED;
}

void rtp_stats_update(struct rtp_stats *s, uint16_t seq, uint32_t ts, uint32_t arrival)
{
	if (!s->init) {
		rtp_stats_init_seq(s, seq);
		s->max_seq = (uint16_t)(seq - 1);
		s->probation = RTP_MIN_SEQUENTIAL;
		s->init = 1;
	}
	enum rtp_seq_verdict v = rtp_stats_seq(s, seq);
	if (v == RTP_SEQ_IGNORED)
		return;
	/* A.8: J += (|D| - J) / 16, kept scaled by 16. D is taken between two packets of one
	 * timeline only: a restarted source's timestamps say nothing about the old one's. */
	uint32_t transit = arrival - ts;
	uint32_t d = transit - s->transit;
	s->transit = transit;
	if (v != RTP_SEQ_COUNTED)
		return;
	if (d & 0x80000000u)
		d = -d; /* |D| in unsigned arithmetic: 2^31 stays 2^31 */
	s->jitter += d - ((s->jitter + 8) >> 4);
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

int rtp_payload(const uint8_t *rtp, size_t len, size_t *off, size_t *end)
{
	size_t o = RTP_HDR_LEN + 4 * (size_t)(rtp[0] & 0x0f);
	size_t e = len;

	if (o > len)
		return -1;
	if (rtp[0] & 0x10) { /* X: 16-bit profile field, 16-bit length in 32-bit words */
		if (len - o < 4)
			return -1;
		o += 4 + 4 * (size_t)((rtp[o + 2] << 8) | rtp[o + 3]);
		if (o > len)
			return -1;
	}
	if (rtp[0] & 0x20) { /* P: the last byte counts the padding, itself included; with no
			      * payload at all that byte lies before o, and any count fails */
		if (rtp[e - 1] == 0 || rtp[e - 1] > e - o)
			return -1;
		e -= rtp[e - 1];
	}
	*off = o;
	*end = e;
	return 0;
}

