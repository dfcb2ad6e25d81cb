/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal to the sip2 upstream plugin: its state and the pieces that
 * session.c ties together. */
#ifndef CIRCD_SIP2_PLUGIN_H
#define CIRCD_SIP2_PLUGIN_H

#include <circd/plugin.h>

#include "sip2/client.h"
#include "sip2/upstream_options.h"

struct sip2_plugin {
	struct circd_instance *inst;
	const struct circd_host_api *host;
	/* the options, mapped as `circctl upstream test` maps them:
	 * set.client is the client's config, set.password never logged */
	struct sip2_upstream_settings set;
	struct sip2_client *client;

	unsigned connect_failures;
	uint64_t rng;

	bool up;                  /* connected, logged in, 98 read */
	struct sip2_acs_status status;
	uint64_t next_keepalive;  /* monotonic usec */
	uint64_t next_connect;    /* monotonic usec */
	enum circd_health health;
	uint64_t last_resends;    /* resend counters at the last health check */
};

/* session.c */
int sip2_plugin_run(void *state);

/* txn.c: answer one transaction (the session is up).  Returns the status;
 * *message and *fields_json are malloc'd (or NULL).  A transport failure
 * returns CIRCD_TXN_RETRY with *transport_failed set. */
enum circd_txn_status sip2_txn_handle(struct sip2_plugin *p, const struct circd_txn *txn,
				      char **message, char **fields_json, bool *transport_failed);

/* fields_json.c: the response as a JSON object (see the key list there).
 * extra_key/extra_value add one boolean (NULL = none). */
char *sip2_fields_json(const struct sip2_msg *resp, const char *raw_wire_hint,
		       const char *extra_key, bool extra_value);

#endif
