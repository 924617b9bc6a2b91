/* seqlock: a consistent snapshot of several words that one thread writes and others read,
 * without the writer ever waiting (RTP statistics: a read across a sequence number wrap must
 * not mix the old cycle count with the new highest sequence number).
 *
 * The writer makes the sequence odd, writes, makes it even again; a reader retries when the
 * sequence was odd or changed while it copied. The protected words are themselves atomics
 * (relaxed), so a reader that races with the writer reads stale or fresh words, never torn
 * ones, and the retry makes the set consistent. */
#ifndef MGW_SEQLOCK_H
#define MGW_SEQLOCK_H

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint32_t seqlock_t;

/** Begin an update (single writer). */
static inline void seqlock_write_begin(seqlock_t *s)
{
	atomic_store_explicit(s, atomic_load_explicit(s, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

/** End an update (single writer). */
static inline void seqlock_write_end(seqlock_t *s)
{
	atomic_store_explicit(s, atomic_load_explicit(s, memory_order_relaxed) + 1,
			      memory_order_release);
}

/** Begin a read: the sequence to hand to seqlock_read_retry(); spins while a write is
 *  in progress (a few instructions of the writer). */
static inline uint32_t seqlock_read_begin(const seqlock_t *s)
{
	uint32_t v;
	while ((v = atomic_load_explicit((seqlock_t *)s, memory_order_acquire)) & 1)
		;
	return v;
}

/** True when the words read since seqlock_read_begin() returned @start may be inconsistent. */
static inline int seqlock_read_retry(const seqlock_t *s, uint32_t start)
{
	atomic_thread_fence(memory_order_acquire);
	return atomic_load_explicit((seqlock_t *)s, memory_order_relaxed) != start;
}

#endif
