#include "dataplane/actions/xcode.h"

#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_udp.h>

#include "dataplane/actions/relay.h"
#include "dataplane/codec.h"
#include "dataplane/dtmf.h"
#include "dataplane/jbuf.h"
#include "dataplane/net.h"
#include "dataplane/player.h"
#include "dataplane/rtp.h"
#include "dataplane/vad.h"
#include "dataplane/worker.h"

/* [o] after publication: the owner worker of the receiving stream only. */
struct xcode_pipe {
	struct codec_dec *dec;
	struct codec_enc *enc;
	unsigned rate;          /* PCM rate between the two */
	unsigned out_spf;       /* PCM samples per packet sent */
	unsigned last_in;       /* PCM samples of the last packet decoded (what a loss conceals) */
	uint32_t out_ts_step;   /* RTP timestamp units per packet sent */
	uint32_t out_clock;     /* the out codec's RTP clock */
	unsigned out_ptime_ms;
	/* our RTP source towards the other leg's peer */
	uint32_t ssrc, out_ts;
	uint16_t out_seq;
	uint8_t marker;         /* the next audio packet starts a talk spurt */
	uint8_t scheduled;      /* the direction is in the worker's timing wheel */
	uint64_t paused_tsc;    /* while its ticks are stopped: the instant out_ts stands for,
				 * 0 = not known yet */
	/* the telephone-event being sent on: its timestamp in and out */
	uint32_t te_in_ts, te_out_ts;
	uint8_t te_have;
	unsigned pcm_n;
	int16_t pcm[2 * CODEC_MAX_SAMPLES];
	struct jbuf jb;
	/* [o] written; [x] read by the other leg's worker, which sends the RTCP sender reports
	 * on this source to its peer (RTCP is terminated on transcoded legs): payload octets
	 * sent, and the last packet's RTP timestamp | when it went << 32 (the TSC in units of
	 * 65536 cycles, 22 us at 3 GHz, modulo 2^32: a day and more between wraps) */
	_Atomic uint64_t sent_octets, last_sent;
};

void xcode_sender(const struct stream_xcode *x, uint64_t now, struct xcode_sent *out)
{
	const struct xcode_pipe *pp = x->pipe;
	uint64_t last = atomic_load_explicit(&pp->last_sent, memory_order_relaxed);
	out->octets = atomic_load_explicit(&pp->sent_octets, memory_order_relaxed);
	out->ssrc = pp->ssrc;
	/* the instant's timestamp: the last one sent, moved on by the time since */
	uint64_t since = (uint64_t)((uint32_t)(now >> 16) - (uint32_t)(last >> 32)) << 16;
	uint64_t hz = dp.tsc_hz ? dp.tsc_hz : rte_get_tsc_hz();
	out->ts = (uint32_t)last + (uint32_t)((unsigned __int128)since * pp->out_clock / hz);
}

uint32_t xcode_in_ssrc(const struct stream_xcode *x)
{
	const struct xcode_pipe *pp = x->pipe;
	return pp->jb.ssrc;
}

static void xcode_release(struct stream_xcode *x)
{
	struct xcode_pipe *pp = x->pipe;
	if (pp) {
		codec_dec_free(pp->dec);
		codec_enc_free(pp->enc);
		free(pp);
	}
	free(x);
}

bool xcode_same(const struct stream_xcode *a, const struct stream_xcode *b)
{
	return a && b && a->in_codec == b->in_codec && a->out_codec == b->out_codec &&
	       a->in_pt == b->in_pt && a->out_pt == b->out_pt && a->in_ptime == b->in_ptime &&
	       a->out_ptime == b->out_ptime && a->te_in == b->te_in && a->te_out == b->te_out;
}

struct stream_xcode *xcode_new(const struct stream_xcode *desc)
{
	const struct codec_info *out = codec_info((enum stream_codec)desc->out_codec);
	if (!codec_info((enum stream_codec)desc->in_codec) || !out ||
	    !codec_ptime_ok((enum stream_codec)desc->out_codec, desc->out_ptime) ||
	    desc->in_ptime < 10 || desc->in_ptime > 120)
		return NULL;
	struct stream_xcode *x = malloc(sizeof(*x));
	struct xcode_pipe *pp = calloc(1, sizeof(*pp));
	if (!x || !pp) {
		free(x);
		free(pp);
		return NULL;
	}
	*x = *desc;
	x->refs = 0;
	x->pipe = pp;
	x->release = xcode_release;
	pp->rate = codec_pair_rate((enum stream_codec)desc->in_codec,
				   (enum stream_codec)desc->out_codec);
	pp->dec = codec_dec_new((enum stream_codec)desc->in_codec, pp->rate);
	pp->enc = codec_enc_new((enum stream_codec)desc->out_codec, pp->rate);
	pp->out_spf = pp->rate / 1000 * desc->out_ptime;
	pp->last_in = pp->rate / 1000 * desc->in_ptime;
	if (pp->last_in > CODEC_MAX_SAMPLES)
		pp->last_in = CODEC_MAX_SAMPLES;
	pp->out_clock = out->rtp_clock;
	pp->out_ts_step = out->rtp_clock / 1000 * desc->out_ptime;
	pp->out_ptime_ms = desc->out_ptime;
	pp->ssrc = desc->ssrc;
	pp->out_seq = desc->seq_base;
	pp->out_ts = desc->ts_base;
	pp->marker = 1;
	jb_init(&pp->jb);
	if (!pp->dec || !pp->enc || pp->out_spf > CODEC_MAX_SAMPLES) {
		xcode_release(x);
		return NULL;
	}
	return x;
}

/* While the ticks are stopped (before the first audio, after a pause) our timeline still
 * runs with the clock: move it on by the time that passed, in whole packets. */
static void xcode_catch_up(struct xcode_pipe *pp, uint64_t now)
{
	if (pp->paused_tsc) {
		uint64_t tsc_ms = dp.tsc_hz / 1000, ms = (now - pp->paused_tsc) / tsc_ms;
		uint64_t packets = ms * (pp->out_clock / 1000) / pp->out_ts_step;
		pp->out_ts += (uint32_t)(packets * pp->out_ts_step);
		pp->paused_tsc += packets * pp->out_ptime_ms * tsc_ms;
	} else {
		pp->paused_tsc = now;
	}
}

/* The ticks start again: the first packet carries the marker. */
static void xcode_resume(struct xcode_pipe *pp, uint64_t now)
{
	xcode_catch_up(pp, now);
	pp->marker = 1;
}

int xcode_rx(struct dp_worker *w, struct pkt *p)
{
	const struct stream_cfg *s = p->cfg;
	struct stream_xcode *x = s->xcode;
	struct xcode_pipe *pp = x->pipe;
	uint8_t *rtp = (uint8_t *)(p->udp + 1);
	size_t len = rte_be_to_cpu_16(p->udp->dgram_len) - sizeof(struct rte_udp_hdr), off, end;
	if (len < RTP_HDR_LEN || rtp[0] >> 6 != 2 || rtp_payload(rtp, len, &off, &end) < 0)
		goto bad;
	struct rtp_hdr *h = (struct rtp_hdr *)rtp;
	uint8_t pt = h->mpt & 0x7f;
	if (pt == x->in_pt) {
		enum jb_put_result r = jb_put(&pp->jb, rte_be_to_cpu_32(h->ssrc),
					      rte_be_to_cpu_16(h->seq), rte_be_to_cpu_32(h->ts),
					      rtp + off, end - off);
		if (r != JB_PUT_OK && r != JB_PUT_RESET)
			ctr_inc(&w->stats.xcode_bad);
		else if (!pp->scheduled) {
			uint64_t now = rte_rdtsc();
			/* the first tick once a packet time and a half has passed: the packet
			 * due then arrived half a packet time before it, rather than just when
			 * (any jitter would make it late, and the buffer grow at once) */
			unsigned delay = (x->in_ptime > x->out_ptime ? x->in_ptime : x->out_ptime) +
					 x->in_ptime / 2;
			if (player_xcode_start(w, s, now, delay) == 0) {
				xcode_resume(pp, now);
				pp->scheduled = 1;
			}
		}
		return XCODE_TAKEN;
	}
	if (x->te_in && pt == x->te_in) {
		if (x->te_out == STREAM_PT_DROP)
			return XCODE_DROP_TE;
		/* one event is one timestamp: its packets keep the instant it began at here */
		uint32_t ts = rte_be_to_cpu_32(h->ts);
		if (!pp->te_have || ts != pp->te_in_ts) {
			if (!pp->scheduled) /* no audio going out: the clock's instant */
				xcode_catch_up(pp, rte_rdtsc());
			pp->te_in_ts = ts;
			pp->te_out_ts = pp->out_ts;
			pp->te_have = 1;
		}
		h->mpt = (uint8_t)((h->mpt & 0x80) | (x->te_out & 0x7f));
		h->seq = rte_cpu_to_be_16(pp->out_seq++);
		h->ts = rte_cpu_to_be_32(pp->te_out_ts);
		h->ssrc = rte_cpu_to_be_32(pp->ssrc);
		return XCODE_SEND;
	}
bad:
	ctr_inc(&w->stats.xcode_bad);
	return XCODE_DROP;
}

#define XCODE_HDRS (sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + \
		    sizeof(struct rte_udp_hdr) + RTP_HDR_LEN)

/* Decode (or conceal) until a packet's worth of PCM is there. Returns -1 when the sender has
 * paused. */
static int xcode_fill(struct dp_worker *w, const struct stream_cfg *c, struct stream_state *st,
		      struct xcode_pipe *pp)
{
	while (pp->pcm_n < pp->out_spf) {
		struct jb_out jo;
		int16_t *at = pp->pcm + pp->pcm_n;
		int n = -1;
		switch (jb_step(&pp->jb, &jo)) {
		case JB_PLAY:
			n = codec_decode(pp->dec, jo.pkt->data, jo.pkt->len, at);
			if (n > 0) {
				pp->last_in = (unsigned)n;
				if (c->vad) /* voice activity on what the peer said */
					net_vad_note(w, c, st, vad_voice_pcm(at, (size_t)n),
						     rte_rdtsc());
				break;
			}
			ctr_inc(&w->stats.xcode_bad);
			n = codec_conceal(pp->dec, NULL, 0, pp->last_in, at);
			ctr_inc(&w->stats.xcode_concealed);
			break;
		case JB_LOSS:
		case JB_EMPTY:
			n = codec_conceal(pp->dec, jo.next ? jo.next->data : NULL,
					  jo.next ? jo.next->len : 0, pp->last_in, at);
			ctr_inc(&w->stats.xcode_concealed);
			break;
		default:
			return -1;
		}
		pp->pcm_n += (unsigned)n;
		struct dtmf_report r;
		/* in-band digits in what the peer said (it took no telephone-event) */
		if (unlikely(c->inband) &&
		    dtmf_inband_pcm(&st->dtmf, at, (size_t)n, pp->rate, &r) == DTMF_REPORT)
			net_post_dtmf(w, c, &r);
	}
	return 0;
}

int xcode_tick(struct dp_worker *w, const struct stream_cfg *c, struct stream_state *st)
{
	struct xcode_pipe *pp = c->xcode->pipe;
	const struct stream_cfg *o = c->other;
	if (xcode_fill(w, c, st, pp) != 0) {
		pp->pcm_n = 0;
		pp->scheduled = 0;
		pp->paused_tsc = rte_rdtsc();
		return -1;
	}
	uint8_t payload[CODEC_MAX_PAYLOAD];
	int len = codec_encode(pp->enc, pp->pcm, pp->out_spf, payload);
	pp->pcm_n -= pp->out_spf;
	memmove(pp->pcm, pp->pcm + pp->out_spf, pp->pcm_n * sizeof(pp->pcm[0]));
	uint32_t ts = pp->out_ts;
	pp->out_ts += pp->out_ts_step;
	/* the other leg on hold, or mgw's player talking to its peer: the timeline runs on */
	uint64_t dest = relay_dest(o, c->other_st, 0);
	if (len <= 0 || !dest || (o->dir & (STREAM_DIR_SEND | STREAM_DIR_PLAY)) != STREAM_DIR_SEND)
		return 0;
	struct rte_mbuf *m = dp_alloc();
	uint8_t *pkt = m ? (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(XCODE_HDRS + len)) : NULL;
	if (!pkt) {
		if (m)
			dp_free(m);
		ctr_inc(&w->stats.xcode_late); /* encoded, not sent */
		return 0;
	}
	struct rtp_hdr *rtp = (struct rtp_hdr *)(pkt + XCODE_HDRS - RTP_HDR_LEN);
	rtp_write_hdr(rtp, pp->marker, c->xcode->out_pt, pp->out_seq++, ts, pp->ssrc);
	memcpy(pkt + XCODE_HDRS, payload, (size_t)len);
	pp->marker = 0;
	atomic_store_explicit(&pp->sent_octets,
			      atomic_load_explicit(&pp->sent_octets, memory_order_relaxed) +
				      (uint64_t)len,
			      memory_order_relaxed);
	atomic_store_explicit(&pp->last_sent, (rte_rdtsc() >> 16) << 32 | ts,
			      memory_order_relaxed);
	ctr_inc(&st->tx_pkts);
	ctr_inc(&w->stats.xcode_sent);
	net_output_udp(w, o->port_idx, m, o->local_ip, rte_cpu_to_be_16(o->local_port),
		       stream_peer_ip(dest), stream_peer_port(dest));
	return 0;
}
