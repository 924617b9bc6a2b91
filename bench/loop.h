/* loop: the packet loop of mgw-bench. One lcore sends and receives in turn: receive up to a
 * few bursts of 32 (answer ARP, match each frame to its stream by its stamp, record its
 * latency), then send one burst of 32 frames round-robin over the streams, paced by a token
 * bucket on the TSC or flat out. Phases: warm-up (not measured), the measured window, a drain
 * (receive only). A packet belongs to the window when its send TSC does, so sent, received and
 * lost count the same packets whatever arrives late. */
#ifndef MGW_BENCH_LOOP_H
#define MGW_BENCH_LOOP_H

#include <stdint.h>

#include "bench/ctl.h"
#include "bench/flow.h"
#include "bench/hist.h"
#include "bench/link.h"
#include "bench/opts.h"

struct loop_stats {
	uint64_t sent, received;     /* packets sent in the window, and those of them received */
	uint64_t sent_total, rx_total;
	uint64_t tx_full;            /* frames the memif ring did not take (not counted as sent) */
	uint64_t foreign;            /* received frames that carry no valid stamp of ours */
	uint64_t misrouted;          /* stamp's stream differs from the address it arrived at */
	uint64_t wrong_source_leg;   /* relayed from elsewhere than the other leg of its pair */
	uint64_t arp_answered, arp_sent;
	uint64_t sent_deleting;      /* to a deleted pair between delete request and reply */
	uint64_t sent_deleted;       /* to a deleted pair after the reply */
	uint64_t late_deleted;       /* of those, received: must be 0 */
	uint64_t rx_deleted;         /* received for deleted pairs, sent before the reply */
	struct hist lat;             /* TSC cycles, window packets */
	uint64_t idle_sent, idle_received; /* probes after idle spells (--idle-probes) */
	/* --announce: RTP that mgwd plays to the pairs' A peers */
	uint64_t ann_received;       /* in the window */
	uint64_t ann_lost;           /* sequence numbers skipped in the window */
	uint64_t ann_streams;        /* streams heard */
	struct hist ann_dev;         /* TSC cycles: |arrival interval - 20 ms|, window packets */
	struct hist idle_lat;        /* TSC cycles, probes */
};

struct loop {
	const struct opts *o;
	struct flow_table *t;
	struct link *l;
	struct ctl *ctl;             /* NULL in limit mode */
	const struct flow_pair *pairs;
	uint64_t hz;
	uint64_t t_start, t0, t1, t_end;
	uint64_t t_probe;            /* frames stamped from here on are idle probes; 0 = none */
	uint64_t t_del_at, t_del_req, t_del_reply; /* 0 = not (yet) */
	int del_pending;
	int del_failed;
	uint32_t cursor;             /* next stream to send */
	uint64_t credit;             /* token bucket, in packets * hz */
	uint64_t last;
	int have_dst_mac;
	uint32_t arp_target;         /* address whose MAC we asked for, network order */
	struct loop_stats st;
	struct loop_ann *ann;        /* --announce: per stream, else NULL */
	/* --transcode: mgwd's status as the window opens and closes (a stream's end is
	 * concealed for a few packets: those after the window are not the run's) */
	struct ctl_status xc_open, xc_close;
	int xc_snaps;                /* how many of the two were taken */
};

/* What the bench heard of one announced stream. */
struct loop_ann {
	uint64_t last_tsc;
	uint16_t last_seq;
	uint8_t seen;
};

void loop_init(struct loop *lp, const struct opts *o, struct flow_table *t, struct link *l,
	       struct ctl *ctl, const struct flow_pair *pairs);
/** mgwd mode: ask for the target's MAC (from every bench address, so that mgwd learns them
 *  all) until it answers or @timeout_ms passes. Returns 0 or -1. */
int loop_resolve(struct loop *lp, unsigned timeout_ms);
/** Run warm-up, window and drain. Returns 0, or -1 when the mid-run delete failed. */
int loop_run(struct loop *lp);
/** After loop_run: --idle-probes single frames, each after --idle-gap-ms of silence in which
 *  the target has nothing to do (it may sleep: this measures what waking up costs). */
void loop_idle_probes(struct loop *lp);

/* Receive side (sink.c). */
/** Receive what is there (a few bursts at most) at TSC @now. */
void sink_poll(struct loop *lp, uint64_t now);
/** Send an ARP request for @target from @sender (network order). */
int sink_arp_request(struct loop *lp, uint32_t sender, uint32_t target);

#endif
