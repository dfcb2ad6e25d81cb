/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the self-check kiosk reads: the session's status (polled while the
 * ILS answers) and the receipt (items, titles, due dates).  Never the PIN.
 */
#include "config.h"

#include <string.h>

#include "selfcheck.h"
#include "station.h"
#include "util/util.h"

const char *sc_state_name(enum sc_state s)
{
	static const char *const names[] = {
		[SC_IDLE] = "idle", [SC_STARTING] = "starting", [SC_ACTIVE] = "active",
		[SC_REFUSED] = "refused", [SC_ENDED] = "ended",
	};
	return s < ARRAY_SIZE(names) ? names[s] : "idle";
}

static const char *item_state_name(enum sc_item_state s)
{
	return s == SC_ITEM_OK ? "ok" : s == SC_ITEM_FAILED ? "failed" : "pending";
}

static const char *step_name(enum sc_step s)
{
	static const char *const names[] = {
		[SC_STEP_PARTS] = "parts", [SC_STEP_PATRON] = "patron",
		[SC_STEP_ILS] = "library-system", [SC_STEP_SECURE] = "un-secure",
	};
	return s < ARRAY_SIZE(names) ? names[s] : "";
}

static void add_time(json_object *o, const char *key, uint64_t usec)
{
	char buf[40];
	format_iso8601(usec, buf, sizeof(buf));
	json_object_object_add(o, key, json_object_new_string(buf));
}

json_object *sc_item_json(const struct sc_item *it)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "item_id", json_object_new_string(it->item_id));
	json_object_object_add(o, "kind", json_object_new_string(it->renew ? "renew" : "checkout"));
	json_object_object_add(o, "state", json_object_new_string(item_state_name(it->state)));
	if (it->state == SC_ITEM_PENDING)
		json_object_object_add(o, "step", json_object_new_string(step_name(it->step)));
	if (it->reason[0])
		json_object_object_add(o, "reason", json_object_new_string(it->reason));
	if (it->txn_id > 0)
		json_object_object_add(o, "txn", json_object_new_int64(it->txn_id));
	if (it->title[0])
		json_object_object_add(o, "title", json_object_new_string(it->title));
	if (it->due_date[0])
		json_object_object_add(o, "due_date", json_object_new_string(it->due_date));
	if (it->provisional) {
		json_object_object_add(o, "provisional", json_object_new_boolean(true));
		json_object_object_add(o, "confirmed", json_object_new_boolean(it->confirmed));
	}
	if (it->security[0])
		json_object_object_add(o, "security", json_object_new_string(it->security));
	json_object *tags = json_object_new_array();
	for (size_t i = 0; i < it->n_tags; i++) {
		const struct sc_tag *t = &it->tags[i];
		json_object *x = json_object_new_object();
		json_object_object_add(x, "uid", json_object_new_string(t->uid_hex));
		json_object_object_add(x, "device", json_object_new_string(t->device));
		if (t->afi >= 0)
			json_object_object_add(x, "afi", json_object_new_int(t->afi));
		if (t->eas >= 0)
			json_object_object_add(x, "eas", json_object_new_boolean(t->eas));
		json_object_array_add(tags, x);
	}
	json_object_object_add(o, "tags", tags);
	return o;
}

json_object *sc_status_json(struct station *st)
{
	struct selfcheck *sc = st->data;
	struct sc_session *s = &sc->s;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "station", json_object_new_string(st->name));
	json_object_object_add(o, "state", json_object_new_string(sc_state_name(s->state)));
	json_object_object_add(o, "offline_policy",
			       json_object_new_string(sc->offline_accept ? "accept" : "refuse"));
	if (sc->card_patron[0] && (s->state == SC_IDLE || s->state >= SC_REFUSED))
		json_object_object_add(o, "card", json_object_new_string("read: begin with the PIN"));
	if (s->state == SC_IDLE)
		return o;
	json_object_object_add(o, "session", json_object_new_int64((int64_t)s->number));
	add_time(o, "begun", s->begun_usec);
	if (s->ended_usec)
		add_time(o, "ended", s->ended_usec);
	json_object *patron = s->have_info ? selfcheck_patron_json(&s->info, s->patron)
					   : json_object_new_object();
	if (!s->have_info)
		json_object_object_add(patron, "id", json_object_new_string(s->patron));
	json_object_object_add(o, "patron", patron);
	json_object_object_add(o, "offline", json_object_new_boolean(s->offline));
	if (s->renew_only)
		json_object_object_add(o, "renew_only", json_object_new_boolean(true));
	if (s->reason[0])
		json_object_object_add(o, "reason", json_object_new_string(s->reason));
	if (s->timed_out)
		json_object_object_add(o, "timed_out", json_object_new_boolean(true));
	json_object *items = json_object_new_array();
	for (size_t i = 0; i < s->n_items; i++)
		json_object_array_add(items, sc_item_json(&s->items[i]));
	json_object_object_add(o, "items", items);
	return o;
}

/* A receipt lists what the patron takes home (with due dates; offline
 * loans marked provisional) and what could not be lent, with why. */
json_object *sc_receipt_json(struct station *st)
{
	struct selfcheck *sc = st->data;
	struct sc_session *s = &sc->s;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "station", json_object_new_string(st->name));
	json_object_object_add(o, "site", json_object_new_string(st->core->cfg->site));
	json_object_object_add(o, "session", json_object_new_int64((int64_t)s->number));
	json_object_object_add(o, "patron", json_object_new_string(s->patron));
	if (s->have_info && s->info.name[0])
		json_object_object_add(o, "patron_name", json_object_new_string(s->info.name));
	add_time(o, "time", s->ended_usec ? s->ended_usec : now_realtime_usec());
	json_object_object_add(o, "offline", json_object_new_boolean(s->offline));
	json_object *items = json_object_new_array(), *failed = json_object_new_array();
	json_object *pending = json_object_new_array();
	for (size_t i = 0; i < s->n_items; i++) {
		const struct sc_item *it = &s->items[i];
		json_object *x = json_object_new_object();
		json_object_object_add(x, "item_id", json_object_new_string(it->item_id));
		json_object_object_add(x, "kind", json_object_new_string(it->renew ? "renew" : "checkout"));
		if (it->state == SC_ITEM_OK) {
			json_object_object_add(x, "title", json_object_new_string(it->title));
			json_object_object_add(x, "due_date", json_object_new_string(it->due_date));
			if (it->provisional)
				json_object_object_add(x, "provisional", json_object_new_boolean(true));
			json_object_array_add(items, x);
		} else {
			json_object_object_add(x, "reason", json_object_new_string(it->reason));
			json_object_array_add(it->state == SC_ITEM_FAILED ? failed : pending, x);
		}
	}
	json_object_object_add(o, "items", items);
	json_object_object_add(o, "failed", failed);
	json_object_object_add(o, "pending", pending);
	return o;
}
