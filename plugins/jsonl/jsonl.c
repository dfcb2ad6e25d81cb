/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * jsonl — an upstream that appends each forwarded transaction (txn->json)
 * as one '\n'-terminated line to a file.  Batch upload for systems that read
 * files, and the sink the integration tests read back.
 *
 * Durability contract (what OK means): a transaction is reported OK only
 * after its line was written and, with fsync=true (the default), fsync()ed.
 * Everything queued when the worker wakes is one batch: one write, one
 * fsync, then one OK per transaction in the order taken.
 *
 * Failure (ENOSPC, EIO, EFBIG, the file unwritable or its directory gone):
 * the file is truncated back to its size before the batch, so no half line
 * remains, every transaction of the batch is answered RETRY with the
 * strerror() text and health goes DEGRADED.  The forwarder retries; the
 * first batch that gets through sets health OK again.
 *
 * Rotation: before each batch the path is stat()ed; when it no longer names
 * the open file (logrotate moved it away), the file is reopened (created).
 *
 * The file is opened O_APPEND (several circd instances may share a sink;
 * each batch lands whole, as one write() of whole lines) and 0640.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <circd/plugin.h>

#include "util/util.h"

/* Forwarders queue at most a window of transactions; take at most this many
 * into one batch so a huge backlog replay still reports progress. */
#define JSONL_BATCH_MAX 1024

struct jsonl {
	struct circd_instance *inst;
	const struct circd_host_api *host;
	const char *path;
	bool fsync;
	bool reject_without_item;
	int fd;
	enum circd_health health;
};

static void set_health(struct jsonl *j, enum circd_health h, const char *reason)
{
	if (j->health == h)
		return;
	j->health = h;
	j->host->set_health(j->inst, h, reason);
}

/* Make sure j->fd is open on the file currently at j->path. */
static int ensure_open(struct jsonl *j)
{
	struct stat by_path, by_fd;

	if (j->fd >= 0) {
		if (stat(j->path, &by_path) == 0 && fstat(j->fd, &by_fd) == 0 &&
		    by_path.st_dev == by_fd.st_dev && by_path.st_ino == by_fd.st_ino)
			return 0;
		j->host->log(j->inst, CIRCD_LOG_INFO, "%s was rotated away: reopening", j->path);
		close(j->fd);
		j->fd = -1;
	}
	j->fd = open(j->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
	if (j->fd < 0)
		return -errno;
	if (fstat(j->fd, &by_fd) == 0 && !S_ISREG(by_fd.st_mode) && !S_ISCHR(by_fd.st_mode) &&
	    !S_ISFIFO(by_fd.st_mode)) {
		close(j->fd);
		j->fd = -1;
		return -EISDIR;
	}
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Append the lines; on failure leave the file as it was. */
static int append_batch(struct jsonl *j, const char *buf, size_t len)
{
	struct stat st;
	int r;

	r = ensure_open(j);
	if (r < 0)
		return r;
	if (len == 0)
		return 0;
	if (fstat(j->fd, &st) < 0)
		return -errno;
	r = write_all(j->fd, buf, len);
	if (r >= 0 && j->fsync && fsync(j->fd) < 0 && errno != EINVAL)
		r = -errno; /* EINVAL: a character device such as /dev/null */
	if (r < 0) {
		/* No half line may remain: a reader would take it for a record
		 * (and the retry appends the whole line again). */
		if (S_ISREG(st.st_mode) && ftruncate(j->fd, st.st_size) < 0)
			j->host->log(j->inst, CIRCD_LOG_ERR, "%s: cannot truncate after a failed "
				     "write: %s", j->path, strerror(errno));
		close(j->fd);
		j->fd = -1;
	}
	return r;
}

/* Why a transaction cannot go to this sink, or NULL. */
static const char *reject_reason(const struct jsonl *j, const struct circd_txn *t)
{
	if (t->kind == CIRCD_TXN_ITEM_INFO)
		return "a file cannot look items up";
	/* a kiosk's requests: not circulation, and they may carry a PIN */
	if (t->kind == CIRCD_TXN_PATRON_INFO || t->kind == CIRCD_TXN_END_SESSION)
		return "not supported: a file is not a library system";
	if (!t->json || !*t->json)
		return "transaction has no JSON";
	if (j->reject_without_item && (!t->item_id || !*t->item_id))
		return "no item id (reject_without_item is set)";
	return NULL;
}

/* How far back the file is searched for lines written before a crash: far
 * more than the core ever has in flight (its window), with lines of a few
 * hundred bytes. */
#define JSONL_TAIL_SCAN (4 << 20)

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The transaction ids of the lines at the end of the file (each line starts
 * {"id":N, as the core writes it), sorted; *n = count.  A transaction the
 * core says "may have been sent" (handed to us before a restart) that is
 * already there is not written twice: this is what makes the file
 * exactly-once across crashes, not only at-least-once. */
static int64_t *tail_ids(struct jsonl *j, size_t *n)
{
	*n = 0;
	int fd = open(j->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size == 0) {
		close(fd);
		return NULL;
	}
	off_t from = st.st_size > JSONL_TAIL_SCAN ? st.st_size - JSONL_TAIL_SCAN : 0;
	size_t len = (size_t)(st.st_size - from);
	char *buf = xcalloc(1, len + 1);
	ssize_t got = pread(fd, buf, len, from);
	close(fd);
	int64_t *ids = NULL;
	size_t cap = 0;
	for (char *p = buf; got > 0 && p < buf + got;) {
		char *nl = memchr(p, '\n', (size_t)(buf + got - p));
		if (!nl)
			break; /* a partial last line was never answered OK */
		*nl = '\0';
		if ((p != buf || from == 0) && strncmp(p, "{\"id\":", 6) == 0) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 1024;
				ids = xrealloc(ids, cap * sizeof(*ids));
			}
			ids[(*n)++] = strtoll(p + 6, NULL, 10);
		}
		p = nl + 1;
	}
	free(buf);
	if (ids)
		qsort(ids, *n, sizeof(*ids), cmp_i64);
	return ids;
}

enum verdict { WRITE, REJECT, ALREADY };

static void process_batch(struct jsonl *j)
{
	_cleanup_free_ struct circd_txn *txns = NULL;
	_cleanup_free_ enum verdict *verdicts = NULL;
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ int64_t *written = NULL;
	size_t n = 0, n_cap = 0, len = 0, cap = 0, n_written = 0;
	bool any_maybe_sent = false;

	while (n < JSONL_BATCH_MAX) {
		if (n == n_cap) {
			n_cap = n_cap ? 2 * n_cap : 16;
			txns = xrealloc(txns, n_cap * sizeof(*txns));
			verdicts = xrealloc(verdicts, n_cap * sizeof(*verdicts));
		}
		txns[n] = (struct circd_txn){ .struct_size = sizeof(struct circd_txn) };
		if (j->host->take_txn(j->inst, &txns[n]) != 1)
			break;
		any_maybe_sent |= txns[n].maybe_sent;
		n++;
	}
	if (n == 0)
		return;
	if (any_maybe_sent)
		written = tail_ids(j, &n_written);

	for (size_t k = 0; k < n; k++) {
		const struct circd_txn *t = &txns[k];
		verdicts[k] = WRITE;
		if (reject_reason(j, t)) {
			verdicts[k] = REJECT;
			continue;
		}
		if (t->maybe_sent && written &&
		    bsearch(&t->id, written, n_written, sizeof(*written), cmp_i64)) {
			verdicts[k] = ALREADY;
			continue;
		}
		size_t l = strlen(t->json);
		if (len + l + 1 > cap) {
			cap = (len + l + 1) * 2;
			buf = xrealloc(buf, cap);
		}
		/* JSON may carry raw newlines only as whitespace between tokens
		 * (inside strings they are escaped), so turning them into
		 * spaces keeps the object intact and the file one per line. */
		for (size_t i = 0; i < l; i++)
			buf[len + i] = t->json[i] == '\n' || t->json[i] == '\r' ? ' ' : t->json[i];
		len += l;
		buf[len++] = '\n';
	}

	int r = len ? append_batch(j, buf, len) : 0;
	if (r < 0) {
		j->host->log(j->inst, CIRCD_LOG_WARNING, "%s: %s (%zu transactions to retry)",
			     j->path, strerror(-r), n);
		set_health(j, CIRCD_HEALTH_DEGRADED, strerror(-r));
	} else {
		set_health(j, CIRCD_HEALTH_OK, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		struct circd_txn_result res = { .struct_size = sizeof(res) };
		if (verdicts[i] == REJECT) {
			res.status = CIRCD_TXN_REJECTED;
			res.message = reject_reason(j, &txns[i]);
		} else if (verdicts[i] == ALREADY) {
			res.status = CIRCD_TXN_OK;
			res.fields_json = "{\"already_written\":true}";
		} else if (r < 0) {
			res.status = CIRCD_TXN_RETRY;
			res.message = strerror(-r);
		} else {
			res.status = CIRCD_TXN_OK;
		}
		j->host->report(j->inst, &txns[i], &res);
	}
}

static int jsonl_run(void *state)
{
	struct jsonl *j = state;
	int r;

	r = ensure_open(j);
	if (r < 0) {
		j->host->log(j->inst, CIRCD_LOG_WARNING, "%s: %s", j->path, strerror(-r));
		set_health(j, CIRCD_HEALTH_DEGRADED, strerror(-r));
	} else {
		set_health(j, CIRCD_HEALTH_OK, NULL);
	}
	for (;;) {
		/* A bounded wait: checking in with the watchdog even when idle. */
		int w = j->host->wait(j->inst, -1, 0, 5000);
		if (w < 0)
			return w; /* the host restarts us */
		if (w & CIRCD_WAKE_STOP)
			return 0;
		/* Take whatever is queued, whatever woke us. */
		process_batch(j);
		if (j->host->should_stop(j->inst))
			return 0;
	}
}

static void jsonl_destroy(void *state)
{
	struct jsonl *j = state;

	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	free(j);
}

static int jsonl_create(struct circd_instance *inst, const struct circd_host_api *host,
			void **state)
{
	struct jsonl *j = xcalloc(1, sizeof(*j));

	j->inst = inst;
	j->host = host;
	j->fd = -1;
	j->health = CIRCD_HEALTH_STARTING;
	j->path = host->opt_string(inst, "path");
	j->fsync = host->opt_bool(inst, "fsync");
	j->reject_without_item = host->opt_bool(inst, "reject_without_item");
	if (!j->path || !*j->path) {
		host->log(inst, CIRCD_LOG_ERR, "path must not be empty");
		free(j);
		return -EINVAL;
	}
	*state = j;
	return 0;
}

static const struct circd_option jsonl_options[] = {
	{ "path", CIRCD_OPT_STRING, NULL, CIRCD_OPT_REQUIRED, 0, 0,
	  "file the transactions are appended to, one JSON object per line" },
	{ "fsync", CIRCD_OPT_BOOL, "true", 0, 0, 0, "fsync each batch before answering OK" },
	{ "reject_without_item", CIRCD_OPT_BOOL, "false", 0, 0, 0,
	  "answer REJECTED for transactions without an item id" },
	CIRCD_OPTION_END,
};

CIRCD_PLUGIN_DEFINE(jsonl, PACKAGE_VERSION, "appends transactions to a JSON-lines file",
		    CIRCD_KIND_UPSTREAM, jsonl_options, jsonl_create, jsonl_run, jsonl_destroy);
