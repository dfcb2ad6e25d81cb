/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mqtt upstream, loaded from plugins/.libs/mqtt.so through the fake
 * host, without a broker: what create() refuses (options, password files),
 * and the answers while no broker is reachable (NOT_SENT, never handed to
 * libmosquitto; item lookups REJECTED; in the order taken; health OFFLINE
 * with the reason; the password never logged).  The broker stories are
 * tests/mqtt/test_mqtt_*.py.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakehost.h"
#include "util/util.h"

static char tmpdir[] = "/tmp/circd-test-mqtt-XXXXXX";

static int group_setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A 127.0.0.1 port nothing listens on (bound, then closed). */
static int closed_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

static char *write_file(const char *name, const char *text, mode_t mode)
{
	char *p = xasprintf("%s/%s", tmpdir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return p;
}

static struct fakehost *load(void)
{
	struct fakehost *fh = fakehost_new();
	if (fakehost_load_plugin(fh, "mqtt") < 0)
		fail_msg("%s", fakehost_error(fh));
	return fh;
}

/* create() with these options: its result (options refused = -EINVAL). */
static int create_with(const char *const *opts, struct fakehost **out)
{
	struct fakehost *fh = load();
	int r = fakehost_set_options(fh, opts);
	if (r == 0)
		r = fakehost_create(fh);
	if (out)
		*out = fh;
	else
		fakehost_free(fh);
	return r;
}

static void test_options_refused(void **state)
{
	assert_true(create_with((const char *[]){ "site=x", NULL }, NULL) < 0); /* no host */
	/* No site option: the host's site ("Fakehost Library") as a slug. */
	struct fakehost *fh;
	assert_int_equal(create_with((const char *[]){ "host=127.0.0.1", NULL }, &fh), 0);
	fakehost_free(fh);
	assert_true(create_with((const char *[]){ "host=h", "site=x", "qos=0", NULL }, NULL) < 0);
	assert_true(create_with((const char *[]){ "host=h", "site=x", "qos=3", NULL }, NULL) < 0);

	assert_int_equal(create_with((const char *[]){ "host=h", "site=a/b", NULL }, &fh), -EINVAL);
	assert_true(fakehost_log_contains(fh, "one topic level"));
	fakehost_free(fh);
	assert_int_equal(create_with((const char *[]){ "host=h", "site=a+", NULL }, NULL), -EINVAL);
	assert_int_equal(create_with((const char *[]){ "host=h", "site=x", "topic_prefix=a/#", NULL },
				     NULL), -EINVAL);
	assert_int_equal(create_with((const char *[]){ "host=h", "site=x", "tls=true",
						       "tls_cert_file=/c.pem", NULL }, &fh), -EINVAL);
	assert_true(fakehost_log_contains(fh, "go together"));
	fakehost_free(fh);
	assert_int_equal(create_with((const char *[]){ "host=h", "site=x", "status_topic=a/+/s", NULL },
				     NULL), -EINVAL);
	assert_int_equal(create_with((const char *[]){ "host=h", "site=x", NULL }, &fh), 0);
	assert_int_equal(fakehost_option_misuse(fh), 0);
	fakehost_free(fh);
}

static void test_password_file(void **state)
{
	_cleanup_free_ char *open_pw = write_file("open.pw", "hunter2-open\n", 0644);
	_cleanup_free_ char *opt = xasprintf("password_file=%s", open_pw);
	struct fakehost *fh;
	assert_int_equal(create_with((const char *[]){ "host=h", "site=x", "username=u", opt, NULL },
				     &fh), -EPERM);
	assert_true(fakehost_log_contains(fh, "readable by others"));
	assert_false(fakehost_log_contains(fh, "hunter2"));
	fakehost_free(fh);

	_cleanup_free_ char *missing = xasprintf("password_file=%s/none", tmpdir);
	assert_int_equal(create_with((const char *[]){ "host=h", "site=x", "username=u", missing, NULL },
				     NULL), -ENOENT);
}

static void txn(struct fakehost *fh, int64_t id, uint32_t kind)
{
	_cleanup_free_ char *json = xasprintf("{\"id\":%lld,\"kind\":\"checkin\",\"station\":\"returns\"}",
					      (long long)id);
	struct circd_txn t = { .kind = kind, .id = id, .site = "S", .station = "returns",
			       .device = "drop1", .item_id = "BOOK1", .uid = "", .json = json };
	fakehost_txn(fh, &t);
}

static void test_no_broker(void **state)
{
	_cleanup_free_ char *pw = write_file("ok.pw", "hunter2-secret\n", 0600);
	_cleanup_free_ char *pw_opt = xasprintf("password_file=%s", pw);
	_cleanup_free_ char *port = xasprintf("port=%d", closed_port());
	struct fakehost *fh;
	assert_int_equal(create_with((const char *[]){ "host=127.0.0.1", port, "site=x",
						       "username=u", pw_opt, "reconnect_min_ms=50",
						       "reconnect_max_ms=100", NULL }, &fh), 0);
	assert_int_equal(fakehost_start(fh), 0);
	assert_int_equal(fakehost_wait_health(fh, CIRCD_HEALTH_OFFLINE, 3000), 0);

	txn(fh, 1, CIRCD_TXN_CHECKIN);
	txn(fh, -1, CIRCD_TXN_ITEM_INFO);
	txn(fh, -2, CIRCD_TXN_PATRON_INFO);
	txn(fh, 2, CIRCD_TXN_CHECKIN);
	assert_int_equal(fakehost_wait_reports(fh, 4, 3000), 0);
	const struct fakehost_report *r = fakehost_report(fh, 0);
	assert_int_equal(r->txn_id, 1);
	assert_int_equal(r->status, CIRCD_TXN_NOT_SENT);
	assert_string_equal(r->message, "broker not connected");
	r = fakehost_report(fh, 1);
	assert_int_equal(r->status, CIRCD_TXN_REJECTED);
	assert_string_equal(r->message, "MQTT cannot look items up");
	r = fakehost_report(fh, 2);
	assert_int_equal(r->status, CIRCD_TXN_REJECTED);
	assert_string_equal(r->message, "not supported: MQTT is not a library system");
	r = fakehost_report(fh, 3);
	assert_int_equal(r->txn_id, 2);
	assert_int_equal(r->status, CIRCD_TXN_NOT_SENT);
	assert_int_equal(fakehost_report_order_errors(fh), 0);
	assert_true(fakehost_log_contains(fh, "Connection refused"));

	assert_int_equal(fakehost_stop(fh), 0);
	assert_false(fakehost_log_contains(fh, "hunter2"));
	assert_int_equal(fakehost_option_misuse(fh), 0);
	fakehost_free(fh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_refused),
		cmocka_unit_test(test_password_file),
		cmocka_unit_test(test_no_broker),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
