/* media: a call's media endpoint in the data plane: an even port from the pool, and the stream
 * published in the session table at (media IP, port). The control plane's single writer of
 * the table goes through here. */
#ifndef MGW_MEDIA_H
#define MGW_MEDIA_H

#include <netinet/in.h>
#include <stdint.h>

#include "controlplane/config.h"
#include "shared/stream.h"

struct media_ep {
	uint16_t port;           /* host order, 0 = none */
	uint64_t stream_id;      /* id of the published stream, 0 = not published */
};

int media_init(const struct config *cfg, char *err, size_t err_len);
void media_shutdown(void);
/** The session table (created by media_init) for the data plane. */
struct stream_table *media_table(void);
struct in_addr media_ip(void);

/** Reserve a port. Returns 0 or -1 when the pool is exhausted. */
int media_ep_alloc(struct media_ep *ep);
/** Publish an echo stream on @ep (peer from SDP, may be 0). Returns 0 or -errno. */
int media_ep_echo(struct media_ep *ep, struct in_addr peer, uint16_t peer_port);
/** Unpublish the stream (freed after a grace period) and return the port. */
void media_ep_release(struct media_ep *ep);
/** Counters of the published stream (a snapshot of word-sized fields), or -1. */
int media_ep_stats(const struct media_ep *ep, struct stream_rt *out);

unsigned media_ports_free(void);
unsigned media_ports_total(void);
unsigned media_streams(void);

#endif
