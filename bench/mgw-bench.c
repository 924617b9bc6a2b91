/* mgw-bench: traffic generator and sink for mgw, a separate DPDK process joined to the
 * target by net_memif (the bench is the client, the target the server).
 *
 * --target mgwd: creates relay pairs through mgwd's control socket (media.create, tag
 * "bench"), sends RTP to every stream's local endpoint and receives what mgwd relays.
 * --target limit: the same frames through dpdk-testpmd in io forwarding (started by
 * bench/run), which returns them unmodified: the harness's own limit on this machine.
 * See docs/benchmarks.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <rte_eal.h>

#include "bench/ctl.h"
#include "bench/flow.h"
#include "bench/link.h"
#include "bench/loop.h"
#include "bench/opts.h"
#include "bench/report.h"

#define BENCH_ARP_TIMEOUT_MS 5000

static double bench_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Create the pairs (timed, with mgwd's worst loop gap meanwhile) or load them from the
 * pairs file of an earlier run. */
static int bench_pairs(struct ctl *c, const struct opts *o, const struct flow_table *t,
		       struct flow_pair *pairs, struct report *r)
{
	char err[256];
	struct ctl_status st;

	r->create_s = -1;
	if (o->pairs_file) {
		int rc = ctl_pairs_load(o->pairs_file, pairs, t->n_pairs);
		if (rc == 0)
			return 0;
		if (rc != -ENOENT) {
			fprintf(stderr, "mgw-bench: %s: not a pairs file for %u pairs\n",
				o->pairs_file, t->n_pairs);
			return -1;
		}
	}
	int can_reset = ctl_stats_reset(c, err, sizeof(err)) == 0;
	double t0 = bench_now_s();
	if (ctl_create(c, t, pairs, err, sizeof(err)) != 0) {
		fprintf(stderr, "mgw-bench: creating %u pairs: %s\n", t->n_pairs, err);
		return -1;
	}
	r->create_s = bench_now_s() - t0;
	if (can_reset && ctl_status(c, &st, err, sizeof(err)) == 0 && st.have_loop_gap) {
		r->have_create_gap = 1;
		r->create_loop_gap_ns = st.loop_gap_max_ns;
	}
	if (o->pairs_file && ctl_pairs_save(o->pairs_file, pairs, t->n_pairs) != 0)
		fprintf(stderr, "mgw-bench: cannot save %s\n", o->pairs_file);
	return 0;
}

/* mgwd mode before the run: pairs, streams, the target's MAC, a status to diff against. */
static int bench_setup_mgwd(struct ctl *c, const struct opts *o, struct flow_table *t,
			    struct flow_pair **pairs, struct loop *lp, struct report *r)
{
	char err[256];

	if (ctl_open(c, o->ctl_socket, err, sizeof(err)) != 0) {
		fprintf(stderr, "mgw-bench: %s\n", err);
		return -1;
	}
	*pairs = calloc(t->n_pairs, sizeof(**pairs));
	if (!*pairs || bench_pairs(c, o, t, *pairs, r) != 0)
		return -1;
	for (uint32_t j = 0; j < t->n_pairs; j++)
		flow_set_pair(t, j, &(*pairs)[j]);
	if (loop_resolve(lp, BENCH_ARP_TIMEOUT_MS) != 0) {
		fprintf(stderr, "mgw-bench: no ARP reply from mgwd for the first media address\n");
		return -1;
	}
	ctl_stats_reset(c, err, sizeof(err));
	r->have_status = ctl_status(c, &r->before, err, sizeof(err)) == 0;
	return 0;
}

/* --announce: mgwd plays on every pair's leg A, towards the pair's A peer (a bench address). */
static int bench_announce(struct ctl *c, const struct opts *o, const struct flow_table *t,
			  struct loop *lp)
{
	char err[256];
	if (o->target != OPTS_TARGET_MGWD) {
		fprintf(stderr, "mgw-bench: --announce needs --target mgwd\n");
		return -1;
	}
	lp->ann = calloc(t->n, sizeof(*lp->ann));
	json_t *req = json_pack("{s:s, s:s, s:s, s:i}", "cmd", "media.play", "tag", "bench",
				"play", o->announce, "loops", 0);
	char *line = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	json_t *res = lp->ann && line ? ctl_call(c, line, err, sizeof(err)) : NULL;
	free(line);
	if (!res) {
		fprintf(stderr, "mgw-bench: media.play: %s\n", lp->ann ? err : "out of memory");
		return -1;
	}
	json_decref(res);
	return 0;
}

static void bench_teardown_mgwd(struct ctl *c, const struct opts *o, struct report *r)
{
	char err[256];

	if (c->fd < 0)
		return;
	if (r->have_status)
		r->have_status = ctl_status(c, &r->after, err, sizeof(err)) == 0;
	if (!o->keep && ctl_delete_tag(c, err, sizeof(err)) < 0)
		fprintf(stderr, "mgw-bench: media.delete: %s\n", err);
	ctl_close(c);
}

static uint32_t bench_silent(const struct flow_table *t, const struct opts *o)
{
	uint32_t n = 0;
	for (uint32_t s = 0; s < t->n; s += o->one_way ? 2 : 1)
		n += t->f[s].rx == 0;
	return n;
}

/* Everything after the EAL: returns the exit status. */
static int bench_main(const struct opts *o)
{
	static struct loop lp; /* holds the histogram: too big for the stack */
	struct flow_table t;
	struct link l;
	struct ctl c = { .fd = -1 };
	struct flow_pair *pairs = NULL;
	struct report r = { .o = o, .lp = &lp, .create_s = -1 };
	const struct rte_ether_addr any = { { 0x02, 0, 0, 0, 0, 0x02 } };
	char err[256];
	int rc = 1;

	if (flow_init(&t, o->streams, o->frame_bytes, o->ip) != 0) {
		fprintf(stderr, "mgw-bench: cannot allocate %u streams\n", o->streams);
		return 1;
	}
	if (link_open(&l, o, err, sizeof(err)) != 0) {
		fprintf(stderr, "mgw-bench: %s\n", err);
		goto out;
	}
	if (o->transcode && flow_audio_init(&t, o->transcode) != 0) {
		fprintf(stderr, "mgw-bench: --transcode %s: PCMU to G722, G729 or opus\n",
			o->transcode);
		goto out;
	}
	flow_set_macs(&t, &l.mac, &any);
	loop_init(&lp, o, &t, &l, o->target == OPTS_TARGET_MGWD ? &c : NULL, NULL);
	if (o->target == OPTS_TARGET_MGWD) {
		if (bench_setup_mgwd(&c, o, &t, &pairs, &lp, &r) != 0)
			goto out;
		lp.pairs = pairs;
	} else {
		flow_synth_pairs(&t, o->media_ip);
	}
	if (o->announce && bench_announce(&c, o, &t, &lp) != 0)
		goto out;
	if (o->transcode && !(lp.ann = calloc(t.n, sizeof(*lp.ann)))) /* per stream, as heard */
		goto out;
	int run_rc = loop_run(&lp);
	if (run_rc == 0 && !o->announce && !o->transcode)
		loop_idle_probes(&lp);
	bench_teardown_mgwd(&c, o, &r);
	r.silent_streams = bench_silent(&t, o);
	report_print(&r);
	rc = run_rc == 0 ? 0 : 1;
out:
	if (rc != 0)
		bench_teardown_mgwd(&c, o, &r);
	link_close(&l);
	free(pairs);
	free(lp.ann);
	flow_fini(&t);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;

	int rc = opts_parse(&o, argc, argv);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (link_eal_init(&o, argv[0]) != 0)
		return 1;
	rc = bench_main(&o);
	rte_eal_cleanup();
	return rc;
}
