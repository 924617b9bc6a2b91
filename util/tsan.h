/* tsan: happens-before annotations for ThreadSanitizer builds, empty otherwise.
 *
 * Two synchronisations in mgw are invisible to ThreadSanitizer because they happen in code it
 * does not instrument: liburcu's grace periods (a worker's quiescent state, then the
 * reclamation of what it may have read) and DPDK rings (an mbuf or message enqueued by one
 * thread and dequeued by another). TSAN_RELEASE(addr) at the first and TSAN_ACQUIRE(addr) at
 * the second tell it what the library guarantees. */
#ifndef MGW_TSAN_H
#define MGW_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define MGW_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MGW_TSAN 1
#endif
#endif

#ifdef MGW_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define TSAN_ACQUIRE(addr) __tsan_acquire((void *)(addr))
#define TSAN_RELEASE(addr) __tsan_release((void *)(addr))
#else
#define TSAN_ACQUIRE(addr) ((void)(addr))
#define TSAN_RELEASE(addr) ((void)(addr))
#endif

#endif
