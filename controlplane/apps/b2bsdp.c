#include "controlplane/apps/b2bsdp.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dataplane/codec.h"

static bool is_g711(const char *name)
{
	return strcasecmp(name, "PCMU") == 0 || strcasecmp(name, "PCMA") == 0;
}

static bool is_te(const struct sdp_codec *c)
{
	return strcasecmp(c->name, "telephone-event") == 0 && c->clock_rate == 8000;
}

static const struct sdp_codec *find_codec(const struct sdp_stream *s, enum stream_codec id)
{
	for (unsigned i = 0; i < s->n_codecs; i++)
		if (sdp_codec_id(&s->codecs[i]) == id)
			return &s->codecs[i];
	return NULL;
}

static bool has_name(const char **list, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcasecmp(list[i], name) == 0)
			return true;
	return false;
}

unsigned b2bsdp_offer_codecs(const struct sdp_stream *a_offer, bool te, const char *const *pref,
			     unsigned n_pref, const char **out, unsigned max)
{
	unsigned n = 0, laws = 0;
	const char *law = NULL;
	for (unsigned i = 0; i < a_offer->n_codecs && n < max; i++) {
		const struct sdp_codec *c = &a_offer->codecs[i];
		enum stream_codec id = sdp_codec_id(c);
		if (is_te(c))
			te = true;
		else if (id != STREAM_CODEC_NONE && !has_name(out, n, codec_info(id)->name)) {
			out[n++] = codec_info(id)->name;
			if (is_g711(c->name)) {
				laws++;
				law = out[n - 1];
			}
		}
	}
	if (n == 0)
		return 0;
	/* the other law: mu <-> A-law is the cheapest transcoding there is */
	if (laws == 1 && n < max)
		out[n++] = strcmp(law, "PCMU") == 0 ? "PCMA" : "PCMU";
	/* then what media.codecs lists, in its order: mgw transcodes to them */
	for (unsigned i = 0; i < n_pref && n < max; i++) {
		enum stream_codec id = codec_named(pref[i]);
		if (id != STREAM_CODEC_NONE && !has_name(out, n, codec_info(id)->name))
			out[n++] = codec_info(id)->name;
	}
	if (te && n < max)
		out[n++] = "telephone-event";
	return n;
}

/* A's codec when B chose one A did not offer: the other G.711 law when B took one (a byte
 * map), else A's codec that media.codecs ranks first, else A's first. */
static const struct sdp_codec *a_codec_for(const struct sdp_stream *a_offer,
					   const struct sdp_codec *b, const char *const *pref,
					   unsigned n_pref)
{
	if (is_g711(b->name))
		for (unsigned i = 0; i < a_offer->n_codecs; i++)
			if (is_g711(a_offer->codecs[i].name) && sdp_codec_id(&a_offer->codecs[i]))
				return &a_offer->codecs[i];
	for (unsigned k = 0; k < n_pref; k++)
		for (unsigned i = 0; i < a_offer->n_codecs; i++) {
			enum stream_codec id = sdp_codec_id(&a_offer->codecs[i]);
			if (id && strcasecmp(codec_info(id)->name, pref[k]) == 0)
				return &a_offer->codecs[i];
		}
	for (unsigned i = 0; i < a_offer->n_codecs; i++)
		if (sdp_codec_id(&a_offer->codecs[i]))
			return &a_offer->codecs[i];
	return NULL;
}

int b2bsdp_plan(const struct sdp_stream *a_offer, const struct sdp_stream *b_answer,
		const char *const *pref, unsigned n_pref, struct b2bsdp_plan *out)
{
	memset(out, 0, sizeof(*out));
	const struct sdp_codec *b = NULL;
	for (unsigned i = 0; i < b_answer->n_codecs && !b; i++)
		if (sdp_codec_id(&b_answer->codecs[i]))
			b = &b_answer->codecs[i];
	if (!b)
		return SDP_ERR_NO_CODEC;
	const struct sdp_codec *a = find_codec(a_offer, sdp_codec_id(b));
	if (!a) {
		a = a_codec_for(a_offer, b, pref, n_pref);
		if (!a)
			return SDP_ERR_NO_CODEC;
		out->transcode = true;
	}
	out->codec[0] = *a;
	out->codec[1] = *b;
	out->te_pt[0] = out->te_pt[1] = -1;
	const struct sdp_codec *te_a = NULL, *te_b = NULL;
	for (unsigned i = 0; i < a_offer->n_codecs; i++)
		if (is_te(&a_offer->codecs[i]) && !te_a)
			te_a = &a_offer->codecs[i];
	for (unsigned i = 0; i < b_answer->n_codecs; i++)
		if (is_te(&b_answer->codecs[i]) && !te_b)
			te_b = &b_answer->codecs[i];
	/* Each leg keeps the telephone-event it took, whatever the other took: mgw hands the
	 * digits of a leg with it to a leg without as SIP INFO (b2b_dtmf), and plays the SIP INFO
	 * digits of a leg without it to a leg with it as RFC 4733 (b2b_info_dtmf). Only beside
	 * audio of the same 8 kHz clock (an Opus leg's digits go as SIP INFO). */
	if (te_a && out->codec[0].clock_rate == 8000)
		out->te_pt[0] = te_a->pt;
	if (te_b && out->codec[1].clock_rate == 8000)
		out->te_pt[1] = te_b->pt;
	return SDP_OK;
}

bool b2bsdp_byte_map(const struct b2bsdp_plan *p)
{
	return p->transcode && is_g711(p->codec[0].name) && is_g711(p->codec[1].name);
}

uint8_t b2bsdp_stream_dir(const struct sdp_stream *s)
{
	uint8_t dir;
	switch (s->dir) {
	case SDP_SENDONLY:
		dir = STREAM_DIR_RECV;
		break;
	case SDP_RECVONLY:
		dir = STREAM_DIR_SEND;
		break;
	case SDP_INACTIVE:
		dir = 0;
		break;
	default:
		dir = STREAM_DIR_RECV | STREAM_DIR_SEND;
		break;
	}
	if (s->addr.s_addr == 0 || s->port == 0)
		dir &= (uint8_t)~STREAM_DIR_SEND;
	return dir;
}

static const char *dir_name(enum sdp_dir d)
{
	return d == SDP_SENDONLY ? "sendonly" : d == SDP_RECVONLY ? "recvonly"
					      : d == SDP_INACTIVE ? "inactive" : "sendrecv";
}

int b2bsdp_write_offer(char *buf, size_t len, const struct sdp_codec *codec, int te_pt,
		       struct in_addr local, uint16_t port, unsigned ptime, uint64_t sess_id,
		       uint64_t sess_ver, enum sdp_dir dir)
{
	char ip[INET_ADDRSTRLEN], te[96] = "", fmts[16] = "", attrs[160];
	inet_ntop(AF_INET, &local, ip, sizeof(ip));
	if (sdp_codec_attrs(codec, attrs, sizeof(attrs)) < 0)
		return -1;
	if (te_pt >= 0) {
		snprintf(fmts, sizeof(fmts), " %d", te_pt);
		snprintf(te, sizeof(te), "a=rtpmap:%d telephone-event/8000\r\na=fmtp:%d 0-16\r\n",
			 te_pt, te_pt);
	}
	int n = snprintf(buf, len,
			 "v=0\r\no=mgw %llu %llu IN IP4 %s\r\ns=mgw\r\nc=IN IP4 %s\r\nt=0 0\r\n"
			 "m=audio %u RTP/AVP %u%s\r\n%s%sa=ptime:%u\r\na=%s\r\n",
			 (unsigned long long)sess_id, (unsigned long long)sess_ver, ip, ip, port,
			 codec->pt, fmts, attrs, te, ptime, dir_name(dir));
	return n < 0 || (size_t)n >= len ? -1 : n;
}
