/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate_store.h"
#include "journal.h"
#include "log.h"
#include "util/util.h"

void gate_store_init(struct gate_store *s, struct journal *j, const char *owner,
		     char *const *device_names, size_t n_devices)
{
	*s = (struct gate_store){ .journal = j, .owner = owner, .n_devices = n_devices };
	s->devices = xcalloc(n_devices ? n_devices : 1, sizeof(*s->devices));
	for (size_t i = 0; i < n_devices; i++)
		s->devices[i].name = xstrdup(device_names[i]);
}

void gate_store_free(struct gate_store *s)
{
	sqlite3_finalize(s->q_item);
	sqlite3_finalize(s->q_txn);
	sqlite3_finalize(s->q_seen);
	sqlite3_finalize(s->q_max);
	for (size_t i = 0; i < s->n_devices; i++)
		free(s->devices[i].name);
	free(s->devices);
	*s = (struct gate_store){ 0 };
}

static sqlite3_stmt *prepare(struct gate_store *s, sqlite3_stmt **cached, const char *sql)
{
	sqlite3 *db = journal_db(s->journal);
	if (!*cached &&
	    sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, cached, NULL) != SQLITE_OK) {
		log_err("%s: cannot prepare a journal query: %s", s->owner, sqlite3_errmsg(db));
		*cached = NULL;
	}
	return *cached;
}

enum gate_cache_state gate_store_item_state(struct gate_store *s, const char *item_id,
					    char *status, size_t status_size, const char **source)
{
	bool have_status = false, have_txn = false, txn_checkin = false;
	int64_t status_usec = 0, txn_usec = 0;
	*source = NULL;
	if (status_size)
		status[0] = '\0';

	sqlite3_stmt *q = prepare(s, &s->q_item,
				  "SELECT circulation_status, updated_usec FROM items WHERE item_id = ?1");
	if (q) {
		sqlite3_bind_text(q, 1, item_id, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
			snprintf(status, status_size, "%s", (const char *)sqlite3_column_text(q, 0));
			have_status = status[0] != '\0';
			status_usec = sqlite3_column_int64(q, 1);
		}
		sqlite3_reset(q);
	}
	q = prepare(s, &s->q_txn,
		    "SELECT kind, event_time_usec FROM transactions t WHERE item_id = ?1"
		    " AND kind IN ('checkin', 'checkout', 'renew') AND NOT EXISTS"
		    " (SELECT 1 FROM deliveries d WHERE d.txn_id = t.id"
		    "  AND d.state IN ('rejected', 'dead', 'dismissed'))"
		    " ORDER BY id DESC LIMIT 1");
	if (q) {
		sqlite3_bind_text(q, 1, item_id, -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW) {
			have_txn = true;
			txn_checkin = strcmp((const char *)sqlite3_column_text(q, 0), "checkin") == 0;
			txn_usec = sqlite3_column_int64(q, 1);
		}
		sqlite3_reset(q);
	}
	if (have_txn && (!have_status || txn_usec >= status_usec)) {
		*source = "transaction";
		return txn_checkin ? GATE_CACHE_NOT_ON_LOAN : GATE_CACHE_ON_LOAN;
	}
	if (have_status) {
		*source = "items";
		return gate_cache_state_of_status(status);
	}
	return GATE_CACHE_UNKNOWN;
}

static struct gate_store_device *device_max(struct gate_store *s, const char *device)
{
	for (size_t i = 0; i < s->n_devices; i++) {
		struct gate_store_device *d = &s->devices[i];
		if (strcmp(d->name, device) != 0)
			continue;
		if (!d->loaded) {
			sqlite3_stmt *q = prepare(s, &s->q_max, "SELECT max(device_event_id) FROM"
						  " transactions WHERE device = ?1");
			if (!q)
				return NULL;
			sqlite3_bind_text(q, 1, device, -1, SQLITE_STATIC);
			if (sqlite3_step(q) == SQLITE_ROW)
				d->max_id = (uint64_t)sqlite3_column_int64(q, 0);
			sqlite3_reset(q);
			d->loaded = true;
		}
		return d;
	}
	return NULL;
}

bool gate_store_journaled(struct gate_store *s, const char *device, uint64_t device_event_id)
{
	if (!device_event_id)
		return false;
	const struct gate_store_device *d = device_max(s, device);
	if (d && device_event_id > d->max_id)
		return false;
	sqlite3_stmt *q = prepare(s, &s->q_seen, "SELECT 1 FROM transactions"
				  " WHERE device = ?1 AND device_event_id = ?2");
	if (!q)
		return false;
	sqlite3_bind_text(q, 1, device, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)device_event_id);
	bool found = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_reset(q);
	return found;
}

void gate_store_note_journaled(struct gate_store *s, const char *device, uint64_t device_event_id)
{
	struct gate_store_device *d = device_event_id ? device_max(s, device) : NULL;
	if (d && device_event_id > d->max_id)
		d->max_id = device_event_id;
}
