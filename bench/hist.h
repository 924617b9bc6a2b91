/* hist: a log-linear latency histogram in the style of HdrHistogram.
 *
 * Values (TSC cycles) fall into 2^HIST_SUB_BITS linear sub-buckets per power of two, so a
 * recorded value is known to within 1/2^HIST_SUB_BITS (under 1 %) whatever its size. The
 * counters live inside the struct: recording is one shift, one add, no allocation. */
#ifndef MGW_BENCH_HIST_H
#define MGW_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_EXP 57 /* values up to 2^64 */
#define HIST_BUCKETS ((HIST_EXP + 1) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t max;
	uint64_t b[HIST_BUCKETS];
};

void hist_reset(struct hist *h);

/** Bucket index of @v: values below HIST_SUB are exact, larger ones keep their top
 *  HIST_SUB_BITS + 1 bits. */
static inline unsigned hist_index(uint64_t v)
{
	if (v < HIST_SUB)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - HIST_SUB_BITS;
	return (shift + 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
}

static inline void hist_add(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

/** Merge @src into @dst. */
void hist_merge(struct hist *dst, const struct hist *src);
/** The value at quantile @q (0..1): the highest value of the bucket that holds it (0 if empty). */
uint64_t hist_quantile(const struct hist *h, double q);
/** The lowest and highest value that bucket @i holds. */
uint64_t hist_bucket_low(unsigned i);
uint64_t hist_bucket_high(unsigned i);

#endif
