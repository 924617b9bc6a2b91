/* rate: token buckets for admission control (calls per second, requests per source).
 *
 * A bucket holds up to @burst tokens and refills at @rate per second; each admitted event
 * takes one. Times are milliseconds on any monotonic clock the caller passes in (the control
 * plane's time_now_ms(), or a test's own), so the buckets are plain arithmetic.
 *
 * rate_table keeps one bucket per IPv4 source in a fixed number of slots (no allocation after
 * rate_table_create): a source not seen for a while gives its slot to a new one, so a flood
 * from many addresses costs a bounded amount of memory and evicts only idle sources.
 *
 * Single-threaded: the control thread owns them. */
#ifndef MGW_RATE_H
#define MGW_RATE_H

#include <stdbool.h>
#include <stdint.h>

struct rate_bucket {
	uint64_t last_ms; /* when tokens were last counted */
	uint64_t milli;   /* tokens held, in thousandths */
};

/** A full bucket at @now_ms. */
void rate_bucket_init(struct rate_bucket *b, uint32_t burst, uint64_t now_ms);
/** Take a token if there is one (refilling first at @rate per second up to @burst). */
bool rate_take(struct rate_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms);

struct rate_table;

/** A table of @slots buckets (rounded up to a power of two), each @rate per second and @burst
 *  deep. NULL when out of memory. */
struct rate_table *rate_table_create(unsigned slots, uint32_t rate, uint32_t burst);
void rate_table_destroy(struct rate_table *t);
/** Take a token from @ip's bucket (network order; a new source starts full). */
bool rate_table_take(struct rate_table *t, uint32_t ip, uint64_t now_ms);
/** Sources that have had a bucket taken from them by a newcomer (the table was full). */
uint64_t rate_table_evictions(const struct rate_table *t);

#endif
