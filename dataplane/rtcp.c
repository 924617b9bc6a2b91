#include "dataplane/rtcp.h"

#include <string.h>

#include "dataplane/rtp.h"

enum { RTCP_SR = 200, RTCP_RR = 201 };

int rtcp_parse(const uint8_t *p, size_t len, struct rtcp_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 8)
		return -1;
	for (size_t off = 0; off < len;) {
		if (len - off < 4 || (p[off] >> 6) != 2)
			return -1;
		unsigned rc = p[off] & 0x1f, pt = p[off + 1];
		size_t plen = 4 * ((size_t)(p[off + 2] << 8 | p[off + 3]) + 1);
		if (plen > len - off)
			return -1;
		const uint8_t *q = p + off;
		size_t blocks = 0; /* offset of the report blocks in this packet */
		if (pt == RTCP_SR && plen >= 28) {
			if (!out->sr) {
				out->sr = true;
				out->sr_ntp_mid = rtp_be32(q + 10); /* low 16 of the seconds, high 16 of the fraction */
			}
			blocks = 28;
		} else if (pt == RTCP_RR && plen >= 8) {
			blocks = 8;
		}
		if (blocks && rc && !out->rb) {
			if (blocks + 24 * (size_t)rc > plen)
				return -1;
			const uint8_t *b = q + blocks;
			out->rb = true;
			out->fraction_lost = b[4];
			out->jitter = rtp_be32(b + 12);
			out->lsr = rtp_be32(b + 16);
			out->dlsr = rtp_be32(b + 20);
		}
		off += plen;
	}
	return 0;
}

int64_t rtcp_rtt_us(uint64_t sr_word, uint32_t lsr, uint32_t dlsr, uint32_t now_us)
{
	if (!sr_word || !lsr || (uint32_t)(sr_word >> 32) != lsr)
		return -1;
	uint32_t held_us = (uint32_t)(((uint64_t)dlsr * 1000000u) >> 16);
	int64_t rtt = (int64_t)(uint32_t)(now_us - (uint32_t)sr_word) - (int64_t)held_us;
	/* the clock of the report's sender runs a little apart from ours: a few ms below 0 is
	 * 0; more, or beyond 10 s, is not a round trip */
	if (rtt < -5000 || rtt > 10000000)
		return -1;
	return rtt < 0 ? 0 : rtt;
}
