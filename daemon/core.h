/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The core's context: the one place that owns state.  Everything here is
 * touched by the main thread only (the sd-event loop); worker threads talk
 * to it through core->inbox and the per-instance mailboxes (instance.h).
 */
#ifndef CIRCD_CORE_H
#define CIRCD_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "daemon/conf.h"
#include "journal.h"
#include "mailbox.h"
#include "plugin_loader.h"
#include "tags/sets.h"

struct instance;
struct station;
struct control;
struct ctl_query;

/* What the command line says, which outranks the config file (also on reload). */
struct core_overrides {
	const char *plugin_directory; /* --plugin-dir, or NULL */
	int log_level;                /* --log-level, or -1 */
};

#define CORE_SET_WINDOW_USEC (60 * 1000000ULL)
#define INBOX_CAPACITY 65536 /* events queued for the main loop before emit() says -ENOBUFS */

struct core {
	sd_event *event;
	struct circd_config *cfg;
	struct core_overrides overrides;
	struct plugin_registry plugins;
	struct plugin_registry *retired; /* registries replaced by reloads, kept until exit */
	size_t n_retired;
	struct journal *journal;
	struct control *control;
	struct ctl_query *queries; /* the query thread (read-only commands), or NULL */
	char *socket_path;

	struct mailbox inbox;
	sd_event_source *inbox_source;
	sd_event_source *durable_source; /* the journal's "durable up to N" */

	struct instance **devices;
	size_t n_devices;
	struct instance **upstreams;
	size_t n_upstreams;
	struct station **stations;
	size_t n_stations;

	uint64_t start_realtime_usec;
	uint64_t watchdog_usec;  /* 0 = no watchdog */
	sd_event_source *watchdog_timer;
	sd_event_source *status_timer;
	sd_event_source *prune_timer;
	char *status_text;       /* last STATUS= sent */
	const char *state;       /* "starting", "running", "reloading", "stopping" */
	bool backlog_alerted;
	bool journal_failed;
	bool stopping;           /* SIGTERM: finish, hand nothing new to upstreams */     /* a commit failed: stop, write nothing more */

	uint64_t rng;            /* backoff jitter */
	uint64_t events_total;
	uint64_t txns_total;
	uint64_t duplicates_total;
	uint64_t lookups;        /* item-information requests sent */
	/* While a device event is handled: when emit() queued it (monotonic
	 * usec), for the latency a station measures (the gate's decision). */
	uint64_t event_arrival_usec;
	/* Multi-part items seen by any station: a station asks whether all
	 * parts of a set arrived within CORE_SET_WINDOW_USEC. */
	struct tag_set_tracker sets;
	struct json_object *lookup_outcomes; /* item_id -> its latest lookup's outcome (items.c) */
	/* Metrics (metrics.h): the registry and the optional HTTP listener. */
	struct metrics *metrics;
	struct metrics_http *metrics_http;
};

/* Run the daemon on a validated config until SIGTERM/SIGINT.  Takes
 * ownership of cfg and reg.  Returns an exit code. */
int core_run(struct circd_config *cfg, struct plugin_registry *reg,
	     const struct core_overrides *overrides);

/* Write anything pending in the journal and run its after-commit actions.
 * A failed commit stops the daemon (see core.c for why). */
void core_flush(struct core *core);
/* For a control handler that promises durability: core_flush(), and hold
 * the handler's answer until what is written is durable. */
void core_flush_reply(struct core *core);

/* Option schemas for config_check_options(): plugins from the registry,
 * roles from the stations. */
void core_schema_source(struct plugin_registry *reg, struct config_schema_source *out);

/* Recompute and send STATUS= (and the backlog alert) now. */
void core_update_status(struct core *core);

/* SIGHUP: re-read the config file; returns 0 or -EINVAL (old config kept). */
int core_reload(struct core *core);

struct instance *core_find_device(struct core *core, const char *name);

#endif
