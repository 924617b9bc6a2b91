/* media: media endpoints in the data plane: an even port on one of the pool's media
 * addresses, and the stream configs published in the stream table at (address, port). The
 * control plane's single writer of the table goes through here.
 *
 * An endpoint keeps one stream id from its first publication to its release, so the state
 * the data plane keeps for it (latched peer, RTP statistics, counters) survives every
 * republication: re-INVITE, hold, 183 -> 200. Its latched peers are voided only when its SDP
 * peer moves to another non-zero address (a new latch generation). A released port returns
 * to the pool after a grace period (media_poll()), when no worker can still hold its config. */
#ifndef MGW_MEDIA_H
#define MGW_MEDIA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "controlplane/config.h"
#include "shared/msg.h"
#include "shared/stream.h"

struct media_ep {
	uint8_t addr_idx;        /* index in the media address pool */
	uint16_t port;           /* host order, 0 = none */
	uint64_t stream_id;      /* the endpoint's stream id, 0 = never published */
	bool published;
	uint32_t sdp_ip;         /* the last non-zero SDP peer published, network order */
	uint16_t sdp_port;       /* network order */
	uint16_t latch_gen;
};

struct media_peer {
	struct in_addr ip;       /* 0 = unknown: learn it by latching */
	uint16_t port;           /* host order */
	uint8_t te_pt;           /* the telephone-event payload type it sends (96-127), 0 = none:
				  * its RFC 4733 events are reported (dlg_dtmf) */
};

/* An RFC 4733 event received on a stream (from the worker's MSG_EV_DTMF), for whoever owns
 * the stream (dlg_dtmf, ngcall_dtmf). */
struct media_dtmf {
	char digit;        /* 0-9 * # A-D, '!' for flash */
	uint8_t volume;    /* dBm0 below 0 */
	uint16_t duration; /* timestamp units (8 kHz: 8 per ms) */
	bool cut;          /* no end packet came: the duration is the last one seen */
	bool inband;       /* heard as tones in the audio (no telephone-event on that leg) */
};

/** Append digit @d to the digits kept in @keep (@cap bytes, a string), dropping the oldest
 *  when it is full. */
static inline void media_dtmf_keep(char *keep, size_t cap, char d)
{
	size_t n = strlen(keep);
	if (n + 1 >= cap) {
		memmove(keep, keep + 1, n - 1);
		n--;
	}
	keep[n] = d;
	keep[n + 1] = '\0';
}

/* Per-leg options of a relay: the media direction the leg's SDP declares (STREAM_DIR_*), and
 * what happens to the RTP it sends on its way to the other leg (payload type renumbering,
 * G.711 transcoding). */
struct media_leg_opts {
	uint8_t dir;
	struct stream_pt_map map;
	uint8_t vad;             /* STREAM_VAD_*: watch the leg's G.711 audio level */
	uint8_t inband;          /* STREAM_VAD_*: listen for in-band DTMF in the leg's audio */
	uint32_t clock;          /* RTP clock of what the leg receives (its jitter's units),
				  * 0 = 8000 */
	/* transcode what the leg receives (in_codec STREAM_CODEC_NONE: do not): codecs,
	 * payload types, packet times and telephone-event; gen and the RTP source are set here */
	struct stream_xcode xc;
};

int media_init(const struct config *cfg, char *err, size_t err_len);
void media_shutdown(void);
/** The stream table (created by media_init) for the data plane. */
struct stream_table *media_table(void);
unsigned media_n_addrs(void);
struct in_addr media_addr(unsigned idx);
/** The endpoint's local media address. */
static inline struct in_addr media_ep_addr(const struct media_ep *ep)
{
	return media_addr(ep->addr_idx);
}

/** Reserve a port on the pool's address with the most free ports. Returns 0, or -1 when the
 *  whole pool is exhausted. */
int media_ep_alloc(struct media_ep *ep);
/** Reserve a port on address @addr_idx. Returns 0 or -1 when that address is exhausted. */
int media_ep_alloc_at(struct media_ep *ep, unsigned addr_idx);
/** Take back port @port on address @addr_idx for a call restored after a restart (a new
 *  stream id; the peer latches again). Restores come in one batch at start-up, before any
 *  other allocation, ended by media_restore_done(). Returns 0 or -1 (not in the pool, or
 *  taken). */
int media_ep_restore(struct media_ep *ep, unsigned addr_idx, uint16_t port);
void media_restore_done(void);
/** Publish an echo stream on @ep (@peer from SDP, may be 0: latched from the first packet).
 *  Returns 0 or -errno. */
int media_ep_echo(struct media_ep *ep, const struct media_peer *peer, uint8_t latch);
/**
 * Publish (or republish) @a and @b as the two legs of a relay: what arrives on @a from @pa
 * goes out from @b to @pb and back. A leg whose peer is unknown latches onto the first packet
 * from anywhere; a known peer's leg latches as @latch (enum stream_latch). @translate makes
 * each leg its own RTP source. @oa/@ob: per-leg options, NULL for the defaults. Returns 0 or
 * -errno.
 */
int media_ep_relay(struct media_ep *a, struct media_ep *b, const struct media_peer *pa,
		   const struct media_peer *pb, uint8_t latch, bool translate,
		   const struct media_leg_opts *oa, const struct media_leg_opts *ob);
/** Unpublish the stream (retired after a grace period) and give back the port (after it). */
void media_ep_release(struct media_ep *ep);
/** A snapshot of the endpoint's statistics (zeros when not published or no packet yet).
 *  Returns 0, or -1 when the endpoint has no published stream. */
int media_ep_stats(const struct media_ep *ep, struct stream_stats *out);
/** The endpoint's published config (its SDP peer, action), or NULL. */
const struct stream_cfg *media_ep_cfg(const struct media_ep *ep);
/** Play what @tmpl describes (a copy of it: its gen, refs and, when 0, ptime_ms are set here)
 *  on the stream at (@addr_idx, @port): the stream's config is republished carrying it, with
 *  STREAM_DIR_PLAY (a relay's other leg with it), and the owner worker is told. The play
 *  survives later republications (re-INVITE) until it ends or is stopped, and is freed with
 *  the last config that carries it. Returns the play's gen, or 0 with -errno in @rc (when not
 *  NULL; -ENOENT: no stream there). */
uint32_t media_play_copy(unsigned addr_idx, uint16_t port, const struct stream_play *tmpl,
			 int *rc);
static inline uint32_t media_ep_play_copy(const struct media_ep *ep,
					  const struct stream_play *tmpl)
{
	return media_play_copy(ep->addr_idx, ep->port, tmpl, NULL);
}
/** Stop what plays on the stream at (@addr_idx, @port). Returns 0 or -errno (-ENOENT). */
int media_play_stop(unsigned addr_idx, uint16_t port);
static inline int media_ep_play_stop(const struct media_ep *ep)
{
	return media_play_stop(ep->addr_idx, ep->port);
}
/** A worker's MSG_EV_PLAY: a play asked of a worker that does not own the stream goes to the
 *  owner (returns 0); an ended play leaves the stream's config (returns 1 when it played to
 *  its end, -1 when it could not be played). @gen: the play's. */
int media_play_event(const struct msg_event *ev, uint32_t *gen);
/** MSG_EV_RTCP_MOVED: the RTCP reports of an echo stream go to the worker that owns it. */
void media_rtcp_moved(const struct msg_event *ev);
/** Play commands waiting for room in a worker's command ring (sent again by media_poll). */
size_t media_play_pending(void);
/** Index of media address @ip (network order) in the pool, or -1. */
int media_addr_index(uint32_t ip);
/** Wait until no worker can still hold a config unpublished before this call. */
void media_sync(void);
/** Free the configs retired since the last call and give back the ports released, after a
 *  grace period. Control loop, every turn. */
void media_poll(void);

unsigned media_ports_free(void);
unsigned media_ports_total(void);
/** Ports released but still waiting for their grace period. */
unsigned media_ports_cooling(void);
unsigned media_streams(void);
/** Bytes of memory one stream takes (config and state), and the table's arrays in all. */
size_t media_stream_bytes(void);
size_t media_table_bytes(void);
/** Microseconds since the data plane's @tsc (a stream's last_rx_tsc), 0 when @tsc is 0. */
uint64_t media_tsc_age_us(uint64_t tsc);

#endif
