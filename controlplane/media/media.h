/* media: media endpoints in the data plane: an even port on one of the pool's media
 * addresses, and the stream published in the session table at (address, port). The control
 * plane's single writer of the table goes through here. */
#ifndef MGW_MEDIA_H
#define MGW_MEDIA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "controlplane/config.h"
#include "shared/stream.h"

struct media_ep {
	uint8_t addr_idx;        /* index in the media address pool */
	uint16_t port;           /* host order, 0 = none */
	uint64_t stream_id;      /* id of the published stream, 0 = not published */
};

struct media_peer {
	struct in_addr ip;       /* 0 = unknown: learn it by latching */
	uint16_t port;           /* host order */
};

int media_init(const struct config *cfg, char *err, size_t err_len);
void media_shutdown(void);
/** The session table (created by media_init) for the data plane. */
struct stream_table *media_table(void);
/** The first media address (the one SIP calls use). */
struct in_addr media_ip(void);
unsigned media_n_addrs(void);
struct in_addr media_addr(unsigned idx);

/** Reserve a port on the first address. Returns 0 or -1 when its pool is exhausted. */
int media_ep_alloc(struct media_ep *ep);
/** Reserve a port on address @addr_idx. Returns 0 or -1 when that pool is exhausted. */
int media_ep_alloc_at(struct media_ep *ep, unsigned addr_idx);
/** Publish an echo stream on @ep (peer from SDP, may be 0). Returns 0 or -errno. */
int media_ep_echo(struct media_ep *ep, struct in_addr peer, uint16_t peer_port);
/**
 * Publish (or republish, when already published) @a and @b as the two legs of a relay:
 * what arrives on @a from @pa goes out from @b to @pb and back. A leg whose peer is unknown
 * latches onto the first packet from anywhere; a known peer's leg latches as @latch (enum
 * stream_latch: from anywhere, from the peer's IP, or only from its exact address).
 * @translate makes each leg its own RTP source. Returns 0 or -errno.
 */
int media_ep_relay(struct media_ep *a, struct media_ep *b, const struct media_peer *pa,
		   const struct media_peer *pb, uint8_t latch, bool translate);
/* Per-leg options of a relay: the media direction the leg's SDP declares (STREAM_DIR_*), and
 * what happens to the RTP it sends on its way to the other leg (payload type renumbering,
 * G.711 transcoding). */
struct media_leg_opts {
	uint8_t dir;
	struct transcode_pt_map map;
};

/** media_ep_relay() with per-leg options (@oa for what @a receives, @ob for @b). */
int media_ep_relay_opts(struct media_ep *a, struct media_ep *b, const struct media_peer *pa,
			const struct media_peer *pb, uint8_t latch, bool translate,
			const struct media_leg_opts *oa, const struct media_leg_opts *ob);
/** Unpublish the stream (freed after a grace period) and return the port. */
void media_ep_release(struct media_ep *ep);
/** The published stream, for statistics (word-sized fields, read as they are), or NULL. */
const struct stream *media_ep_stream(const struct media_ep *ep);
/** Counters of the published stream (a snapshot of word-sized fields), or -1. */
int media_ep_stats(const struct media_ep *ep, struct stream_rt *out);
/** Wait until no worker can still hold a stream unpublished before this call. */
void media_sync(void);

unsigned media_ports_free(void);
unsigned media_ports_total(void);
unsigned media_streams(void);
/** Bytes of memory one stream takes, and the table's slot arrays in all. */
size_t media_stream_bytes(void);
size_t media_table_bytes(void);

#endif
