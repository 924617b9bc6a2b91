#include "controlplane/ng/ngcall.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "controlplane/media/media.h"
#include "controlplane/media/prompt.h"
#include "dataplane/codec.h"
#include "dataplane/player.h"
#include "controlplane/media/quality.h"
#include "controlplane/sip/sdp.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/time.h"

#define NGC_BUCKETS 4096
#define NGC_ID_MAX 256
#define NGC_SDP_MAX 8192
#define NGC_MAX_FMTS 128 /* formats of an audio m= line read */

/* One branch of a call: the relay pair between the caller and one callee. A call forked by a
 * proxy has one branch per fork (Kamailio's via-branch), each with ports of its own, since each
 * early dialog gets its own SDP; the losers are deleted by via-branch, the call by a delete
 * without one. Sides: 0 = A, towards the caller (from-tag); 1 = B, towards the callee (to-tag). */
struct ngbranch {
	char via[NGC_ID_MAX], to_tag[NGC_ID_MAX];
	struct media_ep ep[2];
	struct media_peer peer[2]; /* what each side's SDP (or media-address...) names */
	char label[2][64];
	bool answered;
	uint8_t latch;             /* media.latch, or strict with the strict-source flag */
	/* Transcoding (codec transcode/offer): the offerer's codec mgw converts from and the
	 * codecs it added to the offer for the answerer; once the answer picked one of those,
	 * transcode is set. codec/ptime: each side's, from the answer on. */
	bool have_src;
	struct sdp_codec src;      /* the offerer's first codec mgw can decode */
	unsigned src_ptime;        /* the offer's a=ptime, 0 = none */
	unsigned ask_ptime;        /* the offer's ptime option: what the answerer is asked for */
	uint8_t offer_side;
	unsigned n_added;
	struct sdp_codec added[NGC_MAX_ADD];
	bool transcode;
	struct sdp_codec codec[2];
	unsigned ptime[2];
	bool blocked[2];           /* block media: what this side sends goes nowhere */
	bool dtmf_blocked[2];      /* block DTMF: this side's RFC 4733 events go nowhere */
	char dtmf[2][33];          /* digits received from each side (RFC 4733), the last 32 */
	struct ngbranch *next;
};

struct ngcall {
	char call_id[NGC_ID_MAX], from_tag[NGC_ID_MAX];
	uint64_t created_ms;
	unsigned n_branches;
	struct ngbranch *branches;
	struct ngcall *hnext;
};

#define NGC_MAX_BRANCHES 16

/* What a request asks beyond its SDP (flags and option keys, as Kamailio sends them). */
struct req_opts {
	struct ngcall_sdp_opts sdp;
	bool sip_source, strict, trust;
	bool have_media_addr, have_received;
	struct in_addr media_addr, received;
	char label[64];
	int iface[2];              /* direction: media pool index of each side, -1 = any */
	unsigned n_xcode;          /* codecs asked by codec transcode or offer (enum */
	uint8_t xcode[NGC_MAX_ADD]; /* stream_codec): added to the offer for the answerer */
	unsigned n_hard_strip;     /* codec strip (not mask): the offerer may not use them */
	char hard_strip[NGC_MAX_STRIP][24];
	const char *warning;       /* something asked that mgwd does not do: said, not refused */
	const char *error;         /* something asked that cannot be honoured: refused */
	char error_buf[128];
};

static const struct config *cfg;
static struct ngcall *buckets[NGC_BUCKETS];
static unsigned n_calls;

unsigned ngcall_count(void) { return n_calls; }
void ngcall_init(const struct config *c) { cfg = c; }

static bool copy_str(const struct be_node *n, char *out, size_t cap)
{
	if (!n || n->type != BE_STR || n->n == 0 || n->n >= cap)
		return false;
	memcpy(out, n->s, n->n);
	out[n->n] = '\0';
	return true;
}

static struct ngcall **find(const char *call_id)
{
	struct ngcall **p = &buckets[hash_str(call_id) % NGC_BUCKETS];
	while (*p && strcmp((*p)->call_id, call_id) != 0)
		p = &(*p)->hnext;
	return p;
}

static void branch_free(struct ngbranch *b)
{
	for (int i = 0; i < 2; i++)
		media_ep_release(&b->ep[i]);
	free(b);
}

static bool is_g711(enum stream_codec c)
{
	return c == STREAM_CODEC_PCMU || c == STREAM_CODEC_PCMA;
}

/* The packet time a side speaking @c sends and receives when transcoded: @want (its own
 * a=ptime, or what it was asked for) when @c can send it, else 20 ms. */
static unsigned side_ptime(const struct sdp_codec *c, unsigned want)
{
	return want && codec_ptime_ok(sdp_codec_id(c), want) ? want : 20;
}

/* The RTP clock of what side @i sends (jitter is counted in its units). */
static uint32_t side_clock(const struct ngbranch *b, int i)
{
	return b->codec[i].clock_rate ? b->codec[i].clock_rate : 8000;
}

static void quality_note(const struct ngcall *c, const struct ngbranch *b)
{
	for (int i = 0; i < 2; i++) {
		struct stream_stats st;
		struct leg_quality q;
		if (media_ep_stats(&b->ep[i], &st) != 0)
			continue;
		quality_of(&st, side_clock(b, i), sdp_codec_id(&b->codec[i]), &q);
		quality_observe(&q);
		if (q.valid)
			LOG_I("ng", "%s: %s received: loss %.2f%%, jitter %.1f ms, MOS %.2f",
			      c->call_id, i ? "callee" : "caller", q.loss * 100, q.jitter_ms, q.mos);
	}
}

static void ngcall_free(struct ngcall **slot)
{
	struct ngcall *c = *slot;
	*slot = c->hnext;
	while (c->branches) {
		struct ngbranch *b = c->branches;
		c->branches = b->next;
		quality_note(c, b);
		branch_free(b);
	}
	free(c);
	n_calls--;
}

/* ---- SDP ---- */

static bool starts(const char *l, size_t n, const char *p)
{
	size_t pl = strlen(p);
	return n >= pl && strncasecmp(l, p, pl) == 0;
}

/* The encoding name of payload type @pt in the audio stream (its a=rtpmap, or the static
 * assignment of RFC 3551), "" when unknown. */
#define pt_name ngcall_codec

static const char *static_pt_name(int pt)
{
	switch (pt) {
	case 0: return "PCMU";
	case 3: return "GSM";
	case 4: return "G723";
	case 8: return "PCMA";
	case 9: return "G722";
	case 18: return "G729";
	default: return "";
	}
}

static bool strip_this(const struct ngcall_sdp_opts *o, const char *name)
{
	if (!o || !name[0])
		return false;
	if (o->n_keep && strcasecmp(name, "telephone-event") != 0) {
		bool keep = false;
		for (unsigned i = 0; i < o->n_keep; i++)
			keep |= strcasecmp(o->keep[i], name) == 0;
		if (!keep)
			return true;
	}
	for (unsigned i = 0; i < o->n_strip; i++) {
		if (strcasecmp(o->strip[i], name) == 0)
			return true;
		if (strcasecmp(o->strip[i], "all") == 0 && strcasecmp(name, "telephone-event") != 0)
			return true;
	}
	return false;
}

/* a=rtpmap:PT NAME/... -> pt and name; false for other lines */
static bool rtpmap_of(const char *l, size_t n, struct pt_name *out)
{
	if (!starts(l, n, "a=rtpmap:"))
		return false;
	size_t k = 9, d = 0;
	int pt = 0;
	while (k < n && l[k] >= '0' && l[k] <= '9' && d < 3) {
		pt = pt * 10 + (l[k++] - '0');
		d++;
	}
	if (!d || k >= n || (l[k] != ' ' && l[k] != '\t'))
		return false;
	while (k < n && (l[k] == ' ' || l[k] == '\t'))
		k++;
	size_t s = k;
	while (k < n && l[k] != '/' && l[k] != ' ' && k - s < sizeof(out->name) - 1)
		k++;
	if (k == s)
		return false;
	out->pt = pt;
	memcpy(out->name, l + s, k - s);
	out->name[k - s] = '\0';
	out->clock = 8000;
	if (k < n && l[k] == '/') {
		uint32_t clock = 0;
		for (k++; k < n && l[k] >= '0' && l[k] <= '9' && clock < 1000000; k++)
			clock = clock * 10 + (uint32_t)(l[k] - '0');
		if (clock)
			out->clock = clock;
	}
	return true;
}

/* a=fmtp:PT / a=rtcp-fb:PT / a=rtpmap:PT: the payload type the attribute is about, or -1 */
static int attr_pt(const char *l, size_t n)
{
	static const char *const pfx[] = {"a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"};
	for (unsigned i = 0; i < 3; i++)
		if (starts(l, n, pfx[i])) {
			size_t k = strlen(pfx[i]);
			int pt = 0, d = 0;
			while (k < n && l[k] >= '0' && l[k] <= '9' && d < 3) {
				pt = pt * 10 + (l[k] - '0');
				k++;
				d++;
			}
			return d ? pt : -1;
		}
	return -1;
}

static bool attr_is_stripped(const char *l, size_t n, const bool stripped[128])
{
	int pt = attr_pt(l, n);
	return pt >= 0 && pt < 128 && stripped[pt];
}

int ngcall_sdp_codecs(const char *in, size_t len, struct ngcall_codec *out, unsigned max)
{
	struct pt_name map[64];
	unsigned n_map = 0;
	const char *m = NULL;
	size_t m_len = 0;
	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && in[e] != '\r' && in[e] != '\n')
			e++;
		if (!m && starts(in + i, e - i, "m=audio ")) {
			m = in + i;
			m_len = e - i;
		} else if (n_map < 64 && rtpmap_of(in + i, e - i, &map[n_map])) {
			n_map++;
		}
		while (e < len && (in[e] == '\r' || in[e] == '\n'))
			e++;
		i = e;
	}
	if (!m)
		return -1;
	/* m=audio <port> <proto> <fmt>... */
	unsigned field = 0, n = 0;
	for (size_t k = 0; k < m_len && n < max;) {
		while (k < m_len && m[k] == ' ')
			k++;
		size_t ke = k;
		while (ke < m_len && m[ke] != ' ')
			ke++;
		if (ke == k)
			break;
		if (field++ >= 3 && m[k] >= '0' && m[k] <= '9') {
			int pt = atoi(m + k);
			const char *name = pt >= 0 && pt < 96 ? static_pt_name(pt) : "";
			uint32_t clock = 8000;
			for (unsigned j = 0; j < n_map; j++)
				if (map[j].pt == pt) {
					name = map[j].name;
					clock = map[j].clock;
				}
			out[n].pt = pt;
			out[n].clock = clock;
			snprintf(out[n].name, sizeof(out[n].name), "%s", name);
			n++;
		}
		k = ke;
	}
	return (int)n;
}

int ngcall_sdp_rewrite(const char *in, size_t len, const char *ip, unsigned port,
		       const struct ngcall_sdp_opts *o, char *out, size_t cap)
{
	size_t o_len = 0;
	bool audio_done = false, have_audio = false, in_audio = false;
	/* the audio stream's formats and their encoding names, read once */
	struct ngcall_codec fmts[NGC_MAX_FMTS];
	int nf = ngcall_sdp_codecs(in, len, fmts, NGC_MAX_FMTS);
	bool stripped[128] = {false};
#define PUT(...)                                                                             \
	do {                                                                                 \
		int w_ = snprintf(out + o_len, cap - o_len, __VA_ARGS__);                    \
		if (w_ < 0 || (size_t)w_ >= cap - o_len)                                     \
			return -1;                                                           \
		o_len += (size_t)w_;                                                         \
	} while (0)
	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && in[e] != '\r' && in[e] != '\n')
			e++;
		const char *l = in + i;
		size_t n = e - i;
		if (e < len && in[e] == '\r')
			e++;
		if (e < len && in[e] == '\n')
			e++;
		i = e;
		if (n == 0)
			continue;
		if (starts(l, n, "c=")) {
			PUT("c=IN IP4 %s\r\n", ip);
		} else if (starts(l, n, "o=") && o && o->replace_origin) {
			/* o=<user> <id> <version> IN IP4 <address>: the address is the last field */
			const char *sp = l + n;
			while (sp > l && sp[-1] != ' ')
				sp--;
			PUT("%.*sIN IP4 %s\r\n",
			    (int)((sp - l) >= 7 && strncmp(sp - 7, "IN IP4 ", 7) == 0 ? (sp - l) - 7
										: (sp - l)),
			    l, ip);
		} else if (starts(l, n, "m=")) {
			const char *sp = memchr(l, ' ', n);
			const char *sp2 = sp ? memchr(sp + 1, ' ', n - (size_t)(sp + 1 - l)) : NULL;
			if (!sp || !sp2)
				return -1;
			bool audio = !audio_done && starts(l, n, "m=audio ");
			in_audio = audio;
			if (!audio) {
				PUT("%.*s 0%.*s\r\n", (int)(sp - l), l, (int)(n - (size_t)(sp2 - l)), sp2);
				continue;
			}
			audio_done = have_audio = true;
			/* proto, then the formats, less the stripped ones */
			const char *fmt = memchr(sp2 + 1, ' ', n - (size_t)(sp2 + 1 - l));
			size_t proto_len = fmt ? (size_t)(fmt - sp2 - 1) : n - (size_t)(sp2 + 1 - l);
			PUT("m=audio %u %.*s", port, o && o->proto[0] ? (int)strlen(o->proto) : (int)proto_len,
			    o && o->proto[0] ? o->proto : sp2 + 1);
			unsigned kept = 0;
			bool present[128] = {false};
			for (int k = 0; k < nf; k++)
				if (fmts[k].pt >= 0 && fmts[k].pt < 128)
					present[fmts[k].pt] = true;
			unsigned n_add = 0;
			const struct sdp_codec *add[NGC_MAX_ADD];
			for (unsigned k = 0; o && k < o->n_add && k < NGC_MAX_ADD; k++)
				if (o->add[k].pt < 128 && !present[o->add[k].pt])
					add[n_add++] = &o->add[k];
			if (o && o->add_first)
				for (unsigned k = 0; k < n_add; k++, kept++)
					PUT(" %u", add[k]->pt);
			/* audio codecs first (what mgw adds for transcoding among them), then
			 * telephone-event */
			for (int te_pass = 0; te_pass < 2; te_pass++) {
				if (te_pass && !(o && o->add_first))
					for (unsigned k = 0; k < n_add; k++, kept++)
						PUT(" %u", add[k]->pt);
				for (int k = 0; k < nf; k++) {
					int pt = fmts[k].pt;
					bool te = strcasecmp(fmts[k].name, "telephone-event") == 0;
					if (te != (te_pass == 1))
						continue;
					if (pt >= 0 && pt < 128 && strip_this(o, fmts[k].name)) {
						stripped[pt] = true;
					} else {
						PUT(" %d", pt);
						kept += !te;
					}
				}
			}
			if (kept == 0)
				return -1; /* nothing left to carry */
			PUT("\r\n");
			for (unsigned k = 0; k < n_add; k++) {
				char attrs[160];
				if (sdp_codec_attrs(add[k], attrs, sizeof(attrs)) < 0)
					return -1;
				PUT("%s", attrs);
			}
			if (o && o->ptime)
				PUT("a=ptime:%u\r\n", o->ptime);
		} else if (starts(l, n, "a=rtcp:") || starts(l, n, "a=candidate:") ||
			   starts(l, n, "a=ice-") || starts(l, n, "a=end-of-candidates") ||
			   starts(l, n, "a=remote-candidates:")) {
			continue; /* RTCP is port + 1; mgw does no ICE */
		} else if (in_audio && o && o->ptime && starts(l, n, "a=ptime:")) {
			continue; /* replaced */
		} else if (in_audio && attr_is_stripped(l, n, stripped)) {
			continue; /* about a stripped codec */
		} else {
			if (n + 2 >= cap - o_len)
				return -1;
			memcpy(out + o_len, l, n); /* a line kept as it is */
			memcpy(out + o_len + n, "\r\n", 2);
			o_len += n + 2;
		}
	}
#undef PUT
	return have_audio ? (int)o_len : -1;
}

static bool list_has(const struct be_node *l, const char *s)
{
	if (!l || l->type != BE_LIST)
		return false;
	for (const struct be_node *m = l->first; m; m = m->next)
		if (m->type == BE_STR && m->n == strlen(s) && strncasecmp(m->s, s, m->n) == 0)
			return true;
	return false;
}

static void add_names(unsigned *n, char names[][24], const struct be_node *l)
{
	for (const struct be_node *m = l && l->type == BE_LIST ? l->first : NULL; m; m = m->next)
		if (m->type == BE_STR && m->n && m->n < 24 && *n < NGC_MAX_STRIP) {
			memcpy(names[*n], m->s, m->n);
			names[(*n)++][m->n] = '\0';
		}
}

static bool addr_of(const struct be_node *n, struct in_addr *out)
{
	char buf[INET_ADDRSTRLEN];
	return copy_str(n, buf, sizeof(buf)) && inet_pton(AF_INET, buf, out) == 1;
}

/* direction: [ "from-interface", "to-interface" ] -> media pool indexes */
static void direction_parse(const struct be_node *dir, struct req_opts *o)
{
	o->iface[0] = o->iface[1] = -1;
	if (!dir)
		return;
	if (dir->type != BE_LIST || dir->n != 2) {
		o->error = "direction must be a list of two interface names";
		return;
	}
	int i = 0;
	for (const struct be_node *m = dir->first; m; m = m->next, i++) {
		char want[32];
		if (!copy_str(m, want, sizeof(want))) {
			o->error = "direction must be a list of two interface names";
			return;
		}
		for (unsigned k = 0; k < cfg->ng_n_interfaces; k++) {
			char name[32];
			unsigned idx;
			if (config_ng_interface(cfg, k, name, sizeof(name), &idx) == 0 &&
			    strcmp(name, want) == 0)
				o->iface[i] = (int)idx;
		}
		if (o->iface[i] < 0) {
			snprintf(o->error_buf, sizeof(o->error_buf),
				 "Unknown interface '%s' in direction (ng.interfaces)", want);
			o->error = o->error_buf;
			return;
		}
	}
}

/* codec transcode / offer: the codecs mgw may add to an offer and convert to ("G722",
 * "opus/48000/2": a rate or channels after the name change nothing) */
static void xcode_parse(const struct be_node *l, struct req_opts *o, bool refuse_others)
{
	for (const struct be_node *m = l && l->type == BE_LIST ? l->first : NULL; m; m = m->next) {
		char name[24] = "";
		if (m->type == BE_STR && m->n && m->n < sizeof(name)) {
			memcpy(name, m->s, m->n);
			name[m->n] = '\0';
			name[strcspn(name, "/")] = '\0';
		}
		enum stream_codec id = codec_named(name);
		bool dup = false;
		for (unsigned k = 0; k < o->n_xcode; k++)
			dup |= o->xcode[k] == id;
		if (id != STREAM_CODEC_NONE && !dup && o->n_xcode < NGC_MAX_ADD)
			o->xcode[o->n_xcode++] = (uint8_t)id;
		else if (id == STREAM_CODEC_NONE && refuse_others &&
			 strcasecmp(name, "telephone-event") != 0)
			o->error = "codec transcode: mgw converts among PCMU, PCMA, G722, G729 and opus";
	}
}

static void opts_parse(const struct be_node *req, struct req_opts *o)
{
	memset(o, 0, sizeof(*o));
	const struct be_node *flags = be_dict_get(req, "flags");
	o->trust = list_has(flags, "trust-address");
	o->sip_source = list_has(flags, "SIP-source-address");
	o->strict = list_has(flags, "strict-source");
	if (list_has(flags, "asymmetric"))
		o->warning = "asymmetric is not supported: media goes where it comes from (latching)";
	if (list_has(flags, "record-call") ||
	    be_str_is(be_dict_get(req, "record-call"), "yes") ||
	    be_str_is(be_dict_get(req, "record-call"), "on"))
		o->warning = "recording is not supported yet: the call is not recorded";
	o->sdp.replace_origin = list_has(be_dict_get(req, "replace"), "origin");
	const struct be_node *ice = be_dict_get(req, "ICE");
	if (ice && !be_str_is(ice, "remove") && !be_str_is(ice, "default"))
		o->error = "ICE is not supported: only ICE=remove";
	const struct be_node *tp = be_dict_get(req, "transport-protocol");
	if (tp && !copy_str(tp, o->sdp.proto, sizeof(o->sdp.proto)))
		o->error = "bad transport-protocol";
	else if (tp && strcmp(o->sdp.proto, "RTP/AVP") != 0 && strcmp(o->sdp.proto, "RTP/AVPF") != 0)
		o->error = "transport-protocol: only RTP/AVP and RTP/AVPF (no SRTP yet)";
	const struct be_node *pt = be_dict_get(req, "ptime");
	if (pt && pt->type == BE_INT && pt->i >= 10 && pt->i <= 200)
		o->sdp.ptime = (unsigned)pt->i;
	else if (pt)
		o->error = "ptime must be 10..200";
	const struct be_node *codec = be_dict_get(req, "codec");
	/* strip: gone for both sides; mask: gone from the offer mgw hands on, but the offerer may
	 * still use it (transcoded to what the answerer picks) */
	add_names(&o->n_hard_strip, o->hard_strip, be_dict_get(codec, "strip"));
	add_names(&o->sdp.n_strip, o->sdp.strip, be_dict_get(codec, "strip"));
	add_names(&o->sdp.n_strip, o->sdp.strip, be_dict_get(codec, "mask"));
	xcode_parse(be_dict_get(codec, "transcode"), o, true);
	/* offer: exactly these codecs towards the answerer (added for transcoding if missing) */
	const struct be_node *offer = be_dict_get(codec, "offer");
	if (offer && offer->type == BE_LIST && offer->n) {
		add_names(&o->sdp.n_keep, o->sdp.keep, offer);
		xcode_parse(offer, o, false);
	}
	direction_parse(be_dict_get(req, "direction"), o);
	o->have_media_addr = addr_of(be_dict_get(req, "media-address"), &o->media_addr);
	const struct be_node *rf = be_dict_get(req, "received-from");
	o->have_received = rf && rf->type == BE_LIST && rf->n == 2 && addr_of(rf->first->next,
									       &o->received);
	copy_str(be_dict_get(req, "label"), o->label, sizeof(o->label));
}

static bool hard_stripped(const struct req_opts *o, const char *name)
{
	for (unsigned i = 0; i < o->n_hard_strip; i++)
		if (strcasecmp(o->hard_strip[i], name) == 0 ||
		    (strcasecmp(o->hard_strip[i], "all") == 0 &&
		     strcasecmp(name, "telephone-event") != 0))
			return true;
	return false;
}

/* The audio formats of @req's SDP into @cs (NGC_MAX_FMTS): how many, -1 without one. */
static int sdp_formats(const struct be_node *req, struct ngcall_codec *cs)
{
	const struct be_node *sdp = be_dict_get(req, "sdp");
	return sdp && sdp->type == BE_STR ? ngcall_sdp_codecs(sdp->s, sdp->n, cs, NGC_MAX_FMTS)
					  : -1;
}

/* The SDP of @req (its audio formats @cs, @nc of them), rewritten to name @ep as @o asks,
 * into the reply; the peer it describes into @peer (media-address, else with
 * SIP-source-address the SIP source, else the SDP's; its telephone-event type). */
static int sdp_step(const struct be_node *req, const struct req_opts *o,
		    const struct ngcall_sdp_opts *so, const struct ngcall_codec *cs, int nc,
		    struct media_ep *ep, struct media_peer *peer, struct be_buf *out,
		    const char **why)
{
	const struct be_node *sdp = be_dict_get(req, "sdp");
	struct sdp_stream s;
	if (!sdp || sdp->type != BE_STR) {
		*why = "no SDP";
		return -1;
	}
	if (sdp_parse(sdp->s, sdp->n, &s) != SDP_OK) {
		*why = "the SDP has no usable audio stream";
		return -1;
	}
	peer->ip = s.addr;
	peer->port = s.port;
	peer->te_pt = 0;
	for (int i = 0; i < nc; i++)
		if (strcasecmp(cs[i].name, "telephone-event") == 0 && cs[i].pt >= 96 && cs[i].pt < 128)
			peer->te_pt = (uint8_t)cs[i].pt;
	if (o->have_media_addr)
		peer->ip = o->media_addr;
	else if (o->sip_source && !o->trust && o->have_received)
		peer->ip = o->received;
	static char buf[NGC_SDP_MAX];
	char ip[INET_ADDRSTRLEN];
	struct in_addr a = media_ep_addr(ep);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	int n = ngcall_sdp_rewrite(sdp->s, sdp->n, ip, ep->port, so, buf, sizeof(buf));
	if (n < 0) {
		*why = "the SDP cannot be rewritten (no audio m= line, no codec left, or too long)";
		return -1;
	}
	be_kv_str(out, "result", "ok");
	if (o->warning)
		be_kv_str(out, "warning", o->warning);
	be_cstr(out, "sdp");
	be_str(out, buf, (size_t)n);
	return 0;
}

/* media.inband_dtmf: where side @i's digits are listened for in its audio (it took no
 * telephone-event): its G.711, or what the pipeline decodes when transcoded. */
static uint8_t side_inband(const struct ngbranch *b, int i)
{
	if (!cfg->media_inband_dtmf || b->peer[i].te_pt)
		return STREAM_VAD_OFF;
	enum stream_codec in = sdp_codec_id(&b->codec[i]), out = sdp_codec_id(&b->codec[!i]);
	if (b->transcode && !(is_g711(in) && is_g711(out)))
		return STREAM_VAD_DECODED;
	return in == STREAM_CODEC_PCMU ? STREAM_VAD_PCMU
	       : in == STREAM_CODEC_PCMA ? STREAM_VAD_PCMA
					 : STREAM_VAD_OFF;
}

static int publish(struct ngbranch *b)
{
	struct media_leg_opts lo[2];
	for (int i = 0; i < 2; i++) {
		memset(&lo[i], 0, sizeof(lo[i]));
		lo[i].clock = side_clock(b, i);
		lo[i].inband = side_inband(b, i);
		/* a leg sends to its peer what the other side sent, unless that side is blocked
		 * (RTCP keeps flowing) */
		lo[i].dir = STREAM_DIR_RECV | (b->blocked[!i] ? 0 : STREAM_DIR_SEND);
		/* what side i sends, on its way to the other side: audio as it is (no payload type
		 * is 0xff), its telephone-event dropped when its DTMF is blocked */
		lo[i].map.audio_in = lo[i].map.audio_out = 0xff;
		lo[i].map.te_in = lo[i].map.te_out = b->peer[i].te_pt;
		if (b->transcode) {
			enum stream_codec in = sdp_codec_id(&b->codec[i]), out = sdp_codec_id(&b->codec[!i]);
			lo[i].map.audio_in = b->codec[i].pt;
			lo[i].map.audio_out = b->codec[!i].pt;
			if (is_g711(in) && is_g711(out)) {
				lo[i].map.g711 = in == STREAM_CODEC_PCMU ? STREAM_G711_U2A
									 : STREAM_G711_A2U;
			} else {
				/* telephone-event goes on between two 8 kHz clocks (an event's
				 * duration is in its clock's units); otherwise it is dropped */
				bool te = b->peer[i].te_pt && b->peer[!i].te_pt &&
					  b->codec[i].clock_rate == 8000 &&
					  b->codec[!i].clock_rate == 8000;
				lo[i].xc = (struct stream_xcode){
					.in_codec = (uint8_t)in,
					.out_codec = (uint8_t)out,
					.in_pt = b->codec[i].pt,
					.out_pt = b->codec[!i].pt,
					.in_ptime = (uint8_t)b->ptime[i],
					.out_ptime = (uint8_t)b->ptime[!i],
					.te_in = b->peer[i].te_pt,
					.te_out = te ? b->peer[!i].te_pt : STREAM_PT_DROP,
				};
			}
		}
		if (b->dtmf_blocked[i] && b->peer[i].te_pt)
			lo[i].map.te_out = lo[i].xc.te_out = STREAM_PT_DROP;
	}
	return media_ep_relay(&b->ep[0], &b->ep[1], &b->peer[0], &b->peer[1], b->latch, false,
			      &lo[0], &lo[1]);
}

static void ngc_error(struct be_buf *out, const char *why)
{
	be_kv_str(out, "result", "error");
	be_kv_str(out, "error-reason", why);
}

/* The request's call-id, from-tag, to-tag and via-branch ("" when absent). */
struct req_ids {
	char cid[NGC_ID_MAX], ftag[NGC_ID_MAX], ttag[NGC_ID_MAX], via[NGC_ID_MAX];
};

static void ids_of(const struct be_node *req, struct req_ids *id)
{
	memset(id, 0, sizeof(*id));
	copy_str(be_dict_get(req, "call-id"), id->cid, sizeof(id->cid));
	copy_str(be_dict_get(req, "from-tag"), id->ftag, sizeof(id->ftag));
	copy_str(be_dict_get(req, "to-tag"), id->ttag, sizeof(id->ttag));
	copy_str(be_dict_get(req, "via-branch"), id->via, sizeof(id->via));
}

static struct ngbranch *branch_by_via(struct ngcall *c, const char *via)
{
	for (struct ngbranch *b = c->branches; via[0] && b; b = b->next)
		if (strcmp(b->via, via) == 0)
			return b;
	return NULL;
}

static struct ngbranch *branch_by_tag(struct ngcall *c, const char *tag)
{
	for (struct ngbranch *b = c->branches; tag[0] && b; b = b->next)
		if (strcmp(b->to_tag, tag) == 0)
			return b;
	return NULL;
}

static struct ngbranch *branch_new(struct ngcall *c, const struct req_opts *o, const char *via)
{
	if (c->n_branches >= NGC_MAX_BRANCHES)
		return NULL;
	struct ngbranch *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	for (int i = 0; i < 2; i++)
		if ((o->iface[i] >= 0 ? media_ep_alloc_at(&b->ep[i], (unsigned)o->iface[i])
				      : media_ep_alloc(&b->ep[i])) != 0) {
			branch_free(b);
			return NULL;
		}
	snprintf(b->via, sizeof(b->via), "%s", via);
	b->next = c->branches;
	c->branches = b;
	c->n_branches++;
	return b;
}

static void branch_unlink(struct ngcall *c, struct ngbranch *b)
{
	for (struct ngbranch **p = &c->branches; *p; p = &(*p)->next)
		if (*p == b) {
			*p = b->next;
			c->n_branches--;
			return;
		}
}

/* The a=ptime of @req's SDP, 0 when it has none. */
static unsigned sdp_ptime_of(const struct be_node *req)
{
	const struct be_node *sdp = be_dict_get(req, "sdp");
	struct sdp_stream st;
	return sdp && sdp->type == BE_STR && sdp_parse(sdp->s, sdp->n, &st) == SDP_OK ? st.ptime
										      : 0;
}

/* A payload type for @c that the offer (@cs, @nc) and the codecs added before it leave free:
 * its static one, else the first free dynamic one; -1 when none is left. */
static int free_pt(const struct ngcall_codec *cs, int nc, const struct sdp_codec *added,
		   unsigned n_added, enum stream_codec c)
{
	bool used[128] = {false};
	for (int i = 0; i < nc; i++)
		if (cs[i].pt >= 0 && cs[i].pt < 128)
			used[cs[i].pt] = true;
	for (unsigned i = 0; i < n_added; i++)
		used[added[i].pt & 0x7f] = true;
	const struct codec_info *ci = codec_info(c);
	if (ci->static_pt < 96 && !used[ci->static_pt])
		return ci->static_pt;
	for (int pt = 96; pt < 128; pt++)
		if (!used[pt])
			return pt;
	return -1;
}

/* An offer from side @side with formats @cs (@nc): the first of them mgw can decode becomes
 * the codec it converts from, and each codec @o asks to transcode that the offer lacks is
 * added to what the other side is offered (@so). */
static void offer_codecs(struct ngbranch *b, int side, const struct req_opts *o,
			 const struct ngcall_codec *cs, int nc, const struct be_node *req,
			 struct ngcall_sdp_opts *so)
{
	b->have_src = false;
	b->offer_side = (uint8_t)side;
	b->n_added = 0;
	b->src_ptime = sdp_ptime_of(req);
	b->ask_ptime = o->sdp.ptime;
	bool has[STREAM_CODEC_COUNT] = {false};
	for (int i = 0; i < nc; i++) {
		enum stream_codec id = codec_by_name(cs[i].name, cs[i].clock);
		if (id == STREAM_CODEC_NONE || cs[i].pt < 0 || cs[i].pt > 127 ||
		    hard_stripped(o, cs[i].name))
			continue;
		has[id] = true;
		if (!b->have_src) {
			b->have_src = true;
			b->src = (struct sdp_codec){.pt = (uint8_t)cs[i].pt,
						    .clock_rate = cs[i].clock};
			snprintf(b->src.name, sizeof(b->src.name), "%s", cs[i].name);
		}
	}
	for (unsigned k = 0; b->have_src && k < o->n_xcode; k++) {
		enum stream_codec id = (enum stream_codec)o->xcode[k];
		int pt = has[id] ? -1 : free_pt(cs, nc, b->added, b->n_added, id);
		if (pt < 0)
			continue;
		const struct codec_info *ci = codec_info(id);
		struct sdp_codec *a = &b->added[b->n_added++];
		*a = (struct sdp_codec){.pt = (uint8_t)pt, .clock_rate = ci->rtp_clock};
		snprintf(a->name, sizeof(a->name), "%s", ci->name);
		so->add[so->n_add++] = *a;
	}
}

static void cmd_offer(const struct be_node *req, struct be_buf *out)
{
	struct req_ids id;
	const char *why = NULL;
	struct req_opts o;
	ids_of(req, &id);
	if (!id.cid[0] || !id.ftag[0]) {
		ngc_error(out, "offer needs call-id and from-tag");
		return;
	}
	opts_parse(req, &o);
	if (o.error) {
		ngc_error(out, o.error);
		return;
	}
	struct ngcall **slot = find(id.cid), *c = *slot;
	bool fresh_call = !c;
	if (fresh_call) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			ngc_error(out, "out of memory");
			return;
		}
		snprintf(c->call_id, sizeof(c->call_id), "%s", id.cid);
		snprintf(c->from_tag, sizeof(c->from_tag), "%s", id.ftag);
		c->created_ms = time_now_ms();
	}
	/* who offers: the caller (side A), or a callee in its own re-INVITE (side B) */
	int side = 0;
	struct ngbranch *b = NULL;
	if (!fresh_call && strcmp(id.ftag, c->from_tag) != 0 && (b = branch_by_tag(c, id.ftag)))
		side = 1;
	if (!b)
		b = branch_by_via(c, id.via);
	if (!b)
		b = branch_by_tag(c, id.ttag);
	if (!b && !id.via[0])
		for (b = c->branches; b && b->next;)
			b = b->next; /* no via-branch: the first (oldest) branch */
	bool fresh = !b;
	if (fresh && !(b = branch_new(c, &o, id.via))) {
		ngc_error(out, c->n_branches >= NGC_MAX_BRANCHES ? "too many branches"
								 : "no media port free");
		if (fresh_call)
			free(c);
		return;
	}
	b->latch = o.strict ? STREAM_LATCH_OFF : (uint8_t)cfg->media_latch;
	if (o.label[0])
		snprintf(b->label[side], sizeof(b->label[side]), "%s", o.label);

	/* transcoding: the offerer's codec mgw converts from, and what it adds for it */
	struct ngcall_codec codecs[NGC_MAX_FMTS];
	int nc = sdp_formats(req, codecs);
	struct ngcall_sdp_opts so = o.sdp;
	offer_codecs(b, side, &o, codecs, nc, req, &so);
	if (o.n_xcode && !b->have_src && nc >= 0) {
		why = "codec transcode: the offer has no codec mgw can convert from (PCMU, PCMA, "
		      "G722, G729, opus)";
	} else {
		/* the offer goes to the other side: its SDP names mgw's endpoint there */
		size_t mark = out->len;
		if (sdp_step(req, &o, &so, codecs, nc, &b->ep[!side], &b->peer[side], out,
			     &why) == 0 &&
		    publish(b) == 0)
			goto done;
		out->len = mark;
	}
	ngc_error(out, why ? why : "cannot publish the media");
	if (fresh) {
		branch_unlink(c, b);
		branch_free(b);
	}
	if (fresh_call)
		free(c);
	return;
done:
	if (fresh_call) {
		c->hnext = NULL;
		*slot = c;
		n_calls++;
	}
}

static void cmd_answer(const struct be_node *req, struct be_buf *out)
{
	struct req_ids id;
	const char *why = NULL;
	ids_of(req, &id);
	if (!id.cid[0]) {
		ngc_error(out, "answer needs call-id");
		return;
	}
	struct ngcall *c = *find(id.cid);
	if (!c) {
		ngc_error(out, "Unknown call-id");
		return;
	}
	struct req_opts o;
	opts_parse(req, &o);
	if (o.error) {
		ngc_error(out, o.error);
		return;
	}
	/* the offerer is named by from-tag: the caller, or a callee that sent a re-INVITE */
	int offerer = 0;
	struct ngbranch *b = NULL;
	if (id.ftag[0] && strcmp(id.ftag, c->from_tag) != 0 && (b = branch_by_tag(c, id.ftag)))
		offerer = 1;
	if (!b)
		b = branch_by_via(c, id.via);
	if (!b)
		b = branch_by_tag(c, id.ttag);
	if (!b && c->n_branches == 1)
		b = c->branches;
	if (!b)
		for (struct ngbranch *x = c->branches; x; x = x->next)
			if (!x->to_tag[0] && !x->via[0])
				b = x;
	if (!b) {
		ngc_error(out, "Unknown via-branch or to-tag: no such branch of the call");
		return;
	}
	int answerer = !offerer;
	if (o.strict)
		b->latch = STREAM_LATCH_OFF;
	if (o.label[0])
		snprintf(b->label[answerer], sizeof(b->label[answerer]), "%s", o.label);
	if (!offerer && id.ttag[0])
		snprintf(b->to_tag, sizeof(b->to_tag), "%s", id.ttag);

	/* the answer's codec: the first that is not telephone-event or comfort noise */
	struct ngcall_codec codecs[NGC_MAX_FMTS];
	int nc = sdp_formats(req, codecs), first = -1;
	for (int i = 0; i < nc && first < 0; i++)
		if (strcasecmp(codecs[i].name, "telephone-event") != 0 &&
		    strcasecmp(codecs[i].name, "CN") != 0 && codecs[i].pt >= 0 && codecs[i].pt < 128)
			first = i;
	struct sdp_codec chosen = {.clock_rate = 8000};
	if (first >= 0) {
		chosen.pt = (uint8_t)codecs[first].pt;
		chosen.clock_rate = codecs[first].clock;
		snprintf(chosen.name, sizeof(chosen.name), "%s", codecs[first].name);
	}
	/* transcoding when the answer chose a codec mgw added to the offer */
	bool xcode = false;
	for (unsigned k = 0; first >= 0 && b->offer_side == offerer && b->have_src &&
			     k < b->n_added; k++)
		xcode |= sdp_codec_id(&b->added[k]) == sdp_codec_id(&chosen);
	struct ngcall_sdp_opts so = o.sdp;
	unsigned ptime[2] = {b->ptime[0], b->ptime[1]};
	if (xcode) {
		/* the offerer hears its own codec in the answer, not the one it cannot speak, at
		 * its own packet time; the answerer speaks its choice at its own */
		ptime[offerer] = side_ptime(&b->src, o.sdp.ptime ? o.sdp.ptime : b->src_ptime);
		unsigned a_ptime = sdp_ptime_of(req);
		ptime[answerer] = side_ptime(&chosen, a_ptime ? a_ptime : b->ask_ptime);
		snprintf(so.strip[so.n_strip < NGC_MAX_STRIP ? so.n_strip++ : NGC_MAX_STRIP - 1],
			 sizeof(so.strip[0]), "%s", chosen.name);
		so.add[0] = b->src;
		so.n_add = 1;
		so.add_first = true;
		/* through the pipeline each side keeps its own packet time (the byte map relays
		 * packets as they come: the answer's a=ptime goes on as it is) */
		if (!(is_g711(sdp_codec_id(&b->src)) && is_g711(sdp_codec_id(&chosen))))
			so.ptime = ptime[offerer];
	}
	size_t mark = out->len;
	struct ngbranch was = *b;
	b->transcode = xcode;
	b->codec[answerer] = chosen;
	b->codec[offerer] = xcode ? b->src : chosen;
	b->ptime[0] = ptime[0];
	b->ptime[1] = ptime[1];
	if (sdp_step(req, &o, &so, codecs, nc, &b->ep[offerer], &b->peer[answerer], out,
		     &why) != 0 ||
	    publish(b) != 0) {
		out->len = mark;
		b->transcode = was.transcode;
		memcpy(b->codec, was.codec, sizeof(b->codec));
		memcpy(b->ptime, was.ptime, sizeof(b->ptime));
		b->peer[answerer] = was.peer[answerer];
		ngc_error(out, why ? why : "cannot publish the media");
		return;
	}
	if (xcode && (!was.transcode || sdp_codec_id(&b->codec[0]) != sdp_codec_id(&was.codec[0]) ||
		      sdp_codec_id(&b->codec[1]) != sdp_codec_id(&was.codec[1])))
		LOG_I("ng", "%s: caller %s, callee %s%s", c->call_id, b->codec[0].name,
		      b->codec[1].name, xcode ? " (transcoded)" : "");
	b->answered = true;
}

static void leg_stats(struct be_buf *out, const char *name, const struct ngbranch *b, int i)
{
	const struct media_ep *ep = &b->ep[i];
	const char *label = b->label[i], *dtmf = b->dtmf[i];
	struct stream_stats st;
	struct leg_quality q;
	char ip[INET_ADDRSTRLEN];
	struct in_addr a = media_ep_addr(ep);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	media_ep_stats(ep, &st);
	quality_of(&st, side_clock(b, i), sdp_codec_id(&b->codec[i]), &q);
	be_cstr(out, name);
	be_dict(out);
	be_kv_str(out, "address", ip);
	be_kv_int(out, "port", ep->port);
	be_kv_int(out, "packets", (int64_t)st.rx_pkts);
	be_kv_int(out, "bytes", (int64_t)st.rx_bytes);
	be_kv_int(out, "errors", (int64_t)(st.drops + st.wrong_source));
	be_kv_int(out, "lost", st.rtp_lost > 0 ? st.rtp_lost : 0);
	be_kv_int(out, "jitter", (int64_t)st.rtp_jitter);
	if (q.valid)
		be_kv_int(out, "MOS", (int64_t)(q.mos * 10 + 0.5)); /* tenths, as rtpengine's */
	if (st.rtt_us)
		be_kv_int(out, "RTT", st.rtt_us); /* microseconds, mgw <-> this side's peer */
	if (label[0])
		be_kv_str(out, "label", label);
	if (dtmf[0])
		be_kv_str(out, "DTMF", dtmf);
	be_end(out);
}

static void cmd_query_or_delete(const struct be_node *req, struct be_buf *out, bool del)
{
	struct req_ids id;
	ids_of(req, &id);
	if (!id.cid[0]) {
		ngc_error(out, "call-id missing");
		return;
	}
	struct ngcall **slot = find(id.cid);
	if (!*slot) {
		ngc_error(out, "Unknown call-id");
		return;
	}
	struct ngcall *c = *slot;
	/* a via-branch of the call's names that branch alone (a fork that lost); otherwise the
	 * whole call (a BYE's delete carries a via-branch of its own) */
	struct ngbranch *only = branch_by_via(c, id.via), *b = only;
	if (!b)
		b = branch_by_tag(c, id.ttag);
	for (struct ngbranch *x = c->branches; !b && x; x = x->next)
		if (x->answered)
			b = x;
	if (!b)
		b = c->branches;
	be_kv_str(out, "result", "ok");
	be_kv_int(out, "created", (int64_t)(c->created_ms / 1000));
	be_kv_int(out, "branches", c->n_branches);
	if (b) {
		be_cstr(out, "totals");
		be_dict(out);
		leg_stats(out, "caller", b, 0);
		leg_stats(out, "callee", b, 1);
		be_end(out);
	}
	if (!del)
		return;
	if (only && c->n_branches > 1) {
		branch_unlink(c, only);
		quality_note(c, only);
		branch_free(only);
	} else {
		ngcall_free(slot);
	}
}

/* block media / unblock media: the media the side named by from-tag sends (both sides without
 * one) stops going to the other side, or flows again; block DTMF / unblock DTMF: the same
 * for its RFC 4733 events alone (still reported). Every branch of the call. */
static void cmd_block(const struct be_node *req, struct be_buf *out, bool block, bool dtmf)
{
	struct req_ids id;
	ids_of(req, &id);
	struct ngcall *c = id.cid[0] ? *find(id.cid) : NULL;
	if (!c) {
		ngc_error(out, id.cid[0] ? "Unknown call-id" : "call-id missing");
		return;
	}
	bool any = false;
	for (struct ngbranch *b = c->branches; b; b = b->next) {
		bool side[2] = {!id.ftag[0] || strcmp(id.ftag, c->from_tag) == 0,
				!id.ftag[0] || strcmp(id.ftag, b->to_tag) == 0};
		bool *what = dtmf ? b->dtmf_blocked : b->blocked;
		bool was[2] = {what[0], what[1]};
		for (int i = 0; i < 2; i++)
			if (side[i]) {
				what[i] = block;
				any = true;
			}
		if ((was[0] != what[0] || was[1] != what[1]) && publish(b) != 0) {
			what[0] = was[0];
			what[1] = was[1];
			ngc_error(out, "cannot publish the media");
			return;
		}
	}
	if (!any) {
		ngc_error(out, "Unknown from-tag");
		return;
	}
	be_kv_str(out, "result", "ok");
}

/* An integer option given as a number or as digits (Kamailio sends both). */
static int64_t opt_int(const struct be_node *req, const char *key, int64_t def)
{
	const struct be_node *n = be_dict_get(req, key);
	if (n && n->type == BE_INT)
		return n->i;
	if (n && n->type == BE_STR && n->n > 0 && n->n < 12) {
		char buf[12];
		memcpy(buf, n->s, n->n);
		buf[n->n] = '\0';
		char *end;
		long long v = strtoll(buf, &end, 10);
		if (*end == '\0')
			return v;
	}
	return def;
}

/* The call and the sides of each branch that the request's from-tag names (both without one),
 * for play media / stop media / play DTMF. NULL after an error reply. */
static struct ngcall *player_call(const struct be_node *req, struct be_buf *out,
				  struct req_ids *id)
{
	ids_of(req, id);
	struct ngcall *c = id->cid[0] ? *find(id->cid) : NULL;
	if (!c)
		ngc_error(out, id->cid[0] ? "Unknown call-id" : "call-id missing");
	return c;
}

static bool side_named(const struct ngcall *c, const struct ngbranch *b, const char *ftag,
		       int i)
{
	return !ftag[0] || strcmp(ftag, i ? b->to_tag : c->from_tag) == 0;
}

/* The codec side @i of @b speaks (the offer's before the answer), PCMU when unknown. */
static struct sdp_codec branch_codec(const struct ngbranch *b, int i)
{
	const struct sdp_codec *c = b->answered ? &b->codec[i] : b->have_src ? &b->src : NULL;
	return c && sdp_codec_id(c) != STREAM_CODEC_NONE
		       ? *c
		       : (struct sdp_codec){.pt = 0, .name = "PCMU", .clock_rate = 8000};
}

/* play media: mgw's player plays a file (file=, repeat-times=) to the side named by from-tag
 * (on every branch), the media the other side sends to it held meanwhile; stop media ends it.
 * The reply gives the file's duration in ms. */
static void cmd_play_media(const struct be_node *req, struct be_buf *out, bool stop)
{
	struct req_ids id;
	struct ngcall *c = player_call(req, out, &id);
	if (!c)
		return;
	char file[256] = "";
	copy_str(be_dict_get(req, "file"), file, sizeof(file));
	if (!stop && !file[0]) {
		ngc_error(out, be_dict_get(req, "blob") || be_dict_get(req, "db-id")
				       ? "only file= is supported (no blob, no db-id)"
				       : "No media file specified");
		return;
	}
	int64_t reps = opt_int(req, "repeat-times", 1);
	if (reps < 0 || reps > 1000000)
		reps = 1;
	unsigned n = 0;
	uint32_t samples = 0;
	for (struct ngbranch *b = c->branches; b; b = b->next)
		for (int i = 0; i < 2; i++) {
			if (!side_named(c, b, id.ftag, i) || !b->ep[i].published)
				continue;
			if (stop) {
				n += media_ep_play_stop(&b->ep[i]) == 0;
				continue;
			}
			char err[256];
			struct sdp_codec k = branch_codec(b, i);
			const struct stream_prompt *pr = prompt_for(file, sdp_codec_id(&k), err,
								    sizeof(err));
			if (!pr) {
				ngc_error(out, err);
				return;
			}
			struct stream_play p = {.kind = STREAM_PLAY_AUDIO, .pt = k.pt,
						.ptime_ms = (uint8_t)b->ptime[i],
						.loops = (uint32_t)reps, .prompt = pr};
			samples = pr->n_samples;
			n += media_ep_play_copy(&b->ep[i], &p) != 0;
		}
	if (n == 0) {
		ngc_error(out, id.ftag[0] ? "Unknown from-tag" : "no media to play on");
		return;
	}
	be_kv_str(out, "result", "ok");
	if (!stop)
		be_kv_int(out, "duration", (int64_t)samples / 8 * (reps ? reps : 1));
}

/* play DTMF: RFC 4733 events for code= (a digit or several), duration= ms, volume= (dBm0,
 * negative or not), pause= ms between them, as if the side named by from-tag had sent them:
 * they go to the other side, in the payload type that side negotiated. */
static void cmd_play_dtmf(const struct be_node *req, struct be_buf *out)
{
	struct req_ids id;
	struct ngcall *c = player_call(req, out, &id);
	if (!c)
		return;
	char code[STREAM_PLAY_DIGITS_MAX + 1] = "";
	const struct be_node *cn = be_dict_get(req, "code");
	if (cn && cn->type == BE_INT && cn->i >= 0 && cn->i <= 15)
		code[0] = "0123456789*#ABCD"[cn->i];
	else
		copy_str(cn, code, sizeof(code));
	bool ok = code[0] != '\0';
	for (size_t k = 0; ok && code[k]; k++)
		ok = play_dtmf_event(code[k]) >= 0;
	if (!ok) {
		ngc_error(out, "Invalid DTMF code: 0-9, *, #, A-D");
		return;
	}
	int64_t dur = opt_int(req, "duration", 100), pause = opt_int(req, "pause", 100);
	int64_t vol = opt_int(req, "volume", 8);
	dur = dur < 40 ? 40 : dur > 5000 ? 5000 : dur;
	pause = pause < 40 ? 40 : pause > 5000 ? 5000 : pause;
	vol = vol < 0 ? -vol : vol;
	unsigned n = 0;
	for (struct ngbranch *b = c->branches; b; b = b->next)
		for (int i = 0; i < 2; i++) {
			int o = !i; /* the events go to the other side */
			if (!side_named(c, b, id.ftag, i) || !b->ep[o].published)
				continue;
			if (!b->peer[o].te_pt) {
				ngc_error(out, "the receiving side did not negotiate telephone-event");
				return;
			}
			struct stream_play p = {.kind = STREAM_PLAY_DTMF, .pt = b->peer[o].te_pt,
						.digit_ms = (uint16_t)dur, .gap_ms = (uint16_t)pause,
						.volume = (uint8_t)(vol > 63 ? 63 : vol)};
			snprintf(p.digits, sizeof(p.digits), "%s", code);
			n += media_ep_play_copy(&b->ep[o], &p) != 0;
		}
	if (n == 0) {
		ngc_error(out, id.ftag[0] ? "Unknown from-tag" : "no media to play on");
		return;
	}
	be_kv_str(out, "result", "ok");
}

static void cmd_list(const struct be_node *req, struct be_buf *out)
{
	const struct be_node *lim = be_dict_get(req, "limit");
	int64_t limit = lim && lim->type == BE_INT && lim->i >= 0 ? lim->i : 32;
	be_kv_str(out, "result", "ok");
	be_cstr(out, "calls");
	be_list(out);
	for (unsigned b = 0; b < NGC_BUCKETS && limit > 0; b++)
		for (struct ngcall *c = buckets[b]; c && limit > 0; c = c->hnext, limit--)
			be_cstr(out, c->call_id);
	be_end(out);
}

static void cmd_statistics(struct be_buf *out)
{
	be_kv_str(out, "result", "ok");
	be_cstr(out, "statistics");
	be_dict(out);
	be_cstr(out, "currentstatistics");
	be_dict(out);
	be_kv_int(out, "sessionsown", n_calls);
	be_kv_int(out, "sessionstotal", n_calls);
	be_end(out);
	be_end(out);
}

int ngcall_command(const struct be_node *req, struct be_buf *out)
{
	const struct be_node *cmd = be_dict_get(req, "command");

	if (be_str_is(cmd, "offer"))
		cmd_offer(req, out);
	else if (be_str_is(cmd, "answer"))
		cmd_answer(req, out);
	else if (be_str_is(cmd, "delete"))
		cmd_query_or_delete(req, out, true);
	else if (be_str_is(cmd, "query"))
		cmd_query_or_delete(req, out, false);
	else if (be_str_is(cmd, "list"))
		cmd_list(req, out);
	else if (be_str_is(cmd, "block media"))
		cmd_block(req, out, true, false);
	else if (be_str_is(cmd, "unblock media"))
		cmd_block(req, out, false, false);
	else if (be_str_is(cmd, "block DTMF"))
		cmd_block(req, out, true, true);
	else if (be_str_is(cmd, "unblock DTMF"))
		cmd_block(req, out, false, true);
	else if (be_str_is(cmd, "statistics"))
		cmd_statistics(out);
	else if (be_str_is(cmd, "play media"))
		cmd_play_media(req, out, false);
	else if (be_str_is(cmd, "stop media"))
		cmd_play_media(req, out, true);
	else if (be_str_is(cmd, "play DTMF"))
		cmd_play_dtmf(req, out);
	else
		return -1;
	return 0;
}

bool ngcall_dtmf(uint64_t stream_id, const struct media_dtmf *ev)
{
	for (unsigned k = 0; k < NGC_BUCKETS; k++)
		for (struct ngcall *c = buckets[k]; c; c = c->hnext)
			for (struct ngbranch *b = c->branches; b; b = b->next)
				for (int i = 0; i < 2; i++) {
					if (b->ep[i].stream_id != stream_id)
						continue;
					media_dtmf_keep(b->dtmf[i], sizeof(b->dtmf[i]), ev->digit);
					LOG_I("ng", "%s: DTMF '%c' from the %s, %u ms%s", c->call_id,
					      ev->digit, i ? "callee" : "caller", ev->duration / 8u,
					      ev->cut ? " (no end packet)" : "");
					return true;
				}
	return false;
}

void ngcall_shutdown(void)
{
	for (unsigned b = 0; b < NGC_BUCKETS; b++)
		while (buckets[b])
			ngcall_free(&buckets[b]);
}
