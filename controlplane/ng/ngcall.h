/* ngcall: the media sessions the NG protocol creates (offer, answer, delete, query, list,
 * statistics), each a relay pair in the data plane between the caller's side (A, described
 * by the offer) and the callee's side (B, by the answer), and the SDP rewriting that puts
 * mgw's addresses and ports in their place. One audio stream per session; other m= lines are
 * refused (port 0); ICE attributes are removed (mgw anchors the media itself). The control
 * thread owns them. */
#ifndef MGW_NGCALL_H
#define MGW_NGCALL_H

#include <stddef.h>
#include <stdint.h>

#include "controlplane/config.h"
#include "controlplane/media/media.h"
#include "controlplane/ng/bencode.h"
#include "controlplane/sip/sdp.h"

void ngcall_init(const struct config *cfg);
/** Carry out @cmd (a decoded NG request) writing the rest of the reply dictionary (result,
 *  sdp, error-reason...) into @out. Returns 0, or -1 when the command is not one of ngcall's
 *  (nothing written). */
int ngcall_command(const struct be_node *req, struct be_buf *out);
unsigned ngcall_count(void);
/** An RFC 4733 event received on @stream_id, if it is one of a session's: kept for query and
 *  logged. Returns false when no session has the stream. (A walk over the sessions: digits
 *  come at human speed.) */
bool ngcall_dtmf(uint64_t stream_id, const struct media_dtmf *ev);
void ngcall_shutdown(void);

#define NGC_MAX_STRIP 16
#define NGC_MAX_ADD 5 /* codecs mgw may add to an offer: every one it transcodes */

/* What an offer or answer asks of the SDP it hands on (from the request's flags and keys). */
struct ngcall_sdp_opts {
	bool replace_origin;         /* replace: [origin]: mgw's address in the o= line too */
	char proto[24];              /* transport-protocol: the audio m= line's, "" = keep */
	unsigned ptime;              /* ptime: a=ptime of the audio stream, 0 = keep */
	unsigned n_strip;            /* codec: strip (and mask): encodings to remove, by name */
	char strip[NGC_MAX_STRIP][24]; /* ("all" removes every codec but telephone-event) */
	unsigned n_keep;             /* codec: offer: when any, every codec not named goes too */
	char keep[NGC_MAX_STRIP][24];
	unsigned n_add;              /* codecs to add (transcoding), each with its a=rtpmap (and */
	struct sdp_codec add[NGC_MAX_ADD]; /* a=fmtp), unless the stream has its number already */
	bool add_first;              /* before the others (an answer's choice), else after */
};

/** Rewrite SDP @in (@len bytes) for mgw's @ip (dotted) and @port: every c= line, the first
 *  audio m= line's port (others set to 0), a=rtcp removed, ICE attributes removed, and what
 *  @o asks (NULL: nothing more). Returns the new text's length in @out (@cap bytes), or -1
 *  (no audio m= line, no codec left, or no room). */
int ngcall_sdp_rewrite(const char *in, size_t len, const char *ip, unsigned port,
		       const struct ngcall_sdp_opts *o, char *out, size_t cap);

/* A payload type of the audio stream and its encoding name (a=rtpmap, or RFC 3551's static
 * assignment; "" when unknown). */
struct ngcall_codec {
	int pt;
	char name[24];
	uint32_t clock; /* the rtpmap's rate (8000 for a static type without one) */
};
/** The formats of SDP @in's first audio m= line, in their order, at most @max. Returns how
 *  many, or -1 without an audio m= line. */
int ngcall_sdp_codecs(const char *in, size_t len, struct ngcall_codec *out, unsigned max);

#endif
