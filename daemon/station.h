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
struct txn_msg;
struct config_errors;

/*
 * A role is a table of operations; everything but name, create and
 * on_event is optional (NULL).  All of them run on the main thread.
 *
 * Where a role's facts go (the statistics and the report read them there):
 *  - circulation: transactions (kind "checkin", "checkout", "renew",
 *    "alarm"), through station_journal_txn();
 *  - decisions and anomalies: the events table, through station_note()
 *    (type "sort", "shelf", "selfcheck-session", "alarm-verdict" ...; the
 *    detail JSON always has "station");
 *  - what staff must look at: station_exception() (type "station-exception"
 *    in the events table, listed by `circctl exceptions`).
 */
struct station_role {
	const char *name;
	const char *description;
	const struct circd_option *options;
	/* Checks beyond types for `circd -t` and reloads: rule syntax, which
	 * device is the sorter.  opts are resolved (resolved_option.line says
	 * where each was given); add "FILE:LINE: reason" errors to errs and
	 * return how many were added. */
	int (*check)(const struct config_station *cfg, const struct resolved_options *opts,
		     const char *file, struct config_errors *errs);
	int (*create)(struct station *st);
	void (*on_event)(struct station *st, struct instance *dev, const struct circd_event *ev);
	/* An upstream answered one of this station's transactions (any status,
	 * RETRY and NOT_SENT included: the ILS is away).  Called after the
	 * answer is written to the journal, before that is committed.  Also
	 * the answers to the station's own requests (station_request(): t->txn.id
	 * <= 0, kind PATRON_INFO / END_SESSION), which are not journaled. */
	void (*on_txn_result)(struct station *st, struct instance *upstream, const struct txn_msg *t);
	/* A command this station sent to one of its devices finished: status 0
	 * or a negative errno, detail the device's reason ("" when none). */
	void (*on_command_done)(struct station *st, struct instance *dev, uint64_t cmd_id,
				int status, const char *detail);
	/* An item-information lookup (station_lookup() or anyone's) came back:
	 * status is enum circd_txn_status, fields the upstream's answer (or
	 * NULL).  Every station with this hook hears every lookup. */
	void (*on_item_info)(struct station *st, const char *item_id, uint32_t status,
			     const char *fields_json);
	/* `circctl station NAME OP ...` / the kiosk UI: answer req (a JSON
	 * object, with "op") in *reply, or return a negative errno with *error
	 * (malloc'd).  Runs synchronously: state that depends on an upstream's
	 * answer is polled by the client. */
	int (*control)(struct station *st, const char *op, json_object *req, json_object **reply,
		       char **error);
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

/* A device of this station by name (NULL when it is not one of them). */
struct instance *station_device(struct station *st, const char *name);

/* Send a command to a device after the journal's next commit (or now, when
 * nothing is waiting to be committed): hardware is told only what is
 * durable.  Returns the command's id, which on_command_done() echoes. */
uint64_t station_command(struct station *st, struct instance *dev, const struct circd_command *cmd);

/* A decision or observation worth keeping (events table); detail is a JSON
 * object the function takes ownership of ("station" is added). */
void station_note(struct station *st, const char *device, const char *type, json_object *detail);

/* Something staff must look at: logged as a warning with
 * MESSAGE_ID=CIRCD_MSGID_EXCEPTION and kept as a "station-exception" event
 * (listed by `circctl exceptions`).  txn_id may be 0; detail may be NULL
 * (taken). */
void station_exception(struct station *st, int64_t txn_id, const char *item_id,
		       const char *reason, json_object *detail);

/* Ask the station's upstreams (the first one that can) about an item; the
 * answer comes to every station's on_item_info().  0 or -ENOENT. */
int station_lookup(struct station *st, const char *item_id);

/* Ask upstream (by name) something that is not circulation and is never
 * journaled (kind CIRCD_TXN_PATRON_INFO or CIRCD_TXN_END_SESSION): the
 * answer comes to this station's on_txn_result() with t->txn.id == *id
 * (<= 0).  extra (taken, may be NULL) is merged into the request's JSON; a
 * "patron_pin" in it is wiped when the answer is in.  0, or -ENOENT when
 * there is no such upstream. */
int station_request(struct station *st, const char *upstream, uint32_t kind, const char *kind_name,
		    const char *patron_id, json_object *extra, int64_t *id);

/* Called by the core. */
void stations_txn_result(struct core *core, struct instance *upstream, const struct txn_msg *t);
void stations_command_done(struct core *core, struct instance *dev, uint64_t cmd_id, int status,
			   const char *detail);
void stations_item_info(struct core *core, const char *item_id, uint32_t status,
			const char *fields_json);
struct station *core_find_station(struct core *core, const char *name);
/* config_schema_source.role_check */
int station_role_check(void *userdata, const struct config_station *cfg, const char *file,
		       struct config_errors *errs);

extern const struct station_role station_role_bookdrop;
extern const struct station_role station_role_shelf;
extern const struct station_role station_role_selfcheck;
extern const struct station_role station_role_gate;

#endif
