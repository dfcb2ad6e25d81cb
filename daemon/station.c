/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "forwarder.h"
#include "instance.h"
#include "items.h"
#include "log.h"
#include "metrics.h"
#include "station.h"
#include "tags/tag.h"
#include "util/util.h"

const struct station_role *const station_roles[] = {
	&station_role_bookdrop,
	&station_role_shelf,
	&station_role_selfcheck,
	&station_role_gate,
	NULL,
};

const struct station_role *station_role_find(const char *name)
{
	for (size_t i = 0; station_roles[i]; i++)
		if (strcmp(station_roles[i]->name, name) == 0)
			return station_roles[i];
	return NULL;
}

int station_new(struct core *core, struct config_station *cfg, struct station **out)
{
	const struct station_role *role = station_role_find(cfg->role);
	if (!role)
		return -EINVAL;
	struct station *st = xcalloc(1, sizeof(*st));
	st->core = core;
	st->name = xstrdup(cfg->name);
	st->role = role;
	st->cfg = cfg;
	struct config_errors errs = { 0 };
	int r = options_resolve(role->options, &cfg->options, core->cfg->file, &st->opts, &errs);
	for (size_t i = 0; i < errs.n; i++)
		log_err("%s", errs.msgs[i]);
	config_errors_free(&errs);
	if (r < 0)
		goto fail;
	station_set_upstreams(st);
	r = role->create(st);
	if (r < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	station_free(st);
	return r;
}

void station_set_upstreams(struct station *st)
{
	const struct config_station *cfg = st->cfg;
	const struct circd_config *all = st->core->cfg;
	for (size_t i = 0; i < st->n_upstreams; i++)
		free(st->upstreams[i]);
	free(st->upstreams);
	/* Without an explicit list a station feeds every configured upstream. */
	st->n_upstreams = cfg->upstreams_given ? cfg->n_upstreams : all->n_upstreams;
	st->upstreams = xcalloc(st->n_upstreams, sizeof(char *));
	for (size_t i = 0; i < st->n_upstreams; i++)
		st->upstreams[i] = xstrdup(cfg->upstreams_given ? cfg->upstreams[i] : all->upstreams[i].name);
}

void station_free(struct station *st)
{
	if (!st)
		return;
	if (st->data && st->role->destroy)
		st->role->destroy(st);
	for (size_t i = 0; i < st->n_upstreams; i++)
		free(st->upstreams[i]);
	free(st->upstreams);
	options_free(&st->opts);
	free(st->name);
	free(st);
}

int station_journal_txn(struct station *st, const struct journal_txn_in *t, int64_t *id)
{
	struct core *core = st->core;
	int r = journal_add_transaction(core->journal, t, (const char *const *)st->upstreams,
					st->n_upstreams, id);
	if (r == -EEXIST) {
		core->duplicates_total++;
		return r;
	}
	if (r < 0)
		return r;
	st->transactions++;
	core->txns_total++;
	metrics_count(core->metrics, "circd_transactions_total", st->name, t->kind, NULL);
	for (size_t i = 0; i < st->n_upstreams; i++)
		for (size_t k = 0; k < core->n_upstreams; k++)
			if (strcmp(core->upstreams[k]->name, st->upstreams[i]) == 0 && core->upstreams[k]->fw)
				forwarder_wake(core->upstreams[k]->fw);
	return 0;
}

/* Decoding runs on the main thread only: one scratch item is enough and
 * keeps the (large) struct off the stack. */
static struct tag_item scratch_item;

void station_decode(struct core *core, const struct circd_event *ev, char *out, size_t out_size,
		    json_object *detail)
{
	out[0] = '\0';
	if (ev->item_id && ev->item_id[0])
		snprintf(out, out_size, "%s", ev->item_id);
	if (!ev->memory_len)
		return;
	struct tag_decode_options opts = { .block_size = ev->block_size };
	struct tag_item *item = &scratch_item;
	int r = tag_decode(ev->memory, ev->memory_len, ev->dsfid, &opts, item);
	json_object *tag = json_object_new_object();
	json_object_object_add(tag, "model", json_object_new_string(tag_model_name(item->model)));
	if (r < 0) {
		/* Unreadable, blank or damaged: the return is still journaled
		 * (with the UID) and becomes an exception for staff. */
		json_object_object_add(tag, "error", json_object_new_string(tag_reason_name(item->error)));
		json_object_object_add(detail, "tag", tag);
		return;
	}
	if (!out[0])
		snprintf(out, out_size, "%s", item->primary_id);
	if (item->byte_order == TAG_ORDER_BLOCKS_REVERSED)
		json_object_object_add(tag, "blocks_reversed", json_object_new_boolean(true));
	if (item->owner_isil[0])
		json_object_object_add(tag, "owner", json_object_new_string(item->owner_isil));
	if (item->set_present) {
		json_object_object_add(tag, "parts_total", json_object_new_int(item->parts_total));
		json_object_object_add(tag, "part", json_object_new_int(item->part_ordinal));
	}
	if (item->set_present && item->parts_total > 1) {
		/* Every part feeds the core's set tracker; what it says now is
		 * journaled with the part (the station decides what to do). */
		unsigned seen = 0, total = 0;
		tag_set_feed(&core->sets, item->owner_isil, item->primary_id, item->part_ordinal,
			     item->parts_total, now_monotonic_usec());
		enum tag_set_status set = tag_set_query(&core->sets, item->owner_isil, item->primary_id,
							now_monotonic_usec(), &seen, &total);
		json_object_object_add(tag, "set", json_object_new_string(
			set == TAG_SET_COMPLETE ? "complete" : set == TAG_SET_EXPIRED ? "expired" : "incomplete"));
		json_object_object_add(tag, "parts_seen", json_object_new_int((int)seen));
		if (set == TAG_SET_COMPLETE)
			tag_set_forget(&core->sets, item->owner_isil, item->primary_id);
	}
	if (item->usage >= 0)
		json_object_object_add(tag, "usage", json_object_new_int(item->usage));
	if (item->title[0])
		json_object_object_add(tag, "title", json_object_new_string(item->title));
	if (item->shelf_location[0])
		json_object_object_add(tag, "shelf_location", json_object_new_string(item->shelf_location));
	if (item->n_findings)
		json_object_object_add(tag, "warning", json_object_new_string(
			tag_reason_name(item->findings[0].reason)));
	json_object_object_add(detail, "tag", tag);
}

/* ---- what roles share: devices, commands, notes, exceptions, lookups ---- */

struct instance *station_device(struct station *st, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < st->cfg->n_devices; i++)
		if (strcmp(st->cfg->devices[i], name) == 0)
			return core_find_device(st->core, name);
	return NULL;
}

struct pending_command {
	struct core *core;
	char *device;
	struct circd_command cmd;
	char *name, *text;
};

static void free_pending_command(void *userdata, uint64_t arg)
{
	struct pending_command *p = userdata;
	(void)arg;
	free(p->device);
	free(p->name);
	free(p->text);
	free(p);
}

static void send_pending_command(void *userdata, uint64_t arg)
{
	struct pending_command *p = userdata;
	(void)arg;
	/* Looked up by name at send time: a reload may have replaced it. */
	struct instance *dev = core_find_device(p->core, p->device);
	if (dev)
		instance_send_command(dev, &p->cmd);
	else
		log_warning("command %llu for device '%s' dropped: the device is gone",
			    (unsigned long long)p->cmd.id, p->device);
	free(p->device);
	free(p->name);
	free(p->text);
	free(p);
}

uint64_t station_command(struct station *st, struct instance *dev, const struct circd_command *cmd)
{
	struct pending_command *p = xcalloc(1, sizeof(*p));
	p->core = st->core;
	p->device = xstrdup(dev->name);
	p->cmd = *cmd;
	p->cmd.struct_size = sizeof(p->cmd);
	p->cmd.id = ++dev->next_command_id;
	if (cmd->name)
		p->cmd.name = p->name = xstrdup(cmd->name);
	if (cmd->text)
		p->cmd.text = p->text = xstrdup(cmd->text);
	uint64_t id = p->cmd.id;
	/* Not before what is written so far is durable (and after any command
	 * still waiting for that: order). */
	if (journal_durable_pending(st->core->journal))
		journal_after_commit_full(st->core->journal, send_pending_command,
					  free_pending_command, p, 0);
	else
		send_pending_command(p, 0);
	return id;
}

void station_note(struct station *st, const char *device, const char *type, json_object *detail)
{
	if (!detail)
		detail = json_object_new_object();
	json_object_object_add(detail, "station", json_object_new_string(st->name));
	int r = journal_add_event(st->core->journal, device ? device : st->name, type, 0, 0,
				  json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN));
	if (r < 0 && r != -EEXIST)
		log_err("%s: could not journal a %s note: %s", st->name, type, strerror(-r));
	json_object_put(detail);
}

void station_exception(struct station *st, int64_t txn_id, const char *item_id,
		       const char *reason, json_object *detail)
{
	char station_field[200];
	snprintf(station_field, sizeof(station_field), "CIRCD_STATION=%s", st->name);
	const char *fields[] = { station_field, "MESSAGE_ID=" CIRCD_MSGID_EXCEPTION, NULL };
	char txn[40] = "";
	if (txn_id > 0)
		snprintf(txn, sizeof(txn), " (transaction %lld)", (long long)txn_id);
	log_fields(CIRCD_LOG_WARNING, fields, "%s: item '%s'%s: %s; see circctl exceptions", st->name,
		   item_id && item_id[0] ? item_id : "(unknown)", txn, reason);
	if (!detail)
		detail = json_object_new_object();
	if (txn_id > 0)
		json_object_object_add(detail, "txn", json_object_new_int64(txn_id));
	json_object_object_add(detail, "item_id", json_object_new_string(item_id ? item_id : ""));
	json_object_object_add(detail, "reason", json_object_new_string(reason));
	metrics_count(st->core->metrics, "circd_station_exceptions_total", st->name, reason, NULL);
	station_note(st, NULL, "station-exception", detail);
}

int station_lookup(struct station *st, const char *item_id)
{
	for (size_t i = 0; i < st->n_upstreams; i++)
		if (core_item_lookup(st->core, item_id, st->upstreams[i]) == 0)
			return 0;
	return -ENOENT;
}

int station_request(struct station *st, const char *upstream, uint32_t kind, const char *kind_name,
		    const char *patron_id, json_object *extra, int64_t *id)
{
	return core_request(st->core, upstream, kind, kind_name, st->name, NULL, patron_id, extra, id);
}

struct station *core_find_station(struct core *core, const char *name)
{
	for (size_t i = 0; i < core->n_stations; i++)
		if (strcmp(core->stations[i]->name, name) == 0)
			return core->stations[i];
	return NULL;
}

void stations_txn_result(struct core *core, struct instance *upstream, const struct txn_msg *t)
{
	if (!t->station || !t->station[0])
		return;
	struct station *st = core_find_station(core, t->station);
	if (st && st->role->on_txn_result)
		st->role->on_txn_result(st, upstream, t);
}

void stations_command_done(struct core *core, struct instance *dev, uint64_t cmd_id, int status,
			   const char *detail)
{
	(void)core;
	struct station *st = dev->station;
	if (st && st->role->on_command_done)
		st->role->on_command_done(st, dev, cmd_id, status, detail ? detail : "");
}

void stations_item_info(struct core *core, const char *item_id, uint32_t status,
			const char *fields_json)
{
	for (size_t i = 0; i < core->n_stations; i++) {
		struct station *st = core->stations[i];
		if (st->role->on_item_info)
			st->role->on_item_info(st, item_id, status, fields_json);
	}
}

int station_role_check(void *userdata, const struct config_station *cfg, const char *file,
		       struct config_errors *errs)
{
	(void)userdata;
	const struct station_role *role = station_role_find(cfg->role);
	if (!role || !role->check)
		return 0;
	struct resolved_options opts;
	struct config_errors ignored = { 0 };
	int n = 0;
	if (options_resolve(role->options, &cfg->options, file, &opts, &ignored) == 0)
		n = role->check(cfg, &opts, file, errs);
	config_errors_free(&ignored);
	options_free(&opts);
	return n;
}
