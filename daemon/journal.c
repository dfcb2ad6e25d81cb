/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "util/util.h"

struct after_commit {
	journal_action_fn fn, drop;
	void *userdata;
	uint64_t arg;
	uint64_t seq; /* the commit it waits for; 0 = the open transaction's */
};

/* Checkpoints (see durability_checkpoint()): the durability thread starts
 * one when a commit leaves the WAL with this many frames (16 MiB at 4 KiB
 * pages); the main thread checkpoints itself, blocking, only when the WAL
 * has grown past the hard limit because the writer never paused long
 * enough for the thread's checkpoints to catch up. */
#define CHECKPOINT_FRAMES 4096
#define CHECKPOINT_HARD_FRAMES (4 * CHECKPOINT_FRAMES)

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
	char *path, *wal_path;
	sqlite3_stmt *stmt[_STMT_MAX];
	bool in_txn;
	/* FIFO of after-commit actions, seq non-decreasing from head, the
	 * untagged (seq 0) ones of the open transaction at the tail. */
	struct after_commit *actions;
	size_t head, n_actions, cap_actions;
	uint64_t commits;      /* sequence number of the last commit */
	uint64_t durable_seen; /* main thread's copy of `done` */
	int64_t batch_max_txn; /* largest transaction id of the open batch */
	int wal_frames;        /* frames in the WAL after the last commit */
	bool failed;           /* a commit or a sync failed: nothing more */

	/* The durability thread.  Under `lock`: want, done, sync_errno,
	 * ckpt_wanted, stop, sync_fn. */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t want, done;
	int sync_errno;
	bool ckpt_wanted, stop;
	int (*sync_fn)(int fd);
	int wal_fd, efd;
	sqlite3 *ckpt_db; /* the thread's own connection, for checkpoints */
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

/* ---- durability ----
 *
 * Commits are written by the main thread without a sync (synchronous =
 * NORMAL in WAL mode: no sync at commit; see below for what NORMAL still
 * syncs, and why it, not OFF).  The durability thread fdatasync()s the WAL
 * through its own descriptor (a sync on any descriptor of the inode flushes
 * it) and reports "durable up to commit N" through an eventfd; the main
 * thread then runs the after-commit actions of commits <= N.  The sequence
 * N is taken under the lock BEFORE the sync starts, and the main thread
 * publishes a commit only after sqlite3_step(COMMIT) has written it: so a
 * commit counts as durable only after a sync that began after its write.
 *
 * Checkpoints.  wal_autocheckpoint=0 on the main connection: it never
 * checkpoints while running.  SQLite's WAL documentation and wal.c give
 * what a checkpoint needs to be safe on power loss:
 *  1. the WAL is synced before any of its frames is copied into the
 *     database file (else the file could hold a commit the WAL loses);
 *  2. the database file is synced before nBackfill says the whole WAL is
 *     copied, because a writer that sees that restarts the WAL from the
 *     beginning and overwrites frames;
 *  3. when a writer restarts the WAL, the new header (new salts) is synced
 *     before new frames are written: otherwise the old header and old
 *     frames could survive next to a new frame, and recovery would replay
 *     stale, already copied frames over newer database pages (SQLite
 *     ticket ff5be73dee).
 * 1 and 2 hold for a checkpoint run by a connection whose synchronous is
 * not OFF: the durability thread checkpoints (PASSIVE, never blocking the
 * writer) through its own connection with synchronous=FULL.  3 is done by
 * the writer itself, the main connection, and only when synchronous is not
 * OFF: that is why it runs with NORMAL, not OFF.  It costs one fsync on the
 * main thread per WAL restart (after each completed checkpoint), not per
 * commit.  A checkpoint may copy commits that are not yet confirmed
 * durable: 1 makes them durable first.  The main connection closes last
 * and checkpoints on close; journal_close() sets it to FULL before that.
 *
 * A failed sync is fatal like a failed commit (the kernel may have dropped
 * the pages it could not write, so a later sync proves nothing): the thread
 * stops, the main thread drops every action still waiting, and
 * journal_commit() refuses from then on.  Nothing is released by it. */

bool journal_trace; /* CIRCD_TRACE_DURABILITY set: debug lines per commit */

static void notify_main(struct journal *j)
{
	uint64_t one = 1;
	ssize_t w = write(j->efd, &one, sizeof(one));
	(void)w; /* EAGAIN: the counter is already non-zero, the main loop wakes */
}

static int default_sync(int fd)
{
	return fdatasync(fd);
}

static bool durability_checkpoint(struct journal *j)
{
	int log_frames = 0, copied = 0;
	int rc = sqlite3_wal_checkpoint_v2(j->ckpt_db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
					   &copied);
	if (rc == SQLITE_OK || (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return true;
	log_err("journal %s: checkpoint failed: %s", j->path, sqlite3_errmsg(j->ckpt_db));
	return false;
}

static void *durability_thread(void *userdata)
{
	struct journal *j = userdata;
	pthread_mutex_lock(&j->lock);
	for (;;) {
		while (!j->stop && j->want == j->done && !j->ckpt_wanted)
			pthread_cond_wait(&j->cond, &j->lock);
		if (j->want > j->done) {
			uint64_t target = j->want; /* written before this sync starts */
			int (*fn)(int) = j->sync_fn;
			pthread_mutex_unlock(&j->lock);
			int r = fn(j->wal_fd);
			int err = r < 0 ? (errno ? errno : EIO) : 0;
			pthread_mutex_lock(&j->lock);
			if (err) {
				j->sync_errno = err;
				notify_main(j);
				break;
			}
			j->done = target;
			notify_main(j);
			continue;
		}
		if (j->ckpt_wanted) {
			j->ckpt_wanted = false;
			pthread_mutex_unlock(&j->lock);
			bool ok = durability_checkpoint(j);
			pthread_mutex_lock(&j->lock);
			if (!ok) {
				j->sync_errno = EIO;
				notify_main(j);
				break;
			}
			continue;
		}
		if (j->stop)
			break; /* and want == done: everything committed is durable */
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

static int durability_start(struct journal *j, char **error)
{
	j->wal_path = xasprintf("%s-wal", j->path);
	/* The WAL exists: journal_open() wrote through it, and SQLite deletes
	 * it only when the last connection closes (never while we run). */
	j->wal_fd = open(j->wal_path, O_RDONLY | O_CLOEXEC);
	if (j->wal_fd < 0) {
		int r = -errno;
		set_error(error, "%s: %s", j->wal_path, strerror(errno));
		return r;
	}
	/* What a previous run committed may never have been synced (it was
	 * killed between its commit and the sync): make it durable before this
	 * run acts on it.  And the WAL's directory entry must survive too. */
	int dfd = -1;
	char *dir = xstrdup(j->path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fdatasync(j->wal_fd) < 0 || dfd < 0 || fsync(dfd) < 0) {
		int r = -errno;
		set_error(error, "%s: cannot sync: %s", j->wal_path, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return r;
	}
	close(dfd);
	j->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (j->efd < 0) {
		int r = -errno;
		set_error(error, "eventfd: %s", strerror(errno));
		return r;
	}
	if (sqlite3_open_v2(j->path, &j->ckpt_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(j->ckpt_db, "PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;", NULL,
			 NULL, NULL) != SQLITE_OK) {
		set_error(error, "%s: %s", j->path,
			  j->ckpt_db ? sqlite3_errmsg(j->ckpt_db) : "cannot open");
		return -EIO;
	}
	sqlite3_extended_result_codes(j->ckpt_db, 1);
	j->sync_fn = default_sync;
	journal_trace = getenv("CIRCD_TRACE_DURABILITY") != NULL;
	j->want = j->done = j->durable_seen = j->commits;
	int r = pthread_create(&j->thread, NULL, durability_thread, j);
	if (r != 0) {
		set_error(error, "cannot start the journal's durability thread: %s", strerror(r));
		return -r;
	}
	j->thread_started = true;
	return 0;
}

static int on_wal_commit(void *userdata, sqlite3 *db, const char *name, int frames)
{
	struct journal *j = userdata;
	j->wal_frames = frames;
	return SQLITE_OK;
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
	j->wal_fd = j->efd = -1;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
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
	/* A return the patron has let go of must survive power loss: WAL; the
	 * migrations commit with synchronous=FULL, and from then on every
	 * commit is made durable by the durability thread (see above). */
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
	/* Prove the file is writable now rather than at the first return.
	 * In WAL mode the WAL file exists from the first read on. */
	r = exec_sql(j, "BEGIN IMMEDIATE; COMMIT; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0;",
		     error);
	if (r < 0)
		goto fail;
	sqlite3_wal_hook(j->db, on_wal_commit, j);
	r = durability_start(j, error);
	if (r < 0)
		goto fail;
	*out = j;
	return 0;
fail:
	journal_close(j);
	return r;
}

static void drop_actions(struct journal *j)
{
	/* Actions may queue more while they are dropped: take them one by one. */
	while (j->head < j->n_actions) {
		struct after_commit a = j->actions[j->head++];
		if (a.drop)
			a.drop(a.userdata, a.arg);
	}
	j->head = j->n_actions = 0;
}

static void durability_stop(struct journal *j)
{
	if (!j->thread_started)
		return;
	pthread_mutex_lock(&j->lock);
	j->stop = true;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	pthread_join(j->thread, NULL);
	j->thread_started = false;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->in_txn && j->db)
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
	/* The thread syncs what is committed before it stops (a drain); what
	 * is still queued was not released by the caller: dropped. */
	durability_stop(j);
	drop_actions(j);
	if (j->ckpt_db)
		sqlite3_close(j->ckpt_db);
	for (int i = 0; i < _STMT_MAX; i++)
		sqlite3_finalize(j->stmt[i]);
	if (j->db) {
		/* The last connection checkpoints on close and deletes the WAL:
		 * with full syncs (or not at all after a failure). */
		if (j->failed)
			sqlite3_db_config(j->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
		else
			sqlite3_exec(j->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
		sqlite3_close(j->db);
	}
	if (j->wal_fd >= 0)
		close(j->wal_fd);
	if (j->efd >= 0)
		close(j->efd);
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	free(j->actions);
	free(j->wal_path);
	free(j->path);
	free(j);
}

sqlite3 *journal_db(struct journal *j) { return j->db; }
const char *journal_path(struct journal *j) { return j->path; }
bool journal_dirty(struct journal *j) { return j->in_txn; }
uint64_t journal_commit_count(struct journal *j) { return j->commits; }
int journal_durable_fd(struct journal *j) { return j->efd; }
uint64_t journal_durable_count(struct journal *j) { return j->durable_seen; }

bool journal_durable_pending(struct journal *j)
{
	return j->in_txn || j->durable_seen < j->commits || j->head < j->n_actions;
}

void journal_set_sync_fn(struct journal *j, int (*fn)(int fd))
{
	pthread_mutex_lock(&j->lock);
	j->sync_fn = fn ? fn : default_sync;
	pthread_mutex_unlock(&j->lock);
}

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
	if (j->failed)
		return -EIO;
	int r = step_done(j, j->stmt[STMT_BEGIN]);
	if (r == 0) {
		j->in_txn = true;
		j->batch_max_txn = 0;
	}
	return r;
}

void journal_after_commit_full(struct journal *j, journal_action_fn fn, journal_action_fn drop,
			       void *userdata, uint64_t arg)
{
	if (j->head > 0 && j->head == j->n_actions)
		j->head = j->n_actions = 0;
	if (j->n_actions == j->cap_actions) {
		if (j->head > 0) {
			memmove(j->actions, j->actions + j->head,
				(j->n_actions - j->head) * sizeof(*j->actions));
			j->n_actions -= j->head;
			j->head = 0;
		}
		if (j->n_actions == j->cap_actions) {
			j->cap_actions = j->cap_actions ? j->cap_actions * 2 : 64;
			j->actions = xrealloc(j->actions, j->cap_actions * sizeof(*j->actions));
		}
	}
	/* Outside a transaction the action follows what is committed so far;
	 * when that is durable already the main loop runs it on its next turn
	 * (never from inside this call: the caller is not ready for that). */
	uint64_t seq = j->in_txn ? 0 : j->commits;
	j->actions[j->n_actions++] = (struct after_commit){ fn, drop, userdata, arg, seq };
	if (!j->in_txn && seq <= j->durable_seen && j->efd >= 0)
		notify_main(j);
}

void journal_after_commit(struct journal *j, journal_action_fn fn, void *userdata, uint64_t arg)
{
	journal_after_commit_full(j, fn, NULL, userdata, arg);
}

static void run_durable_actions(struct journal *j)
{
	/* Actions may write again and queue further actions (appended at the
	 * tail, untagged while a transaction is open): take them one by one. */
	while (!j->failed && j->head < j->n_actions) {
		struct after_commit *a = &j->actions[j->head];
		if (a->seq == 0 || a->seq > j->durable_seen)
			break;
		struct after_commit copy = *a;
		j->head++;
		copy.fn(copy.userdata, copy.arg);
	}
}

static void fail_journal(struct journal *j)
{
	j->failed = true;
	drop_actions(j);
}

int journal_dispatch_durable(struct journal *j)
{
	uint64_t v;
	ssize_t n = read(j->efd, &v, sizeof(v));
	(void)n;
	if (j->failed)
		return -EIO;
	pthread_mutex_lock(&j->lock);
	uint64_t done = j->done;
	int err = j->sync_errno;
	pthread_mutex_unlock(&j->lock);
	if (err) {
		log_err("journal %s: cannot make commits durable (sync of %s: %s)", j->path,
			j->wal_path, strerror(err));
		fail_journal(j);
		return -EIO;
	}
	j->durable_seen = done;
	run_durable_actions(j);
	return 0;
}

int journal_wait_durable(struct journal *j)
{
	int r = journal_commit(j);
	if (r < 0)
		return r;
	for (;;) {
		uint64_t v;
		ssize_t n = read(j->efd, &v, sizeof(v)); /* before the check: no lost wakeup */
		(void)n;
		pthread_mutex_lock(&j->lock);
		bool settled = j->done >= j->commits || j->sync_errno || !j->thread_started;
		pthread_mutex_unlock(&j->lock);
		if (settled)
			break;
		struct pollfd p = { .fd = j->efd, .events = POLLIN };
		poll(&p, 1, -1);
	}
	r = journal_dispatch_durable(j);
	if (r < 0)
		return r;
	/* The actions may have written again: make that durable too. */
	return j->in_txn ? journal_wait_durable(j) : 0;
}

int journal_commit(struct journal *j)
{
	if (j->failed) {
		if (j->in_txn) {
			sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
			j->in_txn = false;
		}
		return -EIO;
	}
	if (j->in_txn) {
		int r = step_done(j, j->stmt[STMT_COMMIT]);
		if (r < 0) {
			sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
			j->in_txn = false;
			fail_journal(j);
			return r;
		}
		j->in_txn = false;
		uint64_t seq = ++j->commits;
		for (size_t i = j->n_actions; i > j->head && j->actions[i - 1].seq == 0; i--)
			j->actions[i - 1].seq = seq;
		/* The trace tests/integration/test_durable_order.py checks
		 * (CIRCD_TRACE_DURABILITY=1: a line per commit is too many
		 * for every debug log). */
		if (!journal_trace)
			;
		else if (j->batch_max_txn > 0)
			log_debug("journal: commit %llu written, transactions up to %lld; durability pending",
				  (unsigned long long)seq, (long long)j->batch_max_txn);
		else
			log_debug("journal: commit %llu written; durability pending",
				  (unsigned long long)seq);
		if (j->wal_frames >= CHECKPOINT_HARD_FRAMES) {
			/* The thread's checkpoints never caught up with the writer:
			 * copy the rest now, with nothing writing, so that the next
			 * write restarts the WAL.  NORMAL syncs the checkpoint. */
			log_notice("journal %s: WAL at %d frames; checkpointing on the main thread",
				   j->path, j->wal_frames);
			int rc = sqlite3_wal_checkpoint_v2(j->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
			if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) {
				log_err("journal %s: checkpoint failed: %s", j->path, sqlite3_errmsg(j->db));
				fail_journal(j);
				return -EIO;
			}
			j->wal_frames = 0;
		}
		pthread_mutex_lock(&j->lock);
		j->want = seq;
		if (j->wal_frames >= CHECKPOINT_FRAMES)
			j->ckpt_wanted = true;
		pthread_cond_signal(&j->cond);
		pthread_mutex_unlock(&j->lock);
	} else {
		/* Nothing written: what was queued follows what is committed. */
		for (size_t i = j->n_actions; i > j->head && j->actions[i - 1].seq == 0; i--)
			j->actions[i - 1].seq = j->commits;
	}
	/* Already durable (nothing new was written): run now, as before. */
	run_durable_actions(j);
	return 0;
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
	if (txn_id > j->batch_max_txn)
		j->batch_max_txn = txn_id;
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
