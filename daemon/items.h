/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The items table: what this site knows about an item (circulation status,
 * security marker, title, call number, home location, due date, where and
 * when it was last seen).  Gates decide from it when the ILS is away; staff
 * read it with `circctl item`.  Fed by the upstreams' answers to
 * circulation transactions and by asynchronous item-information lookups
 * (SIP2 17), which never block the main loop: the request goes to the
 * upstream's worker and the answer comes back through the inbox.
 */
#ifndef CIRCD_ITEMS_H
#define CIRCD_ITEMS_H

#include <stdint.h>

#include <json-c/json.h>

struct core;
struct journal;
struct txn_msg;

/* Upsert what an upstream's answer (fields_json, as the sip2 plugin writes
 * it) says about item_id.  seen_where may be NULL. */
int items_update_from_fields(struct journal *j, const char *item_id, const char *fields_json,
			     const char *seen_where, uint64_t seen_usec);
/* An upstream answered a circulation transaction (kind "checkin",
 * "checkout", "renew", "alarm" ...) OK with fields_json: as above, and when
 * the answer carries no circulation status (SIP2 10, 12 and 30 do not),
 * the one the transaction implies: checkout and renew "04" (charged);
 * checkin "08" (hold alert CV 01), "10" (transit, CV 02/04) or else "09"
 * (waiting to be reshelved).  The gate's cache relies on the status being
 * as fresh as the row's updated time. */
int items_update_from_txn(struct journal *j, const char *kind, const char *item_id,
			  const char *fields_json, const char *seen_where, uint64_t seen_usec);
/* The row as a JSON object, or NULL when unknown. */
json_object *items_get(struct journal *j, const char *item_id);

/* Ask upstream (NULL = the first configured) about item_id.  Returns 0 when
 * queued, -ENOENT when there is no such upstream. */
int core_item_lookup(struct core *core, const char *item_id, const char *upstream);
/* Any request that is not a circulation transaction (item info, patron
 * info, end session): handed to upstream (NULL = the first) with an id <= 0
 * (*id, when given), never journaled.  extra (taken) is the start of the
 * request's JSON; a "patron_pin" in it is wiped from memory once copied.
 * Returns 0 or -ENOENT. */
int core_request(struct core *core, const char *upstream, uint32_t kind, const char *kind_name,
		 const char *station, const char *item_id, const char *patron_id, json_object *extra,
		 int64_t *id);
/* An answer to a lookup (txn id <= 0) came back. */
void core_item_lookup_done(struct core *core, struct txn_msg *t);
/* Remember how item_id's latest lookup ended ("ok", "retry", "not-sent", "rejected",
 * "dropped"), for `circctl item --refresh`: a failed lookup changes no row,
 * so without this the client can only wait for its timeout. */
void items_note_lookup(struct core *core, const char *item_id, const char *upstream,
		       const char *status, const char *message);
/* {"time", "status", "message", "upstream"} of item_id's latest lookup
 * (borrowed), or NULL when none since start. */
json_object *items_last_lookup(struct core *core, const char *item_id);

#endif
