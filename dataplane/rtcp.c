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

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t rtcp_write_report(uint8_t *out, const struct rtcp_report *r)
{
	size_t n = 0;
	unsigned words = (r->sender ? 6 : 1) + (r->block ? 6 : 0); /* after the first word */
	out[0] = (uint8_t)(0x80 | (r->block ? 1 : 0));
	out[1] = r->sender ? RTCP_SR : RTCP_RR;
	out[2] = 0;
	out[3] = (uint8_t)words;
	put32(out + 4, r->ssrc);
	n = 8;
	if (r->sender) {
		put32(out + n, (uint32_t)(r->ntp >> 32));
		put32(out + n + 4, (uint32_t)r->ntp);
		put32(out + n + 8, r->rtp_ts);
		put32(out + n + 12, r->pkts);
		put32(out + n + 16, r->octets);
		n += 20;
	}
	if (r->block) {
		int32_t lost = r->lost > 0x7fffff ? 0x7fffff : r->lost < -0x800000 ? -0x800000 : r->lost;
		put32(out + n, r->peer_ssrc);
		put32(out + n + 4, (uint32_t)r->fraction << 24 | ((uint32_t)lost & 0xffffff));
		put32(out + n + 8, r->ext_max);
		put32(out + n + 12, r->jitter);
		put32(out + n + 16, r->lsr);
		put32(out + n + 20, r->dlsr);
		n += 24;
	}
	/* SDES: one chunk, our SSRC and CNAME, ended by a null item and padded to 32 bits */
	size_t cl = r->cname ? strlen(r->cname) : 0;
	if (cl > RTCP_REPORT_MAX - n - 16)
		cl = RTCP_REPORT_MAX - n - 16;
	size_t sdes = 4 + 4 + 2 + cl + 1;
	sdes = (sdes + 3) & ~(size_t)3;
	uint8_t *s = out + n;
	memset(s, 0, sdes);
	s[0] = 0x81;
	s[1] = 202; /* SDES */
	s[2] = 0;
	s[3] = (uint8_t)(sdes / 4 - 1);
	put32(s + 4, r->ssrc);
	s[8] = 1; /* CNAME */
	s[9] = (uint8_t)cl;
	memcpy(s + 10, r->cname, cl);
	return n + sdes;
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
