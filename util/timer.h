/* timer: the control plane's one timer wheel.
 *
 * Every control-plane timer (a SIP transaction's retransmissions and timeouts, a dialog's 2xx
 * retransmission and ACK deadline, an application's answer delay or media timeout) is a
 * struct timer embedded in the object it belongs to, started, restarted and stopped in O(1).
 * The wheel is hierarchical: five levels of 64 slots, 1 ms resolution at the first, so a timer
 * is moved down at most four times in its life and a tick costs what expires in it, never
 * what is pending (https://doi.org/10.1145/41457.37504 describes the scheme).
 *
 * Single-threaded: the control thread owns the wheel. A callback may start or stop any timer,
 * its own included, and may free the object holding the timer it was called for.
 */
#ifndef MGW_TIMER_H
#define MGW_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct timer;
typedef void (*timer_fn)(struct timer *t);

struct timer {
	struct timer *next, **pprev; /* slot list; pprev NULL when not pending */
	uint64_t expires;            /* ms on the wheel's clock */
	timer_fn fn;
	uint8_t level;               /* the wheel level it waits in */
};

/** (Re)start @t to call @fn @delay_ms from now. */
void timer_start(struct timer *t, uint64_t delay_ms, timer_fn fn);
/** (Re)start @t to call @fn at @when_ms on the wheel's clock (time_now_ms()). */
void timer_at(struct timer *t, uint64_t when_ms, timer_fn fn);
/** Stop @t; harmless when it is not pending. */
void timer_stop(struct timer *t);
static inline bool timer_pending(const struct timer *t) { return t->pprev != 0; }

/** Fire everything due at the clock's current time. Returns the number of timers fired. */
unsigned timer_run(void);
/** Milliseconds until the next timer may be due, at most @cap (0 when one is due now). */
int timer_wait_ms(int cap);
/** The wheel's clock now (ms): time_now_ms(), or a test's clock. */
uint64_t timer_now(void);
/** Pending timers. */
unsigned timer_count(void);

/** Replace the clock (unit tests); NULL restores time_now_ms(). Only with no timer pending. */
void timer_set_clock(uint64_t (*now_ms)(void));

#endif
