/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The query thread against a real control socket, a real sd-event loop and
 * a real SQLite database in WAL mode with a writer connection open (as the
 * journal's): answers come from another thread, the writer commits while a
 * query runs, a query whose client has gone is interrupted, the time limit
 * stops a query, and freeing the thread stops a query that would never
 * end on its own (a recursive CTE without a bound) and answers its client.
 * Nothing here waits on time: every wait runs the loop until a fact holds,
 * with a generous limit only against hangs.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "daemon/control.h"
#include "daemon/ctl_query.h"
#include "util/util.h"

#define WAIT_LIMIT_USEC (10 * USEC_PER_SEC)

struct fixture {
	char dir[64], sock[128], db_path[128];
	sd_event *event;
	struct control *ctl;
	struct ctl_query *q;
	sqlite3 *writer;
};

/* What the queries saw (written by the query thread, read by the test). */
static pthread_t main_thread;
static atomic_bool ran_elsewhere;
static atomic_int forever_started, forever_ended, forever_rc;

/* ---- queries (run on the query thread) ---- */

static int query_count(sqlite3 *db, json_object *req, const struct ctl_query_env *env,
		       json_object **reply, char **error)
{
	atomic_store(&ran_elsewhere, !pthread_equal(pthread_self(), main_thread));
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, NULL) != SQLITE_OK)
		return error_set(error, -EIO, "prepare: %s", sqlite3_errmsg(db));
	int rc = sqlite3_step(st);
	int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	*reply = json_object_new_object();
	json_object_object_add(*reply, "rows", json_object_new_int64(n));
	json_object_object_add(*reply, "site", json_object_new_string(env->site));
	return 0;
}

/* Never ends unless interrupted. */
static int query_forever(sqlite3 *db, json_object *req, const struct ctl_query_env *env,
			 json_object **reply, char **error)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
			       " SELECT count(*) FROM c", -1, &st, NULL) != SQLITE_OK)
		return error_set(error, -EIO, "prepare: %s", sqlite3_errmsg(db));
	atomic_fetch_add(&forever_started, 1);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	atomic_store(&forever_rc, rc);
	atomic_fetch_add(&forever_ended, 1);
	return error_set(error, -EIO, "journal query failed: %s", sqlite3_errstr(rc));
}

static int query_write(sqlite3 *db, json_object *req, const struct ctl_query_env *env,
		       json_object **reply, char **error)
{
	if (sqlite3_exec(db, "INSERT INTO t VALUES (99)", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	return error_set(error, -EROFS, "%s", sqlite3_errmsg(db));
}

/* ---- control handlers (main thread) ---- */

static int handle(struct fixture *f, ctl_query_fn fn, json_object *req, char **error)
{
	struct ctl_query_env env = { .site = "Test Branch" };
	if (!f->q) /* freed by the test: what circd's handlers cannot see */
		return error_set(error, -ESHUTDOWN, "circd is stopping");
	return ctl_query_submit(f->q, f->ctl, fn, req, &env, error);
}

static int handle_count(void *userdata, json_object *req, json_object **reply, char **error)
{
	return handle(userdata, query_count, req, error);
}

static int handle_forever(void *userdata, json_object *req, json_object **reply, char **error)
{
	return handle(userdata, query_forever, req, error);
}

static int handle_write(void *userdata, json_object *req, json_object **reply, char **error)
{
	return handle(userdata, query_write, req, error);
}

/* ---- fixture ---- */

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	const char *t = getenv("TMPDIR");
	snprintf(f->dir, sizeof(f->dir), "%s/circd-query-XXXXXX", t && *t && strlen(t) < 40 ? t : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/control.sock", f->dir);
	snprintf(f->db_path, sizeof(f->db_path), "%s/journal.db", f->dir);

	assert_int_equal(sqlite3_open(f->db_path, &f->writer), SQLITE_OK);
	exec_ok(f->writer, "PRAGMA journal_mode=WAL; CREATE TABLE t(x INTEGER);"
			   "INSERT INTO t VALUES (1), (2), (3);");

	main_thread = pthread_self();
	atomic_store(&ran_elsewhere, false);
	atomic_store(&forever_started, 0);
	atomic_store(&forever_ended, 0);
	atomic_store(&forever_rc, 0);
	_cleanup_free_ char *error = NULL;
	assert_int_equal(sd_event_new(&f->event), 0);
	assert_int_equal(control_new(&f->ctl, f->event, f->sock, NULL, &error), 0);
	assert_int_equal(ctl_query_new(&f->q, f->event, f->db_path, &error), 0);
	assert_null(error);
	assert_int_equal(control_add_command(f->ctl, "count", handle_count, f), 0);
	assert_int_equal(control_add_command(f->ctl, "forever", handle_forever, f), 0);
	assert_int_equal(control_add_command(f->ctl, "write", handle_write, f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ctl_query_free(f->q);
	control_free(f->ctl);
	sd_event_unref(f->event);
	sqlite3_close(f->writer);
	char p[200];
	const char *const files[] = { "journal.db", "journal.db-wal", "journal.db-shm" };
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, files[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- client ---- */

static int client_connect(struct fixture *f)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	strcpy(addr.sun_path, f->sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

static void client_send(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Runs the loop until a whole line arrived; returns it (malloc'd, no
 * newline), or NULL when the server closed the connection first. */
static char *client_read_line(struct fixture *f, int fd)
{
	char buf[4096];
	size_t len = 0;
	uint64_t deadline = now_monotonic_usec() + WAIT_LIMIT_USEC;
	for (;;) {
		char *nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = '\0';
			return xstrdup(buf);
		}
		assert_true(now_monotonic_usec() < deadline);
		assert_true(sd_event_run(f->event, 1000) >= 0);
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return NULL;
		if (n > 0)
			len += (size_t)n;
	}
}

static void run_until(struct fixture *f, atomic_int *v, int value)
{
	uint64_t deadline = now_monotonic_usec() + WAIT_LIMIT_USEC;
	while (atomic_load(v) < value) {
		assert_true(now_monotonic_usec() < deadline);
		assert_true(sd_event_run(f->event, 1000) >= 0);
	}
}

/* ---- tests ---- */

static void test_answer_from_the_query_thread(void **state)
{
	struct fixture *f = *state;
	int fd = client_connect(f);
	client_send(fd, "{\"cmd\":\"count\"}\n{\"cmd\":\"count\",\"again\":1}\n");
	_cleanup_free_ char *a = client_read_line(f, fd);
	assert_non_null(a);
	assert_string_equal(a, "{\"rows\":3,\"site\":\"Test Branch\",\"ok\":true}");
	assert_true(atomic_load(&ran_elsewhere));
	_cleanup_free_ char *b = client_read_line(f, fd);
	assert_non_null(b);
	assert_string_equal(b, "{\"rows\":3,\"site\":\"Test Branch\",\"ok\":true}");
	close(fd);
}

static void test_the_reader_cannot_write(void **state)
{
	struct fixture *f = *state;
	int fd = client_connect(f);
	client_send(fd, "{\"cmd\":\"write\"}\n{\"cmd\":\"count\"}\n");
	_cleanup_free_ char *a = client_read_line(f, fd);
	assert_non_null(a);
	assert_non_null(strstr(a, "\"ok\":false"));
	assert_non_null(strstr(a, "readonly"));
	/* An error from the thread keeps the connection, as a handler's. */
	_cleanup_free_ char *b = client_read_line(f, fd);
	assert_non_null(b);
	assert_non_null(strstr(b, "\"rows\":3"));
	close(fd);
}

static void test_writer_commits_while_a_query_runs_and_gone_client_interrupts(void **state)
{
	struct fixture *f = *state;
	int fd = client_connect(f);
	client_send(fd, "{\"cmd\":\"forever\"}\n");
	run_until(f, &forever_started, 1);
	/* WAL: the writer is not blocked by the running read. */
	exec_ok(f->writer, "BEGIN IMMEDIATE; INSERT INTO t VALUES (4); COMMIT;");
	assert_int_equal(atomic_load(&forever_ended), 0);
	close(fd);
	run_until(f, &forever_ended, 1);
	assert_int_equal(atomic_load(&forever_rc), SQLITE_INTERRUPT);

	/* The thread is free again, and its reads see the writer's commit. */
	fd = client_connect(f);
	client_send(fd, "{\"cmd\":\"count\"}\n");
	_cleanup_free_ char *a = client_read_line(f, fd);
	assert_non_null(a);
	assert_non_null(strstr(a, "\"rows\":4"));
	close(fd);
}

static void test_time_limit(void **state)
{
	struct fixture *f = *state;
	ctl_query_set_limit(f->q, 50 * 1000);
	int fd = client_connect(f);
	client_send(fd, "{\"cmd\":\"forever\"}\n{\"cmd\":\"count\"}\n");
	_cleanup_free_ char *a = client_read_line(f, fd);
	assert_non_null(a);
	assert_string_equal(a, "{\"ok\":false,\"error\":\"forever stopped after 0.05 s: ask for a "
			       "shorter period\"}");
	_cleanup_free_ char *b = client_read_line(f, fd);
	assert_non_null(b);
	assert_non_null(strstr(b, "\"rows\":3"));
	close(fd);
}

static void test_free_interrupts_and_answers(void **state)
{
	struct fixture *f = *state;
	int a = client_connect(f), b = client_connect(f);
	client_send(a, "{\"cmd\":\"forever\"}\n");
	run_until(f, &forever_started, 1);
	client_send(b, "{\"cmd\":\"count\"}\n");
	/* b's request is queued behind a's once the loop has read it. */
	for (int i = 0; i < 20; i++)
		assert_true(sd_event_run(f->event, 0) >= 0);
	ctl_query_free(f->q); /* joins: returns only because the query was interrupted */
	f->q = NULL;
	assert_int_equal(atomic_load(&forever_rc), SQLITE_INTERRUPT);
	_cleanup_free_ char *la = client_read_line(f, a);
	assert_non_null(la);
	assert_string_equal(la, "{\"ok\":false,\"error\":\"circd is stopping\"}");
	_cleanup_free_ char *lb = client_read_line(f, b);
	assert_non_null(lb);
	assert_string_equal(lb, "{\"ok\":false,\"error\":\"circd is stopping\"}");
	close(a);
	close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_answer_from_the_query_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_reader_cannot_write, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_writer_commits_while_a_query_runs_and_gone_client_interrupts, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_time_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_interrupts_and_answers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
