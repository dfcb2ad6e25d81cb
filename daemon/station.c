/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "forwarder.h"
#include "instance.h"
#include "log.h"
#include "metrics.h"
#include "station.h"
#include "tags/tag.h"
#include "util/util.h"

const struct station_role *const station_roles[] = {
	&station_role_bookdrop,
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
