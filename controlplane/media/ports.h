/* ports: the media port allocator. Hands out even RTP ports (RTCP is port+1) from a range,
 * O(1) allocate and release, least recently released first so that a port just freed is not
 * reused while late packets for the old call may still arrive. */
#ifndef MGW_PORTS_H
#define MGW_PORTS_H

#include <stdbool.h>
#include <stdint.h>

struct ports;

/** Create an allocator for even ports in [@min, @max] (@min rounded up, @max down).
 *  Returns NULL on bad range or allocation failure. */
struct ports *ports_create(unsigned min, unsigned max);
void ports_destroy(struct ports *p);

/** Allocate an even port. Returns 0 when the pool is exhausted. */
uint16_t ports_alloc(struct ports *p);
/** Return @port to the pool. Returns 0, or -1 if it is not an allocated port of this pool. */
int ports_release(struct ports *p, uint16_t port);

/** Take @port itself (a call restored after a restart keeps its ports): marked in use at
 *  once, but still in the free ring until ports_compact(), so that a batch of k costs
 *  O(n + k). Allocate nothing between the two (a reserved port may be released). Returns 0,
 *  or -1 if it is outside the pool or taken. */
int ports_reserve(struct ports *p, uint16_t port);
/** Drop the reserved ports from the free ring (after a batch of ports_reserve). */
void ports_compact(struct ports *p);

unsigned ports_total(const struct ports *p);
unsigned ports_free(const struct ports *p);
bool ports_in_use(const struct ports *p, uint16_t port);

#endif
