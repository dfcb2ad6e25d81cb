/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Statistics of the stations, computed from the journal: returns per period
 * and per bin, alarms (true, false, unknown), gate passes in and out, shelf
 * anomalies, self-check success, exceptions.  Control commands
 * "report-data" (all series, for `circctl report`) and "events" (the events
 * table, for `circctl export --what events`); `stats` adds the same series
 * under "series".  The facts read are the station data conventions of
 * daemon/station.h; tools/control-commands.md has the answer's shape.
 */
#ifndef CIRCD_CTL_REPORT_H
#define CIRCD_CTL_REPORT_H

#include <stdbool.h>

#include <json-c/json.h>
#include <sqlite3.h>

struct core;

/* Registers "report-data" and "events". */
void ctl_report_register(struct core *core);

/* Both commands run on the query thread (ctl_query.h).
 *
 * The series for the request's "since", "until", "by" (hour|day) and "utc"
 * (a boolean; default_utc when absent) into a new object *out.  Returns 0,
 * or a negative errno with *error set. */
int report_series(sqlite3 *db, json_object *req, bool default_utc, json_object **out,
		  char **error);

#endif
