/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "util/util.h"

struct after_commit {
	journal_action_fn fn;
	void *userdata;
	uint64_t arg;
};

enum {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_ADD_TXN,
	STMT_ADD_DELIVERY,
	STMT_ADD_EVENT,
	STMT_FETCH_PENDING,
	STMT_SET_DELIVERY,
	STMT_INFLIGHT_RANGE,
	STMT_DONE_RANGE,
	STMT_BACKLOG_OPEN,
	STMT_BACKLOG_DONE,
	_STMT_MAX,
};

static const char *const stmt_sql[_STMT_MAX] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_ADD_TXN] =
		"INSERT INTO transactions(kind, station, device, item_id, uid, patron_id,"
		" event_time_usec, created_usec, device_event_id, detail)"
		" VALUES (?,?,?,?,?,?,?,?,?,?)",
	[STMT_ADD_DELIVERY] =
		"INSERT INTO deliveries(txn_id, upstream, state, updated_usec) VALUES (?,?,'pending',?)",
	[STMT_ADD_EVENT] =
		"INSERT INTO events(device, type, time_usec, device_event_id, detail) VALUES (?,?,?,?,?)",
	[STMT_FETCH_PENDING] =
		"SELECT t.id, t.kind, t.station, t.device, t.item_id, t.uid, t.patron_id, t.detail,"
		" t.event_time_usec, t.created_usec, d.attempts, d.maybe_sent"
		" FROM deliveries d JOIN transactions t ON t.id = d.txn_id"
		/* the IN term lets SQLite use the partial index deliveries_open */
		" WHERE d.upstream = ? AND d.state IN ('pending','inflight') AND d.state = 'pending'"
		" AND d.txn_id > ?"
		" ORDER BY d.txn_id LIMIT ?",
	[STMT_SET_DELIVERY] =
		"UPDATE deliveries SET state = ?, attempts = ?, maybe_sent = ?, updated_usec = ?,"
		" message = coalesce(?, message), response = coalesce(?, response)"
		" WHERE txn_id = ? AND upstream = ?",
	[STMT_INFLIGHT_RANGE] =
		"UPDATE deliveries SET state = 'inflight', updated_usec = ?1"
		" WHERE upstream = ?2 AND state IN ('pending','inflight') AND state = 'pending'"
		" AND txn_id BETWEEN ?3 AND ?4",
	[STMT_DONE_RANGE] =
		"UPDATE deliveries SET state = 'done', attempts = attempts + 1, updated_usec = ?1"
		" WHERE upstream = ?2 AND state IN ('pending','inflight') AND state = 'inflight'"
		" AND txn_id BETWEEN ?3 AND ?4",
	/* Both walk only the partial indexes: cheap enough for STATUS= every
	 * few seconds however long the journal is. */
	[STMT_BACKLOG_OPEN] =
		"SELECT count(*), (SELECT t.created_usec FROM deliveries d JOIN transactions t"
		"  ON t.id = d.txn_id WHERE d.upstream = ?1 AND d.state IN ('pending','inflight')"
		"  ORDER BY d.txn_id LIMIT 1)"
		" FROM deliveries WHERE upstream = ?1 AND state IN ('pending','inflight')",
	[STMT_BACKLOG_DONE] =
		"SELECT sum(state = 'rejected'), sum(state = 'dead')"
		" FROM deliveries WHERE upstream = ? AND state IN ('rejected','dead')",
};

struct journal {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *stmt[_STMT_MAX];
	bool in_txn;
	struct after_commit *actions;
	size_t n_actions, cap_actions;
	uint64_t commits;
};

/* Schema history.  Each step takes the database from version i to i+1; a
 * database is only ever migrated forward, inside one transaction. */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE transactions ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: consumers de-duplicate on it */
	"  kind TEXT NOT NULL,"
	"  station TEXT NOT NULL,"
	"  device TEXT NOT NULL,"
	"  item_id TEXT NOT NULL DEFAULT '',"
	"  uid TEXT NOT NULL DEFAULT '',"
	"  patron_id TEXT,"
	"  event_time_usec INTEGER NOT NULL,"
	"  created_usec INTEGER NOT NULL,"
	"  device_event_id INTEGER,"
	"  detail TEXT,"
	"  UNIQUE (device, device_event_id));"
	"CREATE INDEX transactions_time ON transactions(event_time_usec);"
	"CREATE INDEX transactions_item ON transactions(item_id);"
	"CREATE TABLE deliveries ("
	"  txn_id INTEGER NOT NULL REFERENCES transactions(id) ON DELETE CASCADE,"
	"  upstream TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN"
	"    ('pending','inflight','done','rejected','dead','dismissed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  maybe_sent INTEGER NOT NULL DEFAULT 0,"
	"  updated_usec INTEGER NOT NULL,"
	"  message TEXT,"
	"  response TEXT,"
	"  note TEXT,"
	"  PRIMARY KEY (txn_id, upstream)) WITHOUT ROWID;"
	/* Only open deliveries are indexed: a row enters it when journaled,
	 * stays through pending -> inflight, and leaves when finished, so a
	 * delivery costs two index writes, not one per state change. */
	"CREATE INDEX deliveries_open ON deliveries(upstream, txn_id)"
	"  WHERE state IN ('pending','inflight');"
	"CREATE INDEX deliveries_exceptions ON deliveries(upstream)"
	"  WHERE state IN ('rejected','dead');"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  device TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  time_usec INTEGER NOT NULL,"
	"  device_event_id INTEGER,"
	"  detail TEXT,"
	"  UNIQUE (device, device_event_id));"
	"CREATE INDEX events_time ON events(time_usec);"
	"CREATE TABLE items ("
	"  item_id TEXT PRIMARY KEY,"
	"  circulation_status TEXT,"
	"  security TEXT,"
	"  title TEXT,"
	"  call_number TEXT,"
	"  home_location TEXT,"
	"  due_date TEXT,"
	"  last_seen_where TEXT,"
	"  last_seen_usec INTEGER,"
	"  updated_usec INTEGER) WITHOUT ROWID;"
	"CREATE VIEW exceptions AS"
	"  SELECT t.id AS id, t.created_usec AS created_usec, t.kind AS kind, t.station AS station,"
	"         t.item_id AS item_id, d.upstream AS upstream, d.state AS reason,"
	"         d.message AS message, d.attempts AS attempts"
	"  FROM deliveries d JOIN transactions t ON t.id = d.txn_id"
	"  WHERE d.state IN ('rejected','dead');",
	/* 1 -> 2: the statistics read one kind of event over a period
	 * (daemon/ctl_report.c); without this they scan every event of it. */
	"CREATE INDEX events_type_time ON events(type, time_usec);",
};

static int set_error(char **error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int set_error(char **error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (error && vasprintf(error, fmt, ap) < 0)
		*error = NULL;
	va_end(ap);
	return 0;
}

static int exec_sql(struct journal *j, const char *sql, char **error)
{
	char *msg = NULL;
	if (sqlite3_exec(j->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		set_error(error, "%s: %s", j->path, msg ? msg : sqlite3_errmsg(j->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static int pragma_int(struct journal *j, const char *sql, int *out)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

static int check_integrity(struct journal *j, char **error)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(j->db, "PRAGMA quick_check(1)", -1, &st, NULL) != SQLITE_OK) {
		set_error(error, "%s: not a usable database: %s", j->path, sqlite3_errmsg(j->db));
		return -EIO;
	}
	int rc = sqlite3_step(st);
	const char *res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	int r = 0;
	if (!res || strcmp(res, "ok") != 0) {
		set_error(error, "%s: database is corrupt (%s); move it aside and restore from backup",
			  j->path, res ? res : sqlite3_errmsg(j->db));
		r = -EIO;
	}
	sqlite3_finalize(st);
	return r;
}

static int migrate(struct journal *j, char **error)
{
	int version;
	if (pragma_int(j, "PRAGMA user_version", &version) < 0) {
		set_error(error, "%s: not a usable database: %s", j->path, sqlite3_errmsg(j->db));
		return -EIO;
	}
	if (version > JOURNAL_SCHEMA_VERSION) {
		set_error(error,
			  "%s: schema version %d is newer than this circd understands (%d); "
			  "run the newer circd or restore a backup",
			  j->path, version, JOURNAL_SCHEMA_VERSION);
		return -EPROTO;
	}
	for (; version < JOURNAL_SCHEMA_VERSION; version++) {
		char bump[64];
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", version + 1);
		int r = exec_sql(j, "BEGIN IMMEDIATE", error);
		if (r == 0)
			r = exec_sql(j, migrations[version], error);
		if (r == 0)
			r = exec_sql(j, bump, error);
		if (r == 0)
			r = exec_sql(j, "COMMIT", error);
		if (r < 0) {
			sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
			return r;
		}
		log_info("journal %s migrated to schema version %d", j->path, version + 1);
	}
	return 0;
}

int journal_open(const char *state_dir, struct journal **out, char **error)
{
	struct stat st;
	*out = NULL;
	if (stat(state_dir, &st) < 0) {
		int r = -errno;
		set_error(error, "state directory %s: %s", state_dir, strerror(errno));
		return r;
	}
	if (!S_ISDIR(st.st_mode)) {
		set_error(error, "state directory %s: not a directory", state_dir);
		return -ENOTDIR;
	}
	/* access() answers EROFS even for root on a read-only mount. */
	if (access(state_dir, W_OK | X_OK) < 0) {
		int r = -errno;
		set_error(error, "state directory %s is not writable: %s", state_dir, strerror(errno));
		return r;
	}

	struct journal *j = xcalloc(1, sizeof(*j));
	j->path = xasprintf("%s/%s", state_dir, JOURNAL_FILE);
	int rc = sqlite3_open_v2(j->path, &j->db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	int r = 0;
	if (rc != SQLITE_OK) {
		set_error(error, "%s: %s", j->path, j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(rc));
		r = -EIO;
		goto fail;
	}
	sqlite3_extended_result_codes(j->db, 1);
	sqlite3_busy_timeout(j->db, 5000);
	r = check_integrity(j, error);
	if (r < 0)
		goto fail;
	/* A return the patron has let go of must survive power loss: WAL with
	 * synchronous=FULL fsyncs the WAL on every commit. */
	r = exec_sql(j, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
		     error);
	if (r < 0)
		goto fail;
	r = migrate(j, error);
	if (r < 0)
		goto fail;
	for (int i = 0; i < _STMT_MAX; i++) {
		if (sqlite3_prepare_v3(j->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &j->stmt[i],
				       NULL) != SQLITE_OK) {
			set_error(error, "%s: %s", j->path, sqlite3_errmsg(j->db));
			r = -EIO;
			goto fail;
		}
	}
	/* Prove the file is writable now rather than at the first return. */
	r = exec_sql(j, "BEGIN IMMEDIATE; COMMIT;", error);
	if (r < 0)
		goto fail;
	*out = j;
	return 0;
fail:
	journal_close(j);
	return r;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->in_txn && j->db)
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < _STMT_MAX; i++)
		sqlite3_finalize(j->stmt[i]);
	if (j->db)
		sqlite3_close(j->db);
	free(j->actions);
	free(j->path);
	free(j);
}

sqlite3 *journal_db(struct journal *j) { return j->db; }
const char *journal_path(struct journal *j) { return j->path; }
bool journal_dirty(struct journal *j) { return j->in_txn; }
uint64_t journal_commit_count(struct journal *j) { return j->commits; }

static int step_done(struct journal *j, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return 0;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return -EEXIST;
	log_err("journal %s: %s", j->path, sqlite3_errmsg(j->db));
	if ((rc & 0xff) == SQLITE_FULL)
		return -ENOSPC;
	return -EIO;
}

int journal_begin(struct journal *j)
{
	if (j->in_txn)
		return 0;
	int r = step_done(j, j->stmt[STMT_BEGIN]);
	if (r == 0)
		j->in_txn = true;
	return r;
}

void journal_after_commit(struct journal *j, journal_action_fn fn, void *userdata, uint64_t arg)
{
	if (j->n_actions == j->cap_actions) {
		j->cap_actions = j->cap_actions ? j->cap_actions * 2 : 64;
		j->actions = xrealloc(j->actions, j->cap_actions * sizeof(*j->actions));
	}
	j->actions[j->n_actions++] = (struct after_commit){ fn, userdata, arg };
}

int journal_commit(struct journal *j)
{
	int r = 0;
	if (j->in_txn) {
		r = step_done(j, j->stmt[STMT_COMMIT]);
		if (r < 0) {
			sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
			j->in_txn = false;
			j->n_actions = 0;
			return r;
		}
		j->in_txn = false;
		j->commits++;
	}
	/* Actions may write again (and queue further actions): run them from a
	 * snapshot of the list. */
	while (j->n_actions > 0) {
		size_t n = j->n_actions;
		struct after_commit *batch = xcalloc(n, sizeof(*batch));
		memcpy(batch, j->actions, n * sizeof(*batch));
		j->n_actions = 0;
		for (size_t i = 0; i < n; i++)
			batch[i].fn(batch[i].userdata, batch[i].arg);
		free(batch);
		if (j->in_txn)
			break; /* the next commit runs what these queued */
	}
	return r;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

int journal_add_transaction(struct journal *j, const struct journal_txn_in *t,
			    const char *const *upstreams, size_t n_upstreams, int64_t *id)
{
	int r = journal_begin(j);
	if (r < 0)
		return r;
	uint64_t now = now_realtime_usec();
	sqlite3_stmt *st = j->stmt[STMT_ADD_TXN];
	sqlite3_bind_text(st, 1, t->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->station, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t->device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->item_id ? t->item_id : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, t->uid ? t->uid : "", -1, SQLITE_STATIC);
	bind_text_or_null(st, 6, t->patron_id);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)(t->event_time_usec ? t->event_time_usec : now));
	sqlite3_bind_int64(st, 8, (sqlite3_int64)now);
	if (t->device_event_id)
		sqlite3_bind_int64(st, 9, (sqlite3_int64)t->device_event_id);
	else
		sqlite3_bind_null(st, 9);
	bind_text_or_null(st, 10, t->detail_json);
	r = step_done(j, st);
	if (r < 0)
		return r;
	int64_t txn_id = sqlite3_last_insert_rowid(j->db);
	for (size_t i = 0; i < n_upstreams; i++) {
		st = j->stmt[STMT_ADD_DELIVERY];
		sqlite3_bind_int64(st, 1, txn_id);
		sqlite3_bind_text(st, 2, upstreams[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
		r = step_done(j, st);
		if (r < 0)
			return r;
	}
	if (id)
		*id = txn_id;
	return 0;
}

int journal_add_event(struct journal *j, const char *device, const char *type, uint64_t time_usec,
		      uint64_t device_event_id, const char *detail_json)
{
	int r = journal_begin(j);
	if (r < 0)
		return r;
	sqlite3_stmt *st = j->stmt[STMT_ADD_EVENT];
	sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)(time_usec ? time_usec : now_realtime_usec()));
	if (device_event_id)
		sqlite3_bind_int64(st, 4, (sqlite3_int64)device_event_id);
	else
		sqlite3_bind_null(st, 4);
	bind_text_or_null(st, 5, detail_json);
	return step_done(j, st);
}

int journal_requeue_inflight(struct journal *j)
{
	int r = journal_begin(j);
	if (r < 0)
		return r;
	if (sqlite3_exec(j->db,
			 "UPDATE deliveries SET state = 'pending', maybe_sent = 1 WHERE state = 'inflight'",
			 NULL, NULL, NULL) != SQLITE_OK) {
		log_err("journal %s: %s", j->path, sqlite3_errmsg(j->db));
		return -EIO;
	}
	return sqlite3_changes(j->db);
}

void journal_delivery_clear(struct journal_delivery *d)
{
	free(d->kind);
	free(d->station);
	free(d->device);
	free(d->item_id);
	free(d->uid);
	free(d->patron_id);
	free(d->detail_json);
	*d = (struct journal_delivery){ 0 };
}

static char *column_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? xstrdup((const char *)s) : NULL;
}

int journal_fetch_pending(struct journal *j, const char *upstream, int64_t after_id, size_t max,
			  struct journal_delivery **out)
{
	sqlite3_stmt *st = j->stmt[STMT_FETCH_PENDING];
	struct journal_delivery *v = xcalloc(max ? max : 1, sizeof(*v));
	size_t n = 0;
	int rc;
	sqlite3_bind_text(st, 1, upstream, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after_id);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct journal_delivery *d = &v[n++];
		d->txn_id = sqlite3_column_int64(st, 0);
		d->kind = column_dup(st, 1);
		d->station = column_dup(st, 2);
		d->device = column_dup(st, 3);
		d->item_id = column_dup(st, 4);
		d->uid = column_dup(st, 5);
		d->patron_id = column_dup(st, 6);
		d->detail_json = column_dup(st, 7);
		d->event_time_usec = (uint64_t)sqlite3_column_int64(st, 8);
		d->created_usec = (uint64_t)sqlite3_column_int64(st, 9);
		d->attempts = (uint32_t)sqlite3_column_int(st, 10);
		d->maybe_sent = sqlite3_column_int(st, 11) != 0;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	*out = v;
	return (int)n;
}

int journal_set_delivery(struct journal *j, int64_t txn_id, const char *upstream, const char *state,
			 uint32_t attempts, bool maybe_sent, const char *message,
			 const char *response_json)
{
	int r = journal_begin(j);
	if (r < 0)
		return r;
	sqlite3_stmt *st = j->stmt[STMT_SET_DELIVERY];
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)attempts);
	sqlite3_bind_int(st, 3, maybe_sent);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now_realtime_usec());
	bind_text_or_null(st, 5, message);
	bind_text_or_null(st, 6, response_json);
	sqlite3_bind_int64(st, 7, txn_id);
	sqlite3_bind_text(st, 8, upstream, -1, SQLITE_STATIC);
	return step_done(j, st);
}

static int range_update(struct journal *j, int which, const char *upstream, int64_t first,
			int64_t last)
{
	int r = journal_begin(j);
	if (r < 0)
		return r;
	sqlite3_stmt *st = j->stmt[which];
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now_realtime_usec());
	sqlite3_bind_text(st, 2, upstream, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, first);
	sqlite3_bind_int64(st, 4, last);
	r = step_done(j, st);
	return r < 0 ? r : sqlite3_changes(j->db);
}

int journal_mark_inflight_range(struct journal *j, const char *upstream, int64_t first, int64_t last)
{
	return range_update(j, STMT_INFLIGHT_RANGE, upstream, first, last);
}

int journal_mark_done_range(struct journal *j, const char *upstream, int64_t first, int64_t last)
{
	return range_update(j, STMT_DONE_RANGE, upstream, first, last);
}

int journal_backlog(struct journal *j, const char *upstream, struct journal_backlog *out)
{
	*out = (struct journal_backlog){ 0 };
	sqlite3_stmt *st = j->stmt[STMT_BACKLOG_OPEN];
	sqlite3_bind_text(st, 1, upstream, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->pending = sqlite3_column_int64(st, 0);
		out->oldest_usec = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	st = j->stmt[STMT_BACKLOG_DONE];
	sqlite3_bind_text(st, 1, upstream, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->rejected = sqlite3_column_int64(st, 0);
		out->dead = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return 0;
}

int64_t journal_count_done(struct journal *j, const char *upstream)
{
	sqlite3_stmt *st;
	int64_t n = -1;
	if (sqlite3_prepare_v2(j->db, "SELECT count(*) FROM deliveries WHERE upstream = ? AND state = 'done'",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, upstream, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int exec_changes(struct journal *j, const char *sql, int64_t id, const char *text)
{
	int r = journal_begin(j);
	if (r < 0)
		return r;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)now_realtime_usec());
	sqlite3_bind_int64(st, 2, id);
	if (text)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	return sqlite3_changes(j->db) > 0 ? 0 : -ENOENT;
}

int journal_exception_retry(struct journal *j, int64_t txn_id)
{
	/* A retried exception keeps its attempts count and is sent as a replay;
	 * maybe_sent stays as it was (a rejected post did reach the ILS). */
	return exec_changes(j,
			    "UPDATE deliveries SET state = 'pending', updated_usec = ?1"
			    " WHERE txn_id = ?2 AND state IN ('rejected','dead')",
			    txn_id, NULL);
}

int journal_exception_dismiss(struct journal *j, int64_t txn_id, const char *note)
{
	return exec_changes(j,
			    "UPDATE deliveries SET state = 'dismissed', updated_usec = ?1, note = ?3"
			    " WHERE txn_id = ?2 AND state IN ('rejected','dead')",
			    txn_id, note ? note : "");
}

int journal_prune(struct journal *j, uint64_t cutoff_usec)
{
	int r = journal_begin(j);
	if (r < 0)
		return r;
	sqlite3_stmt *st;
	int total = 0;
	static const char *const sql[] = {
		"DELETE FROM transactions WHERE created_usec < ?1 AND NOT EXISTS"
		" (SELECT 1 FROM deliveries d WHERE d.txn_id = transactions.id"
		"  AND d.state NOT IN ('done','dismissed'))",
		"DELETE FROM events WHERE time_usec < ?1",
	};
	for (size_t i = 0; i < ARRAY_SIZE(sql); i++) {
		if (sqlite3_prepare_v2(j->db, sql[i], -1, &st, NULL) != SQLITE_OK)
			return -EIO;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff_usec);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return -EIO;
		total += sqlite3_changes(j->db);
	}
	return total;
}
