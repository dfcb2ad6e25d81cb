/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the stations did, counted from the journal (see ctl_report.h).
 *
 * Every figure is one SQL query over the transactions and events tables,
 * reading the detail JSON of the station facts with SQLite's JSON functions
 * (the conventions are in daemon/station.h).  A detail that is not JSON is
 * never fatal (json_extract() on one would abort the whole query): every
 * read goes through JX(), which yields NULL for such a row; the queries
 * sort those rows out, and they are counted in "malformed_events" and
 * logged.
 *
 * Periods are labelled like `circctl stats` ("2026-11-28T18:00" per hour,
 * "2026-11-28" per day), in UTC or in the daemon's local time (what a branch
 * manager's wall clock says).  SQLite only counts per quarter of an hour
 * (an integer division: every UTC offset in use is a multiple of 15
 * minutes); the labels are made here, once per quarter, not once per row.
 * With both ends of the period given, every period in between is listed
 * (zeros included) so a chart's axis has no holes; each per-period series
 * is an array aligned with "periods".
 *
 * The queries run on the query thread (ctl_query.h), with its own
 * read-only connection, not on the core's: a month of a busy branch takes
 * about half a second (tests/bench/bench_report.py), however well the
 * journal's index on events(type, time_usec) keeps each query to its own
 * rows.  So nothing here may touch the core: only the connection, the
 * request and the environment it is given.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "control.h"
#include "core.h"
#include "ctl_handlers.h"
#include "ctl_query.h"
#include "ctl_report.h"
#include "journal.h"
#include "log.h"
#include "util/util.h"

#define EVENTS_MAX_ROWS 1000000
/* Longest period listed hour by hour / day by day with its empty periods. */
#define FILL_MAX_HOURS (24 * 31)
#define FILL_MAX_DAYS 400
/* Longest "by bin" / "by reason" list; the rest is summed as "(other)". */
#define TOP_MAX 100

/* The value at path of the row's detail, or NULL when detail is not JSON. */
#define JX(path) "(CASE WHEN json_valid(detail) THEN json_extract(detail, '" path "') END)"

/* A list's key: "" when missing, NULL when the detail is not JSON. */
#define JKEY(path) \
	"(CASE WHEN json_valid(detail) THEN coalesce(json_extract(detail, '" path "'), '') END)"

/* Counting is per quarter of an hour (usec). */
#define QUARTER_USEC "900000000"
#define QUARTER_SEC 900

enum series {
	S_RETURNS,
	S_ALARM_TRUE,
	S_ALARM_FALSE,
	S_ALARM_UNKNOWN,
	S_PASS_IN,
	S_PASS_OUT,
	S_PASS_UNKNOWN,
	S_MALFORMED, /* gate-pass rows whose detail is not JSON */
	S_COUNT
};

struct report_query {
	int64_t since_usec, until_usec; /* [since, until); 0 / INT64_MAX when not given */
	bool has_since, has_until;
	bool by_hour;
	bool utc;
};

struct point {
	char label[32];
	int series;
	int64_t value;
};

struct report {
	sqlite3 *db;
	struct report_query q;
	struct point *points;
	size_t n_points, cap_points;
	char (*labels)[32]; /* sorted, unique */
	size_t n_labels, cap_labels;
	int64_t totals[S_COUNT];
	int64_t malformed;
};

static const char *req_string(json_object *req, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? (const char *)s : "";
}

static int query_parse(json_object *req, bool default_utc, struct report_query *q, char **error)
{
	*q = (struct report_query){ .since_usec = 0, .until_usec = INT64_MAX, .utc = default_utc };
	const char *s;
	uint64_t t;
	if ((s = req_string(req, "since")) && *s) {
		if (parse_iso8601_usec(s, &t) < 0 || t > INT64_MAX)
			return error_set(error, -EINVAL, "since: not an ISO 8601 time: '%s'", s);
		q->since_usec = (int64_t)t;
		q->has_since = true;
	}
	if ((s = req_string(req, "until")) && *s) {
		if (parse_iso8601_usec(s, &t) < 0 || t > INT64_MAX)
			return error_set(error, -EINVAL, "until: not an ISO 8601 time: '%s'", s);
		q->until_usec = (int64_t)t;
		q->has_until = true;
	}
	if (q->until_usec < q->since_usec)
		return error_set(error, -EINVAL, "until is before since");
	s = req_string(req, "by");
	if (!s || strcmp(s, "hour") == 0)
		q->by_hour = true;
	else if (strcmp(s, "auto") == 0)
		/* Hours for up to two days, days beyond (or with an open end). */
		q->by_hour = q->has_since && q->has_until &&
			     q->until_usec - q->since_usec <= 48 * 3600 * (int64_t)USEC_PER_SEC;
	else if (strcmp(s, "day") != 0)
		return error_set(error, -EINVAL, "by must be 'hour', 'day' or 'auto', not '%s'", s);
	json_object *v;
	if (json_object_object_get_ex(req, "utc", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return error_set(error, -EINVAL, "utc must be true or false");
		q->utc = json_object_get_boolean(v);
	}
	return 0;
}

/* ---- periods and per-period points ---- */

static void label_add(struct report *rp, const char *label)
{
	size_t lo = 0, hi = rp->n_labels;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(rp->labels[mid], label);
		if (c == 0)
			return;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (rp->n_labels == rp->cap_labels) {
		rp->cap_labels = rp->cap_labels ? rp->cap_labels * 2 : 64;
		rp->labels = xrealloc(rp->labels, rp->cap_labels * sizeof(*rp->labels));
	}
	memmove(rp->labels + lo + 1, rp->labels + lo, (rp->n_labels - lo) * sizeof(*rp->labels));
	snprintf(rp->labels[lo], sizeof(rp->labels[lo]), "%s", label);
	rp->n_labels++;
}

static ssize_t label_index(const struct report *rp, const char *label)
{
	size_t lo = 0, hi = rp->n_labels;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(rp->labels[mid], label);
		if (c == 0)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int prepare(struct report *rp, const char *sql, sqlite3_stmt **st, char **error)
{
	if (sqlite3_prepare_v2(rp->db, sql, -1, st, NULL) != SQLITE_OK)
		return error_set(error, -EIO, "journal query failed: %s", sqlite3_errmsg(rp->db));
	/* ?1 and ?2 are always the period's ends (usec); unused ones are harmless. */
	int n = sqlite3_bind_parameter_count(*st);
	if (n >= 1)
		sqlite3_bind_int64(*st, 1, rp->q.since_usec);
	if (n >= 2)
		sqlite3_bind_int64(*st, 2, rp->q.until_usec);
	return 0;
}

static int step_error(struct report *rp, sqlite3_stmt *st, char **error)
{
	int r = error_set(error, -EIO, "journal query failed: %s", sqlite3_errmsg(rp->db));
	sqlite3_finalize(st);
	return r;
}

/* The label of the period holding time t (seconds). */
static void period_label(const struct report_query *q, time_t t, char *out, size_t size)
{
	struct tm tm;
	if (q->utc)
		gmtime_r(&t, &tm);
	else
		localtime_r(&t, &tm);
	if (q->by_hour)
		strftime(out, size, "%Y-%m-%dT%H:00", &tm);
	else
		strftime(out, size, "%Y-%m-%d", &tm);
}

/* Runs a query returning (quarter, class, count) rows; class c goes to
 * series first + c (classes beyond last are ignored). */
static int collect_points(struct report *rp, const char *sql, int first, int last, char **error)
{
	sqlite3_stmt *st;
	int r = prepare(rp, sql, &st, error);
	if (r < 0)
		return r;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int c = sqlite3_column_int(st, 1);
		if (c < 0 || first + c > last || sqlite3_column_type(st, 0) == SQLITE_NULL)
			continue;
		if (rp->n_points == rp->cap_points) {
			rp->cap_points = rp->cap_points ? rp->cap_points * 2 : 64;
			rp->points = xrealloc(rp->points, rp->cap_points * sizeof(*rp->points));
		}
		struct point *p = &rp->points[rp->n_points++];
		period_label(&rp->q, (time_t)(sqlite3_column_int64(st, 0) * QUARTER_SEC), p->label,
			     sizeof(p->label));
		p->series = first + c;
		p->value = sqlite3_column_int64(st, 2);
		rp->totals[p->series] += p->value;
		label_add(rp, p->label);
	}
	if (rc != SQLITE_DONE)
		return step_error(rp, st, error);
	sqlite3_finalize(st);
	return 0;
}

/* Every period between since and until, when both are given and the list
 * stays chart-sized.  Stepping an hour at a time through the calendar gets
 * local days of 23 and 25 hours right. */
static void fill_periods(struct report *rp)
{
	if (!rp->q.has_since || !rp->q.has_until || rp->q.until_usec <= rp->q.since_usec)
		return;
	int64_t since_sec = rp->q.since_usec / (int64_t)USEC_PER_SEC;
	int64_t until_sec = (rp->q.until_usec + (int64_t)USEC_PER_SEC - 1) / (int64_t)USEC_PER_SEC;
	if ((until_sec - since_sec) / 3600 > (rp->q.by_hour ? FILL_MAX_HOURS : FILL_MAX_DAYS * 24))
		return;
	char label[32];
	for (int64_t t = since_sec; t < until_sec; t += 3600) {
		period_label(&rp->q, (time_t)t, label, sizeof(label));
		label_add(rp, label);
	}
	period_label(&rp->q, (time_t)(until_sec - 1), label, sizeof(label));
	label_add(rp, label);
}

static json_object *series_array(const struct report *rp, int series)
{
	int64_t *v = xcalloc(rp->n_labels ? rp->n_labels : 1, sizeof(*v));
	for (size_t i = 0; i < rp->n_points; i++) {
		if (rp->points[i].series != series)
			continue;
		ssize_t k = label_index(rp, rp->points[i].label);
		if (k >= 0)
			v[k] += rp->points[i].value;
	}
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < rp->n_labels; i++)
		json_object_array_add(a, json_object_new_int64(v[i]));
	free(v);
	return a;
}

/* ---- lists and single figures ---- */

/* (key, count) rows, biggest first, as [{key_name: .., "count": n}];
 * *total gets the sum over all rows.  A NULL key counts as malformed. */
static int top_counts(struct report *rp, const char *sql, const char *key_name, json_object **out,
		      int64_t *total, char **error)
{
	sqlite3_stmt *st;
	int r = prepare(rp, sql, &st, error);
	if (r < 0)
		return r;
	json_object *a = json_object_new_array();
	int64_t sum = 0, other = 0;
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t c = sqlite3_column_int64(st, 1);
		if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
			/* The key query yields NULL for a detail that is not JSON. */
			rp->malformed += c;
			continue;
		}
		sum += c;
		if (n++ >= TOP_MAX) {
			other += c;
			continue;
		}
		json_object *x = json_object_new_object();
		json_object_object_add(x, key_name, json_object_new_string(col_text(st, 0)));
		json_object_object_add(x, "count", json_object_new_int64(c));
		json_object_array_add(a, x);
	}
	if (rc != SQLITE_DONE) {
		json_object_put(a);
		return step_error(rp, st, error);
	}
	sqlite3_finalize(st);
	if (other) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, key_name, json_object_new_string("(other)"));
		json_object_object_add(x, "count", json_object_new_int64(other));
		json_object_array_add(a, x);
	}
	*out = a;
	*total = sum;
	return 0;
}

/* A query returning one row of integers into v[0..n-1]. */
static int one_row(struct report *rp, const char *sql, int64_t *v, int n, char **error)
{
	sqlite3_stmt *st;
	int r = prepare(rp, sql, &st, error);
	if (r < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return step_error(rp, st, error);
	for (int i = 0; i < n; i++)
		v[i] = rc == SQLITE_ROW ? sqlite3_column_int64(st, i) : 0;
	sqlite3_finalize(st);
	return 0;
}

static void add_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

/* ---- the series ---- */

static int collect_all_points(struct report *rp, char **error)
{
	fill_periods(rp);

	/* Returns: every checkin (the bookdrop's transactions). */
	int r = collect_points(rp,
		"SELECT event_time_usec / " QUARTER_USEC " AS p, 0, count(*) FROM transactions"
		" WHERE kind = 'checkin' AND event_time_usec >= ?1 AND event_time_usec < ?2 GROUP BY p",
		S_RETURNS, S_RETURNS, error);
	if (r < 0)
		return r;

	/* Alarms, each with the verdict of its latest "alarm-verdict" event
	 * (written after the alarm, so not before since); no verdict, or
	 * "unknown", counts as unknown. */
	r = collect_points(rp,
		"WITH v AS (SELECT CAST(" JX("$.txn") " AS INTEGER) AS txn, " JX("$.verdict") " AS verdict,"
		"   max(id) FROM events WHERE type = 'alarm-verdict' AND time_usec >= ?1"
		"   AND json_valid(detail) GROUP BY 1)"
		" SELECT t.event_time_usec / " QUARTER_USEC " AS p,"
		"  CASE v.verdict WHEN 'true' THEN 0 WHEN 'false' THEN 1 ELSE 2 END AS c, count(*)"
		" FROM transactions t LEFT JOIN v ON v.txn = t.id"
		" WHERE t.kind = 'alarm' AND t.event_time_usec >= ?1 AND t.event_time_usec < ?2"
		" GROUP BY p, c",
		S_ALARM_TRUE, S_ALARM_UNKNOWN, error);
	if (r < 0)
		return r;

	/* People through the gates: the core's "gate-pass" device events. */
	return collect_points(rp,
		"SELECT p, CASE WHEN d IS NULL THEN 3 WHEN d = 'in' THEN 0 WHEN d = 'out' THEN 1"
		"  ELSE 2 END AS c, count(*) FROM"
		" (SELECT time_usec / " QUARTER_USEC " AS p,"
		"   CASE WHEN json_valid(detail) THEN coalesce(json_extract(detail, '$.direction'), '')"
		"   END AS d FROM events WHERE type = 'gate-pass' AND time_usec >= ?1 AND time_usec < ?2)"
		" GROUP BY p, c",
		S_PASS_IN, S_MALFORMED, error);
}

static int add_selfcheck(struct report *rp, json_object *o, char **error)
{
	/* A checkout or renewal succeeded when every upstream took it, failed
	 * when one refused it (or gave up: dead; or staff dismissed the
	 * refusal), and is pending otherwise (offline, in flight). */
	static const char sql[] =
		"SELECT coalesce(sum(failed), 0), coalesce(sum(NOT failed AND open = 0 AND n > 0), 0),"
		"  coalesce(sum(NOT failed AND (open > 0 OR n = 0)), 0), count(*),"
		"  coalesce(sum(kind = 'checkout'), 0), coalesce(sum(kind = 'renew'), 0) FROM"
		" (SELECT t.kind AS kind,"
		"   EXISTS (SELECT 1 FROM deliveries d WHERE d.txn_id = t.id"
		"           AND d.state IN ('rejected','dead','dismissed')) AS failed,"
		"   (SELECT count(*) FROM deliveries d WHERE d.txn_id = t.id"
		"           AND d.state IN ('pending','inflight')) AS open,"
		"   (SELECT count(*) FROM deliveries d WHERE d.txn_id = t.id) AS n"
		"  FROM transactions t WHERE t.kind IN ('checkout','renew') AND t.patron_id IS NOT NULL"
		"  AND t.event_time_usec >= ?1 AND t.event_time_usec < ?2)";
	static const char sessions_sql[] =
		"SELECT count(*), coalesce(sum(" JX("$.items_ok") "), 0),"
		"  coalesce(sum(" JX("$.items_failed") "), 0) FROM events"
		" WHERE type = 'selfcheck-session' AND time_usec >= ?1 AND time_usec < ?2"
		" AND json_valid(detail)";
	int64_t v[6], s[3];
	int r = one_row(rp, sql, v, 6, error);
	if (r < 0)
		return r;
	r = one_row(rp, sessions_sql, s, 3, error);
	if (r < 0)
		return r;
	json_object *x = json_object_new_object();
	add_int(x, "transactions", v[3]);
	add_int(x, "checkouts", v[4]);
	add_int(x, "renewals", v[5]);
	add_int(x, "succeeded", v[1]);
	add_int(x, "failed", v[0]);
	add_int(x, "pending", v[2]);
	/* Of the answered ones; null when none was answered yet. */
	json_object_object_add(x, "success_rate", v[0] + v[1] > 0
		? json_object_new_double((double)v[1] / (double)(v[0] + v[1])) : NULL);
	add_int(x, "sessions", s[0]);
	add_int(x, "items_ok", s[1]);
	add_int(x, "items_failed", s[2]);
	json_object_object_add(o, "selfcheck", x);
	return 0;
}

static void format_local(const struct report_query *q, int64_t usec, char *out, size_t size)
{
	time_t t = (time_t)(usec / (int64_t)USEC_PER_SEC);
	struct tm tm;
	if (q->utc)
		gmtime_r(&t, &tm);
	else
		localtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M", &tm);
}

static void add_period_info(const struct report *rp, json_object *o)
{
	const struct report_query *q = &rp->q;
	char buf[64];
	json_object_object_add(o, "by", json_object_new_string(q->by_hour ? "hour" : "day"));
	if (q->utc) {
		json_object_object_add(o, "timezone", json_object_new_string("UTC"));
	} else {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(buf, sizeof(buf), "%Z (UTC%z)", &tm);
		json_object_object_add(o, "timezone", json_object_new_string(buf));
	}
	const struct {
		const char *key, *label_key;
		bool given;
		int64_t usec;
	} ends[] = {
		{ "since", "since_label", q->has_since, q->since_usec },
		{ "until", "until_label", q->has_until, q->until_usec },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ends); i++) {
		if (!ends[i].given) {
			json_object_object_add(o, ends[i].key, NULL);
			json_object_object_add(o, ends[i].label_key, NULL);
			continue;
		}
		format_iso8601((uint64_t)ends[i].usec, buf, sizeof(buf));
		json_object_object_add(o, ends[i].key, json_object_new_string(buf));
		format_local(q, ends[i].usec, buf, sizeof(buf));
		json_object_object_add(o, ends[i].label_key, json_object_new_string(buf));
	}
	json_object *periods = json_object_new_array();
	for (size_t i = 0; i < rp->n_labels; i++)
		json_object_array_add(periods, json_object_new_string(rp->labels[i]));
	json_object_object_add(o, "periods", periods);
}

static int build(struct report *rp, json_object *o, char **error)
{
	int r = collect_all_points(rp, error);
	if (r < 0)
		return r;
	add_period_info(rp, o);
	int64_t *tot = rp->totals, n;
	json_object *list;

	json_object *ret = json_object_new_object();
	json_object_object_add(o, "returns", ret);
	add_int(ret, "total", tot[S_RETURNS]);
	json_object_object_add(ret, "per_period", series_array(rp, S_RETURNS));
	r = top_counts(rp, "SELECT " JKEY("$.bin") ", count(*) FROM events"
			   " WHERE type = 'sort' AND time_usec >= ?1 AND time_usec < ?2"
			   " GROUP BY 1 ORDER BY 2 DESC, 1", "bin", &list, &n, error);
	if (r < 0)
		return r;
	json_object_object_add(ret, "by_bin", list);
	add_int(ret, "sorted", n);

	json_object *al = json_object_new_object();
	json_object_object_add(o, "alarms", al);
	add_int(al, "total", tot[S_ALARM_TRUE] + tot[S_ALARM_FALSE] + tot[S_ALARM_UNKNOWN]);
	add_int(al, "true", tot[S_ALARM_TRUE]);
	add_int(al, "false", tot[S_ALARM_FALSE]);
	add_int(al, "unknown", tot[S_ALARM_UNKNOWN]);
	json_object *alp = json_object_new_object();
	json_object_object_add(alp, "true", series_array(rp, S_ALARM_TRUE));
	json_object_object_add(alp, "false", series_array(rp, S_ALARM_FALSE));
	json_object_object_add(alp, "unknown", series_array(rp, S_ALARM_UNKNOWN));
	json_object_object_add(al, "per_period", alp);

	json_object *gp = json_object_new_object();
	json_object_object_add(o, "gate_passes", gp);
	add_int(gp, "total", tot[S_PASS_IN] + tot[S_PASS_OUT] + tot[S_PASS_UNKNOWN]);
	add_int(gp, "in", tot[S_PASS_IN]);
	add_int(gp, "out", tot[S_PASS_OUT]);
	add_int(gp, "unknown_direction", tot[S_PASS_UNKNOWN]);
	json_object *gpp = json_object_new_object();
	json_object_object_add(gpp, "in", series_array(rp, S_PASS_IN));
	json_object_object_add(gpp, "out", series_array(rp, S_PASS_OUT));
	json_object_object_add(gp, "per_period", gpp);

	json_object *sh = json_object_new_object();
	json_object_object_add(o, "shelf", sh);
	r = top_counts(rp, "SELECT " JKEY("$.anomaly") ", count(*) FROM events"
			   " WHERE type = 'shelf' AND time_usec >= ?1 AND time_usec < ?2"
			   " GROUP BY 1 ORDER BY 2 DESC, 1", "anomaly", &list, &n, error);
	if (r < 0)
		return r;
	add_int(sh, "total", n);
	json_object_object_add(sh, "by_anomaly", list);

	r = add_selfcheck(rp, o, error);
	if (r < 0)
		return r;

	/* Open exceptions are those waiting for staff now, whatever the
	 * period; the station exceptions are the period's. */
	json_object *ex = json_object_new_object();
	json_object_object_add(o, "exceptions", ex);
	int64_t open = 0;
	r = one_row(rp, "SELECT count(*) FROM exceptions", &open, 1, error);
	if (r < 0)
		return r;
	add_int(ex, "open", open);
	r = top_counts(rp, "SELECT " JKEY("$.reason") ", count(*) FROM events"
			   " WHERE type = 'station-exception' AND time_usec >= ?1 AND time_usec < ?2"
			   " GROUP BY 1 ORDER BY 2 DESC, 1", "reason", &list, &n, error);
	if (r < 0)
		return r;
	add_int(ex, "station", n);
	json_object_object_add(ex, "station_by_reason", list);

	/* The sort, gate-pass, shelf and station-exception rows that are not
	 * JSON were counted on the way; these are the rest. */
	int64_t malformed = 0;
	r = one_row(rp, "SELECT count(*) FROM events"
			" WHERE type IN ('alarm-verdict','selfcheck-session')"
			" AND time_usec >= ?1 AND time_usec < ?2 AND detail IS NOT NULL"
			" AND NOT json_valid(detail)", &malformed, 1, error);
	if (r < 0)
		return r;
	malformed += rp->malformed + tot[S_MALFORMED];
	add_int(o, "malformed_events", malformed);
	if (malformed > 0)
		log_warning("report: %" PRId64 " station events with a detail that is not JSON were "
			    "left out", malformed);
	return 0;
}

int report_series(sqlite3 *db, json_object *req, bool default_utc, json_object **out,
		  char **error)
{
	struct report rp = { .db = db };
	int r = query_parse(req, default_utc, &rp.q, error);
	if (r < 0)
		return r;
	json_object *o = json_object_new_object();
	r = build(&rp, o, error);
	free(rp.points);
	free(rp.labels);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}

static int query_report_data(sqlite3 *db, json_object *req, const struct ctl_query_env *env,
			     json_object **reply, char **error)
{
	json_object *o;
	int r = report_series(db, req, false, &o, error);
	if (r < 0)
		return r;
	char now[40];
	format_iso8601(now_realtime_usec(), now, sizeof(now));
	json_object_object_add(o, "site", json_object_new_string(env->site));
	json_object_object_add(o, "generated", json_object_new_string(now));
	*reply = o;
	return 0;
}

/* ---- events: the events table for exports ---- */

static int query_events(sqlite3 *db, json_object *req, const struct ctl_query_env *env,
			json_object **reply, char **error)
{
	struct report_query q;
	int r = query_parse(req, true, &q, error);
	if (r < 0)
		return r;
	/* type: one type or a comma-separated list of them. */
	const char *types = req_string(req, "type");
	_cleanup_free_ char *types_copy = xstrdup(types ? types : "");
	const char *type_list[16];
	size_t n_types = 0;
	char *save = NULL;
	for (char *tok = strtok_r(types_copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!*tok)
			continue;
		if (n_types == ARRAY_SIZE(type_list))
			return error_set(error, -EINVAL, "type: at most %zu types", ARRAY_SIZE(type_list));
		type_list[n_types++] = tok;
	}
	const char *station = req_string(req, "station"), *device = req_string(req, "device");
	/* Numbered binds: ?1 ?2 the period, ?3 station, ?4 device, ?5... types. */
	char in_list[128] = "";
	for (size_t i = 0; i < n_types; i++) {
		size_t len = strlen(in_list);
		snprintf(in_list + len, sizeof(in_list) - len, "%s?%zu", i ? "," : "", i + 5);
	}
	_cleanup_free_ char *sql = xasprintf(
		"SELECT id, time_usec, type, device, detail, json_valid(detail) FROM events"
		" WHERE time_usec >= ?1 AND time_usec < ?2%s%s%s%s%s ORDER BY id LIMIT %d",
		n_types ? " AND type IN (" : "", in_list, n_types ? ")" : "",
		station && *station ? " AND " JX("$.station") " = ?3" : "",
		device && *device ? " AND device = ?4" : "", EVENTS_MAX_ROWS);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return error_set(error, -EIO, "journal query failed: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, q.since_usec);
	sqlite3_bind_int64(st, 2, q.until_usec);
	if (station && *station)
		sqlite3_bind_text(st, 3, station, -1, SQLITE_STATIC);
	if (device && *device)
		sqlite3_bind_text(st, 4, device, -1, SQLITE_STATIC);
	for (size_t i = 0; i < n_types; i++)
		sqlite3_bind_text(st, 5 + (int)i, type_list[i], -1, SQLITE_STATIC);
	json_object *rows = json_object_new_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *x = json_object_new_object();
		char t[40];
		add_int(x, "id", sqlite3_column_int64(st, 0));
		format_iso8601((uint64_t)sqlite3_column_int64(st, 1), t, sizeof(t));
		json_object_object_add(x, "time", json_object_new_string(t));
		json_object_object_add(x, "type", json_object_new_string(col_text(st, 2)));
		json_object_object_add(x, "device", json_object_new_string(col_text(st, 3)));
		json_object *detail = sqlite3_column_int(st, 5) ? json_tokener_parse(col_text(st, 4)) : NULL;
		json_object *v;
		const char *station_of = "", *item_of = "";
		if (detail && json_object_is_type(detail, json_type_object)) {
			if (json_object_object_get_ex(detail, "station", &v) && json_object_is_type(v, json_type_string))
				station_of = json_object_get_string(v);
			if (json_object_object_get_ex(detail, "item_id", &v) && json_object_is_type(v, json_type_string))
				item_of = json_object_get_string(v);
		}
		json_object_object_add(x, "station", json_object_new_string(station_of));
		json_object_object_add(x, "item_id", json_object_new_string(item_of));
		if (detail)
			json_object_object_add(x, "detail", detail);
		else if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			/* Not JSON: kept as the text it is, never dropped. */
			json_object_object_add(x, "detail_text", json_object_new_string(col_text(st, 4)));
		json_object_array_add(rows, x);
	}
	if (rc != SQLITE_DONE) {
		json_object_put(rows);
		r = error_set(error, -EIO, "journal query failed: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return r;
	}
	sqlite3_finalize(st);
	*reply = json_object_new_object();
	if (json_object_array_length(rows) >= EVENTS_MAX_ROWS) {
		json_object_object_add(*reply, "truncated", json_object_new_boolean(true));
		log_warning("events: stopped at %d rows; export the rest with a later --since", EVENTS_MAX_ROWS);
	}
	json_object_object_add(*reply, "events", rows);
	return 0;
}

static int ctl_report_data(void *userdata, json_object *req, json_object **reply, char **error)
{
	return ctl_run_query(userdata, query_report_data, req, reply, error);
}

static int ctl_events(void *userdata, json_object *req, json_object **reply, char **error)
{
	return ctl_run_query(userdata, query_events, req, reply, error);
}

void ctl_report_register(struct core *core)
{
	control_add_command(core->control, "report-data", ctl_report_data, core);
	control_add_command(core->control, "events", ctl_events, core);
}
