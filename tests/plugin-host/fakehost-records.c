/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fakehost: what tests feed in (commands, transactions) and read back
 * (events, acknowledgements, reports, health, logs).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "fakehost-internal.h"

/* Waits on fh->cond until `expr` holds or timeout_ms passes; evaluates to
 * 0 or -ETIMEDOUT.  The lock is taken and released around it. */
#define WAIT_UNTIL(fh, timeout_ms, expr)                                              \
	({                                                                             \
		struct timespec ts_ = fakehost_deadline_in(timeout_ms);               \
		int r_ = 0;                                                            \
		pthread_mutex_lock(&(fh)->lock);                                       \
		while (!(expr))                                                        \
			if (pthread_cond_timedwait(&(fh)->cond, &(fh)->lock, &ts_) ==  \
			    ETIMEDOUT) {                                               \
				r_ = (expr) ? 0 : -ETIMEDOUT;                          \
				break;                                                 \
			}                                                              \
		pthread_mutex_unlock(&(fh)->lock);                                     \
		r_;                                                                    \
	})

/* ---- Events ---- */

size_t fakehost_event_count(struct fakehost *fh)
{
	pthread_mutex_lock(&fh->lock);
	size_t n = fh->n_events;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

const struct circd_event *fakehost_event(struct fakehost *fh, size_t i)
{
	pthread_mutex_lock(&fh->lock);
	const struct circd_event *ev = i < fh->n_events ? &fh->events[i]->ev : NULL;
	pthread_mutex_unlock(&fh->lock);
	return ev;
}

uint64_t fakehost_event_time(struct fakehost *fh, size_t i)
{
	pthread_mutex_lock(&fh->lock);
	uint64_t t = i < fh->n_events ? fh->events[i]->mono_usec : 0;
	pthread_mutex_unlock(&fh->lock);
	return t;
}

int fakehost_wait_events(struct fakehost *fh, size_t n, int timeout_ms)
{
	return WAIT_UNTIL(fh, timeout_ms, fh->n_events >= n);
}

void fakehost_refuse_emits(struct fakehost *fh, unsigned n)
{
	pthread_mutex_lock(&fh->lock);
	fh->refuse_emits = n;
	pthread_mutex_unlock(&fh->lock);
}

unsigned fakehost_refused_emits(struct fakehost *fh)
{
	pthread_mutex_lock(&fh->lock);
	unsigned n = fh->refused_emits;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

/* ---- Commands ---- */

uint64_t fakehost_command(struct fakehost *fh, uint32_t type, const uint8_t *uid,
			  uint8_t uid_len, int64_t value, const char *name, const char *text)
{
	struct fh_command *c = xcalloc(1, sizeof(*c));

	c->cmd.struct_size = sizeof(c->cmd);
	c->cmd.type = type;
	if (uid && uid_len <= CIRCD_UID_MAX) {
		memcpy(c->cmd.uid, uid, uid_len);
		c->cmd.uid_len = uid_len;
	}
	c->cmd.value = value;
	c->cmd.name = name ? xstrdup(name) : NULL;
	c->cmd.text = text ? xstrdup(text) : NULL;
	pthread_mutex_lock(&fh->lock);
	c->cmd.id = ++fh->next_cmd_id;
	fh->cmds = xrealloc(fh->cmds, (fh->n_cmds + 1) * sizeof(*fh->cmds));
	fh->cmds[fh->n_cmds++] = c;
	pthread_mutex_unlock(&fh->lock);
	fakehost_wake_plugin(fh);
	return c->cmd.id;
}

static struct fh_command *find_cmd(struct fakehost *fh, uint64_t id)
{
	return id >= 1 && id <= fh->n_cmds ? fh->cmds[id - 1] : NULL;
}

int fakehost_wait_command(struct fakehost *fh, uint64_t id, int timeout_ms, int *status,
			  const char **detail)
{
	int r = WAIT_UNTIL(fh, timeout_ms, find_cmd(fh, id) && find_cmd(fh, id)->done);
	if (r < 0)
		return r;
	pthread_mutex_lock(&fh->lock);
	struct fh_command *c = find_cmd(fh, id);
	if (status)
		*status = c->status;
	if (detail)
		*detail = c->detail;
	pthread_mutex_unlock(&fh->lock);
	return 0;
}

/* ---- Transactions ---- */

void fakehost_txn(struct fakehost *fh, const struct circd_txn *txn)
{
	struct circd_txn *t = xcalloc(1, sizeof(*t));

	*t = *txn;
	t->struct_size = sizeof(*t);
	t->site = xstrdup(txn->site ? txn->site : "");
	t->station = xstrdup(txn->station ? txn->station : "");
	t->device = xstrdup(txn->device ? txn->device : "");
	t->item_id = xstrdup(txn->item_id ? txn->item_id : "");
	t->patron_id = xstrdup(txn->patron_id ? txn->patron_id : "");
	t->uid = xstrdup(txn->uid ? txn->uid : "");
	t->json = txn->json ? xstrdup(txn->json) : NULL;
	pthread_mutex_lock(&fh->lock);
	fh->txns = xrealloc(fh->txns, (fh->n_txns + 1) * sizeof(*fh->txns));
	fh->txns[fh->n_txns++] = t;
	pthread_mutex_unlock(&fh->lock);
	fakehost_wake_plugin(fh);
}

size_t fakehost_report_count(struct fakehost *fh)
{
	pthread_mutex_lock(&fh->lock);
	size_t n = fh->n_reports;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

const struct fakehost_report *fakehost_report(struct fakehost *fh, size_t i)
{
	pthread_mutex_lock(&fh->lock);
	const struct fakehost_report *r = i < fh->n_reports ? fh->reports[i] : NULL;
	pthread_mutex_unlock(&fh->lock);
	return r;
}

int fakehost_wait_reports(struct fakehost *fh, size_t n, int timeout_ms)
{
	return WAIT_UNTIL(fh, timeout_ms, fh->n_reports >= n);
}

unsigned fakehost_report_order_errors(struct fakehost *fh)
{
	pthread_mutex_lock(&fh->lock);
	unsigned n = fh->order_errors;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

/* ---- Health and logs ---- */

enum circd_health fakehost_health(struct fakehost *fh)
{
	pthread_mutex_lock(&fh->lock);
	enum circd_health h = fh->health;
	pthread_mutex_unlock(&fh->lock);
	return h;
}

int fakehost_wait_health(struct fakehost *fh, enum circd_health h, int timeout_ms)
{
	return WAIT_UNTIL(fh, timeout_ms, fh->health == h);
}

size_t fakehost_health_count(struct fakehost *fh)
{
	pthread_mutex_lock(&fh->lock);
	size_t n = fh->n_healths;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

enum circd_health fakehost_health_at(struct fakehost *fh, size_t i)
{
	pthread_mutex_lock(&fh->lock);
	enum circd_health h = i < fh->n_healths ? fh->healths[i] : CIRCD_HEALTH_STARTING;
	pthread_mutex_unlock(&fh->lock);
	return h;
}

size_t fakehost_log_count(struct fakehost *fh)
{
	pthread_mutex_lock(&fh->lock);
	size_t n = fh->n_logs;
	pthread_mutex_unlock(&fh->lock);
	return n;
}

const char *fakehost_log(struct fakehost *fh, size_t i)
{
	pthread_mutex_lock(&fh->lock);
	const char *l = i < fh->n_logs ? fh->logs[i] : NULL;
	pthread_mutex_unlock(&fh->lock);
	return l;
}

bool fakehost_log_contains(struct fakehost *fh, const char *needle)
{
	bool found = false;

	pthread_mutex_lock(&fh->lock);
	for (size_t i = 0; i < fh->n_logs && !found; i++)
		found = strstr(fh->logs[i], needle) != NULL;
	pthread_mutex_unlock(&fh->lock);
	return found;
}

/* ---- Teardown ---- */

void fakehost_free_records(struct fakehost *fh)
{
	for (size_t i = 0; i < fh->n_opts; i++)
		free(fh->opts[i].value);
	free(fh->opts);
	for (size_t i = 0; i < fh->n_events; i++) {
		struct circd_event *ev = &fh->events[i]->ev;
		free((void *)ev->memory);
		free((void *)ev->item_id);
		free((void *)ev->name);
		free((void *)ev->text);
		free(fh->events[i]);
	}
	free(fh->events);
	for (size_t i = 0; i < fh->n_cmds; i++) {
		free((void *)fh->cmds[i]->cmd.name);
		free((void *)fh->cmds[i]->cmd.text);
		free(fh->cmds[i]->detail);
		free(fh->cmds[i]);
	}
	free(fh->cmds);
	for (size_t i = 0; i < fh->n_txns; i++) {
		struct circd_txn *t = fh->txns[i];
		free((void *)t->site);
		free((void *)t->station);
		free((void *)t->device);
		free((void *)t->item_id);
		free((void *)t->patron_id);
		free((void *)t->uid);
		free((void *)t->json);
		free(t);
	}
	free(fh->txns);
	free(fh->inflight);
	for (size_t i = 0; i < fh->n_reports; i++) {
		free(fh->reports[i]->message);
		free(fh->reports[i]->fields_json);
		free(fh->reports[i]);
	}
	free(fh->reports);
	free(fh->healths);
	for (size_t i = 0; i < fh->n_logs; i++)
		free(fh->logs[i]);
	free(fh->logs);
}
