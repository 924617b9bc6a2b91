/* dtmf: RFC 4733 telephone-events received on a stream, reduced to one report per event
 * (a digit and how long it lasted). The worker feeds it every RTP packet of a stream whose
 * peer negotiated telephone-event; it keeps its state in the stream's (struct stream_dtmf)
 * and says when an event is complete: its first end packet (the two retransmissions that
 * follow are ignored), or, when every end packet was lost, the next event's start or audio
 * well past the event's end. No allocation, no system call. */
#ifndef MGW_DTMF_H
#define MGW_DTMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/stream.h"

#define DTMF_MAX_EVENT 16     /* 0-9 * # A-D flash: the events reported */
#define DTMF_CUT_GAP 800      /* audio this far (timestamp units) past an event's end that
			       * never ended reports it as cut (100 ms at 8 kHz) */

struct dtmf_report {
	uint8_t event, volume, flags; /* flags: MSG_DTMF_ENDED or MSG_DTMF_CUT */
	uint16_t duration;
};

enum dtmf_verdict {
	DTMF_NONE = 0,    /* nothing to report */
	DTMF_REPORT = 1,  /* @out holds an event */
	DTMF_BAD = -1,    /* a telephone-event packet too short to be one: drop it */
	DTMF_ABSURD = -2, /* an event ended with a duration of 0: counted, not reported */
};

/** Take RTP packet @rtp (@len bytes from the RTP header on, already checked to be version 2
 *  with a full fixed header) of a stream with state @s; @te: its payload type is the
 *  stream's telephone-event. */
enum dtmf_verdict dtmf_rx(struct stream_dtmf *s, const uint8_t *rtp, size_t len, bool te,
			  struct dtmf_report *out);

/** The digit of event @e: "0123456789*#ABCD!" ('!' = flash), '?' beyond. */
static inline char dtmf_char(unsigned e)
{
	return e <= DTMF_MAX_EVENT ? "0123456789*#ABCD!"[e] : '?';
}

#endif
