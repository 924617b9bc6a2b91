/* Unit tests for the session table (shared/table.c): the control plane's add/replace/delete
 * and the workers' RCU lookups, including readers running while the writer churns streams.
 * A use-after-free in the RCU reclamation shows up under the AddressSanitizer build. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <cmocka.h>

#include "shared/stream.h"

#define IP_A 0x0a000001u /* values only compared, byte order does not matter here */
#define IP_B 0x0a000002u
#define IP_C 0x0a000003u
#define IP_NOT_OURS 0x0a0000feu

#define MAGIC 0x5a5a000000000000ull

/* The writer's churn: ports in [CHURN_BASE, CHURN_BASE + 2 * CHURN_SLOTS), even. */
#define CHURN_BASE 20000
#define CHURN_SLOTS 64
#define CHURN_READERS 3
#define CHURN_MAX_OPS 300000
#define CHURN_NSEC 700000000LL

static struct stream *new_stream(uint32_t ip, uint16_t port, uint8_t action)
{
	struct stream *s = stream_alloc();
	assert_non_null(s);
	s->local_ip = ip;
	s->local_port = port;
	s->action = action;
	s->id = MAGIC | port;
	return s;
}

/* Remove every stream on @ip and wait for their reclamation before destroying @t. */
static void table_teardown(struct stream_table *t)
{
	for (unsigned a = 0; a < t->n_addrs; a++) {
		for (uint32_t p = 0; p < 65536; p += 2) {
			if (stream_table_get(t, t->addrs[a], (uint16_t)p))
				assert_int_equal(stream_table_del(t, t->addrs[a], (uint16_t)p), 0);
		}
	}
	assert_int_equal(t->n_streams, 0);
	rcu_thread_offline();
	rcu_barrier();
	rcu_thread_online();
	stream_table_destroy(t);
}

static void create_rejects_no_address_and_too_many(void **state)
{
	uint32_t addrs[STREAM_TABLE_MAX_ADDRS + 1] = {0};

	(void)state;
	assert_null(stream_table_create(addrs, 0));
	assert_null(stream_table_create(addrs, STREAM_TABLE_MAX_ADDRS + 1));
}

static void added_stream_is_found_until_deleted(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);
	struct stream *s = new_stream(IP_A, 30000, STREAM_ECHO);

	(void)state;
	assert_non_null(t);
	assert_null(stream_table_lookup(t, 0, 30000));
	assert_int_equal(stream_table_add(t, s), 0);
	assert_int_equal(t->n_streams, 1);
	assert_int_equal(s->addr_idx, 0);
	assert_ptr_equal(stream_table_lookup(t, 0, 30000), s);
	assert_ptr_equal(stream_table_get(t, IP_A, 30000), s);
	assert_null(stream_table_lookup(t, 0, 30002));
	assert_null(stream_table_lookup(t, 0, 29998));

	assert_int_equal(stream_table_del(t, IP_A, 30000), 0);
	assert_int_equal(t->n_streams, 0);
	assert_null(stream_table_lookup(t, 0, 30000));
	assert_null(stream_table_get(t, IP_A, 30000));
	table_teardown(t);
}

static void second_add_on_a_taken_slot_is_eexist(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);
	struct stream *s1 = new_stream(IP_A, 30000, STREAM_ECHO);
	struct stream *s2 = new_stream(IP_A, 30000, STREAM_DROP);
	struct stream *s3 = new_stream(IP_A, 30001, STREAM_DROP);

	(void)state;
	assert_int_equal(stream_table_add(t, s1), 0);
	assert_int_equal(stream_table_add(t, s2), -EEXIST);
	assert_int_equal(stream_table_add(t, s3), -EEXIST); /* RTCP port of the same slot */
	assert_int_equal(t->n_streams, 1);
	assert_ptr_equal(stream_table_lookup(t, 0, 30000), s1);
	free(s2);
	free(s3);
	table_teardown(t);
}

static void delete_of_an_empty_slot_is_enoent(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);

	(void)state;
	assert_int_equal(stream_table_del(t, IP_A, 30000), -ENOENT);
	assert_int_equal(stream_table_add(t, new_stream(IP_A, 30000, STREAM_ECHO)), 0);
	assert_int_equal(stream_table_del(t, IP_A, 30000), 0);
	assert_int_equal(stream_table_del(t, IP_A, 30000), -ENOENT);
	assert_int_equal(stream_table_del(t, IP_NOT_OURS, 30000), -ENOENT);
	assert_int_equal(t->n_streams, 0);
	table_teardown(t);
}

static void stream_on_an_address_not_in_the_table_is_einval(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);
	struct stream *s = new_stream(IP_NOT_OURS, 30000, STREAM_ECHO);

	(void)state;
	assert_int_equal(stream_table_add(t, s), -EINVAL);
	assert_int_equal(t->n_streams, 0);
	assert_null(stream_table_get(t, IP_NOT_OURS, 30000));
	assert_int_equal(stream_table_addr_index(t, IP_NOT_OURS), -1);
	assert_int_equal(stream_table_replace(t, s), -ENOENT);
	free(s);
	table_teardown(t);
}

static void rtcp_port_maps_to_the_rtp_stream(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);
	struct stream *s = new_stream(IP_A, 40000, STREAM_ECHO);

	(void)state;
	assert_int_equal(stream_table_add(t, s), 0);
	assert_ptr_equal(stream_table_lookup(t, 0, 40001), s);
	assert_ptr_equal(stream_table_get(t, IP_A, 40001), s);
	assert_null(stream_table_lookup(t, 0, 40003));
	assert_null(stream_table_lookup(t, 0, 39999));
	/* Deleting by the RTCP port removes the pair. */
	assert_int_equal(stream_table_del(t, IP_A, 40001), 0);
	assert_null(stream_table_lookup(t, 0, 40000));
	table_teardown(t);
}

static void replace_publishes_the_new_stream_and_keeps_the_count(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);
	struct stream *old = new_stream(IP_A, 30000, STREAM_DROP);
	struct stream *s = new_stream(IP_A, 30000, STREAM_ECHO);
	struct stream *orphan = new_stream(IP_A, 30002, STREAM_ECHO);

	(void)state;
	assert_int_equal(stream_table_add(t, old), 0);
	s->addr_idx = 7; /* set by the table, not by the caller */
	assert_int_equal(stream_table_replace(t, s), 0);
	assert_int_equal(t->n_streams, 1);
	assert_int_equal(s->addr_idx, 0);
	assert_ptr_equal(stream_table_lookup(t, 0, 30000), s);
	assert_int_equal(stream_table_lookup(t, 0, 30001)->action, STREAM_ECHO);
	/* Nothing to replace on an empty slot. */
	assert_int_equal(stream_table_replace(t, orphan), -ENOENT);
	assert_null(stream_table_lookup(t, 0, 30002));
	assert_int_equal(t->n_streams, 1);
	free(orphan);
	table_teardown(t);
}

static void n_streams_counts_adds_and_deletes(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);

	(void)state;
	for (uint16_t i = 0; i < 10; i++)
		assert_int_equal(stream_table_add(t, new_stream(IP_A, (uint16_t)(10000 + 2 * i),
								STREAM_ECHO)), 0);
	assert_int_equal(t->n_streams, 10);
	assert_int_equal(stream_table_del(t, IP_A, 10004), 0);
	assert_int_equal(stream_table_del(t, IP_A, 10004), -ENOENT);
	assert_int_equal(t->n_streams, 9);
	/* Extremes of the port range are valid slots. */
	assert_int_equal(stream_table_add(t, new_stream(IP_A, 0, STREAM_ECHO)), 0);
	assert_int_equal(stream_table_add(t, new_stream(IP_A, 65534, STREAM_ECHO)), 0);
	assert_ptr_equal(stream_table_lookup(t, 0, 65535), stream_table_get(t, IP_A, 65534));
	assert_int_equal(t->n_streams, 11);
	table_teardown(t);
}

static void same_port_on_several_addresses_is_distinct_streams(void **state)
{
	uint32_t ips[3] = {IP_A, IP_B, IP_C};
	struct stream_table *t = stream_table_create(ips, 3);
	struct stream *sa = new_stream(IP_A, 30000, STREAM_ECHO);
	struct stream *sc = new_stream(IP_C, 30000, STREAM_DROP);

	(void)state;
	assert_non_null(t);
	assert_int_equal(t->n_addrs, 3);
	assert_int_equal(stream_table_addr_index(t, IP_B), 1);
	assert_int_equal(stream_table_addr_index(t, IP_C), 2);
	assert_int_equal(stream_table_add(t, sa), 0);
	assert_int_equal(stream_table_add(t, sc), 0);
	assert_int_equal(sa->addr_idx, 0);
	assert_int_equal(sc->addr_idx, 2);
	assert_ptr_equal(stream_table_lookup(t, 0, 30000), sa);
	assert_null(stream_table_lookup(t, 1, 30000));
	assert_ptr_equal(stream_table_lookup(t, 2, 30000), sc);
	assert_int_equal(t->n_streams, 2);
	assert_int_equal(stream_table_del(t, IP_B, 30000), -ENOENT);
	assert_int_equal(stream_table_del(t, IP_A, 30000), 0);
	assert_ptr_equal(stream_table_lookup(t, 2, 30000), sc);
	table_teardown(t);
}

struct churn {
	struct stream_table *t;
	atomic_bool stop;
	atomic_bool failed;
	atomic_ulong hits;
};

static void *churn_reader(void *arg)
{
	struct churn *c = arg;
	unsigned seed = (unsigned)(uintptr_t)&seed;
	unsigned long hits = 0;

	rcu_register_thread();
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		unsigned r = (unsigned)rand_r(&seed);
		uint16_t port = (uint16_t)(CHURN_BASE + r % (2 * CHURN_SLOTS));
		struct stream *s = stream_table_lookup(c->t, 0, port);
		if (s) {
			hits++;
			/* Reads of a freed stream are what ASan watches for here. */
			if (s->local_port != (port & ~1u) || s->id != (MAGIC | s->local_port) ||
			    s->local_ip != IP_A)
				atomic_store(&c->failed, true);
		}
		rcu_quiescent_state();
	}
	rcu_thread_offline();
	rcu_unregister_thread();
	atomic_fetch_add(&c->hits, hits);
	return NULL;
}

static long long elapsed_ns(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000000000LL + (now.tv_nsec - t0->tv_nsec);
}

/* One writer step: add, replace or delete on a random slot, mirrored in @live. */
static void churn_step(struct stream_table *t, unsigned *seed, bool *live, unsigned *n_live)
{
	unsigned slot = (unsigned)rand_r(seed) % CHURN_SLOTS;
	uint16_t port = (uint16_t)(CHURN_BASE + 2 * slot);

	if (!live[slot]) {
		assert_int_equal(stream_table_add(t, new_stream(IP_A, port, STREAM_ECHO)), 0);
		live[slot] = true;
		(*n_live)++;
	} else if (rand_r(seed) & 1) {
		assert_int_equal(stream_table_replace(t, new_stream(IP_A, port, STREAM_DROP)), 0);
	} else {
		/* by the RTP or the RTCP port: both name the slot */
		port = (uint16_t)(port + (rand_r(seed) & 1));
		assert_int_equal(stream_table_del(t, IP_A, port), 0);
		live[slot] = false;
		(*n_live)--;
	}
	assert_int_equal(t->n_streams, *n_live);
}

static void readers_never_see_a_freed_stream_while_the_writer_churns(void **state)
{
	uint32_t ip = IP_A;
	struct churn c = {.t = stream_table_create(&ip, 1)};
	pthread_t readers[CHURN_READERS];
	bool live[CHURN_SLOTS] = {false};
	unsigned n_live = 0, seed = 12345, ops = 0;
	struct timespec t0;

	(void)state;
	assert_non_null(c.t);
	for (int i = 0; i < CHURN_READERS; i++)
		assert_int_equal(pthread_create(&readers[i], NULL, churn_reader, &c), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ops < CHURN_MAX_OPS && elapsed_ns(&t0) < CHURN_NSEC) {
		churn_step(c.t, &seed, live, &n_live);
		ops++;
		rcu_quiescent_state();
	}
	atomic_store(&c.stop, true);
	rcu_thread_offline();
	for (int i = 0; i < CHURN_READERS; i++)
		assert_int_equal(pthread_join(readers[i], NULL), 0);
	rcu_thread_online();

	assert_false(atomic_load(&c.failed));
	assert_true(ops > 1000);
	assert_true(atomic_load(&c.hits) > 0);
	table_teardown(c.t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_rejects_no_address_and_too_many),
		cmocka_unit_test(added_stream_is_found_until_deleted),
		cmocka_unit_test(second_add_on_a_taken_slot_is_eexist),
		cmocka_unit_test(delete_of_an_empty_slot_is_enoent),
		cmocka_unit_test(stream_on_an_address_not_in_the_table_is_einval),
		cmocka_unit_test(rtcp_port_maps_to_the_rtp_stream),
		cmocka_unit_test(replace_publishes_the_new_stream_and_keeps_the_count),
		cmocka_unit_test(n_streams_counts_adds_and_deletes),
		cmocka_unit_test(same_port_on_several_addresses_is_distinct_streams),
		cmocka_unit_test(readers_never_see_a_freed_stream_while_the_writer_churns),
	};

	rcu_register_thread();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_thread_offline();
	rcu_barrier();
	rcu_unregister_thread();
	return rc;
}
