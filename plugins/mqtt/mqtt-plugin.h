/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal to the mqtt upstream plugin: its state, and the pieces that the
 * worker (session.c) ties together. */
#ifndef CIRCD_MQTT_PLUGIN_H
#define CIRCD_MQTT_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <circd/plugin.h>

struct mosquitto;

/* MQTT 3.1.1 payload schema of what this plugin publishes (see README.md). */
#define MQTT_PAYLOAD_SCHEMA 1

/* One transaction taken from the forwarder and not yet answered.  Answers
 * go back strictly in the order taken (the forwarder relies on it), so an
 * acknowledged one waits behind an earlier one still in flight. */
enum mqtt_entry_state {
	MQTT_ENTRY_PUBLISHED, /* handed to libmosquitto as mid, waiting for PUBACK/PUBCOMP */
	MQTT_ENTRY_ACKED,     /* the broker has it: OK */
	MQTT_ENTRY_NOT_SENT,  /* never handed to libmosquitto */
	MQTT_ENTRY_RETRY,     /* handed over, no acknowledgement in time */
	MQTT_ENTRY_REJECTED,  /* cannot be published at all */
};

struct mqtt_entry {
	struct circd_txn txn;   /* the host's, valid until report() */
	enum mqtt_entry_state state;
	int mid;
	uint64_t deadline;      /* monotonic usec, for PUBLISHED */
	const char *message;    /* static text, or NULL */
};

enum mqtt_link { MQTT_DOWN, MQTT_CONNECTING, MQTT_UP };

struct mqtt_plugin {
	struct circd_instance *inst;
	const struct circd_host_api *host;

	/* options */
	const char *broker_host;
	int port;
	char *client_id;
	const char *username;
	char *password;           /* from password_file; never logged */
	bool tls, tls_verify_hostname;
	const char *tls_ca_file, *tls_cert_file, *tls_key_file;
	const char *topic_prefix;
	const char *site;
	char *site_owned; /* the slug made from host->site(), or NULL */
	int qos;
	int keepalive_s;
	uint64_t publish_timeout_usec, connect_timeout_usec;
	char *status_topic;
	uint64_t backoff_min_usec, backoff_max_usec;

	/* the client */
	struct mosquitto *mosq;
	enum mqtt_link link;
	uint64_t next_connect;     /* monotonic usec, while DOWN */
	uint64_t connect_started;  /* monotonic usec, while CONNECTING */
	unsigned connect_failures;
	uint64_t rng;
	bool refused;              /* CONNACK said no: drop the connection */
	int connack_rc;
	char last_tls_error[256];  /* the last error libmosquitto logged */
	bool tls_hostname_failed;  /* ... was its host name check */
	enum circd_health health;
	char health_reason[256];

	/* taken, not yet answered, in the order taken */
	struct mqtt_entry *q;
	size_t q_head, q_len, q_cap; /* entries q[q_head .. q_head+q_len) */
	bool poisoned;             /* one of them failed: the rest of the round is not sent */

	uint64_t n_published, n_acked, n_timeouts;
	int status_mid;            /* the retained status publish in flight, or 0 */
	bool status_acked;
	bool lib_inited;           /* mosquitto_lib_init() was called */
};

/* session.c */
int mqtt_plugin_run(void *state);

/* payload.c: the message for one transaction (malloc'd), or NULL with
 * *why set when it cannot be published. */
char *mqtt_payload(const struct circd_txn *txn, const char *site, const char **why);
/* "<prefix>/<site>/<station>/<kind>"; each level made topic-safe. */
char *mqtt_topic(const char *prefix, const char *site, const char *station, const char *kind);
/* Replace what cannot stand in one topic level ('/', '+', '#', control
 * characters) with '_'; "" becomes "_".  Returns a malloc'd copy. */
char *mqtt_topic_level(const char *s);
const char *mqtt_kind_name(uint32_t kind);

#endif
