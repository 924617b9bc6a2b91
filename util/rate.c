#include "util/rate.h"

#include <stdlib.h>

#include "util/hash.h"

#define RATE_PROBE 8

void rate_bucket_init(struct rate_bucket *b, uint32_t burst, uint64_t now_ms)
{
	b->last_ms = now_ms;
	b->milli = (uint64_t)burst * 1000;
}

bool rate_take(struct rate_bucket *b, uint32_t rate, uint32_t burst, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)burst * 1000;
	if (now_ms > b->last_ms) {
		/* @rate tokens a second are @rate thousandths a millisecond */
		uint64_t add = (now_ms - b->last_ms) * rate;
		b->milli = add >= cap || b->milli + add >= cap ? cap : b->milli + add;
		b->last_ms = now_ms;
	}
	if (b->milli < 1000)
		return false;
	b->milli -= 1000;
	return true;
}

struct rate_slot {
	uint32_t ip; /* 0 = free (0.0.0.0 never sends us anything) */
	struct rate_bucket b;
};

struct rate_table {
	unsigned mask;
	uint32_t rate, burst;
	uint64_t evictions;
	struct rate_slot slot[];
};

struct rate_table *rate_table_create(unsigned slots, uint32_t rate, uint32_t burst)
{
	unsigned n = 16;
	while (n < slots && n < (1u << 24))
		n <<= 1;
	struct rate_table *t = calloc(1, sizeof(*t) + n * sizeof(t->slot[0]));
	if (t == NULL)
		return NULL;
	t->mask = n - 1;
	t->rate = rate;
	t->burst = burst;
	return t;
}

void rate_table_destroy(struct rate_table *t) { free(t); }

bool rate_table_take(struct rate_table *t, uint32_t ip, uint64_t now_ms)
{
	unsigned h = hash_u64(ip);
	struct rate_slot *victim = NULL;
	for (unsigned i = 0; i < RATE_PROBE; i++) {
		struct rate_slot *s = &t->slot[(h + i) & t->mask];
		if (s->ip == ip)
			return rate_take(&s->b, t->rate, t->burst, now_ms);
		if (s->ip == 0) {
			victim = s;
			break;
		}
		if (victim == NULL || s->b.last_ms < victim->b.last_ms)
			victim = s;
	}
	if (victim->ip != 0)
		t->evictions++;
	victim->ip = ip;
	rate_bucket_init(&victim->b, t->burst, now_ms);
	return rate_take(&victim->b, t->rate, t->burst, now_ms);
}

uint64_t rate_table_evictions(const struct rate_table *t) { return t->evictions; }
