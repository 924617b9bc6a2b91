/* sdp: SDP offer/answer for audio streams (RFC 3264), on libosip2's SDP parser. */
#include "controlplane/sip/sdp.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <osipparser2/sdp_message.h>

#include "dataplane/codec.h"

#define SDP_TE_NAME "telephone-event"
#define SDP_TE_RATE 8000
#define SDP_OFFER_TE_PT 101
#define SDP_OFFER_OPUS_PT 111 /* the dynamic number mgw gives Opus in its offers */

/* Static payload types (RFC 3551) that need no rtpmap; all 8 kHz narrowband audio. */
static const struct sdp_codec static_pts[] = {
	{ .pt = 0, .name = "PCMU", .clock_rate = 8000 },
	{ .pt = 3, .name = "GSM", .clock_rate = 8000 },
	{ .pt = 8, .name = "PCMA", .clock_rate = 8000 },
	{ .pt = 9, .name = "G722", .clock_rate = 8000 },
	{ .pt = 18, .name = "G729", .clock_rate = 8000 },
};

static const struct sdp_codec *static_by_pt(unsigned pt)
{
	for (size_t i = 0; i < sizeof(static_pts) / sizeof(static_pts[0]); i++)
		if (static_pts[i].pt == pt)
			return &static_pts[i];
	return NULL;
}

static const struct sdp_codec *static_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(static_pts) / sizeof(static_pts[0]); i++)
		if (strcasecmp(static_pts[i].name, name) == 0)
			return &static_pts[i];
	return NULL;
}

static bool is_te(const char *name)
{
	return strcasecmp(name, SDP_TE_NAME) == 0;
}

/* A codec mgw offers that has no static payload type. */
static bool is_opus(const char *name)
{
	return strcasecmp(name, "opus") == 0;
}

enum stream_codec sdp_codec_id(const struct sdp_codec *c)
{
	return codec_by_name(c->name, c->clock_rate);
}

int sdp_codec_attrs(const struct sdp_codec *c, char *out, size_t len)
{
	const struct codec_info *ci = codec_info(sdp_codec_id(c));
	char ch[8] = "", fmtp[64] = "";
	if (ci && ci->channels > 1)
		snprintf(ch, sizeof(ch), "/%u", ci->channels);
	if (ci && ci->fmtp)
		snprintf(fmtp, sizeof(fmtp), "a=fmtp:%u %s\r\n", c->pt, ci->fmtp);
	int n = snprintf(out, len, "a=rtpmap:%u %s/%" PRIu32 "%s\r\n%s", c->pt, c->name,
			 c->clock_rate, ch, fmtp);
	return n < 0 || (size_t)n >= len ? -1 : n;
}

/* Strict decimal in [0, max]: no sign, no trailing text. Returns -1 otherwise. */
static long parse_uint(const char *s, long max)
{
	long v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	return v;
}

/* ---- parsing ---------------------------------------------------------------------------- */

/* Copy @src into @dst[@size], truncated if it does not fit. */
static void copy_token(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Keep the shape of every m= line: an answer echoes the ones it rejects. */
static int parse_mlines(sdp_message_t *sdp, struct sdp_stream *out)
{
	int n = osip_list_size(&sdp->m_medias);

	if (n < 0 || n > SDP_MAX_MEDIA)
		return SDP_ERR_PARSE;
	out->n_media = (unsigned)n;
	for (int i = 0; i < n; i++) {
		const char *media = sdp_message_m_media_get(sdp, i);
		const char *proto = sdp_message_m_proto_get(sdp, i);
		const char *fmt = sdp_message_m_payload_get(sdp, i, 0);

		/* libosip2 accepts an m= line without formats; RFC 4566 5.14 does not */
		if (media == NULL || proto == NULL || fmt == NULL)
			return SDP_ERR_PARSE;
		copy_token(out->mlines[i].media, sizeof(out->mlines[i].media), media);
		copy_token(out->mlines[i].proto, sizeof(out->mlines[i].proto), proto);
		copy_token(out->mlines[i].fmt, sizeof(out->mlines[i].fmt), fmt);
	}
	return SDP_OK;
}

/* A truncated token is longer than "audio"/"RTP/AVP", so it never matches here. */
static int find_audio(const struct sdp_stream *s)
{
	for (unsigned i = 0; i < s->n_media; i++)
		if (strcmp(s->mlines[i].media, "audio") == 0 &&
		    strcmp(s->mlines[i].proto, "RTP/AVP") == 0)
			return (int)i;
	return -1;
}

static int parse_conn(sdp_message_t *sdp, int pos, struct in_addr *addr)
{
	sdp_connection_t *c = sdp_message_connection_get(sdp, pos, 0);

	if (c == NULL)
		c = sdp_message_connection_get(sdp, -1, 0);
	if (c == NULL || c->c_nettype == NULL || c->c_addrtype == NULL || c->c_addr == NULL)
		return SDP_ERR_NO_CONN;
	if (strcmp(c->c_nettype, "IN") != 0 || strcmp(c->c_addrtype, "IP4") != 0)
		return SDP_ERR_NO_CONN;
	if (inet_pton(AF_INET, c->c_addr, addr) != 1)
		return SDP_ERR_NO_CONN;
	return SDP_OK;
}

static int parse_payloads(sdp_message_t *sdp, int pos, struct sdp_stream *out)
{
	const char *fmt;

	for (int k = 0; (fmt = sdp_message_m_payload_get(sdp, pos, k)) != NULL; k++) {
		long pt = parse_uint(fmt, 127);
		const struct sdp_codec *st;
		struct sdp_codec *c;

		if (pt < 0)
			return SDP_ERR_PARSE;
		if (out->n_codecs == SDP_MAX_PT)
			break;
		c = &out->codecs[out->n_codecs++];
		c->pt = (uint8_t)pt;
		st = static_by_pt((unsigned)pt);
		if (st != NULL)
			*c = *st;
	}
	return out->n_codecs > 0 ? SDP_OK : SDP_ERR_PARSE;
}

/* "a=rtpmap:<pt> <name>/<rate>[/<params>]" overrides what the pt number alone said. */
static void apply_rtpmap(struct sdp_stream *m, const char *val)
{
	char name[sizeof(m->codecs[0].name)];
	const char *p = val, *slash;
	unsigned long rate;
	long pt = 0;
	size_t nlen;
	char *end;

	if (*p < '0' || *p > '9')
		return;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((pt = pt * 10 + (*p - '0')) > 127)
			return;
	while (*p == ' ')
		p++;
	slash = strchr(p, '/');
	if (slash == NULL || slash == p || (nlen = (size_t)(slash - p)) >= sizeof(name))
		return;
	memcpy(name, p, nlen);
	name[nlen] = '\0';
	if (slash[1] < '0' || slash[1] > '9')
		return;
	rate = strtoul(slash + 1, &end, 10);
	if ((*end != '\0' && *end != '/') || rate == 0 || rate > UINT32_MAX)
		return;
	for (unsigned i = 0; i < m->n_codecs; i++) {
		if (m->codecs[i].pt != pt)
			continue;
		memcpy(m->codecs[i].name, name, nlen + 1);
		m->codecs[i].clock_rate = (uint32_t)rate;
	}
}

static bool parse_dir(const char *field, enum sdp_dir *dir)
{
	static const struct {
		const char *name;
		enum sdp_dir dir;
	} dirs[] = {
		{ "sendrecv", SDP_SENDRECV },
		{ "sendonly", SDP_SENDONLY },
		{ "recvonly", SDP_RECVONLY },
		{ "inactive", SDP_INACTIVE },
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (strcmp(field, dirs[i].name) == 0) {
			*dir = dirs[i].dir;
			return true;
		}
	}
	return false;
}

/* Attributes of one level (@pos -1 = session). Only what is still unset is filled, so
 * scanning the media level first makes it win over the session level. */
static void parse_attrs(sdp_message_t *sdp, int pos, struct sdp_stream *out, bool *have_dir)
{
	const char *field;

	for (int k = 0; (field = sdp_message_a_att_field_get(sdp, pos, k)) != NULL; k++) {
		const char *val = sdp_message_a_att_value_get(sdp, pos, k);
		long ptime;

		if (!*have_dir && parse_dir(field, &out->dir)) {
			*have_dir = true;
		} else if (strcmp(field, "ptime") == 0 && out->ptime == 0) {
			ptime = parse_uint(val, 1000);
			if (ptime > 0)
				out->ptime = (unsigned)ptime;
		} else if (strcmp(field, "rtpmap") == 0 && val != NULL && pos >= 0) {
			apply_rtpmap(out, val);
		}
	}
}

static int parse_message(sdp_message_t *sdp, struct sdp_stream *out)
{
	bool have_dir = false;
	int pos, rc;
	long port;

	rc = parse_mlines(sdp, out);
	if (rc != SDP_OK)
		return rc;
	pos = find_audio(out);
	if (pos < 0)
		return SDP_ERR_NO_AUDIO;
	out->audio_index = (unsigned)pos;
	port = parse_uint(sdp_message_m_port_get(sdp, pos), 65535);
	if (port < 0)
		return SDP_ERR_PARSE;
	out->port = (uint16_t)port;
	rc = parse_payloads(sdp, pos, out);
	if (rc != SDP_OK)
		return rc;
	rc = parse_conn(sdp, pos, &out->addr);
	if (rc != SDP_OK)
		return rc;
	parse_attrs(sdp, pos, out, &have_dir);
	parse_attrs(sdp, -1, out, &have_dir);
	return SDP_OK;
}

/* The body in the one form libosip2's SDP parser reads safely: every line ended by CRLF
 * (a bare LF or a bare CR taken as a line end), the last line too, and NUL padding behind.
 * libosip2 5.3 reads past the end of its input when the text ends in a bare CR (it looks for
 * the LF after it), so no bare CR may reach it. A NUL inside the body is not SDP: NULL. */
static char *sdp_canonical(const char *body, size_t len)
{
	char *text = malloc(2 * len + 5);
	size_t n = 0;
	bool line_open = false;

	if (text == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = body[i];
		if (c == '\0') {
			free(text);
			return NULL;
		}
		if (c == '\r' || c == '\n') {
			if (c == '\r' && i + 1 < len && body[i + 1] == '\n')
				i++;
			text[n++] = '\r';
			text[n++] = '\n';
			line_open = false;
			continue;
		}
		text[n++] = c;
		line_open = true;
	}
	if (line_open) {
		text[n++] = '\r';
		text[n++] = '\n';
	}
	memset(text + n, 0, 3);
	return text;
}

int sdp_parse(const char *body, size_t len, struct sdp_stream *out)
{
	sdp_message_t *sdp = NULL;
	char *text;
	int rc;

	if (body == NULL || out == NULL)
		return SDP_ERR_PARSE;
	memset(out, 0, sizeof(*out));
	text = sdp_canonical(body, len);
	if (text == NULL)
		return SDP_ERR_PARSE;
	if (sdp_message_init(&sdp) != 0) {
		free(text);
		return SDP_ERR_PARSE;
	}
	rc = sdp_message_parse(sdp, text) == 0 ? parse_message(sdp, out) : SDP_ERR_PARSE;
	sdp_message_free(sdp);
	free(text);
	return rc;
}

/* ---- negotiation ------------------------------------------------------------------------ */

static bool ours_has(const char *const *ours, unsigned n_ours, const char *name, bool offered)
{
	for (unsigned i = 0; i < n_ours; i++) {
		if (ours[i] == NULL || strcasecmp(ours[i], name) != 0)
			continue;
		/* in an offer we only wrote the codecs we know a payload type for */
		if (!offered || is_te(name) || is_opus(name) || static_by_name(name) != NULL)
			return true;
	}
	return false;
}

static enum sdp_dir mirror_dir(enum sdp_dir dir)
{
	switch (dir) {
	case SDP_SENDONLY:
		return SDP_RECVONLY;
	case SDP_RECVONLY:
		return SDP_SENDONLY;
	case SDP_INACTIVE:
		return SDP_INACTIVE;
	default:
		return SDP_SENDRECV;
	}
}

static int negotiate(const struct sdp_stream *remote, const char *const *ours, unsigned n_ours,
		     bool offered, struct sdp_nego *out)
{
	bool want_te = ours_has(ours, n_ours, SDP_TE_NAME, offered);
	bool have_codec = false;
	unsigned n = remote->n_codecs < SDP_MAX_PT ? remote->n_codecs : SDP_MAX_PT;

	memset(out, 0, sizeof(*out));
	out->te_pt = -1;
	for (unsigned i = 0; i < n; i++) {
		const struct sdp_codec *c = &remote->codecs[i];

		if (c->name[0] == '\0')
			continue;
		if (is_te(c->name)) {
			if (want_te && out->te_pt < 0 && c->clock_rate == SDP_TE_RATE)
				out->te_pt = c->pt;
		} else if (!have_codec && ours_has(ours, n_ours, c->name, offered)) {
			out->codec = *c;
			have_codec = true;
		}
	}
	if (!have_codec) {
		out->te_pt = -1;
		return SDP_ERR_NO_CODEC;
	}
	out->dir = mirror_dir(remote->dir);
	out->ptime = remote->ptime;
	return SDP_OK;
}

int sdp_negotiate(const struct sdp_stream *offer, const char *const *ours, unsigned n_ours,
		  struct sdp_nego *out)
{
	return negotiate(offer, ours, n_ours, false, out);
}

int sdp_take_answer(const char *answer, size_t len, const char *const *ours, unsigned n_ours,
		    struct sdp_stream *media, struct sdp_nego *out)
{
	int rc = sdp_parse(answer, len, media);

	if (rc != SDP_OK)
		return rc;
	/* port 0: the answerer rejected our audio stream */
	if (media->port == 0)
		return SDP_ERR_NO_CODEC;
	return negotiate(media, ours, n_ours, true, out);
}

/* ---- writing ---------------------------------------------------------------------------- */

struct sdp_buf {
	char *buf;
	size_t len;
	size_t pos;
	bool overflow;
};

__attribute__((format(printf, 2, 3)))
static void put(struct sdp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->pos, b->len - b->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->len - b->pos || b->pos + (size_t)n > INT_MAX)
		b->overflow = true;
	else
		b->pos += (size_t)n;
}

static int put_done(struct sdp_buf *b)
{
	return b->overflow ? -1 : (int)b->pos;
}

static const char *dir_attr(enum sdp_dir dir)
{
	switch (dir) {
	case SDP_SENDONLY:
		return "sendonly";
	case SDP_RECVONLY:
		return "recvonly";
	case SDP_INACTIVE:
		return "inactive";
	default:
		return "sendrecv";
	}
}

static bool put_init(struct sdp_buf *b, char *buf, size_t len)
{
	b->buf = buf;
	b->len = len;
	b->pos = 0;
	b->overflow = buf == NULL || len == 0;
	return !b->overflow;
}

static void put_session(struct sdp_buf *b, struct in_addr local, uint64_t sess_id,
			uint64_t sess_ver)
{
	char addr[INET_ADDRSTRLEN];

	if (inet_ntop(AF_INET, &local, addr, sizeof(addr)) == NULL) {
		b->overflow = true;
		return;
	}
	put(b, "v=0\r\no=mgw %" PRIu64 " %" PRIu64 " IN IP4 %s\r\ns=mgw\r\n", sess_id, sess_ver,
	    addr);
	put(b, "c=IN IP4 %s\r\nt=0 0\r\n", addr);
}

static void put_te(struct sdp_buf *b, int te_pt)
{
	put(b, "a=rtpmap:%d " SDP_TE_NAME "/%u\r\na=fmtp:%d 0-16\r\n", te_pt, SDP_TE_RATE, te_pt);
}

static void put_codec(struct sdp_buf *b, const struct sdp_codec *c)
{
	char attrs[160];
	if (sdp_codec_attrs(c, attrs, sizeof(attrs)) < 0)
		b->overflow = true;
	else
		put(b, "%s", attrs);
}

static void put_tail(struct sdp_buf *b, unsigned ptime, enum sdp_dir dir)
{
	if (ptime != 0)
		put(b, "a=ptime:%u\r\n", ptime);
	put(b, "a=%s\r\n", dir_attr(dir));
}

static void put_answer_audio(struct sdp_buf *b, const struct sdp_stream *offer,
			     const struct sdp_nego *nego, uint16_t port)
{
	const struct sdp_codec *c = &nego->codec;

	/* a stream the offerer disabled stays disabled (RFC 3264 6) */
	put(b, "m=audio %u RTP/AVP %u", offer->port == 0 ? 0u : port, c->pt);
	if (nego->te_pt >= 0)
		put(b, " %d", nego->te_pt);
	put(b, "\r\n");
	put_codec(b, c);
	if (nego->te_pt >= 0)
		put_te(b, nego->te_pt);
	put_tail(b, nego->ptime, nego->dir);
}

int sdp_write_answer(char *buf, size_t len, const struct sdp_stream *offer,
		     const struct sdp_nego *nego, struct in_addr local, uint16_t port,
		     uint64_t sess_id, uint64_t sess_ver)
{
	struct sdp_buf b;

	if (offer->n_media == 0 || offer->n_media > SDP_MAX_MEDIA ||
	    offer->audio_index >= offer->n_media)
		return -1;
	if (!put_init(&b, buf, len))
		return -1;
	put_session(&b, local, sess_id, sess_ver);
	for (unsigned i = 0; i < offer->n_media && !b.overflow; i++) {
		if (i == offer->audio_index)
			put_answer_audio(&b, offer, nego, port);
		else
			put(&b, "m=%s 0 %s %s\r\n", offer->mlines[i].media,
			    offer->mlines[i].proto, offer->mlines[i].fmt);
	}
	return put_done(&b);
}

/* The payload type we offer for @name, -1 if we cannot offer it. */
static int offer_pt(const char *name, struct sdp_codec *c)
{
	const struct sdp_codec *st;

	if (name == NULL)
		return -1;
	if (is_te(name)) {
		c->pt = SDP_OFFER_TE_PT;
		snprintf(c->name, sizeof(c->name), SDP_TE_NAME);
		c->clock_rate = SDP_TE_RATE;
		return c->pt;
	}
	if (is_opus(name)) {
		c->pt = SDP_OFFER_OPUS_PT;
		snprintf(c->name, sizeof(c->name), "opus");
		c->clock_rate = codec_info(STREAM_CODEC_OPUS)->rtp_clock;
		return c->pt;
	}
	st = static_by_name(name);
	if (st == NULL)
		return -1;
	*c = *st;
	return c->pt;
}

static unsigned offer_codecs(const char *const *ours, unsigned n_ours,
			     struct sdp_codec codecs[SDP_MAX_PT])
{
	unsigned n = 0;

	for (unsigned i = 0; i < n_ours && n < SDP_MAX_PT; i++) {
		bool dup = false;

		if (offer_pt(ours[i], &codecs[n]) < 0)
			continue;
		for (unsigned k = 0; k < n; k++)
			dup = dup || codecs[k].pt == codecs[n].pt;
		if (!dup)
			n++;
	}
	return n;
}

int sdp_write_offer(char *buf, size_t len, const char *const *ours, unsigned n_ours,
		    struct in_addr local, uint16_t port, unsigned ptime, uint64_t sess_id,
		    uint64_t sess_ver)
{
	return sdp_write_offer_dir(buf, len, ours, n_ours, local, port, ptime, sess_id, sess_ver,
				   SDP_SENDRECV);
}

int sdp_write_offer_dir(char *buf, size_t len, const char *const *ours, unsigned n_ours,
			struct in_addr local, uint16_t port, unsigned ptime, uint64_t sess_id,
			uint64_t sess_ver, enum sdp_dir dir)
{
	struct sdp_codec codecs[SDP_MAX_PT];
	unsigned n = offer_codecs(ours, n_ours, codecs);
	struct sdp_buf b;

	if (n == 0 || !put_init(&b, buf, len))
		return -1;
	put_session(&b, local, sess_id, sess_ver);
	put(&b, "m=audio %u RTP/AVP", port);
	for (unsigned i = 0; i < n; i++)
		put(&b, " %u", codecs[i].pt);
	put(&b, "\r\n");
	for (unsigned i = 0; i < n; i++) {
		if (is_te(codecs[i].name))
			put_te(&b, codecs[i].pt);
		else
			put_codec(&b, &codecs[i]);
	}
	put_tail(&b, ptime, dir);
	return put_done(&b);
}
