/* ctl: mgw-bench's client of mgwd's control socket (docs/api.md, one JSON object per line).
 *
 * Blocking calls for set-up and tear-down (media.create in batches, media.delete, status), and
 * a send / poll pair for the one request made while packets flow (deleting half the pairs),
 * so that the packet loop never waits on the socket. */
#ifndef MGW_BENCH_CTL_H
#define MGW_BENCH_CTL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bench/flow.h"

#define CTL_BATCH 10000u     /* pairs per media.create */
#define CTL_DELETE_IDS 5000u /* ids per media.delete: keeps the line under 64 KiB */

struct ctl {
	int fd;
	char *buf;
	size_t len, cap;
	int pending; /* requests sent with ctl_send whose reply has not been polled */
};

/* What mgw-bench reads from mgwd's status. */
struct ctl_status {
	uint64_t rx, tx;
	uint64_t drops;           /* every reason, every worker */
	char drops_by[512];       /* "reason=N ..." for the non-zero ones */
	uint64_t loop_gap_max_ns; /* worst over the workers; 0 when mgwd does not report it */
	int have_loop_gap;
	uint64_t played, play_lost, play_busy_ns; /* mgwd's player, every worker */
	uint64_t xcode_sent, xcode_concealed, xcode_bad, xcode_late, xcode_busy_ns; /* transcoding */
};

int ctl_open(struct ctl *c, const char *path, char *err, size_t errlen);
void ctl_close(struct ctl *c);
/** Send @req (one line, no newline) and wait for its reply. Returns the reply's result (the
 *  caller drops it with json_decref; a JSON null when the result is null), or NULL with @err. */
json_t *ctl_call(struct ctl *c, const char *req, char *err, size_t errlen);
/** Send @req without waiting. */
int ctl_send(struct ctl *c, const char *req, char *err, size_t errlen);
/** Collect one reply to a ctl_send request if it has arrived: 1 (ok), 0 (not yet), -1 (error
 *  in the reply or the connection, message in @err). Never blocks. */
int ctl_poll(struct ctl *c, char *err, size_t errlen);

/** Create @t->n_pairs pairs tagged "bench" (peers as flow.h lays them out) and fill @pairs. */
int ctl_create(struct ctl *c, const struct flow_table *t, struct flow_pair *pairs, char *err,
	       size_t errlen);
/** Delete every pair tagged "bench"; returns how many mgwd deleted, or -1. */
long ctl_delete_tag(struct ctl *c, char *err, size_t errlen);
/** Send media.delete for the pairs of odd index (every second one), in requests of at most
 *  CTL_DELETE_IDS ids; returns the number of requests sent (poll as many replies) or -1. */
int ctl_send_delete_odd(struct ctl *c, const struct flow_pair *pairs, uint32_t n_pairs,
			char *err, size_t errlen);
int ctl_status(struct ctl *c, struct ctl_status *st, char *err, size_t errlen);
int ctl_stats_reset(struct ctl *c, char *err, size_t errlen);

/** Save / load the pairs so that a series of runs can reuse them. Load returns 0, -ENOENT when
 *  the file does not exist, or -1 when it does not match @n_pairs. */
int ctl_pairs_save(const char *path, const struct flow_pair *pairs, uint32_t n_pairs);
int ctl_pairs_load(const char *path, struct flow_pair *pairs, uint32_t n_pairs);

#endif
