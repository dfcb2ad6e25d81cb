/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The mqtt worker thread: keep one MQTT session (clean session off, so the
 * broker keeps it across reconnects) and publish the transactions the
 * forwarder hands over, answering each only once the broker has it.
 *
 *   DOWN --connect_async--> CONNECTING --CONNACK 0--> UP
 *     ^                        |                        |
 *     +---- full-jitter backoff <-- refused, timeout, connection lost
 *
 * libmosquitto is driven from this thread alone (loop_read / loop_write /
 * loop_misc after host->wait() on its socket), so its callbacks run here
 * and nothing needs a lock.
 *
 * What an answer means:
 *  - OK: the broker acknowledged the publish (PUBACK for QoS 1, PUBCOMP
 *    for QoS 2).  Until then the message sits in libmosquitto, which sends
 *    it again after a reconnect (same session, DUP set).
 *  - NOT_SENT: never handed to libmosquitto (not connected, or an earlier
 *    one of the round failed and order must be kept).
 *  - RETRY: handed over but not acknowledged within publish_timeout_ms.
 *    The client is then thrown away with everything it still holds, so the
 *    forwarder's retry is the only copy that goes out again.
 *  - REJECTED: item-info lookups (MQTT cannot answer them), and what the
 *    broker could never take (payload too large, a broken transaction).
 * Answers go back in the order the transactions were taken.
 *
 * Health: OK while connected; OFFLINE with the reason while not.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <mosquitto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "mqtt-plugin.h"
#include "util/util.h"

/* QoS 1/2 messages libmosquitto keeps on the wire at once; more wait in
 * its queue (MQTT 3.1.1 has no receive maximum to negotiate this). */
#define MQTT_MAX_INFLIGHT 100
/* How long a clean stop waits for acknowledgements in flight and for the
 * retained "offline" to be taken. */
#define MQTT_STOP_LINGER_USEC (1000 * USEC_PER_MSEC)
/* loop_misc (keepalive) runs at least this often while a socket is open. */
#define MQTT_MISC_INTERVAL_MS 1000

static void set_health(struct mqtt_plugin *p, enum circd_health h, const char *reason)
{
	reason = reason ? reason : "";
	if (h == p->health && strcmp(reason, p->health_reason) == 0)
		return;
	p->health = h;
	snprintf(p->health_reason, sizeof(p->health_reason), "%s", reason);
	p->host->set_health(p->inst, h, *reason ? reason : NULL);
}

/* ---- the queue of taken transactions ---- */

static struct mqtt_entry *entry_at(struct mqtt_plugin *p, size_t i)
{
	return &p->q[p->q_head + i];
}

static struct mqtt_entry *queue_push(struct mqtt_plugin *p)
{
	if (p->q_head + p->q_len == p->q_cap) {
		if (p->q_head > 0) {
			memmove(p->q, p->q + p->q_head, p->q_len * sizeof(*p->q));
			p->q_head = 0;
		}
		if (p->q_len == p->q_cap) {
			p->q_cap = p->q_cap ? 2 * p->q_cap : 64;
			p->q = xrealloc(p->q, p->q_cap * sizeof(*p->q));
		}
	}
	struct mqtt_entry *e = &p->q[p->q_head + p->q_len++];
	*e = (struct mqtt_entry){ .txn = { .struct_size = sizeof(struct circd_txn) } };
	return e;
}

/* Answer every finished transaction at the head, in order. */
static void report_ready(struct mqtt_plugin *p)
{
	while (p->q_len > 0) {
		struct mqtt_entry *e = entry_at(p, 0);
		struct circd_txn_result res = { .struct_size = sizeof(res), .message = e->message };
		switch (e->state) {
		case MQTT_ENTRY_PUBLISHED: return;
		case MQTT_ENTRY_ACKED: res.status = CIRCD_TXN_OK; break;
		case MQTT_ENTRY_NOT_SENT: res.status = CIRCD_TXN_NOT_SENT; break;
		case MQTT_ENTRY_RETRY: res.status = CIRCD_TXN_RETRY; break;
		case MQTT_ENTRY_REJECTED: res.status = CIRCD_TXN_REJECTED; break;
		}
		p->host->report(p->inst, &e->txn, &res);
		p->q_head++;
		p->q_len--;
	}
	p->q_head = 0;
	p->poisoned = false; /* a new round: the forwarder has had every answer */
}

/* ---- connection state ---- */

static const char *rc_reason(struct mqtt_plugin *p, int rc, int saved_errno)
{
	switch (rc) {
	case MOSQ_ERR_ERRNO:
		return strerror(saved_errno);
	case MOSQ_ERR_TLS:
		return *p->last_tls_error ? p->last_tls_error : "TLS error";
	case MOSQ_ERR_CONN_LOST:
		return "connection lost";
	case MOSQ_ERR_KEEPALIVE:
		return "keepalive timeout: the broker stopped answering";
	default:
		return mosquitto_strerror(rc);
	}
}

static void link_down(struct mqtt_plugin *p, const char *why)
{
	bool was_up = p->link == MQTT_UP;
	p->link = MQTT_DOWN;
	uint64_t delay = backoff_full_jitter_usec(p->backoff_min_usec, p->backoff_max_usec,
						  p->connect_failures, &p->rng);
	p->connect_failures++;
	p->next_connect = p->host->now_monotonic_usec() + delay;
	char reason[300];
	snprintf(reason, sizeof(reason), "%s", why); /* why may live in p->health_reason */
	/* the first failure loudly; repeats of a known outage quietly */
	p->host->log(p->inst, was_up || p->connect_failures == 1 ? CIRCD_LOG_ERR : CIRCD_LOG_INFO,
		     "broker %s:%d: %s; reconnecting in %llu ms", p->broker_host, p->port, reason,
		     (unsigned long long)(delay / USEC_PER_MSEC));
	set_health(p, CIRCD_HEALTH_OFFLINE, reason);
}

/* Close an open connection ourselves (refused, timed out). */
static void drop_connection(struct mqtt_plugin *p, const char *why)
{
	link_down(p, why);
	if (p->mosq && mosquitto_socket(p->mosq) >= 0)
		mosquitto_disconnect(p->mosq); /* on_disconnect sees DOWN: nothing more */
}

/* libmosquitto says what went wrong only in its log ("OpenSSL Error[0]:
 * error:0A000086:SSL routines::certificate verify failed"): keep the last
 * error for the health reason, with the verification's own words while the
 * TLS session still exists. */
static void on_log(struct mosquitto *m, void *obj, int level, const char *str)
{
	struct mqtt_plugin *p = obj;
	if (level & MOSQ_LOG_ERR) {
		p->host->log(p->inst, CIRCD_LOG_DEBUG, "libmosquitto: %s", str);
		const char *what = strstr(str, "::");
		what = what ? what + 2 : str;
		SSL *ssl = mosquitto_ssl_get(m);
		long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
		if (strstr(str, "host name verification failed")) {
			/* its own check (tls_verify_hostname), before OpenSSL's error */
			snprintf(p->last_tls_error, sizeof(p->last_tls_error),
				 "tls-verify: the broker's certificate does not name %s", p->broker_host);
			p->tls_hostname_failed = true;
		} else if (p->tls_hostname_failed) {
			/* keep the clearer reason */
		} else if (strstr(str, "certificate verify failed") && v != X509_V_OK)
			snprintf(p->last_tls_error, sizeof(p->last_tls_error), "tls-verify: %s: %s", what,
				 X509_verify_cert_error_string(v));
		else if (strstr(str, "OpenSSL"))
			snprintf(p->last_tls_error, sizeof(p->last_tls_error), "tls: %s", what);
		else
			snprintf(p->last_tls_error, sizeof(p->last_tls_error), "%s", str);
	} else if (level & MOSQ_LOG_WARNING) {
		p->host->log(p->inst, CIRCD_LOG_DEBUG, "libmosquitto: %s", str);
	}
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags)
{
	struct mqtt_plugin *p = obj;
	if (rc != 0) {
		p->refused = true;
		p->connack_rc = rc;
		return;
	}
	p->link = MQTT_UP;
	p->connect_failures = 0;
	p->host->log(p->inst, CIRCD_LOG_NOTICE, "connected to %s:%d as %s (%s session)%s",
		     p->broker_host, p->port, p->client_id, flags & 1 ? "resumed" : "new",
		     p->q_len ? ", re-sending what was not acknowledged" : "");
	/* MQTT 3.1.1 3.1.2.5: the will ("offline", retained) replaces this
	 * when the connection ends without a DISCONNECT. */
	p->status_acked = false;
	if (mosquitto_publish(m, &p->status_mid, p->status_topic, 6, "online", p->qos, true) !=
	    MOSQ_ERR_SUCCESS)
		p->status_mid = 0;
	set_health(p, CIRCD_HEALTH_OK, NULL);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
	struct mqtt_plugin *p = obj;
	int e = errno;
	if (p->link == MQTT_DOWN)
		return;
	link_down(p, rc == 0 ? "disconnected" : rc_reason(p, rc, e));
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
	struct mqtt_plugin *p = obj;
	if (p->status_mid && mid == p->status_mid) {
		p->status_acked = true;
		p->status_mid = 0;
		return;
	}
	/* Acknowledgements come in publish order on one connection: the match
	 * is near the head. */
	for (size_t i = 0; i < p->q_len; i++) {
		struct mqtt_entry *e = entry_at(p, i);
		if (e->state == MQTT_ENTRY_PUBLISHED && e->mid == mid) {
			e->state = MQTT_ENTRY_ACKED;
			p->n_acked++;
			return;
		}
	}
}

static int client_new(struct mqtt_plugin *p, const char **why)
{
	struct mosquitto *m = mosquitto_new(p->client_id, false, p);
	if (!m) {
		*why = strerror(errno);
		return -ENOMEM;
	}
	int rc = mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_max_inflight_messages_set(m, MQTT_MAX_INFLIGHT);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_will_set(m, p->status_topic, 7, "offline", p->qos, true);
	if (rc == MOSQ_ERR_SUCCESS && p->username)
		rc = mosquitto_username_pw_set(m, p->username, p->password);
	mosquitto_log_callback_set(m, on_log);
	if (rc == MOSQ_ERR_SUCCESS && p->tls) {
		if (!p->tls_ca_file)
			rc = mosquitto_int_option(m, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_tls_set(m, p->tls_ca_file, NULL, p->tls_cert_file,
					       p->tls_key_file, NULL);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_tls_opts_set(m, 1 /* SSL_VERIFY_PEER */, NULL, NULL);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_tls_insecure_set(m, !p->tls_verify_hostname);
		if (rc != MOSQ_ERR_SUCCESS) {
			*why = *p->last_tls_error ? p->last_tls_error : "TLS setup failed (CA, certificate or key file)";
			mosquitto_destroy(m);
			return -EINVAL;
		}
	}
	if (rc != MOSQ_ERR_SUCCESS) {
		*why = mosquitto_strerror(rc);
		mosquitto_destroy(m);
		return -EINVAL;
	}
	mosquitto_connect_with_flags_callback_set(m, on_connect);
	mosquitto_disconnect_callback_set(m, on_disconnect);
	mosquitto_publish_callback_set(m, on_publish);
	p->mosq = m;
	return 0;
}

/* Throw the client away with whatever it still holds (its queue of
 * unacknowledged publishes): the forwarder re-sends those itself. */
static void client_reset(struct mqtt_plugin *p)
{
	if (p->mosq)
		mosquitto_destroy(p->mosq);
	p->mosq = NULL;
	p->status_mid = 0;
}

static void connect_now(struct mqtt_plugin *p)
{
	const char *why = NULL;
	p->last_tls_error[0] = 0;
	p->tls_hostname_failed = false;
	p->refused = false;
	if (!p->mosq && client_new(p, &why) < 0) {
		link_down(p, why);
		return;
	}
	/* libmosquitto 2.0 initialises its TLS globals (net__init_tls: a UI
	 * method, an ex_data index) lazily in the first TLS connect, unlocked:
	 * two TLS upstreams connecting at once would race (and leak). */
	static pthread_mutex_t tls_connect_lock = PTHREAD_MUTEX_INITIALIZER;
	if (p->tls)
		pthread_mutex_lock(&tls_connect_lock);
	errno = 0;
	int rc = mosquitto_connect_async(p->mosq, p->broker_host, p->port, p->keepalive_s);
	int e = errno;
	if (p->tls)
		pthread_mutex_unlock(&tls_connect_lock);
	if (rc != MOSQ_ERR_SUCCESS) {
		link_down(p, rc == MOSQ_ERR_EAI ? "cannot resolve the broker's name" : rc_reason(p, rc, e));
		return;
	}
	p->link = MQTT_CONNECTING;
	p->connect_started = p->host->now_monotonic_usec();
}

/* ---- publishing ---- */

static void publish_one(struct mqtt_plugin *p, struct mqtt_entry *e)
{
	const char *why;
	_cleanup_free_ char *payload = mqtt_payload(&e->txn, p->site, &why);
	if (!payload) {
		e->state = MQTT_ENTRY_REJECTED;
		e->message = why;
		return;
	}
	_cleanup_free_ char *topic = mqtt_topic(p->topic_prefix, p->site, e->txn.station,
						mqtt_kind_name(e->txn.kind));
	int rc = mosquitto_publish(p->mosq, &e->mid, topic, (int)strlen(payload), payload, p->qos,
				   false);
	switch (rc) {
	case MOSQ_ERR_PAYLOAD_SIZE:
	case MOSQ_ERR_OVERSIZE_PACKET:
	case MOSQ_ERR_MALFORMED_UTF8:
	case MOSQ_ERR_INVAL:
		/* refused before it was queued, and always will be */
		e->state = MQTT_ENTRY_REJECTED;
		e->message = mosquitto_strerror(rc);
		break;
	case MOSQ_ERR_NOMEM:
	case MOSQ_ERR_QOS_NOT_SUPPORTED:
		/* refused before it was queued: it never left us */
		e->state = MQTT_ENTRY_NOT_SENT;
		e->message = mosquitto_strerror(rc);
		p->poisoned = true;
		break;
	default:
		/* Queued (QoS > 0 messages are queued before the first write; a
		 * failed write only means the connection is going, and drive()
		 * will see that): libmosquitto has it now. */
		e->state = MQTT_ENTRY_PUBLISHED;
		e->deadline = p->host->now_monotonic_usec() + p->publish_timeout_usec;
		p->n_published++;
		break;
	}
}

/* Take every queued transaction: publish it, or decide its answer now. */
static void take_round(struct mqtt_plugin *p)
{
	for (;;) {
		struct mqtt_entry *e = queue_push(p);
		if (p->host->take_txn(p->inst, &e->txn) != 1) {
			p->q_len--;
			return;
		}
		if (e->txn.kind == CIRCD_TXN_ITEM_INFO) {
			e->state = MQTT_ENTRY_REJECTED;
			e->message = "MQTT cannot look items up";
		} else if (e->txn.kind == CIRCD_TXN_PATRON_INFO ||
			   e->txn.kind == CIRCD_TXN_END_SESSION) {
			/* a kiosk's requests: never published (a PIN may ride along) */
			e->state = MQTT_ENTRY_REJECTED;
			e->message = "not supported: MQTT is not a library system";
		} else if (p->poisoned || p->link != MQTT_UP) {
			/* Order: once one of a round is not sent, none after it is. */
			e->state = MQTT_ENTRY_NOT_SENT;
			e->message = p->link != MQTT_UP ? "broker not connected"
							: "an earlier transaction was not sent";
			p->poisoned = true;
		} else {
			publish_one(p, e);
		}
	}
}

/* A publish the broker has not acknowledged in time: everything still in
 * flight is answered RETRY and the connection dropped.
 *
 * With QoS 1 the client is thrown away with the copies it still holds, so
 * the forwarder's retry is the only one that goes out again (the broker
 * keeps no state for QoS 1 it received).  With QoS 2 it is kept: the
 * broker's session remembers the packet ids of QoS 2 messages it has not
 * seen PUBREL for, and a fresh client would start its ids at 1 again, so a
 * new message could be taken for an old one and dropped.  The old copies
 * then go out again too (duplicates, never losses). */
static void check_publish_timeouts(struct mqtt_plugin *p, uint64_t now)
{
	bool expired = false;
	for (size_t i = 0; i < p->q_len && !expired; i++) {
		struct mqtt_entry *e = entry_at(p, i);
		expired = e->state == MQTT_ENTRY_PUBLISHED && e->deadline <= now;
	}
	if (!expired)
		return;
	size_t n = 0;
	for (size_t i = 0; i < p->q_len; i++) {
		struct mqtt_entry *e = entry_at(p, i);
		if (e->state == MQTT_ENTRY_PUBLISHED) {
			e->state = MQTT_ENTRY_RETRY;
			e->message = "not acknowledged by the broker in time";
			n++;
		}
	}
	p->n_timeouts += n;
	p->poisoned = true;
	char why[160];
	snprintf(why, sizeof(why), "%zu publishes not acknowledged within %llu ms", n,
		 (unsigned long long)(p->publish_timeout_usec / USEC_PER_MSEC));
	if (p->link != MQTT_DOWN)
		link_down(p, why); /* the next connect closes the socket */
	else
		p->host->log(p->inst, CIRCD_LOG_WARNING, "%s: answering RETRY", why);
	if (p->qos == 1)
		client_reset(p);
}

/* ---- the loop ---- */

static int ms_until(struct mqtt_plugin *p, uint64_t when, uint64_t now)
{
	if (when <= now)
		return 0;
	uint64_t ms = (when - now + 999) / 1000;
	return ms > 3600 * 1000 ? 3600 * 1000 : (int)ms;
}

static int next_timeout_ms(struct mqtt_plugin *p, uint64_t now)
{
	int t = p->link == MQTT_DOWN ? ms_until(p, p->next_connect, now) : MQTT_MISC_INTERVAL_MS;
	if (p->link == MQTT_CONNECTING) {
		int c = ms_until(p, p->connect_started + p->connect_timeout_usec, now);
		t = c < t ? c : t;
	}
	for (size_t i = 0; i < p->q_len; i++) {
		struct mqtt_entry *e = entry_at(p, i);
		if (e->state == MQTT_ENTRY_PUBLISHED) {
			int d = ms_until(p, e->deadline, now); /* the oldest is the first */
			t = d < t ? d : t;
			break;
		}
	}
	return t;
}

/* Let libmosquitto read, write and keep alive; then act on what it said. */
static void drive(struct mqtt_plugin *p, bool fd_ready)
{
	int rc = MOSQ_ERR_SUCCESS;
	errno = 0;
	/* loop_read also advances a TLS handshake (and then has nothing to
	 * read): call it whenever the socket is ready, for reading or writing. */
	if (fd_ready)
		rc = mosquitto_loop_read(p->mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(p->mosq) >= 0 && mosquitto_want_write(p->mosq))
		rc = mosquitto_loop_write(p->mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && mosquitto_socket(p->mosq) >= 0)
		rc = mosquitto_loop_misc(p->mosq);
	int e = errno;
	if (p->refused) {
		char why[200];
		snprintf(why, sizeof(why), "the broker refused the connection: %s",
			 mosquitto_connack_string(p->connack_rc));
		p->refused = false;
		drop_connection(p, why);
	} else if (p->link != MQTT_DOWN && rc != MOSQ_ERR_SUCCESS) {
		link_down(p, rc_reason(p, rc, e));
		/* libmosquitto leaves OpenSSL's error queue of this thread filled
		 * (a failed handshake): it would leak at the thread's end */
		ERR_clear_error();
	} else if (p->link != MQTT_DOWN && mosquitto_socket(p->mosq) < 0) {
		link_down(p, "connection closed");
	}
}

static bool any_published(struct mqtt_plugin *p)
{
	for (size_t i = 0; i < p->q_len; i++)
		if (entry_at(p, i)->state == MQTT_ENTRY_PUBLISHED)
			return true;
	return false;
}

/* A clean stop: let the acknowledgements in flight arrive (briefly), say
 * "offline" (retained) ourselves and DISCONNECT, so the broker drops the
 * will.  The answers are reported before run() returns: the core still
 * commits what a stopping upstream posted.  What is still unacknowledged
 * stays inflight in the journal and goes out again after the restart. */
static void stop_cleanly(struct mqtt_plugin *p)
{
	if (!p->mosq)
		return;
	if (p->link == MQTT_UP &&
	    mosquitto_publish(p->mosq, &p->status_mid, p->status_topic, 7, "offline", p->qos, true) ==
		    MOSQ_ERR_SUCCESS) {
		p->status_acked = false;
		uint64_t until = p->host->now_monotonic_usec() + MQTT_STOP_LINGER_USEC;
		while ((!p->status_acked || any_published(p)) && p->link == MQTT_UP &&
		       p->host->now_monotonic_usec() < until) {
			struct pollfd pfd = { .fd = mosquitto_socket(p->mosq), .events = POLLIN };
			if (mosquitto_want_write(p->mosq))
				pfd.events |= POLLOUT;
			p->host->heartbeat(p->inst);
			int n = poll(&pfd, 1, 50);
			if (n < 0 && errno != EINTR)
				break;
			drive(p, n > 0);
		}
	}
	report_ready(p);
	if (p->link != MQTT_DOWN && mosquitto_socket(p->mosq) >= 0) {
		p->link = MQTT_DOWN;
		mosquitto_disconnect(p->mosq);
	}
	p->host->log(p->inst, CIRCD_LOG_INFO, "stopped: %llu published, %llu acknowledged, "
		     "%llu not acknowledged in time, %zu unanswered",
		     (unsigned long long)p->n_published, (unsigned long long)p->n_acked,
		     (unsigned long long)p->n_timeouts, p->q_len);
	client_reset(p);
}

int mqtt_plugin_run(void *state)
{
	struct mqtt_plugin *p = state;
	p->link = MQTT_DOWN;
	p->next_connect = p->host->now_monotonic_usec();
	set_health(p, CIRCD_HEALTH_STARTING, NULL);
	for (;;) {
		uint64_t now = p->host->now_monotonic_usec();
		if (p->link == MQTT_DOWN && now >= p->next_connect)
			connect_now(p);
		if (p->link == MQTT_CONNECTING &&
		    now >= p->connect_started + p->connect_timeout_usec) {
			char why[120];
			snprintf(why, sizeof(why), "no CONNACK within %llu ms",
				 (unsigned long long)(p->connect_timeout_usec / USEC_PER_MSEC));
			drop_connection(p, why);
		}
		check_publish_timeouts(p, now);
		take_round(p);
		report_ready(p);

		now = p->host->now_monotonic_usec();
		int timeout = next_timeout_ms(p, now);
		int fd = -1;
		short events = POLLIN;
		if (p->link != MQTT_DOWN && p->mosq) {
			fd = mosquitto_socket(p->mosq);
			if (mosquitto_want_write(p->mosq))
				events |= POLLOUT;
		}
		int w = p->host->wait(p->inst, fd, events, timeout);
		if (w < 0) {
			/* the host restarts a worker that returns, with backoff */
			p->host->log(p->inst, CIRCD_LOG_ERR, "wait: %s", strerror(-w));
			client_reset(p);
			p->link = MQTT_DOWN;
			return w;
		}
		if (w & CIRCD_WAKE_STOP)
			break;
		if (p->link != MQTT_DOWN && p->mosq)
			drive(p, (w & CIRCD_WAKE_FD) != 0);
	}
	stop_cleanly(p);
	return 0;
}
