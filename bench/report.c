/* report: human and JSON output of one measurement (see report.h). */
#include "bench/report.h"

#include <inttypes.h>
#include <stdio.h>

#include "util/json.h"

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
}

static void report_json_mgwd(const struct report *r, struct jw *w)
{
	const struct loop *lp = r->lp;

	if (r->create_s >= 0)
		jw_kv_double(w, "create_s", r->create_s);
	if (r->have_create_gap)
		jw_kv_u64(w, "create_loop_gap_max_ns", r->create_loop_gap_ns);
	if (r->have_status) {
		jw_kv_u64(w, "mgwd_rx", r->after.rx - r->before.rx);
		jw_kv_u64(w, "mgwd_tx", r->after.tx - r->before.tx);
		jw_kv_u64(w, "mgwd_drops", r->after.drops - r->before.drops);
		jw_kv_str(w, "mgwd_drops_total_by_reason", r->after.drops_by);
		if (r->after.have_loop_gap)
			jw_kv_u64(w, "mgwd_loop_gap_max_ns", r->after.loop_gap_max_ns);
	}
	if (r->o->delete_half_at_s >= 0) {
		jw_kv_u64(w, "sent_deleting", lp->st.sent_deleting);
		jw_kv_u64(w, "sent_deleted", lp->st.sent_deleted);
		jw_kv_u64(w, "late_deleted", lp->st.late_deleted);
		jw_kv_u64(w, "rx_deleted", lp->st.rx_deleted);
		double ms = (double)(lp->t_del_reply - lp->t_del_req) * 1e3 / (double)lp->hz;
		if (lp->t_del_reply)
			jw_kv_double(w, "delete_reply_ms", ms);
	}
}

static void report_json(const struct report *r, const struct report_figures *fig)
{
	const struct loop_stats *st = &r->lp->st;
	struct jw w;

	jw_init(&w);
	jw_obj_begin(&w);
	jw_kv_str(&w, "target", r->o->target == OPTS_TARGET_MGWD ? "mgwd" : "limit");
	if (r->o->label[0])
		jw_kv_str(&w, "label", r->o->label);
	jw_kv_u64(&w, "streams", r->lp->t->n);
	jw_kv_u64(&w, "frame_bytes", r->o->frame_bytes);
	jw_kv_u64(&w, "offered_pps", r->o->pps);
	jw_kv_double(&w, "duration_s", r->o->duration_s);
	jw_kv_u64(&w, "sent", st->sent);
	jw_kv_u64(&w, "received", st->received);
	jw_kv_u64(&w, "lost", fig->lost);
	jw_kv_double(&w, "pps", fig->pps);
	jw_kv_double(&w, "gbps", fig->gbps);
	jw_kv_double(&w, "lat_p50_us", fig->p50_us);
	jw_kv_double(&w, "lat_p99_us", fig->p99_us);
	jw_kv_double(&w, "lat_p999_us", fig->p999_us);
	jw_kv_double(&w, "lat_max_us", fig->max_us);
	jw_kv_u64(&w, "sent_total", st->sent_total);
	jw_kv_u64(&w, "received_total", st->rx_total);
	jw_kv_u64(&w, "tx_ring_full", st->tx_full);
	jw_kv_u64(&w, "foreign", st->foreign);
	jw_kv_u64(&w, "misrouted", st->misrouted);
	if (r->o->target == OPTS_TARGET_MGWD)
		jw_kv_u64(&w, "wrong_source_leg", st->wrong_source_leg);
	jw_kv_u64(&w, "silent_streams", r->silent_streams);
	jw_kv_u64(&w, "arp_answered", st->arp_answered);
	if (r->o->target == OPTS_TARGET_MGWD)
		report_json_mgwd(r, &w);
	jw_obj_end(&w);
	if (!w.err)
		printf("%s\n", w.buf);
	fflush(stdout);
	jw_free(&w);
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
	printf("  sent %" PRIu64 ", received %" PRIu64 ", lost %" PRIu64 " (%.4f %%)\n", st->sent,
	       st->received, fig->lost, fig->loss_pct);
	printf("  %.0f pps, %.3f Gbit/s on the wire\n", fig->pps, fig->gbps);
	printf("  latency us: p50 %.1f, p99 %.1f, p99.9 %.1f, max %.1f\n", fig->p50_us,
	       fig->p99_us, fig->p999_us, fig->max_us);
	printf("  tx ring full %" PRIu64 ", foreign %" PRIu64 ", misrouted %" PRIu64
	       ", silent streams %u\n", st->tx_full, st->foreign, st->misrouted, r->silent_streams);
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
