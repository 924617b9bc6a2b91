/* report: human and JSON output of one measurement (see report.h). */
#include "bench/report.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <jansson.h>

#define REPORT_WIRE_OVERHEAD 24 /* FCS 4 + preamble/SFD 8 + inter-frame gap 12 */

void report_figures(const struct report *r, struct report_figures *fig)
{
	const struct loop_stats *st = &r->lp->st;
	double hz = (double)r->lp->hz;
	double us = 1e6 / hz;

	fig->lost = st->sent > st->received ? st->sent - st->received : 0;
	fig->pps = (double)st->received / r->o->duration_s;
	fig->gbps = fig->pps * (r->o->frame_bytes + REPORT_WIRE_OVERHEAD) * 8 / 1e9;
	fig->loss_pct = st->sent ? 100.0 * (double)fig->lost / (double)st->sent : 0;
	fig->p50_us = (double)hist_quantile(&st->lat, 0.5) * us;
	fig->p99_us = (double)hist_quantile(&st->lat, 0.99) * us;
	fig->p999_us = (double)hist_quantile(&st->lat, 0.999) * us;
	fig->max_us = (double)st->lat.max * us;
	fig->idle_p50_us = (double)hist_quantile(&st->idle_lat, 0.5) * us;
	fig->idle_max_us = (double)st->idle_lat.max * us;
}

static void report_set_u64(json_t *o, const char *key, uint64_t v)
{
	json_object_set_new(o, key, json_integer((json_int_t)v));
}

static void report_set_double(json_t *o, const char *key, double v)
{
	json_object_set_new(o, key, json_real(v));
}

static void report_json_mgwd(const struct report *r, json_t *o)
{
	const struct loop *lp = r->lp;

	if (r->create_s >= 0)
		report_set_double(o, "create_s", r->create_s);
	if (r->have_create_gap)
		report_set_u64(o, "create_loop_gap_max_ns", r->create_loop_gap_ns);
	if (r->have_status) {
		report_set_u64(o, "mgwd_rx", r->after.rx - r->before.rx);
		report_set_u64(o, "mgwd_tx", r->after.tx - r->before.tx);
		report_set_u64(o, "mgwd_drops", r->after.drops - r->before.drops);
		json_object_set_new(o, "mgwd_drops_total_by_reason",
				    json_string(r->after.drops_by));
		if (r->after.have_loop_gap)
			report_set_u64(o, "mgwd_loop_gap_max_ns", r->after.loop_gap_max_ns);
	}
	if (r->o->delete_half_at_s >= 0) {
		report_set_u64(o, "sent_deleting", lp->st.sent_deleting);
		report_set_u64(o, "sent_deleted", lp->st.sent_deleted);
		report_set_u64(o, "late_deleted", lp->st.late_deleted);
		report_set_u64(o, "rx_deleted", lp->st.rx_deleted);
		double ms = (double)(lp->t_del_reply - lp->t_del_req) * 1e3 / (double)lp->hz;
		if (lp->t_del_reply)
			report_set_double(o, "delete_reply_ms", ms);
	}
}

/* --announce: what was heard of mgwd's player, and what it cost mgwd. */
struct report_ann {
	uint64_t plays, expected, played, play_lost;
	double dev_p50_us, dev_p99_us, dev_max_us;
	double core_share, ns_per_packet;
};

static void report_ann(const struct report *r, struct report_ann *a)
{
	const struct loop *lp = r->lp;
	double us = 1e6 / (double)lp->hz;
	a->plays = lp->t->n_pairs;
	a->expected = (uint64_t)((double)a->plays * r->o->duration_s * 50);
	a->dev_p50_us = (double)hist_quantile(&lp->st.ann_dev, 0.5) * us;
	a->dev_p99_us = (double)hist_quantile(&lp->st.ann_dev, 0.99) * us;
	a->dev_max_us = (double)lp->st.ann_dev.max * us;
	a->played = a->play_lost = 0;
	a->core_share = a->ns_per_packet = 0;
	if (r->have_status) {
		a->played = r->after.played - r->before.played;
		a->play_lost = r->after.play_lost - r->before.play_lost;
		double busy = (double)(r->after.play_busy_ns - r->before.play_busy_ns);
		double span = (double)(lp->t_end - lp->t_start) * 1e9 / (double)lp->hz;
		a->core_share = span > 0 ? busy / span : 0;
		a->ns_per_packet = a->played ? busy / (double)a->played : 0;
	}
}

static void report_json_ann(const struct report *r, json_t *o)
{
	struct report_ann a;
	report_ann(r, &a);
	json_object_set_new(o, "announce", json_string(r->o->announce));
	report_set_u64(o, "plays", a.plays);
	report_set_u64(o, "ann_streams_heard", r->lp->st.ann_streams);
	report_set_u64(o, "ann_expected", a.expected);
	report_set_u64(o, "ann_received", r->lp->st.ann_received);
	report_set_u64(o, "ann_lost", r->lp->st.ann_lost);
	report_set_double(o, "ann_pacing_dev_p50_us", a.dev_p50_us);
	report_set_double(o, "ann_pacing_dev_p99_us", a.dev_p99_us);
	report_set_double(o, "ann_pacing_dev_max_us", a.dev_max_us);
	report_set_u64(o, "mgwd_played", a.played);
	report_set_u64(o, "mgwd_play_lost", a.play_lost);
	report_set_double(o, "mgwd_play_core_share", a.core_share);
	report_set_double(o, "mgwd_play_ns_per_packet", a.ns_per_packet);
}

/* --transcode: what came out of mgwd's pipelines, and what they cost its worker. */
struct report_xc {
	uint64_t calls, expected, sent, concealed, bad, late;
	double dev_p99_us, core_share, us_per_call;
};

static void report_xc(const struct report *r, struct report_xc *x)
{
	const struct loop *lp = r->lp;
	memset(x, 0, sizeof(*x));
	x->calls = lp->t->n_pairs;
	x->expected = (uint64_t)((double)lp->t->n * r->o->duration_s * 50);
	x->dev_p99_us = (double)hist_quantile(&lp->st.ann_dev, 0.99) * 1e6 / (double)lp->hz;
	if (lp->xc_snaps == 2) { /* the measured window's */
		const struct ctl_status *a = &lp->xc_open, *b = &lp->xc_close;
		x->sent = b->xcode_sent - a->xcode_sent;
		x->concealed = b->xcode_concealed - a->xcode_concealed;
		x->bad = b->xcode_bad - a->xcode_bad;
		x->late = b->xcode_late - a->xcode_late;
		double busy = (double)(b->xcode_busy_ns - a->xcode_busy_ns);
		double span = (double)(lp->t1 - lp->t0) * 1e9 / (double)lp->hz;
		x->core_share = span > 0 ? busy / span : 0;
		x->us_per_call = x->calls ? x->core_share * 1e6 / (double)x->calls : 0;
	}
}

static void report_json_xc(const struct report *r, json_t *o)
{
	struct report_xc x;
	report_xc(r, &x);
	json_object_set_new(o, "transcode", json_string(r->o->transcode));
	report_set_u64(o, "calls", x.calls);
	report_set_u64(o, "xc_streams_heard", r->lp->st.ann_streams);
	report_set_u64(o, "xc_expected", x.expected);
	report_set_u64(o, "xc_received", r->lp->st.ann_received);
	report_set_u64(o, "xc_seq_gaps", r->lp->st.ann_lost);
	report_set_double(o, "xc_pacing_dev_p99_us", x.dev_p99_us);
	report_set_u64(o, "mgwd_xcode_sent", x.sent);
	report_set_u64(o, "mgwd_xcode_concealed", x.concealed);
	report_set_u64(o, "mgwd_xcode_bad", x.bad);
	report_set_u64(o, "mgwd_xcode_late", x.late);
	report_set_double(o, "mgwd_xcode_core_share", x.core_share);
	report_set_double(o, "mgwd_xcode_us_per_call_s", x.us_per_call);
}

static void report_json(const struct report *r, const struct report_figures *fig)
{
	const struct loop_stats *st = &r->lp->st;
	json_t *o = json_object();

	if (!o)
		return;
	json_object_set_new(o, "target",
			    json_string(r->o->target == OPTS_TARGET_MGWD ? "mgwd" : "limit"));
	if (r->o->label[0])
		json_object_set_new(o, "label", json_string(r->o->label));
	report_set_u64(o, "streams", r->lp->t->n);
	report_set_u64(o, "frame_bytes", r->o->frame_bytes);
	report_set_u64(o, "offered_pps", r->o->pps);
	report_set_double(o, "duration_s", r->o->duration_s);
	report_set_u64(o, "sent", st->sent);
	report_set_u64(o, "received", st->received);
	report_set_u64(o, "lost", fig->lost);
	report_set_double(o, "pps", fig->pps);
	report_set_double(o, "gbps", fig->gbps);
	report_set_double(o, "lat_p50_us", fig->p50_us);
	report_set_double(o, "lat_p99_us", fig->p99_us);
	report_set_double(o, "lat_p999_us", fig->p999_us);
	report_set_double(o, "lat_max_us", fig->max_us);
	report_set_u64(o, "sent_total", st->sent_total);
	report_set_u64(o, "received_total", st->rx_total);
	report_set_u64(o, "tx_ring_full", st->tx_full);
	report_set_u64(o, "foreign", st->foreign);
	report_set_u64(o, "misrouted", st->misrouted);
	if (r->o->target == OPTS_TARGET_MGWD)
		report_set_u64(o, "wrong_source_leg", st->wrong_source_leg);
	report_set_u64(o, "silent_streams", r->silent_streams);
	report_set_u64(o, "arp_answered", st->arp_answered);
	if (r->o->idle_probes) {
		report_set_u64(o, "idle_probes", st->idle_sent);
		report_set_u64(o, "idle_received", st->idle_received);
		report_set_u64(o, "idle_gap_ms", r->o->idle_gap_ms);
		report_set_double(o, "idle_lat_p50_us", fig->idle_p50_us);
		report_set_double(o, "idle_lat_max_us", fig->idle_max_us);
	}
	if (r->o->target == OPTS_TARGET_MGWD)
		report_json_mgwd(r, o);
	if (r->o->announce)
		report_json_ann(r, o);
	if (r->o->transcode)
		report_json_xc(r, o);
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
	json_decref(o);
	if (line)
		printf("%s\n", line);
	fflush(stdout);
	free(line);
}

static void report_human(const struct report *r, const struct report_figures *fig)
{
	const struct loop_stats *st = &r->lp->st;
	const struct opts *o = r->o;

	printf("target %s, %u streams, %u-byte frames, offered %s%" PRIu64 " pps, %.1f s\n",
	       o->target == OPTS_TARGET_MGWD ? "mgwd" : "limit", r->lp->t->n, o->frame_bytes,
	       o->pps ? "" : "flat out ", o->pps, o->duration_s);
	if (r->create_s >= 0)
		printf("  created %u pairs in %.2f s (mgwd worst loop gap %.3f ms)\n",
		       r->lp->t->n_pairs, r->create_s, (double)r->create_loop_gap_ns / 1e6);
	if (!o->transcode) { /* stamps: mgwd's own audio carries none */
		printf("  sent %" PRIu64 ", received %" PRIu64 ", lost %" PRIu64 " (%.4f %%)\n",
		       st->sent, st->received, fig->lost, fig->loss_pct);
		printf("  %.0f pps, %.3f Gbit/s on the wire\n", fig->pps, fig->gbps);
		printf("  latency us: p50 %.1f, p99 %.1f, p99.9 %.1f, max %.1f\n", fig->p50_us,
		       fig->p99_us, fig->p999_us, fig->max_us);
	}
	printf("  tx ring full %" PRIu64 ", foreign %" PRIu64 ", misrouted %" PRIu64
	       ", silent streams %u\n", st->tx_full, st->foreign, st->misrouted, r->silent_streams);
	if (o->idle_probes)
		printf("  after %u ms idle: %" PRIu64 " of %" PRIu64 " probes back, latency us p50 %.1f,"
		       " max %.1f\n", o->idle_gap_ms, st->idle_received, st->idle_sent,
		       fig->idle_p50_us, fig->idle_max_us);
	if (o->target == OPTS_TARGET_MGWD)
		printf("  from the wrong leg %" PRIu64 "\n", st->wrong_source_leg);
	if (r->have_status)
		printf("  mgwd: rx %" PRIu64 ", tx %" PRIu64 ", drops %" PRIu64 " (%s)\n",
		       r->after.rx - r->before.rx, r->after.tx - r->before.tx,
		       r->after.drops - r->before.drops, r->after.drops_by);
	if (o->delete_half_at_s >= 0)
		printf("  delete half: sent while deleting %" PRIu64 ", after %" PRIu64
		       ", received late %" PRIu64 "\n", st->sent_deleting, st->sent_deleted,
		       st->late_deleted);
	if (o->transcode) {
		struct report_xc x;
		report_xc(r, &x);
		printf("  transcode PCMU <-> %s, %" PRIu64 " calls (%" PRIu64 " streams heard): "
		       "received %" PRIu64 " of %" PRIu64 " expected, %" PRIu64 " sequence gaps\n",
		       o->transcode, x.calls, st->ann_streams, st->ann_received, x.expected,
		       st->ann_lost);
		printf("  mgwd pipelines: %" PRIu64 " packets sent, %" PRIu64 " concealed, %" PRIu64
		       " bad, %" PRIu64 " not sent (late); %.1f %% of a core (%.1f us per "
		       "call-second); pacing p99 %.0f us\n", x.sent, x.concealed, x.bad, x.late,
		       100 * x.core_share, x.us_per_call, x.dev_p99_us);
	}
	if (o->announce) {
		struct report_ann a;
		report_ann(r, &a);
		printf("  announce %s on %" PRIu64 " streams (%" PRIu64 " heard): received %" PRIu64
		       " of %" PRIu64 " expected, lost %" PRIu64 "\n", o->announce, a.plays,
		       st->ann_streams, st->ann_received, a.expected, st->ann_lost);
		printf("  pacing: arrival interval off 20 ms by p50 %.1f, p99 %.1f, max %.1f us\n",
		       a.dev_p50_us, a.dev_p99_us, a.dev_max_us);
		printf("  mgwd player: %" PRIu64 " packets, %" PRIu64 " lost, %.1f %% of a core, "
		       "%.0f ns per packet\n", a.played, a.play_lost, 100 * a.core_share,
		       a.ns_per_packet);
	}
}

void report_print(const struct report *r)
{
	struct report_figures fig;

	report_figures(r, &fig);
	if (r->o->json)
		report_json(r, &fig);
	else
		report_human(r, &fig);
}
