/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The query thread: read-only control commands (statistics, exports,
 * journal listings) answered off the main loop.
 *
 * A report over a month of a busy branch takes about half a second of
 * SQLite; on the core's thread that is half a second without gate
 * decisions, returns or anything else.  So such a command's handler only
 * hands its request to this one thread, which has its own read-only
 * connection to the journal (WAL: it reads while the core writes), and
 * the control socket holds the answer (control_hold_reply()) until the
 * thread hands the answer line back through an eventfd.
 *
 * Rules, the thread's and the queries':
 *  - A query touches only the connection it is given, its own copy of
 *    the request, and the site name copied for it: nothing of the core.
 *    It returns like a control handler; the thread serializes the answer
 *    (control_reply_text()), so not even that costs the main loop.
 *  - One query at a time, in the order asked (a second client's report
 *    waits for the first); answers go back in that order.
 *  - Every statement is its own read transaction (autocommit), so a read
 *    pins the WAL only while one statement runs, and a query that runs
 *    longer than CTL_QUERY_MAX_SEC in all is stopped with an error: a read
 *    transaction that stays open keeps the durability thread's
 *    checkpoints from copying past it and the WAL from restarting (see
 *    ctl_query.c).
 *  - A client that goes away before its answer: a waiting query is
 *    skipped, a running one interrupted (sqlite3_interrupt()).
 *  - ctl_query_free() interrupts what runs, joins the thread, and answers
 *    what is still waiting with an error.  Call it before control_free().
 */
#ifndef CIRCD_CTL_QUERY_H
#define CIRCD_CTL_QUERY_H

#include <stdint.h>

#include <json-c/json.h>
#include <sqlite3.h>
#include <systemd/sd-event.h>

/* As long as circctl waits for an answer (tools/circctl-conn.c): a query
 * nobody would wait for is not worth pinning the WAL for.  A month's export
 * of a busy branch (70,000 transactions) takes about 3 s. */
#define CTL_QUERY_MAX_SEC 60

struct ctl_query;
struct control;

/* What a query may know besides the journal, copied when it is asked. */
struct ctl_query_env {
	const char *site;
};

/* Runs on the query thread (or, without one, on the main thread with the
 * core's connection).  Returns like a control_handler_fn. */
typedef int (*ctl_query_fn)(sqlite3 *db, json_object *req, const struct ctl_query_env *env,
			    json_object **reply, char **error);

/* Opens <db_path> read-only for the thread, starts it, and watches its
 * answers on e.  Returns 0 or a negative errno with *error set. */
int ctl_query_new(struct ctl_query **out, sd_event *e, const char *db_path, char **error);
void ctl_query_free(struct ctl_query *q);
/* Tests: stop queries after max_usec instead of CTL_QUERY_MAX_SEC. */
void ctl_query_set_limit(struct ctl_query *q, uint64_t max_usec);

/* From inside a control handler: hold its answer and run fn on the thread
 * with a copy of req.  Returns 0 (the handler then returns 0 and no reply),
 * or a negative errno with *error set. */
int ctl_query_submit(struct ctl_query *q, struct control *ctl, ctl_query_fn fn,
		     json_object *req, const struct ctl_query_env *env, char **error);

#endif
