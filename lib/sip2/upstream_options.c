/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sip2/upstream_options.h"
#include "util/util.h"

const struct circd_option sip2_upstream_options[] = {
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
static int read_secret_file(const struct sip2_option_source *src, const char *key, char **out,
			    char *why, size_t why_size)
{
	const char *path = src->get_string(src->userdata, key);
	*out = NULL;
	if (!path || !*path)
		return 0;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int r = -errno;
		snprintf(why, why_size, "%s %s: %s", key, path, strerror(-r));
		return r;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		snprintf(why, why_size, "%s %s: %s", key, path, strerror(-r));
		return r;
	}
	if (st.st_mode & 0077) {
		snprintf(why, why_size, "%s %s is readable by others (mode %04o): chmod 0400 it", key,
			 path, (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		int r = -errno;
		snprintf(why, why_size, "%s %s: %s", key, path, strerror(-r));
		return r;
	}
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0; /* one line; a trailing newline is not part of it */
	*out = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static const char *string_or_null(const struct sip2_option_source *src, const char *key)
{
	const char *s = src->get_string(src->userdata, key);
	return s && *s ? s : NULL;
}

int sip2_upstream_settings_load(struct sip2_upstream_settings *s,
				const struct sip2_option_source *src, char *why, size_t why_size)
{
	*s = (struct sip2_upstream_settings){ 0 };
	int r = read_secret_file(src, "password_file", &s->password, why, why_size);
	if (r == 0)
		r = read_secret_file(src, "terminal_password_file", &s->terminal_password, why,
				     why_size);
	if (r < 0)
		return r;
	void *u = src->userdata;
	s->client = (struct sip2_client_config){
		.host = src->get_string(u, "host"),
		.port = (uint16_t)src->get_int(u, "port"),
		.tls = src->get_bool(u, "tls"),
		.tls_ca_file = string_or_null(src, "tls_ca_file"),
		.tls_verify_hostname = src->get_bool(u, "tls_verify_hostname"),
		.tls_server_name = string_or_null(src, "tls_server_name"),
		.tls_cert_file = string_or_null(src, "tls_cert_file"),
		.tls_key_file = string_or_null(src, "tls_key_file"),
		.login_user = string_or_null(src, "login_user"),
		.login_password = s->password,
		.location_code = src->get_string(u, "location_code"),
		.institution = src->get_string(u, "institution"),
		.terminal_password = s->terminal_password,
		.charset = src->get_string(u, "charset"),
		.error_detection = src->get_bool(u, "error_detection"),
		.connect_timeout_ms = (int)src->get_int(u, "connect_timeout_ms"),
		.request_timeout_ms = (int)src->get_int(u, "request_timeout_ms"),
		.max_resends = (int)src->get_int(u, "max_resends"),
	};
	s->utc_dates = src->get_bool(u, "utc_dates");
	s->keepalive_usec = (uint64_t)src->get_int(u, "keepalive_s") * USEC_PER_SEC;
	s->backoff_min_usec = (uint64_t)src->get_int(u, "reconnect_min_ms") * USEC_PER_MSEC;
	s->backoff_max_usec = (uint64_t)src->get_int(u, "reconnect_max_ms") * USEC_PER_MSEC;
	return 0;
}

static void wipe(char **secret)
{
	if (*secret)
		explicit_bzero(*secret, strlen(*secret));
	free(*secret);
	*secret = NULL;
}

void sip2_upstream_settings_clear(struct sip2_upstream_settings *s)
{
	wipe(&s->password);
	wipe(&s->terminal_password);
	s->client.login_password = s->client.terminal_password = NULL;
}
