/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mqtt: the upstream plugin that publishes every journaled transaction to an
 * MQTT broker (libmosquitto), for a library system that runs many branches
 * and aggregates their circulation centrally.
 *
 * This file is the descriptor, the options and create/destroy; the worker
 * (connection, publishing, acknowledgements, answers) is session.c, the
 * topic and payload payload.c.  README.md says what goes over the wire.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mosquitto.h>

#include "mqtt-plugin.h"
#include "util/util.h"

static const struct circd_option mqtt_options[] = {
	{ "host", CIRCD_OPT_STRING, NULL, CIRCD_OPT_REQUIRED, 0, 0, "MQTT broker host name or address" },
	{ "port", CIRCD_OPT_INT, "1883", 0, 1, 65535, "broker TCP port (8883 is usual for TLS)" },
	{ "site", CIRCD_OPT_STRING, "", 0, 0, 0,
	  "this circd's name in topics and the client id, unique in the fleet (\"central\");"
	  " empty: the config's site, lower-cased, with '-' for anything but letters and digits" },
	{ "client_id", CIRCD_OPT_STRING, "", 0, 0, 0,
	  "MQTT client id; empty: circd-<site>-<upstream name> (keep it stable: persistent session)" },
	{ "username", CIRCD_OPT_STRING, "", 0, 0, 0, "user name; empty: anonymous" },
	{ "password_file", CIRCD_OPT_STRING, "", 0, 0, 0, "file holding the password, mode 0400/0600" },
	{ "tls", CIRCD_OPT_BOOL, "false", 0, 0, 0, "speak TLS, verifying the broker's certificate" },
	{ "tls_ca_file", CIRCD_OPT_STRING, "", 0, 0, 0, "PEM CA bundle to trust (empty: system store)" },
	{ "tls_verify_hostname", CIRCD_OPT_BOOL, "true", 0, 0, 0, "check the certificate names the host" },
	{ "tls_cert_file", CIRCD_OPT_STRING, "", 0, 0, 0, "client certificate (PEM), optional" },
	{ "tls_key_file", CIRCD_OPT_STRING, "", 0, 0, 0, "client key (PEM), with tls_cert_file" },
	{ "topic_prefix", CIRCD_OPT_STRING, "circd", 0, 0, 0, "first topic level: <prefix>/<site>/<station>/<kind>" },
	{ "qos", CIRCD_OPT_INT, "1", 0, 1, 2, "1 (at least once) or 2; 0 would lose transactions" },
	{ "keepalive_s", CIRCD_OPT_INT, "30", 0, 5, 65535, "MQTT keepalive; a dead link is noticed after 1.5x" },
	{ "publish_timeout_ms", CIRCD_OPT_INT, "10000", 0, 100, 3600000,
	  "a publish not acknowledged after this is answered RETRY" },
	{ "connect_timeout_ms", CIRCD_OPT_INT, "10000", 0, 100, 600000, "connect + TLS + CONNACK" },
	{ "status_topic", CIRCD_OPT_STRING, "", 0, 0, 0,
	  "retained online/offline (last will); empty: <prefix>/<site>/status" },
	{ "reconnect_min_ms", CIRCD_OPT_INT, "1000", 0, 10, 3600000, "first reconnect backoff cap" },
	{ "reconnect_max_ms", CIRCD_OPT_INT, "60000", 0, 10, 86400000, "largest reconnect backoff" },
	CIRCD_OPTION_END,
};

/* The password must come from a file nobody else can read (not from the
 * config, which circctl shows and admins paste into tickets). */
static int read_secret_file(struct mqtt_plugin *p, const char *key, char **out)
{
	const char *path = p->host->opt_string(p->inst, key);
	*out = NULL;
	if (!path || !*path)
		return 0;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		int e = errno;
		p->host->log(p->inst, CIRCD_LOG_ERR, "%s %s: %s", key, path, strerror(e));
		return -e;
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

static const char *opt_or_null(struct mqtt_plugin *p, const char *key)
{
	const char *s = p->host->opt_string(p->inst, key);
	return s && *s ? s : NULL;
}

static void mqtt_destroy(void *state);

static int mqtt_create(struct circd_instance *inst, const struct circd_host_api *host, void **state)
{
	struct mqtt_plugin *p = xcalloc(1, sizeof(*p));
	p->inst = inst;
	p->host = host;
	p->broker_host = host->opt_string(inst, "host");
	p->port = (int)host->opt_int(inst, "port");
	p->site = host->opt_string(inst, "site");
	if ((!p->site || !p->site[0]) && host->struct_size > offsetof(struct circd_host_api, site) &&
	    host->site) {
		/* One topic level: no '/', '+', '#' or spaces. */
		const char *s = host->site(inst);
		char *slug = xstrdup(s ? s : "circd");
		for (char *c = slug; *c; c++)
			*c = (char)((*c >= 'A' && *c <= 'Z') ? *c - 'A' + 'a'
				    : ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')) ? *c : '-');
		p->site = p->site_owned = slug;
	}
	p->username = opt_or_null(p, "username");
	p->tls = host->opt_bool(inst, "tls");
	p->tls_ca_file = opt_or_null(p, "tls_ca_file");
	p->tls_verify_hostname = host->opt_bool(inst, "tls_verify_hostname");
	p->tls_cert_file = opt_or_null(p, "tls_cert_file");
	p->tls_key_file = opt_or_null(p, "tls_key_file");
	p->topic_prefix = host->opt_string(inst, "topic_prefix");
	p->qos = (int)host->opt_int(inst, "qos");
	p->keepalive_s = (int)host->opt_int(inst, "keepalive_s");
	p->publish_timeout_usec = (uint64_t)host->opt_int(inst, "publish_timeout_ms") * USEC_PER_MSEC;
	p->connect_timeout_usec = (uint64_t)host->opt_int(inst, "connect_timeout_ms") * USEC_PER_MSEC;
	p->backoff_min_usec = (uint64_t)host->opt_int(inst, "reconnect_min_ms") * USEC_PER_MSEC;
	p->backoff_max_usec = (uint64_t)host->opt_int(inst, "reconnect_max_ms") * USEC_PER_MSEC;
	p->rng = host->now_monotonic_usec() ^ (uint64_t)(uintptr_t)p;
	p->health = CIRCD_HEALTH_STARTING;

	int r = -EINVAL;
	if (!p->broker_host || !*p->broker_host) {
		host->log(inst, CIRCD_LOG_ERR, "host must not be empty");
		goto fail;
	}
	/* The site is a topic level of its own and part of the client id. */
	if (!p->site || !*p->site || strpbrk(p->site, "/+#") || mosquitto_validate_utf8(p->site, (int)strlen(p->site))) {
		host->log(inst, CIRCD_LOG_ERR, "site '%s' must be one topic level: not empty, "
			  "no '/', '+' or '#'", p->site ? p->site : "");
		goto fail;
	}
	if (!p->topic_prefix || !*p->topic_prefix || strpbrk(p->topic_prefix, "+#")) {
		host->log(inst, CIRCD_LOG_ERR, "topic_prefix must not be empty nor hold '+' or '#'");
		goto fail;
	}
	if (!!p->tls_cert_file != !!p->tls_key_file) {
		host->log(inst, CIRCD_LOG_ERR, "tls_cert_file and tls_key_file go together");
		goto fail;
	}
	if ((p->tls_ca_file || p->tls_cert_file) && !p->tls)
		host->log(inst, CIRCD_LOG_WARNING, "tls_* files are set but tls is false: plain MQTT");

	const char *cid = opt_or_null(p, "client_id");
	p->client_id = cid ? xstrdup(cid) : xasprintf("circd-%s-%s", p->site, host->name(inst));
	const char *st = opt_or_null(p, "status_topic");
	p->status_topic = st ? xstrdup(st) : xasprintf("%s/%s/status", p->topic_prefix, p->site);
	if (mosquitto_pub_topic_check(p->status_topic) != MOSQ_ERR_SUCCESS) {
		host->log(inst, CIRCD_LOG_ERR, "status_topic '%s' is not a valid topic", p->status_topic);
		goto fail;
	}

	r = read_secret_file(p, "password_file", &p->password);
	if (r < 0)
		goto fail;
	if (p->password && !p->username)
		host->log(inst, CIRCD_LOG_WARNING, "password_file set without username: not used");

	/* Reference-counted in libmosquitto 2.x; create() runs on the main thread. */
	mosquitto_lib_init();
	p->lib_inited = true;
	*state = p;
	return 0;
fail:
	mqtt_destroy(p);
	return r;
}

static void mqtt_destroy(void *state)
{
	struct mqtt_plugin *p = state;
	if (!p)
		return;
	bool inited = p->lib_inited;
	if (p->mosq)
		mosquitto_destroy(p->mosq);
	if (p->password)
		explicit_bzero(p->password, strlen(p->password));
	free(p->password);
	free(p->client_id);
	free(p->status_topic);
	free(p->site_owned);
	free(p->q);
	free(p);
	if (inited)
		mosquitto_lib_cleanup();
}

CIRCD_PLUGIN_DEFINE(mqtt, VERSION, "publishes transactions to an MQTT broker (fleet aggregation)",
		    CIRCD_KIND_UPSTREAM, mqtt_options, mqtt_create, mqtt_plugin_run, mqtt_destroy);
