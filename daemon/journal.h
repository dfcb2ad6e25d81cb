/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal: circd's durable memory (SQLite, WAL; made durable by the
 * journal's own durability thread, see journal.c).
 *
 * Invariants:
 *  - One connection, owned by the main thread, does every write and every
 *    read of the core.  The durability thread has its own descriptor of the
 *    WAL (to fdatasync it) and its own connection (only for checkpoints);
 *    the control commands' query thread (ctl_query.h) has its own
 *    read-only connection, whose reads are kept short (see ctl_query.c).
 *  - Writes are grouped: journal_begin() opens a write transaction lazily;
 *    the main loop calls journal_commit() once per dispatch, so events that
 *    arrive together share one commit.  journal_commit() returning 0 means
 *    WRITTEN: the batch is in the WAL (the page cache), reads on the main
 *    thread see it at once, a crash of the process (SIGKILL) does not lose
 *    it; power loss may, until it is DURABLE.  Each commit gets the next
 *    sequence number (journal_commit_count()); it is durable once the
 *    durability thread has completed an fdatasync() of the WAL that began
 *    after the commit was written, and has said so (journal_durable_fd()
 *    becomes readable; journal_dispatch_durable() takes the news).
 *  - Anything that acknowledges a write to the outside world (a device, an
 *    upstream, a control client) happens only after the commit holding that
 *    write is DURABLE: callers queue such actions with journal_after_commit()
 *    and they run, in the order queued, from journal_dispatch_durable() (or
 *    from journal_commit() / journal_wait_durable() when already durable).
 *    An action queued inside a transaction waits for that transaction's
 *    commit; one queued outside waits for everything committed so far.
 *    Actions never run inside journal_after_commit() itself.
 *  - A commit that fails, a failed sync and a failed checkpoint are fatal
 *    for the process (see core.c): the journal never runs without
 *    persistence, every action still queued is dropped (its drop callback,
 *    if any, runs; the action does not), journal_commit() fails from then
 *    on, and nothing not durable was acked.
 *  - journal_close() drains: the thread syncs everything committed before it
 *    stops; actions not yet run are dropped (the daemon is stopping).  Call
 *    journal_wait_durable() first to run them instead.
 *  - Deliveries move pending -> inflight -> done | rejected | dead, and a
 *    staff member may move rejected/dead -> pending (retry) or -> dismissed.
 *    Only rows whose deliveries are all done/dismissed are ever pruned.
 */
#ifndef CIRCD_JOURNAL_H
#define CIRCD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#define JOURNAL_SCHEMA_VERSION 2
#define JOURNAL_FILE "journal.db"

struct journal;

/* Opens (creating if needed) <state_dir>/journal.db and migrates it forward.
 * Refuses a newer schema, an unwritable directory and a corrupt database:
 * returns a negative errno and *error (malloc'd) naming the file and reason. */
int journal_open(const char *state_dir, struct journal **out, char **error);
void journal_close(struct journal *j);
sqlite3 *journal_db(struct journal *j);
const char *journal_path(struct journal *j);

/* Group commit. */
int journal_begin(struct journal *j);
/* Writes the open transaction (0: written, durability pending; see the top)
 * and runs the queued actions that are durable already.  -EIO (or
 * -ENOSPC) with the SQLite message logged; on failure the transaction is
 * rolled back, every queued action is dropped, and the journal is failed. */
int journal_commit(struct journal *j);
bool journal_dirty(struct journal *j);
typedef void (*journal_action_fn)(void *userdata, uint64_t arg);
void journal_after_commit(struct journal *j, journal_action_fn fn, void *userdata, uint64_t arg);
/* The same with a drop callback, run instead of fn when the action is
 * dropped (failure, close): to free what userdata holds. */
void journal_after_commit_full(struct journal *j, journal_action_fn fn, journal_action_fn drop,
			       void *userdata, uint64_t arg);
/* Statistics for the benchmark and status: commits and rows. */
uint64_t journal_commit_count(struct journal *j);

/* ---- durability (main thread) ---- */

/* An eventfd that becomes readable when the durability thread made
 * progress (or failed): then call journal_dispatch_durable(). */
int journal_durable_fd(struct journal *j);
/* Takes the thread's news and runs the actions whose commits are durable.
 * 0, or -EIO when a sync failed (logged; fatal, as a failed commit). */
int journal_dispatch_durable(struct journal *j);
/* Commits what is open, blocks until everything committed is durable and
 * runs the released actions (again if they wrote).  For shutdown and tests. */
int journal_wait_durable(struct journal *j);
/* The highest commit the main thread knows to be durable. */
uint64_t journal_durable_count(struct journal *j);
/* Something is written but not durable, or an action waits. */
bool journal_durable_pending(struct journal *j);
/* Tests only: replace fdatasync(wal_fd) in the durability thread (to hold
 * it, or to make it fail).  NULL restores fdatasync(). */
void journal_set_sync_fn(struct journal *j, int (*fn)(int fd));
/* Set from CIRCD_TRACE_DURABILITY at open: debug lines per commit and per
 * hand-over, for tests/integration/test_durable_order.py. */
extern bool journal_trace;

struct journal_txn_in {
	const char *kind;       /* "checkin", "checkout", "alarm", ... */
	const char *station;
	const char *device;
	const char *item_id;    /* "" when unknown (unreadable tag): still journaled */
	const char *uid;        /* hex or "" */
	const char *patron_id;  /* or NULL */
	uint64_t event_time_usec;
	uint64_t device_event_id; /* 0 = none */
	const char *detail_json;  /* decoded tag and station facts, or NULL */
};

/* Inserts the transaction and one pending delivery per upstream.  Returns 0
 * and *id, or -EEXIST when (device, device_event_id) was already journaled
 * (a re-delivered event), or -EIO. */
int journal_add_transaction(struct journal *j, const struct journal_txn_in *t,
			    const char *const *upstreams, size_t n_upstreams, int64_t *id);

/* Raw observations worth keeping (gate passes, sensor values, faults). */
int journal_add_event(struct journal *j, const char *device, const char *type,
		      uint64_t time_usec, uint64_t device_event_id, const char *detail_json);

/* ---- Forwarder support ---- */

/* At start: every inflight delivery becomes pending with maybe_sent = 1
 * (it may have reached the upstream before the crash). Returns the count. */
int journal_requeue_inflight(struct journal *j);

struct journal_delivery {
	int64_t txn_id;
	char *kind, *station, *device, *item_id, *uid, *patron_id, *detail_json;
	uint64_t event_time_usec, created_usec;
	uint32_t attempts;
	bool maybe_sent;
};
void journal_delivery_clear(struct journal_delivery *d);

/* Up to max pending deliveries of upstream with txn_id > after_id, oldest
 * first.  *out is malloc'd (free each with journal_delivery_clear, then the
 * array).  Returns the count or a negative errno. */
int journal_fetch_pending(struct journal *j, const char *upstream, int64_t after_id, size_t max,
			  struct journal_delivery **out);

int journal_set_delivery(struct journal *j, int64_t txn_id, const char *upstream,
			 const char *state, uint32_t attempts, bool maybe_sent,
			 const char *message, const char *response_json);

/* Range forms for the forwarder's common case, one statement per batch:
 * every pending delivery of upstream with first <= txn_id <= last becomes
 * inflight; every inflight one becomes done with attempts + 1. */
int journal_mark_inflight_range(struct journal *j, const char *upstream, int64_t first, int64_t last);
int journal_mark_done_range(struct journal *j, const char *upstream, int64_t first, int64_t last);

struct journal_backlog {
	int64_t pending;      /* pending + inflight */
	uint64_t oldest_usec; /* created time of the oldest, 0 when none */
	int64_t rejected, dead;
};
/* Cheap (index-only): fine for STATUS= every few seconds. */
int journal_backlog(struct journal *j, const char *upstream, struct journal_backlog *out);
/* Scans the upstream's finished deliveries: for circctl, not for timers. */
int64_t journal_count_done(struct journal *j, const char *upstream);

/* Staff actions on exceptions (rejected or dead deliveries).  id is the txn
 * id; upstream NULL = every exception of that txn.  -ENOENT when none. */
int journal_exception_retry(struct journal *j, int64_t txn_id);
int journal_exception_dismiss(struct journal *j, int64_t txn_id, const char *note);

/* Delete transactions older than cutoff whose deliveries are all finished
 * (done/dismissed), and events older than cutoff.  Returns rows deleted. */
int journal_prune(struct journal *j, uint64_t cutoff_usec);

#endif
