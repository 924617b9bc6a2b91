#include "util/timer.h"

#include <stddef.h>

#include "util/time.h"

#define TW_BITS 6
#define TW_SLOTS (1u << TW_BITS)
#define TW_MASK (TW_SLOTS - 1)
#define TW_LEVELS 5
/* the span of the whole wheel: later timers wait in the last level and are placed again */
#define TW_SPAN (UINT64_C(1) << (TW_BITS * TW_LEVELS))

struct wheel {
	uint64_t now; /* the last tick processed */
	bool started;
	unsigned count;
	unsigned level_count[TW_LEVELS];
	struct timer *slots[TW_LEVELS][TW_SLOTS];
	uint64_t (*clock)(void);
};

static uint64_t default_clock(void) { return time_now_ms(); }

static struct wheel wheel = {.clock = default_clock};

static void wheel_start(void)
{
	if (!wheel.started) {
		wheel.now = wheel.clock();
		wheel.started = true;
	}
}

/* Put @t in its slot; @first is the first tick still to be processed (wheel.now + 1 from the
 * outside, wheel.now while a tick's cascade runs before that tick's slot is fired). */
static void wheel_insert(struct timer *t, uint64_t first)
{
	uint64_t e = t->expires;
	if (e < first)
		e = first; /* due: the first tick to come fires it */
	if (e - wheel.now >= TW_SPAN)
		e = wheel.now + TW_SPAN - 1; /* parked: placed again when its slot comes round */
	uint64_t delta = e - wheel.now;
	unsigned lvl = 0;
	while (lvl + 1 < TW_LEVELS && delta >= (UINT64_C(1) << (TW_BITS * (lvl + 1))))
		lvl++;
	struct timer **slot = &wheel.slots[lvl][(e >> (TW_BITS * lvl)) & TW_MASK];
	t->next = *slot;
	if (t->next)
		t->next->pprev = &t->next;
	*slot = t;
	t->pprev = slot;
	t->level = (uint8_t)lvl;
	wheel.level_count[lvl]++;
	wheel.count++;
}

#define wheel_insert_next(t) wheel_insert(t, wheel.now + 1)

static void wheel_unlink(struct timer *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
	wheel.level_count[t->level]--;
	wheel.count--;
}

void timer_stop(struct timer *t)
{
	if (t->pprev)
		wheel_unlink(t);
}

void timer_at(struct timer *t, uint64_t when_ms, timer_fn fn)
{
	wheel_start();
	timer_stop(t);
	t->fn = fn;
	t->expires = when_ms;
	wheel_insert_next(t);
}

void timer_start(struct timer *t, uint64_t delay_ms, timer_fn fn)
{
	wheel_start();
	timer_at(t, wheel.clock() + delay_ms, fn);
}

/* Move what waits in slot @idx of level @lvl down to where it belongs now. */
static void wheel_cascade(unsigned lvl, unsigned idx)
{
	struct timer *t = wheel.slots[lvl][idx];
	while (t) {
		struct timer *next = t->next;
		wheel_unlink(t);
		wheel_insert(t, wheel.now); /* this tick's slot is fired after the cascade */
		t = next;
	}
}

unsigned timer_run(void)
{
	wheel_start();
	uint64_t target = wheel.clock();
	unsigned fired = 0;
	while (wheel.now < target) {
		if (wheel.count == 0) {
			wheel.now = target; /* nothing to move or fire on the way */
			break;
		}
		wheel.now++;
		/* at a boundary, the higher levels' slots come down first, highest first, so that
		 * what a level hands down is in place before the level below is looked at */
		unsigned top = 0;
		while (top + 1 < TW_LEVELS &&
		       (wheel.now & ((UINT64_C(1) << (TW_BITS * (top + 1))) - 1)) == 0)
			top++;
		for (unsigned lvl = top; lvl >= 1; lvl--)
			wheel_cascade(lvl, (unsigned)(wheel.now >> (TW_BITS * lvl)) & TW_MASK);
		struct timer **slot = &wheel.slots[0][wheel.now & TW_MASK];
		while (*slot) {
			struct timer *t = *slot;
			wheel_unlink(t);
			if (t->expires > wheel.now) { /* was parked beyond the span: not yet */
				wheel_insert_next(t);
				continue;
			}
			fired++;
			t->fn(t); /* may stop, restart or free anything */
		}
	}
	return fired;
}

int timer_wait_ms(int cap)
{
	wheel_start();
	if (wheel.count == 0)
		return cap;
	if (wheel.clock() > wheel.now)
		return 0; /* ticks to catch up on */
	/* the first busy slot of the first level; otherwise the next boundary, where a higher
	 * level may bring something down */
	uint64_t wait = TW_SLOTS - (wheel.now & TW_MASK);
	if (wheel.level_count[0]) {
		for (uint64_t d = 1; d <= TW_SLOTS; d++)
			if (wheel.slots[0][(wheel.now + d) & TW_MASK]) {
				wait = d;
				break;
			}
	}
	return wait < (uint64_t)cap ? (int)wait : cap;
}

unsigned timer_count(void) { return wheel.count; }

uint64_t timer_now(void) { return wheel.clock(); }

void timer_set_clock(uint64_t (*now_ms)(void))
{
	wheel.clock = now_ms ? now_ms : default_clock;
	wheel.started = false;
}
