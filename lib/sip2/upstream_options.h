/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sip2 upstream's options (circd.conf: upstreams = ({ plugin = "sip2";
 * ... })) and how they become a sip2_client_config.  One schema and one
 * mapping, used by the plugin and by `circctl upstream test`, so that the
 * test connects exactly as the daemon will: same defaults, same password
 * file rules.
 */
#ifndef CIRCD_SIP2_UPSTREAM_OPTIONS_H
#define CIRCD_SIP2_UPSTREAM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <circd/plugin.h>

#include "sip2/client.h"

/* The plugin's option schema (CIRCD_OPTION_END-terminated). */
extern const struct circd_option sip2_upstream_options[];

/* Where the typed option values come from: the plugin host's opt_*(), or
 * circctl's resolved circd.conf.  Defaults are the source's business (both
 * apply the schema's).  Strings must outlive the settings made from them. */
struct sip2_option_source {
	const char *(*get_string)(void *userdata, const char *key);
	int64_t (*get_int)(void *userdata, const char *key);
	bool (*get_bool)(void *userdata, const char *key);
	void *userdata;
};

struct sip2_upstream_settings {
	struct sip2_client_config client; /* heartbeat left NULL for the caller */
	char *password;                   /* from password_file; never logged */
	char *terminal_password;          /* from terminal_password_file */
	bool utc_dates;
	uint64_t keepalive_usec;          /* 0 = no keepalive */
	uint64_t backoff_min_usec, backoff_max_usec;
};

/* Fill *s from the options, reading the password files.  A password file
 * must not be group/other accessible.  Returns 0, or -errno with the reason
 * (never the secret) in why: -EPERM for a file others can read, the
 * open()/read() error otherwise.  Clear *s in either case. */
int sip2_upstream_settings_load(struct sip2_upstream_settings *s,
				const struct sip2_option_source *src, char *why, size_t why_size);
/* Wipes and frees the secrets. */
void sip2_upstream_settings_clear(struct sip2_upstream_settings *s);

#endif
