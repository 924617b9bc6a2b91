#include "controlplane/apps/persist.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

json_t *persist_addr(struct in_addr ip, uint16_t port)
{
	char a[INET_ADDRSTRLEN];
	if (!inet_ntop(AF_INET, &ip, a, sizeof(a)))
		return NULL;
	return json_pack("{s:s, s:i}", "ip", a, "port", (int)port);
}

int persist_addr_read(const json_t *j, struct in_addr *ip, uint16_t *port)
{
	const char *a = NULL;
	int p = 0;
	if (json_unpack((json_t *)j, "{s:s, s:i}", "ip", &a, "port", &p) != 0 || p < 0 ||
	    p > 65535 || inet_pton(AF_INET, a, ip) != 1)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

json_t *persist_codec(const struct sdp_codec *c)
{
	return json_pack("{s:i, s:s, s:I}", "pt", (int)c->pt, "name", c->name, "rate",
			 (json_int_t)c->clock_rate);
}

int persist_codec_read(const json_t *j, struct sdp_codec *out)
{
	const char *name = NULL;
	int pt = 0;
	json_int_t rate = 0;
	if (json_unpack((json_t *)j, "{s:i, s:s, s:I}", "pt", &pt, "name", &name, "rate", &rate) !=
		    0 ||
	    pt < 0 || pt > 127 || rate < 0 || rate > UINT32_MAX || strlen(name) >= sizeof(out->name))
		return -1;
	memset(out, 0, sizeof(*out));
	out->pt = (uint8_t)pt;
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->clock_rate = (uint32_t)rate;
	return 0;
}

json_t *persist_sdp(const struct sdp_stream *s)
{
	json_t *codecs = json_array(), *mlines = json_array();
	for (unsigned i = 0; codecs && i < s->n_codecs && i < SDP_MAX_PT; i++)
		json_array_append_new(codecs, persist_codec(&s->codecs[i]));
	for (unsigned i = 0; mlines && i < s->n_media && i < SDP_MAX_MEDIA; i++)
		json_array_append_new(mlines, json_pack("{s:s, s:s, s:s}", "media",
							s->mlines[i].media, "proto",
							s->mlines[i].proto, "fmt", s->mlines[i].fmt));
	return json_pack("{s:o, s:o, s:i, s:i, s:i, s:o*}", "addr", persist_addr(s->addr, s->port),
			 "codecs", codecs, "dir", (int)s->dir, "ptime", (int)s->ptime,
			 "audio_index", (int)s->audio_index, "mlines", mlines);
}

int persist_sdp_read(const json_t *j, struct sdp_stream *out)
{
	json_t *addr = NULL, *codecs = NULL, *mlines = NULL;
	int dir = 0, ptime = 0, audio_index = 0;
	memset(out, 0, sizeof(*out));
	if (json_unpack((json_t *)j, "{s:o, s:o, s:i, s:i, s:i, s:o}", "addr", &addr, "codecs",
			&codecs, "dir", &dir, "ptime", &ptime, "audio_index", &audio_index,
			"mlines", &mlines) != 0 ||
	    !json_is_array(codecs) || !json_is_array(mlines) ||
	    json_array_size(codecs) > SDP_MAX_PT || json_array_size(mlines) > SDP_MAX_MEDIA ||
	    json_array_size(mlines) == 0 || dir < SDP_SENDRECV || dir > SDP_INACTIVE ||
	    ptime < 0 || audio_index < 0 || (size_t)audio_index >= json_array_size(mlines) ||
	    persist_addr_read(addr, &out->addr, &out->port) != 0)
		return -1;
	out->dir = (enum sdp_dir)dir;
	out->ptime = (unsigned)ptime;
	out->audio_index = (unsigned)audio_index;
	size_t i;
	json_t *v;
	json_array_foreach(codecs, i, v) {
		if (persist_codec_read(v, &out->codecs[i]) != 0)
			return -1;
	}
	out->n_codecs = (unsigned)json_array_size(codecs);
	json_array_foreach(mlines, i, v) {
		const char *m = NULL, *p = NULL, *f = NULL;
		if (json_unpack(v, "{s:s, s:s, s:s}", "media", &m, "proto", &p, "fmt", &f) != 0)
			return -1;
		snprintf(out->mlines[i].media, sizeof(out->mlines[i].media), "%s", m);
		snprintf(out->mlines[i].proto, sizeof(out->mlines[i].proto), "%s", p);
		snprintf(out->mlines[i].fmt, sizeof(out->mlines[i].fmt), "%s", f);
	}
	out->n_media = (unsigned)json_array_size(mlines);
	return 0;
}

json_t *persist_nego(const struct sdp_nego *n)
{
	return json_pack("{s:o, s:i, s:i, s:i}", "codec", persist_codec(&n->codec), "te_pt",
			 n->te_pt, "dir", (int)n->dir, "ptime", (int)n->ptime);
}

int persist_nego_read(const json_t *j, struct sdp_nego *out)
{
	json_t *codec = NULL;
	int te = 0, dir = 0, ptime = 0;
	memset(out, 0, sizeof(*out));
	if (json_unpack((json_t *)j, "{s:o, s:i, s:i, s:i}", "codec", &codec, "te_pt", &te, "dir",
			&dir, "ptime", &ptime) != 0 ||
	    te < -1 || te > 127 || dir < SDP_SENDRECV || dir > SDP_INACTIVE || ptime < 0 ||
	    persist_codec_read(codec, &out->codec) != 0)
		return -1;
	out->te_pt = te;
	out->dir = (enum sdp_dir)dir;
	out->ptime = (unsigned)ptime;
	return 0;
}

json_t *persist_plan(const struct b2bsdp_plan *p)
{
	return json_pack("{s:[o,o], s:[i,i], s:b}", "codec", persist_codec(&p->codec[0]),
			 persist_codec(&p->codec[1]), "te_pt", p->te_pt[0], p->te_pt[1],
			 "transcode", p->transcode);
}

int persist_plan_read(const json_t *j, struct b2bsdp_plan *out)
{
	json_t *c0 = NULL, *c1 = NULL;
	int t0 = 0, t1 = 0, tc = 0;
	memset(out, 0, sizeof(*out));
	if (json_unpack((json_t *)j, "{s:[o,o], s:[i,i], s:b}", "codec", &c0, &c1, "te_pt", &t0,
			&t1, "transcode", &tc) != 0 ||
	    t0 < -1 || t0 > 127 || t1 < -1 || t1 > 127 || persist_codec_read(c0, &out->codec[0]) ||
	    persist_codec_read(c1, &out->codec[1]))
		return -1;
	out->te_pt[0] = t0;
	out->te_pt[1] = t1;
	out->transcode = tc;
	return 0;
}

json_t *persist_ep(const struct media_ep *ep)
{
	return persist_addr(media_ep_addr(ep), ep->port);
}

int persist_ep_restore(const json_t *j, struct media_ep *ep)
{
	struct in_addr ip;
	uint16_t port;
	if (persist_addr_read(j, &ip, &port) != 0)
		return -1;
	for (unsigned i = 0; i < media_n_addrs(); i++)
		if (media_addr(i).s_addr == ip.s_addr)
			return media_ep_restore(ep, i, port);
	return -1;
}
