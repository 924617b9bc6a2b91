/* Unit tests for the call journal (controlplane/ops/journal.c) on real files: what was put
 * and not deleted comes back at the next open, and only that (the file is compacted); a torn
 * last line (a kill during a write) is skipped and counted; records reach the file at
 * journal_flush, in one write; a file of many records and few live calls is compacted as it
 * goes; a second mgwd cannot open a journal in use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "controlplane/ops/journal.h"
#include "util/log.h"

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_journal.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/sub/calls.journal", dir); /* sub/ made by open */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	journal_close();
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static unsigned lines_of(const char *p)
{
	FILE *f = fopen(p, "r");
	unsigned n = 0;
	int ch;
	if (!f)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static void reopen(void)
{
	char err[256];
	journal_close();
	assert_int_equal(journal_open(path, err, sizeof(err)), 0);
}

static void live_calls_come_back_and_only_they(void **state)
{
	char err[256];
	(void)state;
	assert_false(journal_active());
	journal_put("a", json_pack("{s:i}", "n", 1)); /* not open: nothing happens */
	assert_int_equal(journal_open(path, err, sizeof(err)), 0);
	json_t *r = journal_take_restored();
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	journal_put("a", json_pack("{s:i}", "n", 1));
	journal_put("b", json_pack("{s:i}", "n", 2));
	journal_put("a", json_pack("{s:i}", "n", 3)); /* a changed */
	journal_put("c", json_pack("{s:i}", "n", 4));
	journal_del("c");
	journal_del("nope");
	assert_int_equal(lines_of(path), 0); /* not before the turn ends */
	journal_flush();
	assert_int_equal(lines_of(path), 5);
	assert_int_equal(journal_get_stats()->writes, 1);
	reopen();
	r = journal_take_restored();
	assert_int_equal(json_object_size(r), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "a"), "n")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "b"), "n")), 2);
	assert_null(json_object_get(r, "c"));
	json_decref(r);
	assert_null(journal_take_restored());
	assert_int_equal(lines_of(path), 2); /* compacted at open */
}

static void a_torn_last_line_is_skipped(void **state)
{
	char err[256];
	(void)state;
	assert_int_equal(journal_open(path, err, sizeof(err)), 0);
	journal_put("x", json_pack("{s:s}", "v", "kept"));
	journal_flush();
	journal_close();
	FILE *f = fopen(path, "a");
	assert_non_null(f);
	fputs("{\"put\":\"y\",\"call\":{\"v\":\"cut sh", f); /* no end, no newline */
	fclose(f);
	assert_int_equal(journal_open(path, err, sizeof(err)), 0);
	json_t *r = journal_take_restored();
	assert_int_equal(json_object_size(r), 1);
	assert_non_null(json_object_get(r, "x"));
	assert_int_equal(journal_get_stats()->bad_lines, 1);
	json_decref(r);
}

static void many_records_and_few_calls_are_compacted(void **state)
{
	char err[256], key[32];
	(void)state;
	assert_int_equal(journal_open(path, err, sizeof(err)), 0);
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "call-%u", i);
		journal_put(key, json_pack("{s:i}", "i", (int)i));
		if (i % 10 != 0)
			journal_del(key);
		if (i % 100 == 99)
			journal_flush();
	}
	journal_flush();
	assert_true(journal_get_stats()->compactions >= 2);
	assert_true(lines_of(path) < 4 * 2000 + 200);
	reopen();
	json_t *r = journal_take_restored();
	assert_int_equal(json_object_size(r), 2000);
	json_decref(r);
}

static void a_journal_in_use_cannot_be_opened_twice(void **state)
{
	char err[256];
	(void)state;
	assert_int_equal(journal_open(path, err, sizeof(err)), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		journal_close(); /* the child's copy of the parent's, lock included */
		/* the child is another mgwd: it must be refused while the parent holds it */
		char e[256] = "";
		int rc = journal_open(path, e, sizeof(e));
		_exit(rc == -1 && strstr(e, "in use") ? 0 : 1);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	log_set_level(LOG_ERR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(live_calls_come_back_and_only_they, setup, teardown),
		cmocka_unit_test_setup_teardown(a_torn_last_line_is_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(many_records_and_few_calls_are_compacted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_journal_in_use_cannot_be_opened_twice, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
