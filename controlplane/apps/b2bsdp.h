/* b2bsdp: SDP across the two legs of a B2BUA call.
 *
 * Each leg sees only mgw's media address. What A offers is offered on to B, restricted to the
 * codecs mgw knows (PCMU, PCMA, G722, G729, opus), then the other G.711 law when A has only
 * one, then the codecs media.codecs lists (mgw transcodes to them). When B answers, the plan
 * fixes each leg's codec and telephone-event payload type: the same codec on both legs when
 * A offered what B chose (relayed as it is), otherwise transcoded: mu-law <-> A-law by a byte
 * map, any other pair through the decode -> jitter buffer -> encode pipeline. */
#ifndef MGW_B2BSDP_H
#define MGW_B2BSDP_H

#include <stdbool.h>

#include "controlplane/sip/sdp.h"
#include "shared/stream.h"

#define B2BSDP_MAX_CODECS 8

struct b2bsdp_plan {
	struct sdp_codec codec[2]; /* per leg (0 = A, 1 = B), in that leg's payload numbering */
	int te_pt[2];              /* telephone-event payload type per leg, -1 = none */
	bool transcode;            /* the legs use different codecs */
};

/**
 * The codec names to offer to B for @a_offer (A's known codecs in A's order, then the other
 * G.711 law if A has only one, then the audio codecs of @pref (media.codecs) not yet named,
 * then telephone-event when A has it or @te: mgw turns A's SIP INFO digits into RFC 4733
 * itself). Returns how many names were written to @out (0: nothing in A's offer that mgw can
 * carry).
 */
unsigned b2bsdp_offer_codecs(const struct sdp_stream *a_offer, bool te, const char *const *pref,
			     unsigned n_pref, const char **out, unsigned max);

/**
 * Plan both legs from A's offer and B's answer: B's first known codec; A's the same when A
 * offered it, else the other G.711 law, else A's codec ranked first by @pref (media.codecs),
 * else A's first known one. Returns SDP_OK, or SDP_ERR_NO_CODEC when either side has no
 * codec mgw knows.
 */
int b2bsdp_plan(const struct sdp_stream *a_offer, const struct sdp_stream *b_answer,
		const char *const *pref, unsigned n_pref, struct b2bsdp_plan *out);
/** The plan transcodes between the two G.711 laws (the byte map, no pipeline). */
bool b2bsdp_byte_map(const struct b2bsdp_plan *p);

/** The direction a leg's own SDP declares, as STREAM_DIR_* flags for its stream:
 *  sendonly -> RECV only, recvonly -> SEND only, inactive or c=0.0.0.0 -> no SEND. */
uint8_t b2bsdp_stream_dir(const struct sdp_stream *leg_sdp);

/**
 * Write an offer with exactly @codec (and telephone-event as @te_pt when >= 0) for a leg
 * whose codec is already agreed (re-INVITE, UPDATE). Returns the length, or -1.
 */
int b2bsdp_write_offer(char *buf, size_t len, const struct sdp_codec *codec, int te_pt,
		       struct in_addr local, uint16_t port, unsigned ptime, uint64_t sess_id,
		       uint64_t sess_ver, enum sdp_dir dir);

#endif
