/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fakehost's state, shared by its files (host API, loading, records, streams). */
#ifndef CIRCD_FAKEHOST_INTERNAL_H
#define CIRCD_FAKEHOST_INTERNAL_H

#include <pthread.h>
#include <time.h>

#include "fakehost.h"
#include "util/util.h"

struct circd_instance {
	struct fakehost *fh;
};

struct fh_option {
	const struct circd_option *decl;
	char *value; /* given or default; NULL = neither */
	bool given;
	int64_t i;
	bool b;
	double f;
};

struct fh_event {
	struct circd_event ev; /* pointers inside are owned copies */
	uint64_t mono_usec;
};

struct fh_command {
	struct circd_command cmd; /* name/text owned */
	bool done;
	int status;
	char *detail;
};

struct fakehost {
	struct circd_instance inst;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC */
	int wake_fd;         /* eventfd: wakes host->wait() */
	char error[512];

	void *dl;
	const struct circd_plugin *plugin;
	struct fh_option *opts;
	size_t n_opts;
	bool opts_resolved;
	unsigned option_misuse;

	void *state;
	bool created, running, run_returned, stop;
	int run_result;
	pthread_t thread;
	unsigned checkins;

	struct fh_event **events;
	size_t n_events;
	unsigned refuse_emits, refused_emits;

	struct fh_command **cmds;
	size_t n_cmds, cmd_head;
	uint64_t next_cmd_id;
	unsigned command_errors;

	struct circd_txn **txns;
	size_t n_txns, txn_head;
	int64_t *inflight;
	size_t n_inflight;
	struct fakehost_report **reports;
	size_t n_reports;
	unsigned order_errors;

	enum circd_health health;
	enum circd_health *healths;
	size_t n_healths;

	struct circd_device_counters counters; /* the last set_counters() (ABI 1.5) */
	unsigned counter_calls;

	char **logs;
	size_t n_logs;

	struct circd_host_api api;   /* what the plugin gets (fakehost_set_host_abi_minor) */
	struct circd_stream *streams; /* open host streams, under lock */
};

void fakehost_free_records(struct fakehost *fh);

/* fakehost-stream.c: the host API 1.4 streams. */
int fakehost_stream_open(struct circd_instance *inst, const char *spec, int connect_timeout_ms,
			 struct circd_stream **out, char *reason, size_t reason_size);
ssize_t fakehost_stream_read(struct circd_stream *s, void *buf, size_t len, int timeout_ms);
int fakehost_stream_write_all(struct circd_stream *s, const void *buf, size_t len,
			      int timeout_ms);
ssize_t fakehost_stream_drain(struct circd_stream *s);
int fakehost_stream_reopen(struct circd_stream *s, int connect_timeout_ms);
int fakehost_stream_fd(const struct circd_stream *s);
const char *fakehost_stream_reason(const struct circd_stream *s);
void fakehost_stream_close(struct circd_stream *s);
/* Wake the plugin out of host->wait(). */
void fakehost_wake_plugin(struct fakehost *fh);
/* Absolute CLOCK_MONOTONIC deadline for pthread_cond_timedwait(). */
struct timespec fakehost_deadline_in(int timeout_ms);

#endif
