#include "shared/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/tsan.h"

#define STATE_BYTES (STREAM_SLOTS_PER_ADDR * sizeof(struct stream_state))

struct stream_table *stream_table_create(const uint32_t *addrs, unsigned n_addrs)
{
	if (n_addrs == 0 || n_addrs > STREAM_TABLE_MAX_ADDRS)
		return NULL;
	struct stream_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	for (unsigned i = 0; i < n_addrs; i++) {
		/* calloc of these sizes maps zero pages: memory is used as streams touch it */
		t->cfg[i] = calloc(STREAM_SLOTS_PER_ADDR, sizeof(t->cfg[i][0]));
		/* zero pages too, page-aligned (so cache-aligned), touched as ports are used */
		void *st = mmap(NULL, STATE_BYTES, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		t->state[i] = st == MAP_FAILED ? NULL : st;
		if (!t->cfg[i] || !t->state[i]) {
			free(t->cfg[i]);
			if (t->state[i])
				munmap(t->state[i], STATE_BYTES);
			t->cfg[i] = NULL;
			t->state[i] = NULL;
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
	stream_table_reclaim(t);
	for (unsigned i = 0; i < t->n_addrs; i++) {
		free(t->cfg[i]);
		munmap(t->state[i], STATE_BYTES);
	}
	free(t);
}

struct stream_cfg *stream_cfg_alloc(void)
{
	struct stream_cfg *c = aligned_alloc(64, sizeof(struct stream_cfg));
	if (c)
		memset(c, 0, sizeof(*c));
	return c;
}

void stream_cfg_free(struct stream_cfg *c)
{
	if (c && c->play) {
		struct stream_play *p = (struct stream_play *)c->play;
		if (--p->refs == 0)
			free(p);
	}
	if (c && c->xcode && --c->xcode->refs == 0)
		c->xcode->release(c->xcode);
	free(c);
}

struct stream_cfg *stream_cfg_dup(const struct stream_cfg *c)
{
	struct stream_cfg *d = stream_cfg_alloc();
	if (!d)
		return NULL;
	memcpy(d, c, sizeof(*d));
	d->retired_next = NULL;
	d->retired = NULL;
	d->retired_ctx = NULL;
	stream_play_ref((struct stream_play *)d->play);
	stream_xcode_ref(d->xcode);
	return d;
}

/* Released by every reader at each quiescent state, acquired before reclaiming: the
 * happens-before edge that liburcu's grace period provides, made visible to ThreadSanitizer. */
static char stream_rcu_token;

void stream_rcu_quiescent(void)
{
	TSAN_RELEASE(&stream_rcu_token);
	rcu_quiescent_state();
}

void stream_rcu_offline(void)
{
	TSAN_RELEASE(&stream_rcu_token);
	rcu_thread_offline();
}

/* Retired configs wait on the table's list until the control plane's next grace period. */
static void stream_cfg_retire(struct stream_table *t, struct stream_cfg *c)
{
	c->retired_next = t->retired;
	t->retired = c;
	t->n_retired++;
}

unsigned stream_table_reclaim(struct stream_table *t)
{
	struct stream_cfg *c = t->retired;
	if (!c)
		return 0;
	t->retired = NULL;
	unsigned n = t->n_retired;
	t->n_retired = 0;
	stream_rcu_offline();
	synchronize_rcu();
	rcu_thread_online();
	/* every reader released the token at a quiescent state after its last read */
	TSAN_ACQUIRE(&stream_rcu_token);
	while (c) {
		struct stream_cfg *next = c->retired_next;
		if (c->retired)
			c->retired(c); /* it takes the config over */
		else
			stream_cfg_free(c);
		c = next;
	}
	return n;
}

static struct stream_cfg *_Atomic *stream_slot(const struct stream_table *t, uint32_t ip,
					       uint16_t port, int *idx)
{
	int ai = stream_table_addr_index(t, ip);
	if (ai < 0)
		return NULL;
	if (idx)
		*idx = ai;
	return stream_table_slot(t, ai, port);
}

int stream_table_publish(struct stream_table *t, struct stream_cfg *c)
{
	int ai;
	struct stream_cfg *_Atomic *slot = stream_slot(t, c->local_ip, c->local_port, &ai);
	if (!slot)
		return -EINVAL;
	c->addr_idx = (uint8_t)ai;
	struct stream_cfg *old = atomic_exchange_explicit(slot, c, memory_order_acq_rel);
	if (old)
		stream_cfg_retire(t, old);
	else
		t->n_streams++;
	return 0;
}

int stream_table_del(struct stream_table *t, uint32_t ip, uint16_t port)
{
	struct stream_cfg *_Atomic *slot = stream_slot(t, ip, port, NULL);
	if (!slot)
		return -ENOENT;
	struct stream_cfg *old = atomic_exchange_explicit(slot, NULL, memory_order_acq_rel);
	if (!old)
		return -ENOENT;
	t->n_streams--;
	stream_cfg_retire(t, old);
	return 0;
}

const struct stream_cfg *stream_table_get(const struct stream_table *t, uint32_t ip,
					  uint16_t port)
{
	struct stream_cfg *_Atomic *slot = stream_slot(t, ip, port, NULL);
	return slot ? atomic_load_explicit(slot, memory_order_relaxed) : NULL;
}

void stream_stats_read(const struct stream_table *t, const struct stream_cfg *c,
		       struct stream_stats *out)
{
	memset(out, 0, sizeof(*out));
	const struct stream_state *st = stream_table_state(t, c->addr_idx, c->local_port);
	uint64_t owner = atomic_load_explicit((_Atomic uint64_t *)&st->owner, memory_order_acquire);
	if ((owner >> 16) != c->id || (owner & STREAM_OWNER_RESETTING))
		return; /* no packet of this stream yet: the state is a previous stream's */
	uint32_t seq;
	do {
		seq = seqlock_read_begin(&st->stats_seq);
		out->rtp_received = ctr32_get(&st->rtp_received);
		out->rtp_expected = ctr32_get(&st->rtp_expected);
		out->rx_pkts = ctr_get(&st->rx_pkts);
		out->rx_bytes = ctr_get(&st->rx_bytes);
		out->last_rx_tsc = ctr_get(&st->last_rx_tsc);
		out->rtp_jitter = ctr32_get(&st->rtp_jitter);
	} while (seqlock_read_retry(&st->stats_seq, seq));
	out->rtp_lost = (int64_t)out->rtp_expected - (int64_t)out->rtp_received;
	out->peer = atomic_load_explicit((_Atomic uint64_t *)&st->peer, memory_order_relaxed);
	out->rtcp_peer =
		atomic_load_explicit((_Atomic uint64_t *)&st->rtcp_peer, memory_order_relaxed);
	out->tx_pkts = ctr_get(&st->tx_pkts);
	out->rtcp_pkts = ctr_get(&st->rtcp_pkts);
	out->wrong_source = ctr_get(&st->wrong_source);
	out->drops = ctr_get(&st->drops);
	out->rtt_us = ctr32_get(&st->rtt_us);
	out->last_talk_tsc = ctr_get(&st->last_talk_tsc);
	/* the owner may have claimed the state for a newer stream id while we read */
	if ((atomic_load_explicit((_Atomic uint64_t *)&st->owner, memory_order_acquire) >> 16) !=
	    c->id)
		memset(out, 0, sizeof(*out));
}
