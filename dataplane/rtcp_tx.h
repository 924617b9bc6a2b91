/* rtcp_tx: RTCP that mgw sends itself where it terminates media (echo, announcements: the
 * streams whose action is ECHO). RFC 3550: every report interval (5 s, randomised between
 * 0.5 and 1.5 times it; the first after half of it) a compound packet to the stream's RTCP
 * peer: a sender report when mgw has sent RTP (NTP time from the wall clock, the RTP
 * timestamp of that instant, packets and payload octets sent), else a receiver report; a
 * report block about the peer's stream from the worker's RFC 3550 statistics (fraction lost
 * since the last report, cumulative lost, extended highest sequence, jitter, LSR/DLSR of the
 * peer's last sender report); an SDES CNAME.
 *
 * The control plane tells the stream's owner worker once (MSG_CMD_RTCP) when an echo stream
 * is first published; the worker keeps it in a timing wheel of RTCP_TX_TICK_MS slots until
 * the stream is no longer an echo stream of that id. Worker-private. */
#ifndef MGW_RTCP_TX_H
#define MGW_RTCP_TX_H

#include <stdint.h>

#include "shared/msg.h"

struct dp_worker;

#define RTCP_TX_INTERVAL_MS 5000
#define RTCP_TX_TICK_MS 10
#define RTCP_TX_SLOTS 1024 /* 10.24 s a turn: longer than the longest interval */
#define RTCP_TX_MAX 65536  /* streams one worker reports on */

struct rtcp_tx_entry {
	uint64_t stream_id;
	uint64_t due;             /* rte_rdtsc() */
	uint32_t expected_prior;  /* RFC 3550 A.3: at the last report */
	uint32_t received_prior;
	int32_t next;             /* same slot, or the free list; -1 = end */
	uint16_t port;
	uint8_t addr_idx;
};

struct rtcp_tx {
	struct rtcp_tx_entry *e;  /* RTCP_TX_MAX */
	int32_t slot[RTCP_TX_SLOTS];
	int32_t free;
	uint32_t n;
	uint64_t tick, tsc_tick;
	uint64_t next_tsc;        /* where the next tick begins */
	uint32_t rng;
};

int rtcp_tx_init(struct rtcp_tx *t, uint64_t tsc_hz);
void rtcp_tx_free(struct rtcp_tx *t);
/** MSG_CMD_RTCP: report on the stream from now on. */
void rtcp_tx_start(struct dp_worker *w, const struct msg_cmd *cmd);
/** Send the reports that are due. Every poll loop; cheap when none is. */
void rtcp_tx_poll(struct dp_worker *w);

#endif
