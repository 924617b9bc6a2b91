/* rtp: RTP header access and RFC 3550 receiver statistics (sequence validation, extended
 * highest sequence, expected/lost, interarrival jitter), shared by every action. */
#ifndef MGW_RTP_H
#define MGW_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>

#include "shared/stream.h"

#define RTP_HDR_LEN 12
#define RTP_SEQ_MOD (1u << 16)
#define RTP_MAX_DROPOUT 3000
#define RTP_MAX_MISORDER 100
#define RTP_MIN_SEQUENTIAL 2

struct rtp_hdr {
	uint8_t vpxcc;
	uint8_t mpt;
	uint16_t seq;  /* network order */
	uint32_t ts;   /* network order */
	uint32_t ssrc; /* network order */
} __attribute__((packed));

/** Write a fixed RTP header (version 2, no padding, extension or CSRC) for what mgw sends
 *  itself (player, transcoding). */
static inline void rtp_write_hdr(struct rtp_hdr *h, bool marker, uint8_t pt, uint16_t seq,
				 uint32_t ts, uint32_t ssrc)
{
	h->vpxcc = 0x80;
	h->mpt = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
	h->seq = rte_cpu_to_be_16(seq);
	h->ts = rte_cpu_to_be_32(ts);
	h->ssrc = rte_cpu_to_be_32(ssrc);
}

/**
 * Account one packet with sequence number @seq, RTP timestamp @ts and arrival time @arrival
 * (in the same clock units as @ts) into @s, following RFC 3550 A.1 (source validation,
 * wrap-around, resynchronisation after a large jump) and A.8 (jitter).
 */
void rtp_stats_update(struct rtp_stats *s, uint16_t seq, uint32_t ts, uint32_t arrival);

/** The big-endian 32-bit word at @p (RTP and RTCP fields, read unaligned). */
static inline uint32_t rtp_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/** Offset and end of RTP packet @rtp's payload (@len bytes, at least the fixed header):
 *  CSRCs, header extension and padding excluded. Returns 0, or -1 when the lengths
 *  contradict each other. Reads only inside [rtp, rtp + len). */
int rtp_payload(const uint8_t *rtp, size_t len, size_t *off, size_t *end);

/** Packets expected so far (extended highest sequence - base + 1). */
uint32_t rtp_stats_expected(const struct rtp_stats *s);
/** Packets lost so far (expected - received; negative with duplicates). */
int64_t rtp_stats_lost(const struct rtp_stats *s);
/** Interarrival jitter in timestamp units. */
static inline uint32_t rtp_stats_jitter(const struct rtp_stats *s) { return s->jitter >> 4; }

/** Arrival time of a TSC reading in RTP clock units, for a stream's precomputed multiplier
 *  ts_mult = (clock_rate << 32) / tsc_hz. */
static inline uint32_t rtp_arrival(uint64_t tsc, uint32_t ts_mult)
{
	return (uint32_t)(((unsigned __int128)tsc * ts_mult) >> 32);
}

#endif
