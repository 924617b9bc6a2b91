/* ports: the media port allocator. A FIFO ring of free port indices gives O(1) allocation in
 * least-recently-released order; a bitmap of ports in use catches releases of ports that were
 * never handed out (or were released twice). */
#include "controlplane/media/ports.h"

#include <stdlib.h>

#define PORTS_MAX_PORT 65534u
#define BITS_PER_WORD 64u

struct ports {
	unsigned base;   /* first (even) port */
	unsigned n;      /* number of ports in the pool */
	unsigned head;   /* ring index of the next port to hand out */
	unsigned n_free; /* free indices in the ring, from head on */
	uint16_t *ring;  /* free port indices (port = base + 2 * index) */
	uint64_t *used;  /* bit per index: handed out */
	unsigned reserved; /* ports_reserve()d, still in the ring until ports_compact() */
};

struct ports *ports_create(unsigned min, unsigned max)
{
	struct ports *p;

	if (min == 0 || min > max || max > PORTS_MAX_PORT)
		return NULL;
	min += min & 1u;
	max -= max & 1u;
	if (min > max)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->base = min;
	p->n = (max - min) / 2 + 1;
	p->n_free = p->n;
	p->ring = calloc(p->n, sizeof(*p->ring));
	p->used = calloc((p->n + BITS_PER_WORD - 1) / BITS_PER_WORD, sizeof(*p->used));
	if (p->ring == NULL || p->used == NULL) {
		ports_destroy(p);
		return NULL;
	}
	for (unsigned i = 0; i < p->n; i++)
		p->ring[i] = (uint16_t)i;
	return p;
}

void ports_destroy(struct ports *p)
{
	if (p == NULL)
		return;
	free(p->ring);
	free(p->used);
	free(p);
}

static bool index_of(const struct ports *p, uint16_t port, unsigned *idx)
{
	if (port < p->base || (port & 1u) != 0)
		return false;
	*idx = (port - p->base) / 2;
	return *idx < p->n;
}

static bool bit_get(const struct ports *p, unsigned idx)
{
	return (p->used[idx / BITS_PER_WORD] >> (idx % BITS_PER_WORD)) & 1u;
}

static void bit_flip(struct ports *p, unsigned idx)
{
	p->used[idx / BITS_PER_WORD] ^= UINT64_C(1) << (idx % BITS_PER_WORD);
}

uint16_t ports_alloc(struct ports *p)
{
	unsigned idx;

	if (p->n_free == 0)
		return 0;
	idx = p->ring[p->head];
	p->head = p->head + 1 == p->n ? 0 : p->head + 1;
	p->n_free--;
	bit_flip(p, idx);
	return (uint16_t)(p->base + 2 * idx);
}

int ports_release(struct ports *p, uint16_t port)
{
	unsigned idx, tail;

	if (!index_of(p, port, &idx) || !bit_get(p, idx))
		return -1;
	bit_flip(p, idx);
	if (p->reserved) {
		/* during a batch of reserves only a reserved port can come back: it is still in
		 * the ring, so it is simply no longer reserved */
		p->reserved--;
		return 0;
	}
	tail = p->head + p->n_free;
	if (tail >= p->n)
		tail -= p->n;
	p->ring[tail] = (uint16_t)idx;
	p->n_free++;
	return 0;
}

int ports_reserve(struct ports *p, uint16_t port)
{
	unsigned idx;

	if (!index_of(p, port, &idx) || bit_get(p, idx))
		return -1;
	bit_flip(p, idx);
	p->reserved++;
	return 0;
}

void ports_compact(struct ports *p)
{
	unsigned out = 0, n = p->n_free;

	if (p->reserved == 0)
		return;
	/* keep the free ring's order, without the indices now in use, from slot 0 */
	uint16_t *tmp = malloc(n * sizeof(*tmp) + 1);
	if (tmp == NULL)
		abort(); /* at start-up only: nothing sensible to go on with */
	for (unsigned i = 0; i < n; i++) {
		unsigned idx = p->ring[(p->head + i) % p->n];
		if (!bit_get(p, idx))
			tmp[out++] = (uint16_t)idx;
	}
	for (unsigned i = 0; i < out; i++)
		p->ring[i] = tmp[i];
	free(tmp);
	p->head = 0;
	p->n_free = out;
	p->reserved = 0;
}

unsigned ports_total(const struct ports *p)
{
	return p->n;
}

unsigned ports_free(const struct ports *p)
{
	return p->n_free - p->reserved;
}

bool ports_in_use(const struct ports *p, uint16_t port)
{
	unsigned idx;

	return index_of(p, port, &idx) && bit_get(p, idx);
}
