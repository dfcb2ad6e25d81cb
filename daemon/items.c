/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "core.h"
#include "instance.h"
#include "items.h"
#include "journal.h"
#include "log.h"
#include "station.h"
#include "util/util.h"

static const char *field(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	return s && s[0] ? s : NULL;
}

int items_update_from_fields(struct journal *j, const char *item_id, const char *fields_json,
			     const char *seen_where, uint64_t seen_usec)
{
	if (!item_id || !item_id[0])
		return 0;
	json_object *o = fields_json ? json_tokener_parse(fields_json) : NULL;
	const char *status = o ? field(o, "circulation_status") : NULL;
	const char *security = o ? field(o, "security_marker") : NULL;
	const char *title = o ? field(o, "title") : NULL;
	const char *call = o ? field(o, "call_number") : NULL;
	const char *home = o ? field(o, "permanent_location") : NULL;
	const char *due = o ? field(o, "due_date") : NULL;
	int r = journal_begin(j);
	if (r < 0)
		goto out;
	sqlite3_stmt *st;
	/* Only what the answer says overwrites what we knew. */
	if (sqlite3_prepare_v2(journal_db(j),
			       "INSERT INTO items(item_id, circulation_status, security, title, call_number,"
			       " home_location, due_date, last_seen_where, last_seen_usec, updated_usec)"
			       " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
			       " ON CONFLICT(item_id) DO UPDATE SET"
			       " circulation_status = coalesce(?2, circulation_status),"
			       " security = coalesce(?3, security), title = coalesce(?4, title),"
			       " call_number = coalesce(?5, call_number),"
			       " home_location = coalesce(?6, home_location),"
			       " due_date = coalesce(?7, due_date),"
			       " last_seen_where = coalesce(?8, last_seen_where),"
			       " last_seen_usec = coalesce(?9, last_seen_usec), updated_usec = ?10",
			       -1, &st, NULL) != SQLITE_OK) {
		r = -EIO;
		goto out;
	}
	const char *vals[] = { item_id, status, security, title, call, home, due, seen_where };
	for (int i = 0; i < 8; i++) {
		if (vals[i])
			sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(st, i + 1);
	}
	if (seen_usec)
		sqlite3_bind_int64(st, 9, (sqlite3_int64)seen_usec);
	else
		sqlite3_bind_null(st, 9);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)now_realtime_usec());
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
out:
	json_object_put(o);
	return r;
}

static const char *implied_status(const char *kind, json_object *fields)
{
	if (!strcmp(kind, "checkout") || !strcmp(kind, "renew"))
		return "04";
	if (strcmp(kind, "checkin") != 0)
		return NULL;
	const char *cv = fields ? field(fields, "alert_type") : NULL;
	if (cv && !strcmp(cv, "01"))
		return "08";
	if (cv && (!strcmp(cv, "02") || !strcmp(cv, "04")))
		return "10";
	return "09";
}

int items_update_from_txn(struct journal *j, const char *kind, const char *item_id,
			  const char *fields_json, const char *seen_where, uint64_t seen_usec)
{
	json_object *o = fields_json ? json_tokener_parse(fields_json) : NULL;
	const char *status = kind && o && json_object_is_type(o, json_type_object)
				     ? implied_status(kind, o) : NULL;
	int r;
	if (status && !field(o, "circulation_status")) {
		json_object_object_add(o, "circulation_status", json_object_new_string(status));
		r = items_update_from_fields(j, item_id, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
					     seen_where, seen_usec);
	} else {
		r = items_update_from_fields(j, item_id, fields_json, seen_where, seen_usec);
	}
	json_object_put(o);
	return r;
}

json_object *items_get(struct journal *j, const char *item_id)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(journal_db(j),
			       "SELECT circulation_status, security, title, call_number, home_location,"
			       " due_date, last_seen_where, last_seen_usec, updated_usec"
			       " FROM items WHERE item_id = ?", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, item_id, -1, SQLITE_STATIC);
	json_object *o = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		static const char *const keys[] = { "circulation_status", "security", "title", "call_number",
						    "home_location", "due_date", "last_seen_where" };
		o = json_object_new_object();
		json_object_object_add(o, "item_id", json_object_new_string(item_id));
		for (int i = 0; i < 7; i++)
			if (sqlite3_column_type(st, i) != SQLITE_NULL)
				json_object_object_add(o, keys[i], json_object_new_string(
					(const char *)sqlite3_column_text(st, i)));
		char buf[40];
		if (sqlite3_column_type(st, 7) != SQLITE_NULL) {
			format_iso8601((uint64_t)sqlite3_column_int64(st, 7), buf, sizeof(buf));
			json_object_object_add(o, "last_seen", json_object_new_string(buf));
		}
		format_iso8601((uint64_t)sqlite3_column_int64(st, 8), buf, sizeof(buf));
		json_object_object_add(o, "updated", json_object_new_string(buf));
	}
	sqlite3_finalize(st);
	return o;
}

int core_request(struct core *core, const char *upstream, uint32_t kind, const char *kind_name,
		 const char *station, const char *item_id, const char *patron_id, json_object *extra,
		 int64_t *id)
{
	struct instance *up = NULL;
	for (size_t i = 0; i < core->n_upstreams && !up; i++)
		if (!upstream || strcmp(core->upstreams[i]->name, upstream) == 0)
			up = core->upstreams[i];
	if (!up) {
		json_object_put(extra);
		return -ENOENT;
	}
	struct txn_msg *t = xcalloc(1, sizeof(*t));
	t->kind = xstrdup(kind_name);
	t->item_id = xstrdup(item_id ? item_id : "");
	t->uid = xstrdup("");
	t->station = xstrdup(station ? station : "");
	t->device = xstrdup("");
	t->patron_id = xstrdup(patron_id ? patron_id : "");
	json_object *o = extra ? extra : json_object_new_object();
	json_object_object_add(o, "kind", json_object_new_string(kind_name));
	if (t->station[0])
		json_object_object_add(o, "station", json_object_new_string(t->station));
	if (t->item_id[0])
		json_object_object_add(o, "item_id", json_object_new_string(t->item_id));
	if (t->patron_id[0])
		json_object_object_add(o, "patron_id", json_object_new_string(t->patron_id));
	t->json = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	/* json-c's own copy of a PIN: wipe it before it is freed */
	json_object *pin;
	if (json_object_object_get_ex(o, "patron_pin", &pin) && json_object_is_type(pin, json_type_string))
		explicit_bzero((char *)json_object_get_string(pin), (size_t)json_object_get_string_len(pin));
	json_object_put(o);
	/* Requests are not journaled: they carry ids <= 0 so the forwarder
	 * never confuses them with deliveries. */
	t->txn = (struct circd_txn){
		.struct_size = sizeof(struct circd_txn),
		.kind = kind,
		.id = -(int64_t)(++core->lookups),
		.event_time_usec = now_realtime_usec(),
		.created_usec = now_realtime_usec(),
		.site = core->cfg->site,
		.station = t->station,
		.device = t->device,
		.item_id = t->item_id,
		.patron_id = t->patron_id,
		.uid = t->uid,
		.json = t->json,
	};
	if (id)
		*id = t->txn.id;
	instance_submit_txn(up, t);
	return 0;
}

int core_item_lookup(struct core *core, const char *item_id, const char *upstream)
{
	return core_request(core, upstream, CIRCD_TXN_ITEM_INFO, "item-info", NULL, item_id, NULL,
			    NULL, NULL);
}

/* Outcomes are kept in memory for a bounded number of items: a client
 * polls within seconds, so forgetting them all now and then is harmless. */
#define LOOKUP_OUTCOMES_MAX 1024

void items_note_lookup(struct core *core, const char *item_id, const char *upstream,
		       const char *status, const char *message)
{
	if (!item_id || !item_id[0])
		return;
	if (!core->lookup_outcomes ||
	    json_object_object_length(core->lookup_outcomes) >= LOOKUP_OUTCOMES_MAX) {
		json_object_put(core->lookup_outcomes);
		core->lookup_outcomes = json_object_new_object();
	}
	char when[40];
	format_iso8601(now_realtime_usec(), when, sizeof(when));
	json_object *o = json_object_new_object();
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "status", json_object_new_string(status));
	if (message)
		json_object_object_add(o, "message", json_object_new_string(message));
	json_object_object_add(o, "upstream", json_object_new_string(upstream));
	json_object_object_add(core->lookup_outcomes, item_id, o);
}

json_object *items_last_lookup(struct core *core, const char *item_id)
{
	json_object *o = NULL;
	if (core->lookup_outcomes)
		json_object_object_get_ex(core->lookup_outcomes, item_id, &o);
	return o;
}

void core_item_lookup_done(struct core *core, struct txn_msg *t)
{
	/* A station's own request (a kiosk's patron information, end of
	 * session): its answer goes to that station only, and changes no row.
	 * The request may have carried a PIN: wipe it. */
	if (t->txn.kind != CIRCD_TXN_ITEM_INFO) {
		stations_txn_result(core, t->m.inst, t);
		if (t->json)
			explicit_bzero(t->json, strlen(t->json));
		txn_msg_free(t);
		return;
	}
	static const char *const status_names[] = {
		[CIRCD_TXN_OK] = "ok", [CIRCD_TXN_RETRY] = "retry", [CIRCD_TXN_REJECTED] = "rejected",
		[CIRCD_TXN_NOT_SENT] = "not-sent",
	};
	items_note_lookup(core, t->item_id, t->m.inst->name,
			  t->status < ARRAY_SIZE(status_names) ? status_names[t->status] : "rejected",
			  t->message);
	if (t->status == CIRCD_TXN_OK) {
		items_update_from_fields(core->journal, t->item_id, t->fields_json, NULL, 0);
		log_debug("item %s refreshed from %s", t->item_id, t->m.inst->name);
	} else {
		log_info("item %s: lookup at %s failed: %s", t->item_id, t->m.inst->name,
			 t->message ? t->message : "no reason given");
	}
	stations_item_info(core, t->item_id, t->status, t->status == CIRCD_TXN_OK ? t->fields_json : NULL);
	txn_msg_free(t);
}
