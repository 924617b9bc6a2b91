/* counter: statistics words written by one thread and read by others.
 *
 * Every counter that a worker writes and the control plane reads is a ctr_t: an _Atomic
 * 64-bit word. The single writer adds with a relaxed load and store (no locked instruction:
 * there is no other writer to race with), readers load it whole. On x86-64 both compile to
 * plain moves; the type says, and ThreadSanitizer checks, that the word is shared. */
#ifndef MGW_COUNTER_H
#define MGW_COUNTER_H

#include <stdatomic.h>
#include <stdint.h>

typedef _Atomic uint64_t ctr_t;
typedef _Atomic uint32_t ctr32_t;

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");

/** Add @n to @c. Only the counter's single writer may call this. */
static inline void ctr_add(ctr_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline void ctr_inc(ctr_t *c) { ctr_add(c, 1); }

/** Set @c (single writer). */
static inline void ctr_set(ctr_t *c, uint64_t v) { atomic_store_explicit(c, v, memory_order_relaxed); }

static inline uint64_t ctr_get(const ctr_t *c)
{
	return atomic_load_explicit((ctr_t *)c, memory_order_relaxed);
}

static inline void ctr32_set(ctr32_t *c, uint32_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

static inline uint32_t ctr32_get(const ctr32_t *c)
{
	return atomic_load_explicit((ctr32_t *)c, memory_order_relaxed);
}

#endif
