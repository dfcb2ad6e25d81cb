/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "forwarder.h"
#include "instance.h"
#include "log.h"
#include "station.h"
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
	for (size_t i = 0; i < st->n_upstreams; i++)
		for (size_t k = 0; k < core->n_upstreams; k++)
			if (strcmp(core->upstreams[k]->name, st->upstreams[i]) == 0 && core->upstreams[k]->fw)
				forwarder_wake(core->upstreams[k]->fw);
	return 0;
}

void station_item_id(const struct circd_event *ev, char *out, size_t out_size, char *detail,
		     size_t detail_size)
{
	out[0] = '\0';
	if (detail_size)
		detail[0] = '\0';
	if (ev->item_id && ev->item_id[0]) {
		snprintf(out, out_size, "%s", ev->item_id);
		return;
	}
	/* Tag memory without a decoder for its data model stays an unknown
	 * item: the UID and the raw memory are journaled, staff see it. */
	if (ev->memory_len && detail_size)
		snprintf(detail, detail_size, "\"decode\":\"no decoder\"");
}
