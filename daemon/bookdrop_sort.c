/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bookdrop station's sort decision and what follows it: the bin (rule
 * chain, exception bin, offline bin, overflow for a full bin), the "sort"
 * event with the receipt, SELECT_BIN to the sorter, the tag re-secured
 * (AFI in stock, EAS on: the config's `security`) with read-back, and the
 * results of those commands.  Every failure is a station exception.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bookdrop.h"
#include "instance.h"
#include "log.h"
#include "metrics.h"
#include "util/util.h"

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;
	return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

static const char *exception_or_overflow(struct bookdrop *b)
{
	return b->overflow_bin[0] ? b->overflow_bin : b->exception_bin;
}

/* Every print line (AG) the ILS sent, for the receipt. */
static json_object *print_lines(json_object *fields)
{
	json_object *out = json_object_new_array(), *v;
	if (fields && json_object_object_get_ex(fields, "print_line", &v)) {
		if (json_object_is_type(v, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				json_object *x = json_object_array_get_idx(v, i);
				if (json_object_is_type(x, json_type_string))
					json_object_array_add(out, json_object_get(x));
			}
		} else if (json_object_is_type(v, json_type_string)) {
			json_object_array_add(out, json_object_get(v));
		}
	}
	return out;
}

/* The receipt of one return: what a slip printer or a kiosk shows. */
static json_object *receipt(struct bd_return *r, json_object *fields)
{
	json_object *o = json_object_new_object();
	char when[40];
	format_iso8601(r->event_time_usec, when, sizeof(when));
	const char *title = jstr(fields, "title");
	if (!title || !title[0])
		title = r->tag_title;
	if (r->txn_id > 0)
		json_object_object_add(o, "txn", json_object_new_int64(r->txn_id));
	json_object_object_add(o, "item_id", json_object_new_string(r->item_id));
	json_object_object_add(o, "title", json_object_new_string(title));
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "bin", json_object_new_string(r->bin));
	json_object_object_add(o, "print_lines", print_lines(fields));
	return o;
}

#define NOTES_FLUSH_USEC (200 * USEC_PER_MSEC)
#define NOTES_MAX 1024

void bd_flush_notes(struct bookdrop *b)
{
	struct core *core = b->st->core;
	for (size_t i = 0; i < b->n_notes; i++) {
		if (core->journal && !core->journal_failed)
			station_note(b->st, b->notes[i].device, b->notes[i].type, b->notes[i].detail);
		else
			json_object_put(b->notes[i].detail);
	}
	b->n_notes = 0;
}

static int on_notes_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct bookdrop *b = userdata;
	(void)s;
	(void)usec;
	bd_flush_notes(b);
	core_flush(b->st->core);
	return 0;
}

void bd_exception(struct bookdrop *b, int64_t txn_id, const char *item_id, const char *reason,
		  json_object *detail)
{
	bd_flush_notes(b);
	station_exception(b->st, txn_id, item_id, reason, detail);
}

static void queue_note(struct bookdrop *b, const char *device, const char *type, json_object *d)
{
	if (b->n_notes == NOTES_MAX)
		bd_flush_notes(b);
	if (!b->notes)
		b->notes = xcalloc(NOTES_MAX, sizeof(*b->notes));
	snprintf(b->notes[b->n_notes].device, sizeof(b->notes[0].device), "%s", device ? device : b->st->name);
	b->notes[b->n_notes].type = type;
	b->notes[b->n_notes++].detail = d;
	uint64_t when = now_monotonic_usec() + NOTES_FLUSH_USEC;
	if (!b->notes_timer) {
		if (sd_event_add_time(b->st->core->event, &b->notes_timer, CLOCK_MONOTONIC, when,
				      10 * USEC_PER_MSEC, on_notes_timer, b) < 0)
			bd_flush_notes(b);
	} else if (sd_event_source_get_enabled(b->notes_timer, NULL) == 0) {
		sd_event_source_set_time(b->notes_timer, when);
		sd_event_source_set_enabled(b->notes_timer, SD_EVENT_ONESHOT);
	}
}

static void finish(struct bookdrop *b, struct bd_return *r)
{
	struct station *st = b->st;
	bool tried = r->afi_status != 1 || r->eas_status != 1;
	if (tried) {
		bool ok = !r->resecure_failed;
		json_object *d = json_object_new_object();
		if (r->txn_id > 0)
			json_object_object_add(d, "txn", json_object_new_int64(r->txn_id));
		json_object_object_add(d, "item_id", json_object_new_string(r->item_id));
		if (r->afi_status != 1)
			json_object_object_add(d, "afi", json_object_new_int(st->core->cfg->security.afi_in_stock));
		if (r->eas_status != 1)
			json_object_object_add(d, "eas", json_object_new_boolean(true));
		json_object_object_add(d, "verified", json_object_new_boolean(ok));
		queue_note(b, r->reader, "resecure", d);
	}
	bd_return_free(b, r);
}

static void resecure_failed(struct bookdrop *b, struct bd_return *r, const char *what, int status,
			    const char *detail)
{
	json_object *d = json_object_new_object();
	json_object_object_add(d, "command", json_object_new_string(what));
	json_object_object_add(d, "device", json_object_new_string(r->reader));
	json_object_object_add(d, "error", json_object_new_string(strerror(-status)));
	if (detail && detail[0])
		json_object_object_add(d, "detail", json_object_new_string(detail));
	if (!r->resecure_failed)
		b->resecure_failures++;
	r->resecure_failed = true;
	bd_exception(b, r->txn_id, r->item_id,
			  status == -ETIMEDOUT ? "resecure-timeout" : "resecure-failed", d);
}

static void sorter_failed(struct bookdrop *b, struct bd_return *r, int status, const char *detail)
{
	json_object *d = json_object_new_object();
	json_object_object_add(d, "bin", json_object_new_string(r->bin));
	json_object_object_add(d, "device", json_object_new_string(b->sorter));
	json_object_object_add(d, "error", json_object_new_string(strerror(-status)));
	if (detail && detail[0])
		json_object_object_add(d, "detail", json_object_new_string(detail));
	r->sorter_failed = true;
	b->sorter_failures++;
	bd_exception(b, r->txn_id, r->item_id,
			  status == -ETIMEDOUT ? "sorter-timeout" : "sorter-failed", d);
}

static bool outstanding(const struct bd_return *r)
{
	return r->sorter_cmd || r->afi_cmd || r->eas_cmd;
}

/* Tell the sorter, re-secure the tag; everything after the commit. */
static void send_commands(struct bookdrop *b, struct bd_return *r)
{
	struct station *st = b->st;
	struct instance *sorter = b->sorter ? station_device(st, b->sorter) : NULL;
	if (b->sorter && !sorter)
		log_warning("%s: sorter '%s' is not running: item %s not sent to bin %s", st->name,
			    b->sorter, r->item_id, r->bin);
	if (sorter) {
		unsigned number = 0;
		sort_bins_number(&b->bins, r->bin, &number);
		struct circd_command c = { .struct_size = sizeof(c), .type = CIRCD_CMD_SELECT_BIN,
					   .value = number, .name = r->bin };
		memcpy(c.uid, r->uid, r->uid_len);
		c.uid_len = r->uid_len;
		r->sorter_cmd = station_command(st, sorter, &c);
	}
	struct instance *reader = r->uid_len ? station_device(st, r->reader) : NULL;
	if (b->resecure && reader) {
		const struct config_security *sec = &st->core->cfg->security;
		struct circd_command c = { .struct_size = sizeof(c), .type = CIRCD_CMD_WRITE_AFI,
					   .value = sec->afi_in_stock };
		memcpy(c.uid, r->uid, r->uid_len);
		c.uid_len = r->uid_len;
		r->afi_cmd = station_command(st, reader, &c);
		if (sec->eas) {
			c.type = CIRCD_CMD_SET_EAS;
			c.value = 1;
			r->eas_cmd = station_command(st, reader, &c);
		}
	}
}

static void decide(struct bookdrop *b, struct bd_return *r, const char *bin, const char *reason,
		   int rule, json_object *fields)
{
	struct station *st = b->st;
	json_object *d = json_object_new_object();
	/* A full bin takes nothing more: the item goes to the overflow. */
	if (strcmp(bin, b->exception_bin) != 0 && bd_bin_full(b, bin)) {
		json_object_object_add(d, "wanted", json_object_new_string(bin));
		json_object_object_add(d, "wanted_reason", json_object_new_string(reason));
		bin = exception_or_overflow(b);
		reason = "bin-full";
		rule = -1;
	}
	snprintf(r->bin, sizeof(r->bin), "%s", bin);
	r->phase = BD_SORTING;
	if (r->txn_id > 0)
		json_object_object_add(d, "txn", json_object_new_int64(r->txn_id));
	json_object_object_add(d, "item_id", json_object_new_string(r->item_id));
	json_object_object_add(d, "bin", json_object_new_string(r->bin));
	json_object_object_add(d, "reason", json_object_new_string(reason));
	if (rule >= 0)
		json_object_object_add(d, "rule", json_object_new_int(rule + 1));
	json_object_object_add(d, "receipt", receipt(r, fields));
	queue_note(b, NULL, "sort", d);
	metrics_count(st->core->metrics, "circd_returns_by_bin_total", st->name, r->bin, NULL);
	log_debug("%s: item %s -> bin %s (%s)", st->name, r->item_id[0] ? r->item_id : "(none)",
		  r->bin, reason);

	/* What lands in the exception bin is for staff; a rejected return
	 * already is an exception (the forwarder's), with the ILS's reason. */
	if (strcmp(r->bin, b->exception_bin) == 0 && strcmp(reason, "rejected") != 0) {
		json_object *x = json_object_new_object();
		json_object_object_add(x, "bin", json_object_new_string(r->bin));
		if (strcmp(reason, "bin-full") == 0)
			reason = "overflow";
		b->exceptions_total++;
		bd_exception(b, r->txn_id, r->item_id, reason, x);
	}
	send_commands(b, r);
	if (!outstanding(r)) {
		finish(b, r);
		return;
	}
	bd_arm(r, now_monotonic_usec() + b->command_timeout_usec);
}

static void facts_from(json_object *o, struct sort_facts *f)
{
	f->alert_type = jstr(o, "alert_type");
	f->destination = jstr(o, "destination");
	f->sort_bin = jstr(o, "sort_bin");
	f->collection = jstr(o, "collection");
	f->call_number = jstr(o, "call_number");
	f->media = jstr(o, "media_type");
	f->location = jstr(o, "permanent_location");
}

bool bd_try_decide(struct bookdrop *b, struct bd_return *r, bool timed_out)
{
	uint64_t now = now_monotonic_usec();
	if (r->phase == BD_SORTING)
		return false;
	if (r->phase == BD_WAIT_TAG) {
		if (!timed_out)
			return false;
		b->n_wait_tag--;
		r->phase = BD_WAIT_ANSWER; /* decided below: no longer a drop waiting */
		decide(b, r, b->exception_bin, "no-tag", -1, NULL);
		return true;
	}
	if (timed_out) {
		if (r->set_waiting && now >= r->set_deadline_usec) {
			r->set_waiting = false;
			r->set_incomplete = true;
		}
		if (!r->answered && now >= r->answer_deadline_usec) {
			r->answered = true;
			r->status = BD_NO_ANSWER;
		}
	}
	if (r->exception) {
		decide(b, r, b->exception_bin, r->exception, -1, NULL);
		return true;
	}
	if (r->set_incomplete) {
		decide(b, r, b->exception_bin, "incomplete-set", -1, NULL);
		return true;
	}
	if (r->set_waiting || !r->answered) {
		uint64_t next = r->set_waiting ? r->set_deadline_usec : UINT64_MAX;
		if (!r->answered && r->answer_deadline_usec < next)
			next = r->answer_deadline_usec;
		if (next != r->deadline_usec)
			bd_arm(r, next);
		return false;
	}
	json_object *fields = r->fields_json ? json_tokener_parse(r->fields_json) : NULL;
	switch (r->status) {
	case CIRCD_TXN_OK: {
		struct sort_facts f = { 0 };
		facts_from(fields, &f);
		const char *bin = NULL;
		int rule = sort_chain_decide(&b->chain, &b->bins, &f, &bin);
		if (rule < 0)
			decide(b, r, b->exception_bin, "no-rule", -1, fields);
		else
			decide(b, r, bin, sort_cond_name(b->chain.rules[rule].cond), rule, fields);
		break;
	}
	case CIRCD_TXN_REJECTED:
		decide(b, r, b->exception_bin, "rejected", -1, fields);
		break;
	default: { /* RETRY, NOT_SENT, no answer: the ILS is away */
		const char *def = sort_chain_default_bin(&b->chain);
		decide(b, r, b->offline_to_exception || !def ? b->exception_bin : def, "ils-offline", -1,
		       NULL);
		break;
	}
	}
	json_object_put(fields);
	return true;
}

bool bd_command_done(struct bookdrop *b, struct instance *dev, uint64_t cmd_id, int status,
		     const char *detail)
{
	for (struct bd_return *r = b->head; r; r = r->next) {
		if (r->phase != BD_SORTING)
			continue;
		bool is_sorter = r->sorter_cmd == cmd_id && b->sorter && strcmp(dev->name, b->sorter) == 0;
		bool is_reader = strcmp(dev->name, r->reader) == 0 &&
				 (r->afi_cmd == cmd_id || r->eas_cmd == cmd_id);
		if (!is_sorter && !is_reader)
			continue;
		if (is_sorter) {
			r->sorter_cmd = 0;
			if (status < 0)
				sorter_failed(b, r, status, detail);
		} else if (r->afi_cmd == cmd_id) {
			r->afi_cmd = 0;
			r->afi_status = status;
			if (status < 0)
				resecure_failed(b, r, "write-afi", status, detail);
		} else {
			r->eas_cmd = 0;
			r->eas_status = status;
			if (status < 0)
				resecure_failed(b, r, "set-eas", status, detail);
		}
		if (!outstanding(r))
			finish(b, r);
		return true;
	}
	return false;
}

void bd_commands_timed_out(struct bookdrop *b, struct bd_return *r)
{
	if (r->sorter_cmd) {
		r->sorter_cmd = 0;
		sorter_failed(b, r, -ETIMEDOUT, "no acknowledgement in time");
	}
	if (r->afi_cmd) {
		r->afi_cmd = 0;
		r->afi_status = -ETIMEDOUT;
		resecure_failed(b, r, "write-afi", -ETIMEDOUT, "no read-back in time");
	}
	if (r->eas_cmd) {
		r->eas_cmd = 0;
		r->eas_status = -ETIMEDOUT;
		resecure_failed(b, r, "set-eas", -ETIMEDOUT, "no read-back in time");
	}
	finish(b, r);
}
