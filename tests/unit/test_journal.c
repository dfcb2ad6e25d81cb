/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The journal: schema and migrations, refusals, group commit, the delivery
 * state machine, reopening after a crash, retention. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"
#include "util/util.h"

static char dir[] = "/tmp/circd-test-journal.XXXXXX";

static int setup(void **state)
{
	strcpy(dir, "/tmp/circd-test-journal.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

static struct journal *open_ok(void)
{
	struct journal *j = NULL;
	char *error = NULL;
	int r = journal_open(dir, &j, &error);
	if (r < 0)
		fail_msg("journal_open: %s", error);
	return j;
}

static int64_t add(struct journal *j, const char *item, uint64_t dev_id)
{
	const char *ups[] = { "ils", "fleet" };
	struct journal_txn_in t = { .kind = "checkin", .station = "returns", .device = "drop1",
				    .item_id = item, .uid = "e004", .event_time_usec = 1000,
				    .device_event_id = dev_id };
	int64_t id = -1;
	int r = journal_add_transaction(j, &t, ups, 2, &id);
	return r < 0 ? r : id;
}

static int count(struct journal *j, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(journal_db(j), sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_creates_schema_with_wal_and_full_sync(void **state)
{
	struct journal *j = open_ok();
	assert_int_equal(count(j, "PRAGMA user_version"), JOURNAL_SCHEMA_VERSION);
	/* NORMAL: commits are not synced by SQLite (the durability thread
	 * does it, tests below); checkpoints and WAL restarts still are. */
	assert_int_equal(count(j, "PRAGMA synchronous"), 1);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(journal_db(j), "PRAGMA journal_mode", -1, &st, NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(count(j, "SELECT count(*) FROM sqlite_master WHERE name IN"
				  " ('transactions','deliveries','events','items','exceptions')"), 5);
	journal_close(j);
}

static void test_refuses_newer_schema(void **state)
{
	struct journal *j = open_ok();
	assert_int_equal(sqlite3_exec(journal_db(j), "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	journal_close(j);
	char *error = NULL;
	assert_int_equal(journal_open(dir, &j, &error), -EPROTO);
	assert_non_null(strstr(error, "newer"));
	assert_non_null(strstr(error, "journal.db"));
	free(error);
}

static void test_refuses_corrupt_database(void **state)
{
	char *path = xasprintf("%s/journal.db", dir);
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 4096; i++)
		fputc(i * 7 & 0xff, f);
	fclose(f);
	struct journal *j = NULL;
	char *error = NULL;
	assert_true(journal_open(dir, &j, &error) < 0);
	assert_null(j);
	assert_non_null(strstr(error, path));
	free(error);
	free(path);
}

static void test_refuses_missing_and_non_directory(void **state)
{
	struct journal *j = NULL;
	char *error = NULL;
	char *missing = xasprintf("%s/nope", dir);
	assert_int_equal(journal_open(missing, &j, &error), -ENOENT);
	assert_non_null(strstr(error, missing));
	free(error);
	char *file = xasprintf("%s/afile", dir);
	close(open(file, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(journal_open(file, &j, &error), -ENOTDIR);
	free(error);
	free(missing);
	free(file);
}

static void test_migrates_from_version_zero(void **state)
{
	/* An empty database file (what a 0.0 install would leave) migrates. */
	char *path = xasprintf("%s/journal.db", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_exec(db, "CREATE TABLE unrelated(x)", NULL, NULL, NULL);
	sqlite3_close(db);
	struct journal *j = open_ok();
	assert_int_equal(count(j, "PRAGMA user_version"), JOURNAL_SCHEMA_VERSION);
	assert_int_equal(count(j, "SELECT count(*) FROM unrelated"), 0);
	journal_close(j);
	free(path);
}

static void test_group_commit_and_dedupe(void **state)
{
	struct journal *j = open_ok();
	uint64_t before = journal_commit_count(j);
	for (int i = 1; i <= 100; i++)
		assert_true(add(j, "B", (uint64_t)i) > 0);
	assert_true(journal_dirty(j));
	assert_int_equal(journal_commit(j), 0);
	assert_int_equal(journal_commit_count(j) - before, 1); /* one fsync for the batch */
	assert_int_equal(count(j, "SELECT count(*) FROM transactions"), 100);
	assert_int_equal(count(j, "SELECT count(*) FROM deliveries WHERE state='pending'"), 200);
	/* A re-delivered device event is refused, the batch goes on. */
	assert_int_equal(add(j, "B", 7), -EEXIST);
	assert_true(add(j, "C", 0) > 0);
	assert_true(add(j, "D", 0) > 0); /* no device id: never a duplicate */
	assert_int_equal(journal_commit(j), 0);
	assert_int_equal(count(j, "SELECT count(*) FROM transactions"), 102);
	journal_close(j);
}

static int actions_run;
static void action(void *userdata, uint64_t arg) { actions_run += (int)arg; }

static void test_after_commit_actions_run_only_after_commit(void **state)
{
	struct journal *j = open_ok();
	add(j, "A", 0);
	actions_run = 0;
	journal_after_commit(j, action, NULL, 5);
	assert_int_equal(actions_run, 0);
	assert_int_equal(journal_commit(j), 0);
	/* Written, not yet known durable: the action waits. */
	assert_int_equal(actions_run, 0);
	assert_int_equal(journal_wait_durable(j), 0);
	assert_int_equal(actions_run, 5);
	assert_true(journal_durable_count(j) >= journal_commit_count(j));
	journal_close(j);
}

/* The durability thread's sync, held until the test lets it go. */
static int gate_pipe[2] = { -1, -1 };
static int syncs_done;
static int held_sync(int fd)
{
	char c;
	if (read(gate_pipe[0], &c, 1) != 1)
		return -1;
	int r = fdatasync(fd);
	__atomic_add_fetch(&syncs_done, 1, __ATOMIC_SEQ_CST);
	return r;
}

static void release_one_sync(void)
{
	assert_int_equal(write(gate_pipe[1], "x", 1), 1);
}

/* Waits until the thread reports (no timing assumption: 20 s only so that
 * a broken build fails instead of hanging). */
static void wait_report(struct journal *j)
{
	struct pollfd p = { .fd = journal_durable_fd(j), .events = POLLIN };
	assert_int_equal(poll(&p, 1, 20000), 1);
}

static int dropped;
static void drop_action(void *userdata, uint64_t arg) { dropped += (int)arg; }

static void test_actions_wait_for_the_durability_confirmation(void **state)
{
	assert_int_equal(pipe(gate_pipe), 0);
	struct journal *j = open_ok();
	journal_set_sync_fn(j, held_sync);
	actions_run = 0;
	syncs_done = 0;
	add(j, "A", 1);
	journal_after_commit(j, action, NULL, 1);
	assert_int_equal(journal_commit(j), 0);
	/* A second commit, and an action queued outside a transaction (it
	 * waits for everything committed so far, i.e. both). */
	add(j, "B", 2);
	journal_after_commit(j, action, NULL, 10);
	assert_int_equal(journal_commit(j), 0);
	journal_after_commit(j, action, NULL, 100);
	assert_int_equal(journal_commit_count(j) - journal_durable_count(j), 2);
	assert_true(journal_durable_pending(j));
	/* Nothing is durable: no news, no action, however often we look. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(journal_dispatch_durable(j), 0);
		assert_int_equal(journal_commit(j), 0);
	}
	assert_int_equal(actions_run, 0);
	/* Let exactly one sync through: it began after both commits (it was
	 * asked for by the first and took the newest target when it started,
	 * or it is the one for both), so everything is released. */
	release_one_sync();
	while (journal_durable_count(j) < journal_commit_count(j)) {
		wait_report(j);
		assert_int_equal(journal_dispatch_durable(j), 0);
		if (journal_durable_count(j) < journal_commit_count(j))
			release_one_sync();
	}
	assert_int_equal(actions_run, 111);
	assert_false(journal_durable_pending(j));
	/* A sync that starts later covers only what was committed before it:
	 * commit, then hold the sync, commit again: the second waits. */
	int before = syncs_done;
	add(j, "C", 3);
	journal_after_commit(j, action, NULL, 1000);
	assert_int_equal(journal_commit(j), 0);
	release_one_sync();
	wait_report(j);
	assert_int_equal(journal_dispatch_durable(j), 0);
	assert_int_equal(syncs_done, before + 1);
	assert_int_equal(actions_run, 1111);
	/* Closing drains: the thread syncs what is committed (let it). */
	add(j, "D", 4);
	journal_after_commit_full(j, action, drop_action, NULL, 10000);
	assert_int_equal(journal_commit(j), 0);
	dropped = 0;
	release_one_sync();
	journal_close(j);
	assert_int_equal(actions_run, 1111); /* not run by close... */
	assert_int_equal(dropped, 10000);    /* ...but dropped */
	assert_int_equal(syncs_done, before + 2);
	close(gate_pipe[0]);
	close(gate_pipe[1]);
}

static int failing_sync(int fd)
{
	errno = EIO;
	return -1;
}

static void test_failed_sync_is_fatal(void **state)
{
	struct journal *j = open_ok();
	journal_set_sync_fn(j, failing_sync);
	actions_run = 0;
	dropped = 0;
	add(j, "A", 1);
	journal_after_commit_full(j, action, drop_action, NULL, 1);
	assert_int_equal(journal_commit(j), 0); /* written */
	wait_report(j);
	assert_int_equal(journal_dispatch_durable(j), -EIO);
	assert_int_equal(actions_run, 0);
	assert_int_equal(dropped, 1);
	/* Fail-stop: nothing more is written or released. */
	assert_true(add(j, "B", 2) < 0);
	assert_int_equal(journal_commit(j), -EIO);
	journal_after_commit_full(j, action, drop_action, NULL, 2);
	assert_int_equal(journal_dispatch_durable(j), -EIO);
	assert_int_equal(journal_wait_durable(j), -EIO);
	assert_int_equal(actions_run, 0);
	journal_close(j);
	assert_int_equal(dropped, 3);
}

static void test_uncommitted_work_is_lost_on_crash_committed_survives(void **state)
{
	/* A child commits 10, writes 5 more without committing, and dies. */
	pid_t pid = fork();
	if (pid == 0) {
		struct journal *j = NULL;
		char *error = NULL;
		if (journal_open(dir, &j, &error) < 0)
			_exit(2);
		for (int i = 1; i <= 10; i++)
			add(j, "A", (uint64_t)i);
		if (journal_commit(j) < 0)
			_exit(3);
		for (int i = 11; i <= 15; i++)
			add(j, "A", (uint64_t)i);
		_exit(0); /* no commit, no close: like SIGKILL */
	}
	int status;
	waitpid(pid, &status, 0);
	assert_int_equal(WEXITSTATUS(status), 0);
	struct journal *j = open_ok();
	assert_int_equal(count(j, "SELECT count(*) FROM transactions"), 10);
	journal_close(j);
}

static void test_delivery_state_machine(void **state)
{
	struct journal *j = open_ok();
	int64_t a = add(j, "A", 1), b = add(j, "B", 2);
	journal_commit(j);

	struct journal_delivery *d;
	int n = journal_fetch_pending(j, "ils", 0, 10, &d);
	assert_int_equal(n, 2);
	assert_int_equal(d[0].txn_id, a);
	assert_string_equal(d[0].item_id, "A");
	assert_false(d[0].maybe_sent);
	for (int i = 0; i < n; i++)
		journal_delivery_clear(&d[i]);
	free(d);

	journal_set_delivery(j, a, "ils", "inflight", 0, false, NULL, NULL);
	journal_set_delivery(j, b, "ils", "inflight", 0, false, NULL, NULL);
	journal_commit(j);
	assert_int_equal(journal_fetch_pending(j, "ils", 0, 10, &d), 0);
	free(d);

	/* Restart: inflight ones come back, flagged as maybe sent. */
	journal_close(j);
	j = open_ok();
	assert_int_equal(journal_requeue_inflight(j), 2);
	journal_commit(j);
	n = journal_fetch_pending(j, "ils", 0, 10, &d);
	assert_int_equal(n, 2);
	assert_true(d[0].maybe_sent);
	for (int i = 0; i < n; i++)
		journal_delivery_clear(&d[i]);
	free(d);

	journal_set_delivery(j, a, "ils", "done", 1, true, NULL, "{\"ok\":true}");
	journal_set_delivery(j, b, "ils", "rejected", 1, true, "item not found", NULL);
	journal_commit(j);
	struct journal_backlog bl;
	journal_backlog(j, "ils", &bl);
	assert_int_equal(bl.pending, 0);
	assert_int_equal(journal_count_done(j, "ils"), 1);
	assert_int_equal(bl.rejected, 1);
	journal_backlog(j, "fleet", &bl);
	assert_int_equal(bl.pending, 2);
	assert_true(bl.oldest_usec > 0);

	/* Exceptions: listed, retried, dismissed. */
	assert_int_equal(count(j, "SELECT count(*) FROM exceptions"), 1);
	assert_int_equal(journal_exception_retry(j, b), 0);
	assert_int_equal(count(j, "SELECT count(*) FROM exceptions"), 0);
	assert_int_equal(journal_exception_retry(j, b), -ENOENT);
	journal_set_delivery(j, b, "ils", "rejected", 2, true, "still not found", NULL);
	assert_int_equal(journal_exception_dismiss(j, b, "handled at the desk"), 0);
	journal_commit(j);
	assert_int_equal(count(j, "SELECT count(*) FROM deliveries WHERE note = 'handled at the desk'"), 1);
	journal_close(j);
}

static void test_prune_keeps_anything_unfinished(void **state)
{
	struct journal *j = open_ok();
	int64_t a = add(j, "A", 1), b = add(j, "B", 2);
	journal_set_delivery(j, a, "ils", "done", 1, false, NULL, NULL);
	journal_set_delivery(j, a, "fleet", "done", 1, false, NULL, NULL);
	journal_set_delivery(j, b, "ils", "done", 1, false, NULL, NULL);
	/* b is still pending at "fleet" */
	journal_commit(j);
	int n = journal_prune(j, now_realtime_usec() + USEC_PER_SEC);
	journal_commit(j);
	assert_int_equal(n, 1);
	assert_int_equal(count(j, "SELECT count(*) FROM transactions"), 1);
	assert_int_equal(count(j, "SELECT count(*) FROM deliveries"), 2);
	/* Ids are never reused after pruning: consumers de-duplicate on them. */
	assert_true(add(j, "C", 3) > b);
	journal_commit(j);
	journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_creates_schema_with_wal_and_full_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_corrupt_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_missing_and_non_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrates_from_version_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit_and_dedupe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_after_commit_actions_run_only_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_actions_wait_for_the_durability_confirmation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_sync_is_fatal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uncommitted_work_is_lost_on_crash_committed_survives, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivery_state_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_keeps_anything_unfinished, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
