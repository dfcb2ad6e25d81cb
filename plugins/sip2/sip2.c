/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sip2: the upstream plugin that posts circulation to the ILS over SIP2.
 * This file is the descriptor, the options and create/destroy; the session
 * (connect, login, keepalive, reconnect) is session.c, the per-transaction
 * mapping txn.c, the answer as JSON fields_json.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "sip2-plugin.h"
#include "util/util.h"

static const struct circd_option sip2_options[] = {
	{ "host", CIRCD_OPT_STRING, NULL, CIRCD_OPT_REQUIRED, 0, 0, "ACS (ILS SIP2 server) host" },
	{ "port", CIRCD_OPT_INT, "6001", 0, 1, 65535, "ACS TCP port" },
	{ "tls", CIRCD_OPT_BOOL, "false", 0, 0, 0, "speak TLS (OpenSSL); off for plain TCP or stunnel" },
	{ "tls_ca_file", CIRCD_OPT_STRING, "", 0, 0, 0, "PEM CA bundle to trust (empty: system store)" },
	{ "tls_verify_hostname", CIRCD_OPT_BOOL, "true", 0, 0, 0, "check the certificate names the host" },
	{ "tls_server_name", CIRCD_OPT_STRING, "", 0, 0, 0, "name to verify and send as SNI (empty: host)" },
	{ "tls_cert_file", CIRCD_OPT_STRING, "", 0, 0, 0, "client certificate (PEM), optional" },
	{ "tls_key_file", CIRCD_OPT_STRING, "", 0, 0, 0, "client key (PEM), optional" },
	{ "login_user", CIRCD_OPT_STRING, "", 0, 0, 0, "93 login user id (CN); empty: no login" },
	{ "password_file", CIRCD_OPT_STRING, "", 0, 0, 0, "file holding the 93 password (CO), mode 0400/0600" },
	{ "terminal_password_file", CIRCD_OPT_STRING, "", 0, 0, 0, "file holding the terminal password (AC)" },
	{ "location_code", CIRCD_OPT_STRING, "", 0, 0, 0, "location code: CP in 93, AP in 09" },
	{ "institution", CIRCD_OPT_STRING, "", 0, 0, 0, "institution id (AO)" },
	{ "charset", CIRCD_OPT_STRING, "UTF-8", 0, 0, 0, "wire charset: UTF-8, ISO-8859-1, CP850 ..." },
	{ "error_detection", CIRCD_OPT_BOOL, "true", 0, 0, 0, "send AY/AZ sequence and checksum" },
	{ "utc_dates", CIRCD_OPT_BOOL, "false", 0, 0, 0, "send dates as UTC (\"   Z\") rather than local" },
	{ "connect_timeout_ms", CIRCD_OPT_INT, "10000", 0, 100, 600000, "connect + TLS handshake timeout" },
	{ "request_timeout_ms", CIRCD_OPT_INT, "10000", 0, 100, 600000, "wait for each answer" },
	{ "max_resends", CIRCD_OPT_INT, "3", 0, 0, 10, "resends until the 98's retries allowed is known" },
	{ "keepalive_s", CIRCD_OPT_INT, "300", 0, 0, 86400, "99 status every N s when idle; 0 = never" },
	{ "reconnect_min_ms", CIRCD_OPT_INT, "1000", 0, 10, 3600000, "first reconnect backoff cap" },
	{ "reconnect_max_ms", CIRCD_OPT_INT, "300000", 0, 10, 86400000, "largest reconnect backoff" },
	CIRCD_OPTION_END,
};

/* The password must come from a file nobody else can read (not from the
 * config, which circctl shows and admins paste into tickets). */
static int read_secret_file(struct sip2_plugin *p, const char *key, char **out)
{
	const char *path = p->host->opt_string(p->inst, key);
	*out = NULL;
	if (!path || !*path)
		return 0;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		p->host->log(p->inst, CIRCD_LOG_ERR, "%s %s: %s", key, path, strerror(errno));
		return -errno;
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_mode & 0077) {
		p->host->log(p->inst, CIRCD_LOG_ERR,
			     "%s %s is readable by others (mode %04o): chmod 0400 it", key, path,
			     (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0; /* one line; a trailing newline is not part of it */
	*out = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static const char *opt_or_null(struct sip2_plugin *p, const char *key)
{
	const char *s = p->host->opt_string(p->inst, key);
	return s && *s ? s : NULL;
}

static void sip2_destroy(void *state);

static void heartbeat(void *userdata)
{
	struct sip2_plugin *p = userdata;
	p->host->heartbeat(p->inst);
}

static int sip2_create(struct circd_instance *inst, const struct circd_host_api *host, void **state)
{
	struct sip2_plugin *p = xcalloc(1, sizeof(*p));
	p->inst = inst;
	p->host = host;
	int r = read_secret_file(p, "password_file", &p->password);
	if (r == 0)
		r = read_secret_file(p, "terminal_password_file", &p->terminal_password);
	if (r < 0) {
		sip2_destroy(p);
		return r;
	}
	p->cfg = (struct sip2_client_config){
		.host = host->opt_string(inst, "host"),
		.port = (uint16_t)host->opt_int(inst, "port"),
		.tls = host->opt_bool(inst, "tls"),
		.tls_ca_file = opt_or_null(p, "tls_ca_file"),
		.tls_verify_hostname = host->opt_bool(inst, "tls_verify_hostname"),
		.tls_server_name = opt_or_null(p, "tls_server_name"),
		.tls_cert_file = opt_or_null(p, "tls_cert_file"),
		.tls_key_file = opt_or_null(p, "tls_key_file"),
		.login_user = opt_or_null(p, "login_user"),
		.login_password = p->password,
		.location_code = host->opt_string(inst, "location_code"),
		.institution = host->opt_string(inst, "institution"),
		.terminal_password = p->terminal_password,
		.charset = host->opt_string(inst, "charset"),
		.error_detection = host->opt_bool(inst, "error_detection"),
		.connect_timeout_ms = (int)host->opt_int(inst, "connect_timeout_ms"),
		.request_timeout_ms = (int)host->opt_int(inst, "request_timeout_ms"),
		.max_resends = (int)host->opt_int(inst, "max_resends"),
		.heartbeat = heartbeat,
		.heartbeat_userdata = p,
	};
	if (p->cfg.login_user && !p->password)
		host->log(inst, CIRCD_LOG_WARNING, "login_user set without password_file: "
			  "logging in with an empty password");
	p->utc_dates = host->opt_bool(inst, "utc_dates");
	p->keepalive_usec = (uint64_t)host->opt_int(inst, "keepalive_s") * USEC_PER_SEC;
	p->backoff_min_usec = (uint64_t)host->opt_int(inst, "reconnect_min_ms") * USEC_PER_MSEC;
	p->backoff_max_usec = (uint64_t)host->opt_int(inst, "reconnect_max_ms") * USEC_PER_MSEC;
	p->rng = host->now_monotonic_usec() ^ (uint64_t)(uintptr_t)p;
	r = sip2_client_new(&p->cfg, &p->client);
	if (r < 0) {
		host->log(inst, CIRCD_LOG_ERR, "charset %s is not known to iconv", p->cfg.charset);
		sip2_destroy(p);
		return r;
	}
	*state = p;
	return 0;
}

static void sip2_destroy(void *state)
{
	struct sip2_plugin *p = state;
	if (!p)
		return;
	sip2_client_free(p->client);
	if (p->password)
		explicit_bzero(p->password, strlen(p->password));
	if (p->terminal_password)
		explicit_bzero(p->terminal_password, strlen(p->terminal_password));
	free(p->password);
	free(p->terminal_password);
	free(p);
}

CIRCD_PLUGIN_DEFINE(sip2, VERSION, "SIP2 client to the ILS", CIRCD_KIND_UPSTREAM, sip2_options,
		    sip2_create, sip2_plugin_run, sip2_destroy);
