/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fakehost — a host for testing one plugin .so without the daemon.
 *
 * It does what the daemon's loader does (dlopen, descriptor checks, option
 * validation against the plugin's schema), implements every function of
 * struct circd_host_api with in-memory queues, runs run() in a thread and
 * stops it.  Tests then look at what the plugin emitted, logged, answered
 * and reported.  This is the start of the conformance kit for reader
 * plugins: it only relies on the public ABI (include/circd/).
 *
 *	struct fakehost *fh = fakehost_new();
 *	fakehost_load(fh, "plugins/.libs/sim.so");   // or fakehost_load_plugin(fh, "sim")
 *	fakehost_set_options(fh, (const char *[]){ "speed=0", NULL });
 *	fakehost_create(fh);                          // ops.create()
 *	fakehost_start(fh);                           // ops.run() in a thread
 *	fakehost_wait_events(fh, 3, 2000);
 *	fakehost_stop(fh);                            // WAKE_STOP, join
 *	fakehost_free(fh);                            // ops.destroy(), dlclose
 *
 * Every function returning int returns 0 or a negative errno; on failure
 * fakehost_error() says why.  Accessors return pointers into fakehost-owned
 * storage, valid until fakehost_free().  All functions are safe to call
 * while the plugin thread runs.
 */
#ifndef CIRCD_FAKEHOST_H
#define CIRCD_FAKEHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <circd/plugin.h>

struct fakehost;

struct fakehost *fakehost_new(void);
/* Stops the thread if running, calls destroy(), dlclose()s. */
void fakehost_free(struct fakehost *fh);
/* The reason of the last failure ("" if none). */
const char *fakehost_error(const struct fakehost *fh);

/* ---- Loading ---- */

/* dlopen(RTLD_NOW|RTLD_LOCAL) and check the descriptor: symbol present,
 * magic, ABI major equal, minor not newer, struct_size, name and ops set,
 * option schema well-formed, file not world-writable. */
int fakehost_load(struct fakehost *fh, const char *path);
/* Load $CIRCD_PLUGIN_DIR/<name>.so (default plugins/.libs). */
int fakehost_load_plugin(struct fakehost *fh, const char *name);
/* Check a descriptor without loading anything (conformance kit). */
int fakehost_check_descriptor(const struct circd_plugin *p, char **error);
const struct circd_plugin *fakehost_plugin(const struct fakehost *fh);

/* Pretend to be a host of an older ABI minor (before create()): the table
 * the plugin gets ends where that minor's ended (< 2: before site, < 4:
 * before the streams, < 5: before set_counters), and says abi_minor = minor.  The loader checks are
 * unchanged. */
int fakehost_set_host_abi_minor(struct fakehost *fh, unsigned minor);

/* ---- Options ---- */

/* Resolve "key=value" strings (NULL-terminated) against the schema:
 * defaults applied, unknown keys, missing required ones and type or range
 * errors refused with a message.  Calling it is optional (all defaults). */
int fakehost_set_options(struct fakehost *fh, const char *const *kv);
/* Number of opt_*() calls that asked for an undeclared key or the wrong
 * type: bugs in the plugin, should be 0. */
unsigned fakehost_option_misuse(const struct fakehost *fh);

/* ---- Lifecycle ---- */

/* ops.create() (options resolved first if not yet done); returns its result. */
int fakehost_create(struct fakehost *fh);
/* ops.run() in a new thread. */
int fakehost_start(struct fakehost *fh);
/* Ask run() to stop (WAKE_STOP) and join it, waiting up to 5 s; returns
 * run()'s result, or -ETIMEDOUT. */
int fakehost_stop(struct fakehost *fh);
/* true once run() has returned (on its own: a failure, in the daemon). */
bool fakehost_run_returned(struct fakehost *fh, int *result);

/* ---- Events (device plugins) ---- */

/* Copies of what the plugin emitted: pointers inside point to copies. */
size_t fakehost_event_count(struct fakehost *fh);
const struct circd_event *fakehost_event(struct fakehost *fh, size_t i);
/* Monotonic time at which event i was accepted. */
uint64_t fakehost_event_time(struct fakehost *fh, size_t i);
/* Wait until at least n events were accepted: 0 or -ETIMEDOUT. */
int fakehost_wait_events(struct fakehost *fh, size_t n, int timeout_ms);
/* Refuse the next n emit() calls with -ENOBUFS (backpressure tests). */
void fakehost_refuse_emits(struct fakehost *fh, unsigned n);
unsigned fakehost_refused_emits(struct fakehost *fh);

/* ---- Commands (core -> device) ---- */

/* Queue a command and wake the plugin; returns its id (> 0). */
uint64_t fakehost_command(struct fakehost *fh, uint32_t type, const uint8_t *uid,
			  uint8_t uid_len, int64_t value, const char *name, const char *text);
/* Wait for command_done() of `id`: 0 with *status (and *detail, owned by the
 * fakehost, may be NULL), or -ETIMEDOUT. */
int fakehost_wait_command(struct fakehost *fh, uint64_t id, int timeout_ms, int *status,
			  const char **detail);
/* command_done() calls for a command already answered: plugin bugs, should be 0. */
unsigned fakehost_command_errors(struct fakehost *fh);

/* ---- Transactions (upstream plugins) ---- */

struct fakehost_report {
	int64_t txn_id;
	uint32_t status; /* enum circd_txn_status */
	char *message;
	char *fields_json;
};

/* Queue a transaction (strings copied; struct_size set for you) and wake
 * the plugin. */
void fakehost_txn(struct fakehost *fh, const struct circd_txn *txn);
size_t fakehost_report_count(struct fakehost *fh);
const struct fakehost_report *fakehost_report(struct fakehost *fh, size_t i);
int fakehost_wait_reports(struct fakehost *fh, size_t n, int timeout_ms);
/* Reports that did not answer the oldest outstanding txn (ABI: in order). */
unsigned fakehost_report_order_errors(struct fakehost *fh);

/* ---- Streams (host API 1.4) ---- */

/* Streams the plugin opened with host->stream_open() and has not closed.
 * Any left after destroy() are reported on stderr by fakehost_free() and
 * not closed, so that ASan and valgrind count the leak. */
unsigned fakehost_open_streams(struct fakehost *fh);

/* ---- Health and logs ---- */

enum circd_health fakehost_health(struct fakehost *fh);
/* Wait until the current health is h: 0 or -ETIMEDOUT. */
int fakehost_wait_health(struct fakehost *fh, enum circd_health h, int timeout_ms);
/* Every set_health() call, in order. */
size_t fakehost_health_count(struct fakehost *fh);
enum circd_health fakehost_health_at(struct fakehost *fh, size_t i);

/* ---- Error counters (host API 1.5) ---- */

/* The totals of the last set_counters() call (all 0 before the first). */
void fakehost_counters(struct fakehost *fh, struct circd_device_counters *out);
/* How many times the plugin called set_counters(). */
unsigned fakehost_counter_calls(struct fakehost *fh);

/* Log lines ("<level>: message"); also echoed to stderr when
 * $FAKEHOST_VERBOSE is set. */
size_t fakehost_log_count(struct fakehost *fh);
const char *fakehost_log(struct fakehost *fh, size_t i);
/* true when some log line contains `needle`. */
bool fakehost_log_contains(struct fakehost *fh, const char *needle);

#endif
