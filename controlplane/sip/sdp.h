/* sdp: SDP offer/answer for audio streams (RFC 3264), on libosip2's SDP parser.
 *
 * The control plane parses a peer's offer into an sdp_stream description, negotiates it against
 * the codecs mgw supports, and writes an answer (or, for an INVITE without SDP, an offer) with
 * mgw's media address. Supported codecs: PCMU (0), PCMA (8) and telephone-event (dynamic). */
#ifndef MGW_SDP_H
#define MGW_SDP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/stream.h"

#define SDP_MAX_PT 32
#define SDP_MAX_MEDIA 8 /* m= lines per description; more is SDP_ERR_PARSE */

enum sdp_dir { SDP_SENDRECV = 0, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };

struct sdp_codec {
	uint8_t pt;          /* payload type */
	char name[24];       /* encoding name as in rtpmap, e.g. "PCMU" */
	uint32_t clock_rate; /* e.g. 8000 */
};

/** The first usable audio stream of a session description, and the shape of every m= line
 * (an answer must have as many m= lines as the offer, rejected ones echoing its values). */
struct sdp_stream {
	struct in_addr addr;  /* connection address (media-level c= wins over session-level) */
	uint16_t port;        /* m= port, 0 = stream rejected/disabled */
	unsigned n_codecs;    /* payload types in m= order */
	struct sdp_codec codecs[SDP_MAX_PT];
	enum sdp_dir dir;
	unsigned ptime;       /* a=ptime, 0 if absent */
	unsigned audio_index; /* index of the chosen m= line among all m= lines */
	unsigned n_media;     /* number of m= lines in the description, <= SDP_MAX_MEDIA */
	struct {
		char media[16]; /* e.g. "video"; longer values are truncated */
		char proto[32]; /* e.g. "RTP/AVP" */
		char fmt[16];   /* first format, e.g. "31" */
	} mlines[SDP_MAX_MEDIA]; /* all m= lines in order, [0, n_media) valid */
};

/** Result of negotiation: the codec both sides use and whether telephone-event is on. */
struct sdp_nego {
	struct sdp_codec codec; /* the chosen audio codec */
	int te_pt;              /* telephone-event payload type, -1 if not negotiated */
	enum sdp_dir dir;       /* our direction in the answer (mirror of the offer) */
	unsigned ptime;
};

/** The codec mgw knows @c as (its rtpmap name and clock), STREAM_CODEC_NONE when none. */
enum stream_codec sdp_codec_id(const struct sdp_codec *c);

/** The a=rtpmap line of @c, and its a=fmtp when mgw writes one (G.729 annexb=no, Opus's FEC),
 *  each ending in CRLF. Returns the length, or -1 when @len is too small. */
int sdp_codec_attrs(const struct sdp_codec *c, char *out, size_t len);

enum sdp_err {
	SDP_OK = 0,
	SDP_ERR_PARSE = -1,     /* not parseable SDP -> 400 */
	SDP_ERR_NO_AUDIO = -2,  /* no audio m= line over RTP/AVP -> 488 */
	SDP_ERR_NO_CONN = -3,   /* no c= line for the audio stream -> 400 */
	SDP_ERR_NO_CODEC = -4,  /* no codec in common -> 488 */
};

/**
 * Parse @body (@len bytes, need not be NUL-terminated). Returns SDP_OK or an sdp_err;
 * SDP_ERR_PARSE also for more than SDP_MAX_MEDIA m= lines or an m= line without a format.
 */
int sdp_parse(const char *body, size_t len, struct sdp_stream *out);

/**
 * Negotiate @offer against our codec list @ours (names in preference order, e.g. "PCMU",
 * "PCMA", "telephone-event"): the first codec in the offer's order that we support wins (the
 * offerer's preference, RFC 3264 6.1); telephone-event is added when both have it.
 * Returns SDP_OK or SDP_ERR_NO_CODEC.
 */
int sdp_negotiate(const struct sdp_stream *offer, const char *const *ours, unsigned n_ours,
		  struct sdp_nego *out);

/**
 * Write an answer to @offer into @buf: same number of m= lines, non-audio (and extra audio)
 * lines rejected with port 0 and the offer's media, proto and first format (RFC 3264 6), the
 * audio line with @local/@port and the negotiated codec(s). @sess_id/@sess_ver go to the o=
 * line. Returns the length written, or -1 if @buf is too small or @offer is not as sdp_parse
 * fills it (n_media 0 or above SDP_MAX_MEDIA, audio_index not below n_media).
 */
int sdp_write_answer(char *buf, size_t len, const struct sdp_stream *offer,
		     const struct sdp_nego *nego, struct in_addr local, uint16_t port,
		     uint64_t sess_id, uint64_t sess_ver);

/**
 * Write an offer with all our codecs (@ours, in order) for @local/@port.
 * Returns the length written, or -1 if @buf is too small.
 */
int sdp_write_offer(char *buf, size_t len, const char *const *ours, unsigned n_ours,
		    struct in_addr local, uint16_t port, unsigned ptime, uint64_t sess_id,
		    uint64_t sess_ver);

/** sdp_write_offer() with the direction attribute @dir (hold: sendonly / inactive). */
int sdp_write_offer_dir(char *buf, size_t len, const char *const *ours, unsigned n_ours,
			struct in_addr local, uint16_t port, unsigned ptime, uint64_t sess_id,
			uint64_t sess_ver, enum sdp_dir dir);

/**
 * Take the answer to an offer we made (@our_offer codecs @ours): parse @answer, check that its
 * codec is one we offered. Returns SDP_OK with @out filled, or an sdp_err.
 */
int sdp_take_answer(const char *answer, size_t len, const char *const *ours, unsigned n_ours,
		    struct sdp_stream *media, struct sdp_nego *out);

#endif
