/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stations: config-defined roles that group devices (bookdrop, gate, shelf,
 * selfcheck).  A station turns device observations into circulation
 * transactions.  It runs on the main thread; it writes the journal only
 * through journal.h and acknowledges to hardware only after commit.
 */
#ifndef CIRCD_STATION_H
#define CIRCD_STATION_H

#include <circd/event.h>
#include <circd/plugin.h>
#include <json-c/json.h>

#include "core.h"

struct station;
struct instance;

struct station_role {
	const char *name;
	const char *description;
	const struct circd_option *options;
	int (*create)(struct station *st);
	void (*on_event)(struct station *st, struct instance *dev, const struct circd_event *ev);
	void (*destroy)(struct station *st);
};

struct station {
	struct core *core;
	char *name;
	const struct station_role *role;
	struct config_station *cfg; /* points into core->cfg; re-pointed on reload */
	struct resolved_options opts;
	char **upstreams;           /* names deliveries are created for */
	size_t n_upstreams;
	uint64_t transactions;
	void *data;                 /* the role's state */
};

extern const struct station_role *const station_roles[];

const struct station_role *station_role_find(const char *name);
int station_new(struct core *core, struct config_station *cfg, struct station **out);
void station_free(struct station *st);
/* (Re)compute the upstreams the station's transactions go to. */
void station_set_upstreams(struct station *st);

/* Journal a transaction for this station (delivered to its upstreams) and
 * wake the forwarders.  Returns 0, -EEXIST for a re-delivered device event,
 * or a negative errno. */
int station_journal_txn(struct station *st, const struct journal_txn_in *t, int64_t *id);

/* The item id a tag read stands for: what the device said, else the decoded
 * tag memory (ISO 28560-3/-2, 3M), else "" (the UID alone; the journal keeps
 * it).  What the decoder found (model, owner, set, title, or why it failed)
 * is added to detail under "tag"; parts of a set feed core->sets and the
 * set's state so far ("incomplete", "complete") is added too. */
void station_decode(struct core *core, const struct circd_event *ev, char *out, size_t out_size,
		    json_object *detail);

extern const struct station_role station_role_bookdrop;

#endif
