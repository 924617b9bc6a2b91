/* rtcp: what a relayed compound RTCP packet tells about the path to the peer that sent it.
 * A sender report's NTP time (its middle 32 bits) is noted on the leg it came in on, with
 * the time it passed through mgw; when the other peer's report block names that sender
 * report (LSR) and how long it held it (DLSR), the round trip between mgw and that other
 * peer is what passed since minus DLSR (RFC 3550 6.4.1, measured at mgw instead of at the
 * sender). Parsing only: the packet itself is relayed unchanged, readable or not. */
#ifndef MGW_RTCP_H
#define MGW_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rtcp_info {
	bool sr;              /* a sender report: */
	uint32_t sr_ntp_mid;  /* the middle 32 bits of its NTP timestamp */
	bool rb;              /* a report block (the first of the first SR/RR that has one): */
	uint32_t lsr, dlsr;   /* last SR it names, delay since it (1/65536 s) */
	uint8_t fraction_lost; /* of what the reporter received from its sender, /256 */
	uint32_t jitter;      /* as the reporter measures it, timestamp units */
};

/** Read compound RTCP packet @p (@len bytes). Returns 0 with @out filled, or -1 when it is
 *  not well-formed RTCP (version, lengths: e.g. SRTCP's trailer). */
int rtcp_parse(const uint8_t *p, size_t len, struct rtcp_info *out);

/** The round trip in microseconds from a report block's @lsr/@dlsr, given the sender report
 *  noted as @sr_word (rtcp_sr_word) and the time now (@now_us, same clock, 32 bits wrap).
 *  Returns -1 when the block does not name that sender report or the result is absurd. */
int64_t rtcp_rtt_us(uint64_t sr_word, uint32_t lsr, uint32_t dlsr, uint32_t now_us);

/* A report mgw sends where it terminates media (rtcp_tx.c): a sender report when it has sent
 * RTP, else a receiver report; one report block about the peer's stream when it has heard
 * one; an SDES CNAME. */
struct rtcp_report {
	uint32_t ssrc;        /* ours */
	bool sender;          /* SR (we sent RTP) or RR */
	uint64_t ntp;         /* SR: wall clock, NTP 32.32 */
	uint32_t rtp_ts;      /* SR: our RTP timestamp for that instant */
	uint32_t pkts, octets; /* SR: what we sent */
	bool block;           /* a report block about: */
	uint32_t peer_ssrc;
	uint8_t fraction;     /* lost since the last report, /256 */
	int32_t lost;         /* cumulative (24 bits, signed) */
	uint32_t ext_max;     /* extended highest sequence number */
	uint32_t jitter;      /* timestamp units */
	uint32_t lsr, dlsr;   /* the peer's last SR (NTP middle bits), 1/65536 s since it */
	const char *cname;
};
#define RTCP_REPORT_MAX 128

/** Write @r as one compound RTCP packet into @out (RTCP_REPORT_MAX bytes). Returns its
 *  length. */
size_t rtcp_write_report(uint8_t *out, const struct rtcp_report *r);

/** The word a leg keeps of the last sender report it relayed: NTP middle bits and when. */
static inline uint64_t rtcp_sr_word(uint32_t ntp_mid, uint32_t now_us)
{
	return (uint64_t)ntp_mid << 32 | now_us;
}

#endif
