#include "dataplane/dtmf.h"

#include "dataplane/rtp.h"
#include "shared/msg.h"

static void report(const struct stream_dtmf *s, uint8_t volume, uint8_t flags,
		   struct dtmf_report *out)
{
	out->event = s->event;
	out->volume = volume;
	out->flags = flags;
	out->duration = s->dur;
}

enum dtmf_verdict dtmf_rx(struct stream_dtmf *s, const uint8_t *rtp, size_t len, bool te,
			  struct dtmf_report *out)
{
	uint32_t ts = rtp_be32(rtp + 4);
	if (!te) {
		/* audio: an event whose end packets were all lost is over once audio runs well
		 * past it */
		if (s->state == STREAM_DTMF_ACTIVE &&
		    (int32_t)(ts - (s->ts + s->dur)) > DTMF_CUT_GAP) {
			s->state = STREAM_DTMF_REPORTED;
			report(s, 0, MSG_DTMF_CUT, out);
			return DTMF_REPORT;
		}
		return DTMF_NONE;
	}
	/* the payload: after the CSRCs and the header extension; padding off the end */
	size_t off, pend;
	if (rtp_payload(rtp, len, &off, &pend) != 0)
		return DTMF_BAD;
	len = pend;
	if (len < off + 4)
		return DTMF_BAD;
	const uint8_t *ev = rtp + off;
	uint8_t event = ev[0], volume = ev[1] & 0x3f;
	bool end = ev[1] & 0x80;
	uint16_t dur = (uint16_t)(ev[2] << 8 | ev[3]);
	if (event > DTMF_MAX_EVENT)
		return DTMF_NONE; /* another kind of event (tones, modem): not a digit */
	enum dtmf_verdict v = DTMF_NONE;
	if (s->state == STREAM_DTMF_IDLE || ts != s->ts) {
		/* a new event; the one before it, never ended, is reported as cut */
		if (s->state == STREAM_DTMF_ACTIVE) {
			report(s, 0, MSG_DTMF_CUT, out);
			v = DTMF_REPORT;
		}
		s->ts = ts;
		s->event = event;
		s->dur = dur;
		s->state = STREAM_DTMF_ACTIVE;
		if (v == DTMF_REPORT)
			return v; /* its own end, if this packet is one, comes again twice */
	} else if (s->state == STREAM_DTMF_REPORTED) {
		return DTMF_NONE; /* a retransmitted end */
	} else if (dur > s->dur) {
		s->dur = dur;
	}
	if (!end)
		return DTMF_NONE;
	s->state = STREAM_DTMF_REPORTED;
	if (s->dur == 0)
		return DTMF_ABSURD;
	report(s, volume, MSG_DTMF_ENDED, out);
	return DTMF_REPORT;
}
