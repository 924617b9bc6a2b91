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

/* In-band DTMF (ITU-T Q.23 tone pairs in the audio) on a G.711 stream whose peer took no
 * telephone-event: each packet's payload is one block for eight Goertzel filters; a digit is
 * a block whose energy lies almost all in one row and one column frequency (each clearly
 * above the others of its group, the two within 8 dB of each other, the level above about
 * -34 dBm0). A tone is reported once, when it stops, with its length, if it lasted 40 ms or
 * more. The state lives in the stream's struct stream_dtmf, which such a stream does not use
 * otherwise (ts counts the tone's samples). */
#define DTMF_INBAND_MIN 320 /* samples (40 ms) a tone must last to count */

/** Build the tables (once, before the workers start). */
void dtmf_init(void);
/** Take the payload of a G.711 RTP packet (@law: STREAM_VAD_PCMU or _PCMA) of a stream with
 *  state @s. DTMF_REPORT when a tone just ended (flags MSG_DTMF_ENDED | MSG_DTMF_INBAND). */
enum dtmf_verdict dtmf_inband(struct stream_dtmf *s, const uint8_t *payload, size_t n,
			      uint8_t law, struct dtmf_report *out);

#define DTMF_INBAND_BLOCK_MAX 480 /* samples at 8 kHz a block holds (60 ms) */
/** The same for a block of decoded audio (a transcoding pipeline's, @rate 8000 or 16000),
 *  @n samples (at most DTMF_INBAND_BLOCK_MAX at 8 kHz). */
enum dtmf_verdict dtmf_inband_pcm(struct stream_dtmf *s, const int16_t *pcm, size_t n,
				  unsigned rate, struct dtmf_report *out);

/** The digit of event @e: "0123456789*#ABCD!" ('!' = flash), '?' beyond. */
static inline char dtmf_char(unsigned e)
{
	return e <= DTMF_MAX_EVENT ? "0123456789*#ABCD!"[e] : '?';
}

#endif
