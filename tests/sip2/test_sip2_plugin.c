/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sip2 plugin, driven through its descriptor by a fake host, against
 * the ACS emulator.  Each test is a short story at a book drop.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "acs_child.h"
#include "fake_host.h"
#include "util/util.h"

extern const struct circd_plugin circd_plugin_sip2_descriptor;

static struct acs_child acs;
static struct circd_instance host;
static char port_opt[32], pw_opt[160], pw_path[128];

static int story_setup(void **state)
{
	if (acs_start(&acs, NULL) < 0)
		return -1;
	snprintf(port_opt, sizeof(port_opt), "port=%u", acs.port);
	snprintf(pw_path, sizeof(pw_path), "%s/password", acs.dir);
	int fd = open(pw_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "s3cret\n", 7) != 7)
		return -1;
	close(fd);
	snprintf(pw_opt, sizeof(pw_opt), "password_file=%s", pw_path);
	return 0;
}

static int story_teardown(void **state)
{
	if (host.running) /* a failed assertion left the plugin running */
		fh_stop(&host);
	if (getenv("KEEP_ACS_LOG")) {
		_cleanup_free_ char *cmd = xasprintf("cat %s >&2", acs.log);
		if (system(cmd) != 0)
			return -1;
	}
	acs_stop(&acs);
	return 0;
}

/* the options every story shares, then its own */
static void start_plugin(const char *extra1, const char *extra2)
{
	static const char *opts[16];
	size_t n = 0;
	opts[n++] = "host=127.0.0.1";
	opts[n++] = port_opt;
	opts[n++] = "login_user=circd";
	opts[n++] = pw_opt;
	opts[n++] = "institution=main";
	opts[n++] = "location_code=drop1";
	opts[n++] = "request_timeout_ms=400";
	opts[n++] = "reconnect_min_ms=50";
	opts[n++] = "reconnect_max_ms=200";
	if (extra1)
		opts[n++] = extra1;
	if (extra2)
		opts[n++] = extra2;
	opts[n] = NULL;
	assert_int_equal(fh_create(&host, &circd_plugin_sip2_descriptor, opts), 0);
	fh_start(&host);
}

static struct circd_txn checkin(int64_t id, const char *item)
{
	return (struct circd_txn){ .struct_size = sizeof(struct circd_txn),
				   .kind = CIRCD_TXN_CHECKIN, .id = id,
				   .event_time_usec = now_realtime_usec() - 60 * USEC_PER_SEC,
				   .item_id = item, .patron_id = "", .uid = "" };
}

static void assert_has(const char *json, const char *needle)
{
	if (!json || !strstr(json, needle)) {
		fprintf(stderr, "missing %s in %s\n", needle, json ? json : "(null)");
		fail();
	}
}

/* A patron empties a bag into the drop: a plain return, a hold, a
 * transit, and a book the library does not know. */
static void test_returns(void **state)
{
	start_plugin(NULL, NULL);
	struct circd_txn t[] = { checkin(1, "1001"), checkin(2, "1002"), checkin(3, "1003"),
				 checkin(4, "9999") };
	fh_submit(&host, t, 4);
	assert_true(fh_wait_results(&host, 4, 5000));
	struct fh_result *r = host.results;
	assert_int_equal(r[0].id, 1);
	assert_int_equal(r[0].status, CIRCD_TXN_OK);
	assert_has(r[0].fields_json, "\"ok\":true");
	assert_has(r[0].fields_json, "\"sort_bin\":\"B1\"");
	assert_has(r[0].fields_json, "\"resensitize\":\"Y\"");
	assert_has(r[0].fields_json, "\"call_number\":\"863 CAL\"");
	assert_has(r[0].fields_json, "\"raw\":\"101YN");
	assert_int_equal(r[1].status, CIRCD_TXN_OK);
	assert_has(r[1].fields_json, "\"alert\":true");
	assert_has(r[1].fields_json, "\"alert_type\":\"01\"");
	assert_has(r[1].fields_json, "\"hold_patron\":\"p3\"");
	assert_int_equal(r[2].status, CIRCD_TXN_OK);
	assert_has(r[2].fields_json, "\"destination\":\"north\"");
	assert_int_equal(r[3].id, 4);
	assert_int_equal(r[3].status, CIRCD_TXN_REJECTED);
	assert_string_equal(r[3].message, "Item cannot be checked in");
	assert_true(fh_wait_health(&host, CIRCD_HEALTH_OK, 1000));
	/* what the ILS saw: each item once, no-block N, our location and AO */
	assert_int_equal(acs_count(&acs, "09", "1001"), 1);
	char *raw = acs_raw(&acs, "09", 0);
	assert_true(raw[2] == 'N');
	assert_non_null(strstr(raw, "APdrop1|AOmain|AB1001|AC|"));
	free(raw);
	/* a replay goes with no block = Y */
	struct circd_txn rp = checkin(5, "1004");
	rp.replay = true;
	fh_submit(&host, &rp, 1);
	assert_true(fh_wait_results(&host, 5, 5000));
	raw = acs_raw(&acs, "09", 4);
	assert_true(raw[2] == 'Y');
	free(raw);
	assert_int_equal(fh_stop(&host), 0);
}

/* After a crash: a return that may have reached the ILS is checked with
 * 17 first and not posted again when the item is already back. */
static void test_maybe_sent(void **state)
{
	start_plugin(NULL, NULL);
	struct circd_txn t[] = { checkin(1, "1004"), checkin(2, "1001") };
	t[0].maybe_sent = t[1].maybe_sent = true;
	fh_submit(&host, t, 2);
	assert_true(fh_wait_results(&host, 2, 5000));
	assert_int_equal(host.results[0].status, CIRCD_TXN_OK);
	assert_has(host.results[0].fields_json, "\"already_applied\":true");
	assert_has(host.results[0].fields_json, "\"circulation_status\":\"03\"");
	assert_int_equal(host.results[1].status, CIRCD_TXN_OK); /* 1001 was out: posted */
	assert_null(strstr(host.results[1].fields_json, "already_applied"));
	assert_int_equal(acs_count(&acs, "17", "1004"), 1);
	assert_int_equal(acs_count(&acs, "09", "1004"), 0);
	assert_int_equal(acs_count(&acs, "09", "1001"), 1);
	assert_int_equal(fh_stop(&host), 0);
}

/* The ACS drops the line half-way through an answer: that transaction
 * and the rest of the round are RETRY (never REJECTED), nothing after
 * the failure is sent, and the next round goes through after reconnect. */
static void test_connection_loss(void **state)
{
	start_plugin(NULL, NULL);
	assert_true(fh_wait_health(&host, CIRCD_HEALTH_OK, 3000));
	acs_faults(&acs, "{\"close_mid_response\": 1}");
	struct circd_txn t[] = { checkin(1, "1001"), checkin(2, "1003"), checkin(3, "1004") };
	fh_submit(&host, t, 3);
	assert_true(fh_wait_results(&host, 3, 5000));
	/* the one on the wire may have arrived: RETRY; the rest never left: NOT_SENT */
	assert_int_equal(host.results[0].status, CIRCD_TXN_RETRY);
	for (int i = 1; i < 3; i++)
		assert_int_equal(host.results[i].status, CIRCD_TXN_NOT_SENT);
	assert_int_equal(acs_count(&acs, "09", "1003"), 0);
	assert_int_equal(acs_count(&acs, "09", "1004"), 0);
	acs_faults(&acs, "{}");
	/* while reconnecting, what comes is RETRY at once (the forwarder
	 * schedules retries); once up again it re-feeds in order, and the
	 * first may have arrived */
	assert_true(fh_wait_health(&host, CIRCD_HEALTH_OK, 3000));
	t[0].maybe_sent = true;
	fh_submit(&host, t, 3);
	assert_true(fh_wait_results(&host, 6, 5000));
	for (int i = 3; i < 6; i++)
		assert_int_equal(host.results[i].status, CIRCD_TXN_OK);
	assert_has(host.results[3].fields_json, "\"already_applied\":true");
	assert_int_equal(acs_count(&acs, "09", "1001"), 1); /* once, not twice */
	assert_int_equal(acs_count(&acs, "93", NULL), 2);   /* logged in again */
	assert_int_equal(fh_stop(&host), 0);
}

/* Corrupt and garbage answers: resent, counted, health DEGRADED, no crash. */
static void test_bad_answers(void **state)
{
	start_plugin(NULL, NULL);
	assert_true(fh_wait_health(&host, CIRCD_HEALTH_OK, 3000));
	acs_faults(&acs, "{\"corrupt_checksum\": 1, \"garbage\": 1}");
	struct circd_txn t[] = { checkin(1, "1001"), checkin(2, "1003") };
	fh_submit(&host, t, 2);
	assert_true(fh_wait_results(&host, 2, 5000));
	assert_int_equal(host.results[0].status, CIRCD_TXN_OK);
	assert_int_equal(host.results[1].status, CIRCD_TXN_OK);
	/* DEGRADED while answers need resends, OK again after a clean one */
	assert_true(host.health_seen & (1u << CIRCD_HEALTH_DEGRADED));
	assert_int_equal(host.health, CIRCD_HEALTH_OK);
	assert_true(acs_count(&acs, "97", NULL) >= 1);
	assert_int_equal(acs_count(&acs, "09", "1001"), 1);
	/* a permanently corrupting line: RETRY, reconnect, never REJECTED */
	acs_faults(&acs, "{\"corrupt_checksum\": -1}");
	struct circd_txn t2 = checkin(3, "1004");
	fh_submit(&host, &t2, 1);
	assert_true(fh_wait_results(&host, 3, 8000));
	assert_int_equal(host.results[2].status, CIRCD_TXN_RETRY);
	assert_has(host.results[2].message, "checksum");
	acs_faults(&acs, "{}");
	assert_int_equal(fh_stop(&host), 0);
}

/* A wrong password: a clear error and backoff, not a tight loop; what is
 * submitted meanwhile is RETRY. */
static void test_login_refused(void **state)
{
	acs_faults(&acs, "{\"refuse_login\": true}");
	start_plugin("reconnect_min_ms=100", "reconnect_max_ms=400");
	assert_true(fh_wait_health(&host, CIRCD_HEALTH_OFFLINE, 3000));
	usleep(1000 * 1000);
	int logins = acs_count(&acs, "93", NULL);
	assert_in_range(logins, 2, 40); /* a tight loop makes thousands */
	pthread_mutex_lock(&host.lock);
	assert_non_null(strstr(host.health_reason, "login-refused"));
	pthread_mutex_unlock(&host.lock);
	struct circd_txn t = checkin(1, "1001");
	fh_submit(&host, &t, 1);
	assert_true(fh_wait_results(&host, 1, 3000));
	assert_int_equal(host.results[0].status, CIRCD_TXN_NOT_SENT); /* never left: not connected */
	acs_faults(&acs, "{}");
	assert_true(fh_wait_health(&host, CIRCD_HEALTH_OK, 3000));
	assert_int_equal(fh_stop(&host), 0);
}

/* 99 keepalives while idle; an ACS that says it is offline is DEGRADED. */
static void test_keepalive_and_offline(void **state)
{
	start_plugin("keepalive_s=1", NULL);
	assert_true(fh_wait_health(&host, CIRCD_HEALTH_OK, 3000));
	acs_faults(&acs, "{\"offline\": true}");
	assert_true(fh_wait_health(&host, CIRCD_HEALTH_DEGRADED, 3000));
	assert_true(acs_count(&acs, "99", NULL) >= 2);
	/* nothing is posted to an ACS that says it is offline: NOT_SENT */
	struct circd_txn t = checkin(1, "1001");
	fh_submit(&host, &t, 1);
	assert_true(fh_wait_results(&host, 1, 3000));
	assert_int_equal(host.results[0].status, CIRCD_TXN_NOT_SENT);
	assert_int_equal(acs_count(&acs, "09", NULL), 0);
	acs_faults(&acs, "{}");
	assert_true(fh_wait_health(&host, CIRCD_HEALTH_OK, 3000));
	assert_int_equal(fh_stop(&host), 0);
}

static struct circd_txn charge(int64_t id, uint32_t kind, const char *patron, const char *item)
{
	struct circd_txn t = checkin(id, item);
	t.kind = kind;
	t.patron_id = patron;
	return t;
}

/* At the self-check: loans, a renewal, a blocked patron, and what is not
 * circulation (gate alarms get a 17 to tell true from false alarms). */
static void test_selfcheck_and_gate(void **state)
{
	start_plugin(NULL, NULL);
	struct circd_txn t[] = {
		charge(1, CIRCD_TXN_CHECKOUT, "p1", "1004"),
		charge(2, CIRCD_TXN_RENEW, "p1", "1004"),
		charge(3, CIRCD_TXN_CHECKOUT, "p3", "1005"),
		charge(4, CIRCD_TXN_ALARM, "", "1004"),
		charge(5, CIRCD_TXN_ALARM, "", "1005"),
		charge(6, CIRCD_TXN_COUNT, "", ""),
		charge(7, CIRCD_TXN_CHECKOUT, "", "1005"),
		charge(8, CIRCD_TXN_CHECKIN, "", ""),
		charge(9, CIRCD_TXN_CHECKIN, "", "bad|id"),
	};
	fh_submit(&host, t, ARRAY_SIZE(t));
	assert_true(fh_wait_results(&host, ARRAY_SIZE(t), 5000));
	struct fh_result *r = host.results;
	assert_int_equal(r[0].status, CIRCD_TXN_OK);
	assert_has(r[0].fields_json, "\"desensitize\":\"Y\"");
	assert_has(r[0].fields_json, "\"due_date\":\"");
	assert_int_equal(r[1].status, CIRCD_TXN_OK);
	assert_has(r[1].fields_json, "\"message\":\"30\"");
	assert_int_equal(r[2].status, CIRCD_TXN_REJECTED);
	assert_string_equal(r[2].message, "Patron blocked");
	assert_int_equal(r[3].status, CIRCD_TXN_OK);
	assert_has(r[3].fields_json, "\"false_alarm\":true");
	assert_has(r[4].fields_json, "\"false_alarm\":false");
	assert_int_equal(r[5].status, CIRCD_TXN_OK);
	assert_has(r[5].fields_json, "\"skipped\":true");
	assert_int_equal(r[6].status, CIRCD_TXN_REJECTED); /* no patron */
	assert_int_equal(r[7].status, CIRCD_TXN_REJECTED); /* no item id */
	assert_int_equal(r[8].status, CIRCD_TXN_REJECTED); /* '|' cannot be sent */
	assert_has(r[8].message, "cannot encode");
	assert_int_equal(acs_count(&acs, "11", NULL), 2);
	assert_int_equal(acs_count(&acs, "29", NULL), 1);
	assert_int_equal(acs_count(&acs, "09", NULL), 0);
	assert_int_equal(fh_stop(&host), 0);
}

/* The ids of every message the emulator received, in order: "93 99 09". */
static char *acs_ids(void)
{
	FILE *f = fopen(acs.log, "r");
	assert_non_null(f);
	char line[8192], *ids = xstrdup("");
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "\"id\": \"");
		if (!p)
			continue;
		char *more = xasprintf("%s%s%.2s", ids, *ids ? " " : "", p + 7);
		free(ids);
		ids = more;
	}
	fclose(f);
	return ids;
}

static struct circd_txn lookup(int64_t id, const char *item)
{
	struct circd_txn t = checkin(id, item);
	t.kind = CIRCD_TXN_ITEM_INFO;
	return t;
}

/* Staff ask about items (`circctl item --refresh`) while the drop keeps
 * returning books: each lookup is one 17, never a post, and is answered
 * in the order taken, between the returns it came with. */
static void test_item_info(void **state)
{
	start_plugin(NULL, NULL);
	struct circd_txn t[] = { checkin(1, "1001"), lookup(-1, "1001"), lookup(-2, "1002"),
				 checkin(2, "1004"), lookup(-3, "9999"), lookup(-4, "") };
	fh_submit(&host, t, ARRAY_SIZE(t));
	assert_true(fh_wait_results(&host, ARRAY_SIZE(t), 5000));
	struct fh_result *r = host.results;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		assert_int_equal(r[i].id, t[i].id);
	assert_int_equal(r[0].status, CIRCD_TXN_OK);
	/* 1001 was just returned: the lookup sees it waiting to be reshelved */
	assert_int_equal(r[1].status, CIRCD_TXN_OK);
	assert_null(r[1].message);
	assert_has(r[1].fields_json, "\"message\":\"18\"");
	assert_has(r[1].fields_json, "\"circulation_status\":\"09\"");
	assert_has(r[1].fields_json, "\"security_marker\":\"00\"");
	assert_has(r[1].fields_json, "\"title\":\"Caliz de plata\"");
	assert_has(r[1].fields_json, "\"permanent_location\":\"main\"");
	assert_has(r[1].fields_json, "\"item_id\":\"1001\"");
	/* 1002 is still out: charged, with its due date */
	assert_int_equal(r[2].status, CIRCD_TXN_OK);
	assert_has(r[2].fields_json, "\"circulation_status\":\"04\"");
	assert_has(r[2].fields_json, "\"due_date\":\"");
	assert_int_equal(r[3].status, CIRCD_TXN_OK);
	/* an unknown barcode (01, empty title) and no barcode at all */
	assert_int_equal(r[4].status, CIRCD_TXN_REJECTED);
	assert_has(r[4].message, "does not know item 9999");
	assert_int_equal(r[5].status, CIRCD_TXN_REJECTED);
	assert_has(r[5].message, "no item id");
	/* what the ILS saw: 09 17 17 09 17, in that order; nothing posted for
	 * a lookup, nothing sent for the empty one */
	_cleanup_free_ char *ids = acs_ids();
	assert_string_equal(ids, "93 99 09 17 17 09 17");
	assert_int_equal(acs_count(&acs, "09", "1002"), 0);
	assert_int_equal(acs_count(&acs, "11", NULL), 0);
	_cleanup_free_ char *raw17 = acs_raw(&acs, "17", 0);
	assert_non_null(strstr(raw17, "AOmain|AB1001|AC|"));

	/* transport trouble is RETRY, like any transaction; the rest of the
	 * round never left (NOT_SENT) and the forwarder re-feeds it in order */
	acs_faults(&acs, "{\"close_mid_response\": 1}");
	struct circd_txn t2[] = { lookup(-5, "1004"), checkin(3, "1005") };
	fh_submit(&host, t2, 2);
	assert_true(fh_wait_results(&host, ARRAY_SIZE(t) + 2, 5000));
	assert_int_equal(r[6].status, CIRCD_TXN_RETRY);
	assert_int_equal(r[7].status, CIRCD_TXN_NOT_SENT);
	assert_int_equal(acs_count(&acs, "09", "1005"), 0);
	acs_faults(&acs, "{}");
	assert_int_equal(fh_stop(&host), 0);
}

/* An ACS whose 98 says it has no item information: a lookup is REJECTED
 * with the reason, and no 17 goes out. */
static void test_item_info_unsupported(void **state)
{
	_cleanup_free_ char *fixture = xasprintf("%s/no17.json", acs.dir);
	FILE *f = fopen(fixture, "w");
	assert_non_null(f);
	fputs("{\"institution\": \"main\", \"login\": {\"user\": \"circd\", "
	      "\"password\": \"s3cret\"}, \"supported\": \"YYYYYYYYYYNYYYYY\", "
	      "\"items\": {\"1004\": {\"title\": \"Children\", \"status\": \"03\"}}}\n", f);
	assert_int_equal(fclose(f), 0);
	struct acs_child plain = acs;
	const char *extra[] = { "--fixture", fixture, NULL };
	assert_int_equal(acs_start(&acs, extra), 0);
	snprintf(port_opt, sizeof(port_opt), "port=%u", acs.port);
	start_plugin(NULL, NULL);
	struct circd_txn t[] = { lookup(-1, "1004"), checkin(1, "1004") };
	fh_submit(&host, t, 2);
	assert_true(fh_wait_results(&host, 2, 5000));
	assert_int_equal(host.results[0].status, CIRCD_TXN_REJECTED);
	assert_has(host.results[0].message, "does not offer item information");
	assert_int_equal(host.results[1].status, CIRCD_TXN_OK);
	assert_int_equal(acs_count(&acs, "17", NULL), 0);
	assert_int_equal(fh_stop(&host), 0);
	acs_stop(&acs);
	acs = plain; /* teardown stops the first one */
}

/* TLS to the ACS with a CA, a client certificate and host name checks. */
static void test_tls(void **state)
{
	_cleanup_free_ char *script = srcdir_path("tests/sip2/make-certs.sh");
	_cleanup_free_ char *cmd = xasprintf("sh '%s' '%s'", script, acs.dir);
	assert_int_equal(system(cmd), 0);
	_cleanup_free_ char *cert = xasprintf("%s/server.pem", acs.dir);
	_cleanup_free_ char *key = xasprintf("%s/server.key", acs.dir);
	_cleanup_free_ char *ca = xasprintf("%s/ca.pem", acs.dir);
	/* a second emulator, speaking TLS, in the same directory */
	struct acs_child plain = acs;
	const char *extra[] = { "--tls-cert", cert, "--tls-key", key, "--tls-client-ca", ca, NULL };
	assert_int_equal(acs_start(&acs, extra), 0);
	snprintf(port_opt, sizeof(port_opt), "port=%u", acs.port);
	char ca_opt[160], cert_opt[160], key_opt[160];
	snprintf(ca_opt, sizeof(ca_opt), "tls_ca_file=%s/ca.pem", plain.dir);
	snprintf(cert_opt, sizeof(cert_opt), "tls_cert_file=%s/client.pem", plain.dir);
	snprintf(key_opt, sizeof(key_opt), "tls_key_file=%s/client.key", plain.dir);
	static const char *opts[16];
	const char *base[] = { "host=localhost", port_opt, "login_user=circd", pw_opt,
			       "institution=main", "tls=true", ca_opt, cert_opt, key_opt, NULL };
	memcpy(opts, base, sizeof(base));
	assert_int_equal(fh_create(&host, &circd_plugin_sip2_descriptor, opts), 0);
	fh_start(&host);
	struct circd_txn t = checkin(1, "1001");
	fh_submit(&host, &t, 1);
	assert_true(fh_wait_results(&host, 1, 5000));
	assert_int_equal(host.results[0].status, CIRCD_TXN_OK);
	assert_int_equal(fh_stop(&host), 0);

	/* the same ACS under a name its certificate does not carry */
	opts[9] = "tls_server_name=ils.example.org";
	opts[10] = "reconnect_min_ms=1000";
	opts[11] = NULL;
	assert_int_equal(fh_create(&host, &circd_plugin_sip2_descriptor, opts), 0);
	fh_start(&host);
	assert_true(fh_wait_health(&host, CIRCD_HEALTH_OFFLINE, 3000));
	pthread_mutex_lock(&host.lock);
	assert_non_null(strstr(host.health_reason, "tls-verify"));
	pthread_mutex_unlock(&host.lock);
	assert_int_equal(fh_stop(&host), 0);
	acs_stop(&acs);
	acs = plain; /* teardown stops the first one */
}

/* The password file must be private, and nothing else fails create(). */
static void test_password_file_mode(void **state)
{
	chmod(pw_path, 0644);
	static const char *opts[4];
	opts[0] = "host=127.0.0.1";
	opts[1] = pw_opt;
	opts[2] = NULL;
	assert_int_equal(fh_create(&host, &circd_plugin_sip2_descriptor, opts), -EPERM);
	chmod(pw_path, 0600);
	opts[1] = "charset=NO-SUCH";
	assert_int_equal(fh_create(&host, &circd_plugin_sip2_descriptor, opts), -EINVAL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, story_setup, story_teardown)
	const struct CMUnitTest tests[] = {
		T(test_returns),
		T(test_maybe_sent),
		T(test_connection_loss),
		T(test_bad_answers),
		T(test_login_refused),
		T(test_keepalive_and_offline),
		T(test_selfcheck_and_gate),
		T(test_item_info),
		T(test_item_info_unsupported),
		T(test_tls),
		T(test_password_file_mode),
	};
	if (getenv("ONLY"))
		cmocka_set_test_filter(getenv("ONLY"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
