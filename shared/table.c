#include "shared/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct stream_table *stream_table_create(const uint32_t *addrs, unsigned n_addrs)
{
	if (n_addrs == 0 || n_addrs > STREAM_TABLE_MAX_ADDRS)
		return NULL;
	struct stream_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	for (unsigned i = 0; i < n_addrs; i++) {
		t->slots[i] = calloc(STREAM_SLOTS_PER_ADDR, sizeof(struct stream *));
		if (!t->slots[i]) {
			stream_table_destroy(t);
			return NULL;
		}
		t->addrs[i] = addrs[i];
		t->n_addrs = i + 1;
	}
	t->base_h = ntohl(addrs[0]);
	t->contiguous = 1;
	for (unsigned i = 0; i < n_addrs; i++)
		if (ntohl(addrs[i]) != t->base_h + i)
			t->contiguous = 0;
	return t;
}

void stream_table_destroy(struct stream_table *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->n_addrs; i++)
		free(t->slots[i]);
	free(t);
}

struct stream *stream_alloc(void)
{
	struct stream *s = aligned_alloc(64, (sizeof(struct stream) + 63) & ~(size_t)63);
	if (s)
		memset(s, 0, sizeof(*s));
	return s;
}

static void stream_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct stream, rcu));
}

static struct stream **stream_slot(struct stream_table *t, uint32_t ip, uint16_t port, int *idx)
{
	int ai = stream_table_addr_index(t, ip);
	if (ai < 0)
		return NULL;
	if (idx)
		*idx = ai;
	return &t->slots[ai][port >> 1];
}

int stream_table_add(struct stream_table *t, struct stream *s)
{
	int ai;
	struct stream **slot = stream_slot(t, s->local_ip, s->local_port, &ai);
	if (!slot)
		return -EINVAL;
	if (*slot)
		return -EEXIST;
	s->addr_idx = (uint8_t)ai;
	rcu_assign_pointer(*slot, s);
	t->n_streams++;
	return 0;
}

int stream_table_replace(struct stream_table *t, struct stream *s)
{
	int ai;
	struct stream **slot = stream_slot(t, s->local_ip, s->local_port, &ai);
	if (!slot || !*slot)
		return -ENOENT;
	s->addr_idx = (uint8_t)ai;
	struct stream *old = rcu_xchg_pointer(slot, s);
	call_rcu(&old->rcu, stream_free_rcu);
	return 0;
}

int stream_table_del(struct stream_table *t, uint32_t ip, uint16_t port)
{
	struct stream **slot = stream_slot(t, ip, port, NULL);
	if (!slot || !*slot)
		return -ENOENT;
	struct stream *old = rcu_xchg_pointer(slot, NULL);
	t->n_streams--;
	call_rcu(&old->rcu, stream_free_rcu);
	return 0;
}

struct stream *stream_table_get(const struct stream_table *t, uint32_t ip, uint16_t port)
{
	int ai = stream_table_addr_index(t, ip);
	return ai < 0 ? NULL : t->slots[ai][port >> 1];
}
