/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bookdrop station's bins and intake: fill levels from the sensors
 * (a sensor "<fill_sensor_prefix><bin name or number>", in %), the intake
 * locked while any bin is full (hysteresis: bin_full_percent up,
 * bin_resume_percent down), and the station's control operations
 * (`circctl station NAME status|receipt`).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bookdrop.h"
#include "instance.h"
#include "log.h"
#include "util/util.h"

void bd_send_intake(struct bookdrop *b, bool open)
{
	struct instance *dev = bd_intake_device(b);
	if (!dev)
		return;
	struct circd_command c = { .struct_size = sizeof(c), .type = CIRCD_CMD_INTAKE, .value = open };
	b->intake_cmds[b->intake_cmd_next++ % ARRAY_SIZE(b->intake_cmds)] = station_command(b->st, dev, &c);
}

static struct bd_bin_level *level_of(struct bookdrop *b, unsigned number, const char *name)
{
	for (size_t i = 0; i < b->n_levels; i++)
		if (b->levels[i].number == number)
			return &b->levels[i];
	if (!name)
		return NULL;
	b->levels = xrealloc(b->levels, (b->n_levels + 1) * sizeof(*b->levels));
	struct bd_bin_level *l = &b->levels[b->n_levels++];
	*l = (struct bd_bin_level){ .number = number };
	snprintf(l->name, sizeof(l->name), "%s", name);
	return l;
}

bool bd_bin_full(struct bookdrop *b, const char *bin)
{
	unsigned n;
	if (sort_bins_number(&b->bins, bin, &n) < 0)
		return false;
	struct bd_bin_level *l = level_of(b, n, NULL);
	return l && l->full;
}

static bool any_full(struct bookdrop *b)
{
	for (size_t i = 0; i < b->n_levels; i++)
		if (b->levels[i].full)
			return true;
	return false;
}

static void note_intake(struct bookdrop *b, bool locked, const struct bd_bin_level *l)
{
	json_object *d = json_object_new_object();
	json_object_object_add(d, "locked", json_object_new_boolean(locked));
	json_object_object_add(d, "bin", json_object_new_string(l->name));
	json_object_object_add(d, "percent", json_object_new_double(l->percent));
	bd_flush_notes(b);
	station_note(b->st, b->intake, "intake", d);
}

void bd_on_sensor(struct bookdrop *b, struct instance *dev, const struct circd_event *ev)
{
	struct station *st = b->st;
	size_t pl = strlen(b->fill_prefix);
	if (!ev->name || strncmp(ev->name, b->fill_prefix, pl) != 0 || !ev->name[pl])
		return;
	const char *suffix = ev->name + pl;
	unsigned number;
	if (sort_bins_number(&b->bins, suffix, &number) < 0) {
		log_debug("%s: sensor %s of %s names no bin", st->name, ev->name, dev->name);
		return;
	}
	double v = ev->value;
	if (!isfinite(v)) {
		log_warning("%s: %s of %s reports %g: ignored", st->name, ev->name, dev->name, v);
		return;
	}
	struct bd_bin_level *l = level_of(b, number, sort_bins_name(&b->bins, number) ?: suffix);
	l->percent = v;
	/* A sensor over 100 % (or under 0) is broken or mis-scaled; over is
	 * still taken as full -- better a locked intake than a jammed bin. */
	bool implausible = v < 0 || v > 100;
	if (implausible && !l->implausible)
		log_warning("%s: bin %s: fill level %g %% from %s is implausible%s", st->name, l->name,
			    v, ev->name, v > 100 ? "; treated as full" : "");
	l->implausible = implausible;

	if (!l->full && v >= b->full_percent) {
		l->full = true;
		bool was_locked = b->intake_locked;
		json_object *d = json_object_new_object();
		json_object_object_add(d, "bin", json_object_new_string(l->name));
		json_object_object_add(d, "percent", json_object_new_double(v));
		if (implausible)
			json_object_object_add(d, "implausible", json_object_new_boolean(true));
		bd_exception(b, 0, "", "bin-full", d);
		if (!was_locked) {
			b->intake_locked = true;
			bd_send_intake(b, false);
			note_intake(b, true, l);
		}
	} else if (l->full && v <= b->resume_percent) {
		l->full = false;
		log_notice("%s: bin %s emptied (%g %%)", st->name, l->name, v);
		if (b->intake_locked && !any_full(b)) {
			b->intake_locked = false;
			bd_send_intake(b, true);
			note_intake(b, false, l);
		}
	}
}

/* ---- control: {"cmd":"station","station":NAME,"op":"status"|"receipt"} ---- */

static int fail(char **error, int r, const char *msg)
{
	*error = xstrdup(msg);
	return r;
}

static int control_status(struct bookdrop *b, json_object **reply)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "intake_locked", json_object_new_boolean(b->intake_locked));
	json_object_object_add(o, "in_flight", json_object_new_int64((int64_t)b->n_returns));
	json_object_object_add(o, "returns", json_object_new_int64((int64_t)b->returns_total));
	json_object_object_add(o, "exceptions", json_object_new_int64((int64_t)b->exceptions_total));
	json_object_object_add(o, "sorter_failures", json_object_new_int64((int64_t)b->sorter_failures));
	json_object_object_add(o, "resecure_failures", json_object_new_int64((int64_t)b->resecure_failures));
	json_object *bins = json_object_new_array();
	for (size_t i = 0; i < b->n_levels; i++) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "bin", json_object_new_string(b->levels[i].name));
		json_object_object_add(x, "position", json_object_new_int((int)b->levels[i].number));
		json_object_object_add(x, "percent", json_object_new_double(b->levels[i].percent));
		json_object_object_add(x, "full", json_object_new_boolean(b->levels[i].full));
		json_object_array_add(bins, x);
	}
	json_object_object_add(o, "bins", bins);
	json_object *rules = json_object_new_array();
	for (size_t i = 0; i < b->chain.n; i++) {
		const struct sort_rule *r = &b->chain.rules[i];
		char *text = xasprintf("%s%s%s%s%s", sort_cond_name(r->cond), r->n_patterns ? " " : "",
				       r->n_patterns ? r->patterns[0] : "", r->bin[0] ? " -> " : "",
				       r->bin);
		json_object_array_add(rules, json_object_new_string(text));
		free(text);
	}
	json_object_object_add(o, "rules", rules);
	*reply = o;
	return 0;
}

/* The receipt of the last return (or of transaction "txn"), from the
 * journal's "sort" events: it survives restarts. */
static int control_receipt(struct bookdrop *b, json_object *req, json_object **reply, char **error)
{
	bd_flush_notes(b); /* the latest decisions too */
	sqlite3 *db = journal_db(b->st->core->journal);
	json_object *v;
	int64_t txn = 0;
	if (json_object_object_get_ex(req, "txn", &v))
		txn = json_object_get_int64(v);
	sqlite3_stmt *q;
	const char *sql = txn > 0
		? "SELECT detail FROM events WHERE device = ?1 AND type = 'sort'"
		  " AND json_extract(detail, '$.txn') = ?2 ORDER BY id DESC LIMIT 1"
		: "SELECT detail FROM events WHERE device = ?1 AND type = 'sort'"
		  " ORDER BY id DESC LIMIT 1";
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return fail(error, -EIO, "journal query failed");
	sqlite3_bind_text(q, 1, b->st->name, -1, SQLITE_STATIC);
	if (txn > 0)
		sqlite3_bind_int64(q, 2, txn);
	json_object *detail = NULL;
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		detail = json_tokener_parse((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	json_object *rc;
	if (!detail || !json_object_object_get_ex(detail, "receipt", &rc)) {
		json_object_put(detail);
		return fail(error, -ENOENT, txn > 0 ? "no sorted return with that transaction"
						    : "no return sorted yet");
	}
	*reply = json_object_new_object();
	json_object_object_add(*reply, "receipt", json_object_get(rc));
	json_object *reason;
	if (json_object_object_get_ex(detail, "reason", &reason))
		json_object_object_add(*reply, "reason", json_object_get(reason));
	json_object_put(detail);
	return 0;
}

int bd_control(struct station *st, const char *op, json_object *req, json_object **reply,
	       char **error)
{
	struct bookdrop *b = st->data;
	if (strcmp(op, "status") == 0)
		return control_status(b, reply);
	if (strcmp(op, "receipt") == 0)
		return control_receipt(b, req, reply, error);
	*error = xasprintf("bookdrop station '%s' has no operation '%s' (status, receipt)", st->name, op);
	return -EOPNOTSUPP;
}
