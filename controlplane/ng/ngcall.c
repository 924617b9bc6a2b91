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
	uint64_t created_ms;
	struct ngcall *hnext;
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

int ngcall_sdp_rewrite(const char *in, size_t len, const char *ip, unsigned port, char *out,
		       size_t cap)
{
	size_t o = 0;
	bool audio_done = false, have_audio = false;
#define PUT(...)                                                                             \
	do {                                                                                 \
		int w_ = snprintf(out + o, cap - o, __VA_ARGS__);                            \
		if (w_ < 0 || (size_t)w_ >= cap - o)                                         \
			return -1;                                                           \
		o += (size_t)w_;                                                             \
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
		} else if (starts(l, n, "m=")) {
			const char *sp = memchr(l, ' ', n);
			const char *sp2 = sp ? memchr(sp + 1, ' ', n - (size_t)(sp + 1 - l)) : NULL;
			if (!sp || !sp2)
				return -1;
			bool audio = !audio_done && starts(l, n, "m=audio ");
			PUT("%.*s %u%.*s\r\n", (int)(sp - l), l, audio ? port : 0u,
			    (int)(n - (size_t)(sp2 - l)), sp2);
			if (audio) {
				audio_done = true;
				have_audio = true;
			}
		} else if (starts(l, n, "a=rtcp:") || starts(l, n, "a=candidate:") ||
			   starts(l, n, "a=ice-") || starts(l, n, "a=end-of-candidates") ||
			   starts(l, n, "a=remote-candidates:")) {
			continue; /* RTCP is port + 1; mgw does no ICE */
		} else {
			PUT("%.*s\r\n", (int)n, l);
		}
	}
#undef PUT
	return have_audio ? (int)o : -1;
}

/* The SDP of @req, rewritten for @ep, into the reply; the peer it describes into @peer. */
static int sdp_step(const struct be_node *req, struct media_ep *ep, struct media_peer *peer,
		    struct be_buf *out, const char **why)
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
	static char buf[NGC_SDP_MAX];
	char ip[INET_ADDRSTRLEN];
	struct in_addr a = media_ep_addr(ep);
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	int n = ngcall_sdp_rewrite(sdp->s, sdp->n, ip, ep->port, buf, sizeof(buf));
	if (n < 0) {
		*why = "the SDP cannot be rewritten (no audio m= line, or too long)";
		return -1;
	}
	be_kv_str(out, "result", "ok");
	be_cstr(out, "sdp");
	be_str(out, buf, (size_t)n);
	return 0;
}

static int publish(struct ngcall *c)
{
	return media_ep_relay(&c->a, &c->b, &c->pa, &c->pb, (uint8_t)cfg->media_latch, false,
			      NULL, NULL);
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
	if (!copy_str(be_dict_get(req, "call-id"), cid, sizeof(cid)) ||
	    !copy_str(be_dict_get(req, "from-tag"), ftag, sizeof(ftag))) {
		ngc_error(out, "offer needs call-id and from-tag");
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
	/* the offer goes to the callee: its SDP names mgw's B side; it describes the caller */
	size_t mark = out->len;
	if (sdp_step(req, &c->b, &c->pa, out, &why) != 0 || publish(c) != 0) {
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
	copy_str(be_dict_get(req, "to-tag"), c->to_tag, sizeof(c->to_tag));
	/* the answer goes to the caller: its SDP names mgw's A side; it describes the callee */
	size_t mark = out->len;
	if (sdp_step(req, &c->a, &c->pb, out, &why) != 0 || publish(c) != 0) {
		out->len = mark;
		ngc_error(out, why ? why : "cannot publish the media");
		return;
	}
	c->answered = true;
}



static void leg_stats(struct be_buf *out, const char *name, const struct media_ep *ep)
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
	leg_stats(out, "caller", &c->a);
	leg_stats(out, "callee", &c->b);
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
