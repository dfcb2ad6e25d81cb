/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sip2: the upstream plugin that posts circulation to the ILS over SIP2.
 * This file is the descriptor and create/destroy; the options and their
 * mapping onto the client's config are lib/sip2/upstream_options.c (shared
 * with `circctl upstream test`), the session (connect, login, keepalive,
 * reconnect) session.c, the per-transaction mapping txn.c, the answer as
 * JSON fields_json.c.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "sip2-plugin.h"
#include "util/util.h"

/* The host's typed options, as lib/sip2/upstream_options.c reads them. */
static const char *opt_string(void *userdata, const char *key)
{
	struct sip2_plugin *p = userdata;
	return p->host->opt_string(p->inst, key);
}

static int64_t opt_int(void *userdata, const char *key)
{
	struct sip2_plugin *p = userdata;
	return p->host->opt_int(p->inst, key);
}

static bool opt_bool(void *userdata, const char *key)
{
	struct sip2_plugin *p = userdata;
	return p->host->opt_bool(p->inst, key);
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
	const struct sip2_option_source src = {
		.get_string = opt_string, .get_int = opt_int, .get_bool = opt_bool, .userdata = p,
	};
	char why[512];
	int r = sip2_upstream_settings_load(&p->set, &src, why, sizeof(why));
	if (r < 0) {
		host->log(inst, CIRCD_LOG_ERR, "%s", why);
		sip2_destroy(p);
		return r;
	}
	p->set.client.heartbeat = heartbeat;
	p->set.client.heartbeat_userdata = p;
	if (p->set.client.login_user && !p->set.password)
		host->log(inst, CIRCD_LOG_WARNING, "login_user set without password_file: "
			  "logging in with an empty password");
	p->rng = host->now_monotonic_usec() ^ (uint64_t)(uintptr_t)p;
	r = sip2_client_new(&p->set.client, &p->client);
	if (r < 0) {
		host->log(inst, CIRCD_LOG_ERR, "charset %s is not known to iconv",
			  p->set.client.charset);
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
	sip2_upstream_settings_clear(&p->set);
	free(p);
}

CIRCD_PLUGIN_DEFINE(sip2, VERSION, "SIP2 client to the ILS", CIRCD_KIND_UPSTREAM,
		    sip2_upstream_options, sip2_create, sip2_plugin_run, sip2_destroy);
