/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The gate's reads of the journal (main thread, the journal's connection):
 * what this site knows about an item -- the cache the gate decides from --
 * and whether a device event is journaled already (a re-delivery must not
 * sound the alarm twice).  Statements are prepared once and kept.
 */
#ifndef CIRCD_GATE_STORE_H
#define CIRCD_GATE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "gate_decide.h"

struct journal;

struct gate_store_device {
	char *name;
	uint64_t max_id; /* highest device event id in the journal */
	bool loaded;
};

struct gate_store {
	struct journal *journal;
	const char *owner; /* for messages: the station's name */
	sqlite3_stmt *q_item, *q_txn, *q_seen, *q_max;
	struct gate_store_device *devices;
	size_t n_devices;
};

void gate_store_init(struct gate_store *s, struct journal *j, const char *owner,
		     char *const *device_names, size_t n_devices);
void gate_store_free(struct gate_store *s);

/* What the site knows about item_id.  Two sources, the fresher wins:
 *  - the items table: the circulation status of the last answer about the
 *    item (a 17 lookup, an alarm's verification, or an answered checkin or
 *    checkout: items_update_from_txn()), as of its updated time;
 *  - this site's own latest checkin/checkout/renew in the journal that no
 *    upstream refused, also while it waits for the ILS (a self-check
 *    checkout during an outage is on loan).
 * *source is set to "items" or "transaction" (NULL: unknown); status gets
 * the items table's circulation status when that decided. */
enum gate_cache_state gate_store_item_state(struct gate_store *s, const char *item_id,
					    char *status, size_t status_size, const char **source);

/* Whether (device, device_event_id) is journaled.  An id above the
 * device's highest journaled one is not: that costs no read. */
bool gate_store_journaled(struct gate_store *s, const char *device, uint64_t device_event_id);
/* device_event_id was journaled just now. */
void gate_store_note_journaled(struct gate_store *s, const char *device, uint64_t device_event_id);

#endif
