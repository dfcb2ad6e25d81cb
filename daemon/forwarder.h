/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Store and forward: hands journaled transactions, in order, to one
 * upstream and commits its answers.
 *
 * Semantics (DESIGN.md, "Forwarding semantics"):
 *  - FIFO per upstream by transaction id; at-least-once.
 *  - A delivery is marked inflight and that is COMMITTED before the
 *    upstream sees it, so after a crash it is known to be "maybe sent"
 *    (txn.maybe_sent) and the upstream can check before posting again.
 *  - OK -> done; REJECTED -> rejected (an exception for staff, never
 *    retried by itself); RETRY -> pending again, the upstream is paused with
 *    full-jitter exponential backoff and the rest of the window is taken
 *    back, so order is kept.
 *  - A transaction not sent live (retried, maybe sent, or older than
 *    REPLAY_AFTER) is flagged txn.replay: SIP2 then uses no-block and the
 *    original dates.
 */
#ifndef CIRCD_FORWARDER_H
#define CIRCD_FORWARDER_H

#include <stdbool.h>
#include <stdint.h>

#include <circd/plugin.h>

struct core;
struct instance;
struct txn_msg;

#define FORWARDER_WINDOW 2048
#define FORWARDER_BACKOFF_BASE_USEC (500 * 1000ULL)
#define FORWARDER_BACKOFF_CAP_USEC (60 * 1000 * 1000ULL)
#define FORWARDER_REPLAY_AFTER_USEC (60 * 1000 * 1000ULL)

struct forwarder;

struct forwarder *forwarder_new(struct core *core, struct instance *upstream);
void forwarder_free(struct forwarder *fw);
/* Something new may be pending: feed the upstream at the next flush. */
void forwarder_wake(struct forwarder *fw);
/* Called by core_flush() before the commit: write what answers are still
 * held back (runs of plain OKs). */
void forwarder_flush_answers(struct forwarder *fw);
/* Called by core_flush() before the commit (not while stopping). */
void forwarder_feed_if_woken(struct forwarder *fw);
/* An answer came back from the upstream's worker (main thread). */
void forwarder_handle_report(struct forwarder *fw, struct txn_msg *t);

/* The upstream's health changed.  Offline or failed, then OK again: what
 * was journaled before it came back was not sent live (a replay), even if
 * nothing was handed to it during the outage.  A transaction journaled
 * after an idle reconnect is live. */
void forwarder_upstream_health(struct forwarder *fw, enum circd_health h);

struct forwarder_stats {
	const char *state; /* "up", "down", "connecting" */
	uint64_t window;
	uint64_t consecutive_failures;
	const char *last_error;
};
void forwarder_stats(struct forwarder *fw, struct forwarder_stats *out);

#endif
