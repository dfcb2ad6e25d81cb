/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "control.h"
#include "core.h"
#include "ctl_handlers.h"
#include "ctl_query.h"
#include "ctl_report.h"
#include "forwarder.h"
#include "instance.h"
#include "items.h"
#include "log.h"
#include "metrics.h"
#include "station.h"
#include "util/util.h"

#define EXPORT_MAX_ROWS 1000000

int parse_iso8601_usec(const char *s, uint64_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h = 0, mi = 0, n = 0;
	double sec = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return -EINVAL;
	const char *p = s + n;
	if (*p == 'T' || *p == ' ') {
		int m = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m) != 2)
			return -EINVAL;
		p += 1 + m;
		if (*p == ':') {
			char *end;
			sec = strtod(p + 1, &end);
			p = end;
		}
	}
	/* A UTC offset (+01:00, -0500) or Z; no zone at all means UTC. */
	long offset_sec = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh = 0, om = 0, m = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m) != 2 &&
		    sscanf(p + 1, "%2d%2d%n", &oh, &om, &m) != 2)
			return -EINVAL;
		if (oh > 14 || om > 59)
			return -EINVAL;
		offset_sec = (*p == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
		p += 1 + m;
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 || sec >= 61)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	time_t t = timegm(&tm) - offset_sec;
	if (t < 0)
		return -EINVAL;
	*out = (uint64_t)t * USEC_PER_SEC + (uint64_t)(sec * 1e6);
	return 0;
}

static const char *req_string(json_object *req, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool req_int(json_object *req, const char *key, int64_t *out)
{
	json_object *v;
	if (!json_object_object_get_ex(req, key, &v))
		return false;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return true;
	}
	if (json_object_is_type(v, json_type_string)) {
		char *end;
		long long x = strtoll(json_object_get_string(v), &end, 10);
		if (*end == '\0') {
			*out = x;
			return true;
		}
	}
	return false;
}

#define fail error_set

static void add_time(json_object *o, const char *key, uint64_t usec)
{
	char buf[40];
	format_iso8601(usec, buf, sizeof(buf));
	json_object_object_add(o, key, json_object_new_string(buf));
}

/* ---- status ---- */

static int ctl_status(void *userdata, json_object *req, json_object **reply, char **error)
{
	struct core *core = userdata;
	json_object *o = json_object_new_object();
	uint64_t now = now_realtime_usec();
	json_object_object_add(o, "site", json_object_new_string(core->cfg->site));
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "uptime_sec", json_object_new_int64((int64_t)((now - core->start_realtime_usec) / USEC_PER_SEC)));
	json_object_object_add(o, "state", json_object_new_string(core->state));
	json_object_object_add(o, "journal", json_object_new_string(journal_path(core->journal)));

	json_object *devs = json_object_new_array();
	for (size_t i = 0; i < core->n_devices; i++) {
		struct instance *d = core->devices[i];
		json_object *x = json_object_new_object();
		json_object_object_add(x, "name", json_object_new_string(d->name));
		json_object_object_add(x, "plugin", json_object_new_string(d->plugin->desc->name));
		json_object_object_add(x, "health", json_object_new_string(health_to_string(d->health)));
		json_object_object_add(x, "reason", json_object_new_string(d->health_reason ? d->health_reason : ""));
		json_object_object_add(x, "events", json_object_new_int64((int64_t)d->events));
		json_object_object_add(x, "station", json_object_new_string(d->station ? d->station->name : ""));
		/* the plugin's totals (host->set_counters(), ABI 1.5) */
		uint64_t c[INSTANCE_COUNTERS];
		instance_counters(d, c);
		json_object *errs = json_object_new_object();
		json_object_object_add(errs, "bad_frame", json_object_new_int64((int64_t)c[INSTANCE_COUNTER_BAD_FRAMES]));
		json_object_object_add(errs, "timeout", json_object_new_int64((int64_t)c[INSTANCE_COUNTER_TIMEOUTS]));
		json_object_object_add(errs, "device_error", json_object_new_int64((int64_t)c[INSTANCE_COUNTER_DEVICE_ERRORS]));
		json_object_object_add(errs, "reconnects", json_object_new_int64((int64_t)c[INSTANCE_COUNTER_RECONNECTS]));
		json_object_object_add(x, "errors", errs);
		json_object_array_add(devs, x);
	}
	json_object_object_add(o, "devices", devs);

	json_object *sts = json_object_new_array();
	for (size_t i = 0; i < core->n_stations; i++) {
		struct station *st = core->stations[i];
		json_object *x = json_object_new_object();
		json_object_object_add(x, "name", json_object_new_string(st->name));
		json_object_object_add(x, "role", json_object_new_string(st->role->name));
		json_object *dl = json_object_new_array();
		for (size_t k = 0; k < st->cfg->n_devices; k++)
			json_object_array_add(dl, json_object_new_string(st->cfg->devices[k]));
		json_object_object_add(x, "devices", dl);
		json_object_object_add(x, "transactions", json_object_new_int64((int64_t)st->transactions));
		json_object_array_add(sts, x);
	}
	json_object_object_add(o, "stations", sts);

	json_object *ups = json_object_new_array();
	int64_t total = 0;
	uint64_t oldest = 0;
	for (size_t i = 0; i < core->n_upstreams; i++) {
		struct instance *u = core->upstreams[i];
		struct journal_backlog b;
		struct forwarder_stats fs;
		journal_backlog(core->journal, u->name, &b);
		forwarder_stats(u->fw, &fs);
		json_object *x = json_object_new_object();
		json_object_object_add(x, "name", json_object_new_string(u->name));
		json_object_object_add(x, "plugin", json_object_new_string(u->plugin->desc->name));
		json_object_object_add(x, "state", json_object_new_string(fs.state));
		json_object_object_add(x, "health", json_object_new_string(health_to_string(u->health)));
		json_object_object_add(x, "backlog", json_object_new_int64(b.pending));
		json_object_object_add(x, "oldest_age_sec", json_object_new_int64(
			b.oldest_usec ? (int64_t)((now - b.oldest_usec) / USEC_PER_SEC) : 0));
		json_object_object_add(x, "done", json_object_new_int64(journal_count_done(core->journal, u->name)));
		json_object_object_add(x, "rejected", json_object_new_int64(b.rejected));
		json_object_object_add(x, "dead", json_object_new_int64(b.dead));
		/* While the upstream is not ok its own reason ("tls-verify: ...")
		 * says more than the forwarder's last RETRY message. */
		const char *why = u->health != CIRCD_HEALTH_OK && u->health_reason ? u->health_reason
				  : fs.last_error ? fs.last_error : "";
		json_object_object_add(x, "last_error", json_object_new_string(why));
		json_object_object_add(x, "reason", json_object_new_string(u->health_reason ? u->health_reason : ""));
		json_object_array_add(ups, x);
		total += b.pending;
		if (b.oldest_usec && (!oldest || b.oldest_usec < oldest))
			oldest = b.oldest_usec;
	}
	json_object_object_add(o, "upstreams", ups);
	json_object *bl = json_object_new_object();
	json_object_object_add(bl, "pending", json_object_new_int64(total));
	json_object_object_add(bl, "oldest_age_sec", json_object_new_int64(oldest ? (int64_t)((now - oldest) / USEC_PER_SEC) : 0));
	json_object_object_add(bl, "soft_limit", json_object_new_int64(core->cfg->backlog_soft_limit));
	json_object_object_add(o, "backlog", bl);
	json_object *counters = json_object_new_object();
	json_object_object_add(counters, "events", json_object_new_int64((int64_t)core->events_total));
	json_object_object_add(counters, "transactions", json_object_new_int64((int64_t)core->txns_total));
	json_object_object_add(counters, "duplicates", json_object_new_int64((int64_t)core->duplicates_total));
	json_object_object_add(counters, "commits", json_object_new_int64((int64_t)journal_commit_count(core->journal)));
	json_object_object_add(o, "counters", counters);
	*reply = o;
	return 0;
}

/* ---- read-only queries: on the query thread ---- */

int ctl_run_query(struct core *core, ctl_query_fn fn, json_object *req, json_object **reply,
		  char **error)
{
	struct ctl_query_env env = { .site = core->cfg->site };
	/* The query thread's connection sees what is committed: commit what
	 * the core has written so far, so the answer shows it, as it did
	 * when these queries ran on the core's own connection. */
	if (journal_dirty(core->journal))
		core_flush(core);
	if (!core->queries)
		return fn(journal_db(core->journal), req, &env, reply, error);
	return ctl_query_submit(core->queries, core->control, fn, req, &env, error);
}

/* ---- journal / export ---- */

/* Builds "WHERE ..." from the request's filters; binds come back in order. */
struct filter {
	char sql[1024];
	const char *text[8];
	int64_t ints[8];
	int kinds[8]; /* 0 text, 1 int */
	int n;
};

static void filter_add(struct filter *f, const char *clause, const char *text, int64_t iv, int kind)
{
	size_t len = strlen(f->sql);
	snprintf(f->sql + len, sizeof(f->sql) - len, "%s%s", len ? " AND " : " WHERE ", clause);
	f->text[f->n] = text;
	f->ints[f->n] = iv;
	f->kinds[f->n] = kind;
	f->n++;
}

static int build_filter(json_object *req, struct filter *f, char **error)
{
	*f = (struct filter){ 0 };
	const char *s;
	uint64_t t;
	if ((s = req_string(req, "station")) && *s)
		filter_add(f, "t.station = ?", s, 0, 0);
	if ((s = req_string(req, "kind")) && *s)
		filter_add(f, "t.kind = ?", s, 0, 0);
	if ((s = req_string(req, "item")) && *s)
		filter_add(f, "t.item_id = ?", s, 0, 0);
	if ((s = req_string(req, "state")) && *s)
		filter_add(f, "EXISTS (SELECT 1 FROM deliveries x WHERE x.txn_id = t.id AND x.state = ?)", s, 0, 0);
	if ((s = req_string(req, "since")) && *s) {
		if (parse_iso8601_usec(s, &t) < 0)
			return fail(error, -EINVAL, "since: not an ISO 8601 time: '%s'", s);
		filter_add(f, "t.event_time_usec >= ?", NULL, (int64_t)t, 1);
	}
	if ((s = req_string(req, "until")) && *s) {
		if (parse_iso8601_usec(s, &t) < 0)
			return fail(error, -EINVAL, "until: not an ISO 8601 time: '%s'", s);
		filter_add(f, "t.event_time_usec < ?", NULL, (int64_t)t, 1);
	}
	return 0;
}

static void filter_bind(struct filter *f, sqlite3_stmt *st)
{
	for (int i = 0; i < f->n; i++) {
		if (f->kinds[i])
			sqlite3_bind_int64(st, i + 1, f->ints[i]);
		else
			sqlite3_bind_text(st, i + 1, f->text[i], -1, SQLITE_STATIC);
	}
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? (const char *)s : "";
}

/* Overall state of a transaction across its upstreams: the least finished. */
static const char *overall_state(json_object *ups)
{
	static const char *const order[] = { "inflight", "pending", "dead", "rejected", "dismissed", "done" };
	const char *best = NULL;
	int best_rank = 99;
	json_object_object_foreach(ups, k, v) {
		(void)k;
		json_object *s;
		if (!json_object_object_get_ex(v, "state", &s))
			continue;
		for (int i = 0; i < (int)ARRAY_SIZE(order); i++)
			if (strcmp(order[i], json_object_get_string(s)) == 0 && i < best_rank) {
				best_rank = i;
				best = order[i];
			}
	}
	return best ? best : "recorded";
}

static int list_transactions(sqlite3 *db, json_object *req, bool full, int64_t limit,
			     json_object **rows_out, char **error)
{
	struct filter f;
	int r = build_filter(req, &f, error);
	if (r < 0)
		return r;
	/* Newest first for people (journal), oldest first for exports. */
	char *sql = xasprintf(
		"SELECT t.id, t.event_time_usec, t.kind, t.station, t.device, t.item_id, t.uid,"
		" t.patron_id, t.detail, t.created_usec FROM transactions t%s ORDER BY t.id %s LIMIT %lld",
		f.sql, full ? "ASC" : "DESC", (long long)limit);
	sqlite3_stmt *st, *dst;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		free(sql);
		return fail(error, -EIO, "journal query failed: %s", sqlite3_errmsg(db));
	}
	free(sql);
	sqlite3_prepare_v2(db, "SELECT upstream, state, attempts, message, response, note FROM deliveries"
			       " WHERE txn_id = ? ORDER BY upstream", -1, &dst, NULL);
	filter_bind(&f, st);
	json_object *rows = json_object_new_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_object *x = json_object_new_object();
		int64_t id = sqlite3_column_int64(st, 0);
		json_object_object_add(x, "id", json_object_new_int64(id));
		add_time(x, "time", (uint64_t)sqlite3_column_int64(st, 1));
		json_object_object_add(x, "kind", json_object_new_string(col(st, 2)));
		json_object_object_add(x, "station", json_object_new_string(col(st, 3)));
		json_object_object_add(x, "device", json_object_new_string(col(st, 4)));
		json_object_object_add(x, "item_id", json_object_new_string(col(st, 5)));
		json_object_object_add(x, "uid", json_object_new_string(col(st, 6)));
		if (sqlite3_column_type(st, 7) != SQLITE_NULL)
			json_object_object_add(x, "patron_id", json_object_new_string(col(st, 7)));
		if (full) {
			add_time(x, "created", (uint64_t)sqlite3_column_int64(st, 9));
			json_object *detail = sqlite3_column_type(st, 8) != SQLITE_NULL ? json_tokener_parse(col(st, 8)) : NULL;
			if (detail)
				json_object_object_add(x, "detail", detail);
		}
		json_object *ups = json_object_new_object();
		sqlite3_bind_int64(dst, 1, id);
		while (sqlite3_step(dst) == SQLITE_ROW) {
			json_object *u = json_object_new_object();
			json_object_object_add(u, "state", json_object_new_string(col(dst, 1)));
			json_object_object_add(u, "attempts", json_object_new_int(sqlite3_column_int(dst, 2)));
			json_object_object_add(u, "message", json_object_new_string(col(dst, 3)));
			if (full && sqlite3_column_type(dst, 4) != SQLITE_NULL) {
				json_object *resp = json_tokener_parse(col(dst, 4));
				if (resp)
					json_object_object_add(u, "response", resp);
			}
			if (sqlite3_column_type(dst, 5) != SQLITE_NULL)
				json_object_object_add(u, "note", json_object_new_string(col(dst, 5)));
			json_object_object_add(ups, col(dst, 0), u);
		}
		sqlite3_reset(dst);
		json_object_object_add(x, "state", json_object_new_string(overall_state(ups)));
		json_object_object_add(x, "upstreams", ups);
		json_object_array_add(rows, x);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(dst);
	*rows_out = rows;
	return 0;
}

static int query_journal(sqlite3 *db, json_object *req, const struct ctl_query_env *env,
			 json_object **reply, char **error)
{
	int64_t limit = 50;
	req_int(req, "limit", &limit);
	if (limit <= 0 || limit > EXPORT_MAX_ROWS)
		return fail(error, -EINVAL, "limit must be between 1 and %d", EXPORT_MAX_ROWS);
	json_object *rows;
	int r = list_transactions(db, req, false, limit, &rows, error);
	if (r < 0)
		return r;
	*reply = json_object_new_object();
	json_object_object_add(*reply, "transactions", rows);
	return 0;
}

static int query_export(sqlite3 *db, json_object *req, const struct ctl_query_env *env,
			json_object **reply, char **error)
{
	json_object *rows;
	int r = list_transactions(db, req, true, EXPORT_MAX_ROWS, &rows, error);
	if (r < 0)
		return r;
	*reply = json_object_new_object();
	/* Never cut silently: say so, and where to continue (--since). */
	if (json_object_array_length(rows) >= EXPORT_MAX_ROWS) {
		json_object_object_add(*reply, "truncated", json_object_new_boolean(true));
		log_warning("export: stopped at %d rows; export the rest with a later --since", EXPORT_MAX_ROWS);
	}
	json_object_object_add(*reply, "transactions", rows);
	return 0;
}

static int query_stats(sqlite3 *db, json_object *req, const struct ctl_query_env *env,
		       json_object **reply, char **error)
{
	const char *by = req_string(req, "by");
	if (!by)
		by = "hour";
	const char *fmt;
	if (strcmp(by, "hour") == 0)
		fmt = "%Y-%m-%dT%H:00";
	else if (strcmp(by, "day") == 0)
		fmt = "%Y-%m-%d";
	else
		return fail(error, -EINVAL, "by must be 'hour' or 'day', not '%s'", by);
	struct filter f;
	int r = build_filter(req, &f, error);
	if (r < 0)
		return r;
	char *sql = xasprintf("SELECT strftime('%s', t.event_time_usec / 1000000, 'unixepoch') AS period,"
			      " t.station, t.kind, count(*) FROM transactions t%s"
			      " GROUP BY period, t.station, t.kind ORDER BY period, t.station, t.kind",
			      fmt, f.sql);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		free(sql);
		return fail(error, -EIO, "journal query failed: %s", sqlite3_errmsg(db));
	}
	free(sql);
	filter_bind(&f, st);
	json_object *rows = json_object_new_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "period", json_object_new_string(col(st, 0)));
		json_object_object_add(x, "station", json_object_new_string(col(st, 1)));
		json_object_object_add(x, "kind", json_object_new_string(col(st, 2)));
		json_object_object_add(x, "count", json_object_new_int64(sqlite3_column_int64(st, 3)));
		json_object_array_add(rows, x);
	}
	sqlite3_finalize(st);
	json_object *series;
	r = report_series(db, req, true, &series, error);
	if (r < 0) {
		json_object_put(rows);
		return r;
	}
	*reply = json_object_new_object();
	json_object_object_add(*reply, "by", json_object_new_string(by));
	json_object_object_add(*reply, "rows", rows);
	json_object_object_add(*reply, "series", series);
	return 0;
}

static int ctl_journal(void *userdata, json_object *req, json_object **reply, char **error)
{
	return ctl_run_query(userdata, query_journal, req, reply, error);
}

static int ctl_export(void *userdata, json_object *req, json_object **reply, char **error)
{
	return ctl_run_query(userdata, query_export, req, reply, error);
}

static int ctl_stats(void *userdata, json_object *req, json_object **reply, char **error)
{
	return ctl_run_query(userdata, query_stats, req, reply, error);
}

/* ---- sim, reload ---- */

static int ctl_sim(void *userdata, json_object *req, json_object **reply, char **error)
{
	struct core *core = userdata;
	const char *dev = req_string(req, "device"), *line = req_string(req, "line");
	if (!dev || !line)
		return fail(error, -EINVAL, "sim needs \"device\" and \"line\"");
	struct instance *inst = core_find_device(core, dev);
	if (!inst)
		return fail(error, -ENOENT, "no device '%s'", dev);
	bool sim = false;
	for (const struct circd_option *o = inst->plugin->desc->options; o && o->key; o++)
		sim |= strcmp(o->key, "scenario") == 0;
	if (!sim)
		return fail(error, -EOPNOTSUPP, "device '%s' (plugin %s) does not take injections", dev,
			    inst->plugin->desc->name);
	struct circd_command cmd = { .struct_size = sizeof(cmd), .type = CIRCD_CMD_SIM_INJECT, .text = line };
	uint64_t id = instance_send_command(inst, &cmd);
	*reply = json_object_new_object();
	json_object_object_add(*reply, "queued", json_object_new_int64((int64_t)id));
	return 0;
}

static int ctl_reload(void *userdata, json_object *req, json_object **reply, char **error)
{
	int r = core_reload(userdata);
	if (r < 0)
		return fail(error, r, "the new configuration was refused (see the log); the old one keeps running");
	*reply = json_object_new_object();
	return 0;
}

/* ---- items ---- */

static int ctl_item(void *userdata, json_object *req, json_object **reply, char **error)
{
	struct core *core = userdata;
	const char *item = req_string(req, "item");
	if (!item || !item[0])
		return fail(error, -EINVAL, "item needs \"item\" (the barcode)");
	json_object *refresh;
	bool want_refresh = json_object_object_get_ex(req, "refresh", &refresh) &&
			    json_object_get_boolean(refresh);
	*reply = json_object_new_object();
	json_object *row = items_get(core->journal, item);
	json_object_object_add(*reply, "item", row ? row : NULL);
	json_object *last = items_last_lookup(core, item);
	if (last)
		json_object_object_add(*reply, "last_lookup", json_object_get(last));
	if (want_refresh) {
		int r = core_item_lookup(core, item, req_string(req, "upstream"));
		json_object_object_add(*reply, "refresh", json_object_new_string(
			r == 0 ? "queued" : "no such upstream"));
	}
	return 0;
}

/* ---- stations: the roles' own operations (selfcheck sessions, shelf
 * reports ...): {"cmd":"station","station":NAME,"op":OP, ...} ---- */

static int ctl_station(void *userdata, json_object *req, json_object **reply, char **error)
{
	struct core *core = userdata;
	const char *name = req_string(req, "station");
	const char *op = req_string(req, "op");
	if (!name || !op)
		return fail(error, -EINVAL, "station needs \"station\" and \"op\"");
	struct station *st = core_find_station(core, name);
	if (!st)
		return fail(error, -ENOENT, "no station '%s'", name);
	if (!st->role->control)
		return fail(error, -EOPNOTSUPP, "station '%s' (role %s) has no operations", name,
			    st->role->name);
	return st->role->control(st, op, req, reply, error);
}

/* ---- exceptions ---- */

/* What stations raised (station_exception(): "station-exception" events),
 * newest first, without those staff dismissed (a "station-exception-
 * dismissed" event names the one it closes). */
#define STATION_EXCEPTIONS_MAX 500
static json_object *station_exceptions_list(sqlite3 *db)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT id, time_usec, device, detail FROM events"
				   " WHERE type = 'station-exception' AND id NOT IN"
				   " (SELECT json_extract(detail, '$.event') FROM events"
				   "  WHERE type = 'station-exception-dismissed')"
				   " ORDER BY id DESC LIMIT ?", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int(st, 1, STATION_EXCEPTIONS_MAX);
	json_object *rows = json_object_new_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_object *x = json_object_new_object();
		json_object *d = sqlite3_column_text(st, 3)
					 ? json_tokener_parse((const char *)sqlite3_column_text(st, 3)) : NULL;
		json_object *v;
		json_object_object_add(x, "id", json_object_new_int64(sqlite3_column_int64(st, 0)));
		add_time(x, "time", (uint64_t)sqlite3_column_int64(st, 1));
		json_object_object_add(x, "source", json_object_new_string("station"));
		json_object_object_add(x, "station", json_object_new_string(
			d && json_object_object_get_ex(d, "station", &v) ? json_object_get_string(v) : col(st, 2)));
		json_object_object_add(x, "item_id", json_object_new_string(
			d && json_object_object_get_ex(d, "item_id", &v) ? json_object_get_string(v) : ""));
		json_object_object_add(x, "reason", json_object_new_string(
			d && json_object_object_get_ex(d, "reason", &v) ? json_object_get_string(v) : ""));
		if (d && json_object_object_get_ex(d, "txn", &v))
			json_object_object_add(x, "txn", json_object_new_int64(json_object_get_int64(v)));
		json_object_object_add(x, "detail", d ? d : json_object_new_object());
		json_object_array_add(rows, x);
	}
	sqlite3_finalize(st);
	return rows;
}

/* Staff close a station exception: a marker event, the original stays. */
static int station_exception_dismiss(struct core *core, int64_t id, const char *note,
				     json_object **reply, char **error)
{
	sqlite3 *db = journal_db(core->journal);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT device FROM events WHERE id = ? AND type = 'station-exception'"
				   " AND id NOT IN (SELECT json_extract(detail, '$.event') FROM events"
				   "  WHERE type = 'station-exception-dismissed')", -1, &st, NULL) != SQLITE_OK)
		return fail(error, -EIO, "journal query failed: %s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, id);
	char *device = sqlite3_step(st) == SQLITE_ROW ? xstrdup(col(st, 0)) : NULL;
	sqlite3_finalize(st);
	if (!device)
		return fail(error, -ENOENT, "no open station exception S%lld", (long long)id);
	json_object *d = json_object_new_object();
	json_object_object_add(d, "event", json_object_new_int64(id));
	json_object_object_add(d, "note", json_object_new_string(note ? note : ""));
	int r = journal_add_event(core->journal, device, "station-exception-dismissed", 0, 0,
				  json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
	json_object_put(d);
	free(device);
	if (r < 0)
		return fail(error, r, "journal write failed");
	log_info("station exception S%lld dismissed by staff%s%s", (long long)id, note ? ": " : "",
		 note ? note : "");
	core_flush(core);
	*reply = json_object_new_object();
	json_object_object_add(*reply, "station_exception", json_object_new_int64(id));
	return 0;
}

static int ctl_exceptions(void *userdata, json_object *req, json_object **reply, char **error)
{
	struct core *core = userdata;
	sqlite3 *db = journal_db(core->journal);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT id, created_usec, kind, station, item_id, upstream, reason,"
				   " message, attempts FROM exceptions ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return fail(error, -EIO, "journal query failed: %s", sqlite3_errmsg(db));
	json_object *rows = json_object_new_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "id", json_object_new_int64(sqlite3_column_int64(st, 0)));
		add_time(x, "time", (uint64_t)sqlite3_column_int64(st, 1));
		json_object_object_add(x, "kind", json_object_new_string(col(st, 2)));
		json_object_object_add(x, "station", json_object_new_string(col(st, 3)));
		json_object_object_add(x, "item_id", json_object_new_string(col(st, 4)));
		json_object_object_add(x, "upstream", json_object_new_string(col(st, 5)));
		json_object_object_add(x, "reason", json_object_new_string(col(st, 6)));
		json_object_object_add(x, "message", json_object_new_string(col(st, 7)));
		json_object_object_add(x, "attempts", json_object_new_int(sqlite3_column_int(st, 8)));
		json_object_array_add(rows, x);
	}
	sqlite3_finalize(st);
	json_object *station_rows = station_exceptions_list(db);
	if (!station_rows) {
		json_object_put(rows);
		return fail(error, -EIO, "journal query failed: %s", sqlite3_errmsg(db));
	}
	*reply = json_object_new_object();
	json_object_object_add(*reply, "exceptions", rows);
	json_object_object_add(*reply, "station_exceptions", station_rows);
	return 0;
}

static int exception_action(struct core *core, json_object *req, json_object **reply, char **error,
			    bool retry)
{
	int64_t id;
	if (!retry && req_int(req, "station_exception", &id))
		return station_exception_dismiss(core, id, req_string(req, "note"), reply, error);
	if (!req_int(req, "id", &id))
		return fail(error, -EINVAL, "needs \"id\"");
	int r = retry ? journal_exception_retry(core->journal, id)
		      : journal_exception_dismiss(core->journal, id, req_string(req, "note"));
	if (r == -ENOENT)
		return fail(error, r, "transaction %lld has no exception", (long long)id);
	if (r < 0)
		return fail(error, r, "journal write failed");
	log_info("exception %lld %s by staff%s%s", (long long)id, retry ? "queued for retry" : "dismissed",
		 !retry && req_string(req, "note") ? ": " : "", !retry && req_string(req, "note") ? req_string(req, "note") : "");
	for (size_t i = 0; i < core->n_upstreams; i++)
		forwarder_wake(core->upstreams[i]->fw);
	/* Answer only once it is durable. */
	core_flush_reply(core);
	*reply = json_object_new_object();
	json_object_object_add(*reply, "id", json_object_new_int64(id));
	return 0;
}

static int ctl_exceptions_retry(void *userdata, json_object *req, json_object **reply, char **error)
{
	return exception_action(userdata, req, reply, error, true);
}

static int ctl_exceptions_dismiss(void *userdata, json_object *req, json_object **reply, char **error)
{
	return exception_action(userdata, req, reply, error, false);
}

/* ---- metrics (Prometheus text exposition) ---- */

static int ctl_metrics(void *userdata, json_object *req, json_object **reply, char **error)
{
	char *text;
	size_t len;
	int r = metrics_render(userdata, &text, &len);
	if (r < 0)
		return fail(error, r, "cannot render the metrics: %s", strerror(-r));
	*reply = json_object_new_object();
	json_object_object_add(*reply, "text", json_object_new_string_len(text, (int)len));
	free(text);
	return 0;
}

void ctl_handlers_register(struct core *core)
{
	static const struct {
		const char *name;
		control_handler_fn fn;
	} cmds[] = {
		{ "status", ctl_status },
		{ "journal", ctl_journal },
		{ "export", ctl_export },
		{ "stats", ctl_stats },
		{ "sim", ctl_sim },
		{ "reload", ctl_reload },
		{ "exceptions", ctl_exceptions },
		{ "exceptions-retry", ctl_exceptions_retry },
		{ "exceptions-dismiss", ctl_exceptions_dismiss },
		{ "metrics", ctl_metrics },
		{ "item", ctl_item },
		{ "station", ctl_station },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		control_add_command(core->control, cmds[i].name, cmds[i].fn, core);
	ctl_report_register(core);
}
