/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An instance is one configured device or upstream: a plugin's state, its
 * worker thread, and the host API it is given.  The struct circd_host_api
 * functions are implemented here; they are the only code that runs on a
 * worker thread and touches host memory, and they touch only this
 * instance's mailboxes and atomics and the core's inbox.
 */
#ifndef CIRCD_INSTANCE_H
#define CIRCD_INSTANCE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <circd/plugin.h>

#include "core.h"
#include "mailbox.h"

enum instance_role { INSTANCE_DEVICE, INSTANCE_UPSTREAM };

struct station;
struct forwarder;

struct instance {
	struct core *core;
	enum instance_role role;
	char *name;
	char *site;                /* the config's site when created (host->site) */
	const struct loaded_plugin *plugin;
	struct config_device *cfg; /* points into core->cfg; re-pointed on reload */
	struct resolved_options opts;
	char *fields[3];           /* "CIRCD_DEVICE=x", "CIRCD_PLUGIN=y", NULL */
	void *state;

	pthread_t thread;
	bool thread_started;
	bool abandoned;          /* stop timed out: the thread still runs (see instance_stop) */
	atomic_bool stop_requested;
	int stop_efd;
	struct mailbox commands; /* main -> worker */
	struct mailbox txns;     /* main -> worker (upstreams) */
	struct mailbox_node *taken_cmds, *taken_txns, *taken_txns_tail; /* worker-only lists */
	struct circd_stream *streams; /* open host streams (host_stream.c), worker-only */
	atomic_uint_fast64_t heartbeat_usec;           /* monotonic */
	atomic_bool in_wait;
	/* host->set_counters() (ABI 1.5): the current plugin state's totals,
	 * stored by the worker, read by the main thread (INSTANCE_COUNTER_*). */
	atomic_uint_fast64_t counters[4];
	/* main thread only: the totals of earlier plugin states of this
	 * instance (a worker restarted after run() returned), so that what is
	 * exported never goes down while the instance lives */
	uint64_t counters_base[4];

	/* main thread only */
	enum circd_health health;
	char *health_reason;
	uint64_t events;
	uint64_t next_command_id;
	struct station *station;
	struct forwarder *fw;
	unsigned restarts;
	sd_event_source *restart_timer;
	bool metrics_was_down; /* offline or failed since the last ok (reconnects) */
};

/* Indexes of instance->counters, in struct circd_device_counters' order. */
enum instance_counter {
	INSTANCE_COUNTER_BAD_FRAMES,
	INSTANCE_COUNTER_TIMEOUTS,
	INSTANCE_COUNTER_DEVICE_ERRORS,
	INSTANCE_COUNTER_RECONNECTS,
	INSTANCE_COUNTERS,
};

/* Messages from workers to the main loop (core->inbox). */
enum inbox_type { INBOX_EVENT, INBOX_HEALTH, INBOX_COMMAND_DONE, INBOX_TXN_REPORT, INBOX_EXIT };

struct inbox_msg {
	struct mailbox_node node; /* first */
	enum inbox_type type;
	struct instance *inst;
};

struct event_msg {
	struct inbox_msg m;
	uint64_t arrival_usec; /* monotonic, when emit() queued it (metrics) */
	struct circd_event ev; /* pointers point into data[] */
	char data[];
};

struct health_msg {
	struct inbox_msg m;
	enum circd_health health;
	char reason[200];
};

struct command_msg {
	struct inbox_msg m; /* reused for the done message */
	struct circd_command cmd;
	int status;
	char *name, *text;
	char detail[200];
};

/* A transaction handed to an upstream, and its answer. */
struct txn_msg {
	struct inbox_msg m;
	struct circd_txn txn;
	char *station, *device, *item_id, *patron_id, *uid, *json, *kind;
	uint32_t status;
	char *message, *fields_json;
};
void txn_msg_free(struct txn_msg *t);

extern const struct circd_host_api host_api;

#define INSTANCE_STOP_GRACE_SEC 5 /* how long a stop waits for a worker to return */

/* Main thread.  create: resolve options, call the plugin's create(). */
int instance_new(struct core *core, enum instance_role role, struct config_device *cfg,
		 const struct loaded_plugin *plugin, struct instance **out);
int instance_start(struct instance *inst);
/* Ask run() to return, join the thread, destroy the plugin state.
 * Messages it already posted stay in core->inbox (processed by the caller). */
void instance_stop(struct instance *inst);
void instance_free(struct instance *inst);
/* Queue a command; returns its id (cmd->id when set: reserved from
 * inst->next_command_id by station_command()). */
uint64_t instance_send_command(struct instance *inst, const struct circd_command *cmd);
/* Upstreams: hand a transaction to the worker. */
void instance_submit_txn(struct instance *inst, struct txn_msg *t);
/* True when the worker checked in within max_age_usec or waits in host->wait(). */
bool instance_alive(struct instance *inst, uint64_t max_age_usec);

/* Main thread: the instance's error counters since it was created (all of
 * its plugin states together), indexed by enum instance_counter. */
void instance_counters(struct instance *inst, uint64_t out[INSTANCE_COUNTERS]);

const char *health_to_string(enum circd_health h);

/* The core's side of an instance's life (core.c; used by reload.c too):
 * create and start one device or upstream (with its forwarder), stop one
 * (what it posted is still journaled), and point every device at its
 * station. */
int core_start_instance(struct core *core, enum instance_role role, struct config_device *cfg,
			struct instance **out);
void core_stop_instance(struct core *core, struct instance *inst);
void core_link_stations(struct core *core);

#endif
