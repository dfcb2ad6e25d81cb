/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/sip2 client against the independent ACS emulator on 127.0.0.1:
 * login, status, checkins, every fault the emulator can inject, AY
 * wrapping, charsets, and TLS against a CA made here with the openssl CLI.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "acs_child.h"
#include "sip2/client.h"
#include "util/util.h"

static struct acs_child acs;

static struct sip2_client_config base_cfg(void)
{
	return (struct sip2_client_config){
		.host = "127.0.0.1", .port = acs.port,
		.login_user = "circd", .login_password = "s3cret",
		.location_code = "drop1", .institution = "main",
		.error_detection = true, .connect_timeout_ms = 2000,
		.request_timeout_ms = 2000, .max_resends = 3,
	};
}

static int setup_acs(void **state)
{
	return acs_start(&acs, NULL) == 0 ? 0 : -1;
}

static int teardown_acs(void **state)
{
	if (getenv("KEEP_ACS_LOG")) {
		_cleanup_free_ char *cmd = xasprintf("cut -c1-160 %s >&2", acs.log);
		if (system(cmd) != 0)
			return -1;
	}
	acs_stop(&acs);
	return 0;
}

static struct sip2_client *connected(struct sip2_client_config cfg)
{
	struct sip2_client *c = NULL;
	assert_int_equal(sip2_client_new(&cfg, &c), 0);
	assert_int_equal(sip2_client_connect(c), 0);
	assert_int_equal(sip2_client_login(c), 0);
	return c;
}

static struct sip2_msg *checkin(const char *item)
{
	struct sip2_msg *m = sip2_msg_new("09");
	sip2_msg_add(m, "AP", "drop1");
	sip2_msg_add(m, "AO", "main");
	sip2_msg_add(m, "AB", item);
	sip2_msg_add(m, "AC", "");
	return m;
}

static struct sip2_msg *item_info(const char *item)
{
	struct sip2_msg *m = sip2_msg_new("17");
	sip2_msg_add(m, "AO", "main");
	sip2_msg_add(m, "AB", item);
	return m;
}

static void test_probe(void **state)
{
	struct sip2_client_config cfg = base_cfg();
	struct sip2_probe_result res;
	assert_int_equal(sip2_probe(&cfg, &res), 0);
	assert_int_equal(res.error, SIP2_ERR_NONE);
	assert_true(res.logged_in);
	assert_true(res.status.online);
	assert_true(res.status.offline_ok);
	assert_int_equal(res.status.timeout_ds, 50);
	assert_int_equal(res.status.retries, 3);
	assert_string_equal(res.status.institution, "main");
	assert_string_equal(res.status.supported, "YYYYYYYYYYYYYYYY");
	assert_string_equal(res.status.protocol_version, "2.00");
	assert_true(res.rtt_usec > 0);

	cfg.login_password = "wrong";
	assert_int_equal(sip2_probe(&cfg, &res), -EACCES);
	assert_int_equal(res.error, SIP2_ERR_LOGIN_REFUSED);
	assert_null(strstr(res.message, "wrong")); /* never the password */

	cfg = base_cfg();
	cfg.port = 1; /* nothing listens there */
	assert_true(sip2_probe(&cfg, &res) < 0);
	assert_int_equal(res.error, SIP2_ERR_CONNECT);

	cfg = base_cfg();
	cfg.host = "no-such-host.invalid";
	assert_true(sip2_probe(&cfg, &res) < 0);
	assert_int_equal(res.error, SIP2_ERR_DNS);

	/* an ACS (or a line) that spoils every checksum */
	cfg = base_cfg();
	acs_faults(&acs, "{\"corrupt_checksum\": -1}");
	assert_int_equal(sip2_probe(&cfg, &res), -EBADMSG);
	assert_int_equal(res.error, SIP2_ERR_CHECKSUM);
	assert_true(res.connected);
	acs_faults(&acs, "{}");

	cfg = base_cfg();
	cfg.charset = "NOT-A-CHARSET";
	assert_int_equal(sip2_probe(&cfg, &res), -EINVAL);
	assert_int_equal(res.error, SIP2_ERR_CONFIG);
}

static void test_checkin_and_sequence(void **state)
{
	struct sip2_client *c = connected(base_cfg());
	struct sip2_msg *req = checkin("1001"), *resp = NULL;
	assert_int_equal(sip2_client_request(c, req, &resp), 0);
	assert_string_equal(resp->id, "10");
	assert_string_equal(sip2_msg_fixed(resp, "ok"), "1");
	assert_string_equal(sip2_msg_get(resp, "CL"), "B1");
	assert_string_equal(sip2_msg_get(resp, "AA"), "p1");
	assert_int_equal(resp->checksum, SIP2_CKSUM_OK);
	assert_non_null(strstr(sip2_client_last_raw(c), "CLB1|"));
	sip2_msg_free(resp);
	/* AY 0-9 wrapping: login was 0, this checkin 1; 11 more -> ... 1, 2 */
	for (int i = 0; i < 11; i++) {
		assert_int_equal(sip2_client_request(c, req, &resp), 0);
		assert_int_equal(resp->seq, (i + 2) % 10);
		sip2_msg_free(resp);
	}
	sip2_msg_free(req);
	char *raw = acs_raw(&acs, "09", 10);
	assert_non_null(strstr(raw, "AY1AZ")); /* the 11th checkin wrapped to 1 */
	free(raw);
	assert_int_equal(acs_count(&acs, "09", "1001"), 12);
	sip2_client_free(c);
}

static void test_faults_resend(void **state)
{
	struct sip2_client_config cfg = base_cfg();
	cfg.request_timeout_ms = 300;
	struct sip2_client *c = connected(cfg);
	struct sip2_acs_status st;
	assert_int_equal(sip2_client_status(c, &st), 0);
	const struct sip2_client_stats *s = sip2_client_stats(c);
	struct sip2_msg *req = checkin("1004"), *resp = NULL;

	int acs_97s = acs_count(&acs, "97", NULL);
	acs_faults(&acs, "{\"corrupt_checksum\": 1}");
	assert_int_equal(sip2_client_request(c, req, &resp), 0);
	assert_int_equal(resp->checksum, SIP2_CKSUM_OK);
	sip2_msg_free(resp);
	/* one bad answer, one 97, the ACS's repeat is good */
	assert_int_equal(s->bad_checksums, 1);
	assert_int_equal(s->acs_resend_requests, 1);
	assert_int_equal(acs_count(&acs, "97", NULL), acs_97s + 1);

	acs_faults(&acs, "{\"garbage\": 1}");
	uint64_t g = s->garbage;
	assert_int_equal(sip2_client_request(c, req, &resp), 0);
	sip2_msg_free(resp);
	assert_int_equal(s->garbage, g + 1);

	acs_faults(&acs, "{\"resend_96\": 2}");
	assert_int_equal(sip2_client_request(c, req, &resp), 0);
	sip2_msg_free(resp);
	assert_int_equal(s->sc_resend_requests, 2);

	/* A slow answer to a query: sent again, and the late answer is taken. */
	acs_faults(&acs, "{\"delay_ms\": 450}");
	uint64_t resends = s->resends;
	struct sip2_msg *info = item_info("1004");
	assert_int_equal(sip2_client_request(c, info, &resp), 0); /* late answer is taken */
	assert_string_equal(resp->id, "18");
	sip2_msg_free(resp);
	assert_true(s->resends > resends);
	assert_true(s->timeouts >= 1);
	acs_faults(&acs, "{}");
	/* the ACS answers the resend too, late: that second 18 (the old AY)
	 * must not be taken for the next checkin's answer (wait until it is
	 * in the socket: a checkin is not resent on a timeout) */
	usleep(500 * 1000);
	g = s->garbage;
	struct sip2_msg *q = checkin("1001");
	assert_int_equal(sip2_client_request(c, q, &resp), 0);
	assert_string_equal(resp->id, "10");
	assert_string_equal(sip2_msg_get(resp, "AB"), "1001");
	assert_int_equal(s->garbage, g + 1);
	sip2_msg_free(resp);
	sip2_msg_free(q);
	sip2_msg_free(info);

	/* A slow answer to a checkin is never answered by posting it again
	 * (the ACS may just be slow): it fails, and the caller checks first. */
	acs_faults(&acs, "{\"delay_ms\": 450}");
	int posts = acs_count(&acs, "09", "1004");
	assert_int_equal(sip2_client_request(c, req, &resp), -ETIMEDOUT);
	assert_int_equal(sip2_client_error(c), SIP2_ERR_TIMEOUT);
	usleep(600 * 1000);
	assert_int_equal(acs_count(&acs, "09", "1004"), posts + 1);
	acs_faults(&acs, "{}");
	sip2_client_free(c);
	c = connected(cfg);

	acs_faults(&acs, "{\"corrupt_checksum\": -1}");
	assert_int_equal(sip2_client_request(c, req, &resp), -EBADMSG);
	assert_int_equal(sip2_client_error(c), SIP2_ERR_CHECKSUM);
	acs_faults(&acs, "{}");
	sip2_client_free(c);

	c = connected(cfg);
	acs_faults(&acs, "{\"hang\": true}");
	assert_int_equal(sip2_client_request(c, req, &resp), -ETIMEDOUT);
	assert_int_equal(sip2_client_error(c), SIP2_ERR_TIMEOUT);
	acs_faults(&acs, "{}");
	sip2_client_free(c);

	c = connected(cfg);
	acs_faults(&acs, "{\"close_mid_response\": 1}");
	assert_int_equal(sip2_client_request(c, req, &resp), -ECONNRESET);
	assert_int_equal(sip2_client_error(c), SIP2_ERR_CLOSED);
	acs_faults(&acs, "{}");
	/* and we can come back */
	assert_int_equal(sip2_client_connect(c), 0);
	assert_int_equal(sip2_client_login(c), 0);
	assert_int_equal(sip2_client_request(c, req, &resp), 0);
	sip2_msg_free(resp);
	sip2_msg_free(req);
	sip2_client_free(c);
}

static void test_refused_connection(void **state)
{
	struct sip2_client_config cfg = base_cfg();
	struct sip2_client *c = NULL;
	assert_int_equal(sip2_client_new(&cfg, &c), 0);
	acs_faults(&acs, "{\"refuse_connections\": true}");
	int r = sip2_client_connect(c);
	if (r == 0) /* the reset may come after connect() returned */
		r = sip2_client_login(c);
	assert_true(r < 0);
	acs_faults(&acs, "{}");
	sip2_client_free(c);
}

static void test_charset_cp850(void **state)
{
	struct acs_child save = acs;
	const char *extra[] = { "--charset", "cp850", NULL };
	assert_int_equal(acs_start(&acs, extra), 0);
	struct sip2_client_config cfg = base_cfg();
	cfg.charset = "CP850";
	struct sip2_client *c = connected(cfg);
	struct sip2_msg *q = sip2_msg_new("17"), *resp = NULL;
	sip2_msg_add(q, "AO", "main");
	sip2_msg_add(q, "AB", "1005");
	assert_int_equal(sip2_client_request(c, q, &resp), 0);
	assert_int_equal(resp->checksum, SIP2_CKSUM_OK);
	assert_string_equal(sip2_msg_get(resp, "AJ"), "c\xc3\xa1liz");
	sip2_msg_free(resp);
	sip2_msg_free(q);
	sip2_client_free(c);
	acs_stop(&acs);
	acs = save;
}

/* ---- TLS ---- */

static char pki[64];

static char *pki_path(const char *f) { return xasprintf("%s/%s", pki, f); }

static int setup_tls(void **state)
{
	snprintf(pki, sizeof(pki), "/tmp/sip2-pki-XXXXXX");
	if (!mkdtemp(pki))
		return -1;
	_cleanup_free_ char *script = srcdir_path("tests/sip2/make-certs.sh");
	_cleanup_free_ char *cmd = xasprintf("sh '%s' '%s'", script, pki);
	if (system(cmd) != 0)
		return -1;
	_cleanup_free_ char *cert = pki_path("server.pem"), *key = pki_path("server.key");
	_cleanup_free_ char *ca = pki_path("ca.pem");
	const char *extra[] = { "--tls-cert", cert, "--tls-key", key, "--tls-client-ca", ca, NULL };
	return acs_start(&acs, extra) == 0 ? 0 : -1;
}

static int teardown_tls(void **state)
{
	acs_stop(&acs);
	_cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", pki);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_tls(void **state)
{
	_cleanup_free_ char *ca = pki_path("ca.pem"), *other = pki_path("other-ca.pem");
	_cleanup_free_ char *cert = pki_path("client.pem"), *key = pki_path("client.key");
	struct sip2_client_config cfg = base_cfg();
	cfg.tls = true;
	cfg.tls_ca_file = ca;
	cfg.tls_verify_hostname = true;
	cfg.tls_cert_file = cert;
	cfg.tls_key_file = key;
	struct sip2_probe_result res;

	/* by address (the certificate has IP:127.0.0.1) and by name */
	assert_int_equal(sip2_probe(&cfg, &res), 0);
	assert_true(res.status.online);
	cfg.tls_server_name = "localhost";
	assert_int_equal(sip2_probe(&cfg, &res), 0);

	/* a wrong CA is refused */
	cfg.tls_ca_file = other;
	assert_true(sip2_probe(&cfg, &res) < 0);
	assert_int_equal(res.error, SIP2_ERR_TLS_VERIFY);
	assert_non_null(strstr(res.message, "certificate"));

	/* a wrong host name is refused, unless verification is off */
	cfg.tls_ca_file = ca;
	cfg.tls_server_name = "wrong.example";
	assert_true(sip2_probe(&cfg, &res) < 0);
	assert_int_equal(res.error, SIP2_ERR_TLS_VERIFY);
	cfg.tls_verify_hostname = false;
	assert_int_equal(sip2_probe(&cfg, &res), 0);
	cfg.tls_verify_hostname = true;
	cfg.tls_server_name = NULL;

	/* the emulator demands a client certificate */
	cfg.tls_cert_file = cfg.tls_key_file = NULL;
	assert_true(sip2_probe(&cfg, &res) < 0);
	assert_true(res.error == SIP2_ERR_TLS || res.error == SIP2_ERR_CLOSED);

	/* a bad CA path is a config error, not a crash */
	cfg.tls_ca_file = "/nonexistent/ca.pem";
	assert_true(sip2_probe(&cfg, &res) < 0);
	assert_int_equal(res.error, SIP2_ERR_CONFIG);
}

int main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_checkin_and_sequence),
		cmocka_unit_test(test_faults_resend),
		cmocka_unit_test(test_refused_connection),
		cmocka_unit_test(test_charset_cp850),
	};
	const struct CMUnitTest tls[] = {
		cmocka_unit_test(test_tls),
	};
	int r = cmocka_run_group_tests_name("plain", plain, setup_acs, teardown_acs);
	r += cmocka_run_group_tests_name("tls", tls, setup_tls, teardown_tls);
	return r;
}
