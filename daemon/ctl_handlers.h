/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control commands circctl uses (status, journal, export, stats, sim,
 * exceptions, reload, metrics), answered from the core's state and the
 * journal; journal, export and stats (and ctl_report.c's) on the query
 * thread (ctl_query.h).  Wire format: daemon/control.h. */
#ifndef CIRCD_CTL_HANDLERS_H
#define CIRCD_CTL_HANDLERS_H

#include <stdint.h>

#include <json-c/json.h>

#include "ctl_query.h"

struct core;
void ctl_handlers_register(struct core *core);

/* For a read-only command's handler: run fn on the query thread (its
 * answer is held until then), or here when there is none. */
int ctl_run_query(struct core *core, ctl_query_fn fn, json_object *req, json_object **reply,
		  char **error);

/* "2026-11-28T18:00:00Z", "2026-11-28T18:00", "2026-11-28" (UTC) -> usec. */
int parse_iso8601_usec(const char *s, uint64_t *out);

#endif
