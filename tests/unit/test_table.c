/* Unit tests for the stream table (shared/table.c): the control plane's publish/delete
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


/* The writer's churn: ports in [CHURN_BASE, CHURN_BASE + 2 * CHURN_SLOTS), even. */
#define CHURN_BASE 20000
#define CHURN_SLOTS 64
#define CHURN_READERS 3
#define CHURN_MAX_OPS 300000
#define CHURN_NSEC 700000000LL

static uint64_t next_id = 1;

static struct stream_cfg *new_stream(uint32_t ip, uint16_t port, uint8_t action)
{
	struct stream_cfg *s = stream_cfg_alloc();
	assert_non_null(s);
	s->local_ip = ip;
	s->local_port = port;
	s->action = action;
	s->id = next_id++;
	s->seq_base = (uint16_t)(port ^ 0x5a5a); /* what a reader checks the config by */
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
	stream_table_destroy(t);
}

static void create_rejects_no_address_and_too_many(void **state)
{
	uint32_t addrs[STREAM_TABLE_MAX_ADDRS + 1] = {0};

	(void)state;
	assert_null(stream_table_create(addrs, 0));
	assert_null(stream_table_create(addrs, STREAM_TABLE_MAX_ADDRS + 1));
}

static void published_stream_is_found_until_deleted(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);
	struct stream_cfg *s = new_stream(IP_A, 30000, STREAM_ECHO);

	(void)state;
	assert_non_null(t);
	assert_null(stream_table_lookup(t, 0, 30000));
	assert_int_equal(stream_table_publish(t, s), 0);
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

static void delete_of_an_empty_slot_is_enoent(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);

	(void)state;
	assert_int_equal(stream_table_del(t, IP_A, 30000), -ENOENT);
	assert_int_equal(stream_table_publish(t, new_stream(IP_A, 30000, STREAM_ECHO)), 0);
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
	struct stream_cfg *s = new_stream(IP_NOT_OURS, 30000, STREAM_ECHO);

	(void)state;
	assert_int_equal(stream_table_publish(t, s), -EINVAL);
	assert_int_equal(t->n_streams, 0);
	assert_null(stream_table_get(t, IP_NOT_OURS, 30000));
	assert_int_equal(stream_table_addr_index(t, IP_NOT_OURS), -1);
	stream_cfg_free(s);
	table_teardown(t);
}

static void rtcp_port_maps_to_the_rtp_stream(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);
	struct stream_cfg *s = new_stream(IP_A, 40000, STREAM_ECHO);

	(void)state;
	assert_int_equal(stream_table_publish(t, s), 0);
	assert_ptr_equal(stream_table_lookup(t, 0, 40001), s);
	assert_ptr_equal(stream_table_get(t, IP_A, 40001), s);
	assert_ptr_equal(stream_table_state(t, 0, 40001), stream_table_state(t, 0, 40000));
	assert_null(stream_table_lookup(t, 0, 40003));
	assert_null(stream_table_lookup(t, 0, 39999));
	/* Deleting by the RTCP port removes the pair. */
	assert_int_equal(stream_table_del(t, IP_A, 40001), 0);
	assert_null(stream_table_lookup(t, 0, 40000));
	table_teardown(t);
}

static void republishing_replaces_the_config_and_keeps_the_count(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);
	struct stream_cfg *old = new_stream(IP_A, 30000, STREAM_DROP);
	struct stream_cfg *s = new_stream(IP_A, 30000, STREAM_ECHO);

	(void)state;
	assert_int_equal(stream_table_publish(t, old), 0);
	s->addr_idx = 7; /* set by the table, not by the caller */
	assert_int_equal(stream_table_publish(t, s), 0);
	assert_int_equal(t->n_streams, 1);
	assert_int_equal(s->addr_idx, 0);
	assert_ptr_equal(stream_table_lookup(t, 0, 30000), s);
	assert_int_equal(stream_table_lookup(t, 0, 30001)->action, STREAM_ECHO);
	table_teardown(t);
}

/* A retired config reaches its retirement callback after the grace period, once. */
static atomic_int retired_calls;
static void count_retired(struct stream_cfg *c)
{
	atomic_fetch_add(&retired_calls, 1);
	stream_cfg_free(c);
}

static void a_deleted_config_is_handed_to_its_retirement_callback(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);
	struct stream_cfg *s = new_stream(IP_A, 30000, STREAM_ECHO);

	(void)state;
	atomic_store(&retired_calls, 0);
	assert_int_equal(stream_table_publish(t, s), 0);
	s->retired = count_retired;
	assert_int_equal(stream_table_del(t, IP_A, 30000), 0);
	assert_int_equal(atomic_load(&retired_calls), 0); /* not before a grace period */
	assert_int_equal(stream_table_reclaim(t), 1);
	assert_int_equal(atomic_load(&retired_calls), 1);
	table_teardown(t);
}

static void n_streams_counts_publications_and_deletes(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);

	(void)state;
	for (uint16_t i = 0; i < 10; i++)
		assert_int_equal(stream_table_publish(t, new_stream(IP_A, (uint16_t)(10000 + 2 * i),
								    STREAM_ECHO)), 0);
	assert_int_equal(t->n_streams, 10);
	assert_int_equal(stream_table_del(t, IP_A, 10004), 0);
	assert_int_equal(stream_table_del(t, IP_A, 10004), -ENOENT);
	assert_int_equal(t->n_streams, 9);
	/* Extremes of the port range are valid slots. */
	assert_int_equal(stream_table_publish(t, new_stream(IP_A, 0, STREAM_ECHO)), 0);
	assert_int_equal(stream_table_publish(t, new_stream(IP_A, 65534, STREAM_ECHO)), 0);
	assert_ptr_equal(stream_table_lookup(t, 0, 65535), stream_table_get(t, IP_A, 65534));
	assert_int_equal(t->n_streams, 11);
	table_teardown(t);
}

static void same_port_on_several_addresses_is_distinct_streams(void **state)
{
	uint32_t ips[3] = {IP_A, IP_B, IP_C};
	struct stream_table *t = stream_table_create(ips, 3);
	struct stream_cfg *sa = new_stream(IP_A, 30000, STREAM_ECHO);
	struct stream_cfg *sc = new_stream(IP_C, 30000, STREAM_DROP);

	(void)state;
	assert_non_null(t);
	assert_int_equal(t->n_addrs, 3);
	assert_int_equal(stream_table_addr_index(t, IP_B), 1);
	assert_int_equal(stream_table_addr_index(t, IP_C), 2);
	assert_int_equal(stream_table_publish(t, sa), 0);
	assert_int_equal(stream_table_publish(t, sc), 0);
	assert_int_equal(sa->addr_idx, 0);
	assert_int_equal(sc->addr_idx, 2);
	assert_ptr_equal(stream_table_lookup(t, 0, 30000), sa);
	assert_null(stream_table_lookup(t, 1, 30000));
	assert_ptr_equal(stream_table_lookup(t, 2, 30000), sc);
	assert_ptr_not_equal(stream_table_state(t, 0, 30000), stream_table_state(t, 2, 30000));
	assert_int_equal(t->n_streams, 2);
	assert_int_equal(stream_table_del(t, IP_B, 30000), -ENOENT);
	assert_int_equal(stream_table_del(t, IP_A, 30000), 0);
	assert_ptr_equal(stream_table_lookup(t, 2, 30000), sc);
	table_teardown(t);
}

/* Statistics are read as a snapshot while the owner writes them: the owner keeps expected =
 * received + 7 and rx_pkts = received across 16-bit sequence wraps; a torn read would see
 * another difference. And a state still claimed by an older stream id reads as zeros. */
struct stats_race {
	struct stream_state *st;
	uint64_t id;
	atomic_bool stop;
};

static void *stats_owner(void *arg)
{
	struct stats_race *r = arg;
	struct stream_state *st = r->st;
	atomic_store(&st->owner, r->id << 16 | 1);
	for (uint32_t n = 0; !atomic_load_explicit(&r->stop, memory_order_relaxed); n++) {
		seqlock_write_begin(&st->stats_seq);
		ctr32_set(&st->rtp_received, n);
		ctr32_set(&st->rtp_expected, n + 7);
		ctr_set(&st->rx_pkts, n);
		ctr_set(&st->rx_bytes, (uint64_t)n * 214);
		seqlock_write_end(&st->stats_seq);
	}
	return NULL;
}

static void statistics_are_read_as_a_consistent_snapshot(void **state)
{
	uint32_t ip = IP_A;
	struct stream_table *t = stream_table_create(&ip, 1);
	struct stream_cfg *s = new_stream(IP_A, 30000, STREAM_ECHO);
	struct stats_race r = {.st = stream_table_state(t, 0, 30000), .id = s->id};
	pthread_t th;
	struct stream_stats st;

	(void)state;
	assert_int_equal(stream_table_publish(t, s), 0);
	stream_stats_read(t, s, &st); /* no owner yet */
	assert_int_equal(st.rx_pkts, 0);
	assert_int_equal(pthread_create(&th, NULL, stats_owner, &r), 0);
	unsigned reads = 0, moving = 0;
	uint64_t last = 0;
	long long elapsed;
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		stream_stats_read(t, s, &st);
		if (st.rx_pkts || st.rtp_lost) {
			assert_int_equal(st.rtp_lost, 7);
			assert_int_equal(st.rx_pkts, st.rtp_received);
			assert_int_equal(st.rx_bytes, st.rx_pkts * 214);
			moving += st.rx_pkts != last;
			last = st.rx_pkts;
		}
		reads++;
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* at least 300 ms, and until the reader has seen the writer move (on a busy
		 * machine the two may share a CPU), for 10 s at most */
		elapsed = (now.tv_sec - t0.tv_sec) * 1000000000LL + (now.tv_nsec - t0.tv_nsec);
	} while ((elapsed < 300000000LL || moving <= 10) && elapsed < 10000000000LL);
	atomic_store(&r.stop, true);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(moving > 10);

	/* the slot's state now belongs to a newer stream id: the old config reads zeros */
	atomic_store(&r.st->owner, (s->id + 1) << 16 | 1);
	stream_stats_read(t, s, &st);
	assert_int_equal(st.rx_pkts, 0);
	assert_int_equal(st.rtp_lost, 0);
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
		const struct stream_cfg *s = stream_table_lookup(c->t, 0, port);
		if (s) {
			hits++;
			/* Reads of a freed config are what ASan (and TSan) watch for here. */
			if (s->local_port != (port & ~1u) ||
			    s->seq_base != (uint16_t)(s->local_port ^ 0x5a5a) || s->local_ip != IP_A)
				atomic_store(&c->failed, true);
		}
		stream_rcu_quiescent();
	}
	stream_rcu_offline();
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

/* One writer step: publish, republish or delete on a random slot, mirrored in @live. */
static void churn_step(struct stream_table *t, unsigned *seed, bool *live, unsigned *n_live)
{
	unsigned slot = (unsigned)rand_r(seed) % CHURN_SLOTS;
	uint16_t port = (uint16_t)(CHURN_BASE + 2 * slot);

	if (!live[slot]) {
		assert_int_equal(stream_table_publish(t, new_stream(IP_A, port, STREAM_ECHO)), 0);
		live[slot] = true;
		(*n_live)++;
	} else if (rand_r(seed) & 1) {
		assert_int_equal(stream_table_publish(t, new_stream(IP_A, port, STREAM_DROP)), 0);
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
		stream_rcu_quiescent();
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
		cmocka_unit_test(published_stream_is_found_until_deleted),
		cmocka_unit_test(delete_of_an_empty_slot_is_enoent),
		cmocka_unit_test(stream_on_an_address_not_in_the_table_is_einval),
		cmocka_unit_test(rtcp_port_maps_to_the_rtp_stream),
		cmocka_unit_test(republishing_replaces_the_config_and_keeps_the_count),
		cmocka_unit_test(a_deleted_config_is_handed_to_its_retirement_callback),
		cmocka_unit_test(n_streams_counts_publications_and_deletes),
		cmocka_unit_test(same_port_on_several_addresses_is_distinct_streams),
		cmocka_unit_test(statistics_are_read_as_a_consistent_snapshot),
		cmocka_unit_test(readers_never_see_a_freed_stream_while_the_writer_churns),
	};

	rcu_register_thread();
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_thread_offline();
	rcu_unregister_thread();
	return rc;
}
