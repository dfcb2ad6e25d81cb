/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The jsonl upstream, loaded from plugins/.libs/jsonl.so through the fake
 * host: batches, REJECTED policy, RETRY when the disk is full or the file
 * cannot be written (with no half line left behind), recovery, rotation.
 * Tests run as root, so "unwritable" is made with RLIMIT_FSIZE, /dev/full,
 * a directory in place of the file and a missing directory, not with modes.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakehost.h"
#include "util/util.h"

static char tmpdir[] = "/tmp/circd-test-jsonl-XXXXXX";
static char path[256];

static int group_setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof(path), "%s/out.jsonl", tmpdir);
	signal(SIGXFSZ, SIG_IGN); /* RLIMIT_FSIZE: get EFBIG, not a signal */
	return 0;
}

static int group_teardown(void **state)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int test_teardown(void **state)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'/*", tmpdir);
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	setrlimit(RLIMIT_FSIZE, &rl);
	return system(cmd) == 0 ? 0 : -1;
}

static struct fakehost *start_jsonl(const char *const *opts)
{
	struct fakehost *fh = fakehost_new();

	if (fakehost_load_plugin(fh, "jsonl") < 0)
		fail_msg("%s", fakehost_error(fh));
	if (fakehost_set_options(fh, opts) < 0)
		fail_msg("%s", fakehost_error(fh));
	if (fakehost_create(fh) < 0)
		fail_msg("%s", fakehost_error(fh));
	assert_int_equal(fakehost_start(fh), 0);
	return fh;
}

static void stop_jsonl(struct fakehost *fh)
{
	assert_int_equal(fakehost_stop(fh), 0);
	assert_int_equal(fakehost_report_order_errors(fh), 0);
	assert_int_equal(fakehost_option_misuse(fh), 0);
	fakehost_free(fh);
}

static void queue(struct fakehost *fh, int64_t id, const char *item)
{
	_cleanup_free_ char *json = xasprintf("{\"id\":%lld,\"kind\":\"checkin\",\"item\":\"%s\"}",
					      (long long)id, item);
	fakehost_txn(fh, &(struct circd_txn){ .kind = CIRCD_TXN_CHECKIN, .id = id,
					      .item_id = item, .json = json, .uid = "" });
}

static char *slurp(const char *p)
{
	FILE *f = fopen(p, "r");
	char *buf = xcalloc(1, 1 << 16);
	if (f) {
		size_t n = fread(buf, 1, (1 << 16) - 1, f);
		buf[n] = '\0';
		fclose(f);
	}
	return buf;
}

static off_t file_size(const char *p)
{
	struct stat st;
	return stat(p, &st) < 0 ? -1 : st.st_size;
}

static const char *opt_path(void)
{
	static char buf[300];
	snprintf(buf, sizeof(buf), "path=%s", path);
	return buf;
}

static void test_required_path(void **state)
{
	struct fakehost *fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(fh, "jsonl"), 0);
	assert_int_equal(fakehost_plugin(fh)->kinds, CIRCD_KIND_UPSTREAM);
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ NULL }), -EINVAL);
	assert_string_equal(fakehost_error(fh), "missing required option 'path'");
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ "path=", NULL }), 0);
	assert_int_equal(fakehost_create(fh), -EINVAL);
	fakehost_free(fh);
}

/* Everything queued at wake-up is one batch, answered OK in order. */
static void test_batch(void **state)
{
	struct fakehost *fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(fh, "jsonl"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ opt_path(), NULL }), 0);
	assert_int_equal(fakehost_create(fh), 0);
	for (int i = 1; i <= 5; i++)
		queue(fh, i, "B1");
	assert_int_equal(fakehost_start(fh), 0);
	assert_int_equal(fakehost_wait_reports(fh, 5, 2000), 0);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(fakehost_report(fh, i)->txn_id, (int64_t)i + 1);
		assert_int_equal(fakehost_report(fh, i)->status, CIRCD_TXN_OK);
	}
	queue(fh, 6, "B2");
	assert_int_equal(fakehost_wait_reports(fh, 6, 2000), 0);
	assert_int_equal(fakehost_health(fh), CIRCD_HEALTH_OK);
	stop_jsonl(fh);

	_cleanup_free_ char *text = slurp(path);
	_cleanup_free_ char *want = xasprintf(
		"{\"id\":1,\"kind\":\"checkin\",\"item\":\"B1\"}\n"
		"{\"id\":2,\"kind\":\"checkin\",\"item\":\"B1\"}\n"
		"{\"id\":3,\"kind\":\"checkin\",\"item\":\"B1\"}\n"
		"{\"id\":4,\"kind\":\"checkin\",\"item\":\"B1\"}\n"
		"{\"id\":5,\"kind\":\"checkin\",\"item\":\"B1\"}\n"
		"{\"id\":6,\"kind\":\"checkin\",\"item\":\"B2\"}\n");
	assert_string_equal(text, want);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777 & ~0640, 0);
}

static void test_reject_policy(void **state)
{
	struct fakehost *fh = start_jsonl((const char *[]){ opt_path(), "reject_without_item=yes",
							    "fsync=false", NULL });
	queue(fh, 1, "A");
	queue(fh, 2, "");
	fakehost_txn(fh, &(struct circd_txn){ .id = 3, .item_id = "C", .json = NULL });
	fakehost_txn(fh, &(struct circd_txn){ .id = 4, .item_id = "D",
					      .json = "{\n  \"id\": 4\n}" });
	assert_int_equal(fakehost_wait_reports(fh, 4, 2000), 0);
	assert_int_equal(fakehost_report(fh, 0)->status, CIRCD_TXN_OK);
	assert_int_equal(fakehost_report(fh, 1)->status, CIRCD_TXN_REJECTED);
	assert_non_null(strstr(fakehost_report(fh, 1)->message, "no item id"));
	assert_int_equal(fakehost_report(fh, 2)->status, CIRCD_TXN_REJECTED);
	assert_int_equal(fakehost_report(fh, 3)->status, CIRCD_TXN_OK);
	stop_jsonl(fh);
	_cleanup_free_ char *text = slurp(path);
	assert_string_equal(text, "{\"id\":1,\"kind\":\"checkin\",\"item\":\"A\"}\n"
				  "{   \"id\": 4 }\n");
}

/* A batch that does not fit: RETRY for all of it, and no half line. */
static void test_file_size_limit(void **state)
{
	struct fakehost *fh = start_jsonl((const char *[]){ opt_path(), NULL });
	queue(fh, 1, "FIRST");
	assert_int_equal(fakehost_wait_reports(fh, 1, 2000), 0);
	off_t before = file_size(path);
	assert_true(before > 0);

	struct rlimit rl = { (rlim_t)before + 10, RLIM_INFINITY };
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	queue(fh, 2, "SECOND");
	queue(fh, 3, "THIRD");
	assert_int_equal(fakehost_wait_reports(fh, 3, 2000), 0);
	for (size_t i = 1; i < 3; i++) {
		assert_int_equal(fakehost_report(fh, i)->status, CIRCD_TXN_RETRY);
		assert_string_equal(fakehost_report(fh, i)->message, strerror(EFBIG));
	}
	assert_int_equal(file_size(path), before);
	assert_int_equal(fakehost_health(fh), CIRCD_HEALTH_DEGRADED);

	/* room again: the forwarder's retry goes through, health recovers */
	rl.rlim_cur = RLIM_INFINITY;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	queue(fh, 2, "SECOND");
	queue(fh, 3, "THIRD");
	assert_int_equal(fakehost_wait_reports(fh, 5, 2000), 0);
	assert_int_equal(fakehost_report(fh, 3)->status, CIRCD_TXN_OK);
	assert_int_equal(fakehost_report(fh, 4)->status, CIRCD_TXN_OK);
	assert_int_equal(fakehost_health(fh), CIRCD_HEALTH_OK);
	stop_jsonl(fh);
	_cleanup_free_ char *text = slurp(path);
	assert_non_null(strstr(text, "\"FIRST\"}\n{\"id\":2,\"kind\":\"checkin\",\"item\":\"SECOND\"}\n"
				     "{\"id\":3,"));
}

static void expect_retry(const char *target, int err)
{
	_cleanup_free_ char *opt = xasprintf("path=%s", target);
	struct fakehost *fh = start_jsonl((const char *[]){ opt, NULL });
	queue(fh, 1, "X");
	queue(fh, 2, "Y");
	assert_int_equal(fakehost_wait_reports(fh, 2, 2000), 0);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(fakehost_report(fh, i)->status, CIRCD_TXN_RETRY);
		assert_string_equal(fakehost_report(fh, i)->message, strerror(err));
	}
	assert_int_equal(fakehost_health(fh), CIRCD_HEALTH_DEGRADED);
	stop_jsonl(fh);
}

static void test_disk_full(void **state)
{
	expect_retry("/dev/full", ENOSPC);
}

static void test_path_is_directory(void **state)
{
	_cleanup_free_ char *dir = xasprintf("%s/adir", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	expect_retry(dir, EISDIR);
}

static void test_directory_missing_then_created(void **state)
{
	_cleanup_free_ char *dir = xasprintf("%s/later", tmpdir);
	_cleanup_free_ char *file = xasprintf("%s/out.jsonl", dir);
	_cleanup_free_ char *opt = xasprintf("path=%s", file);
	struct fakehost *fh = start_jsonl((const char *[]){ opt, NULL });

	queue(fh, 1, "X");
	assert_int_equal(fakehost_wait_reports(fh, 1, 2000), 0);
	assert_int_equal(fakehost_report(fh, 0)->status, CIRCD_TXN_RETRY);
	assert_string_equal(fakehost_report(fh, 0)->message, strerror(ENOENT));
	assert_int_equal(mkdir(dir, 0755), 0);
	queue(fh, 1, "X");
	assert_int_equal(fakehost_wait_reports(fh, 2, 2000), 0);
	assert_int_equal(fakehost_report(fh, 1)->status, CIRCD_TXN_OK);
	assert_int_equal(fakehost_health(fh), CIRCD_HEALTH_OK);
	stop_jsonl(fh);
	unlink(file);
	rmdir(dir);
}

/* logrotate moves the file away: the next batch goes to a new file. */
static void test_rotation(void **state)
{
	_cleanup_free_ char *rotated = xasprintf("%s.1", path);
	struct fakehost *fh = start_jsonl((const char *[]){ opt_path(), NULL });

	queue(fh, 1, "OLD");
	assert_int_equal(fakehost_wait_reports(fh, 1, 2000), 0);
	assert_int_equal(rename(path, rotated), 0);
	queue(fh, 2, "NEW");
	assert_int_equal(fakehost_wait_reports(fh, 2, 2000), 0);
	assert_int_equal(fakehost_report(fh, 1)->status, CIRCD_TXN_OK);
	stop_jsonl(fh);

	_cleanup_free_ char *old = slurp(rotated);
	_cleanup_free_ char *cur = slurp(path);
	assert_string_equal(old, "{\"id\":1,\"kind\":\"checkin\",\"item\":\"OLD\"}\n");
	assert_string_equal(cur, "{\"id\":2,\"kind\":\"checkin\",\"item\":\"NEW\"}\n");
}

/* A kiosk's requests (patron information, end of session) are not
 * circulation: REJECTED as not supported, and nothing -- least of all the
 * PIN the request carries -- reaches the file. */
static void test_kiosk_requests_rejected(void **state)
{
	struct fakehost *fh = fakehost_new();
	assert_int_equal(fakehost_load_plugin(fh, "jsonl"), 0);
	assert_int_equal(fakehost_set_options(fh, (const char *[]){ opt_path(), NULL }), 0);
	assert_int_equal(fakehost_create(fh), 0);
	fakehost_txn(fh, &(struct circd_txn){ .kind = CIRCD_TXN_PATRON_INFO, .id = -1,
					      .patron_id = "P1", .item_id = "", .uid = "",
					      .json = "{\"kind\":\"patron-info\",\"patron_pin\":\"4711\"}" });
	fakehost_txn(fh, &(struct circd_txn){ .kind = CIRCD_TXN_END_SESSION, .id = -2,
					      .patron_id = "P1", .item_id = "", .uid = "",
					      .json = "{\"kind\":\"end-session\"}" });
	queue(fh, 3, "B1");
	assert_int_equal(fakehost_start(fh), 0);
	assert_int_equal(fakehost_wait_reports(fh, 3, 2000), 0);
	assert_int_equal(fakehost_report(fh, 0)->status, CIRCD_TXN_REJECTED);
	assert_non_null(strstr(fakehost_report(fh, 0)->message, "not supported"));
	assert_int_equal(fakehost_report(fh, 1)->status, CIRCD_TXN_REJECTED);
	assert_int_equal(fakehost_report(fh, 2)->status, CIRCD_TXN_OK);
	stop_jsonl(fh);
	_cleanup_free_ char *text = slurp(path);
	assert_string_equal(text, "{\"id\":3,\"kind\":\"checkin\",\"item\":\"B1\"}\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_required_path, test_teardown),
		cmocka_unit_test_teardown(test_batch, test_teardown),
		cmocka_unit_test_teardown(test_reject_policy, test_teardown),
		cmocka_unit_test_teardown(test_file_size_limit, test_teardown),
		cmocka_unit_test_teardown(test_disk_full, test_teardown),
		cmocka_unit_test_teardown(test_path_is_directory, test_teardown),
		cmocka_unit_test_teardown(test_directory_missing_then_created, test_teardown),
		cmocka_unit_test_teardown(test_rotation, test_teardown),
		cmocka_unit_test_teardown(test_kiosk_requests_rejected, test_teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
