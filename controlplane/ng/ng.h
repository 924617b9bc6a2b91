/* ng: the rtpengine NG control protocol, so that Kamailio's and OpenSIPS' rtpengine modules
 * (and rtpengine's own clients) can drive mgw as a media node.
 *
 * UDP datagrams "COOKIE DICT": a cookie (1 to 64 bytes, no space), one space, a bencoded
 * dictionary with a "command" string. The reply carries the same cookie and a dictionary
 * with "result" ("pong", "ok" or "error", with "error-reason"). Only sources in ng.allow are
 * answered; others are dropped and counted. A retransmitted request (same cookie, same
 * source) gets the reply it already got, without running the command again.
 *
 * Implemented so far: ping, and offer, answer, delete, query, list, statistics (ngcall.h).
 * The media commands (play media, DTMF, block, recording) answer an NG error saying they are
 * not supported yet; anything else, an NG error naming the unknown command. The control
 * thread owns it. */
#ifndef MGW_NG_H
#define MGW_NG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "controlplane/config.h"
#include "controlplane/ng/bencode.h"

enum ng_cmd_idx {
	NG_C_PING, NG_C_OFFER, NG_C_ANSWER, NG_C_DELETE, NG_C_QUERY, NG_C_LIST, NG_C_STATISTICS,
	NG_C_OTHER, NG_C_MAX
};
extern const char *const ng_cmd_names[NG_C_MAX];

struct ng_stats {
	uint64_t rx;          /* datagrams received */
	uint64_t refused;     /* from a source not in ng.allow: dropped */
	uint64_t bad;         /* no cookie, or not a bencoded dictionary with a command */
	uint64_t replies;     /* replies sent */
	uint64_t errors;      /* of those, NG errors */
	uint64_t resent;      /* retransmitted requests answered from the reply cache */
	uint64_t pings;
	uint64_t commands;    /* offer, answer, delete, query, list, statistics */
	uint64_t by_command[NG_C_MAX]; /* requests with a command, by command */
	uint64_t errors_by_command[NG_C_MAX]; /* of those, answered with an NG error */
};

/** Open the NG socket (ng.port 0: none). Returns 0, or -1 with a message in @err. */
int ng_init(const struct config *cfg, char *err, size_t err_len);
void ng_shutdown(void);
/** The socket to watch for EPOLLIN, -1 when NG is off. */
int ng_fd(void);
/** Read and answer what is waiting; never blocks. */
void ng_on_readable(void);
/** One datagram @buf from @src: the reply goes to @out (empty when there is none to send). */
void ng_handle(const char *buf, size_t len, const struct sockaddr_in *src, struct be_buf *out);
const struct ng_stats *ng_get_stats(void);

#endif
