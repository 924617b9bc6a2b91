#include "controlplane/ng/ngcall.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "controlplane/media/media.h"
#include "controlplane/sip/sdp.h"
#include "util/hash.h"
#include "util/log.h"
#include "util/time.h"

#define NGC_BUCKETS 4096
#define NGC_ID_MAX 256
#define NGC_SDP_MAX 8192

struct ngcall {
	char call_id[NGC_ID_MAX], from_tag[NGC_ID_MAX], to_tag[NGC_ID_MAX];
	struct media_ep a, b;      /* a: towards the caller (offerer), b: towards the callee */
	struct media_peer pa, pb;  /* from the offer and the answer's SDP */
	bool answered;
	uint8_t latch;             /* media.latch, or strict with the strict-source flag */
	char label[2][64];         /* label of the caller's and the callee's side */
	uint64_t created_ms;
	struct ngcall *hnext;
};

/* What a request asks beyond its SDP (flags and option keys, as Kamailio sends them). */
struct req_opts {
	struct ngcall_sdp_opts sdp;
	bool sip_source, strict, trust;
	bool have_media_addr, have_received;
	struct in_addr media_addr, received;
	char label[64];
	const char *warning;       /* something asked that mgwd does not do: said, not refused */
	const char *error;         /* something asked that cannot be honoured: refused */
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

static void ngcall_free(struct ngcall **slot)
{
	struct ngcall *c = *slot;
	*slot = c->hnext;
	media_ep_release(&c->a);
	media_ep_release(&c->b);
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
struct pt_name {
	int pt;
	char name[24];
};

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
	char buf[128];
	snprintf(buf, sizeof(buf), "%.*s", (int)(n < 127 ? n : 127), l + 9);
	char name[24];
	if (sscanf(buf, "%d %23[^/ ]", &out->pt, name) != 2)
		return false;
	snprintf(out->name, sizeof(out->name), "%s", name);
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

int ngcall_sdp_rewrite(const char *in, size_t len, const char *ip, unsigned port,
		       const struct ngcall_sdp_opts *o, char *out, size_t cap)
{
	size_t o_len = 0;
	bool audio_done = false, have_audio = false, in_audio = false;
	/* first pass: the payload types the audio stream's a=rtpmap lines name, and the lines */
	struct pt_name map[64];
	unsigned n_map = 0;
	bool stripped[128] = {false};
	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && in[e] != '\r' && in[e] != '\n')
			e++;
		if (n_map < 64 && rtpmap_of(in + i, e - i, &map[n_map]))
			n_map++;
		while (e < len && (in[e] == '\r' || in[e] == '\n'))
			e++;
		i = e;
	}
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
			for (const char *f = fmt; f && f < l + n;) {
				while (f < l + n && *f == ' ')
					f++;
				const char *fe = f;
				while (fe < l + n && *fe != ' ')
					fe++;
				if (fe == f)
					break;
				int pt = atoi(f);
				const char *name = pt >= 0 && pt < 96 ? static_pt_name(pt) : "";
				for (unsigned k = 0; k < n_map; k++)
					if (map[k].pt == pt)
						name = map[k].name;
				if (pt >= 0 && pt < 128 && strip_this(o, name)) {
					stripped[pt] = true;
				} else {
					PUT(" %.*s", (int)(fe - f), f);
					if (strcasecmp(name, "telephone-event") != 0)
						kept++;
				}
				f = fe;
			}
			if (kept == 0)
				return -1; /* nothing left to carry */
			PUT("\r\n");
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
			PUT("%.*s\r\n", (int)n, l);
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

static void add_strip(struct req_opts *o, const struct be_node *l)
{
	for (const struct be_node *m = l && l->type == BE_LIST ? l->first : NULL; m; m = m->next)
		if (m->type == BE_STR && m->n < sizeof(o->sdp.strip[0]) &&
		    o->sdp.n_strip < NGC_MAX_STRIP) {
			memcpy(o->sdp.strip[o->sdp.n_strip], m->s, m->n);
			o->sdp.strip[o->sdp.n_strip++][m->n] = '\0';
		}
}

static bool addr_of(const struct be_node *n, struct in_addr *out)
{
	char buf[INET_ADDRSTRLEN];
	return copy_str(n, buf, sizeof(buf)) && inet_pton(AF_INET, buf, out) == 1;
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
	add_strip(o, be_dict_get(codec, "strip"));
	add_strip(o, be_dict_get(codec, "mask")); /* without transcoding, a masked codec is gone */
	const struct be_node *tc = be_dict_get(codec, "transcode");
	if ((tc && tc->type == BE_LIST && tc->n) ||
	    ((tc = be_dict_get(codec, "offer")) && tc->type == BE_LIST && tc->n))
		o->error = "codec transcode/offer is not supported yet";
	o->have_media_addr = addr_of(be_dict_get(req, "media-address"), &o->media_addr);
	const struct be_node *rf = be_dict_get(req, "received-from");
	o->have_received = rf && rf->type == BE_LIST && rf->n == 2 && addr_of(rf->first->next,
									       &o->received);
	copy_str(be_dict_get(req, "label"), o->label, sizeof(o->label));
}

/* The SDP of @req, rewritten for @ep as @o asks, into the reply; the peer it describes into
 * @peer (media-address, else with SIP-source-address the SIP source, else the SDP's). */
static int sdp_step(const struct be_node *req, const struct req_opts *o, struct media_ep *ep,
		    struct media_peer *peer, struct be_buf *out, const char **why)
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
	if (o->have_media_addr)
		peer->ip = o->media_addr;
	else if (o->sip_source && !o->trust && o->have_received)
		peer->ip = o->received;
	static char buf[NGC_SDP_MAX];
	char ip[INET_ADDRSTRLEN];
	struct in_addr a = media_ep_addr(ep);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	int n = ngcall_sdp_rewrite(sdp->s, sdp->n, ip, ep->port, &o->sdp, buf, sizeof(buf));
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

static int publish(struct ngcall *c)
{
	return media_ep_relay(&c->a, &c->b, &c->pa, &c->pb, c->latch, false, NULL, NULL);
}

static void ngc_error(struct be_buf *out, const char *why)
{
	be_kv_str(out, "result", "error");
	be_kv_str(out, "error-reason", why);
}

static void cmd_offer(const struct be_node *req, struct be_buf *out)
{
	char cid[NGC_ID_MAX], ftag[NGC_ID_MAX];
	const char *why = NULL;
	struct req_opts o;
	if (!copy_str(be_dict_get(req, "call-id"), cid, sizeof(cid)) ||
	    !copy_str(be_dict_get(req, "from-tag"), ftag, sizeof(ftag))) {
		ngc_error(out, "offer needs call-id and from-tag");
		return;
	}
	opts_parse(req, &o);
	if (o.error) {
		ngc_error(out, o.error);
		return;
	}
	struct ngcall **slot = find(cid), *c = *slot;
	bool fresh = !c;
	if (fresh) {
		c = calloc(1, sizeof(*c));
		if (!c || media_ep_alloc(&c->a) != 0 || media_ep_alloc(&c->b) != 0) {
			if (c) {
				media_ep_release(&c->a);
				free(c);
			}
			ngc_error(out, "no media port free");
			return;
		}
		snprintf(c->call_id, sizeof(c->call_id), "%s", cid);
		snprintf(c->from_tag, sizeof(c->from_tag), "%s", ftag);
		c->created_ms = time_now_ms();
	}
	c->latch = o.strict ? STREAM_LATCH_OFF : (uint8_t)cfg->media_latch;
	if (o.label[0])
		snprintf(c->label[0], sizeof(c->label[0]), "%s", o.label);
	/* the offer goes to the callee: its SDP names mgw's B side; it describes the caller */
	size_t mark = out->len;
	if (sdp_step(req, &o, &c->b, &c->pa, out, &why) != 0 || publish(c) != 0) {
		out->len = mark;
		ngc_error(out, why ? why : "cannot publish the media");
		if (fresh) {
			media_ep_release(&c->a);
			media_ep_release(&c->b);
			free(c);
		}
		return;
	}
	if (fresh) {
		c->hnext = NULL;
		*slot = c;
		n_calls++;
	}
}

static void cmd_answer(const struct be_node *req, struct be_buf *out)
{
	char cid[NGC_ID_MAX];
	const char *why = NULL;
	if (!copy_str(be_dict_get(req, "call-id"), cid, sizeof(cid))) {
		ngc_error(out, "answer needs call-id");
		return;
	}
	struct ngcall *c = *find(cid);
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
	if (o.strict)
		c->latch = STREAM_LATCH_OFF;
	if (o.label[0])
		snprintf(c->label[1], sizeof(c->label[1]), "%s", o.label);
	copy_str(be_dict_get(req, "to-tag"), c->to_tag, sizeof(c->to_tag));
	/* the answer goes to the caller: its SDP names mgw's A side; it describes the callee */
	size_t mark = out->len;
	if (sdp_step(req, &o, &c->a, &c->pb, out, &why) != 0 || publish(c) != 0) {
		out->len = mark;
		ngc_error(out, why ? why : "cannot publish the media");
		return;
	}
	c->answered = true;
}



static void leg_stats(struct be_buf *out, const char *name, const struct media_ep *ep,
		      const char *label)
{
	struct stream_stats st;
	char ip[INET_ADDRSTRLEN];
	struct in_addr a = media_ep_addr(ep);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	media_ep_stats(ep, &st);
	be_cstr(out, name);
	be_dict(out);
	be_kv_str(out, "address", ip);
	be_kv_int(out, "port", ep->port);
	be_kv_int(out, "packets", (int64_t)st.rx_pkts);
	be_kv_int(out, "bytes", (int64_t)st.rx_bytes);
	be_kv_int(out, "errors", (int64_t)(st.drops + st.wrong_source));
	if (label[0])
		be_kv_str(out, "label", label);
	be_end(out);
}

static void cmd_query_or_delete(const struct be_node *req, struct be_buf *out, bool del)
{
	char cid[NGC_ID_MAX];
	if (!copy_str(be_dict_get(req, "call-id"), cid, sizeof(cid))) {
		ngc_error(out, "call-id missing");
		return;
	}
	struct ngcall **slot = find(cid);
	if (!*slot) {
		ngc_error(out, "Unknown call-id");
		return;
	}
	struct ngcall *c = *slot;
	be_kv_str(out, "result", "ok");
	be_kv_int(out, "created", (int64_t)(c->created_ms / 1000));
	be_cstr(out, "totals");
	be_dict(out);
	leg_stats(out, "caller", &c->a, c->label[0]);
	leg_stats(out, "callee", &c->b, c->label[1]);
	be_end(out);
	if (del)
		ngcall_free(slot);
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
	else if (be_str_is(cmd, "statistics"))
		cmd_statistics(out);
	else
		return -1;
	return 0;
}

void ngcall_shutdown(void)
{
	for (unsigned b = 0; b < NGC_BUCKETS; b++)
		while (buckets[b])
			ngcall_free(&buckets[b]);
}
