/* report: one measurement, for people (a few aligned lines) or for scripts (exactly one JSON
 * object on one line of stdout). Rates use the measured window; Gbit/s counts what the frames
 * would occupy on an Ethernet wire: frame + 4 bytes FCS + 20 bytes preamble and gap. */
#ifndef MGW_BENCH_REPORT_H
#define MGW_BENCH_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "bench/ctl.h"
#include "bench/loop.h"
#include "bench/opts.h"

struct report {
	const struct opts *o;
	const struct loop *lp;
	double create_s;               /* < 0: pairs not created by this run */
	uint64_t create_loop_gap_ns;   /* mgwd's worst worker loop gap during creation */
	int have_create_gap;
	int have_status;               /* mgwd status read before and after the run */
	struct ctl_status before, after;
	uint32_t silent_streams;       /* streams of which nothing came back */
};

/** The figures derived from the loop's counters. */
struct report_figures {
	uint64_t lost;
	double pps, gbps, loss_pct;
	double p50_us, p99_us, p999_us, max_us;
	double idle_p50_us, idle_max_us; /* idle probes */
};

void report_figures(const struct report *r, struct report_figures *fig);
void report_print(const struct report *r);

#endif
